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

from bot.core import render
from bot.core.ids import RESTORE_COMMAND
from bot.core.request.command_parser import (
    AuditCommand,
    HelpCommand,
    IntentRestoreCommand,
    ListCommand,
    Rejected,
    RestoreCommand,
    StatusCommand,
    UsageCommand,
    parse_command,
)
from bot.core.request.field_rules import RestoreIntent, RestoreRequest
from bot.service.use_cases import UseCases
from handlers.dedupe import is_repeat
from handlers.error_handler import after_ack, apologise
from handlers.modal import open_restore_form


@dataclass
class CommandAnswer:
    """What to acknowledge with (ack() keyword arguments; none: an empty ack) and what to do after it."""

    ack: dict[str, Any] = field(default_factory=dict)
    then: Coroutine[Any, Any, None] | None = None
    name: str = ""


def answer_command(cases: UseCases, command: Mapping[str, Any], respond: AsyncRespond) -> CommandAnswer:
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
            modal = open_restore_form(cases, trigger_id=trigger_id, channel_id=channel_id, respond=respond)
            return CommandAnswer(then=modal, name="open the restore modal")
        case Rejected(problems=problems, example=example):
            triples = [(p.part, p.rule, p.hint) for p in problems]
            return CommandAnswer(render.rejection(triples, example).as_kwargs())
        case StatusCommand(index_name=index_name):
            return CommandAnswer(then=_status(cases, respond, index_name), name=f"status {index_name}")
        case AuditCommand(index_name=index_name):
            return CommandAnswer(then=_audit(cases, respond, user_id, index_name), name="audit")
        case ListCommand():
            return CommandAnswer(then=_list(cases, respond, channel_id), name=f"list {channel_id}")
        case RestoreCommand(request=request, dry_run=dry_run) | IntentRestoreCommand(intent=request, dry_run=dry_run):
            refusal = cases.requests.refusal_before_work(channel_id)
            if refusal is not None:
                return CommandAnswer(refusal.as_kwargs())
            if dry_run:
                return CommandAnswer(
                    render.dry_run_started(request.index_name).as_kwargs(),
                    then=_dry_run(cases, respond, request, user_id, channel_id),
                    name=f"dry run {request.index_name}",
                )
            accepted = (
                render.accepted_intent(request.source_index, request.before, request.index_name)
                if isinstance(request, RestoreIntent)
                else render.accepted(request.backup_id, request.index_name)
            )
            return CommandAnswer(
                accepted.as_kwargs(),
                then=_restore(cases, respond, request, user_id, channel_id),
                name=f"restore {request.index_name}",
            )
    raise AssertionError(f"unhandled command {parsed!r}")


def register_commands(app: AsyncApp, cases: UseCases) -> None:
    @app.command(RESTORE_COMMAND)
    async def on_restore_index(
        ack: AsyncAck, command: dict[str, Any], body: dict[str, Any], respond: AsyncRespond
    ) -> None:
        answer = answer_command(cases, command, respond)
        await ack(**answer.ack)
        if answer.then is not None:
            after_ack(cases, answer.then, body=body, name=answer.name)


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


async def answer_directly(cases: UseCases, body: dict[str, str], respond: AsyncRespond | None = None) -> BoltResponse:
    """Answer a verified `slash_command` as the Bolt listener would, without Bolt's pipeline.

    `respond`: the way back through the command's response_url (the server passes one with the Slack
    client's proxy and TLS settings)."""
    if is_repeat(cases.seen, body):
        return BoltResponse(status=200, body="")
    respond = respond or AsyncRespond(response_url=body.get("response_url"))
    try:
        answer = answer_command(cases, body, respond)
        response = await AsyncAck()(**answer.ack)  # type: ignore[no-untyped-call]
    except Exception as exc:  # as the Bolt error handler (handlers.error_handler) answers a failing listener
        await apologise(exc, body, authorized=True)  # the signature was checked: the body is Slack's
        return BoltResponse(status=200, body="")
    if answer.then is not None:
        after_ack(cases, answer.then, body=body, name=answer.name)
    return response


async def _restore(
    cases: UseCases, respond: AsyncRespond, request: RestoreRequest | RestoreIntent, user_id: str, channel_id: str
) -> None:
    if isinstance(request, RestoreIntent):
        result = await cases.requests.submit_intent(request, user_id=user_id, channel_id=channel_id)
    else:
        result = await cases.requests.submit(request, user_id=user_id, channel_id=channel_id)
    message = render.request_answer(result)
    await respond(response_type="ephemeral", replace_original=True, **message.as_kwargs())


async def _dry_run(
    cases: UseCases, respond: AsyncRespond, request: RestoreRequest | RestoreIntent, user_id: str, channel_id: str
) -> None:
    result = await cases.requests.dry_run(request, user_id=user_id, channel_id=channel_id)
    message = render.dry_run_answer(result)
    await respond(response_type="ephemeral", replace_original=True, **message.as_kwargs())


async def _status(cases: UseCases, respond: AsyncRespond, index_name: str) -> None:
    message = render.status_answer(await cases.queries.status(index_name), index_name)
    await respond(response_type="ephemeral", **message.as_kwargs())


async def _audit(cases: UseCases, respond: AsyncRespond, user_id: str, index_name: str | None) -> None:
    message = render.audit_answer(await cases.queries.audit(user_id, index_name), index_name)
    await respond(response_type="ephemeral", **message.as_kwargs())


async def _list(cases: UseCases, respond: AsyncRespond, channel_id: str) -> None:
    message = render.list_answer(await cases.queries.recent_in_channel(channel_id))
    await respond(response_type="ephemeral", **message.as_kwargs())
