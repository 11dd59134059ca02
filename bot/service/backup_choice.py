"""Choosing the backup a restore by intent means: `from:<source-index> [before:<when>]`.

1. The moment, if `before:` was given: read in the requester's Slack time zone (`users.info`) when the
   form needs one (`14:00`, `yesterday 14:00`, an ISO time without a zone). Those forms are refused when
   the zone cannot be read, with an example that names a zone: a zone is never guessed. The other forms
   (an ISO time with a zone, a span before now) need none; they are said in the requester's zone when it
   can be read, else in UTC. A request is placed in time from when it was made (`now`), so a check
   taken up again after a restart means the same moment.
2. The backups: every page of `GET /indexes/{source}/backups?include_deleted=true`, in whatever order
   Pinecone lists them (pages may overlap; each backup counts once). `include_deleted` because backups
   outlive their index: an index deleted in the incident, or deleted and made again empty, still has the
   backups taken before. A 404 then means no index by that name ever existed.
3. The rules (bot/core/backup_choice.py): the newest Ready backup (strictly before the moment), or why none.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.backup_choice import Chosen, ListedBackup, NoneQualifies, choose_backup
from bot.core.render.pinecone_sentences import explain
from bot.core.request.field_rules import Problem
from bot.core.request.moments import Moment, WhenSpec, parse_when, resolve_when
from bot.pinecone import NotFound, PineconeClient, PineconeError
from bot.slack.users import UserZone, UserZones, ZoneUnavailable

log = logging.getLogger(__name__)

#: Pages of 100 backups read at most: 10,000 backups of one index. Beyond that the newest cannot be known.
MAX_PAGES = 100
PAGE_SIZE = 100
#: The forms of `before:` that are read in the requester's time zone.
LOCAL_FORMS = frozenset({"local", "time_today", "time_yesterday"})


@dataclass(frozen=True)
class Unchosen:
    """No backup can be chosen; `reason` is the sentence for the requester (a refusal reason)."""

    reason: str


class BackupChooser:
    def __init__(self, pinecone: PineconeClient, zones: UserZones, *, max_pages: int = MAX_PAGES) -> None:
        self._pinecone = pinecone
        self._zones = zones
        self._max_pages = max_pages

    async def choose(
        self, source_index: str, before: str | None, *, requester_id: str, now: datetime
    ) -> Chosen | Unchosen:
        """The backup `from:<source_index> [before:<before>]` means for `requester_id`, asked at `now`."""
        moment: Moment | None = None
        if before is not None:
            placed = await self.moment(before, requester_id=requester_id, now=now)
            if isinstance(placed, Unchosen):
                return placed
            moment = placed
        listed = await self._list(source_index)
        if isinstance(listed, Unchosen):
            return listed
        backups, unreadable, ever_existed = listed
        result = choose_backup(
            backups, source_index=source_index, moment=moment, index_ever_existed=ever_existed, unreadable=unreadable
        )
        return Unchosen(result.reason) if isinstance(result, NoneQualifies) else result

    async def moment(self, before: str, *, requester_id: str, now: datetime) -> Moment | Unchosen:
        """The instant `before:<before>` means for this requester at `now`, said in their zone and in UTC."""
        spec = parse_when(before)
        if isinstance(spec, Problem):  # the parser checked it; a job recorded by an older bot may differ
            return Unchosen(f"I can't read `before:{before}`: {spec.describe()}")
        zone = await self._zones.zone_of(requester_id)
        if isinstance(zone, ZoneUnavailable):
            if spec.kind in LOCAL_FORMS:
                return Unchosen(zone_needed(spec, zone, now))
            zone = UserZone(name="UTC", zone=UTC)
        resolved = resolve_when(spec, now=now, zone=zone.zone, zone_name=zone.name)
        if isinstance(resolved, Problem):
            return Unchosen(f"I can't place `before:{before}` in time: {resolved.describe()}")
        if resolved.at > now:
            meant = (
                f" Did you mean `before:yesterday-{spec.clock:%H:%M}`?"
                if spec.kind == "time_today" and spec.clock
                else ""
            )
            return Unchosen(
                f"`before:{before}` means {resolved.understood}, which is still to come.{meant} For the newest "
                "backup, leave `before:` out."
            )
        return resolved

    async def _list(self, source_index: str) -> tuple[list[ListedBackup], int, bool] | Unchosen:
        """Every backup of every index that had this name; how many listed items could not be read; and
        whether an index by that name ever existed."""
        backups: list[ListedBackup] = []
        unreadable: set[str] = set()
        unnamed = 0
        token: str | None = None
        for _ in range(self._max_pages):
            try:
                page = await self._pinecone.list_index_backups(
                    source_index, include_deleted=True, limit=PAGE_SIZE, pagination_token=token
                )
            except NotFound:
                return [], 0, False
            except PineconeError as exc:
                log.warning("could not list the backups of %s: %s", source_index, exc)
                why = explain(exc, backup_id="", index_name=source_index)
                return Unchosen(f"I could not list the backups of `{source_index}`: {why}")
            for bad in page.malformed:
                log.warning(
                    "backup %s of %s does not match Pinecone's spec: %s", bad.item_id, source_index, bad.problem
                )
                if bad.item_id is None:
                    unnamed += 1
                else:
                    unreadable.add(bad.item_id)
            backups.extend(page.data)
            token = page.next
            if token is None:
                readable = {backup.backup_id for backup in backups}
                return backups, len(unreadable - readable) + unnamed, True
        return Unchosen(
            f"`{source_index}` has more than {self._max_pages * PAGE_SIZE:,} backups, more than I read to find the "
            "newest. Restore one by its ID: `/restore-index <backup_id> <new-name>`."
        )


def zone_needed(spec: WhenSpec, trouble: ZoneUnavailable, now: datetime) -> str:
    """Why a local time cannot be placed without the requester's zone, with forms that need none."""
    day = now.astimezone(UTC).date() - (timedelta(days=1) if spec.kind == "time_yesterday" else timedelta(0))
    if spec.kind == "local" and spec.moment is not None:
        example = f"{spec.moment:%Y-%m-%dT%H:%M}Z"
    elif spec.clock is not None:
        example = f"{day:%Y-%m-%d}T{spec.clock:%H:%M}Z"
    else:
        example = f"{day:%Y-%m-%d}T14:00Z"
    return (
        f"I could not read your time zone from Slack ({trouble.error}), so I can't tell when `before:{spec.text}` "
        "is, and I don't guess. Give the moment with its zone, e.g. "
        f"`before:{example}` (UTC) or with your offset from UTC, like `before:{example[:-1]}+01:00`, or as a span "
        "before now, e.g. `before:2h`."
    )
