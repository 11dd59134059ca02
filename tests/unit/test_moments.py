"""`before:<when>`: every accepted form places one UTC instant; nothing typed makes it raise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from bot.core.request.field_rules import Problem
from bot.core.request.moments import MAX_SPAN, Moment, WhenSpec, parse_when, resolve_when

NOW = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
ZONES = sorted(available_timezones() - {"Factory", "localtime"})

instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)).map(
    lambda moment: moment.replace(second=0, microsecond=0)
)
zones = st.sampled_from(ZONES)


def resolve(text: str, zone: str = "Europe/Paris", now: datetime = NOW) -> Moment | Problem:
    spec = parse_when(text)
    if isinstance(spec, Problem):
        return spec
    return resolve_when(spec, now=now, zone=ZoneInfo(zone), zone_name=zone)


def at(text: str, zone: str = "Europe/Paris", now: datetime = NOW) -> datetime:
    moment = resolve(text, zone, now)
    assert isinstance(moment, Moment), moment
    return moment.at


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-30T14:00Z", datetime(2026, 11, 30, 14, 0, tzinfo=UTC)),
        ("2026-11-30T14:00:00+01:00", datetime(2026, 11, 30, 13, 0, tzinfo=UTC)),
        ("2026-11-30 14:00", datetime(2026, 11, 30, 13, 0, tzinfo=UTC)),  # Paris is UTC+1 in November
        ("2026-11-30", datetime(2026, 11, 29, 23, 0, tzinfo=UTC)),  # the start of that day, in Paris
        ("14:00", datetime(2026, 11, 30, 13, 0, tzinfo=UTC)),
        ("9:05", datetime(2026, 11, 30, 8, 5, tzinfo=UTC)),
        ("yesterday-14:00", datetime(2026, 11, 29, 13, 0, tzinfo=UTC)),
        ("yesterday 14:00", datetime(2026, 11, 29, 13, 0, tzinfo=UTC)),
        ("Today 14:00", datetime(2026, 11, 30, 13, 0, tzinfo=UTC)),
        ("2h", NOW - timedelta(hours=2)),
        ("90m", NOW - timedelta(minutes=90)),
        ("1h30m ago", NOW - timedelta(minutes=90)),
        ("2d", NOW - timedelta(days=2)),
    ],
)
def test_each_form_means_one_instant(text: str, expected: datetime) -> None:
    assert at(text) == expected


def test_the_answer_says_the_moment_in_the_requesters_zone_and_in_utc() -> None:
    moment = resolve("yesterday-14:00")
    assert isinstance(moment, Moment)
    assert moment.understood == "14:00 yesterday, 2026-11-29 14:00 Europe/Paris (2026-11-29 13:00 UTC)"


def test_a_time_today_is_read_in_the_requesters_zone_not_the_servers() -> None:
    # 01:30 UTC on the 30th is still the 29th in New York: "14:00" there is 14:00 on the 29th.
    late = datetime(2026, 11, 30, 1, 30, tzinfo=UTC)
    assert at("14:00", "America/New_York", late) == datetime(2026, 11, 29, 19, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2026-03-29 02:30", "never happens in Europe/Paris"),  # clocks jump from 02:00 to 03:00
        ("2026-10-25 02:30", "happens twice in Europe/Paris"),  # clocks go back from 03:00 to 02:00
    ],
)
def test_a_local_time_the_clocks_skip_or_repeat_is_refused_with_offsets_to_choose(text: str, says: str) -> None:
    refused = resolve(text)
    assert isinstance(refused, Problem) and says in refused.rule
    assert refused.hint is not None and "+01:00" in refused.hint and "+02:00" in refused.hint
    # Each suggestion is itself accepted, and the two are different instants.
    first, second = (word for word in refused.hint.split() if word.startswith("before:"))
    assert at(first.removeprefix("before:")) != at(second.removeprefix("before:"))


@pytest.mark.parametrize(
    "text", ["", "soon", "25:00", "12:60", "0m", "today", "yesterday", "2026-13-01", "9999d", "14h00", "-2h", "2x"]
)
def test_unknown_or_impossible_forms_are_refused_with_an_example(text: str) -> None:
    refused = parse_when(text)
    assert isinstance(refused, Problem)
    assert refused.part.startswith("before:") and refused.hint and "before:" in refused.hint


def test_a_span_reaches_back_at_most_about_a_year() -> None:
    assert isinstance(parse_when(f"{MAX_SPAN.days}d"), WhenSpec)
    assert isinstance(parse_when(f"{MAX_SPAN.days + 1}d"), Problem)


@given(st.text(max_size=60), zones, instants)
def test_nothing_typed_makes_it_raise(text: str, zone: str, now: datetime) -> None:
    spec = parse_when(text)
    if isinstance(spec, WhenSpec):
        result = resolve_when(spec, now=now, zone=ZoneInfo(zone), zone_name=zone)
        assert isinstance(result, Moment | Problem)
        if isinstance(result, Moment):
            assert result.at.tzinfo is UTC and zone in result.understood and "UTC" in result.understood


@given(instants, zones)
def test_an_iso_time_with_its_offset_round_trips(moment: datetime, zone: str) -> None:
    written = moment.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes")
    assume(len(written) <= 40)
    assert at(written, zone) == moment


@given(instants, zones)
def test_a_local_time_round_trips_unless_the_clocks_make_it_doubtful(moment: datetime, zone: str) -> None:
    local = moment.astimezone(ZoneInfo(zone))
    result = resolve(f"{local:%Y-%m-%d %H:%M}", zone)
    if isinstance(result, Moment):
        assert result.at == moment
    else:  # only ever because that wall-clock time happens twice in that zone
        assert "happens twice" in result.rule


@given(instants, zones)
def test_a_time_today_or_yesterday_is_on_that_day_in_the_requesters_zone(now: datetime, zone: str) -> None:
    today = now.astimezone(ZoneInfo(zone)).date()
    for text, day in (("14:00", today), ("yesterday-14:00", today - timedelta(days=1))):
        result = resolve(text, zone, now)
        if isinstance(result, Moment):
            local = result.at.astimezone(ZoneInfo(zone))
            assert (local.date(), local.hour, local.minute) == (day, 14, 0)


@given(st.integers(min_value=0, max_value=99), st.integers(min_value=0, max_value=999), st.integers(0, 99999), instants)
def test_a_span_is_that_long_before_now(days: int, hours: int, minutes: int, now: datetime) -> None:
    span = timedelta(days=days, hours=hours, minutes=minutes)
    assume(timedelta(0) < span <= MAX_SPAN)
    text = "".join(f"{n}{unit}" for n, unit in ((days, "d"), (hours, "h"), (minutes, "m")) if n)
    assert at(text, "UTC", now) == now - span
