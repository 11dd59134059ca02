"""Polls Pinecone for every active job and moves it on: what Pinecone reports, ready, failed, timed out.

One cycle looks at each active job once. Jobs a request is still driving are skipped; jobs
left in `requested`/`submitting` by a crash or a lost answer are finished here, through the
same `RestoreService.advance` the request path uses, so reconciliation has one implementation.

Restoring jobs are found in pages of `GET /restore-jobs` (bot/service/restore_listing.py), read in
whatever order Pinecone lists them: a cycle costs at most `ceil(jobs / 100) + 2` requests, pages and
the few jobs described on their own together; an index is described only once its restore job is done.

Pinecone reports a restore as Pending, with no progress figure, until it is done (API 2026-07). The
bot records that status (shown on the parent and by `status`, with how long the restore has run and an
estimate from Pinecone's published restore times) and says in the thread that it is still running at
growing intervals (bot/core/jobs.py, check-ins), never a percent Pinecone did not report.

Once the index is Ready it is compared with its backup: the vectors at once, the record count patiently,
since Pinecone may still be counting right after Ready. A count that falls short makes the job *verifying*:
it is re-checked with back-off until it matches or RESTORE_BOT_VERIFY_TIMEOUT has passed, and only then
is it called a mismatch.

A poll that fails (429, 5xx, timeout, reset) never fails the restore: that job's next poll backs
off with jitter, honouring Retry-After, and after a few failures in a row the thread is told once
that Pinecone is not answering, and once more when it answers again. An answer about one job that
cannot be read, or a step for one job that raises, is logged with the job's ID and backed off; every
other job in the cycle is still tracked, and timed out on time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core.jobs import Job, JobState, Notice, NoticeKind, check_in_after, next_check_in, utcnow
from bot.core.render import duration
from bot.core.verification import Verdict, compare, recheck_delay, recount, unverifiable
from bot.pinecone import NotFound, PineconeAPIError, PineconeClient, PineconeError
from bot.pinecone.errors import is_transient
from bot.pinecone.models import IndexModel, RestoreJob
from bot.service.delivery import SlackDelivery
from bot.service.restore_listing import LOOKUPS_PER_CYCLE, RestoreJobSweep, page_budget
from bot.service.restores import RestoreService
from storage.base import JobStore, StaleJob, StoreUnavailable

log = logging.getLogger(__name__)

# A percent Pinecone reports (2026-07 reports none before the end) is stored for `status` when it moves this much.
PROGRESS_STEP = 5.0
CONCURRENCY = 16
# Consecutive failed polls of a job before its thread is told Pinecone is not answering.
OUTAGE_NOTICE_AFTER = 3
# Poll back-off stops growing at max(poll interval, min(60 s, 32 poll intervals)).
MAX_BACKOFF = 60.0
MAX_BACKOFF_INTERVALS = 32
DEFAULT_VERIFY_TIMEOUT = 300.0
# Pinecone may answer 404 for a restore job it created moments ago; within this long a 404 is not taken to
# mean the job is gone.
NEW_JOB_GRACE = timedelta(minutes=2)
# A restore job Completed while its index is not there: the index was deleted once the restore was done (the
# restore creates it at once). Given this long after completion, so a moment's inconsistency between Pinecone's
# reads is not taken for a deletion.
INDEX_GONE_AFTER = timedelta(minutes=2)


class _Unreachable(Exception):
    """This poll got no usable answer; back off. `refused`: Pinecone answered, but refuses the bot's reads
    (a rejected API key, a missing permission, a bad request): waiting will not mend that, so it is said at once
    and for what it is, not as "Pinecone has not answered"."""

    def __init__(self, cause: PineconeError) -> None:
        super().__init__(str(cause))
        self.retry_after = cause.retry_after if isinstance(cause, PineconeAPIError) else None
        self.refused = cause if isinstance(cause, PineconeAPIError) and not is_transient(cause) else None


@dataclass(frozen=True)
class _Unreadable:
    """Pinecone answered about this job, but not in a shape the spec allows; or (`not_yet`) not at all yet."""

    problem: str


# A restore job as Pinecone reports it, None if Pinecone does not show it (the index then says where it
# stands), or why there is no usable answer.
_Observation = RestoreJob | None | _Unreachable | _Unreadable


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
        verify_timeout: float = DEFAULT_VERIFY_TIMEOUT,
        verifier: PineconeClient | None = None,
        data_plane_url: str = "https://{host}",
        on_cycle: Callable[[float], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        """`pinecone` polls without retries (the next cycle is the retry); `verifier`, a client with
        retries, makes the reads that compare a Ready index with its backup."""
        self._clock = clock
        self._monotonic = monotonic
        self._store = store
        self._pinecone = pinecone
        self._service = service
        self._delivery = delivery
        self._poll_interval = poll_interval
        self._restore_timeout = restore_timeout
        self._verify_timeout = verify_timeout
        self._incident_channel = incident_channel
        self._data_plane_url = data_plane_url
        self._verifier = verifier or pinecone
        self._max_backoff = max(poll_interval, min(MAX_BACKOFF, poll_interval * MAX_BACKOFF_INTERVALS))
        self._limit = asyncio.Semaphore(CONCURRENCY)
        self._sweep = RestoreJobSweep()
        # Per job: consecutive failed polls and the monotonic time before which not to poll again.
        self._failures: dict[str, int] = {}
        self._not_before: dict[str, float] = {}
        # Per job: when it was last described on its own because the list did not show it.
        self._looked_up: dict[str, float] = {}
        # Per verifying job: record counts checked so far, and the last count seen.
        self._counts_checked: dict[str, int] = {}
        self._last_count: dict[str, int | None] = {}
        # A Ready index whose facts this process could not read for its verification: since when (monotonic),
        # and how many tries.
        self._unverified: dict[str, tuple[float, int]] = {}
        # Told the wall time of each completed cycle (the metrics).
        self._on_cycle = on_cycle

    async def run(self, stopping: asyncio.Event) -> None:
        """Cycle until `stopping` is set. A failing cycle is logged, never fatal."""
        while not stopping.is_set():
            try:
                await self._service.acks.after_acks()  # a burst of commands is answered first
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
        others = [job for job in jobs if job.state is not JobState.RESTORING and self._due(job)]
        await asyncio.gather(*(self._guarded(job, self._move_on(job)) for job in others))
        now = self._clock()
        verifying = [job for job in restoring if job.verify_since is not None]
        running = [job for job in restoring if job.verify_since is None]
        # Timeouts come from the store alone: a job whose polls fail or back off still times out on time.
        late = [job for job in running if job.elapsed(now) > self._restore_timeout]
        await asyncio.gather(*(self._guarded(job, self._time_out(job)) for job in late))
        live = [job for job in running if job.elapsed(now) <= self._restore_timeout]
        try:
            observed = await self._observe(live)
        except Exception:
            log.exception("tracking cycle: the restore jobs could not be read this cycle")
            observed = {}
        await asyncio.gather(
            *(self._guarded(job, self._after_poll(job, observed[job.id])) for job in live if job.id in observed),
            *(self._guarded(job, self._recheck(job)) for job in verifying if self._due(job)),
        )
        active = {job.id for job in jobs}
        for job_id in (set(self._failures) | set(self._looked_up) | set(self._counts_checked)) - active:
            self._forget(job_id)
            self._looked_up.pop(job_id, None)
        self._sweep.forget({job.restore_job_id for job in running if job.restore_job_id})
        if self._on_cycle is not None:
            self._on_cycle(self._monotonic() - started)

    def _due(self, job: Job) -> bool:
        return self._not_before.get(job.id, 0.0) <= self._monotonic()

    async def _guarded(self, job: Job, step: Awaitable[None]) -> None:
        """One job's step: whatever goes wrong with it is logged with its ID and backed off, never the cycle's end."""
        async with self._limit:
            try:
                await step
            except (StoreUnavailable, StaleJob) as exc:
                log.warning("job %s: not tracked this cycle: %s", job.id, exc)
            except Exception:
                delay = self._back_off(job.id, None)
                log.exception("job %s: tracking step failed; next try in %.1fs", job.id, delay)

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

    # -- finding out what Pinecone says --------------------------------------------------------------

    async def _observe(self, jobs: list[Job]) -> dict[str, _Observation]:
        """Each due job's restore job as Pinecone lists it now (None: Pinecone does not show it).

        A cycle's requests, pages and single look-ups together, stay within `page_budget(len(jobs))`. Jobs
        still backing off are left out; a job the list has not shown for two whole sweeps, or one followed
        through its index only, is described on its own, longest-waiting first, a few a cycle."""
        due = [job for job in jobs if self._due(job)]
        if not due:
            return {}
        budget = page_budget(len(jobs))
        by_restore_id = {job.restore_job_id: job for job in due if job.restore_job_id}
        unlisted = set(self._sweep.unlisted(by_restore_id))
        pool = [job for job in due if not job.restore_job_id or job.restore_job_id in unlisted]
        pool.sort(key=lambda job: self._looked_up.get(job.id, 0.0))
        chosen = pool[: min(LOOKUPS_PER_CYCLE, budget - 1)]
        chosen_ids = {job.id for job in chosen}
        wanted = [restore_id for restore_id, job in by_restore_id.items() if job.id not in chosen_ids]
        listing = await self._sweep.read(self._pinecone, wanted, max_pages=budget - len(chosen))
        observed: dict[str, _Observation] = {
            by_restore_id[restore_id].id: found for restore_id, found in listing.found.items()
        }
        for restore_id, bad in listing.malformed.items():
            observed[by_restore_id[restore_id].id] = _Unreadable(
                f"Pinecone's answer does not match its spec: {bad.problem}"
            )
        if listing.error is not None:
            # The list failed this cycle: the jobs it did not answer for had a failed poll.
            for restore_id in wanted:
                job = by_restore_id[restore_id]
                observed.setdefault(job.id, _Unreachable(listing.error))
        answers = await asyncio.gather(*(self._look_up(job) for job in chosen))
        observed.update({job.id: answer for job, answer in zip(chosen, answers, strict=True)})
        return observed

    async def _look_up(self, job: Job) -> _Observation:
        self._looked_up[job.id] = self._monotonic()
        if not job.restore_job_id:
            return None  # followed through its index
        async with self._limit:
            try:
                return await self._pinecone.describe_restore_job(job.restore_job_id)
            except NotFound:
                if job.submitted_at is not None and self._clock() - job.submitted_at < NEW_JOB_GRACE:
                    return _Unreadable("Pinecone does not show this new restore job yet (404)")
                return None  # Pinecone may expire old restore jobs; the index tells where it stands
            except PineconeError as exc:
                return _Unreachable(exc)

    async def _after_poll(self, job: Job, observation: _Observation) -> None:
        if isinstance(observation, _Unreachable):
            await self._poll_failed(job, observation)
            return
        if isinstance(observation, _Unreadable):
            delay = self._back_off(job.id, None)
            log.warning(
                "job %s: restore job %s: %s; next try in %.1fs", job.id, job.restore_job_id, observation.problem, delay
            )
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
            await self._finish(
                job,
                JobState.FAILED,
                pinecone_status=restore_job.status,
                reason=f"Pinecone reports the restore job as {restore_job.status}",
            )
        elif restore_job is None or restore_job.completed:
            await self._check_index(job, restore_job, index)
        else:
            await self._running(job, restore_job)

    # -- back-off and outages ------------------------------------------------------------------------

    def _back_off(self, job_id: str, retry_after: float | None) -> float:
        """Count a failed step of this job and return how long its next one waits (jittered, doubling)."""
        failures = self._failures.get(job_id, 0) + 1
        self._failures[job_id] = failures
        ceiling = min(self._max_backoff, self._poll_interval * 2**failures)
        delay = max(random.uniform(ceiling / 2, ceiling), retry_after or 0.0)
        self._not_before[job_id] = self._monotonic() + delay
        return delay

    async def _poll_failed(self, job: Job, error: _Unreachable) -> None:
        delay = self._back_off(job.id, error.retry_after)
        failures = self._failures[job.id]
        log.warning("job %s: poll %d failed (%s); next in %.1fs", job.id, failures, error, delay)
        since = job.outage_since or self._clock()
        if error.refused is not None and not job.outage_announced:
            refused = error.refused
            notice = Notice(kind=NoticeKind.REFUSED, detail=f"{refused.failure.value} {refused.detail}")
            await self._store.update(job.id, outage_since=since, outage_announced=True, notices=(notice,))
            self._delivery.wake()
        elif job.outage_since is None:
            await self._store.update(job.id, outage_since=since)
        elif not job.outage_announced and failures >= OUTAGE_NOTICE_AFTER:
            notice = Notice(kind=NoticeKind.OUTAGE, detail=since.isoformat())
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
        self._counts_checked.pop(job_id, None)
        self._last_count.pop(job_id, None)
        self._unverified.pop(job_id, None)

    # -- a restore that is still running -------------------------------------------------------------

    async def _running(self, job: Job, restore_job: RestoreJob | None) -> None:
        """Record what Pinecone reports, and say in the thread, at growing intervals, that it is still running.
        `restore_job` None: a restore followed through its index only, whose index is not Ready yet.

        A poll that changes nothing costs neither the store nor Slack anything."""
        fields: dict[str, Any] = {}
        notices: tuple[Notice, ...] = ()
        if restore_job is not None and restore_job.status != job.pinecone_status:
            fields["pinecone_status"] = restore_job.status
            # A new restore is Pending: the parent already says it was accepted, so that costs no redraw.
            if job.pinecone_status is not None or restore_job.status.lower() != "pending":
                fields["parent_dirty"] = True
        reported, before = restore_job.percent_complete if restore_job else None, job.percent_complete
        if reported is not None and (before is None or abs(reported - before) >= PROGRESS_STEP):
            fields["percent_complete"] = reported  # only a percent Pinecone reported, for `status`
        check_in = next_check_in(job, self._clock())
        if check_in is not None:
            fields.update(check_ins=check_in, parent_dirty=True)
            notices = (Notice(kind=NoticeKind.CHECK_IN, detail=f"{check_in_after(check_in):.0f}"),)
        if not fields:
            return
        await self._store.update(job.id, notices=notices, **fields)
        if fields.get("parent_dirty"):
            self._delivery.wake()

    # -- a restore Pinecone says is done -------------------------------------------------------------

    async def _check_index(self, job: Job, restore_job: RestoreJob | None, index: IndexModel | None) -> None:
        if index is None:
            if restore_job is None:
                await self._finish(job, JobState.FAILED, reason="neither the restore job nor the index exists any more")
                return
            completed_at = restore_job.completed_at or job.submitted_at or self._clock()
            if self._clock() - completed_at >= INDEX_GONE_AFTER:
                await self._finish(
                    job,
                    JobState.FAILED,
                    pinecone_status=restore_job.status,
                    reason=f"the restore job completed, but index {job.index_name} no longer exists (deleted since)",
                )
            return
        if index.initialization_failed:
            await self._finish(
                job, JobState.FAILED, reason=f"the new index failed to initialize ({index.status.state})"
            )
            return
        if not index.ready:
            # Completed but its index not Ready yet, or followed through its index alone: still running.
            await self._running(job, restore_job)
            return
        finished_at = restore_job.completed_at if restore_job and restore_job.completed_at else self._clock()
        finished_at = max(finished_at, job.submitted_at or finished_at)
        verdict = await self._verify(job, index)
        if isinstance(verdict, PineconeError):
            # Right after Ready the new index's host may not serve yet: its reads get the same patience as a
            # count that lags, and the restore is said to be ready unverified only once that has run out.
            since, tries = self._unverified.get(job.id, (self._monotonic(), 0))
            if self._monotonic() - since < self._verify_timeout:
                self._unverified[job.id] = (since, tries + 1)
                delay = recheck_delay(tries + 1, first=self._poll_interval, longest=self._max_backoff)
                self._not_before[job.id] = self._monotonic() + delay
                log.warning("job %s: cannot verify the restored index yet (%s); next in %.1fs", job.id, verdict, delay)
                return
            verdict = unverifiable(f"Pinecone did not answer ({type(verdict).__name__})")
        ready: dict[str, Any] = {
            "host": index.host,
            "dimension": index.dimension,
            "metric": index.metric,
            "percent_complete": restore_job.percent_complete if restore_job else job.percent_complete,
            "pinecone_status": restore_job.status if restore_job else job.pinecone_status,
        }
        if verdict.count_short and self._verify_timeout > 0:
            await self._start_verifying(job, verdict, ready)
            return
        await self._finish_verified(job, verdict, finished_at, ready)

    async def _verify(self, job: Job, index: IndexModel) -> Verdict | PineconeError:
        """Compare the new index with its backup through the index's own describe_index_stats; the error if
        Pinecone did not answer."""
        try:
            backup = await self._verifier.describe_backup(job.backup_id)
            stats = await self._verifier.describe_index_stats(self._data_plane_url.format(host=index.host))
        except PineconeError as exc:
            return exc
        return compare(backup, index, stats)

    async def _start_verifying(self, job: Job, verdict: Verdict, ready: dict[str, Any]) -> None:
        """The index is Ready but counts fewer records than its backup: say "verifying", and re-check later.
        The window starts now, so a restore found Ready after a restart still gets all of it."""
        log.info(
            "job %s: index ready with %s of %s records; re-checking for up to %s",
            job.id,
            verdict.found_records,
            verdict.expected_records,
            duration(self._verify_timeout),
        )
        await self._store.update(
            job.id,
            verify_since=self._clock(),
            verification=verdict.vectors,
            backup_record_count=verdict.expected_records,
            parent_dirty=True,
            **ready,
        )
        self._delivery.wake()
        self._counts_checked[job.id] = 1
        self._last_count[job.id] = verdict.found_records
        self._not_before[job.id] = self._monotonic() + self._recheck_delay(job.id)

    async def _recheck(self, job: Job) -> None:
        """Count a verifying index's records again; decide once they match or the window has passed."""
        assert job.verify_since is not None
        expired = self._clock() >= job.verify_since + timedelta(seconds=self._verify_timeout)
        vectors = job.verification or ""
        try:
            stats = await self._pinecone.describe_index_stats(self._data_plane_url.format(host=job.host or ""))
        except PineconeError as exc:
            if job.id not in self._last_count and expired:
                await self._finish_verified(job, unverifiable(f"Pinecone did not answer ({type(exc).__name__})"))
                return
            if expired:
                found = self._last_count[job.id]
                await self._finish_verified(job, recount(vectors, (), job.backup_record_count, found))
                return
            delay = self._back_off(job.id, None)
            log.warning("job %s: could not count the restored index's records (%s); next in %.1fs", job.id, exc, delay)
            return
        verdict = recount(vectors, (), job.backup_record_count, stats.totalVectorCount)
        self._last_count[job.id] = stats.totalVectorCount
        if verdict.ok or expired:
            await self._finish_verified(job, verdict)
            return
        self._counts_checked[job.id] = self._counts_checked.get(job.id, 0) + 1
        self._not_before[job.id] = self._monotonic() + self._recheck_delay(job.id)

    def _recheck_delay(self, job_id: str) -> float:
        return recheck_delay(self._counts_checked.get(job_id, 1), first=self._poll_interval, longest=self._max_backoff)

    async def _finish_verified(
        self, job: Job, verdict: Verdict, ready_at: datetime | None = None, ready: dict[str, Any] | None = None
    ) -> None:
        if not verdict.ok:
            log.warning("job %s: restored index does not match its backup: %s", job.id, verdict.summary)
        await self._finish(
            job,
            JobState.READY,
            verification=verdict.summary,
            verified=verdict.ok,
            reason="; ".join(verdict.mismatches) or None,
            # Verified at once: finished when the index was Ready. After re-counting: finished now, so the
            # thread can say how long the count was re-checked (from verify_since).
            now=ready_at or self._clock(),
            **(ready or {}),
        )

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
