"""Tracker cycles, one at a time: a restore Pending to Ready (check-ins, verification), a failed restore, a timeout,
a Pinecone outage and its back-off.

Each cycle is one `Tracker.cycle()` call; Slack hears of it when the test calls `deliver_due()`. The
restore moves with the emulator's clock, the bot's check-ins and deadlines with the fake clock; `timeline`
moves both together.
"""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.jobs import JobState, NoticeKind, check_in_after
from bot.core.outcomes import Started
from bot.core.render import duration
from bot.service.restore_listing import MISSED_SWEEPS
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.workspace import CHANNEL, USER
from tests.service.rig import (
    POLL_INTERVAL,
    RESTORE_SECONDS,
    VERIFY_TIMEOUT,
    RestoreTimeline,
    Rig,
    build_rig,
    texts_with,
)

#: Seconds a restored index takes to count all its records after it is Ready, in the tests that watch it verify.
COUNT_LAG = 60.0


def polls(pinecone: PineconeEmulator) -> int:
    """Requests the tracker made to list restore jobs."""
    return len(pinecone.calls("GET", "/restore-jobs"))


async def test_a_restore_reaches_ready_with_check_ins_redraws_and_its_verification(
    rig: Rig, pinecone: PineconeEmulator, timeline: RestoreTimeline
) -> None:
    # Pinecone counts the new index's records for a minute after it is Ready: longer than the real time the
    # test takes, so the first count falls short whatever the machine's load.
    pinecone.realism = replace(pinecone.realism, count_lag=COUNT_LAG)
    backup = pinecone.add_backup(record_count=120_000, dimension=1536, metric="cosine")
    outcome = await rig.submit(backup["backup_id"], "restored-index")
    assert isinstance(outcome, Started) and outcome.thread_link is not None, outcome
    assert f"/archives/{CHANNEL}/p" in outcome.thread_link
    job = await rig.only_job()
    assert job.state is JobState.RESTORING and len(rig.parents()) == 1
    assert texts_with(rig.thread(job), "Pinecone accepted") and rig.updates_of(job) == []

    timeline.to(10 * 60)
    await rig.tracker.cycle()
    job = await rig.job(job.id)
    assert job.pinecone_status == "Pending" and job.check_ins == 0 and not job.parent_dirty, job
    await rig.delivery.deliver_due()
    assert rig.updates_of(job) == [] and len(rig.thread(job)) == 1, "ten minutes in, nothing to say"

    for number, after in ((1, "30m 00s"), (2, "1h 00m")):
        timeline.to(check_in_after(number))
        await rig.tracker.cycle()
        job = await rig.job(job.id)
        assert job.check_ins == number and job.parent_dirty and job.percent_complete is None, job
        await rig.delivery.deliver_due()
        [said] = texts_with(rig.thread(job), f"still restoring after {after}")
        assert "(Pinecone: `Pending`)" in said and "an estimate" in said and "%" not in said, said
        parent = repr(rig.updates_of(job)[-1]["blocks"])
        # The elapsed time the parent shows runs to the store's stamp of the change, which is on the real
        # clock in this tier (the store stamps it itself): that it is shown is checked here, not its value.
        assert re.search(r"Pinecone reports `Pending`, running \d+(s|m \d\ds|h \d\dm) as of", parent), parent
        assert "%" not in parent, "no percent Pinecone did not report"
    assert len(rig.updates_of(job)) == 2, "the parent is redrawn at each check-in, once"

    timeline.to(90 * 60)
    await rig.tracker.cycle()
    await rig.delivery.deliver_due()
    assert len(texts_with(rig.thread(job), "still restoring")) == 2, "the next check-in is at 2 h, not 1 h 30"
    assert len(rig.updates_of(job)) == 2

    timeline.ready()
    await rig.tracker.cycle()
    job = await rig.job(job.id)
    index = pinecone.index("restored-index")
    assert index is not None and index["status"]["ready"]
    assert job.state is JobState.RESTORING and job.verify_since == rig.clock(), "verifying, not ready yet"
    assert job.host == index["host"] and job.verified is None
    assert job.verification == "dimension 1,536 ✓ · metric cosine ✓", "dimension and metric are compared at once"
    counts = len(pinecone.calls("POST", "/data/*/describe_index_stats"))
    assert counts == 1
    await rig.delivery.deliver_due()
    assert "Verifying" in rig.parent_text(job) and "re-checking its record count" in rig.parent_text(job)
    assert len(rig.updates_of(job)) == 3 and texts_with(rig.thread(job), "is ready") == []

    await rig.tracker.cycle()
    assert len(pinecone.calls("POST", "/data/*/describe_index_stats")) == counts, "not re-counted before its back-off"
    timeline.elapse(2 * POLL_INTERVAL)  # past the first back-off; Pinecone is still counting
    await rig.tracker.cycle()
    assert len(pinecone.calls("POST", "/data/*/describe_index_stats")) == counts + 1
    job = await rig.job(job.id)
    assert job.state is JobState.RESTORING and job.verify_since is not None, "still short: still verifying"

    timeline.complete()  # the count lag has passed, and the longer second back-off
    await rig.tracker.cycle()
    job = await rig.job(job.id)
    assert len(pinecone.calls("POST", "/data/*/describe_index_stats")) == counts + 2
    assert job.state is JobState.READY and job.percent_complete == 100.0 and job.pinecone_status == "Completed"
    assert job.verified is True and job.verification is not None
    for fact in ("dimension 1,536 ✓", "metric cosine ✓", "records 120,000 ✓"):
        assert fact in job.verification, job.verification

    await rig.delivery.deliver_due()
    [ready] = texts_with(rig.thread(job), "is ready")
    assert f"<@{USER}>" in ready and index["host"] in ready and "records 120,000 ✓" in ready
    assert "re-checked for" in ready, ready
    assert "Ready" in rig.parent_text(job) and len(rig.updates_of(job)) == 4
    assert len(rig.parents()) == 1 and rig.incident_notices() == []
    assert await rig.pending_notices(job.id) == []

    listed = polls(pinecone)
    await rig.tracker.cycle()
    assert polls(pinecone) == listed, "a finished restore is not polled again"
    assert len(pinecone.create_index_calls) == 1


