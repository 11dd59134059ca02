"""Several bot processes on one store, in the use-case tier: each part as a second process would run it, on the
same store (SQLite here; the store tests show PostgreSQL behaves alike).

* A job a request is driving is leased to its process: the tracker leaves it alone until the lease runs out
  (the fake clock moves it), then takes it up by reconciling, never with a blind second create-index.
* A process whose lease was taken over does not send create-index.
* Two senders never post the same parent or notice; an ex-leader's sender posts nothing.
* A request waiting to link its thread sees a parent posted by a sender in another process.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.core.jobs import Job, JobState, NewJob, Notice, NoticeKind
from bot.core.outcomes import Pending
from bot.service.delivery import SlackDelivery
from bot.service.leases import DEFAULT_LEASE
from bot.service.restores import create_index_body
from bot.slack.pacing import SlackPacing
from bot.slack.publisher import SlackPublisher
from bot.slack.web_client import web_client
from storage.base import JobStore
from tests.fakes.fixtures import SLACK_BOT_TOKEN
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.workspace import CHANNEL, INCIDENT_CHANNEL, USER
from tests.service.rig import Rig, texts_with

DEAD = "host-b:4242:dead01"


def another_sender(rig: Rig, store: JobStore | None = None) -> SlackDelivery:
    """The Slack sender as another bot process runs it: its own Slack client, pacing and memory."""
    publisher = SlackPublisher(web_client(SLACK_BOT_TOKEN, rig.slack.api_url))
    return SlackDelivery(
        store or rig.store,
        publisher,
        INCIDENT_CHANNEL,
        clock=rig.clock,
        pacing=SlackPacing(clock=rig.clock.monotonic),
    )


def new_job(backup_id: str, name: str = "restored-index") -> NewJob:
    return NewJob(backup_id=backup_id, index_name=name, requester_id=USER, channel_id=CHANNEL)


# -- leases ----------------------------------------------------------------------------------------------


async def test_a_job_a_dead_process_was_submitting_is_taken_up_when_its_lease_runs_out_by_reconciling(
    rig: Rig, pinecone: PineconeEmulator
) -> None:
    backup = pinecone.add_backup()
    # Another process recorded the request, marked create-index as sent, sent it, and died before the answer.
    job = await rig.store.create(
        new_job(backup["backup_id"]), driver_id=DEAD, driver_until=rig.clock() + timedelta(seconds=DEFAULT_LEASE)
    )
    await rig.store.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING)
    await rig.store.mark_submitted(job.id, DEAD, at=rig.clock())
    body = create_index_body(
        job.index_name, {}, deletion_protection=False, requester_id=USER, backup_id=backup["backup_id"]
    )
    await rig.pinecone.create_index_from_backup(backup["backup_id"], body)
    calls_before = len(pinecone.requests)

    await rig.tracker.cycle()
    assert (await rig.job(job.id)).state is JobState.SUBMITTING, "leased: left alone"
    assert len(pinecone.requests) == calls_before, "not even a look at Pinecone for it"

    rig.clock.advance(DEFAULT_LEASE + 1)
    await rig.tracker.cycle()
    taken = await rig.job(job.id)
    [restore_job] = pinecone.restore_jobs()
    assert taken.state is JobState.RESTORING and taken.restore_job_id == restore_job["restore_job_id"]
    assert len(pinecone.create_index_calls) == 1, "reconciled, never sent again"
    assert taken.driver_id is None, "released once the tracker took it to Pinecone"


async def test_a_process_whose_lease_was_taken_over_does_not_send_create_index(
    rig: Rig, pinecone: PineconeEmulator
) -> None:
    backup = pinecone.add_backup()
    job = await rig.recorded(backup["backup_id"], "restored-index")
    async with rig.restores.driving(job.id) as mine:
        assert mine
        job = await rig.store.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING)
        # This process stalls longer than a lease (no renewal); the leader's tracker claims the job meanwhile.
        rig.clock.advance(DEFAULT_LEASE + 1)
        later = rig.clock()
        assert await rig.store.claim_lease(job.id, DEAD, until=later + timedelta(seconds=10), now=later) is not None
        outcome = await rig.restores.advance(job, tell_requester=False)
    assert isinstance(outcome, Pending), outcome
    assert pinecone.create_index_calls == []
    assert (await rig.job(job.id)).driver_id == DEAD, "its release left the new driver's lease alone"


async def test_a_long_drive_keeps_its_lease_by_renewing_it(rig: Rig, pinecone: PineconeEmulator) -> None:
    backup = pinecone.add_backup()
    job = await rig.recorded(backup["backup_id"], "restored-index")
    async with rig.restores.driving(job.id):
        for _ in range(3):
            rig.clock.advance(DEFAULT_LEASE * 0.6)
            await rig.restores.leases.renew()
        await rig.tracker.cycle()  # 1.8 leases later
        assert (await rig.job(job.id)).state is JobState.REQUESTED
        assert pinecone.calls("GET", "/backups/*") == [], "the tracker left it to its driver"
    await rig.tracker.cycle()
    assert (await rig.job(job.id)).state is JobState.RESTORING, "released: the tracker takes it up"


async def test_approving_leases_the_job_to_the_approving_process(rig: Rig, pinecone: PineconeEmulator) -> None:
    backup = pinecone.add_backup()
    job = await rig.store.create(
        new_job(backup["backup_id"]), state=JobState.AWAITING_APPROVAL, approvers=("U0BOB0001",)
    )
    approved = await rig.restores.approve(job.id, approver_id="U0BOB0001", reason=None)
    assert isinstance(approved, Job) and approved.state is JobState.REQUESTED
    assert approved.driver_id == rig.restores.leases.driver
    await rig.tracker.cycle()
    assert pinecone.calls("GET", "/backups/*") == [], "the approving process drives it, not the tracker"
    await rig.restores.run_approved(approved)
    done = await rig.job(job.id)
    assert done.state is JobState.RESTORING and done.driver_id is None
    assert len(pinecone.create_index_calls) == 1


# -- the sender --------------------------------------------------------------------------------------------


async def test_two_senders_never_post_the_same_parent_or_notice(rig: Rig, pinecone: PineconeEmulator) -> None:
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    other = another_sender(rig)

    await asyncio.gather(rig.delivery.deliver(job.id), other.deliver(job.id))
    await asyncio.gather(rig.delivery.deliver(job.id), other.deliver(job.id))  # the one that yielded sends the rest
    [parent] = rig.parents()
    job = await rig.job(job.id)
    assert len(texts_with(rig.thread(job), "Pinecone accepted")) == 1

    await rig.store.update(job.id, notices=(Notice(kind=NoticeKind.OUTAGE, detail=rig.clock().isoformat()),))
    await asyncio.gather(rig.delivery.deliver(job.id), other.deliver(job.id))
    assert len(texts_with(rig.thread(job), "has not answered since")) == 1
    assert [p["ts"] for p in rig.parents()] == [parent["ts"]]
    assert await rig.pending_notices(job.id) == []


async def test_an_ex_leaders_sender_posts_nothing(rig: Rig, pinecone: PineconeEmulator) -> None:
    backup = pinecone.add_backup()
    first = rig.store.coordination("replica-a")
    old = await first.try_lead()
    ex_leader = another_sender(rig, rig.store.fenced(lambda: old))
    await first.resign()
    second = rig.store.coordination("replica-b")
    new = await second.try_lead()
    leader = another_sender(rig, rig.store.fenced(lambda: new))
    job = await rig.restoring(backup["backup_id"])

    await ex_leader.deliver_due()
    assert rig.posts() == [], "its claims are refused under the old epoch"
    await leader.deliver_due()
    [parent] = rig.parents()
    assert texts_with(rig.thread(await rig.job(job.id)), "Pinecone accepted")
    assert parent["ts"] == (await rig.job(job.id)).message_ts


async def test_a_request_waiting_for_its_thread_sees_a_parent_posted_by_another_process(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    elsewhere = another_sender(rig)
    stopping = asyncio.Event()
    sender = asyncio.create_task(elsewhere.run(stopping))
    try:
        # This process's own sender does not run (it stands by): only the other one posts.
        threaded = await rig.delivery.wait_for_thread(job.id, 10.0)
    finally:
        stopping.set()
        await sender
    assert threaded is not None and threaded.message_ts == rig.parents()[0]["ts"]
