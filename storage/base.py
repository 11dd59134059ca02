"""The job store port: the interface the rest of the bot uses, and its one error tree.

    StoreError                   every failure of the job store
    ├── StoreUnavailable         the store could not do what was asked (locked, disk full, read-only,
    │   │                        corrupt, a schema newer than this bot); try again later
    │   └── NotLeader            a write for the background work, refused: this process no longer leads it
    └── StoreConflict            the store refused because of what it holds; nothing was changed
        ├── StaleJob             the job is not in the state the caller expected: someone moved it first
        ├── DeadlinePassed       the decision came after the request's approval deadline
        └── ActiveRestoreExists  a restore into this target name is already active

Callers that mean "the store is down" catch `StoreUnavailable`; a conflict is an answer, not an outage.

Several bot processes may share one store (PostgreSQL). What they need of each other is here too:

* `Coordination`: which process leads the background work (the tracker, the Slack sender), numbered by an
  epoch each new leader bumps, and nudges between the processes (wake the sender, a thread was posted);
* leases on jobs (`claim_lease`, `renew_leases`, `release_lease`): which process drives a job through a
  request right now, so the leader's tracker leaves it alone until the lease runs out;
* claims that make one caller win (`claim_parent_post`, `claim_notice`, `claim_deliveries`);
* `fenced`: a view of the store whose writes hold only while the epoch it is given is the current one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.core.jobs import Decision, DueDelivery, Job, JobState, NewJob, Notice, PendingNotice


class StoreError(Exception):
    """Base of every job-store failure."""


class StoreUnavailable(StoreError):
    """The store could not do what was asked (locked, disk full, read-only, corrupt)."""


class NotLeader(StoreUnavailable):
    """A write made for the background work through a `fenced` store after another process became the leader
    (or while this one leads nothing): refused, nothing changed. The new leader does that work now."""


class StoreConflict(StoreError):
    """The store refused a change because of what it holds; nothing was changed."""


class ActiveRestoreExists(StoreConflict):
    """A restore into this target name is already active; `existing` is that job."""

    def __init__(self, existing: Job) -> None:
        super().__init__(f"a restore into {existing.index_name} is already active (job {existing.id})")
        self.existing = existing


class StaleJob(StoreConflict):
    """The job is not in the state the caller expected: someone else moved it first."""

    def __init__(self, job: Job | None, expected: JobState) -> None:
        actual = job.state if job else "missing"
        super().__init__(f"expected job in state {expected}, found {actual}")
        self.job = job


class DeadlinePassed(StoreConflict):
    """The job's approval deadline had passed when the decision was to be recorded; `job` is as it is."""

    def __init__(self, job: Job) -> None:
        super().__init__(f"job {job.id}: its approval deadline {job.approval_expires_at} has passed")
        self.job = job


@dataclass(frozen=True)
class StateChange:
    """A job the store created (`before` None) or moved from `before` to `job.state`, once committed."""

    before: JobState | None
    job: Job
    #: The `reason` field the change set, if any.
    reason: str | None = None
    decision: Decision | None = None


#: Called after each committed state change (metrics, the `job.state_changed` log event).
StateChangeHook = Callable[[StateChange], None]


@dataclass(frozen=True)
class PoolStats:
    """A connection pool's state, for the metrics: connections open (idle + in use) and its bounds."""

    idle: int
    in_use: int
    min_size: int
    max_size: int


@dataclass(frozen=True)
class Leader:
    """The latest leadership of the background work recorded in the store: who, which epoch, since when."""

    holder: str
    epoch: int
    since: datetime


#: Told what another process (or this one) published: the topic and its payload.
Subscriber = Callable[[str, str], None]
#: Topics the processes sharing a store publish.
WAKE = "wake"  # something new is recorded: the Slack sender should deliver now
THREAD = "thread"  # payload: a job ID whose parent message was posted (or whose channel was given up on)