async def test_the_ready_reply_says_how_long_the_record_count_was_re_checked(
    rig: Rig, pinecone: PineconeEmulator, timeline: RestoreTimeline
) -> None:
    pinecone.realism = replace(pinecone.realism, count_lag=COUNT_LAG)  # as above: the first count falls short
    backup = pinecone.add_backup(record_count=120_000)
    job = await rig.restoring(backup["backup_id"])
    timeline.ready()
    await rig.tracker.cycle()
    assert (await rig.job(job.id)).verify_since is not None
    timeline.complete()  # a minute later on both clocks, the count matches
    await rig.tracker.cycle()
    await rig.delivery.deliver_due()
    job = await rig.job(job.id)
    assert job.state is JobState.READY and job.verified is True
    [ready] = texts_with(rig.thread(job), "is ready")
    assert f"re-checked for {duration(COUNT_LAG)}" in ready, ready


async def test_a_failed_restore_job_is_said_in_the_thread_and_the_incident_channel(
    rig: Rig, pinecone: PineconeEmulator, timeline: RestoreTimeline
) -> None:
    backup = pinecone.add_backup()
    pinecone.fail_restore(backup["backup_id"], at_percent=40.0)
    job = await rig.restoring(backup["backup_id"])
    await rig.delivery.deliver_due()

    timeline.to(RESTORE_SECONDS / 2)
    await rig.tracker.cycle()
    job = await rig.job(job.id)
    assert job.state is JobState.FAILED and job.reason == "Pinecone reports the restore job as Failed"
    assert [n.kind for n in await rig.pending_notices(job.id)] == [NoticeKind.FINISHED, NoticeKind.INCIDENT]

    await rig.delivery.deliver_due()
    [failed] = texts_with(rig.thread(job), "failed")
    assert f"<@{USER}>" in failed and "Failed" in failed
    [incident] = rig.incident_notices()
    assert "restored-index" in incident and "failed" in incident and f"<@{USER}>" in incident
    assert job.message_ts is not None
    assert f"/archives/{CHANNEL}/p{job.message_ts.replace('.', '')}" in incident, "the notice links to the thread"
    assert "Failed" in rig.parent_text(job)
    assert texts_with(rig.thread(job), "still restoring") == [], "found failed, so not said to be still running"


