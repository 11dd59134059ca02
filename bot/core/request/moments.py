"""`before:<when>`: the moment a requester means, read in two pure steps.

1. `parse_when(text)` checks the shape of what was typed, before anything is asked of Slack (the
   slash command is answered within Slack's 3 seconds). It accepts:

   * an ISO 8601 time with a zone: `2026-11-30T14:00Z`, `2026-11-30T14:00:00+01:00`;
   * an ISO 8601 date or time without one, read in the requester's zone: `2026-11-30 14:00`, `2026-11-30`;
   * a time of day, today in the requester's zone: `14:00`, `9:05`;
   * `yesterday 14:00` (or `today 14:00`);
   * a span before now: `2h`, `90m`, `1h30m`, `2d`, optionally followed by `ago`.

2. `resolve_when(spec, now=..., zone=...)` places it in time with the requester's Slack time zone
   and the clock it is given, and says in words which moment was understood, in that zone and in
   UTC. A local time that happens twice (clocks go back) or never (clocks go forward) is refused
   with an example that removes the doubt, never guessed.

Neither step raises on any text: every refusal is a `Problem` with an example.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Literal

from bot.core.request.field_rules import Problem, quote_for_humans

#: How far back a span may reach: Pinecone keeps backups for a long time, but a typo like `9000d` is not meant.
MAX_SPAN = timedelta(days=400)
#: Zone names that are UTC itself: the moment is then said once.
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu"})
#: Longest `before:` text worth reading.
MAX_WHEN_CHARS = 40

WHEN_RULE = (
    "Say when as an ISO time (2026-11-30T14:00Z, or 2026-11-30 14:00 in your time zone), a time today (14:00), "
    "yesterday 14:00, or a span before now (2h, 90m, 1h30m, 2d)."
)

_TIME_OF_DAY_RE = re.compile(r"(?P<hour>\d{1,2}):(?P<minute>\d{2})")
_DAY_AND_TIME_RE = re.compile(r"(?P<day>today|yesterday)\s+(?P<clock>\d{1,2}:\d{2})")
_SPAN_RE = re.compile(r"(?:(?P<days>\d{1,3})d)?(?:(?P<hours>\d{1,4})h)?(?:(?P<minutes>\d{1,5})m)?(?:\s+ago)?")
_ISO_START_RE = re.compile(r"\d{4}-\d{2}-\d{2}")

WhenKind = Literal["instant", "local", "time_today", "time_yesterday", "span"]


@dataclass(frozen=True)
class WhenSpec:
    """What the requester typed, checked for shape, not yet placed in time."""

    kind: WhenKind
    text: str
    #: "instant": an aware datetime; "local": a naive one, to be read in the requester's zone.
    moment: datetime | None = None
    #: "time_today" / "time_yesterday": the wall-clock time.
    clock: time | None = None
    #: "span": how long before now.
    span: timedelta | None = None


@dataclass(frozen=True)
class Moment:
    """An instant the requester meant, and how it was understood, in words."""

    at: datetime  # aware, UTC
    understood: str  # e.g. "14:00 today, Europe/Paris (13:00 UTC, 2026-11-30)"


def _problem(text: str, rule: str = WHEN_RULE, hint: str | None = None) -> Problem:
    return Problem(
        part=f"before:{quote_for_humans(text)}", rule=rule, hint=hint or "For example: before:yesterday-14:00"
    )


def parse_when(text: str) -> WhenSpec | Problem:
    """The shape of a `before:` value, or why it cannot be read."""
    cleaned = " ".join(text.replace("-", " ").split()) if _looks_like_day_words(text) else " ".join(text.split())
    if not cleaned:
        return _problem(text, hint="Put the moment right after before:, e.g. before:14:00")
    if len(cleaned) > MAX_WHEN_CHARS:
        return _problem(text)
    lowered = cleaned.lower()
    if found := _DAY_AND_TIME_RE.fullmatch(lowered):
        clock = _clock(found["clock"])
        if clock is None:
            return _problem(text, hint="Hours go from 0 to 23 and minutes from 00 to 59, e.g. before:14:00")
        kind: WhenKind = "time_yesterday" if found["day"] == "yesterday" else "time_today"
        return WhenSpec(kind=kind, text=cleaned, clock=clock)
    if _TIME_OF_DAY_RE.fullmatch(lowered):
        clock = _clock(lowered)
        if clock is None:
            return _problem(text, hint="Hours go from 0 to 23 and minutes from 00 to 59, e.g. before:14:00")
        return WhenSpec(kind="time_today", text=cleaned, clock=clock)
    if lowered in ("today", "yesterday"):
        return _problem(text, hint=f"Add the time: before:{lowered}-14:00")
    if (span := _SPAN_RE.fullmatch(lowered)) and any(span.group(unit) for unit in ("days", "hours", "minutes")):
        length = timedelta(
            days=int(span["days"] or 0), hours=int(span["hours"] or 0), minutes=int(span["minutes"] or 0)
        )
        if length <= timedelta(0):
            return _problem(text, hint="A span before now must be longer than zero, e.g. before:30m")
        if length > MAX_SPAN:
            return _problem(text, hint=f"A span before now may reach back at most {MAX_SPAN.days} days")
        return WhenSpec(kind="span", text=cleaned, span=length)
    if _ISO_START_RE.match(cleaned):
        return _parse_iso(text, cleaned)
    return _problem(text)


def _looks_like_day_words(text: str) -> bool:
    """`yesterday-14:00` is how the word and the time stay one token in a slash command."""
    return text.strip().lower().startswith(("yesterday-", "today-"))


def _clock(text: str) -> time | None:
    found = _TIME_OF_DAY_RE.fullmatch(text)
    if found is None:
        return None
    hour, minute = int(found["hour"]), int(found["minute"])
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _parse_iso(original: str, cleaned: str) -> WhenSpec | Problem:
    candidate = cleaned.replace(" ", "T", 1) if len(cleaned) > 10 else cleaned
    if candidate.endswith(("z", "Z")):
        candidate = candidate[:-1] + "+00:00"
    try:
        moment = datetime.fromisoformat(candidate)  # a date alone is the start of that day
        if moment.tzinfo is None:
            return WhenSpec(kind="local", text=cleaned, moment=moment)
        return WhenSpec(kind="instant", text=cleaned, moment=moment.astimezone(UTC))
    except (ValueError, OverflowError):
        return _problem(original, hint="For example: before:2026-11-30T14:00Z")


def resolve_when(spec: WhenSpec, *, now: datetime, zone: tzinfo, zone_name: str) -> Moment | Problem:
    """The instant `spec` means for a requester in `zone` at `now` (aware), said in words."""
    try:
        return _resolve(spec, now.astimezone(UTC), zone, zone_name)
    except (OverflowError, ValueError):  # a moment at the very ends of the calendar
        return _problem(spec.text, hint="Give a moment within the last year or so")


def _resolve(spec: WhenSpec, now: datetime, zone: tzinfo, zone_name: str) -> Moment | Problem:
    match spec.kind:
        case "instant":
            assert spec.moment is not None
            return _moment(spec.moment, zone, zone_name, "")
        case "span":
            assert spec.span is not None
            return _moment(now - spec.span, zone, zone_name, f"{spec.text.removesuffix(' ago')} ago: ")
        case "local":
            assert spec.moment is not None
            return _local(spec, spec.moment, zone, zone_name, "")
        case "time_today" | "time_yesterday":
            assert spec.clock is not None
            today = now.astimezone(zone).date()
            day = today - timedelta(days=1) if spec.kind == "time_yesterday" else today
            word = "yesterday" if spec.kind == "time_yesterday" else "today"
            return _local(spec, datetime.combine(day, spec.clock), zone, zone_name, f"{spec.clock:%H:%M} {word}, ")


def _local(spec: WhenSpec, wall: datetime, zone: tzinfo, zone_name: str, prefix: str) -> Moment | Problem:
    """A wall-clock time in `zone`, refused when the clocks make it happen twice or never."""
    first = wall.replace(tzinfo=zone, fold=0)
    second = wall.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        # In a gap, fold=0 reads the wall time with the offset from before the jump, which puts it later.
        if first.astimezone(UTC) > second.astimezone(UTC):
            return _problem(
                spec.text,
                rule=f"{wall:%Y-%m-%d %H:%M} never happens in {zone_name}: the clocks jump forward then.",
                hint=(
                    f"Give it with an offset: before:{first.isoformat(timespec='minutes')} "
                    f"or before:{second.isoformat(timespec='minutes')}"
                ),
            )
        return _problem(
            spec.text,
            rule=f"{wall:%Y-%m-%d %H:%M} happens twice in {zone_name}: the clocks go back then.",
            hint=(
                f"Give it with its offset: before:{first.isoformat(timespec='minutes')} (the first) "
                f"or before:{second.isoformat(timespec='minutes')} (the second)"
            ),
        )
    return _moment(first.astimezone(UTC), zone, zone_name, prefix)


def _moment(at: datetime, zone: tzinfo, zone_name: str, prefix: str) -> Moment:
    local = at.astimezone(zone)
    if zone_name in UTC_NAMES:  # said once: "14:00 UTC (14:00 UTC)" helps nobody
        return Moment(at=at, understood=f"{prefix}{at:%Y-%m-%d %H:%M} UTC")
    return Moment(
        at=at,
        understood=f"{prefix}{local:%Y-%m-%d %H:%M} {zone_name} ({at:%Y-%m-%d %H:%M} UTC)",
    )
