"""The restore modal's Slack listeners: open it, fill the backup picker, pre-fill the name, take the submission.

The views and the reading of payloads are in `bot/core/restore_modal.py`; this module only talks to Slack and
Pinecone. A valid submission takes the same path as the slash command (`handle_restore_request`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.app.wiring import Services
from bot.core import render
from bot.core import restore_modal as modal
from bot.core.ids import MODAL_BACKUP_ACTION, MODAL_BACKUP_BLOCK, RESTORE_MODAL_CALLBACK
from bot.core.request.field_rules import validate_backup_id
from bot.pinecone import PineconeClient
from bot.pinecone.errors import NotFound, PineconeError
from bot.pinecone.models import Backup
from handlers.error_handler import after_ack
from handlers.requests import Reply, handle_restore_request, refusal_before_work

__all__ = ["BackupCache", "ephemeral_reply", "find_backup_options", "open_restore_modal", "register_modal"]

log = logging.getLogger(__name__)

#: Slack drops an options answer after 3 seconds; the listing gets 2 of them, whatever Pinecone does.
SUGGESTION_BUDGET = 2.0
#: At most this many pages of `GET /backups` per keystroke, each of `PAGE_SIZE` backups.
SUGGESTION_PAGES = 2
PAGE_SIZE = 100
#: Looking up a chosen backup that was not in a recent listing (after a restart, say).
LOOKUP_TIMEOUT = 5.0
CACHE_SIZE = 1000
_SLACK_ERRORS = (SlackApiError, SlackClientError, OSError, TimeoutError)


class BackupCache:
    """Backups seen in recent listings, so a choice can be drawn at once, without asking Pinecone again."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[str, Backup] = OrderedDict()

    def remember(self, backups: Iterable[Backup]) -> None:
        for backup in backups:
            self._items[backup.backup_id] = backup
            self._items.move_to_end(backup.backup_id)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def get(self, backup_id: str) -> Backup | None:
        return self._items.get(backup_id)


class _LatestChoice:
    """The newest choice per modal, so a slow look-up for an earlier choice never overwrites a later one."""

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self._size = size
        self._stamps: OrderedDict[str, float] = OrderedDict()

    def note(self, view_id: str, stamp: float) -> None:
        if stamp >= self._stamps.get(view_id, float("-inf")):
            self._stamps[view_id] = stamp
            self._stamps.move_to_end(view_id)
        while len(self._stamps) > self._size:
            self._stamps.popitem(last=False)

    def is_latest(self, view_id: str, stamp: float) -> bool:
        return stamp >= self._stamps.get(view_id, float("-inf"))


def _stamp(raw: object) -> float:
    try:
        return float(str(raw))
    except ValueError:
        return 0.0


# --- opening ----------------------------------------------------------------------------------------


async def open_restore_modal(
    services: Services, *, trigger_id: str, channel_id: str, respond: AsyncRespond | None = None
) -> None:
    """Open the restore form (call right after `ack()`: a trigger_id lasts 3 seconds).

    In a channel where a restore would be refused, the form still opens and says why at the top,
    with links to the allowed channels; submitting it there is refused inline. If Slack will not
    open it, the requester gets the usage text instead (via `respond`, when given).
    """
    refusal = refusal_before_work(services, channel_id)
    view = modal.restore_view(modal.ModalForm(channel_id=channel_id, notice=refusal.text if refusal else None))
    try:
        await services.slack.views_open(trigger_id=trigger_id, view=view)
    except _SLACK_ERRORS as exc:
        log.warning("could not open the restore modal: %s", _slack_error(exc))
        if respond is None:
            return
        message = render.usage("I could not open the restore form, so here is how to use the command instead.")
        try:
            await respond(response_type="ephemeral", **message.as_kwargs())
        except _SLACK_ERRORS as again:
            log.warning("could not send the usage text either: %s", _slack_error(again))


# --- the backup picker ------------------------------------------------------------------------------


async def find_backup_options(pinecone: PineconeClient, query: str, cache: BackupCache) -> list[dict[str, Any]]:
    """The picker's options for `query`, within `SUGGESTION_BUDGET` seconds.

    Reads are tried once (no retries: the user's next keystroke is the retry). A pasted backup ID is
    looked up directly, so backups older than the listed pages can still be chosen. If Pinecone fails
    before anything was listed, one option says so; if a later page fails, the earlier pages are used.
    """
    client = pinecone.without_retries()
    backups: list[Backup] = []
    try:
        async with asyncio.timeout(SUGGESTION_BUDGET):
            wanted = validate_backup_id(query)
            if isinstance(wanted, str):
                with contextlib.suppress(NotFound):
                    backups.append(await client.describe_backup(wanted))
            else:
                token: str | None = None
                for _ in range(SUGGESTION_PAGES):
                    page = await client.list_backups(limit=PAGE_SIZE, pagination_token=token)
                    backups.extend(page.data)
                    token = page.pagination.next if page.pagination else None
                    if token is None or sum(modal.backup_matches(b, query) for b in backups) >= modal.MAX_OPTIONS:
                        break
    except (PineconeError, TimeoutError) as exc:
        if not backups:
            log.warning("could not list backups for the restore modal: %s", str(exc) or type(exc).__name__)
            return modal.unavailable_options()
    cache.remember(backups)
    return modal.backup_options(backups, query)


