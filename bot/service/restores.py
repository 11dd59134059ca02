"""From an accepted request to a running Pinecone restore, exactly once.

The job is recorded before Pinecone is called and moved to `submitting` before create-index
is sent, so a crash or a lost answer always leaves a job that can be reconciled: `reconcile`
looks the target name up in Pinecone's restore jobs (in whatever order Pinecone lists them) and then
in the index itself, and decides, never a blind second call.

The process that drives a job holds a lease on it in the store (bot/service/leases.py), recorded with the
request or the approval, or claimed when the tracker takes the job up; only the lease's holder may mark
create-index as sent, so a process that took over a job from a dead one reconciles, and one that lost its
lease does not send create-index again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.core import render
from bot.core.backup_choice import Chosen
from bot.core.backup_facts import BackupFacts
from bot.core.jobs import Decision, Job, JobState, NewJob, Notice, NoticeKind, utcnow
from bot.core.outcomes import (
    AlreadyRunning,
    AwaitingApproval,
    DecisionRefused,
    Outcome,
    Pending,
    RequestRefused,
    Started,
)
from bot.core.render.pinecone_sentences import explain
from bot.core.request.field_rules import RestoreIntent, RestoreRequest
from bot.pinecone import AlreadyExists, NotFound, PineconeClient, PineconeError, RateLimited
from bot.pinecone.client import MAX_RETRY_AFTER
from bot.pinecone.errors import BackupNotReady, is_ambiguous
from bot.pinecone.models import Backup, CreateIndexFromBackupRequest, IndexModel
from bot.service.ack_priority import AckPriority
from bot.service.delivery import SlackDelivery
from bot.service.leases import Leases
from storage.base import ActiveRestoreExists, DeadlinePassed, JobStore, StaleJob, StoreUnavailable

log = logging.getLogger(__name__)

# Pinecone's clock and ours may differ; a restore job created this long before our record still counts.
CLOCK_SKEW = timedelta(minutes=5)
# How far reconcile pages through the project's restore jobs (100 per page): to the end, up to 10,000 jobs;
# beyond that the index itself answers.
RECONCILE_MAX_PAGES = 100
SUBMIT_ATTEMPTS = 3
# How long the requester's confirmation waits for the thread to exist, to link to it.
THREAD_GRACE = 5.0
# Requests talking to Pinecone at once: as many as the tracker's polls (bot/service/tracker.py).
SUBMITTING_SLOTS = 16


Sleep = Callable[[float], Awaitable[None]]
#: Finishes checking a job recorded in `checking` (channel, policy, approval): bot/service/restore_requests.py.
#: The flag says whether a refusal must reach the requester through Slack (after a restart, nobody else would).
Checker = Callable[[Job, bool], Awaitable[Any]]


def process_name() -> str:
    """This process's name among the bot's processes: host, pid and a random part (unique per start)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


# Tags that keep the trail outside Slack: who restored the index and from which backup.
RESTORED_BY_TAG = "restored-by"
RESTORED_FROM_TAG = "restored-from"


def create_index_body(
    index_name: str, tags: dict[str, str], *, deletion_protection: bool, requester_id: str, backup_id: str
) -> CreateIndexFromBackupRequest:
    """The create-index request for a restore, exactly as it goes on the wire.

    Adds `restored-by` (the requester's Slack user ID) and `restored-from` (the backup ID) unless the
    requester set those keys themselves.
    """
    trail = {RESTORED_BY_TAG: requester_id, RESTORED_FROM_TAG: backup_id}
    return CreateIndexFromBackupRequest(
        name=index_name,
        tags={**trail, **tags},
        deletion_protection="enabled" if deletion_protection else "disabled",
    )


