"""Which bot process drives a job right now: a lease in the store, so the leader's tracker leaves the job alone.

A request (or an approval) takes its job to Pinecone in the process that received it, which need not be the
one running the tracker. The job records that process as its driver (`driver_id`) and until when
(`driver_until`): set in the same write that records the request or the approval, or claimed by
compare-and-set when the tracker takes a job up. While a process drives, it renews its leases every third of
the lease's length; at the end it releases them. If it dies, its leases run out and the leader's tracker takes
the jobs up, reconciling with Pinecone first (bot/service/restores.py), never sending a blind second
create-index: `JobStore.mark_submitted` lets only the lease's holder mark create-index as sent.

Within one process the holds are counted (a request that checks its job and then drives it holds it twice) and
the lease is released in the store when the last one ends. The same holds on SQLite, where the one process
both drives and tracks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

from bot.core.jobs import Job, utcnow
from storage.base import JobStore, StoreUnavailable

log = logging.getLogger(__name__)

#: How long a lease lasts without being renewed, unless the settings say otherwise.
DEFAULT_LEASE = 10.0


class Leases:
    def __init__(
        self,
        store: JobStore,
        driver: str,
        *,
        duration: float = DEFAULT_LEASE,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._driver = driver
        self._duration = duration
        self._clock = clock
        # Job ID -> how many holds this process has on it.
        self._held: dict[str, int] = {}

    @property
    def driver(self) -> str:
        """This process's name as a driver (host, pid and a random part: unique per start)."""
        return self._driver

    @property
    def duration(self) -> float:
        return self._duration

    def fields(self) -> dict[str, Any]:
        """The job fields that record this process as its driver from now: to write with the job's change."""
        return {"driver_id": self._driver, "driver_until": self._until()}

    def _until(self) -> datetime:
        return self._clock() + timedelta(seconds=self._duration)

    def held(self, job_id: str) -> bool:
        return job_id in self._held

    def driven(self, job: Job) -> bool:
        """Someone drives this job now: this process, or another whose lease has not run out."""
        return job.id in self._held or (job.driver_until is not None and job.driver_until > self._clock())

    @contextlib.asynccontextmanager
    async def holding(self, job_id: str, *, leased: bool = False) -> AsyncIterator[bool]:
        """Hold the job for the block: True if this process drives it (it may go on), False if another does.

        `leased`: the store already records this process as the driver (the job was recorded or approved with
        `fields()`); otherwise the lease is claimed (compare-and-set) unless this process holds it already."""
        if not leased and job_id not in self._held:
            claimed = await self._store.claim_lease(job_id, self._driver, until=self._until(), now=self._clock())
            if claimed is None:
                yield False
                return
        self._held[job_id] = self._held.get(job_id, 0) + 1
        try:
            yield True
        finally:
            await self._let_go(job_id)

    async def _let_go(self, job_id: str) -> None:
        count = self._held[job_id] - 1
        if count:
            self._held[job_id] = count
            return
        del self._held[job_id]
        try:
            await self._store.release_lease(job_id, self._driver)
        except StoreUnavailable as exc:
            log.warning("job %s: could not release its lease (it runs out by itself): %s", job_id, exc)

    async def renew(self) -> None:
        """Extend the leases of every job this process holds."""
        if not self._held:
            return
        held = list(self._held)
        renewed = await self._store.renew_leases(self._driver, held, until=self._until())
        if renewed < len(held):
            # A lease ran out before it was renewed (the store was unreachable for longer than a lease) and the
            # tracker may have taken the job up: this process can no longer mark create-index as sent for it.
            lost = len(held) - renewed
            log.warning("%d of the %d jobs this process drives are no longer leased to it", lost, len(held))

    async def run(self, stopping: asyncio.Event) -> None:
        """Renew every third of a lease until `stopping` is set."""
        while not stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=self._duration / 3)
            try:
                await self.renew()
            except StoreUnavailable as exc:
                log.warning("could not renew the leases of the jobs this process drives: %s", exc)
