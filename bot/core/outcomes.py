"""What a use case answers, as data: the request path's outcomes and a refused decision.

The service layer returns these; the handlers render them (bot/core/render). Expected outcomes are
values, not exceptions: a refusal or a pending restore is an answer the requester must see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.core.backup_choice import Chosen
from bot.core.backup_facts import BackupFacts
from bot.core.jobs import Job
from bot.core.policy.policy_rules import PolicyRefusal, PolicyVerdict


@dataclass(frozen=True)
class Started:
    """Pinecone accepted the restore; `thread_link` once its thread exists."""

    job: Job
    thread_link: str | None


@dataclass(frozen=True)
class AlreadyRunning:
    """A restore into the same target name is already active."""

    existing: Job
    thread_link: str | None


@dataclass(frozen=True)
class RequestRefused:
    """The request cannot go ahead; `reason` is the sentence for the requester."""

    reason: str
    job: Job | None = None


@dataclass(frozen=True)
class Pending:
    """Pinecone could not be asked or did not answer clearly; the tracker will finish the job."""

    job: Job


@dataclass(frozen=True)
class AwaitingApproval:
    """A plan card waits in the channel for an approver."""

    job: Job
    thread_link: str | None


Outcome = Started | AlreadyRunning | RequestRefused | Pending | AwaitingApproval


@dataclass(frozen=True)
class DryRun:
    """What a restore would do, read but not done (`--dry-run`): nothing recorded, nothing written, nothing
    posted in the channel. Shown to the requester only."""

    #: The command that would do it: the dry run's own text without `--dry-run`.
    command: str
    index_name: str
    backup: BackupFacts
    #: For a request by intent: the backup chosen and why.
    choice: Chosen | None
    #: Whether no index has the target name now (None: Pinecone could not say).
    target_free: bool | None
    verdict: PolicyVerdict
    #: Why the bot could not post in the channel, if it could not (the request would be refused).
    cannot_post: str | None
    #: When it was read.
    now: datetime
    tags: dict[str, str] = field(default_factory=dict)
    deletion_protection: bool = False
    #: An active restore into the same name, and its thread (the request would be told so).
    running: Job | None = None
    running_link: str | None = None

    @property
    def refusal(self) -> PolicyRefusal | None:
        return self.verdict if isinstance(self.verdict, PolicyRefusal) else None


@dataclass(frozen=True)
class DecisionRefused:
    """An approval decision could not be recorded; `reason` says why (already decided, not found...)."""

    reason: str


@dataclass(frozen=True)
class UnexpectedFailure:
    """Something went wrong on the bot's side; it was logged under `reference` for the operators."""

    reference: str


@dataclass(frozen=True)
class StoreDown:
    """The job store could not be read, so the question cannot be answered now."""


@dataclass(frozen=True)
class NotAnAuditor:
    """The audit trail is for approvers and policy admins only."""


@dataclass(frozen=True)
class GroupsUnknown:
    """A user group the answer depends on could not be read, and what was known of it is too old."""

    group_id: str
    error: str
