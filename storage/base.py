"""The job store port: the interface the rest of the bot uses, and its one error tree.

    StoreError                   every failure of the job store
    ├── StoreUnavailable         the store could not do what was asked (locked, disk full, read-only,
    │                            corrupt, a schema newer than this bot); try again later
    └── StoreConflict            the store refused because of what it holds; nothing was changed
        ├── StaleJob             the job is not in the state the caller expected: someone moved it first
        ├── DeadlinePassed       the decision came after the request's approval deadline
        └── ActiveRestoreExists  a restore into this target name is already active

Callers that mean "the store is down" catch `StoreUnavailable`; a conflict is an answer, not an outage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from bot.core.jobs import Decision, DueDelivery, Job, JobState, NewJob, Notice, PendingNotice


class StoreError(Exception):
    """Base of every job-store failure."""


class StoreUnavailable(StoreError):
    """The store could not do what was asked (locked, disk full, read-only, corrupt)."""


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


class JobStore(Protocol):
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

    async def record_deliveries(self, keys: list[str], *, forget_before: datetime) -> None: ...

    async def delivery_keys_since(self, since: datetime) -> set[str]: ...

    async def active_jobs(self) -> list[Job]: ...

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