class Coordination(Protocol):
    """How the bot processes sharing one store agree on who leads the background work, and nudge each other.

    One process at a time leads. On PostgreSQL the leader holds a session-level advisory lock on a connection
    of its own, outside the pool: the server releases it when that connection dies (the process was killed,
    its host lost the network), and another process takes it. SQLite has one process, which always leads.
    Each new leadership bumps the store's epoch; `fenced` stores refuse writes made under an older one.
    """

    @property
    def epoch(self) -> int | None:
        """The epoch of this process's leadership while it leads, else None."""
        ...

    async def try_lead(self) -> int | None:
        """Lead if nobody does: the new epoch, or None (another process leads, or the database cannot be
        reached: that is logged). Never raises StoreError."""
        ...

    async def still_leading(self) -> bool:
        """Whether this process still leads (its lock connection answers and holds the lock). Bounded in time;
        False once the connection was lost, which also ends the leadership."""
        ...

    def on_lost(self, callback: Callable[[], None]) -> None:
        """Call `callback` as soon as the leadership is found lost (the lock connection closed or failed)."""
        ...

    async def resign(self) -> None:
        """Stop leading (release the lock); another process may take it at once."""
        ...

    async def listen(self) -> bool:
        """Make sure this process hears what the others publish (reconnecting if needed); False if it cannot
        now. Publications missed meanwhile are not replayed: subscribers must not depend on them alone."""
        ...

    def subscribe(self, subscriber: Subscriber) -> None: ...

    async def publish(self, topic: str, payload: str = "") -> None:
        """Tell every process sharing the store (this one included). Best effort: never raises StoreError."""
        ...

    async def close(self) -> None: ...


