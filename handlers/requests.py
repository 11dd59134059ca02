"""The one path every restore request takes after it is parsed, whether it came from the slash
command or the restore modal: channel policy, approvals, then the restore itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot.app.wiring import Services
from bot.core import render
from bot.core.ids import RESTORE_COMMAND
from bot.core.policy.policy_file import Refused as PolicyRefused
from bot.core.policy.policy_file import evaluate, group_ids, rules_for
from bot.core.request.field_rules import RestoreRequest
from bot.service.restores import AlreadyRunning, AwaitingApproval, Outcome, Pending, Refused, Started
from bot.service.unexpected_errors import apology, log_unexpected

Reply = Callable[[render.Message], Awaitable[None]]


def refusal_before_work(services: Services, channel_id: str) -> render.Message | None:
    """What to answer at once, in the ack, when a request cannot go ahead at all (no Slack calls here)."""
    if rules_for(services.policy, channel_id) is None:
        return render.channel_not_allowed(sorted(services.policy.channels))
    if services.shutting_down:
        return render.plain(render.RESTARTING)
    return None


async def handle_restore_request(
    services: Services, request: RestoreRequest, *, user_id: str, channel_id: str, reply: Reply
) -> None:
    """Check policy, run a validated request, and tell the requester, privately, how it went."""
    try:
        policy = services.policy
        groups = await services.groups.groups_of(user_id, group_ids(policy))
        decision = evaluate(
            policy,
            channel_id=channel_id,
            requester_id=user_id,
            requester_groups=groups,
            index_name=request.index_name,
            tags=request.tags,
        )
        if isinstance(decision, PolicyRefused):
            message = render.policy_refusal(decision.message, decision.rule, decision.ask)
        elif decision.needs_approval:
            outcome = await services.restores.request_approval(
                request,
                requester_id=user_id,
                channel_id=channel_id,
                approvers=decision.approvers,
                approval_reason=decision.reason,
                timeout_minutes=decision.timeout_minutes,
            )
            message = outcome_message(outcome)
        else:
            outcome = await services.restores.request(request, requester_id=user_id, channel_id=channel_id)
            message = outcome_message(outcome)
    except Exception as exc:
        message = render.plain(apology(log_unexpected(exc, f"restore into {request.index_name}")))
    await reply(message)


def outcome_message(outcome: Outcome) -> render.Message:
    match outcome:
        case Started(job=job, thread_link=link):
            where = f" <{link}|Follow it in the thread.>" if link else " Follow it in the channel."
            return render.plain(
                f":arrows_counterclockwise: Restore of `{job.backup_id}` into `{job.index_name}` started.{where}"
            )
        case AlreadyRunning(existing=existing, thread_link=link):
            return render.already_running(existing, link)
        case Refused(reason=reason):
            return render.request_failed(reason)
        case AwaitingApproval(job=job, thread_link=link):
            where = f" <{link}|See the plan.>" if link else ""
            who = ", ".join(render.mention(approver) for approver in job.approvers)
            return render.plain(
                f":raised_hand: Your restore into `{job.index_name}` needs approval ({job.approval_reason}). "
                f"I've asked {who} in the channel; nothing happens until one of them approves.{where} "
                "You can cancel it from the plan card."
            )
        case Pending(job=job):
            return render.plain(
                f":hourglass_flowing_sand: Pinecone has not confirmed the restore into `{job.index_name}` yet. "
                "The request is recorded and I keep checking; its thread will appear in this channel once "
                f"Pinecone confirms. `{RESTORE_COMMAND} status {job.index_name}` shows where it stands."
            )
