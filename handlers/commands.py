"""`/restore-index`: parse, check the channel, acknowledge at once, then do the work.

The command is the bot's hot path in an incident, so over HTTP it is answered without Bolt's request
pipeline: bot/app/server.py, after the signature check, hands it to `slash_command` and `answer_directly`,
which skip what Bolt does for any request (a context, every injectable argument, the middleware chain,
trying each listener in turn). Measured in one process (bench/ack_latency.py's subject, without the
network): answering a command took about 250 us of CPU through Bolt and 165 us directly; the bare Bolt
app's empty ack takes about 155 us. Both ways in, the Bolt listener (Socket Mode) and the direct one,
answer through the same `answer_command`: the same reply, the same de-duplication, the same work after.
"""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.response import BoltResponse

from bot.app.wiring import Services
from bot.core import render
from bot.core.ids import RESTORE_COMMAND
from bot.core.policy.policy_file import auditors
from bot.core.request.command_parser import (
    AuditCommand,
    HelpCommand,
    ListCommand,
    Rejected,
    RestoreCommand,
    StatusCommand,
    UsageCommand,
    parse_command,
)
from bot.core.request.field_rules import RestoreRequest
from handlers.dedupe import is_repeat
from handlers.error_handler import after_ack, apologise
from handlers.modal import open_restore_modal
from handlers.requests import handle_restore_request, refusal_before_work
from storage.base import StoreError

LIST_LIMIT = 10


@dataclass
class CommandAnswer:
    """What to acknowledge with (ack() keyword arguments; none: an empty ack) and what to do after it."""

    ack: dict[str, Any] = field(default_factory=dict)
    then: Coroutine[Any, Any, None] | None = None
    name: str = ""


def answer_command(services: Services, command: Mapping[str, Any], respond: AsyncRespond) -> CommandAnswer:
    """The answer to one `/restore-index`; nothing here waits on anything (Slack waits 3 s for the ack)."""
    parsed = parse_command(str(command.get("text") or ""))
    channel_id = str(command.get("channel_id") or "")
    user_id = str(command.get("user_id") or "")
    match parsed:
        case HelpCommand():
            return CommandAnswer(render.usage().as_kwargs())
        case UsageCommand():
            # Starts at once after the ack: a trigger_id expires after 3 seconds.
            trigger_id = str(command.get("trigger_id") or "")
            modal = open_restore_modal(services, trigger_id=trigger_id, channel_id=channel_id, respond=respond)
            return CommandAnswer(then=modal, name="open the restore modal")
        case Rejected(problems=problems, example=example):
            triples = [(p.part, p.rule, p.hint) for p in problems]
            return CommandAnswer(render.rejection(triples, example).as_kwargs())
        case StatusCommand(index_name=index_name):
            return CommandAnswer(then=_status(services, respond, index_name), name=f"status {index_name}")
        case AuditCommand(index_name=index_name):
            return CommandAnswer(then=_audit(services, respond, user_id, index_name), name="audit")
        case ListCommand():
            return CommandAnswer(then=_list(services, respond, channel_id), name=f"list {channel_id}")
        case RestoreCommand(request=request):
            refusal = refusal_before_work(services, channel_id)
            if refusal is not None:
                return CommandAnswer(refusal.as_kwargs())
            return CommandAnswer(
                render.accepted(request.backup_id, request.index_name).as_kwargs(),
                then=_restore(services, respond, request, user_id, channel_id),
                name=f"restore {request.index_name}",
            )
    raise AssertionError(f"unhandled command {parsed!r}")


def register_commands(app: AsyncApp, services: Services) -> None:
    @app.command(RESTORE_COMMAND)
    async def on_restore_index(
        ack: AsyncAck, command: dict[str, Any], body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        answer = answer_command(services, command, respond)
        await ack(**answer.ack)
        if answer.then is not None:
            after_ack(services, answer.then, body=body, name=answer.name)


def slash_command(body: str, content_type: str | None) -> dict[str, str] | None:
    """The fields of a `/restore-index` slash command, read as Bolt reads a form body; None for anything
    else (Slack's SSL check, interactions, events, JSON), which goes to Bolt.

    One difference: Bolt takes any form body containing the text "payload" for an interaction and reads a
    command such as `/restore-index <backup> payload-index` as an empty body, which no listener answers.
    Here only a `payload` field counts."""
    if content_type == "application/json" or body.startswith("{"):
        return None
    fields = dict(parse_qsl(body, keep_blank_values=True))
    if fields.get("command") != RESTORE_COMMAND or "payload" in fields or "ssl_check" in fields:
        return None
    return fields


async def answer_directly(services: Services, body: dict[str, str]) -> BoltResponse:
    """Answer a verified `slash_command` as the Bolt listener would, without Bolt's pipeline."""
    if is_repeat(services.seen, body):
        return BoltResponse(status=200, body="")
    respond = AsyncRespond(response_url=body.get("response_url"), proxy=services.slack.proxy, ssl=services.slack.ssl)
    try:
        answer = answer_command(services, body, respond)
        response = await AsyncAck()(**answer.ack)  # type: ignore[no-untyped-call]
    except Exception as exc:  # as the Bolt error handler (handlers.error_handler) answers a failing listener
        await apologise(exc, body, authorized=True)  # the signature was checked: the body is Slack's
        return BoltResponse(status=200, body="")
    if answer.then is not None:
        after_ack(services, answer.then, body=body, name=answer.name)
    return response


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
