"""A restore job and the states it moves through.

    checking ──► awaiting_approval ──► requested ──► submitting ──► restoring ──► ready
     │  │         │  (policy)              │              │              ├──────► failed
     │  │         ├─► denied               │              │              └──────► timed_out
     │  │         ├─► cancelled            └──────────────┴─► rejected            (refused; nothing was created)
     │  │         └─► expired
     │  └─► requested       (no approval needed)
     └────► rejected        (the channel or the policy refuses, or no backup qualifies)

* checking   – recorded as soon as it was acked, before any Slack or Pinecone call: the bot is finding
               out whether it may go ahead (can it post in the channel, who is in the policy's user
               groups, does it need approval and what would the plan card say) and, for a request
               by intent, which backup it means (chosen, then fixed on the job as it leaves
               `checking`). A request by ID that needs none of that is recorded straight in `requested`.
* awaiting_approval – policy asks for a second person: a plan card with Approve/Deny waits in the
               channel. Nothing is sent to Pinecone until someone allowed approves.
* denied / cancelled / expired – an approver said no, the requester withdrew, or nobody decided in time.

* requested  – recorded in the store; the backup is being checked. Nothing sent to Pinecone yet.
* submitting – the create-index call is (or may be) in flight. After a crash or a lost answer
               the job is reconciled by looking the target name up in Pinecone.
* restoring  – Pinecone accepted; the tracker polls the restore job and then the index. Pinecone reports
               `Pending` and no progress figure until the job is done; once the index is Ready and its
               record count still falls short of the backup's, the job is *verifying* (`verify_since`).
* ready      – restore job Completed, the index reports Ready, and it was compared with its backup.
* failed     – restore job Failed or Cancelled, or the index InitializationFailed.
* timed_out  – not Ready within RESTORE_BOT_RESTORE_TIMEOUT (Pinecone may still finish it).
* rejected   – refused before anything was created (bad backup, name taken, quota, ...).

`checking`, `awaiting_approval`, `requested`, `submitting` and `restoring` are *active*: at most one
active job per target name, enforced by the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class JobState(StrEnum):
    CHECKING = "checking"
    AWAITING_APPROVAL = "awaiting_approval"
    REQUESTED = "requested"
    SUBMITTING = "submitting"
    RESTORING = "restoring"
    READY = "ready"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    REJECTED = "rejected"
    DENIED = "denied"
    CANCELLED = "cancelled"
    EXPIRED = "expired"

    @property
    def active(self) -> bool:
        return self in ACTIVE_STATES

    @property
    def final(self) -> bool:
        return not self.active


ACTIVE_STATES = frozenset(
    {JobState.CHECKING, JobState.AWAITING_APPROVAL, JobState.REQUESTED, JobState.SUBMITTING, JobState.RESTORING}
)
# States whose job has a parent message: a restore Pinecone accepted, or a plan card awaiting approval.
THREADED_STATES = frozenset(
    {
        JobState.AWAITING_APPROVAL,
        JobState.RESTORING,
        JobState.READY,
        JobState.FAILED,
        JobState.TIMED_OUT,
        JobState.DENIED,
        JobState.CANCELLED,
        JobState.EXPIRED,
    }
)

TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.CHECKING: frozenset({JobState.AWAITING_APPROVAL, JobState.REQUESTED, JobState.REJECTED}),
    JobState.AWAITING_APPROVAL: frozenset({JobState.REQUESTED, JobState.DENIED, JobState.CANCELLED, JobState.EXPIRED}),
    JobState.REQUESTED: frozenset({JobState.SUBMITTING, JobState.REJECTED}),
    JobState.SUBMITTING: frozenset({JobState.RESTORING, JobState.REJECTED}),
    JobState.RESTORING: frozenset({JobState.READY, JobState.FAILED, JobState.TIMED_OUT}),
    JobState.READY: frozenset(),
    JobState.FAILED: frozenset(),
    JobState.TIMED_OUT: frozenset(),
    JobState.REJECTED: frozenset(),
    JobState.DENIED: frozenset(),
    JobState.CANCELLED: frozenset(),
    JobState.EXPIRED: frozenset(),
}


class InvalidTransition(ValueError):
    def __init__(self, current: JobState, target: JobState) -> None:
        super().__init__(f"a job cannot go from {current} to {target}")
        self.current = current
        self.target = target


def check_transition(current: JobState, target: JobState) -> None:
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(current, target)


def utcnow() -> datetime:
    """The clock the outer layers pass in by default; nothing in the core reads the time by itself."""
    return datetime.now(UTC)


class NewJob(BaseModel):
    """What the bot knows when a request is accepted for recording."""

    model_config = ConfigDict(frozen=True)

    backup_id: str
    index_name: str
    tags: dict[str, str] = Field(default_factory=dict)
    deletion_protection: bool = False
    requester_id: str
    channel_id: str
    #: A request by intent (`from:<source> [before:<when>]`): the index whose backups are chosen from, and the
    #: `before:` text as typed. Its `backup_id` is empty until the backup is chosen (`backup_choice`).
    intent_source: str | None = None
    intent_before: str | None = None

    @property
    def by_intent(self) -> bool:
        return self.intent_source is not None


class Job(NewJob):
    """A recorded restore job, as the store returns it."""

    id: str
    state: JobState
    created_at: datetime
    updated_at: datetime
    source_index_name: str | None = None
    backup_record_count: int | None = None
    message_ts: str | None = None
    restore_job_id: str | None = None
    index_id: str | None = None
    #: Only a percent Pinecone reported (2026-07: 100 once Completed, nothing before); never an invented one.
    percent_complete: float | None = None
    #: The restore job's status as Pinecone last reported it (Pending, or a value Pinecone added later).
    pinecone_status: str | None = None
    #: How many "still restoring" check-ins the thread has had (`next_check_in`).
    check_ins: int = 0
    #: Set while a Ready index's record count is re-checked against its backup's.
    verify_since: datetime | None = None
    host: str | None = None
    dimension: int | None = None
    metric: str | None = None
    reason: str | None = None
    submitted_at: datetime | None = None
    finished_at: datetime | None = None
    parent_dirty: bool = False
    parent_posting_since: datetime | None = None
    outage_since: datetime | None = None
    outage_announced: bool = False
    # Approval (policy): who may approve, why approval is needed, until when, and the decision.
    approvers: tuple[str, ...] = ()
    approval_reason: str | None = None
    approval_expires_at: datetime | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_reason: str | None = None
    # What the plan card shows about the backup and the target name.
    backup_name: str | None = None
    backup_created_at: str | None = None
    backup_size_bytes: int | None = None
    backup_status: str | None = None
    target_free: bool | None = None
    # A request by intent, once its backup was chosen: the moment `before:` was understood as (UTC), and the
    # sentence saying which backup was chosen and why ("newest Ready backup of prod-search before ...").
    intent_moment: datetime | None = None
    backup_choice: str | None = None
    # The restored index compared with its backup (dimension, metric, record count), once Ready.
    verification: str | None = None
    verified: bool | None = None
    # Slack: why nothing more is sent to the job's channel (it was archived, the bot removed, a scope
    # revoked; or the parent may have been posted but cannot be looked up), and why the parent is no
    # longer redrawn. Notices for the incident channel and the requester still go.
    slack_error: str | None = None
    parent_error: str | None = None
    # Which bot process drives the job through a request right now, and until when: a lease, renewed while it
    # drives; the tracker leaves the job alone until it is released or runs out (bot/service/leases.py).
    driver_id: str | None = None
    driver_until: datetime | None = None

    @property
    def has_thread(self) -> bool:
        """Jobs with a parent message: accepted restores and plan cards. Refused ones never get one."""
        return self.state in THREADED_STATES or self.message_ts is not None

    @property
    def active(self) -> bool:
        return self.state.active

    def elapsed(self, now: datetime) -> float:
        """Seconds since Pinecone accepted the restore (or since the request, before that), until it finished
        or, while it runs, until `now`."""
        start = self.submitted_at or self.created_at
        end = self.finished_at or now
        return max(0.0, (end - start).total_seconds())


class NoticeKind(StrEnum):
    """A message about a job that the Slack sender delivers (see `storage` table `notices`)."""

    STARTED = "started"  # thread: Pinecone accepted
    CHECK_IN = "check_in"  # thread: still restoring after 30 min, 1 h, 2 h, 4 h, ... (detail: the seconds)
    MILESTONE = "milestone"  # thread: 25/50/75 % (API 2026-04 only; kept to deliver notices recorded before)
    FINISHED = "finished"  # thread: ready, failed or timed out, mentioning the requester
    INCIDENT = "incident"  # incident channel: failed or timed out, with a link to the thread
    OUTAGE = "outage"  # thread: Pinecone has not answered since ...
    RECOVERED = "recovered"  # thread: Pinecone answers again
    REFUSED = "refused"  # thread: Pinecone refuses the bot's reads (detail: failure kind, space, Pinecone's words)
    REJECTED = "rejected"  # refused later: in the thread if there is one, else to the requester only
    APPROVED = "approved"  # thread: who approved, with their reason
    DENIED = "denied"  # thread: who denied and why, mentioning the requester
    CANCELLED = "cancelled"  # thread: the requester withdrew the request
    EXPIRED = "expired"  # thread: nobody decided in time, mentioning the requester
    MISMATCH = "mismatch"  # incident channel: the restored index does not match its backup
    UNREACHABLE = "unreachable"  # to the requester by direct message: the job's channel takes nothing more


class Notice(BaseModel):
    """A notice to record together with a job change."""

    model_config = ConfigDict(frozen=True)

    kind: NoticeKind
    milestone: int | None = None
    detail: str | None = None  # e.g. when an outage began (ISO 8601)


class PendingNotice(Notice):
    """A recorded notice not yet delivered."""

    id: int
    job_id: str
    created_at: datetime
    attempts: int = 0
    sending_since: datetime | None = None
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class DueDelivery:
    """What Slack still has to be told about one job, without loading the job."""

    job_id: str
    channel_id: str
    needs_parent: bool  # a threaded job whose parent message is not posted yet
    parent_dirty: bool  # a posted parent message shows an older state
    notice_due: bool


class Decision(BaseModel):
    """An approval decision: who decided what, when and why."""

    model_config = ConfigDict(frozen=True)

    decision: str  # "approved" | "denied" | "cancelled" | "expired"
    by_user: str
    reason: str | None = None
    at: datetime | None = None


# -- check-ins: when the thread hears that a restore is still running --------------------------------
#
# Pinecone reports a restore as Pending, with no progress figure, until it is done (API 2026-07), so
# the thread cannot say how far it is. It says instead that it is still running, at growing intervals:
# after 30 min, 1 h, 2 h, 4 h, ... A two-minute restore hears nothing until it is done, and a five-hour
# one hears four times, so it never looks dead.

FIRST_CHECK_IN = 30 * 60.0


def check_in_after(number: int) -> float:
    """Seconds from the start of a restore to its `number`-th check-in (1-based): 30 min, doubling."""
    return FIRST_CHECK_IN * 2.0 ** (number - 1)


def check_ins_reached(elapsed: float) -> int:
    """How many check-in times `elapsed` seconds have passed."""
    reached = 0
    while elapsed >= check_in_after(reached + 1):
        reached += 1
    return reached


def next_check_in(job: Job, now: datetime) -> int | None:
    """The check-in due now and not yet said, if any; only the latest when several are due (after a
    restart, say), so the thread gets one reply, not a burst."""
    if job.state is not JobState.RESTORING or job.verify_since is not None:
        return None
    reached = check_ins_reached(job.elapsed(now))
    return reached if reached > job.check_ins else None
