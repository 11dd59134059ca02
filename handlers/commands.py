"""`/restore-index`: parse, check the channel, acknowledge at once, then do the work."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import render
from bot.command_parser import (
    AuditCommand,
    HelpCommand,
    ListCommand,
    Rejected,
    RestoreCommand,
    StatusCommand,
    UsageCommand,
    parse_command,
)
from bot.ids import RESTORE_COMMAND
from bot.policy_file import auditors
from bot.services import Services
from bot.validation import RestoreRequest
from handlers.modal import open_restore_modal
from handlers.requests import handle_restore_request, refusal_before_work
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
                await ack()
                # In the listener itself, not a background task: a trigger_id expires after 3 seconds.
                await open_restore_modal(
                    services, trigger_id=str(command.get("trigger_id") or ""), channel_id=channel_id, respond=respond
                )
            case Rejected(problems=problems, example=example):
                triples = [(p.part, p.rule, p.hint) for p in problems]
                await ack(**render.rejection(triples, example).as_kwargs())
            case StatusCommand(index_name=index_name):
                await ack()
                services.tasks.spawn(_status(services, respond, index_name), name=f"status {index_name}")
            case AuditCommand(index_name=index_name):
                await ack()
                services.tasks.spawn(_audit(services, respond, user_id, index_name), name="audit")
            case ListCommand():
                await ack()
                services.tasks.spawn(_list(services, respond, channel_id), name=f"list {channel_id}")
            case RestoreCommand(request=request):
                refusal = refusal_before_work(services, channel_id)
                if refusal is not None:
                    await ack(**refusal.as_kwargs())
                    return
                await ack(**render.accepted(request.backup_id, request.index_name).as_kwargs())
                services.tasks.spawn(
                    _restore(services, respond, request, user_id, channel_id),
                    name=f"restore {request.index_name}",
                )


async def _restore(
    services: Services, respond: AsyncRespond, request: RestoreRequest, user_id: str, channel_id: str
) -> None:
    async def reply(message: render.Message) -> None:
        await respond(response_type="ephemeral", replace_original=True, **message.as_kwargs())

    await handle_restore_request(services, request, user_id=user_id, channel_id=channel_id, reply=reply)


async def _status(services: Services, respond: AsyncRespond, index_name: str) -> None:
    try:
        job = await services.store.latest_for_index(index_name)
        link = await services.delivery.link(job) if job else None
        message = render.status(job, index_name, link)
    except StoreError:
        message = render.request_failed(render.STORE_UNAVAILABLE)
    await respond(response_type="ephemeral", **message.as_kwargs())


AUDIT_LIMIT = 20


async def _audit(services: Services, respond: AsyncRespond, user_id: str, index_name: str | None) -> None:
    allowed = auditors(services.policy)
    groups = await services.groups.groups_of(user_id, frozenset(a for a in allowed if a.startswith("S")))
    if user_id not in allowed and not groups:
        message = render.not_an_auditor()
    else:
        try:
            jobs = await services.store.recent_jobs(index_name=index_name, limit=AUDIT_LIMIT)
            entries = [(job, await services.store.decisions(job.id)) for job in jobs]
            message = render.audit_trail(entries, index_name)
        except StoreError:
            message = render.request_failed(render.STORE_UNAVAILABLE)
    await respond(response_type="ephemeral", **message.as_kwargs())


async def _list(services: Services, respond: AsyncRespond, channel_id: str) -> None:
    try:
        message = render.job_list(await services.store.recent_in_channel(channel_id, LIST_LIMIT))
    except StoreError:
        message = render.request_failed(render.STORE_UNAVAILABLE)
    await respond(response_type="ephemeral", **message.as_kwargs())