async def _look_up(services: Services, backup_id: str) -> Backup | None:
    try:
        async with asyncio.timeout(LOOKUP_TIMEOUT):
            return await services.pinecone.without_retries().describe_backup(backup_id)
    except (PineconeError, TimeoutError) as exc:
        log.info("could not look up backup %s for the restore modal: %s", backup_id, str(exc) or type(exc).__name__)
        return None


# --- replies ----------------------------------------------------------------------------------------


def ephemeral_reply(services: Services, channel_id: str, user_id: str) -> Reply:
    """Tell the requester privately in the channel the modal came from; by DM if Slack refuses that."""

    async def reply(message: render.Message) -> None:
        try:
            await services.slack.chat_postEphemeral(channel=channel_id, user=user_id, **message.as_kwargs())
            return
        except _SLACK_ERRORS as exc:
            log.warning(
                "could not answer %s in %s: %s; trying a direct message", user_id, channel_id, _slack_error(exc)
            )
        try:
            await services.slack.chat_postMessage(channel=user_id, **message.as_kwargs())
        except _SLACK_ERRORS as exc:
            log.warning("could not answer %s by direct message either: %s", user_id, _slack_error(exc))

    return reply


def _slack_error(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error") or f"HTTP {exc.response.status_code}")
    return type(exc).__name__


# --- the listeners ----------------------------------------------------------------------------------


async def _redraw(
    services: Services, cache: BackupCache, choices: _LatestChoice, body: dict[str, Any], action: dict[str, Any]
) -> None:
    """Redraw the form for the backup just chosen: its source, size and a suggested name."""
    view = body.get("view")
    option = action.get("selected_option")
    backup_id = option.get("value") if isinstance(option, dict) else None
    if not isinstance(view, dict) or not isinstance(view.get("id"), str) or not isinstance(backup_id, str):
        return  # cleared, or not from a modal: nothing to redraw
    if not isinstance(validate_backup_id(backup_id), str):
        return  # the "Pinecone did not answer" option; the submission says so if it is kept
    view_id: str = view["id"]
    stamp = _stamp(action.get("action_ts"))
    choices.note(view_id, stamp)
    backup = cache.get(backup_id) or await _look_up(services, backup_id)
    if backup is None or not choices.is_latest(view_id, stamp):
        return
    channel_id = modal.modal_channel(view)
    refusal = refusal_before_work(services, channel_id) if channel_id else None
    redrawn = modal.view_after_choice(
        view, backup, today=datetime.now(UTC).date(), notice=refusal.text if refusal else None
    )
    if redrawn is None:
        return
    try:
        await services.slack.views_update(view_id=view_id, view=redrawn)
    except _SLACK_ERRORS as exc:
        log.warning("could not redraw the restore modal: %s", _slack_error(exc))


def register_modal(app: AsyncApp, services: Services) -> None:
    cache = BackupCache()
    choices = _LatestChoice()

    @app.options(MODAL_BACKUP_ACTION)
    async def on_backup_suggestion(ack: AsyncAck, payload: dict[str, Any]) -> None:
        query = payload.get("value")
        options = await find_backup_options(services.pinecone, query if isinstance(query, str) else "", cache)
        await ack(options=options)

    @app.action(MODAL_BACKUP_ACTION)
    async def on_backup_chosen(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        after_ack(services, _redraw(services, cache, choices, body, action), body=body, name="redraw the restore modal")

    @app.view_submission(RESTORE_MODAL_CALLBACK)
    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        user = body.get("user")
        user_id = str(user.get("id") or "") if isinstance(user, dict) else ""
        channel_id = modal.modal_channel(view)
        refusal = refusal_before_work(services, channel_id) if channel_id else None
        if refusal is not None:
            await ack(response_action="errors", errors={MODAL_BACKUP_BLOCK: modal.inline_text(refusal.text)})
            return
        result = modal.read_submission(view)
        if isinstance(result, modal.Invalid):
            await ack(response_action="errors", errors=result.errors)
            return
        await ack()  # closes the modal
        request = result.request
        services.tasks.spawn(
            handle_restore_request(
                services,
                request,
                user_id=user_id,
                channel_id=result.channel_id,
                reply=ephemeral_reply(services, result.channel_id, user_id),
            ),
            name=f"restore {request.index_name}",
        )
