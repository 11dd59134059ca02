"""Delivers to Slack what the store says Slack should show, so a job never waits on Slack.

Job changes record what to say (the `notices` table) and flag the parent message for redrawing
in the same transaction. This sender then, per job and in order:

1. posts the parent message if the job has a thread but no parent yet (after a crash mid-post it
   first looks for the message by its metadata, so there is never a second parent);
2. redraws the parent if it is flagged: the flag is cleared *before* drawing the current state,
   so updates that pile up while Slack is slow collapse into one `chat.update` of the newest state;
3. sends pending notices oldest first; one that fails is retried later with backoff, and the
   job's later notices wait behind it so the thread stays in order.

Posts and redraws are paced to Slack's rate limits (bot/slack/pacing.py): each round takes only the
jobs the buckets allow, and a call the buckets refuse is left for a later round, never dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.core import render
from bot.core.jobs import DueDelivery, Job, NoticeKind, PendingNotice, utcnow
from bot.slack.pacing import SlackPacing
from bot.slack.publisher import Posted, SlackPublisher, SlackTrouble
from storage.base import JobStore, StoreUnavailable

log = logging.getLogger(__name__)

RETRY_FIRST = 2.0
RETRY_MAX = 300.0
IDLE_WAIT = 1.0
# After a round the rate limits cut short, wait this long even if woken: the buckets refill slowly.
PACED_PAUSE = 0.25
CONCURRENCY = 8


class SlackDelivery:
    def __init__(
        self,
        store: JobStore,
        publisher: SlackPublisher,
        incident_channel: str | None,
        *,
        clock: Callable[[], datetime] = utcnow,
        pacing: SlackPacing | None = None,
    ) -> None:
        self._store = store
        self._pacing = pacing or SlackPacing()
        self._publisher = publisher
        self._incident_channel = incident_channel
        self._clock = clock
        self._wake = asyncio.Event()
        self._delivered = asyncio.Condition()
        self._delivering: set[str] = set()
        self._parent_retry: dict[str, tuple[int, datetime]] = {}
        self._limit = asyncio.Semaphore(CONCURRENCY)

    def wake(self) -> None:
        """Something new was recorded: deliver now rather than at the next idle tick."""
        self._wake.set()

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            self._wake.clear()
            paced = False
            try:
                paced = await self.deliver_due()
            except StoreUnavailable as exc:
                log.error("Slack delivery skipped a round, the store is unavailable: %s", exc)
            except Exception:
                log.exception("Slack delivery round failed")
            if paced:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), timeout=PACED_PAUSE)
            waiters = [asyncio.ensure_future(self._wake.wait()), asyncio.ensure_future(stopping.wait())]
            await asyncio.wait(waiters, timeout=IDLE_WAIT, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()

    async def deliver_due(self) -> bool:
        """One round over every job with something due; True if the rate limits held some back."""
        due = await self._store.deliveries_due(self._clock())
        chosen = self._within_rate_limits(due)
        await asyncio.gather(*(self._deliver_guarded(job_id) for job_id in chosen))
        return len(chosen) < len(due)

    def _within_rate_limits(self, due: list[DueDelivery]) -> list[str]:
        """The jobs whose next call the buckets allow now, oldest change first (a plan; calls still take)."""
        posts: dict[str, int] = {}
        updates = self._pacing.updates_available()
        chosen = []
        for item in due:
            if item.job_id in self._delivering:
                continue
            left = posts.setdefault(item.channel_id, self._pacing.posts_available(item.channel_id))
            if (item.needs_parent or item.notice_due) and left > 0:
                posts[item.channel_id] = left - 1
                chosen.append(item.job_id)
            elif item.parent_dirty and updates > 0:
                updates -= 1
                chosen.append(item.job_id)
        return chosen

    async def _deliver_guarded(self, job_id: str) -> None:
        async with self._limit:
            try:
                await self.deliver(job_id)
            except StoreUnavailable as exc:
                log.warning("job %s: delivery postponed, the store is unavailable: %s", job_id, exc)

    async def deliver(self, job_id: str) -> None:
        """One delivery round for a job. Rounds are idempotent, so a job already being
        delivered is skipped: whatever it misses is still in the store for the next round."""
        if job_id in self._delivering:
            return
        self._delivering.add(job_id)
        try:
            await self._deliver(job_id)
        finally:
            self._delivering.discard(job_id)
            async with self._delivered:
                self._delivered.notify_all()

    async def wait_for_thread(self, job_id: str, grace: float) -> Job | None:
        """The job once its parent message exists, or None if that takes longer than `grace` seconds."""

        async def has_thread() -> Job | None:
            job = await self._store.get(job_id)
            return job if job is not None and job.message_ts is not None else None

        self.wake()
        with contextlib.suppress(TimeoutError):
            # Check while holding the condition: a delivery's notify cannot slip in between check and wait.
            async with asyncio.timeout(grace), self._delivered:
                while True:
                    found = await has_thread()
                    if found is not None:
                        return found
                    await self._delivered.wait()
        return None

    async def link(self, job: Job) -> str | None:
        if job.message_ts is None:
            return None
        return await self._publisher.permalink(job.channel_id, job.message_ts)

    # -- one job ------------------------------------------------------------------------------------

    async def _deliver(self, job_id: str) -> None:
        job = await self._store.get(job_id)
        if job is None:
            return
        if job.has_thread and job.message_ts is None:
            posted = await self._post_parent(job)
            if posted is None:
                return  # notices wait for the thread they belong in
            job = posted
        elif (
            job.parent_dirty
            and job.message_ts is not None
            and self._pacing.try_update()
            and await self._store.claim_parent_redraw(job.id)
        ):
            current = await self._store.get(job.id) or job
            result = await self._publisher.update(
                job.channel_id, job.message_ts, render.parent_message(current), job_id=job.id
            )
            if isinstance(result, SlackTrouble):
                await self._store.update(job.id, parent_dirty=True)
        notices = await self._store.pending_notices(job.id)
        if not notices:
            return
        # Read the job after its notices: a notice is never newer than the state it is drawn from.
        job = await self._store.get(job.id) or job
        now = self._clock()
        for notice in notices:
            if not await self._send_notice(job, notice, now):
                break

    async def _post_parent(self, job: Job) -> Job | None:
        failures, retry_at = self._parent_retry.get(job.id, (0, self._clock()))
        if retry_at > self._clock():
            return None
        found = None
        if job.parent_posting_since is not None:
            found = await self._publisher.find(
                job.channel_id, job_id=job.id, part="parent", since=job.parent_posting_since
            )
        if isinstance(found, Posted):
            log.info("job %s: found its parent message from before a restart", job.id)
            result: Posted | SlackTrouble = found
        else:
            if not self._pacing.try_post(job.channel_id):
                return None  # a later round posts it
            # This post draws the current state: a redraw right after it would cost a chat.update for nothing.
            await self._store.claim_parent_redraw(job.id)
            job = await self._store.update(job.id, parent_posting_since=self._clock())
            result = await self._publisher.post(
                job.channel_id, render.parent_message(job), job_id=job.id, part="parent"
            )
        if isinstance(result, SlackTrouble):
            self._parent_retry[job.id] = (failures + 1, self._clock() + timedelta(seconds=_backoff(failures + 1)))
            return None
        self._parent_retry.pop(job.id, None)
        if isinstance(found, Posted):
            # Drawn from a state before the restart: redraw it.
            return await self._store.update(job.id, message_ts=result.ts, parent_posting_since=None, parent_dirty=True)
        return await self._store.update(job.id, message_ts=result.ts, parent_posting_since=None)

    async def _send_notice(self, job: Job, notice: PendingNotice, now: datetime) -> bool:
        """Deliver one notice; False if it must be retried (later notices then wait)."""
        if notice.next_attempt_at is not None and now < notice.next_attempt_at:
            return False
        channel, thread_ts = self._destination(job, notice)
        if channel is None:
            await self._store.notice_sent(notice.id)  # nowhere to say it (no incident channel configured)
            return True
        part = f"notice-{notice.id}"
        ephemeral = notice.kind is NoticeKind.REJECTED and thread_ts is None  # no thread: tell only the requester
        if notice.sending_since is not None and not ephemeral:
            found = await self._publisher.find(
                channel, job_id=job.id, part=part, since=notice.sending_since, thread_ts=thread_ts
            )
            if isinstance(found, Posted):
                await self._store.notice_sent(notice.id)
                return True
        if not ephemeral and not self._pacing.try_post(channel):
            return False  # a later round sends it, and the job's later notices after it
        await self._store.notice_sending(notice.id)
        link = await self.link(job) if notice.kind in (NoticeKind.INCIDENT, NoticeKind.MISMATCH) else None
        message = render.notice_message(job, notice, link, now)
        result: Posted | SlackTrouble
        if ephemeral:
            result = await self._publisher.post_ephemeral(job.channel_id, job.requester_id, message, job_id=job.id)
        else:
            result = await self._publisher.post(channel, message, job_id=job.id, part=part, thread_ts=thread_ts)
        if isinstance(result, SlackTrouble):
            retry = now + timedelta(seconds=_backoff(notice.attempts + 1))
            await self._store.notice_failed(notice.id, retry, result.error)
            return False
        await self._store.notice_sent(notice.id)
        return True

    def _destination(self, job: Job, notice: PendingNotice) -> tuple[str | None, str | None]:
        if notice.kind in (NoticeKind.INCIDENT, NoticeKind.MISMATCH):
            if self._incident_channel is None or self._incident_channel == job.channel_id:
                return None, None
            return self._incident_channel, None
        return job.channel_id, job.message_ts


def _backoff(failures: int) -> float:
    ceiling = min(RETRY_MAX, RETRY_FIRST * 2 ** (failures - 1))
    return random.uniform(ceiling / 2, ceiling)