async def test_a_completed_restore_whose_index_was_deleted_fails_then_not_at_its_timeout(
    rig: Rig, pinecone: PineconeEmulator, timeline: RestoreTimeline
) -> None:
    """Pinecone still describes the Completed restore job, but the index is gone: the restore did not leave
    an index, and saying so beats "Restoring" until the timeout and then "Pinecone may still finish it"."""
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    timeline.to(RESTORE_SECONDS + 1)
    pinecone.remove_index("restored-index")
    timeline.elapse(180)
    for _ in range(MISSED_SWEEPS + 1):  # listings leave the job out now; it is described once missed that often
        await rig.tracker.cycle()
        timeline.elapse(POLL_INTERVAL)
    job = await rig.job(job.id)
    assert job.state is JobState.FAILED
    assert job.reason == "the restore job completed, but index restored-index no longer exists (deleted since)"
    assert NoticeKind.INCIDENT in [n.kind for n in await rig.pending_notices(job.id)]


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/backups/*"), ("POST", "/data/*/describe_index_stats")],
    ids=["the backup's facts", "the new host's count"],
)
async def test_a_ready_index_whose_facts_cannot_be_read_yet_is_verified_later_not_called_unverified(
    rig: Rig, pinecone: PineconeEmulator, timeline: RestoreTimeline, method: str, path: str
) -> None:
    """Right after Ready, Pinecone may fail the comparison's reads: they get the patience a lagging count gets."""
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    timeline.to(RESTORE_SECONDS + 1)
    fault = pinecone.inject(method, path, status=503, times=100)
    await rig.tracker.cycle()
    job = await rig.job(job.id)
    assert fault.hits > 0
    assert job.state is JobState.RESTORING and job.verified is None, "not said to be ready unverified at once"

    pinecone.clear_faults()
    timeline.elapse(POLL_INTERVAL * 2)
    await rig.tracker.cycle()
    job = await rig.job(job.id)
    assert job.state is JobState.READY and job.verified is True, job.verification


async def test_a_ready_index_whose_facts_stay_unreadable_is_ready_unverified_once_its_patience_is_spent(
    rig: Rig, pinecone: PineconeEmulator, timeline: RestoreTimeline
) -> None:
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    timeline.to(RESTORE_SECONDS + 1)
    pinecone.inject("GET", f"/backups/{backup['backup_id']}", status=503, times=10_000)
    ready_at = rig.clock.monotonic()
    for _ in range(40):
        await rig.tracker.cycle()
        job = await rig.job(job.id)
        if job.state is not JobState.RESTORING:
            break
        timeline.elapse(60)
    assert job.state is JobState.READY and job.reason is None
    assert "not verified: Pinecone did not answer" in str(job.verification), job.verification
    assert rig.clock.monotonic() - ready_at >= VERIFY_TIMEOUT, "only once the window has passed"


async def test_a_restore_not_ready_within_the_timeout_is_timed_out(
    pinecone: PineconeEmulator, slack: SlackStandIn, database: Path
) -> None:
    backup = pinecone.add_backup()
    async with build_rig(pinecone, slack, database, restore_timeout=60) as rig:
        job = await rig.restoring(backup["backup_id"])
        rig.clock.advance(59)
        await rig.tracker.cycle()
        assert (await rig.job(job.id)).state is JobState.RESTORING, "59 s is within the limit"

        rig.clock.advance(2)
        listed = polls(pinecone)
        await rig.tracker.cycle()
        job = await rig.job(job.id)
        assert job.state is JobState.TIMED_OUT and "RESTORE_BOT_RESTORE_TIMEOUT" in (job.reason or "")
        assert polls(pinecone) == listed, "a restore past its deadline is timed out without asking Pinecone"

        await rig.delivery.deliver_due()
        job = await rig.job(job.id)
        [timed_out] = texts_with(rig.thread(job), "timed out")
        assert f"<@{USER}>" in timed_out and "RESTORE_BOT_RESTORE_TIMEOUT" in timed_out
        [incident] = rig.incident_notices()
        assert "timed out" in incident and "restored-index" in incident
        assert "Timed out" in rig.parent_text(job)


async def test_three_failed_polls_are_announced_once_and_the_recovery_once(
    rig: Rig, pinecone: PineconeEmulator, timeline: RestoreTimeline
) -> None:
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    await rig.delivery.deliver_due()
    pinecone.inject("GET", "/restore-jobs", status=503, times=3)
    before = polls(pinecone)

    for failures in (1, 2, 3):
        await rig.tracker.cycle()
        assert polls(pinecone) == before + failures, "one poll a cycle"
        job = await rig.job(job.id)
        assert job.state is JobState.RESTORING and job.outage_since is not None
        assert job.outage_announced is (failures == 3)
        rig.clock.advance(POLL_INTERVAL * 2**failures)  # the longest back-off after that many failures
        await rig.delivery.deliver_due()
    assert len(texts_with(rig.thread(job), "has not answered since")) == 1

    timeline.to(check_in_after(1))  # Pinecone answers again half an hour in: time for the first check-in
    await rig.tracker.cycle()
    job = await rig.job(job.id)
    assert job.outage_since is None and not job.outage_announced and job.check_ins == 1
    await rig.delivery.deliver_due()
    await rig.tracker.cycle()
    await rig.delivery.deliver_due()

    thread = rig.thread(job)
    [outage] = texts_with(thread, "has not answered since")
    [recovered] = texts_with(thread, "answering again")
    [still] = texts_with(thread, "still restoring")
    assert thread.index(outage) < thread.index(recovered) < thread.index(still)
    assert job.state is JobState.RESTORING


