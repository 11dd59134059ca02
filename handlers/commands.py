"""`/restore-index`: parse, check the channel, acknowledge at once, then do the work."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import render
from bot.command_parser import (
    HelpCommand,
    ListCommand,
    Rejected,
    RestoreCommand,
    StatusCommand,
    UsageCommand,
    parse_command,
)
from bot.ids import RESTORE_COMMAND
from bot.restore_service import AlreadyRunning, Outcome, Pending, Refused, Started
from bot.services import Services
from bot.unexpected import apology, log_unexpected
from bot.validation import RestoreRequest
from storage.base import StoreError

LIST_LIMIT = 10


def register_commands(app: AsyncApp, services: Services) -> None:
    @app.command(RESTORE_COMMAND)
    async def on_restore_index(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond) -> None:
        parsed = parse_command(str(command.get("text") or ""))
        channel_id = str(command.get("channel_id") or "")
        user_id = str(command.get("user_id") or "")
        match parsed:
            case HelpCommand():
                await ack(**render.usage().as_kwargs())
            case UsageCommand():
                await ack(**render.usage("Tell me which backup to restore and into which index name.").as_kwargs())
            case Rejected(problems=problems, example=example):
                triples = [(p.part, p.rule, p.hint) for p in problems]
                await ack(**render.rejection(triples, example).as_kwargs())
            case StatusCommand(index_name=index_name):
                await ack()
                services.tasks.spawn(_status(services, respond, index_name), name=f"status {index_name}")
            case ListCommand():
                await ack()
                services.tasks.spawn(_list(services, respond, channel_id), name=f"list {channel_id}")
            case RestoreCommand(request=request):
                if not services.policy.allows(channel_id):
                    await ack(**render.channel_not_allowed(services.policy.allowed_channels).as_kwargs())
                    return
                if services.shutting_down:
                    await ack(**render.plain(render.RESTARTING).as_kwargs())
                    return
                await ack(**render.accepted(request.backup_id, request.index_name).as_kwargs())
                services.tasks.spawn(
                    _restore(services, respond, request, user_id, channel_id),
                    name=f"restore {request.index_name}",
                )


async def _restore(
    services: Services, respond: AsyncRespond, request: RestoreRequest, user_id: str, channel_id: str
) -> None:
    try:
        outcome = await services.restores.request(request, requester_id=user_id, channel_id=channel_id)
        message = _outcome_message(outcome)
    except Exception as exc:
        message = render.plain(apology(log_unexpected(exc, f"restore into {request.index_name}")))
    await respond(response_type="ephemeral", replace_original=True, **message.as_kwargs())


def _outcome_message(outcome: Outcome) -> render.Message:
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


async def _status(services: Services, respond: AsyncRespond, index_name: str) -> None:
    try:
        job = await services.store.latest_for_index(index_name)
        link = await services.delivery.link(job) if job else None
        message = render.status(job, index_name, link)
    except StoreError:
        message = render.request_failed(render.STORE_UNAVAILABLE)
    await respond(response_type="ephemeral", **message.as_kwargs())


async def _list(services: Services, respond: AsyncRespond, channel_id: str) -> None:
    try:
        message = render.job_list(await services.store.recent_in_channel(channel_id, LIST_LIMIT))
    except StoreError:
        message = render.request_failed(render.STORE_UNAVAILABLE)
    await respond(response_type="ephemeral", **message.as_kwargs())
