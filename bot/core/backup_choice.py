"""Which backup a restore by intent means: the rules, pure (backups and a moment in, a choice out).

`from:prod-search` means the newest `Ready` backup of `prod-search`; with `before:<when>`, the newest
`Ready` one created strictly before that moment. A backup whose creation time Pinecone does not give
cannot be placed in time, so it never qualifies (it cannot be said to be the newest, nor to be before
anything). Backups of an index that was deleted qualify like the others: backups outlive their index.

When none qualifies, the answer says why: the index has no backups (or no index by that name ever
existed), none is `Ready` (what there is, with its status), or none was taken before the moment (the
oldest `Ready` one, and when it was taken). A choice carries the sentence that says what was chosen and
why; it is kept with the request and shown wherever the request is.

The listing itself (every page, in any order, pages that may overlap) is the use case's:
bot/service/backup_choice.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.core.backup_facts import BackupFacts
from bot.core.request.field_rules import clean_field
from bot.core.request.moments import Moment

#: How many backups a "none is Ready" answer lists by name before it only counts the rest.
LISTED_AT_MOST = 5


class ListedBackup(BackupFacts, Protocol):
    """A backup as `GET /indexes/{name}/backups` lists it: also whether its source index was deleted."""

    @property
    def source_index_deleted_at(self) -> str | None: ...


@dataclass(frozen=True)
class Chosen:
    """The backup a request by intent means, and the sentence saying what was chosen and why."""

    backup: ListedBackup
    taken_at: datetime
    moment: Moment | None
    #: Plain text, e.g. "newest Ready backup of prod-search before 14:00 today, 2026-11-30 14:00
    #: Europe/Paris (2026-11-30 13:00 UTC)"; kept with the request and shown wherever it is.
    why: str

    @property
    def before_moment(self) -> timedelta | None:
        """How long before the requested moment the backup was taken (None without `before:`)."""
        return self.moment.at - self.taken_at if self.moment is not None else None


@dataclass(frozen=True)
class NoneQualifies:
    """No backup of the index qualifies; `reason` says why, for the requester (like every refusal reason:
    mrkdwn with code spans, escaped where a channel message shows it)."""

    reason: str


def taken_at(backup: BackupFacts) -> datetime | None:
    """When the backup was created, as an aware UTC time; None if Pinecone did not say or said it unreadably."""
    return taken_at_dt(backup.created_at)


def taken_at_dt(raw: str | None) -> datetime | None:
    """A Pinecone timestamp as an aware UTC time (a time without a zone is read as UTC, as Pinecone sends
    UTC); None if absent or unreadable."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def choose_backup(
    backups: Iterable[ListedBackup],
    *,
    source_index: str,
    moment: Moment | None,
    index_ever_existed: bool = True,
    unreadable: int = 0,
) -> Chosen | NoneQualifies:
    """The newest Ready backup of `source_index` (created strictly before `moment.at`, when given).

    `backups`: every backup listed for the index, in any order, possibly with repeats (pages overlap).
    `index_ever_existed`: False when Pinecone says no index by that name ever existed.
    `unreadable`: listed items that did not match the spec and were left out (said in the answer)."""
    seen: dict[str, ListedBackup] = {}
    for backup in backups:
        seen.setdefault(backup.backup_id, backup)
    listed = list(seen.values())
    name = f"`{_shown(source_index)}`"
    if not listed:
        if not index_ever_existed:
            return NoneQualifies(
                f"No index named {name} has ever existed in this Pinecone project, so it has no backups. "
                "Check the name (`/restore-index` alone opens a form that lists the indexes)."
            )
        return NoneQualifies(
            f"{name} has no backups{_unreadable_note(unreadable)}, so there is nothing to restore it from."
        )
    ready = [b for b in listed if b.ready]
    if not ready:
        return NoneQualifies(f"None of the backups of {name} is Ready: {_inventory(listed)}.")
    dated = [(when, b) for b in ready if (when := taken_at(b)) is not None]
    if not dated:
        return NoneQualifies(
            f"Pinecone gives no creation time for the Ready backups of {name} ({_inventory(ready)}), so I "
            "cannot tell which is the newest. Restore one by its ID: `/restore-index <backup_id> <new-name>`."
        )
    qualifying = dated if moment is None else [(when, b) for when, b in dated if when < moment.at]
    if not qualifying:
        assert moment is not None
        oldest_at, oldest = min(dated, key=_order)
        earlier = [b for b in listed if not b.ready and (w := taken_at(b)) is not None and w < moment.at]
        not_ready = (
            f" ({_count(len(earlier), 'backup')} taken before then {'is' if len(earlier) == 1 else 'are'} not "
            f"Ready: {_inventory(earlier)})"
            if earlier
            else ""
        )
        return NoneQualifies(
            f"No Ready backup of {name} was taken before {moment.understood}{not_ready}. The oldest Ready "
            f"one is {_described(oldest)}, taken {when_text(oldest_at)}."
        )
    when, chosen = max(qualifying, key=_order)
    return Chosen(
        backup=chosen,
        taken_at=when,
        moment=moment,
        why=why_text(source_index, moment, chosen, unreadable=unreadable),
    )


