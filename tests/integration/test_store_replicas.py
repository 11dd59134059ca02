"""What several bot processes need of the job store, on SQLite and PostgreSQL alike: leases on the jobs a request
drives, the claims that make one sender win, de-duplication claimed in the database, writes fenced by the
leadership's epoch, and the coordination (always the leader on SQLite; an advisory lock on PostgreSQL, whose
own tests are at the end).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest

from bot.core.jobs import JobState, NewJob, Notice, NoticeKind, utcnow
from storage import PostgresJobStore, SqliteJobStore, StaleJob, open_store
from storage.base import THREAD, WAKE, JobStore, NotLeader
from storage.postgres.postgres_store import open_postgres_store
from tests.integration.test_postgres_store import until_waiting_on_locks

AnyStore = SqliteJobStore | PostgresJobStore
ME, OTHER = "replica-a", "replica-b"


def new_job(name: str = "restored-index") -> NewJob:
    return NewJob(
        backup_id="670e8400-e29b-41d4-a716-446655440000",
        index_name=name,
        requester_id="U0ALICE01",
        channel_id="C0RESTORE1",
    )


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[JobStore]:
    store = await open_store(database_url)
    yield store
    await store.close()


# -- leases ----------------------------------------------------------------------------------------------


async def test_a_lease_is_claimed_by_one_driver_until_it_runs_out(store: JobStore) -> None:
    now = utcnow()
    job = await store.create(new_job())
    mine = await store.claim_lease(job.id, ME, until=now + timedelta(seconds=10), now=now)
    assert mine is not None and mine.driver_id == ME and mine.driver_until == now + timedelta(seconds=10)
    assert await store.claim_lease(job.id, OTHER, until=now + timedelta(seconds=10), now=now) is None
    assert await store.claim_lease(job.id, ME, until=now + timedelta(seconds=20), now=now) is not None, "again: mine"
    later = now + timedelta(seconds=21)
    theirs = await store.claim_lease(job.id, OTHER, until=later + timedelta(seconds=10), now=later)
    assert theirs is not None and theirs.driver_id == OTHER, "a lease that ran out is anyone's"


async def test_concurrent_claims_of_one_lease_make_one_driver(store: JobStore) -> None:
    now = utcnow()
    job = await store.create(new_job())
    claims = await asyncio.gather(
        *(store.claim_lease(job.id, f"replica-{n}", until=now + timedelta(seconds=10), now=now) for n in range(8))
    )
    winners = [claim for claim in claims if claim is not None]
    assert len(winners) == 1
    assert (await store.get(job.id)).driver_id == winners[0].driver_id  # type: ignore[union-attr]


async def test_a_lease_is_created_with_the_job_renewed_and_released_only_by_its_driver(store: JobStore) -> None:
    now = utcnow()
    job = await store.create(new_job(), driver_id=ME, driver_until=now + timedelta(seconds=5))
    assert await store.claim_lease(job.id, OTHER, until=now + timedelta(seconds=5), now=now) is None
    assert await store.renew_leases(ME, [job.id, "no-such-job"], until=now + timedelta(seconds=60)) == 1
    assert await store.renew_leases(OTHER, [job.id], until=now + timedelta(seconds=600)) == 0
    assert (await store.get(job.id)).driver_until == now + timedelta(seconds=60)  # type: ignore[union-attr]
    await store.release_lease(job.id, OTHER)
    assert (await store.get(job.id)).driver_id == ME  # type: ignore[union-attr]
    await store.release_lease(job.id, ME)
    released = await store.get(job.id)
    assert released is not None and released.driver_id is None and released.driver_until is None


async def test_a_finished_job_has_no_lease_to_claim(store: JobStore) -> None:
    now = utcnow()
    job = await store.create(new_job())
    await store.transition(job.id, JobState.REQUESTED, JobState.REJECTED, reason="no")
    assert await store.claim_lease(job.id, ME, until=now + timedelta(seconds=10), now=now) is None


async def test_create_index_is_marked_as_sent_only_by_the_driver_of_a_submitting_job(store: JobStore) -> None:
    now = utcnow()
    job = await store.create(new_job(), driver_id=ME, driver_until=now + timedelta(seconds=10))
    with pytest.raises(StaleJob):
        await store.mark_submitted(job.id, ME, at=now)  # still requested
    await store.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING)
    with pytest.raises(StaleJob):
        await store.mark_submitted(job.id, OTHER, at=now)
    marked = await store.mark_submitted(job.id, ME, at=now)
    assert marked.submitted_at == now
    later = now + timedelta(seconds=11)
    assert await store.claim_lease(job.id, OTHER, until=later + timedelta(seconds=10), now=later) is not None
    with pytest.raises(StaleJob):
        await store.mark_submitted(job.id, ME, at=later)  # taken over: the old driver must not send it again


# -- the sender's claims --------------------------------------------------------------------------------


async def test_a_parent_post_is_claimed_by_one_caller_from_the_mark_it_read(store: JobStore) -> None:
    job = await store.create(new_job())
    first = utcnow()
    results = await asyncio.gather(*(store.claim_parent_post(job.id, seen=None, now=first) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    assert (await store.get(job.id)).parent_posting_since == first  # type: ignore[union-attr]
    # Looking for it after a crash, then posting again, is one claim from the mark read.
    second = first + timedelta(seconds=30)
    assert not await store.claim_parent_post(job.id, seen=None, now=second)
    assert await store.claim_parent_post(job.id, seen=first, now=second)
    assert not await store.claim_parent_post(job.id, seen=first, now=second)
    await store.update(job.id, message_ts="1700000000.000100", parent_posting_since=None)
    assert not await store.claim_parent_post(job.id, seen=None, now=second), "posted: nothing to claim"


async def test_a_notice_is_claimed_by_one_caller_and_never_once_sent_or_dropped(store: JobStore) -> None:
    job = await store.create(new_job())
    await store.update(job.id, notices=(Notice(kind=NoticeKind.STARTED), Notice(kind=NoticeKind.FINISHED)))
    started, finished = await store.pending_notices(job.id)
    now = utcnow()
    results = await asyncio.gather(*(store.claim_notice(started.id, seen=None, now=now) for _ in range(5)))
    assert sorted(results) == [False, False, False, False, True]
    [again, _] = await store.pending_notices(job.id)
    assert again.sending_since == now
    assert await store.claim_notice(started.id, seen=now, now=now + timedelta(seconds=1))
    await store.notice_sent(started.id)
    assert not await store.claim_notice(started.id, seen=None, now=now)
    await store.notice_dropped(finished.id, "is_archived")
    assert not await store.claim_notice(finished.id, seen=None, now=now)


async def test_a_slack_delivery_key_is_claimed_once_across_stores(database_url: str) -> None:
    one = await open_store(database_url)
    two = await open_store(database_url) if one.shared else one  # SQLite: one process, one connection
    try:
        now = utcnow()
        results = await asyncio.gather(
            *(
                store.claim_deliveries(["trigger_id:T1", f"trigger_id:{n}"], holder=f"replica-{n}", now=now)
                for n, store in enumerate((one, two, one, two))
            )
        )
        assert sorted(len(claimed) for claimed in results) == [1, 1, 1, 2], "T1 once; each its own key"
        assert [n for n, claimed in enumerate(results) if "trigger_id:T1" in claimed] != []
        assert await one.delivery_keys_since(now - timedelta(seconds=1)) == {
            f"trigger_id:{k}" for k in ("T1", 0, 1, 2, 3)
        }
        # A key a process recorded in a batch is still its own to claim, and nobody else's; a key twice is one.
        await one.record_deliveries(["trigger_id:T3"], forget_before=now - timedelta(days=1), holder=ME)
        assert await one.claim_deliveries(["trigger_id:T3", "trigger_id:T3"], holder=ME, now=now) == {"trigger_id:T3"}
        assert await two.claim_deliveries(["trigger_id:T3"], holder=OTHER, now=now) == set()
        later = now + timedelta(days=2)
        assert await two.claim_deliveries(
            ["trigger_id:T2"], holder=OTHER, now=later, forget_before=later - timedelta(days=1)
        ) == {"trigger_id:T2"}
        assert await one.delivery_keys_since(now - timedelta(days=1)) == {"trigger_id:T2"}, "the others forgotten"
    finally:
        if two is not one:
            await two.close()
        await one.close()


# -- fenced writes and the coordination ------------------------------------------------------------------


async def test_fenced_writes_hold_only_under_the_current_epoch(store: JobStore) -> None:
    job = await store.create(new_job())
    coordination = store.coordination("replica-a")
    epoch = await coordination.try_lead()
    assert epoch is not None and coordination.epoch == epoch
    current: list[int | None] = [epoch]
    fenced = store.fenced(lambda: current[0])
    await fenced.update(job.id, percent_complete=10.0)
    assert (await fenced.get(job.id)).percent_complete == 10.0  # type: ignore[union-attr]

    current[0] = epoch - 1  # a leadership before this one
    with pytest.raises(NotLeader):
        await fenced.update(job.id, percent_complete=20.0)
    current[0] = None  # leading nothing: refused without asking the database
    with pytest.raises(NotLeader):
        await fenced.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING)
    unchanged = await store.get(job.id)
    assert unchanged is not None and unchanged.state is JobState.REQUESTED and unchanged.percent_complete == 10.0
    await store.update(job.id, percent_complete=30.0)  # the store itself is not fenced
    leader = await store.leader()
    assert leader is not None and leader.holder == "replica-a" and leader.epoch == epoch
    await coordination.close()


async def test_each_leadership_has_a_new_epoch_and_fences_the_one_before(store: JobStore) -> None:
    job = await store.create(new_job())
    first = store.coordination("replica-a")
    old = await first.try_lead()
    assert old is not None
    fenced_old = store.fenced(lambda: old)
    await first.resign()
    assert first.epoch is None
    second = store.coordination("replica-b")
    new = await second.try_lead()
    assert new is not None and new > old
    with pytest.raises(NotLeader):
        await fenced_old.update(job.id, percent_complete=50.0)
    await store.fenced(lambda: new).update(job.id, percent_complete=50.0)
    leader = await store.leader()
    assert leader is not None and (leader.holder, leader.epoch) == ("replica-b", new)
    await first.close()
    await second.close()


async def test_what_is_published_is_heard_by_the_subscribers(store: JobStore) -> None:
    heard: list[tuple[str, str]] = []
    got = asyncio.Event()

    def subscriber(topic: str, payload: str) -> None:
        heard.append((topic, payload))
        if len(heard) == 2:
            got.set()

    coordination = store.coordination("replica-a")
    coordination.subscribe(subscriber)
    assert await coordination.listen()
    await coordination.publish(WAKE)
    await coordination.publish(THREAD, "job-1")
    await asyncio.wait_for(got.wait(), 10)
    assert heard == [(WAKE, ""), (THREAD, "job-1")]
    await coordination.close()


# -- PostgreSQL: the advisory lock across processes ------------------------------------------------------


async def test_one_of_several_processes_leads_and_another_takes_over_when_its_connection_dies(
    postgres_url: str,
) -> None:
    stores = [await open_postgres_store(postgres_url) for _ in range(3)]
    coordinations = [store.coordination(f"replica-{n}") for n, store in enumerate(stores)]
    lost = asyncio.Event()
    try:
        epochs = await asyncio.gather(*(c.try_lead() for c in coordinations))
        [leader] = [c for c, epoch in zip(coordinations, epochs, strict=True) if epoch is not None]
        assert await leader.still_leading()
        assert [await c.try_lead() for c in coordinations if c is not leader] == [None, None]
        leader.on_lost(lost.set)

        # The leader's connection is killed by the server, as when its process dies or its host is cut off.
        admin = await asyncpg.connect(postgres_url)
        try:
            killed = await admin.fetchval(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'restore-bot leadership ' || $1",
                f"replica-{coordinations.index(leader)}",
            )
        finally:
            await admin.close()
        assert killed
        await asyncio.wait_for(lost.wait(), 10)
        assert leader.epoch is None and not await leader.still_leading()
        others = [c for c in coordinations if c is not leader]
        taken = [await c.try_lead() for c in others]
        assert sorted(epoch is not None for epoch in taken) == [False, True]
        assert max(e for e in taken if e is not None) == max(e for e in epochs if e is not None) + 1
    finally:
        for coordination in coordinations:
            await coordination.close()
        for store in stores:
            await store.close()


async def test_a_new_leaders_epoch_waits_for_the_old_leaders_fenced_write_under_way(postgres_url: str) -> None:
    one, two = await open_postgres_store(postgres_url), await open_postgres_store(postgres_url)
    first, second = one.coordination("replica-a"), two.coordination("replica-b")
    try:
        job = await one.create(new_job())
        old = await first.try_lead()
        assert old is not None
        fenced = one.fenced(lambda: old)
        # A fenced write begins (its transaction holds the leadership row FOR SHARE) and is slow to finish.
        holding = asyncio.Event()
        finish = asyncio.Event()

        async def slow_write() -> None:
            async with fenced._transaction("save the change") as connection:
                await connection.execute("UPDATE jobs SET percent_complete = 42 WHERE id = $1", job.id)
                holding.set()
                await finish.wait()

        writer = asyncio.create_task(slow_write())
        await holding.wait()
        await first.resign()
        takeover = asyncio.create_task(second.try_lead())
        await until_waiting_on_locks(postgres_url, 1)
        assert not takeover.done(), "the bump waits for the fenced write under way"
        finish.set()
        await writer
        new = await takeover
        assert new == old + 1
        assert (await one.get(job.id)).percent_complete == 42  # type: ignore[union-attr]
        with pytest.raises(NotLeader):
            await fenced.update(job.id, percent_complete=43.0)
    finally:
        await first.close()
        await second.close()
        await one.close()
        await two.close()


async def test_two_deployments_in_two_schemas_of_one_database_each_have_a_leader(postgres_url: str) -> None:
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute("CREATE SCHEMA blue; CREATE SCHEMA green")
    finally:
        await admin.close()
    separator = "&" if "?" in postgres_url else "?"
    stores = [await open_postgres_store(f"{postgres_url}{separator}search_path={s}") for s in ("blue", "green")]
    coordinations = [store.coordination(f"replica-{n}") for n, store in enumerate(stores)]
    try:
        assert [await c.try_lead() for c in coordinations] == [1, 1]
    finally:
        for coordination in coordinations:
            await coordination.close()
        for store in stores:
            await store.close()
