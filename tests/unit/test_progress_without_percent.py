"""While Pinecone reports a restore as Pending (no percent), the bot says what it knows: check-ins at growing
intervals, an estimate from Pinecone's published restore times (labelled as one), and never a percent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core import render
from bot.core.estimate import LARGE_SECONDS, SMALL_SECONDS, restore_estimate
from bot.core.jobs import Job, JobState, check_in_after, check_ins_reached, next_check_in
from bot.core.verification import recheck_delay

T0 = datetime(2026, 11, 24, 14, 2, tzinfo=UTC)


def job(**changes: Any) -> Job:
    base = Job(
        id="job-1",
        state=JobState.RESTORING,
        backup_id="670e8400-e29b-41d4-a716-446655440000",
        index_name="restored-index",
        requester_id="U0ALICE01",
        channel_id="C0RESTORE1",
        created_at=T0,
        updated_at=T0,
        backup_record_count=50_500_000,
        restore_job_id="rj-1",
        pinecone_status="Pending",
        submitted_at=T0,
    )
    return base.model_copy(update=changes)


def text_of(message: render.Message) -> str:
    return message.text + "\n" + repr(message.blocks)


# -- check-ins -------------------------------------------------------------------------------------


def test_check_ins_come_at_30_minutes_then_double() -> None:
    assert [check_in_after(n) / 60 for n in range(1, 6)] == [30, 60, 120, 240, 480]


@pytest.mark.parametrize(
    ("minutes", "reached"), [(2, 0), (29.9, 0), (30, 1), (59, 1), (60, 2), (150, 3), (300, 4), (480, 5)]
)
def test_check_ins_reached(minutes: float, reached: int) -> None:
    assert check_ins_reached(minutes * 60) == reached


def test_a_two_minute_restore_hears_nothing_and_a_five_hour_one_hears_four_times() -> None:
    said = 0
    heard = []
    for minute in range(0, 5 * 60 + 1):
        due = next_check_in(job(check_ins=said), T0 + timedelta(minutes=minute))
        if due is not None:
            heard.append(minute)
            said = due
    assert heard == [30, 60, 120, 240]
    assert next_check_in(job(), T0 + timedelta(minutes=2)) is None


def test_after_a_long_silence_only_the_latest_check_in_is_said() -> None:
    assert next_check_in(job(check_ins=0), T0 + timedelta(hours=3)) == 3


def test_no_check_in_while_verifying_or_once_finished() -> None:
    later = T0 + timedelta(hours=1)
    assert next_check_in(job(verify_since=T0), later) is None
    assert next_check_in(job(state=JobState.READY, finished_at=later), later) is None


# -- the estimate ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("records", "seconds", "beyond"),
    [
        (0, SMALL_SECONDS, False),
        (999_999, SMALL_SECONDS, False),
        (1_000_000, SMALL_SECONDS, False),
        (50_500_000, (10 + 145) * 60, False),  # half-way between the two published points
        (100_000_000, LARGE_SECONDS, False),
        (250_000_000, LARGE_SECONDS, True),  # nothing published above 100M: "more than 5 hours"
    ],
)
def test_the_estimate_follows_pinecones_published_times(records: int, seconds: float, beyond: bool) -> None:
    estimate = restore_estimate(records)
    assert estimate is not None
    assert estimate.seconds == pytest.approx(seconds) and estimate.beyond_published is beyond


def test_no_estimate_without_a_record_count() -> None:
    assert restore_estimate(None) is None


# -- what the parent, `status` and the thread say --------------------------------------------------


def test_the_parent_shows_pinecones_status_how_long_and_a_labelled_estimate_but_no_percent() -> None:
    text = text_of(render.parent_message(job(updated_at=T0 + timedelta(minutes=65))))
    assert "Pinecone reports `Pending`" in text and "running 1h 05m as of" in text
    assert "about 2h 35m in all for 50,500,000 records" in text and "an estimate" in text
    assert "%" not in text and "░" not in text


def test_status_says_the_same() -> None:
    text = text_of(render.status(job(updated_at=T0 + timedelta(minutes=5)), "restored-index", None))
    assert "Pinecone reports `Pending`" in text and "running 5m 00s" in text and "an estimate" in text
    assert "%" not in text


def test_a_status_pinecone_may_add_later_is_shown_as_it_came() -> None:
    text = text_of(render.parent_message(job(pinecone_status="Throttled <b>")))
    assert "`Throttled &lt;b&gt;`" in text


def test_a_restore_past_its_estimate_says_so_without_giving_up() -> None:
    late = job(backup_record_count=100, updated_at=T0 + timedelta(minutes=45))
    assert "this one is taking longer, and Pinecone may still finish it" in text_of(render.parent_message(late))


def test_the_thread_is_told_what_to_expect_and_checked_in_on_quietly() -> None:
    started = render.thread_started(job()).text
    assert "Pinecone reports no progress" in started and "30m 00s, 1h, 2h, 4h" in started
    assert "%" not in started
    check_in = render.thread_check_in(job(), check_in_after(2)).text
    assert "still restoring after 1h 00m" in check_in and "`Pending`" in check_in and "an estimate" in check_in


def test_a_restore_followed_through_its_index_says_so() -> None:
    assert "Pinecone did not list the restore job" in render.thread_started(job(restore_job_id=None)).text


def test_verifying_is_shown_while_the_count_is_re_checked() -> None:
    verifying = job(verify_since=T0 + timedelta(hours=2))
    text = text_of(render.parent_message(verifying))
    assert "Verifying" in text and "re-checking its record count" in text and "Estimate" not in text
    assert "Verifying" in text_of(render.status(verifying, "restored-index", None))


def test_a_ready_reply_says_how_long_the_count_was_re_checked() -> None:
    ready = job(
        state=JobState.READY,
        verify_since=T0,
        finished_at=T0 + timedelta(seconds=90),
        verification="dimension 1,536 ✓ · metric cosine ✓ · records 120,000 ✓",
        verified=True,
    )
    assert "re-checked for 1m 30s" in render.thread_ready(ready).text


def test_recheck_delays_double_up_to_a_ceiling() -> None:
    assert [recheck_delay(n, first=10, longest=60) for n in range(1, 6)] == [10, 20, 40, 60, 60]
