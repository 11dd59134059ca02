"""Which replica runs the background work, and what the replicas tell each other.

Every replica serves Slack. One of them at a time, the leader, also runs the background work: the tracker
(its polls, approval expiry and verification) and the Slack sender (delivery and its pacing within Slack's
per-workspace limits). Leadership comes from the store (`JobStore.coordination`): on PostgreSQL a session-level
advisory lock on a connection of its own, which the server releases when that connection dies (`kill -9`, a
host cut off); on SQLite the one process always leads.

`Leadership.run` ticks every `interval` seconds. A standby tries to take the lock at each tick and keeps
listening to the others meanwhile; the leader checks that it still holds it. A leader told that its lock
connection is gone (`Coordination.on_lost`) cancels its background work at once, and contends again a tick
later than the others would (the trouble was more likely its own, so a standby gets the first chance). The
background work writes through a store fenced by the leader's epoch (`JobStore.fenced`), so whatever an
ex-leader still tries after another took over is refused by the store.

`Nudges` carries what the replicas tell each other: "wake the sender" from a replica that recorded something
to the leader, and "this job's thread exists" from the leader's sender to a replica whose request is waiting to
link it (LISTEN/NOTIFY on PostgreSQL). A nudge may be lost; the sender's idle tick and the waiting request's look
at the store every second cover for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from bot.app.metrics import Metrics
from bot.service.delivery import SlackDelivery
from storage.base import THREAD, WAKE, Coordination

log = logging.getLogger(__name__)

#: The background work, started on becoming the leader; each coroutine ends when the event is set.
Work = Callable[[asyncio.Event], Sequence[Coroutine[Any, Any, None]]]

#: The leadership ticks at the poll interval, but at least this often (a standby contends, the leader checks),
MAX_TICK = 2.0
#: and at most this often (tests poll every 50 ms).
MIN_TICK = 0.25


def tick_for(poll_interval: float) -> float:
    """How often a replica contends for (or checks) the leadership: the poll interval, within [0.25 s, 2 s]."""
    return min(max(poll_interval, MIN_TICK), MAX_TICK)


class Leadership:
    def __init__(
        self, coordination: Coordination, work: Work, *, interval: float, metrics: Metrics | None = None
    ) -> None:
        self._coordination = coordination
        self._work = work
        self._interval = interval
        self._metrics = metrics
        self._tasks: list[asyncio.Task[None]] = []
        self._work_stopping = asyncio.Event()
        self._lost = asyncio.Event()
        self._standing_by = False
        self._sit_out = False
        coordination.on_lost(self._on_lost)
        if metrics is not None:
            metrics.leading(False)

    @property
    def leading(self) -> bool:
        """Whether this replica runs the background work now."""
        return bool(self._tasks)

    def _on_lost(self) -> None:
        # At once, not at the next tick: the store refuses the fenced writes already; stop trying.
        self._lost.set()
        for task in self._tasks:
            task.cancel()

    async def run(self, stopping: asyncio.Event) -> None:
        """Contend, lead, and stand by again, until `stopping` is set; then end the background work (letting
        its current round finish) and give the leadership up, so another replica takes it at once."""
        try:
            while not stopping.is_set():
                try:
                    await self.step()
                except Exception:  # never let the leadership loop die: the next tick tries again
                    log.exception("leadership: the tick failed")
                waiters = [asyncio.ensure_future(stopping.wait()), asyncio.ensure_future(self._lost.wait())]
                await asyncio.wait(waiters, timeout=self._interval, return_when=asyncio.FIRST_COMPLETED)
                for waiter in waiters:
                    waiter.cancel()
        finally:
            await self._stop(graceful=True)
            await self._coordination.resign()

    async def step(self) -> None:
        """One tick: the leader checks it still leads; a standby tries to lead, and listens."""
        if self._tasks:
            if self._lost.is_set() or not await self._coordination.still_leading():
                log.warning("this replica no longer leads the background work; it stopped it and stands by")
                await self._stop(graceful=False)
                self._lost.clear()
                self._sit_out = True
            return
        self._lost.clear()
        if self._sit_out:
            self._sit_out = False
            await self._coordination.listen()
            return
        epoch = await self._coordination.try_lead()
        if epoch is None:
            await self._coordination.listen()
            if not self._standing_by:
                log.info("another replica leads the background work; this one serves Slack and stands by")
                self._standing_by = True
            return
        self._start(epoch)

    def _start(self, epoch: int) -> None:
        self._standing_by = False
        self._work_stopping = asyncio.Event()
        self._tasks = [
            asyncio.create_task(work, name=f"background work {n}")
            for n, work in enumerate(self._work(self._work_stopping))
        ]
        log.info("this replica leads the background work now (epoch %d): tracking and Slack delivery", epoch)
        if self._metrics is not None:
            self._metrics.leading(True)

    async def _stop(self, *, graceful: bool) -> None:
        tasks, self._tasks = self._tasks, []
        if not tasks:
            return
        if graceful:
            self._work_stopping.set()  # the tracker ends its cycle, the sender its round
        else:
            for task in tasks:
                task.cancel()
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, Exception):
                log.error("background work ended with %s", type(result).__name__, exc_info=result)
        if self._metrics is not None:
            self._metrics.leading(False)


class Nudges:
    """What the replicas sharing a store tell each other (best effort; see the module's docstring)."""

    def __init__(self, coordination: Coordination, *, shared: bool) -> None:
        self._coordination = coordination
        self._shared = shared
        self._tasks: set[asyncio.Task[None]] = set()
        self._waking = False
        self._wake_again = False

    def listen_for(self, delivery: SlackDelivery) -> None:
        """Hand what the other replicas say to this replica's `delivery`."""

        def heard(topic: str, payload: str) -> None:
            if topic == WAKE:
                delivery.nudged()
            elif topic == THREAD and payload:
                delivery.thread_changed(payload)

        self._coordination.subscribe(heard)

    def wake_leader(self) -> None:
        """Something was recorded here: if the sender runs in another replica, wake it (one nudge in flight at
        a time; one more if anything was recorded meanwhile)."""
        if not self._shared or self._coordination.epoch is not None:
            return  # the sender runs here, and `SlackDelivery.wake` woke it
        if self._waking:
            self._wake_again = True
            return
        self._waking = True
        self._spawn(self._wake())

    async def _wake(self) -> None:
        try:
            while True:
                self._wake_again = False
                await self._coordination.publish(WAKE)
                if not self._wake_again:
                    return
        finally:
            self._waking = False

    def thread_posted(self, job_id: str) -> None:
        """The sender posted a job's parent (or gave its channel up): a request elsewhere may be waiting."""
        if self._shared:
            self._spawn(self._coordination.publish(THREAD, job_id))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Let the nudges in flight go out (briefly), then stop."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=2.0)
        for task in pending:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*pending, return_exceptions=True)