class JobStore(Protocol):
    @property
    def shared(self) -> bool:
        """Whether other bot processes may use this store at the same time (PostgreSQL; not a SQLite file)."""
        ...

    def on_state_change(self, hook: StateChangeHook) -> None:
        """Call `hook` after every committed `create` and `transition`, never for a refused one. A hook that
        raises is logged; it never turns a saved change into an error for the caller."""
        ...

    async def create(self, job: NewJob, *, state: JobState = JobState.REQUESTED, **fields: Any) -> Job:
        """Record a new job in `requested` (or `awaiting_approval`). Raises ActiveRestoreExists."""
        ...

    async def get(self, job_id: str) -> Job | None: ...

    async def transition(
        self,
        job_id: str,
        expected: JobState,
        target: JobState,
        *,
        notices: tuple[Notice, ...] = (),
        decision: Decision | None = None,
        deadline: datetime | None = None,
        **fields: Any,
    ) -> Job:
        """Move a job from `expected` to `target`, set fields and record notices, atomically.

        Marks the parent message for redrawing. Raises StaleJob if the job is not in `expected`, and, with
        `deadline` (the decision's time), DeadlinePassed if the job's `approval_expires_at` is not after it.
        """
        ...

    async def update(self, job_id: str, *, notices: tuple[Notice, ...] = (), **fields: Any) -> Job:
        """Set fields that are not the state (progress, message ts, ...) and record notices."""
        ...

    async def deliveries_due(self, now: datetime) -> list[DueDelivery]:
        """Jobs whose parent message is missing or stale, or with a notice due, least recently changed first."""
        ...

    async def claim_parent_redraw(self, job_id: str) -> bool: ...

    async def pending_notices(self, job_id: str) -> list[PendingNotice]: ...

    async def notice_sending(self, notice_id: int) -> None: ...

    async def notice_sent(self, notice_id: int) -> None: ...

    async def notice_failed(self, notice_id: int, retry_at: datetime, error: str, *, maybe_sent: bool = False) -> None:
        """Try the notice again at `retry_at`. `maybe_sent`: Slack may have taken it although no success came
        back, so `sending_since` is kept and the next attempt looks for it before posting again."""
        ...

    async def notice_dropped(self, notice_id: int, error: str) -> None:
        """Give up on a notice for good, recording why; it is never sent."""
        ...

    async def lose_channel(self, job_id: str, error: str, notice: Notice | None = None) -> bool:
        """Record that nothing more can be sent to the job's channel (`slack_error`), with `notice`, once:
        False (and nothing recorded) if it was recorded before."""
        ...

    async def claim_parent_post(self, job_id: str, *, seen: datetime | None, now: datetime) -> bool:
        """Mark the job's parent message as being posted (`parent_posting_since` = `now`), if its mark is still
        `seen` (the value the caller read) and it has no parent yet: True for the one caller that may post."""
        ...

    async def claim_notice(self, notice_id: int, *, seen: datetime | None, now: datetime) -> bool:
        """Mark the notice as being sent (`sending_since` = `now`), if its mark is still `seen` and it is neither
        sent nor dropped: True for the one caller that may send it."""
        ...

    async def record_deliveries(
        self, keys: list[str], *, forget_before: datetime | None = None, holder: str | None = None
    ) -> None:
        """Record Slack delivery keys as seen by `holder` (a key recorded before keeps its holder); with
        `forget_before`, forget those older than that too."""
        ...

    async def claim_deliveries(
        self, keys: Collection[str], *, holder: str, now: datetime, forget_before: datetime | None = None
    ) -> set[str]:
        """Claim the work of Slack deliveries for `holder`, in one transaction: the keys that are new or that
        `holder` recorded; not those another process recorded. With `forget_before`, keys older than that are
        forgotten too."""
        ...

    async def delivery_keys_since(self, since: datetime) -> set[str]: ...

    async def active_jobs(self) -> list[Job]: ...

    # -- which process drives a job -----------------------------------------------------------------

    async def claim_lease(self, job_id: str, driver: str, *, until: datetime, now: datetime) -> Job | None:
        """Make `driver` the job's driver until `until` if nobody else drives it (no driver, `driver` itself, or
        a lease that ran out by `now`) and the job is active: the job as claimed, else None."""
        ...

    async def renew_leases(self, driver: str, job_ids: Collection[str], *, until: datetime) -> int:
        """Extend `driver`'s leases on these jobs to `until` (those it still holds): how many."""
        ...

    async def release_lease(self, job_id: str, driver: str) -> None:
        """Give the job's lease up, if `driver` holds it."""
        ...

    async def mark_submitted(self, job_id: str, driver: str, *, at: datetime) -> Job:
        """Record that create-index is about to be sent (`submitted_at` = `at`): only while the job is in
        `submitting` and `driver` holds its lease. Raises StaleJob otherwise (someone else drives it now)."""
        ...

    # -- several processes ----------------------------------------------------------------------------

    def fenced(self, epoch: Callable[[], int | None]) -> JobStore:
        """The same store, whose every write first checks, in its transaction, that the store's leadership epoch
        is `epoch()` (NotLeader otherwise; None: this process leads nothing). A new leader's epoch bump waits
        for the writes under way, so none made under an older epoch lands after it. Reads are unchanged."""
        ...

    def coordination(self, holder: str) -> Coordination:
        """The coordination of the processes sharing this store; `holder` names this process (host, pid...)."""
        ...

    async def leader(self) -> Leader | None:
        """The latest leadership recorded (None before any)."""
        ...

    async def decisions(self, job_id: str) -> list[Decision]: ...

    async def latest_for_index(self, index_name: str) -> Job | None: ...

    async def restore_job_owner(self, restore_job_id: str, *, other_than: str) -> Job | None:
        """The job, other than `other_than`, that already holds this Pinecone restore job: one job's restore
        is never adopted by another."""
        ...

    async def recent_in_channel(self, channel_id: str, limit: int = 10) -> list[Job]: ...

    async def recent_jobs(
        self, *, index_name: str | None = None, requester_id: str | None = None, limit: int = 20
    ) -> list[Job]: ...

    async def schema_version(self) -> int:
        """The last migration applied to the database."""
        ...

    async def ping(self) -> bool:
        """Whether the database answers now (cheap, bounded in time, never raises): for /healthz."""
        ...

    def pool_stats(self) -> PoolStats | None:
        """The connection pool's state, or None for a store without a pool (SQLite's one connection)."""
        ...

    async def close(self) -> None: ...