class RestoreService:
    def __init__(
        self,
        store: JobStore,
        pinecone: PineconeClient,
        delivery: SlackDelivery,
        *,
        retry_delay: float = 1.0,
        sleep: Sleep = asyncio.sleep,
        acks: AckPriority | None = None,
        clock: Callable[[], datetime] = utcnow,
        leases: Leases | None = None,
    ) -> None:
        self._clock = clock
        self._store = store
        self._pinecone = pinecone
        self._delivery = delivery
        self._retry_delay = retry_delay
        self._sleep = sleep
        # A request is recorded as soon as it is acked, so a crash cannot lose it; what it then asks of
        # Pinecone waits until a burst of commands has been answered (bot/service/ack_priority.py).
        self.acks = acks or AckPriority()
        self._submitting = self.acks.turns(SUBMITTING_SLOTS)
        # Which jobs this process drives right now, as leases in the store: the tracker leaves them alone.
        self.leases = leases or Leases(store, process_name(), clock=clock)
        #: Set by RestoreRequests: how a job recorded in `checking` is taken further after a restart.
        self.checker: Checker | None = None

    async def request(self, request: RestoreRequest, *, requester_id: str, channel_id: str) -> Outcome:
        job = await self._record(new_job(request, requester_id, channel_id))
        if not isinstance(job, Job):
            return job
        log.info("job %s recorded: restore %s into %s for %s", job.id, job.backup_id, job.index_name, requester_id)
        return await self._drive(job, tell_requester=False)

    async def _drive(self, job: Job, *, tell_requester: bool) -> Outcome:
        """Take a recorded `requested` job, leased to this process, to Pinecone; link the requester to its thread."""
        async with self.driving(job.id, leased=True), self._submitting.turn():
            outcome = await self.advance(job, tell_requester=tell_requester)
        if isinstance(outcome, Started):
            threaded = await self._delivery.wait_for_thread(outcome.job.id, THREAD_GRACE)
            if threaded is not None:
                return Started(threaded, await self._delivery.link(threaded))
        return outcome

    def pinecone_turn(self) -> AbstractAsyncContextManager[None]:
        """A turn to ask Pinecone for a request: it waits while a burst of commands is being answered."""
        return self._submitting.turn()

    def is_driving(self, job: Job) -> bool:
        """A request or an approval, in this process or another, is taking this job to Pinecone right now (its
        lease has not run out): the tracker leaves it alone."""
        return self.leases.driven(job)

    def driving(self, job_id: str, *, leased: bool = False) -> AbstractAsyncContextManager[bool]:
        """While a request checks or drives this job, the tracker leaves it alone (`Leases.holding`): True if
        this process may drive it. `leased`: the job was recorded or approved with this process's lease."""
        return self.leases.holding(job_id, leased=leased)

    async def resume(self, job: Job) -> Outcome:
        """Take up a job nobody is driving (after a restart, a request that gave up, a process that died): the
        tracker's way in. A refusal then reaches the requester through Slack, since nobody else would tell them."""
        async with self.driving(job.id) as mine:
            if not mine:
                return Pending(job)  # another process claimed it first
            if job.state is JobState.CHECKING:
                if self.checker is None:
                    return Pending(job)
                await self.checker(job, True)
                return Pending(await self._store.get(job.id) or job)
            return await self.advance(job, tell_requester=True)

    # -- a request recorded before it is checked -----------------------------------------------------

    async def record_checking(
        self, request: RestoreRequest, *, requester_id: str, channel_id: str
    ) -> Job | AlreadyRunning | RequestRefused:
        """Record a request in `checking`, before any Slack or Pinecone call is made for it."""
        job = await self._record(new_job(request, requester_id, channel_id), state=JobState.CHECKING)
        if isinstance(job, Job):
            log.info("job %s recorded for checking: restore %s into %s", job.id, job.backup_id, job.index_name)
        return job

    async def record_intent(
        self, intent: RestoreIntent, *, requester_id: str, channel_id: str
    ) -> Job | AlreadyRunning | RequestRefused:
        """Record a request by intent in `checking`, before any Slack or Pinecone call is made for it: its
        backup is chosen while it is checked (`backup_id` is empty until then)."""
        new = NewJob(
            backup_id="",
            index_name=intent.index_name,
            tags=dict(intent.tags),
            deletion_protection=intent.deletion_protection,
            requester_id=requester_id,
            channel_id=channel_id,
            intent_source=intent.source_index,
            intent_before=intent.before,
        )
        job = await self._record(new, state=JobState.CHECKING)
        if isinstance(job, Job):
            log.info(
                "job %s recorded for checking: restore the newest Ready backup of %s%s into %s",
                job.id,
                intent.source_index,
                f" before {intent.before!r}" if intent.before else "",
                job.index_name,
            )
        return job

    async def proceed(self, job: Job, *, tell_requester: bool, choice: Chosen | None = None) -> Outcome:
        """A checked request that needs no approval: on to Pinecone, as `request` does once it has recorded.
        A request by intent gets its chosen backup here."""
        job = await self._store.transition(job.id, JobState.CHECKING, JobState.REQUESTED, **choice_fields(choice))
        return await self._drive(job, tell_requester=tell_requester)

    async def refuse(self, job: Job, reason: str, *, tell_requester: bool) -> Job:
        """A checked request that may not go ahead (the channel, the policy); nothing was sent to Pinecone."""
        return await self._reject(job, JobState.CHECKING, reason, tell_requester)

    async def plan(
        self,
        job: Job,
        *,
        approvers: tuple[str, ...],
        approval_reason: str,
        timeout_minutes: float,
        tell_requester: bool,
        choice: Chosen | None = None,
    ) -> Outcome:
        """A checked request that needs approval: read Pinecone (never write), then the plan card waits. A
        request by intent shows the backup chosen for it, which is the one an approval restores."""
        backup_id = choice.backup.backup_id if choice is not None else job.backup_id
        try:
            async with self._submitting.turn():
                backup: BackupFacts = choice.backup if choice is not None else await self.describe_backup(backup_id)
                if not backup.ready:
                    raise BackupNotReady(400, "FAILED_PRECONDITION", f"its status is {backup.status}")
                target_free = await self.name_is_free(job.index_name)
        except PineconeError as exc:
            reason = explain(exc, backup_id=backup_id, index_name=job.index_name)
            return RequestRefused(reason, await self.refuse(job, reason, tell_requester=tell_requester))
        if not target_free:
            exists = AlreadyExists(409, "ALREADY_EXISTS", "exists")
            reason = explain(exists, backup_id=backup_id, index_name=job.index_name)
            return RequestRefused(reason, await self.refuse(job, reason, tell_requester=tell_requester))
        job = await self._store.transition(
            job.id,
            JobState.CHECKING,
            JobState.AWAITING_APPROVAL,
            approvers=approvers,
            approval_reason=approval_reason,
            approval_expires_at=self._clock() + timedelta(minutes=timeout_minutes),
            source_index_name=backup.source_index_name,
            backup_record_count=backup.record_count,
            backup_name=backup.name,
            backup_created_at=backup.created_at,
            backup_size_bytes=backup.size_bytes,
            backup_status=backup.status,
            target_free=target_free,
            **choice_fields(choice),
        )
        log.info("job %s awaiting approval by %s (%s)", job.id, ", ".join(approvers), approval_reason)
        self._delivery.wake()
        threaded = await self._delivery.wait_for_thread(job.id, THREAD_GRACE)
        return AwaitingApproval(threaded or job, await self._delivery.link(threaded) if threaded else None)

    # -- approvals -----------------------------------------------------------------------------------

    async def _record(self, new: NewJob, **create: Any) -> Job | AlreadyRunning | RequestRefused:
        """Write the request to the store: the one place a job is born."""
        try:
            # Leased to this process from the start: the tracker leaves the new job to the request.
            return await self._store.create(new, **self.leases.fields(), **create)
        except ActiveRestoreExists as exc:
            return AlreadyRunning(exc.existing, await self._delivery.link(exc.existing))
        except StoreUnavailable as exc:
            log.error("could not record a restore request into %s: %s", new.index_name, exc)
            return RequestRefused(render.STORE_WRITE_FAILED)

    async def name_is_free(self, index_name: str) -> bool:
        """No index has this name in Pinecone now (a read; raises PineconeError if Pinecone cannot say)."""
        try:
            await self._pinecone.describe_index(index_name)
        except NotFound:
            return True
        return False

    async def describe_backup(self, backup_id: str) -> Backup:
        """A backup as Pinecone describes it (a read; raises PineconeError)."""
        return await self._pinecone.describe_backup(backup_id)

    async def active_restore(self, index_name: str) -> tuple[Job, str | None] | None:
        """The active restore into this name, if there is one, with a link to its thread."""
        job = await self._store.latest_for_index(index_name)
        if job is None or not job.active:
            return None
        return job, await self._delivery.link(job)

    async def approve(self, job_id: str, *, approver_id: str, reason: str | None) -> Job | DecisionRefused:
        """Record the approval (one approver wins a race) and start the restore in the same thread."""
        job = await self._decide(
            job_id, JobState.REQUESTED, NoticeKind.APPROVED, approver_id, reason, **self.leases.fields()
        )
        if isinstance(job, Job):
            self._delivery.wake()
        return job

    async def run_approved(self, job: Job) -> None:
        """Drive an approved job (leased to this process by `approve`) to `restoring`; the thread and, on
        refusal, the requester are told."""
        async with self.driving(job.id, leased=True), self._submitting.turn():
            await self.advance(job, tell_requester=True)

    async def deny(self, job_id: str, *, approver_id: str, reason: str) -> Job | DecisionRefused:
        return await self._decide(job_id, JobState.DENIED, NoticeKind.DENIED, approver_id, reason)

    async def cancel(self, job_id: str, *, requester_id: str) -> Job | DecisionRefused:
        return await self._decide(job_id, JobState.CANCELLED, NoticeKind.CANCELLED, requester_id, None)

    async def expire(self, job: Job, now: datetime) -> Job | DecisionRefused:
        if job.approval_expires_at is None or job.approval_expires_at > now:
            return DecisionRefused("not expired yet")
        return await self._decide(job.id, JobState.EXPIRED, NoticeKind.EXPIRED, "restore-bot", None)

    async def _decide(
        self, job_id: str, target: JobState, kind: NoticeKind, by: str, reason: str | None, **fields: Any
    ) -> Job | DecisionRefused:
        """Record a decision. A person's decision holds only before the request's deadline, checked in the
        same transaction (whatever the tracker's cycle); the deadline's own expiry is the one exception."""
        now = self._clock()
        try:
            job = await self._store.transition(
                job_id,
                JobState.AWAITING_APPROVAL,
                target,
                decided_by=by,
                decided_at=now,
                decision_reason=reason,
                finished_at=None if target is JobState.REQUESTED else now,
                notices=(Notice(kind=kind),),
                decision=Decision(decision=kind.value, by_user=by, reason=reason),
                deadline=None if target is JobState.EXPIRED else now,
                **fields,
            )
        except StaleJob as exc:
            return DecisionRefused(render.already_decided(exc.job))
        except DeadlinePassed as exc:
            log.info("job %s: a decision by %s came after its deadline; it expires now", job_id, by)
            expired = await self.expire(exc.job, now)
            return DecisionRefused(render.request_expired(exc.job if isinstance(expired, DecisionRefused) else expired))
        except StoreUnavailable as exc:
            log.error("job %s: could not record a decision by %s: %s", job_id, by, exc)
            return DecisionRefused(render.STORE_DECISION_FAILED)
        log.info("job %s %s by %s%s", job.id, kind.value, by, f": {reason}" if reason else "")
        self._delivery.wake()
        return job

    async def advance(self, job: Job, *, tell_requester: bool) -> Outcome:
        """Take a `requested` or `submitting` job as far as `restoring` (or `rejected`).

        `tell_requester`: a refusal is also sent to the requester through Slack (the request path
        answers them itself; after a restart nobody else would).
        """
        try:
            if job.state is JobState.REQUESTED:
                job = await self._check_backup(job, tell_requester)
                if job.state is JobState.REJECTED:
                    return RequestRefused(job.reason or "", job)
            if job.state is JobState.SUBMITTING:
                job = await self._submit(job, tell_requester)
        except StoreUnavailable as exc:
            log.error("job %s: the store failed mid-request: %s", job.id, exc)
            return Pending(job)
        except StaleJob as exc:
            # Someone else (the tracker after a restart, another replica) moved it on.
            return Pending(exc.job or job)
        except ReconcileUnavailable:
            # Pinecone may or may not have the restore; only a later look can tell.
            return Pending(job)
        if job.state is JobState.RESTORING:
            return Started(job, None)
        if job.state is JobState.REJECTED:
            return RequestRefused(job.reason or "", job)
        return Pending(job)

    async def _check_backup(self, job: Job, tell_requester: bool) -> Job:
        try:
            backup = await self._pinecone.describe_backup(job.backup_id)
        except PineconeError as exc:
            log.warning("job %s: could not describe backup %s: %s", job.id, job.backup_id, exc)
            reason = explain(exc, backup_id=job.backup_id, index_name=job.index_name)
            return await self._reject(job, JobState.REQUESTED, reason, tell_requester)
        if not backup.ready:
            reason = explain(
                BackupNotReady(400, "FAILED_PRECONDITION", f"its status is {backup.status}"),
                backup_id=job.backup_id,
                index_name=job.index_name,
            )
            return await self._reject(job, JobState.REQUESTED, reason, tell_requester)
        return await self._store.transition(
            job.id,
            JobState.REQUESTED,
            JobState.SUBMITTING,
            source_index_name=backup.source_index_name,
            backup_record_count=backup.record_count,
        )

    async def _submit(self, job: Job, tell_requester: bool) -> Job:
        body = create_index_body(
            job.index_name,
            job.tags,
            deletion_protection=job.deletion_protection,
            requester_id=job.requester_id,
            backup_id=job.backup_id,
        )
        # A create-index sent before (by an earlier process, or an attempt below) may have landed.
        sent_before = job.submitted_at is not None
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            found = await self.reconcile(job, body) if sent_before else None
            if found is not None:
                return await self._accepted(job, found)
            try:
                # Only while this process holds the job's lease: one that took it over must reconcile.
                await self._store.mark_submitted(job.id, self.leases.driver, at=self._clock())
                response = await self._pinecone.create_index_from_backup(job.backup_id, body)
            except RateLimited as exc:
                # 429 means the request was not taken: waiting and sending again is safe.
                # A Retry-After is honoured up to the client's own cap: a lease and a turn are held meanwhile.
                wait = min(exc.retry_after, MAX_RETRY_AFTER) if exc.retry_after is not None else None
                await self._sleep(wait if wait is not None else self._retry_delay * attempt)
                continue
            except AlreadyExists as exc:
                # Perhaps our own earlier, slow call landed after we gave up on it: the index itself says.
                found = await self.reconcile(job, body, may_adopt_index=sent_before)
                if found is not None:
                    return await self._accepted(job, found)
                reason = explain(exc, backup_id=job.backup_id, index_name=job.index_name)
                return await self._reject(job, JobState.SUBMITTING, reason, tell_requester)
            except PineconeError as exc:
                if not is_ambiguous(exc):
                    reason = explain(exc, backup_id=job.backup_id, index_name=job.index_name)
                    return await self._reject(job, JobState.SUBMITTING, reason, tell_requester)
                log.warning("job %s: create-index outcome unknown (%s); reconciling", job.id, exc)
                sent_before = True
                await self._sleep(self._retry_delay * attempt)
                continue
            return await self._accepted(job, Found(response.restore_job_id, response.index_id))
        found = await self.reconcile(job, body)
        if found is not None:
            return await self._accepted(job, found)
        # Left in `submitting`: the tracker reconciles it again on its next cycle.
        log.warning("job %s: Pinecone did not take the restore after %d attempts", job.id, SUBMIT_ATTEMPTS)
        return job

    async def reconcile(
        self, job: Job, body: CreateIndexFromBackupRequest | None = None, *, may_adopt_index: bool = True
    ) -> Found | None:
        """The restore our create-index call made, if it made one, whatever order Pinecone lists restore jobs in.

        1. Every page of `GET /restore-jobs`, to the end (at most RECONCILE_MAX_PAGES), items seen twice counted
           once: a job restoring our backup into our name that no other job in the store holds, and that was
           not created before our request (a null `created_at` is not trusted to mean either, so it counts).
        2. If the list does not show one (it may lag, end early, or leave jobs out), the index itself: it is
           ours if it was restored from our backup (`source_backup_id`) and carries our `restored-from` and
           `restored-by` tags, and no job the list showed for it belongs to another job. It is then followed
           through the index. `may_adopt_index` is False when no create-index of ours can have landed before.
        """
        body = body or create_index_body(
            job.index_name,
            job.tags,
            deletion_protection=job.deletion_protection,
            requester_id=job.requester_id,
            backup_id=job.backup_id,
        )
        token: str | None = None
        seen: set[str] = set()
        not_before = job.created_at - CLOCK_SKEW
        held_by_others = 0
        for _ in range(RECONCILE_MAX_PAGES):
            try:
                page = await self._pinecone.list_restore_jobs(limit=100, pagination_token=token)
            except PineconeError as exc:
                log.warning("job %s: could not list restore jobs to reconcile: %s", job.id, exc)
                raise ReconcileUnavailable() from exc
            for bad in page.malformed:
                log.warning("job %s: reconcile skipped restore job %s: %s", job.id, bad.item_id, bad.problem)
            for candidate in page.data:
                if candidate.restore_job_id in seen:
                    continue  # pages may overlap
                seen.add(candidate.restore_job_id)
                if candidate.target_index_name != job.index_name or candidate.backup_id != job.backup_id:
                    continue
                if candidate.created_at is not None and candidate.created_at < not_before:
                    continue  # an older restore into the same name
                owner = await self._store.restore_job_owner(candidate.restore_job_id, other_than=job.id)
                if owner is not None:
                    held_by_others += 1
                    continue
                return Found(candidate.restore_job_id, candidate.target_index_id)
            token = page.next
            if token is None:
                break
        if not may_adopt_index or held_by_others:
            return None
        try:
            index = await self._pinecone.describe_index(job.index_name)
        except NotFound:
            return None
        except PineconeError as exc:
            log.warning("job %s: could not describe index %s to reconcile: %s", job.id, job.index_name, exc)
            raise ReconcileUnavailable() from exc
        if not _restored_by_us(index, body, job.backup_id):
            return None
        log.info("job %s: index %s is ours (our backup and tags); following it through the index", job.id, index.name)
        return Found(None, None)

    async def _accepted(self, job: Job, found: Found) -> Job:
        job = await self._store.transition(
            job.id,
            JobState.SUBMITTING,
            JobState.RESTORING,
            restore_job_id=found.restore_job_id,
            index_id=found.index_id,
            submitted_at=job.submitted_at or self._clock(),
            notices=(Notice(kind=NoticeKind.STARTED),),
        )
        log.info("job %s: Pinecone accepted (restore job %s)", job.id, found.restore_job_id or "not listed")
        self._delivery.wake()
        return job

    async def _reject(self, job: Job, current: JobState, reason: str, tell_requester: bool) -> Job:
        log.info("job %s rejected: %s", job.id, reason)
        notices = (Notice(kind=NoticeKind.REJECTED),) if tell_requester else ()
        job = await self._store.transition(
            job.id, current, JobState.REJECTED, reason=reason, finished_at=self._clock(), notices=notices
        )
        if notices:
            self._delivery.wake()
        return job


