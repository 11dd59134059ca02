"""Polls Pinecone for every active job and moves it on: progress, ready, failed, timed out.

One cycle looks at each active job once. Jobs a request is still driving are skipped; jobs
left in `requested`/`submitting` by a crash or a lost answer are finished here, through the
same `RestoreService.advance` the request path uses, so reconciliation has one implementation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from bot import render
from bot.announcer import Announcer
from bot.jobs import Job, JobState, utcnow
from bot.pinecone import NotFound, PineconeClient, PineconeError
from bot.pinecone.models import RestoreJob
from bot.render import duration
from bot.restore_service import RestoreService
from storage.base import JobStore, StaleJob, StoreError

log = logging.getLogger(__name__)

# Parent-message progress is redrawn only when it moves by this much, to spare chat.update.
PROGRESS_STEP = 5.0
CONCURRENCY = 16


class Tracker:
    def __init__(
        self,
        store: JobStore,
        pinecone: PineconeClient,
        service: RestoreService,
        announcer: Announcer,
        *,
        poll_interval: float,
        restore_timeout: float,
    ) -> None:
        self._store = store
        self._pinecone = pinecone
        self._service = service
        self._announcer = announcer
        self._poll_interval = poll_interval
        self._restore_timeout = restore_timeout
        self._limit = asyncio.Semaphore(CONCURRENCY)

    async def run(self, stopping: asyncio.Event) -> None:
        """Cycle until `stopping` is set. A failing cycle is logged, never fatal."""
        while not stopping.is_set():
            try:
                await self.cycle()
            except StoreError as exc:
                log.error("tracking cycle skipped, the store is unavailable: %s", exc)
            except Exception:
                log.exception("tracking cycle failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=self._poll_interval)

    async def cycle(self) -> None:
        jobs = [job for job in await self._store.active_jobs() if job.id not in self._service.in_flight]
        await asyncio.gather(*(self._guarded(job) for job in jobs))

    async def _guarded(self, job: Job) -> None:
        async with self._limit:
            try:
                await self.track(job)
            except (StoreError, StaleJob) as exc:
                log.warning("job %s: not tracked this cycle: %s", job.id, exc)

    async def track(self, job: Job) -> None:
        if job.state in (JobState.REQUESTED, JobState.SUBMITTING):
            self._service.in_flight.add(job.id)
            try:
                await self._service.advance(job)
            finally:
                self._service.in_flight.discard(job.id)
            return
        if job.message_ts is None:
            job = await self._announcer.show(job)  # the parent never made it to Slack: try again
        now = utcnow()
        if job.elapsed(now) > self._restore_timeout:
            await self._finish(
                job,
                JobState.TIMED_OUT,
                reason=f"not ready after {duration(self._restore_timeout)} (the limit set by "
                "RESTORE_BOT_RESTORE_TIMEOUT); Pinecone may still finish it, check the index before retrying",
                now=now,
            )
            return
        try:
            restore_job = await self._pinecone.describe_restore_job(job.restore_job_id or "")
        except NotFound:
            restore_job = None  # Pinecone may expire old restore jobs; the index tells the rest
        except PineconeError as exc:
            log.warning("job %s: could not poll restore job: %s", job.id, exc)
            return
        if restore_job is not None and restore_job.failed:
            await self._finish(job, JobState.FAILED, reason=f"Pinecone reports the restore job as {restore_job.status}")
            return
        if restore_job is None or restore_job.completed:
            await self._check_index(job, restore_job)
            return
        await self._progress(job, restore_job)

    async def _progress(self, job: Job, restore_job: RestoreJob) -> None:
        percent = restore_job.percent_complete or 0.0
        before = job.percent_complete or 0.0
        milestone = render.next_milestone(job.model_copy(update={"percent_complete": percent}))
        if milestone is None and abs(percent - before) < PROGRESS_STEP:
            return
        job = await self._store.update(job.id, percent_complete=percent, milestone=milestone or job.milestone)
        if milestone is not None:
            await self._announcer.milestone(job, milestone)
        else:
            await self._announcer.show(job)

    async def _check_index(self, job: Job, restore_job: RestoreJob | None) -> None:
        try:
            index = await self._pinecone.describe_index(job.index_name)
        except NotFound:
            if restore_job is None:
                await self._finish(job, JobState.FAILED, reason="neither the restore job nor the index exists any more")
            return
        except PineconeError as exc:
            log.warning("job %s: could not describe index: %s", job.id, exc)
            return
        if index.initialization_failed:
            await self._finish(job, JobState.FAILED, reason="the new index failed to initialize (InitializationFailed)")
            return
        if not index.ready:
            if (job.percent_complete or 0.0) < 100.0:
                job = await self._store.update(job.id, percent_complete=100.0)
                await self._announcer.show(job)
            return
        finished_at = restore_job.completed_at if restore_job and restore_job.completed_at else utcnow()
        await self._finish(
            job,
            JobState.READY,
            host=index.host,
            dimension=index.dimension,
            metric=index.metric,
            percent_complete=100.0,
            now=max(finished_at, job.submitted_at or finished_at),
        )

    async def _finish(self, job: Job, state: JobState, *, now: datetime | None = None, **fields: object) -> None:
        job = await self._store.transition(job.id, JobState.RESTORING, state, finished_at=now or utcnow(), **fields)
        log.info("job %s: %s%s", job.id, state.value, f" ({job.reason})" if job.reason else "")
        await self._announcer.finished(job)
