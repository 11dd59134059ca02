"""Delivers to Slack what the store says Slack should show, so a job never waits on Slack.

Job changes record what to say (the `notices` table) and flag the parent message for redrawing
in the same transaction. This sender then, per job and in order:

1. posts the parent message if the job has a thread but no parent yet (after a crash mid-post it
   first looks for the message by its metadata, so there is never a second parent);
2. redraws the parent if it is flagged: the flag is cleared *before* drawing the current state,
   so updates that pile up while Slack is slow collapse into one `chat.update` of the newest state;
3. sends pending notices oldest first. Notices travel in lanes (the job's channel and thread, the
   incident channel, the requester): one that must be retried holds back the later ones of its lane
   only, so a parent that cannot be posted never holds back an incident notice.

What Slack answers decides what happens next (classified once, in bot/slack/errors.py):

* transient (rate limits, 5xx, timeouts): retried with back-off, at most `MAX_ATTEMPTS` times;
* permanent for that delivery (`message_not_found`, `invalid_blocks`...): that one is dropped;
* the place is lost (`is_archived`, `channel_not_found`, `not_in_channel`, `missing_scope`...): nothing
  more is sent to the job's channel (`slack_error` on the job), the requester is told once by direct
  message, and new requests there are refused up front (bot/service/channels.py).

Every delivery given up on is recorded (the job's `slack_error` / `parent_error`, the notice's
`dropped_at` and `last_error`), logged, and counted (`on_dropped`, restore_bot_slack_deliveries_dropped_total).

A look-up that cannot be made is never read as "not posted": in a public channel the bot is not in
it joins and looks again; otherwise the message is left as possibly posted, said in the log, and
never posted a second time.

Posts and redraws are paced to Slack's rate limits (bot/slack/pacing.py): each round takes only the
jobs the buckets allow, and a call the buckets refuse is left for a later round, never dropped.

With several bot processes, one runs the sender (the leader: bot/app/leadership.py), so the pacing is
Slack's per workspace. Each post is claimed in the store first, by compare-and-set on the mark the sender
read (`claim_parent_post`, `claim_notice`), and the sender's writes are fenced by the leader's epoch: two
senders never post the same thing, and an ex-leader's late claim is refused. `wake()` reaches the leader
from any process (`on_wake`), and a request waiting to link its thread hears of a parent posted in another
process (`on_thread`, `thread_changed`), with a look at the store every `THREAD_RECHECK` seconds in case a
nudge is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum, StrEnum

from bot.core import render
from bot.core.jobs import DueDelivery, Job, Notice, NoticeKind, PendingNotice, utcnow
from bot.service.ack_priority import AckPriority
from bot.service.channels import ChannelAccess
from bot.slack.errors import Verdict
from bot.slack.pacing import SlackPacing
from bot.slack.publisher import Posted, SlackPublisher, SlackTrouble
from storage.base import JobStore, StoreUnavailable

log = logging.getLogger(__name__)

RETRY_FIRST = 2.0
RETRY_MAX = 300.0
# Transient failures of one delivery before it is given up: 2 s doubling to 5 min, about half an hour.
MAX_ATTEMPTS = 12
IDLE_WAIT = 1.0
# How often a request waiting for its thread looks at the store, in case no nudge reaches it.
THREAD_RECHECK = 1.0
# After a round the rate limits cut short, wait this long even if woken: the buckets refill slowly.
PACED_PAUSE = 0.25
CONCURRENCY = 8


#: Told of each delivery given up on: what ("parent", "redraw", "notice") and Slack's error code.
OnDropped = Callable[[str, str], None]
#: Told when something new is recorded (`wake`): reach the sender if it runs in another process.
OnWake = Callable[[], None]
#: Told of a job whose parent was posted or whose channel was given up on: tell the other processes.
OnThread = Callable[[str], None]


class Lane(StrEnum):
    """Where a notice goes. Within a lane notices keep their order; lanes never wait on each other."""

    CHANNEL = "channel"  # the job's channel: its thread (the parent must exist first)
    INCIDENT = "incident"
    REQUESTER = "requester"  # only the requester: ephemeral where the bot is a member, else a direct message
    NOWHERE = "nowhere"  # no incident channel configured


@dataclass(frozen=True)
class _Route:
    lane: Lane
    channel: str | None = None
    thread_ts: str | None = None


class _Sent(Enum):
    SENT = "sent"
    WAIT = "wait"  # retried later; the lane's later notices wait behind it
    DROPPED = "dropped"
    LOST = "lost"  # dropped, and the place takes nothing more


class SlackDelivery:
    def __init__(
        self,
        store: JobStore,
        publisher: SlackPublisher,
        incident_channel: str | None,
        *,
        channels: ChannelAccess | None = None,
        clock: Callable[[], datetime] = utcnow,
        pacing: SlackPacing | None = None,
        on_dropped: OnDropped | None = None,
        on_wake: OnWake | None = None,
        on_thread: OnThread | None = None,
        acks: AckPriority | None = None,
    ) -> None:
        self._store = store
        # The leader's rounds wait while a burst of commands is being answered (its own acks come first).
        self._acks = acks or AckPriority()
        self._pacing = pacing or SlackPacing()
        self._publisher = publisher
        self._channels = channels or ChannelAccess(publisher)
        self._incident_channel = incident_channel
        self._clock = clock
        self._on_dropped = on_dropped
        self.on_wake = on_wake
        self.on_thread = on_thread
        self._wake = asyncio.Event()
        # Per job a request is waiting for: set (and dropped) when its thread may have appeared. A waiter takes
        # it before looking at the store, so no change between its look and its wait is missed; a change to
        # another job wakes nobody (a burst of waiting requests is not woken, each to read the store, per post).
        self._thread_changed: dict[str, asyncio.Event] = {}
        self._delivering: set[str] = set()
        # Per job, in memory: transient failures so far and when to try again.
        self._parent_retry: dict[str, tuple[int, datetime]] = {}
        self._redraw_retry: dict[str, tuple[int, datetime]] = {}
        self._limit = asyncio.Semaphore(CONCURRENCY)

    def wake(self) -> None:
        """Something new was recorded: deliver now rather than at the next idle tick (wherever the sender runs)."""
        self._wake.set()
        if self.on_wake is not None:
            self.on_wake()

    def nudged(self) -> None:
        """Another process recorded something new: deliver now, if the sender runs here."""
        self._wake.set()

    def thread_changed(self, job_id: str) -> None:
        """A job's parent was posted (or its channel given up on), here or in another process."""
        changed = self._thread_changed.pop(job_id, None)
        if changed is not None:
            changed.set()

    def _threaded(self, job_id: str) -> None:
        self.thread_changed(job_id)
        if self.on_thread is not None:
            self.on_thread(job_id)

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            self._wake.clear()
            paced = False
            try:
                await self._acks.after_acks()
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
            self.thread_changed(job_id)

    async def wait_for_thread(self, job_id: str, grace: float) -> Job | None:
        """The job once its parent message exists (or its channel was given up on: `slack_error`), or None
        if that takes longer than `grace` seconds. The sender may run in another process: a nudge says when
        a parent was posted, and the store is looked at every THREAD_RECHECK seconds anyway."""

        async def has_thread() -> Job | None:
            job = await self._store.get(job_id)
            return job if job is not None and (job.message_ts is not None or job.slack_error is not None) else None

        self.wake()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        try:
            while True:
                # Taken before looking: a change after the look still wakes this wait.
                changed = self._thread_changed.setdefault(job_id, asyncio.Event())
                found = await has_thread()
                if found is not None:
                    return found
                left = deadline - loop.time()
                if left <= 0:
                    return None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), timeout=min(left, THREAD_RECHECK))
        finally:
            if (waiting := self._thread_changed.get(job_id)) is not None and not waiting.is_set():
                del self._thread_changed[job_id]

    async def link(self, job: Job) -> str | None:
        if job.message_ts is None:
            return None
        return await self._publisher.permalink(job.channel_id, job.message_ts)

    # -- one job ------------------------------------------------------------------------------------

    async def _deliver(self, job_id: str) -> None:
        job = await self._store.get(job_id)
        if job is None:
            return
        parent_missing = False
        if job.slack_error is None and job.has_thread and job.message_ts is None:
            posted = await self._post_parent(job)
            if posted is None:
                parent_missing = True  # the thread's notices wait for it; the other lanes do not
            else:
                job = posted
                self._threaded(job.id)  # a request waiting to link its thread need not wait for the rest
        elif job.slack_error is None and job.parent_error is None and job.parent_dirty and job.message_ts is not None:
            await self._redraw(job)
        notices = await self._store.pending_notices(job.id)
        if not notices:
            return
        # Read the job after its notices: a notice is never newer than the state it is drawn from.
        job = await self._store.get(job.id) or job
        now = self._clock()
        waiting = {Lane.CHANNEL} if parent_missing else set()
        for notice in notices:
            route = self._route(job, notice)
            if route.lane in waiting:
                continue
            sent = await self._send_notice(job, notice, route, now)
            if sent is _Sent.WAIT:
                waiting.add(route.lane)
            elif sent is _Sent.LOST and route.lane is Lane.CHANNEL:
                job = await self._store.get(job.id) or job  # the rest of its thread is dropped without a call

    # -- the parent message -------------------------------------------------------------------------

    async def _post_parent(self, job: Job) -> Job | None:
        """Post the parent (or find it from before a restart). None: not now (paced, or backing off);
        otherwise the job as it is after (posted, or given up on)."""
        failures, retry_at = self._parent_retry.get(job.id, (0, None))
        if retry_at is not None and retry_at > self._clock():
            return None
        if job.parent_posting_since is not None:
            found = await self._look_up(job.channel_id, job_id=job.id, part="parent", since=job.parent_posting_since)
            if isinstance(found, Posted):
                log.info("job %s: found its parent message from before a restart", job.id)
                self._parent_retry.pop(job.id, None)
                # Drawn from a state before the restart: redraw it.
                return await self._store.update(
                    job.id, message_ts=found.ts, parent_posting_since=None, parent_dirty=True
                )
            if isinstance(found, SlackTrouble):
                return await self._parent_failed(job, found, failures, looking=True)
        if not self._pacing.try_post(job.channel_id):
            return None  # a later round posts it
        # Claimed from the mark read: if another sender took it meanwhile, this one leaves it.
        if not await self._store.claim_parent_post(job.id, seen=job.parent_posting_since, now=self._clock()):
            log.info("job %s: its parent message is being posted by another sender", job.id)
            return None
        # This post draws the current state: a redraw right after it would cost a chat.update for nothing.
        await self._store.claim_parent_redraw(job.id)
        job = await self._store.get(job.id) or job
        result = await self._publisher.post(job.channel_id, render.parent_message(job), job_id=job.id, part="parent")
        if isinstance(result, SlackTrouble):
            return await self._parent_failed(job, result, failures, looking=False)
        self._parent_retry.pop(job.id, None)
        return await self._store.update(job.id, message_ts=result.ts, parent_posting_since=None)

    async def _parent_failed(self, job: Job, trouble: SlackTrouble, failures: int, *, looking: bool) -> Job | None:
        failures += 1
        if trouble.transient and failures < MAX_ATTEMPTS:
            self._parent_retry[job.id] = (failures, self._clock() + timedelta(seconds=_backoff(failures)))
            return None
        self._parent_retry.pop(job.id, None)
        why = _why(trouble, failures)
        if looking:
            # Never read as "not posted": a second parent is worse than none.
            why = f"its parent message may have been posted but cannot be looked up ({why}), so it is not posted again"
        elif trouble.verdict is Verdict.LOST:
            self._channels.lost(job.channel_id, trouble.error)
        self._dropped("parent", trouble.error)
        return await self._lose(job, why)

    async def _redraw(self, job: Job) -> None:
        failures, retry_at = self._redraw_retry.get(job.id, (0, None))
        if retry_at is not None and retry_at > self._clock():
            return
        if not (self._pacing.try_update() and await self._store.claim_parent_redraw(job.id)):
            return
        assert job.message_ts is not None
        current = await self._store.get(job.id) or job
        result = await self._publisher.update(
            job.channel_id, job.message_ts, render.parent_message(current), job_id=job.id
        )
        if not isinstance(result, SlackTrouble):
            self._redraw_retry.pop(job.id, None)
            return
        failures += 1
        if result.transient and failures < MAX_ATTEMPTS:
            self._redraw_retry[job.id] = (failures, self._clock() + timedelta(seconds=_backoff(failures)))
            await self._store.update(job.id, parent_dirty=True)
            return
        self._redraw_retry.pop(job.id, None)
        self._dropped("redraw", result.error)
        if result.verdict is Verdict.LOST:
            self._channels.lost(job.channel_id, result.error)
            await self._lose(job, result.error)
            return
        why = _why(result, failures)
        log.warning("job %s: its parent message is no longer redrawn: %s", job.id, why)
        await self._store.update(job.id, parent_error=why)

    async def _lose(self, job: Job, why: str) -> Job:
        """Nothing more goes to the job's channel; the requester is told once, by direct message."""
        if await self._store.lose_channel(job.id, why, Notice(kind=NoticeKind.UNREACHABLE)):
            log.warning(
                "job %s: nothing more is sent to channel %s (%s); the requester is told by direct message",
                job.id,
                job.channel_id,
                why,
            )
            self._threaded(job.id)
            self.wake()
        return await self._store.get(job.id) or job

    # -- notices --------------------------------------------------------------------------------------

    def _route(self, job: Job, notice: PendingNotice) -> _Route:
        if notice.kind in (NoticeKind.INCIDENT, NoticeKind.MISMATCH):
            if self._incident_channel is None or self._incident_channel == job.channel_id:
                return _Route(Lane.NOWHERE)
            return _Route(Lane.INCIDENT, self._incident_channel)
        if notice.kind is NoticeKind.UNREACHABLE:
            return _Route(Lane.REQUESTER)
        if notice.kind is NoticeKind.REJECTED and (not job.has_thread or job.slack_error is not None):
            return _Route(Lane.REQUESTER)  # no thread to say it in: tell only the requester
        return _Route(Lane.CHANNEL, job.channel_id, job.message_ts)

    async def _send_notice(self, job: Job, notice: PendingNotice, route: _Route, now: datetime) -> _Sent:
        """Deliver one notice, or say why not."""
        if notice.next_attempt_at is not None and now < notice.next_attempt_at:
            return _Sent.WAIT
        if route.lane is Lane.NOWHERE:
            await self._store.notice_sent(notice.id)  # nowhere to say it (no incident channel configured)
            return _Sent.SENT
        if route.lane is Lane.CHANNEL and job.slack_error is not None:
            await self._store.notice_dropped(notice.id, f"not sent: {job.slack_error}")
            return _Sent.DROPPED
        part = f"notice-{notice.id}"
        if route.lane is not Lane.REQUESTER:
            assert route.channel is not None
            if notice.sending_since is not None:
                found = await self._look_up(
                    route.channel, job_id=job.id, part=part, since=notice.sending_since, thread_ts=route.thread_ts
                )
                if isinstance(found, Posted):
                    await self._store.notice_sent(notice.id)
                    return _Sent.SENT
                if isinstance(found, SlackTrouble):
                    return await self._notice_failed(job, notice, route, found, now, looking=True)
            if not self._pacing.try_post(route.channel):
                return _Sent.WAIT  # a later round sends it, and the lane's later notices after it
        if not await self._store.claim_notice(notice.id, seen=notice.sending_since, now=now):
            return _Sent.WAIT  # another sender took it since this one read it
        link = await self.link(job) if notice.kind in (NoticeKind.INCIDENT, NoticeKind.MISMATCH) else None
        message = render.notice_message(job, notice, link, now)
        result: Posted | SlackTrouble
        if notice.kind is NoticeKind.UNREACHABLE:
            result = await self._publisher.post_direct(job.requester_id, message)
        elif route.lane is Lane.REQUESTER:
            known = self._channels.known(job.channel_id)
            member = False if job.slack_error is not None else known.member if known is not None else None
            result = await self._publisher.tell(job.channel_id, job.requester_id, message, member=member)
        else:
            assert route.channel is not None
            result = await self._publisher.post(
                route.channel, message, job_id=job.id, part=part, thread_ts=route.thread_ts
            )
        if isinstance(result, SlackTrouble):
            return await self._notice_failed(job, notice, route, result, now, looking=False)
        await self._store.notice_sent(notice.id)
        return _Sent.SENT

    async def _notice_failed(
        self, job: Job, notice: PendingNotice, route: _Route, trouble: SlackTrouble, now: datetime, *, looking: bool
    ) -> _Sent:
        attempts = notice.attempts + 1
        # A private answer that may have reached the requester cannot be looked for (an ephemeral leaves no trace,
        # and reading direct messages needs im:history, which the bot does not ask for): sent again, it could
        # reach them twice.
        unsure_private = trouble.unsure and route.lane is Lane.REQUESTER
        if trouble.transient and attempts < MAX_ATTEMPTS and not unsure_private:
            await self._store.notice_failed(
                notice.id, now + timedelta(seconds=_backoff(attempts)), trouble.error, maybe_sent=trouble.unsure
            )
            return _Sent.WAIT
        why = _why(trouble, attempts)
        if looking:
            why = f"may have been posted but cannot be looked up ({why}), so it is not posted again"
        elif unsure_private:
            why = f"may have reached the requester ({trouble.error}) and cannot be looked for, so it is not sent again"
        log.warning("job %s: %s notice dropped: %s", job.id, notice.kind.value, why)
        await self._store.notice_dropped(notice.id, why)
        self._dropped("notice", trouble.error)
        if looking or trouble.verdict is not Verdict.LOST:
            return _Sent.DROPPED
        if route.lane is Lane.CHANNEL:
            self._channels.lost(job.channel_id, trouble.error)
            await self._lose(job, trouble.error)
        elif route.lane is Lane.INCIDENT and route.channel is not None:
            self._channels.lost(route.channel, trouble.error)
        return _Sent.LOST

    async def _look_up(
        self, channel: str, *, job_id: str, part: str, since: datetime, thread_ts: str | None = None
    ) -> Posted | SlackTrouble | None:
        """The bot's message for (job, part) if Slack has it; in a public channel the bot is not in, it joins
        first (reading history needs membership)."""
        found = await self._publisher.find(channel, job_id=job_id, part=part, since=since, thread_ts=thread_ts)
        if isinstance(found, SlackTrouble) and found.error == "not_in_channel" and await self._channels.join(channel):
            found = await self._publisher.find(channel, job_id=job_id, part=part, since=since, thread_ts=thread_ts)
        return found

    def _dropped(self, what: str, error: str) -> None:
        if self._on_dropped is not None:
            self._on_dropped(what, error)


def _why(trouble: SlackTrouble, attempts: int) -> str:
    return f"gave up after {attempts} attempts: {trouble.error}" if trouble.transient else trouble.error


def _backoff(failures: int) -> float:
    ceiling = min(RETRY_MAX, RETRY_FIRST * 2 ** (failures - 1))
    return random.uniform(ceiling / 2, ceiling)