def new_job(request: RestoreRequest, requester_id: str, channel_id: str) -> NewJob:
    return NewJob(
        backup_id=request.backup_id,
        index_name=request.index_name,
        tags=dict(request.tags),
        deletion_protection=request.deletion_protection,
        requester_id=requester_id,
        channel_id=channel_id,
    )


def choice_fields(choice: Chosen | None) -> dict[str, Any]:
    """What a request by intent records once its backup is chosen: the backup, the moment, and why."""
    if choice is None:
        return {}
    return {
        "backup_id": choice.backup.backup_id,
        "backup_choice": choice.why,
        "intent_moment": choice.moment.at if choice.moment is not None else None,
    }


class ReconcileUnavailable(PineconeError):
    """Pinecone could not be asked whether the restore exists; decide later."""


@dataclass(frozen=True)
class Found:
    """Our restore in Pinecone: its restore job and index IDs, or neither when only the index showed it."""

    restore_job_id: str | None
    index_id: str | None


def _restored_by_us(index: IndexModel, body: CreateIndexFromBackupRequest, backup_id: str) -> bool:
    """The index was restored from our backup and carries the trail tags our request set."""
    if index.source_backup_id != backup_id:
        return False
    wanted = body.tags or {}
    tags = index.tags or {}
    return all(tags.get(key) == wanted.get(key) for key in (RESTORED_BY_TAG, RESTORED_FROM_TAG))
