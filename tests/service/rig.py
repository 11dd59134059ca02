"""The use cases wired together in the test process, the way bot/app/wiring.py wires them, with the clock injected.

Everything real except where the bot meets the world: SQLite in a temporary file (`storage.open_store`),
Pinecone through the emulator and Slack through the stand-in (both on loopback, in this process), and
a `FakeClock` for the wall time and the monotonic time. Nothing runs in the background unless a test
starts it: the tracker moves when the test calls `tracker.cycle()`, Slack hears of it when the test
calls `delivery.deliver_due()`. Only the request paths, which wait for their thread to exist before
they answer, run the sender meanwhile (`Rig.sending`).

The emulator is as strict as Pinecone (its default `Realism`): restores are Pending with no percent until
they are Completed, and a restored index counts all its records only some time after it is Ready. A
restore takes `RESTORE_SECONDS` of emulator time, long enough to be Pending through the first check-ins,
so it moves on only when a test moves time (`RestoreTimeline`, both clocks together), not while it waits.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.jobs import Decision, Job, JobState, NewJob, PendingNotice
from bot.core.policy.policy_model import Policy, policy_from_settings
from bot.core.request.field_rules import RestoreRequest
from bot.pinecone import PineconeClient
from bot.service.approvals import Approvals
from bot.service.background import BackgroundTasks
from bot.service.delivery import SlackDelivery
from bot.service.queries import Queries
from bot.service.restore_requests import RestoreRequests, SubmitResult
from bot.service.restores import RestoreService
from bot.service.tracker import Tracker
from bot.slack.pacing import SlackPacing
from bot.slack.publisher import SlackPublisher
from bot.slack.usergroups import UserGroups
from bot.slack.web_client import web_client
from storage import SqliteJobStore, open_store
from tests.fakes.clock import FakeClock
from tests.fakes.fixtures import PINECONE_API_KEY, SLACK_BOT_TOKEN
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents
from tests.fakes.workspace import CHANNEL, INCIDENT_CHANNEL, USER

#: Emulator seconds a restore takes: Pending all along (API 2026-07 reports no progress), then Completed.
#: Three hours, so it is still Pending at its 30 min, 1 h and 2 h check-ins.
RESTORE_SECONDS = 3 * 3600.0
POLL_INTERVAL = 1.0
#: Long enough never to end a restore by accident; the timeout tests set their own.
RESTORE_TIMEOUT = 6 * 3600.0
#: How long the tracker re-counts a Ready index's records before calling a short count a mismatch
#: (RESTORE_BOT_VERIFY_TIMEOUT); longer than any count lag a test gives the emulator.
VERIFY_TIMEOUT = 300.0


@dataclass
class Rig:
    emulator: PineconeEmulator
    slack: SlackStandIn
    clock: FakeClock
    store: SqliteJobStore
    pinecone: PineconeClient
    publisher: SlackPublisher
    delivery: SlackDelivery
    restores: RestoreService
    tracker: Tracker
    groups: UserGroups
    tasks: BackgroundTasks
    requests: RestoreRequests
    approvals: Approvals
    queries: Queries
    policy: Policy
    #: What the restore service was asked to sleep (its waits before trying create-index again), in order.
    sleeps: list[float] = field(default_factory=list)

    async def submit(
        self, backup_id: str, index_name: str, *, user: str = USER, channel: str = CHANNEL, **tags: str
    ) -> SubmitResult:
        """A restore request as the slash command makes it (policy, then approval or restore), with the
        Slack sender running meanwhile: the request waits for its thread to answer with a link."""
        request = RestoreRequest(backup_id=backup_id, index_name=index_name, tags=tags)
        async with self.sending():
            return await self.requests.submit(request, user_id=user, channel_id=channel)

    @contextlib.asynccontextmanager
    async def sending(self) -> AsyncIterator[None]:
        """Run the Slack sender's loop (`SlackDelivery.run`) for the block; on the way out its last round
        is finished, so nothing is half-delivered when the test looks."""
        stopping = asyncio.Event()
        sender = asyncio.create_task(self.delivery.run(stopping))
        try:
            yield
        finally:
            stopping.set()
            await sender

    async def recorded(self, backup_id: str, index_name: str, *, user: str = USER, channel: str = CHANNEL) -> Job:
        """A request in the store, as the request path records it before calling Pinecone (or as a restart
        finds one): nothing sent to Pinecone or Slack yet."""
        return await self.store.create(
            NewJob(backup_id=backup_id, index_name=index_name, requester_id=user, channel_id=channel)
        )

    async def restoring(self, backup_id: str, index_name: str = "restored-index") -> Job:
        """A restore Pinecone has accepted, of which Slack has heard nothing yet: a recorded request that
        a tracker cycle took to Pinecone."""
        job = await self.recorded(backup_id, index_name)
        await self.tracker.cycle()
        job = await self.job(job.id)
        assert job.state is JobState.RESTORING, job
        return job

    async def job(self, job_id: str) -> Job:
        job = await self.store.get(job_id)
        assert job is not None, f"no job {job_id} in the store"
        return job

    async def only_job(self) -> Job:
        [job] = await self.store.recent_jobs()
        return job

    async def pending_notices(self, job_id: str) -> list[PendingNotice]:
        return await self.store.pending_notices(job_id)

    async def decisions(self, job_id: str) -> list[tuple[str, str, str | None]]:
        return [_decision(d) for d in await self.store.decisions(job_id)]

    async def background_done(self) -> None:
        """Wait for the work a use case left running after answering (an approved restore's Pinecone calls)."""
        assert await self.tasks.drain(10), "background work did not finish"
        self.tasks.draining = False  # drain() is how shutdown waits; the test goes on

    # -- what Slack shows -----------------------------------------------------------------------------

    def parents(self, channel: str = CHANNEL) -> list[dict[str, Any]]:
        return parents(self.slack, channel)

    def thread(self, job: Job) -> list[str]:
        """The texts of the replies in the job's thread, oldest first."""
        assert job.message_ts is not None, "the job has no parent message"
        return [str(m.get("text", "")) for m in self.slack.thread(job.channel_id, job.message_ts)]

    def parent_text(self, job: Job) -> str:
        """The parent message as it looks now (after any chat.update)."""
        assert job.message_ts is not None, "the job has no parent message"
        message = self.slack.message(job.channel_id, job.message_ts)
        return str(message.get("text", "")) + repr(message.get("blocks", ""))

    def updates_of(self, job: Job) -> list[dict[str, Any]]:
        """The chat.update calls that redrew the job's parent and that Slack took, oldest first."""
        return [c.args for c in self.slack.calls_to("chat.update") if c.args.get("ts") == job.message_ts and c.ok]

    def posts(self) -> list[dict[str, Any]]:
        """Every chat.postMessage call, taken or refused."""
        return [c.args for c in self.slack.calls_to("chat.postMessage")]

    def incident_notices(self) -> list[str]:
        return [str(m.get("text", "")) for m in self.slack.messages_in(INCIDENT_CHANNEL)]


def _decision(decision: Decision) -> tuple[str, str, str | None]:
    return decision.decision, decision.by_user, decision.reason


class RestoreTimeline:
    """Time passing for a restore started just now, on both clocks at once: the emulator's (what Pinecone
    reports) and the bot's fake clock (check-ins, deadlines, back-offs).

    A restore takes RESTORE_SECONDS of emulator time: Pending, with no percent, all along; then Completed,
    its index Ready; and its index counts all its records `realism.count_lag` emulator seconds after that.
    The little real time a test takes moves the emulator (never the fake clock) a little further on, so a
    restore is at least as far as the timeline says, and its count lag must be longer than that real time
    for a test to see the count fall short (`ready`)."""

    def __init__(self, emulator: PineconeEmulator, clock: FakeClock) -> None:
        self._emulator = emulator
        self._clock = clock
        self._elapsed = 0.0

    def to(self, seconds: float) -> None:
        """Move both clocks on to `seconds` after the timeline began. The fake clock may already be further
        on, if the test moved it by itself (for a back-off, say): it moves by the same step."""
        if seconds < self._elapsed:
            raise ValueError("a restore only moves forward")
        step = seconds - self._elapsed
        self._emulator.advance(step)
        self._clock.advance(step)
        self._elapsed = seconds

    def elapse(self, seconds: float) -> None:
        """Move both clocks on by `seconds`."""
        self.to(self._elapsed + seconds)

    def ready(self) -> None:
        """To the end of the restore: Completed, its index Ready, its records not all counted yet."""
        self.to(RESTORE_SECONDS)

    def complete(self) -> None:
        """Past the end of the restore and the count lag: the index Ready, with every record counted."""
        self.to(RESTORE_SECONDS + self._emulator.realism.count_lag)


@contextlib.asynccontextmanager
async def build_rig(
    emulator: PineconeEmulator,
    slack: SlackStandIn,
    database: Path,
    *,
    policy: Policy | None = None,
    restore_timeout: float = RESTORE_TIMEOUT,
    verify_timeout: float = VERIFY_TIMEOUT,
    pinecone_timeout: httpx.Timeout | None = None,
    incident_channel: str | None = INCIDENT_CHANNEL,
) -> AsyncIterator[Rig]:
    """The components as bot/app/wiring.py's `build_services` builds them, with a fake clock and no loops running."""
    emulator.restore_duration = RESTORE_SECONDS
    policy = policy or policy_from_settings([CHANNEL], incident_channel)
    # The stand-in is strict: the channels the policy names exist, public, with the bot in them.
    for channel in {*policy.channels, *([policy.incident_channel] if policy.incident_channel else [])}:
        if not slack.has_channel(channel):
            slack.add_channel(channel)
    clock = FakeClock()
    sleeps: list[float] = []

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    store = await open_store(database)
    http = httpx.AsyncClient(base_url=emulator.base_url, timeout=pinecone_timeout or httpx.Timeout(10.0))
    # Reads retry as in production, only with shorter waits.
    pinecone = PineconeClient(http, PINECONE_API_KEY, backoff_initial=0.01, backoff_max=0.05)
    client: AsyncWebClient = web_client(SLACK_BOT_TOKEN, slack.api_url)
    publisher = SlackPublisher(client)
    delivery = SlackDelivery(
        store, publisher, policy.incident_channel, clock=clock, pacing=SlackPacing(clock=clock.monotonic)
    )
    restores = RestoreService(store, pinecone, delivery, sleep=no_sleep, clock=clock)
    tracker = Tracker(
        store,
        pinecone.without_retries(),
        restores,
        delivery,
        poll_interval=POLL_INTERVAL,
        restore_timeout=restore_timeout,
        incident_channel=policy.incident_channel,
        verify_timeout=verify_timeout,
        verifier=pinecone,
        data_plane_url=emulator.data_plane_url,
        clock=clock,
        monotonic=clock.monotonic,
    )
    groups = UserGroups(client)
    tasks = BackgroundTasks()
    requests = RestoreRequests(policy, groups, restores, publisher, tasks)
    rig = Rig(
        emulator=emulator,
        slack=slack,
        clock=clock,
        store=store,
        pinecone=pinecone,
        publisher=publisher,
        delivery=delivery,
        restores=restores,
        tracker=tracker,
        groups=groups,
        tasks=tasks,
        requests=requests,
        approvals=Approvals(store, groups, restores, publisher, tasks),
        queries=Queries(store, delivery, groups, policy, publisher),
        policy=policy,
        sleeps=sleeps,
    )
    try:
        yield rig
    finally:
        await tasks.drain(5)
        await pinecone.aclose()
        await store.close()


def texts_with(texts: Sequence[str], fragment: str) -> list[str]:
    return [text for text in texts if fragment in text]