@pytest.mark.parametrize(
    ("status", "said"),
    [
        (401, "rejects the bot's API key"),
        (403, "denies the bot's API key permission"),
    ],
)
async def test_a_refused_poll_is_said_at_once_for_what_it_is_and_its_end_once(
    rig: Rig, pinecone: PineconeEmulator, status: int, said: str
) -> None:
    """A rejected key or a missing permission will not mend itself: the thread hears it after the first poll,
    not three polls later as "Pinecone has not answered"; once, however many polls it lasts."""
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    await rig.delivery.deliver_due()
    pinecone.inject("GET", "/restore-jobs", status=status, times=2)

    await rig.tracker.cycle()
    job = await rig.job(job.id)
    assert job.state is JobState.RESTORING and job.outage_announced
    rig.clock.advance(POLL_INTERVAL * 2)
    await rig.tracker.cycle()
    rig.clock.advance(POLL_INTERVAL * 4)
    await rig.tracker.cycle()
    await rig.delivery.deliver_due()

    thread = rig.thread(job)
    [refused] = texts_with(thread, said)
    assert "not affected" in refused and "has not answered" not in " ".join(thread)
    [recovered] = texts_with(thread, "answering again")
    assert thread.index(refused) < thread.index(recovered)
    job = await rig.job(job.id)
    assert job.outage_since is None and not job.outage_announced and job.state is JobState.RESTORING


async def test_two_failed_polls_are_not_announced(rig: Rig, pinecone: PineconeEmulator) -> None:
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    pinecone.inject("GET", "/restore-jobs", status=503, times=2)
    for failures in (1, 2):
        await rig.tracker.cycle()
        rig.clock.advance(POLL_INTERVAL * 2**failures)
    await rig.tracker.cycle()
    await rig.delivery.deliver_due()
    job = await rig.job(job.id)
    assert job.outage_since is None and not job.outage_announced
    assert texts_with(rig.thread(job), "has not answered") == texts_with(rig.thread(job), "answering again") == []


async def test_a_failed_poll_backs_off_on_the_monotonic_clock(rig: Rig, pinecone: PineconeEmulator) -> None:
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    pinecone.inject("GET", "/restore-jobs", status=503, times=2)
    before = polls(pinecone)

    await rig.tracker.cycle()
    assert polls(pinecone) == before + 1
    # After one failure the next poll waits between 1 and 2 poll intervals (jittered).
    await rig.tracker.cycle()
    rig.clock.advance(0.99 * POLL_INTERVAL)
    await rig.tracker.cycle()
    assert polls(pinecone) == before + 1, "no poll while backing off"
    rig.clock.advance(1.02 * POLL_INTERVAL)
    await rig.tracker.cycle()
    assert polls(pinecone) == before + 2, "polled again once the back-off passed"

    # After two failures, between 2 and 4 intervals.
    rig.clock.advance(1.99 * POLL_INTERVAL)
    await rig.tracker.cycle()
    assert polls(pinecone) == before + 2
    rig.clock.advance(2.02 * POLL_INTERVAL)
    await rig.tracker.cycle()
    assert polls(pinecone) == before + 3
    job = await rig.job(job.id)
    assert job.outage_since is None, "the third poll was answered"

    await rig.tracker.cycle()
    assert polls(pinecone) == before + 4, "answered polls are not backed off"


async def test_a_retry_after_longer_than_the_back_off_is_honoured(rig: Rig, pinecone: PineconeEmulator) -> None:
    backup = pinecone.add_backup()
    await rig.restoring(backup["backup_id"])
    pinecone.inject("GET", "/restore-jobs", status=429, retry_after=30)
    before = polls(pinecone)
    await rig.tracker.cycle()
    rig.clock.advance(29.9)
    await rig.tracker.cycle()
    assert polls(pinecone) == before + 1, "Pinecone asked for 30 s"
    rig.clock.advance(0.2)
    await rig.tracker.cycle()
    assert polls(pinecone) == before + 2
