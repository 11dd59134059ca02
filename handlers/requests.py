"""The one path every restore request takes after it is parsed, whether it came from the slash
command or the restore modal: channel policy, approvals, then the restore itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from bot import render
from bot.ids import RESTORE_COMMAND
from bot.restore_service import AlreadyRunning, Outcome, Pending, Refused, Started
from bot.services import Services
from bot.unexpected import apology, log_unexpected
from bot.validation import RestoreRequest

Reply = Callable[[render.Message], Awaitable[None]]


def refusal_before_work(services: Services, channel_id: str) -> render.Message | None:
    """What to answer at once, in the ack, when a request cannot go ahead at all."""
    if not services.policy.allows(channel_id):
        return render.channel_not_allowed(services.policy.allowed_channels)
    if services.shutting_down:
        return render.plain(render.RESTARTING)
    return None


async def handle_restore_request(
    services: Services, request: RestoreRequest, *, user_id: str, channel_id: str, reply: Reply
) -> None:
    """Run a validated request and tell the requester, privately, how it went."""
    try:
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
        case Pending(job=job):
            return render.plain(
                f":hourglass_flowing_sand: Pinecone has not confirmed the restore into `{job.index_name}` yet. "
                "The request is recorded and I keep checking; its thread will appear in this channel once "
                f"Pinecone confirms. `{RESTORE_COMMAND} status {job.index_name}` shows where it stands."
            )
