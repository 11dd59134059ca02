"""The restore modal's moving parts: opening it, the backup picker's options, redrawing it for a choice.

The views are drawn by `bot.core.render.restore_form_view`; this use case asks Pinecone for backups
(within Slack's 3-second limit for options) and Slack to open and redraw the form.

The "source index" path: the modal is redrawn for it when the person switches to it; its index picker's
options are the project's indexes (`GET /indexes`, within the same budget, tried once), and choosing an
index or typing a moment (Enter) redraws it with the backup that would be restored, chosen exactly as a
request by intent chooses it (bot/service/backup_choice.py), within `PREVIEW_TIMEOUT`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from bot.core.backup_choice import NoneQualifies
from bot.core.jobs import utcnow
from bot.core.render.restore_form_view import (
    MAX_OPTIONS,
    ModalForm,
    backup_matches,
    backup_options,
    index_options,
    indexes_unavailable_options,
    preview_text,
    preview_unavailable,
    restore_view,
    unavailable_options,
    view_after_choice,
    view_for_mode,
    view_with_preview,
)
from bot.core.request.field_rules import Problem, validate_backup_id, validate_index_name
from bot.core.request.moments import parse_when
from bot.core.request.restore_form import before_text, form_values, modal_channel, selected_source
from bot.pinecone import PineconeClient
from bot.pinecone.errors import NotFound, PineconeError
from bot.pinecone.models import Backup
from bot.service.backup_choice import BackupChooser, Unchosen
from bot.service.restore_requests import RestoreRequests
from bot.slack.publisher import SlackPublisher, SlackTrouble

log = logging.getLogger(__name__)

#: Slack drops an options answer after 3 seconds; the listing gets 2 of them, whatever Pinecone does.
SUGGESTION_BUDGET = 2.0
#: At most this many pages of `GET /backups` per keystroke, each of `PAGE_SIZE` backups.
SUGGESTION_PAGES = 2
PAGE_SIZE = 100
#: Looking up a chosen backup that was not in a recent listing (after a restart, say).
LOOKUP_TIMEOUT = 5.0
#: Choosing the backup the "source index" path would restore, for the redraw (the ack was sent before).
PREVIEW_TIMEOUT = 5.0
CACHE_SIZE = 1000


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


def today_utc() -> date:
    return datetime.now(UTC).date()


class BackupPicker:
    def __init__(
        self,
        pinecone: PineconeClient,
        slack: SlackPublisher,
        requests: RestoreRequests,
        *,
        chooser: BackupChooser | None = None,
        today: Callable[[], date] = today_utc,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._pinecone = pinecone
        self._slack = slack
        self._requests = requests
        self._chooser = chooser
        self._today = today
        self._clock = clock
        self._cache = BackupCache()
        self._choices = _LatestChoice()

    async def open_form(self, *, trigger_id: str, channel_id: str) -> bool:
        """Open the restore form (call right after the ack: a trigger_id lasts 3 seconds); False if Slack
        would not open it.

        In a channel where a restore would be refused, the form still opens and says why at the top,
        with links to the allowed channels; submitting it there is refused inline.
        """
        refusal = self._requests.refusal_before_work(channel_id)
        view = restore_view(ModalForm(channel_id=channel_id, notice=refusal.text if refusal else None))
        return not isinstance(await self._slack.open_view(trigger_id, view), SlackTrouble)

    async def options(self, query: str) -> list[dict[str, Any]]:
        return await find_backup_options(self._pinecone, query, self._cache)

    async def redraw(self, view: Mapping[str, Any], view_id: str, backup_id: str, stamp: float) -> None:
        """Redraw the form for the backup just chosen: its source, size and a suggested name."""
        if not isinstance(validate_backup_id(backup_id), str):
            return  # the "Pinecone did not answer" option; the submission says so if it is kept
        self._choices.note(view_id, stamp)
        backup = self._cache.get(backup_id) or await self._look_up(backup_id)
        if backup is None or not self._choices.is_latest(view_id, stamp):
            return
        channel_id = modal_channel(view)
        refusal = self._requests.refusal_before_work(channel_id) if channel_id else None
        redrawn = view_after_choice(view, backup, today=self._today(), notice=refusal.text if refusal else None)
        if redrawn is not None:
            await self._slack.update_view(view_id, redrawn)

    async def index_options(self, query: str) -> list[dict[str, Any]]:
        """The source index picker's options for `query`, within `SUGGESTION_BUDGET` seconds, tried once."""
        try:
            async with asyncio.timeout(SUGGESTION_BUDGET):
                names = await self._pinecone.without_retries().list_index_names()
        except (PineconeError, TimeoutError) as exc:
            log.warning("could not list the indexes for the restore modal: %s", str(exc) or type(exc).__name__)
            return indexes_unavailable_options(query)
        return index_options(names, query)

    async def switch(self, view: Mapping[str, Any], view_id: str, mode: str, stamp: float) -> None:
        """Redraw the form for the path just chosen: a backup picked, or the newest backup of an index."""
        self._choices.note(view_id, stamp)
        redrawn = view_for_mode(view, mode, notice=self._notice(view))
        if redrawn is not None and self._choices.is_latest(view_id, stamp):
            await self._slack.update_view(view_id, redrawn)

    async def preview(self, view: Mapping[str, Any], view_id: str, user_id: str, stamp: float) -> None:
        """Redraw the "source index" path with the backup it would restore for the index and the moment now
        in the form (or why none would be), chosen as a request by intent would choose it."""
        self._choices.note(view_id, stamp)
        values = form_values(view)
        source = selected_source(values)
        if source is None or not isinstance(validate_index_name(source), str):
            return  # nothing chosen yet, or the "Pinecone did not answer" option: the submission says so
        before = before_text(values)
        chosen = None
        if before is not None and isinstance(spec := parse_when(before), Problem):
            text = f":warning: {spec.describe()}"
        elif self._chooser is None:
            return
        else:
            try:
                async with asyncio.timeout(PREVIEW_TIMEOUT):
                    result = await self._chooser.choose(source, before, requester_id=user_id, now=self._clock())
            except (PineconeError, TimeoutError) as exc:
                text = preview_unavailable(source, str(exc) or "no answer in time")
            else:
                if isinstance(result, Unchosen):
                    text = preview_text(NoneQualifies(result.reason), self._clock())
                else:
                    text = preview_text(result, self._clock())
                    chosen = result.backup
        if not self._choices.is_latest(view_id, stamp):
            return
        redrawn = view_with_preview(view, text, chosen=chosen, today=self._today(), notice=self._notice(view))
        if redrawn is not None:
            await self._slack.update_view(view_id, redrawn)

    def _notice(self, view: Mapping[str, Any]) -> str | None:
        channel_id = modal_channel(view)
        refusal = self._requests.refusal_before_work(channel_id) if channel_id else None
        return refusal.text if refusal else None

    async def _look_up(self, backup_id: str) -> Backup | None:
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT):
                return await self._pinecone.without_retries().describe_backup(backup_id)
        except (PineconeError, TimeoutError) as exc:
            log.info("could not look up backup %s for the restore modal: %s", backup_id, str(exc) or type(exc).__name__)
            return None


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
                    token = page.next
                    if token is None or sum(backup_matches(b, query) for b in backups) >= MAX_OPTIONS:
                        break
    except (PineconeError, TimeoutError) as exc:
        if not backups:
            log.warning("could not list backups for the restore modal: %s", str(exc) or type(exc).__name__)
            return unavailable_options()
    cache.remember(backups)
    return backup_options(backups, query)
