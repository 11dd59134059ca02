"""Polls Pinecone for every active job and moves it on: progress, ready, failed, timed out.

One cycle looks at each active job once. Jobs a request is still driving are skipped; jobs
left in `requested`/`submitting` by a crash or a lost answer are finished here, through the
same `RestoreService.advance` the request path uses, so reconciliation has one implementation.

Restoring jobs are found in pages of `GET /restore-jobs` (bot/service/restore_listing.py), so a cycle
costs about one request per 100 tracked jobs, not one per job; an index is described only once
its restore job is done. A job the capped list did not reach is described on its own, a few
per cycle.

A poll that fails (429, 5xx, timeout, reset) never fails the restore: that job's next poll backs
off with jitter, honouring Retry-After, and after a few failures in a row the thread is told once
that Pinecone is not answering, and once more when it answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from bot.core.jobs import Job, JobState, Notice, NoticeKind, next_milestone, utcnow
from bot.core.render import duration
from bot.core.verification import Verdict, compare, unverifiable
from bot.pinecone import NotFound, PineconeAPIError, PineconeClient, PineconeError
from bot.pinecone.models import IndexModel, RestoreJob
from bot.service.delivery import SlackDelivery
from bot.service.restore_listing import LOOKUPS_PER_CYCLE, list_wanted, page_budget
from bot.service.restores import RestoreService
from storage.base import JobStore, StaleJob, StoreUnavailable

log = logging.getLogger(__name__)

# Progress is stored (for `status`) when it moves by this much; the parent is redrawn only at milestones.
PROGRESS_STEP = 5.0
CONCURRENCY = 16
# Consecutive failed polls of a job before its thread is told Pinecone is not answering.
OUTAGE_NOTICE_AFTER = 3
# Poll back-off stops growing at max(poll interval, min(60 s, 32 poll intervals)).
MAX_BACKOFF = 60.0
MAX_BACKOFF_INTERVALS = 32


class _Unreachable(Exception):
    """This poll got no usable answer; back off."""

    def __init__(self, cause: PineconeError) -> None:
        super().__init__(str(cause))
        self.retry_after = cause.retry_after if isinstance(cause, PineconeAPIError) else None


# A restore job as Pinecone reports it, None if Pinecone no longer has it, or why there is no answer.
_Observation = RestoreJob | None | _Unreachable


class Tracker:
    def __init__(
        self,
        store: JobStore,
        pinecone: PineconeClient,
        service: RestoreService,
        delivery: SlackDelivery,
        *,
        poll_interval: float,
        restore_timeout: float,
        incident_channel: str | None,
        verifier: PineconeClient | None = None,
        data_plane_url: str = "https://{host}",
        on_cycle: Callable[[float], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`pinecone` polls without retries (the next cycle is the retry); `verifier`, a client with
        retries, makes the one-off reads that compare a Ready index with its backup."""
        self._clock = clock
        self._monotonic = monotonic
        self._store = store
        self._pinecone = pinecone
        self._service = service
        self._delivery = delivery
        self._poll_interval = poll_interval
        self._restore_timeout = restore_timeout
        self._incident_channel = incident_channel
        self._data_plane_url = data_plane_url
        self._verifier = verifier or pinecone
        self._max_backoff = max(poll_interval, min(MAX_BACKOFF, poll_interval * MAX_BACKOFF_INTERVALS))
        self._limit = asyncio.Semaphore(CONCURRENCY)
        # Per job: consecutive failed polls and the monotonic time before which not to poll again.
        self._failures: dict[str, int] = {}
        self._not_before: dict[str, float] = {}
        # Per job: when it was last described on its own because the capped list did not reach it.
        self._looked_up: dict[str, float] = {}
        # Told the wall time of each completed cycle (the metrics).
        self._on_cycle = on_cycle

    async def run(self, stopping: asyncio.Event) -> None:
        """Cycle until `stopping` is set. A failing cycle is logged, never fatal."""
        while not stopping.is_set():
            try:
                await self.cycle()
            except StoreUnavailable as exc:
                log.error("tracking cycle skipped, the store is unavailable: %s", exc)
            except Exception:
                log.exception("tracking cycle failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), timeout=self._poll_interval)

    async def cycle(self) -> None:
        started = self._monotonic()
        jobs = [job for job in await self._store.active_jobs() if not self._service.is_driving(job)]
        restoring = [job for job in jobs if job.state is JobState.RESTORING]
        others = [job for job in jobs if job.state is not JobState.RESTORING]
        await asyncio.gather(*(self._guarded(job, self._move_on(job)) for job in others))
        now = self._clock()
        late = [job for job in restoring if job.elapsed(now) > self._restore_timeout]
        await asyncio.gather(*(self._guarded(job, self._time_out(job)) for job in late))
        live = [job for job in restoring if job.elapsed(now) <= self._restore_timeout]
        observed = await self._observe(live)
        await asyncio.gather(
            *(self._guarded(job, self._after_poll(job, observed[job.id])) for job in live if job.id in observed)
        )
        active = {job.id for job in jobs}
        for job_id in (set(self._failures) | set(self._looked_up)) - active:
            self._forget(job_id)
            self._looked_up.pop(job_id, None)
        if self._on_cycle is not None:
            self._on_cycle(self._monotonic() - started)

    async def _guarded(self, job: Job, step: Awaitable[None]) -> None:
        async with self._limit:
            try:
                await step
            except (StoreUnavailable, StaleJob) as exc:
                log.warning("job %s: not tracked this cycle: %s", job.id, exc)

    async def _move_on(self, job: Job) -> None:
        """A job Pinecone is not restoring yet: awaiting approval, or not yet (surely) sent."""
        if job.state is JobState.AWAITING_APPROVAL:
            # Nothing to ask Pinecone until someone approves; only the deadline moves it.
            await self._service.expire(job, self._clock())
            return
        await self._service.resume(job)

    async def _time_out(self, job: Job) -> None:
        reason = (
            f"not ready after {duration(self._restore_timeout)} (the limit set by RESTORE_BOT_RESTORE_TIMEOUT); "
            "Pinecone may still finish it, check the index before retrying"
        )
        await self._finish(job, JobState.TIMED_OUT, reason=reason)

    async def _observe(self, jobs: list[Job]) -> dict[str, _Observation]:
        """Each job's restore job as Pinecone lists it now (None: Pinecone no longer knows it).

        Jobs still backing off are left out. A job the capped list did not reach is described on
        its own, longest-waiting first, at most LOOKUPS_PER_CYCLE a cycle; the rest wait a cycle."""
        clock = self._monotonic()
        due = [job for job in jobs if self._not_before.get(job.id, 0.0) <= clock]
        if not due:
            return {}
        by_restore_id = {job.restore_job_id: job for job in jobs if job.restore_job_id}
        wanted = [job.restore_job_id for job in due if job.restore_job_id]
        listing = await list_wanted(self._pinecone, wanted, max_pages=page_budget(len(wanted)))
        observed: dict[str, _Observation] = {
            by_restore_id[restore_id].id: found for restore_id, found in listing.found.items()
        }
        # A job without a restore job ID cannot be listed; its index tells where it stands.
        observed.update({job.id: None for job in due if not job.restore_job_id})
        missing = [job for job in due if job.id not in observed]
        if listing.error is not None:
            for job in missing:
                observed[job.id] = _Unreachable(listing.error)
            return observed
        # Not reached within the page cap, or not listed at all (a record Pinecone expired, or one its
        # list does not show yet): only describing the job says which, for the longest-waiting few.
        missing.sort(key=lambda job: self._looked_up.get(job.id, 0.0))
        chosen = missing[:LOOKUPS_PER_CYCLE]
        answers = await asyncio.gather(*(self._look_up(job) for job in chosen))
        observed.update({job.id: answer for job, answer in zip(chosen, answers, strict=True)})
        return observed

    async def _look_up(self, job: Job) -> _Observation:
        self._looked_up[job.id] = self._monotonic()
        async with self._limit:
            try:
                return await self._pinecone.describe_restore_job(job.restore_job_id or "")
            except NotFound:
                return None  # Pinecone may expire old restore jobs; the index tells the rest
            except PineconeError as exc:
                return _Unreachable(exc)

    async def _after_poll(self, job: Job, observation: _Observation) -> None:
        if isinstance(observation, _Unreachable):
            await self._poll_failed(job, observation)
            return
        index: IndexModel | None = None
        if observation is None or observation.completed:
            try:
                index = await self._pinecone.describe_index(job.index_name)
            except NotFound:
                index = None
            except PineconeError as exc:
                await self._poll_failed(job, _Unreachable(exc))
                return
        if job.id in self._failures or job.outage_since is not None:
            job = await self._poll_recovered(job)
        await self._apply(job, observation, index)

    async def _apply(self, job: Job, restore_job: RestoreJob | None, index: IndexModel | None) -> None:
        if restore_job is not None and restore_job.failed:
            await self._finish(job, JobState.FAILED, reason=f"Pinecone reports the restore job as {restore_job.status}")
        elif restore_job is None or restore_job.completed:
            await self._check_index(job, restore_job, index)
        else:
            await self._progress(job, restore_job)

    async def _poll_failed(self, job: Job, error: _Unreachable) -> None:
        failures = self._failures.get(job.id, 0) + 1
        self._failures[job.id] = failures
        ceiling = min(self._max_backoff, self._poll_interval * 2**failures)
        delay = max(random.uniform(ceiling / 2, ceiling), error.retry_after or 0.0)
        self._not_before[job.id] = self._monotonic() + delay
        log.warning("job %s: poll %d failed (%s); next in %.1fs", job.id, failures, error, delay)
        if job.outage_since is None:
            await self._store.update(job.id, outage_since=self._clock())
        elif not job.outage_announced and failures >= OUTAGE_NOTICE_AFTER:
            notice = Notice(kind=NoticeKind.OUTAGE, detail=job.outage_since.isoformat())
            await self._store.update(job.id, outage_announced=True, notices=(notice,))
            self._delivery.wake()

    async def _poll_recovered(self, job: Job) -> Job:
        self._forget(job.id)
        if job.outage_since is None:
            return job
        notices: tuple[Notice, ...] = ()
        if job.outage_announced:
            notices = (Notice(kind=NoticeKind.RECOVERED, detail=job.outage_since.isoformat()),)
        job = await self._store.update(job.id, outage_since=None, outage_announced=False, notices=notices)
        if notices:
            self._delivery.wake()
        return job

    def _forget(self, job_id: str) -> None:
        self._failures.pop(job_id, None)
        self._not_before.pop(job_id, None)

    async def _progress(self, job: Job, restore_job: RestoreJob) -> None:
        """Record progress in steps; Slack hears of it only at milestones, so a poll costs Slack nothing."""
        percent = restore_job.percent_complete or 0.0
        before = job.percent_complete or 0.0
        milestone = next_milestone(job.model_copy(update={"percent_complete": percent}))
        if milestone is None:
            if abs(percent - before) >= PROGRESS_STEP:
                await self._store.update(job.id, percent_complete=percent)  # for `status`; the parent waits
            return
        await self._store.update(
            job.id,
            percent_complete=percent,
            milestone=milestone,
            parent_dirty=True,
            notices=(Notice(kind=NoticeKind.MILESTONE, milestone=milestone),),
        )
        self._delivery.wake()

    async def _check_index(self, job: Job, restore_job: RestoreJob | None, index: IndexModel | None) -> None:
        if index is None:
            if restore_job is None:
                await self._finish(job, JobState.FAILED, reason="neither the restore job nor the index exists any more")
            return
        if index.initialization_failed:
            await self._finish(job, JobState.FAILED, reason="the new index failed to initialize (InitializationFailed)")
            return
        if not index.ready:
            if (job.percent_complete or 0.0) < 100.0:
                await self._store.update(job.id, percent_complete=100.0, parent_dirty=True)
                self._delivery.wake()
            return
        finished_at = restore_job.completed_at if restore_job and restore_job.completed_at else self._clock()
        verdict = await self._verify(job, index)
        await self._finish(
            job,
            JobState.READY,
            host=index.host,
            dimension=index.dimension,
            metric=index.metric,
            percent_complete=100.0,
            verification=verdict.summary,
            verified=verdict.ok,
            reason="; ".join(verdict.mismatches) or None,
            now=max(finished_at, job.submitted_at or finished_at),
        )

    async def _verify(self, job: Job, index: IndexModel) -> Verdict:
        """Compare the new index with its backup through the index's own describe_index_stats."""
        try:
            backup = await self._verifier.describe_backup(job.backup_id)
            stats = await self._verifier.describe_index_stats(self._data_plane_url.format(host=index.host))
        except PineconeError as exc:
            log.warning("job %s: could not verify the restored index: %s", job.id, exc)
            return unverifiable(f"Pinecone did not answer ({type(exc).__name__})")
        verdict = compare(backup, index, stats)
        if not verdict.ok:
            log.warning("job %s: restored index does not match its backup: %s", job.id, verdict.summary)
        return verdict

    async def _finish(self, job: Job, state: JobState, *, now: datetime | None = None, **fields: Any) -> None:
        notices = [Notice(kind=NoticeKind.FINISHED)]
        if self._incident_channel not in (None, job.channel_id):
            if state is not JobState.READY:
                notices.append(Notice(kind=NoticeKind.INCIDENT))
            elif fields.get("verified") is False:
                notices.append(Notice(kind=NoticeKind.MISMATCH))
        job = await self._store.transition(
            job.id,
            JobState.RESTORING,
            state,
            finished_at=now or self._clock(),
            outage_since=None,
            outage_announced=False,
            notices=tuple(notices),
            **fields,
        )
        self._forget(job.id)
        log.info("job %s: %s%s", job.id, state.value, f" ({job.reason})" if job.reason else "")
        self._delivery.wake()
