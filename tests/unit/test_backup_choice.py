"""Which backup `from:<index> [before:<when>]` means: the newest Ready one (before the moment), or why none."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.backup_choice import Chosen, NoneQualifies, age_text, choose_backup, taken_at
from bot.core.request.moments import Moment
from bot.core.vector_fields import VectorShape, vector_shape

NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Listed:
    backup_id: str
    status: str = "Ready"
    created_at: str | None = None
    source_index_name: str = "prod-search"
    name: str | None = None
    record_count: int | None = 1000
    size_bytes: int | None = 10_000
    source_index_deleted_at: str | None = None

    @property
    def ready(self) -> bool:
        return self.status.lower() == "ready"

    @property
    def vector_shape(self) -> VectorShape:
        return vector_shape(None)

    @property
    def dimension(self) -> int | None:
        return None

    @property
    def metric(self) -> str | None:
        return None


def at(hours: float) -> str:
    """A Pinecone timestamp `hours` after noon (negative: before)."""
    return (NOON + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def moment(hours: float) -> Moment:
    instant = NOON + timedelta(hours=hours)
    return Moment(at=instant, understood=f"{instant:%Y-%m-%d %H:%M} UTC ({instant:%Y-%m-%d %H:%M} UTC)")


def chosen(result: Chosen | NoneQualifies) -> Chosen:
    assert isinstance(result, Chosen), result
    return result


def refused(result: Chosen | NoneQualifies) -> str:
    assert isinstance(result, NoneQualifies), result
    return result.reason


def test_the_newest_ready_backup_whatever_the_listing_order() -> None:
    backups = [
        Listed("old", created_at=at(-48)),
        Listed("newest-not-ready", status="Initializing", created_at=at(1)),
        Listed("newest-ready", created_at=at(0), name="nightly"),
        Listed("middle", created_at=at(-24)),
    ]
    for _ in range(5):
        random.shuffle(backups)
        result = chosen(choose_backup(backups, source_index="prod-search", moment=None))
        assert result.backup.backup_id == "newest-ready"
        assert result.taken_at == NOON
        assert result.why == "newest Ready backup of prod-search"


def test_before_a_moment_is_strictly_before() -> None:
    backups = [Listed("at-the-moment", created_at=at(2)), Listed("just-before", created_at=at(1.99))]
    result = chosen(choose_backup(backups, source_index="prod-search", moment=moment(2)))
    assert result.backup.backup_id == "just-before"
    assert result.before_moment == timedelta(hours=0.01)
    assert result.why.startswith("newest Ready backup of prod-search before 2026-11-30 14:00 UTC")


def test_a_backup_without_a_creation_time_never_qualifies() -> None:
    backups = [Listed("undated"), Listed("dated", created_at=at(-5))]
    assert chosen(choose_backup(backups, source_index="prod-search", moment=None)).backup.backup_id == "dated"
    assert chosen(choose_backup(backups, source_index="prod-search", moment=moment(0))).backup.backup_id == "dated"
    reason = refused(choose_backup([Listed("undated")], source_index="prod-search", moment=None))
    assert "no creation time" in reason and "`undated`" in reason and "by its ID" in reason


def test_pages_that_overlap_count_each_backup_once() -> None:
    backup = Listed("only", created_at=at(0))
    assert chosen(choose_backup([backup, backup], source_index="prod-search", moment=None)).backup == backup


def test_no_backups_at_all() -> None:
    assert "`prod-search` has no backups" in refused(choose_backup([], source_index="prod-search", moment=None))


def test_no_index_by_that_name_ever_existed() -> None:
    reason = refused(choose_backup([], source_index="prod-serch", moment=None, index_ever_existed=False))
    assert "No index named `prod-serch` has ever existed" in reason


def test_none_ready_lists_what_there_is_with_its_status() -> None:
    backups = [
        Listed("b1", status="Initializing", created_at=at(0), name="nightly"),
        Listed("b2", status="InitializationFailed", created_at=at(-24)),
    ]
    reason = refused(choose_backup(backups, source_index="prod-search", moment=None))
    assert reason.startswith("None of the backups of `prod-search` is Ready: ")
    assert "`b1` (nightly) is Initializing, taken 2026-11-30 12:00 UTC" in reason
    assert "`b2` is InitializationFailed, taken 2026-11-29 12:00 UTC" in reason


def test_none_ready_counts_beyond_the_first_five() -> None:
    backups = [Listed(f"b{i}", status="Initializing", created_at=at(-i)) for i in range(8)]
    reason = refused(choose_backup(backups, source_index="prod-search", moment=None))
    assert "`b0`" in reason and "`b4`" in reason and "`b5`" not in reason and "and 3 more" in reason


def test_none_before_the_moment_names_the_oldest_ready_one() -> None:
    backups = [
        Listed("newer", created_at=at(10)),
        Listed("oldest", created_at=at(3), name="first"),
        Listed("failed-earlier", status="InitializationFailed", created_at=at(-1)),
    ]
    reason = refused(choose_backup(backups, source_index="prod-search", moment=moment(0)))
    assert "No Ready backup of `prod-search` was taken before 2026-11-30 12:00 UTC" in reason
    assert "The oldest Ready one is `oldest` (first), taken 2026-11-30 15:00 UTC." in reason
    assert "1 backup taken before then is not Ready: `failed-earlier` is InitializationFailed" in reason


def test_a_deleted_source_index_still_has_its_backups() -> None:
    backups = [Listed("kept", created_at=at(-1), source_index_deleted_at=at(0.5))]
    result = chosen(choose_backup(backups, source_index="prod-search", moment=None))
    assert result.backup.backup_id == "kept"
    assert "that prod-search was deleted 2026-11-30 12:30 UTC, its backups outlive it" in result.why


def test_backups_left_out_are_said() -> None:
    result = chosen(choose_backup([Listed("a", created_at=at(0))], source_index="x", moment=None, unreadable=2))
    assert "2 listed backups could not be read and were left out" in result.why


def test_pinecone_text_cannot_break_out_of_the_sentence() -> None:
    backups = [Listed("b`1", status="<!channel>", created_at=at(0), name="n`<@U1>")]
    reason = refused(choose_backup(backups, source_index="prod-search", moment=None))
    assert "<" not in reason and ">" not in reason and "b'1" in reason


def test_ages_read_as_people_say_them() -> None:
    assert [age_text(timedelta(seconds=s)) for s in (40, 720, 3600 * 5 + 120, 86400 * 3 + 3600 * 4, 86400)] == [
        "40s",
        "12m",
        "5h 02m",
        "3d 4h",
        "1d",
    ]


def test_creation_times_are_read_in_utc() -> None:
    assert taken_at(Listed("a", created_at="2026-11-30T13:00:00+01:00")) == NOON
    assert taken_at(Listed("a", created_at="2026-11-30T12:00:00")) == NOON
    assert taken_at(Listed("a", created_at="yesterday")) is None


statuses = st.sampled_from(["Ready", "Ready", "Initializing", "InitializationFailed"])
offsets = st.one_of(st.none(), st.integers(min_value=-500, max_value=500))
listings = st.lists(st.tuples(statuses, offsets), max_size=30)


@settings(max_examples=300, deadline=None)
@given(listings, st.one_of(st.none(), st.integers(min_value=-500, max_value=500)), st.randoms())
def test_the_choice_is_the_newest_qualifying_backup_in_any_order(
    listing: list[tuple[str, int | None]], before: int | None, shuffler: random.Random
) -> None:
    backups = [
        Listed(f"b{i:03d}", status=status, created_at=None if offset is None else at(offset))
        for i, (status, offset) in enumerate(listing)
    ]
    limit = None if before is None else moment(before)
    qualifying = [b for b in backups if b.ready and (w := taken_at(b)) is not None and (limit is None or w < limit.at)]
    shuffled = backups + backups[: len(backups) // 2]
    shuffler.shuffle(shuffled)
    result = choose_backup(shuffled, source_index="prod-search", moment=limit)
    if not qualifying:
        assert isinstance(result, NoneQualifies) and result.reason
        return
    assert isinstance(result, Chosen)
    newest = max(qualifying, key=lambda b: (taken_at(b), b.backup_id))
    assert result.backup == newest
