"""A create-index whose answer is lost is reconciled against Pinecone's restore jobs, never blindly repeated.

The emulator applies the request and then fails the answer (a 500, or an answer slower than the bot's
timeout): the bot must find the restore by listing, track it, and never send a second create-index.
"""

from __future__ import annotations

from pathlib import Path

import httpx

from bot.core.jobs import JobState
from bot.core.outcomes import Started
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.service.rig import RestoreTimeline, Rig, build_rig, texts_with


def listed_after_create(pinecone: PineconeEmulator) -> bool:
    """Whether restore jobs were listed after the (first) create-index call arrived."""
    [create] = pinecone.create_index_calls
    return any(call.time > create.time for call in pinecone.calls("GET", "/restore-jobs"))


async def test_a_create_index_answered_500_after_pinecone_applied_it_is_found_and_tracked(
    rig: Rig, pinecone: PineconeEmulator, timeline: RestoreTimeline
) -> None:
    backup = pinecone.add_backup()
    pinecone.inject("POST", "/backups/*/create-index", status=500, then_process=True)

    outcome = await rig.submit(backup["backup_id"], "restored-index")

    assert isinstance(outcome, Started), outcome
    [create] = pinecone.create_index_calls
    assert create.status == 500 and listed_after_create(pinecone)
    [restore_job] = pinecone.restore_jobs()
    job = await rig.only_job()
    assert job.state is JobState.RESTORING and job.restore_job_id == restore_job["restore_job_id"]
    assert job.index_id == restore_job["target_index_id"]
    assert rig.sleeps == [1.0], "one wait before looking"

    timeline.complete()
    await rig.tracker.cycle()
    await rig.delivery.deliver_due()
    job = await rig.job(job.id)
    assert job.state is JobState.READY and texts_with(rig.thread(job), "is ready")
    assert len(pinecone.create_index_calls) == 1 and len(pinecone.indexes()) == 1


async def test_a_create_index_that_timed_out_after_pinecone_applied_it_is_found_and_tracked(
    pinecone: PineconeEmulator, slack: SlackStandIn, database: Path
) -> None:
    backup = pinecone.add_backup()
    # Applied at once, answered long after the bot stopped waiting (its read timeout is 0.3 s).
    pinecone.inject("POST", "/backups/*/create-index", status=503, then_process=True, delay=1.0)
    timeout = httpx.Timeout(10.0, read=0.3)
    async with build_rig(pinecone, slack, database, pinecone_timeout=timeout) as rig:
        outcome = await rig.submit(backup["backup_id"], "restored-index")

        assert isinstance(outcome, Started), outcome
        [create] = pinecone.create_index_calls
        assert create.status is None, "the bot went on before Pinecone answered"
        assert listed_after_create(pinecone)
        [restore_job] = pinecone.restore_jobs()
        job = await rig.only_job()
        assert job.state is JobState.RESTORING and job.restore_job_id == restore_job["restore_job_id"]

        await rig.tracker.cycle()
        job = await rig.job(job.id)
        assert job.state is JobState.RESTORING and job.outage_since is None, "tracked like any restore"
        await pinecone.wait_for(lambda: create.status is not None)  # the late answer, for a clean shutdown
        assert len(pinecone.create_index_calls) == 1


async def test_a_request_left_submitting_by_a_crash_is_reconciled_by_the_tracker(
    rig: Rig, pinecone: PineconeEmulator
) -> None:
    backup = pinecone.add_backup()
    job = await rig.recorded(backup["backup_id"], "restored-index")
    # The bot had sent create-index and died before the answer; Pinecone had taken it.
    job = await rig.store.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING, submitted_at=rig.clock())
    started = pinecone.start_restore(backup["backup_id"], "restored-index")

    await rig.tracker.cycle()

    job = await rig.job(job.id)
    assert job.state is JobState.RESTORING and job.restore_job_id == started["restore_job_id"]
    assert pinecone.create_index_calls == [], "found by listing, not created again"
    await rig.delivery.deliver_due()
    job = await rig.job(job.id)
    assert len(rig.parents()) == 1 and texts_with(rig.thread(job), "Pinecone accepted")


async def test_a_request_left_submitting_that_pinecone_never_got_is_sent_once(
    rig: Rig, pinecone: PineconeEmulator
) -> None:
    backup = pinecone.add_backup()
    job = await rig.recorded(backup["backup_id"], "restored-index")
    job = await rig.store.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING, submitted_at=rig.clock())

    await rig.tracker.cycle()

    job = await rig.job(job.id)
    assert job.state is JobState.RESTORING
    [create] = pinecone.create_index_calls
    assert any(call.time < create.time for call in pinecone.calls("GET", "/restore-jobs")), "looked first"
    assert len(pinecone.restore_jobs()) == 1


async def test_another_restore_into_the_same_name_is_not_taken_for_ours(rig: Rig, pinecone: PineconeEmulator) -> None:
    ours, theirs = pinecone.add_backup(), pinecone.add_backup()
    job = await rig.recorded(ours["backup_id"], "restored-index")
    pinecone.start_restore(theirs["backup_id"], "restored-index")  # someone else's, from another backup

    assert await rig.restores.reconcile(job) is None
    pinecone.start_restore(ours["backup_id"], "other-index")
    assert await rig.restores.reconcile(job) is None, "ours, but into another name"
