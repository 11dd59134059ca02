"""The leadership of the background work (bot/app/leadership.py) across processes on one PostgreSQL database,
each with its own store and coordination as two bot processes have them; and the de-duplication of a Slack
delivery that reaches two processes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import pytest_asyncio

from bot.app.leadership import Leadership
from bot.app.metrics import Metrics
from bot.service.seen_deliveries import SeenDeliveries
from storage import open_store
from storage.base import Coordination, JobStore
from storage.postgres.postgres_store import open_postgres_store

TICK = 0.1


@dataclass
class Replica:
    """A process's store, coordination and leadership, with background work that says when it runs."""

    name: str
    store: JobStore
    coordination: Coordination
    metrics: Metrics = field(default_factory=Metrics)
    working: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: asyncio.Event = field(default_factory=asyncio.Event)
    ended: asyncio.Event = field(default_factory=asyncio.Event)
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    run: asyncio.Task[None] | None = None

    def work(self, stopping: asyncio.Event) -> Sequence[Coroutine[Any, Any, None]]:
        async def background() -> None:
            self.working.set()
            try:
                await stopping.wait()
                self.ended.set()
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
            finally:
                self.working.clear()

        return [background()]

    def leader_gauge(self) -> float:
        value = self.metrics.registry.get_sample_value("restore_bot_leader")
        assert value is not None
        return value


@pytest_asyncio.fixture
async def replicas(postgres_url: str) -> AsyncIterator[list[Replica]]:
    built: list[Replica] = []
    for name in ("replica-a", "replica-b"):
        store = await open_postgres_store(postgres_url)
        replica = Replica(name, store, store.coordination(name))
        leadership = Leadership(replica.coordination, replica.work, interval=TICK, metrics=replica.metrics)
        replica.run = asyncio.create_task(leadership.run(replica.stopping))
        built.append(replica)
    try:
        yield built
    finally:
        for replica in built:
            replica.stopping.set()
        await asyncio.gather(*(r.run for r in built if r.run is not None))
        for replica in built:
            await replica.coordination.close()
            await replica.store.close()


async def first_set(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(event.wait()) for event in events]
    await asyncio.wait(waiters, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    for waiter in waiters:
        waiter.cancel()
    assert any(event.is_set() for event in events), "nothing happened within 10 s"


async def test_one_replica_runs_the_background_work_and_the_other_takes_over_when_its_connection_dies(
    replicas: list[Replica], postgres_url: str
) -> None:
    await first_set(*(r.working for r in replicas))
    [leader] = [r for r in replicas if r.working.is_set()]
    [standby] = [r for r in replicas if r is not leader]
    assert (leader.leader_gauge(), standby.leader_gauge()) == (1.0, 0.0)

    admin = await asyncpg.connect(postgres_url)
    try:
        assert await admin.fetchval(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            f"restore-bot leadership {leader.name}",
        )
    finally:
        await admin.close()

    await asyncio.wait_for(leader.cancelled.wait(), 10)  # stopped at once, not at the end of a round
    await asyncio.wait_for(standby.working.wait(), 10)
    assert (leader.leader_gauge(), standby.leader_gauge()) == (0.0, 1.0)
    changes = leader.metrics.registry.get_sample_value("restore_bot_leadership_changes_total", {"role": "standby"})
    assert changes == 1.0
    leader_row = await standby.store.leader()
    assert leader_row is not None and leader_row.holder == standby.name and leader_row.epoch == 2


async def test_a_leader_that_stops_ends_its_round_and_hands_over(replicas: list[Replica]) -> None:
    await first_set(*(r.working for r in replicas))
    [leader] = [r for r in replicas if r.working.is_set()]
    [standby] = [r for r in replicas if r is not leader]
    leader.stopping.set()  # as SIGTERM does, once the requests in flight are done
    assert leader.run is not None
    await leader.run
    assert leader.ended.is_set() and not leader.cancelled.is_set(), "its work ended its round; it was not cut"
    await asyncio.wait_for(standby.working.wait(), 10)
    assert standby.leader_gauge() == 1.0


async def test_a_slack_retry_that_reaches_two_processes_is_worked_on_by_one(postgres_url: str) -> None:
    stores = [await open_store(postgres_url) for _ in range(2)]
    try:
        seen = [SeenDeliveries(store, holder=f"replica-{n}") for n, store in enumerate(stores)]
        assert all(s.first_time("trigger_id:T1") for s in seen), "neither process's memory has seen it"
        claims = await asyncio.gather(*(s.claim("trigger_id:T1") for s in seen))
        assert sorted(claims) == [False, True]
        # A key a process saved in its batch is still its own.
        assert seen[0].first_time("trigger_id:T2")
        await seen[0].flush()
        assert await seen[0].claim("trigger_id:T2") and not await seen[1].claim("trigger_id:T2")
    finally:
        for store in stores:
            await store.close()


async def test_a_burst_of_claims_on_two_processes_gives_each_delivery_to_one(postgres_url: str) -> None:
    stores = [await open_store(postgres_url) for _ in range(2)]
    try:
        seen = [SeenDeliveries(store, holder=f"replica-{n}") for n, store in enumerate(stores)]
        keys = [f"trigger_id:B{n}" for n in range(50)]
        for s in seen:
            assert all(s.first_time(key) for key in keys)
        claims = await asyncio.gather(*(s.claim(key) for key in keys for s in seen))
        by_key = [claims[2 * n] + claims[2 * n + 1] for n in range(len(keys))]
        assert by_key == [1] * len(keys), "each key to exactly one of them"
    finally:
        for store in stores:
            await store.close()
