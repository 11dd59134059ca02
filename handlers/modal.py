"""The restore modal's Slack listeners: open it, fill the backup picker, pre-fill the name, take the submission.

The form is drawn in `bot/core/render/restore_form_view.py` and read in `bot/core/request/restore_form.py`;
Pinecone and Slack are asked by the use case (`bot/service/backup_picker.py`). A valid submission
takes the same path as the slash command (`RestoreRequests`).
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.core import render
from bot.core.ids import (
    MODAL_BACKUP_ACTION,
    MODAL_BEFORE_ACTION,
    MODAL_MODE_ACTION,
    MODAL_SOURCE_ACTION,
    RESTORE_MODAL_CALLBACK,
)
from bot.core.render.restore_form_view import inline_text
from bot.core.request.restore_form import Invalid, first_field, modal_channel, read_submission
from bot.service.use_cases import UseCases
from handlers.error_handler import after_ack

log = logging.getLogger(__name__)

# Bolt's respond() posts through aiohttp, whose own errors (a dropped connection) come through unwrapped.
_RESPOND_ERRORS = (SlackApiError, SlackClientError, aiohttp.ClientError, OSError, TimeoutError)


async def open_restore_form(
    cases: UseCases, *, trigger_id: str, channel_id: str, respond: AsyncRespond | None = None
) -> None:
    """Open the restore form; if Slack will not, the requester gets the usage text instead (via `respond`)."""
    if await cases.picker.open_form(trigger_id=trigger_id, channel_id=channel_id) or respond is None:
        return
    message = render.usage("I could not open the restore form, so here is how to use the command instead.")
    try:
        await respond(response_type="ephemeral", **message.as_kwargs())
    except _RESPOND_ERRORS as exc:
        log.warning("could not send the usage text either: %s", type(exc).__name__)


def _stamp(raw: object) -> float:
    try:
        return float(str(raw))
    except ValueError:
        return 0.0


def register_modal(app: AsyncApp, cases: UseCases) -> None:
    @app.options(MODAL_BACKUP_ACTION)
    async def on_backup_suggestion(ack: AsyncAck, payload: dict[str, Any]) -> None:
        query = payload.get("value")
        await ack(options=await cases.picker.options(query if isinstance(query, str) else ""))

    @app.action(MODAL_BACKUP_ACTION)
    async def on_backup_chosen(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        view = body.get("view")
        option = action.get("selected_option")
        backup_id = option.get("value") if isinstance(option, dict) else None
        if not isinstance(view, dict) or not isinstance(view.get("id"), str) or not isinstance(backup_id, str):
            return  # cleared, or not from a modal: nothing to redraw
        redraw = cases.picker.redraw(view, view["id"], backup_id, _stamp(action.get("action_ts")))
        after_ack(cases, redraw, body=body, name="redraw the restore modal")

    @app.action(MODAL_MODE_ACTION)
    async def on_path_chosen(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        view = body.get("view")
        option = action.get("selected_option")
        mode = option.get("value") if isinstance(option, dict) else None
        if not isinstance(view, dict) or not isinstance(view.get("id"), str) or not isinstance(mode, str):
            return
        switch = cases.picker.switch(view, view["id"], mode, _stamp(action.get("action_ts")))
        after_ack(cases, switch, body=body, name="redraw the restore modal for a path")

    @app.options(MODAL_SOURCE_ACTION)
    async def on_source_suggestion(ack: AsyncAck, payload: dict[str, Any]) -> None:
        query = payload.get("value")
        await ack(options=await cases.picker.index_options(query if isinstance(query, str) else ""))

    @app.action(MODAL_SOURCE_ACTION)
    @app.action(MODAL_BEFORE_ACTION)
    async def on_source_or_moment(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        view = body.get("view")
        user = body.get("user")
        user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
        if not isinstance(view, dict) or not isinstance(view.get("id"), str):
            return
        preview = cases.picker.preview(view, view["id"], user_id, _stamp(action.get("action_ts")))
        after_ack(cases, preview, body=body, name="show the backup the restore modal would use")

    @app.view_submission(RESTORE_MODAL_CALLBACK)
    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body.get("user")
        user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
        channel_id = modal_channel(view)
        refusal = cases.requests.refusal_before_work(channel_id) if channel_id else None
        if refusal is not None:
            await ack(response_action="errors", errors={first_field(view): inline_text(refusal.text)})
            return
        result = read_submission(view)
        if isinstance(result, Invalid):
            await ack(response_action="errors", errors=result.errors)
            return
        await ack()  # closes the modal
        request = result.request
        after_ack(
            cases,
            cases.requests.submit_from_form(request, user_id=user_id, channel_id=result.channel_id),
            body=body,
            name=f"restore {request.index_name}",
        )