def why_text(source_index: str, moment: Moment | None, backup: ListedBackup, *, unreadable: int = 0) -> str:
    """The sentence saying what was chosen and why (plain text)."""
    text = f"newest Ready backup of {clean_field(source_index)}"
    if moment is not None:
        text += f" before {moment.understood}"
    deleted = taken_at_text(backup.source_index_deleted_at)
    if deleted:
        text += f"; that {clean_field(source_index)} was deleted {deleted}, its backups outlive it"
    if unreadable:
        text += f"; {_count(unreadable, 'listed backup')} could not be read and {_were(unreadable)} left out"
    return text


def when_text(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def taken_at_text(raw: str | None) -> str | None:
    """A Pinecone timestamp as "2026-11-30 13:05 UTC" (None if absent or unreadable)."""
    moment = taken_at_dt(raw)
    return when_text(moment) if moment is not None else None


def age_text(span: timedelta) -> str:
    """A span as people say it: "3d 4h", "5h 02m", "12m", "40s"."""
    seconds = max(0, round(span.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def _order(item: tuple[datetime, ListedBackup]) -> tuple[datetime, str]:
    # Two backups taken at the same instant: the larger ID, so the answer never depends on the listing order.
    return item[0], item[1].backup_id


def _shown(text: str) -> str:
    """Pinecone's text inside a sentence that is shown as mrkdwn (and escaped where a channel shows it): no
    backticks to break the code span, no angle brackets to become a mention or a link."""
    return clean_field(text).replace("`", "'").replace("<", "‹").replace(">", "›")


def _described(backup: BackupFacts) -> str:
    name = f" ({_shown(backup.name)})" if backup.name else ""
    return f"`{_shown(backup.backup_id)}`{name}"


def _inventory(backups: Sequence[BackupFacts]) -> str:
    """Up to LISTED_AT_MOST backups with their status and time, newest first; then how many more."""
    ordered = sorted(backups, key=lambda b: (taken_at(b) or datetime.min.replace(tzinfo=UTC), b.backup_id))[::-1]
    parts = []
    for backup in ordered[:LISTED_AT_MOST]:
        when = taken_at(backup)
        taken = f", taken {when_text(when)}" if when else ""
        parts.append(f"{_described(backup)} is {_shown(backup.status) or 'of unknown status'}{taken}")
    more = len(ordered) - LISTED_AT_MOST
    if more > 0:
        parts.append(f"and {_count(more, 'more')}")
    return "; ".join(parts)


def _count(number: int, noun: str) -> str:
    if noun == "more":
        return f"{number} more"
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _unreadable_note(unreadable: int) -> str:
    if not unreadable:
        return ""
    counted = _count(unreadable, "listed backup")
    return f" that I could read ({counted} did not match Pinecone's API and {_were(unreadable)} left out)"


def _were(number: int) -> str:
    return "was" if number == 1 else "were"
