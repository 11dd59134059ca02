"""The plan card's buttons and the decision forms: read the click or the form, call `Approvals`, answer.

Who may decide, and what a decision does, is the use case's (bot/service/approvals.py). A refused
click is answered only to the person who clicked; a refused form shows the reason under its field.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.core import ids, render
from bot.service.use_cases import UseCases
from handlers.error_handler import after_ack

REASON_LIMIT = 2000


def register_approvals(app: AsyncApp, cases: UseCases) -> None:
    async def open_form(body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond, approve: bool) -> None:
        refusal = await cases.approvals.open_form(
            str(action.get("value") or ""),
            user_id=str(body["user"]["id"]),
            trigger_id=body["trigger_id"],
            approve=approve,
        )
        await _tell(respond, refusal)

    @app.action(ids.APPROVE_ACTION)
    async def on_approve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        after_ack(cases.tasks, open_form(body, action, respond, True), body=body, name="open the approve form")

    @app.action(ids.DENY_ACTION)
    async def on_deny(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        after_ack(cases.tasks, open_form(body, action, respond, False), body=body, name="open the deny form")

    @app.action(ids.CANCEL_ACTION)
    async def on_cancel(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()

        async def cancel() -> None:
            job_id = str(action.get("value") or "")
            await _tell(respond, await cases.approvals.cancel(job_id, user_id=str(body["user"]["id"])))

        after_ack(cases.tasks, cancel(), body=body, name="cancel a request")

    @app.view(ids.APPROVE_VIEW)
    async def on_approve_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        refusal = await cases.approvals.approve(
            str(view.get("private_metadata") or ""), user_id=str(body["user"]["id"]), reason=_reason(view)
        )
        await _close_or_show(ack, refusal)

    @app.view(ids.DENY_VIEW)
    async def on_deny_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        refusal = await cases.approvals.deny(
            str(view.get("private_metadata") or ""), user_id=str(body["user"]["id"]), reason=_reason(view)
        )
        await _close_or_show(ack, refusal)


def _reason(view: dict[str, Any]) -> str | None:
    values = view.get("state", {}).get("values", {})
    raw = values.get(ids.DECISION_REASON_BLOCK, {}).get(ids.DECISION_REASON_INPUT, {}).get("value")
    text = str(raw or "").strip()
    return text[:REASON_LIMIT] or None


async def _close_or_show(ack: AsyncAck, refusal: str | None) -> None:
    """Close the form when the decision was recorded, else keep it open with the reason under the field."""
    if refusal is None:
        await ack()
    else:
        await ack(response_action="errors", errors={ids.DECISION_REASON_BLOCK: refusal})


async def _tell(respond: AsyncRespond, text: str | None) -> None:
    """Only to the person who clicked, in the channel; the card stays as it is."""
    if text is not None:
        await respond(response_type="ephemeral", replace_original=False, **render.plain(text).as_kwargs())
