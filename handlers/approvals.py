"""The plan card's buttons and the decision modals.

Only an approver recorded on the request may approve or deny, and never the requester on their
own request; only the requester may cancel. Everyone else gets an ephemeral explanation and
nothing changes. The store's compare-and-set transition makes two simultaneous approvals start
one restore: the second is told who decided first.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.app.wiring import Services
from bot.core import ids, render
from bot.core.jobs import Job, JobState
from bot.core.policy.policy_file import ChannelRules, may_approve
from bot.service.restores import DecisionRefused
from handlers.error_handler import after_ack

REASON_LIMIT = 2000


def register_approvals(app: AsyncApp, services: Services) -> None:
    @app.action(ids.APPROVE_ACTION)
    async def on_approve(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        decision = _open_decision(services, body, action, respond, approve=True)
        after_ack(services, decision, body=body, name="open the approve form")

    @app.action(ids.DENY_ACTION)
    async def on_deny(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        decision = _open_decision(services, body, action, respond, approve=False)
        after_ack(services, decision, body=body, name="open the deny form")

    @app.action(ids.CANCEL_ACTION)
    async def on_cancel(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        after_ack(services, _cancel(services, body, action, respond), body=body, name="cancel a request")

    @app.view(ids.APPROVE_VIEW)
    async def on_approve_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = str(body["user"]["id"])
        job, refusal = await _decider_check(services, str(view.get("private_metadata") or ""), user_id)
        if job is None or refusal is not None:
            await ack(response_action="errors", errors={ids.DECISION_REASON_BLOCK: refusal or "Request not found."})
            return
        result = await services.restores.approve(job.id, approver_id=user_id, reason=_reason(view))
        if isinstance(result, DecisionRefused):
            await ack(response_action="errors", errors={ids.DECISION_REASON_BLOCK: result.reason})
            return
        await ack()
        services.tasks.spawn(services.restores.run_approved(result), name=f"approved {result.index_name}")

    @app.view(ids.DENY_VIEW)
    async def on_deny_submitted(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = str(body["user"]["id"])
        reason = _reason(view)
        if not reason:
            await ack(response_action="errors", errors={ids.DECISION_REASON_BLOCK: "Say why, for the requester."})
            return
        job, refusal = await _decider_check(services, str(view.get("private_metadata") or ""), user_id)
        if job is None or refusal is not None:
            await ack(response_action="errors", errors={ids.DECISION_REASON_BLOCK: refusal or "Request not found."})
            return
        result = await services.restores.deny(job.id, approver_id=user_id, reason=reason)
        if isinstance(result, DecisionRefused):
            await ack(response_action="errors", errors={ids.DECISION_REASON_BLOCK: result.reason})
            return
        await ack()


async def _cancel(services: Services, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
    user_id = str(body["user"]["id"])
    job = await services.store.get(str(action.get("value") or ""))
    if job is None or job.state is not JobState.AWAITING_APPROVAL:
        await _tell(respond, _no_longer_pending(job))
        return
    if user_id != job.requester_id:
        await _tell(respond, f"Only <@{job.requester_id}>, who asked for this restore, can cancel it.")
        return
    result = await services.restores.cancel(job.id, requester_id=user_id)
    if isinstance(result, DecisionRefused):
        await _tell(respond, result.reason)


async def _open_decision(
    services: Services,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
    *,
    approve: bool,
) -> None:
    user_id = str(body["user"]["id"])
    job, refusal = await _decider_check(services, str(action.get("value") or ""), user_id)
    if job is None or refusal is not None:
        await _tell(respond, refusal or _no_longer_pending(job))
        return
    view = render.approve_view(job) if approve else render.deny_view(job)
    # services.slack, not Bolt's per-request client: it carries the retry handlers and the metrics.
    await services.slack.views_open(trigger_id=body["trigger_id"], view=view)


async def _decider_check(services: Services, job_id: str, user_id: str) -> tuple[Job | None, str | None]:
    """The pending job, and why `user_id` may not decide it (None: they may)."""
    job = await services.store.get(job_id)
    if job is None or job.state is not JobState.AWAITING_APPROVAL:
        return job, _no_longer_pending(job)
    # The approvers recorded with the request decide, so a policy edit cannot change who may
    # approve a request already waiting.
    rules = ChannelRules(approval="always", approvers=job.approvers)
    groups = await services.groups.groups_of(user_id, frozenset(a for a in job.approvers if a.startswith("S")))
    refused = may_approve(rules, approver_id=user_id, approver_groups=groups, requester_id=job.requester_id)
    return job, refused.message if refused is not None else None


def _no_longer_pending(job: Job | None) -> str:
    if job is None:
        return "That restore request no longer exists."
    who = f" by <@{job.decided_by}>" if job.decided_by and job.decided_by != "restore-bot" else ""
    return f"This request is no longer waiting for a decision: it was {job.state.value.replace('_', ' ')}{who}."


def _reason(view: dict[str, Any]) -> str | None:
    values = view.get("state", {}).get("values", {})
    raw = values.get(ids.DECISION_REASON_BLOCK, {}).get(ids.DECISION_REASON_INPUT, {}).get("value")
    text = str(raw or "").strip()
    return text[:REASON_LIMIT] or None


async def _tell(respond: AsyncRespond, text: str) -> None:
    """Only to the person who clicked, in the channel; the card stays as it is."""
    await respond(response_type="ephemeral", replace_original=False, **render.plain(text).as_kwargs())
