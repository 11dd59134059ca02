"""Deciding a request that awaits approval: the plan card's buttons and the decision forms.

Only an approver recorded on the request may approve or deny, and never the requester on their
own request; only the requester may cancel. Everyone else is told why and nothing changes. The
store's compare-and-set transition makes two simultaneous approvals start one restore: the second
is told who decided first. A decision after the request's deadline is refused, whatever the tracker's
cycle (the deadline is checked in the same transaction). When the store fails, the decision is refused
with a sentence saying so and nothing changes; a user group that cannot be read refuses too.

Each method answers None when it did what was asked, else the sentence for the person who clicked.
"""

from __future__ import annotations

from bot.core import render
from bot.core.ids import is_group_id
from bot.core.jobs import Job, JobState
from bot.core.outcomes import DecisionRefused
from bot.core.policy.policy_model import ChannelRules
from bot.core.policy.policy_rules import may_approve
from bot.service.background import BackgroundTasks
from bot.service.restores import RestoreService
from bot.slack.publisher import SlackPublisher, SlackTrouble
from bot.slack.usergroups import GroupsUnavailable, UserGroups
from storage.base import JobStore, StoreUnavailable


class Approvals:
    def __init__(
        self,
        store: JobStore,
        groups: UserGroups,
        restores: RestoreService,
        slack: SlackPublisher,
        tasks: BackgroundTasks,
    ) -> None:
        self._store = store
        self._groups = groups
        self._restores = restores
        self._slack = slack
        self._tasks = tasks

    async def open_form(self, job_id: str, *, user_id: str, trigger_id: str, approve: bool) -> str | None:
        """Open the approve or deny form for someone who may decide."""
        job, refusal = await self._decider_check(job_id, user_id)
        if job is None or refusal is not None:
            return refusal or render.no_longer_pending(job)
        view = render.approve_view(job) if approve else render.deny_view(job)
        opened = await self._slack.open_view(trigger_id, view)
        return render.form_not_opened(opened.error) if isinstance(opened, SlackTrouble) else None

    async def approve(self, job_id: str, *, user_id: str, reason: str | None) -> str | None:
        """Record the approval; the restore then starts in the plan card's thread."""
        job, refusal = await self._decider_check(job_id, user_id)
        if job is None or refusal is not None:
            return refusal or "Request not found."
        result = await self._restores.approve(job.id, approver_id=user_id, reason=reason)
        if isinstance(result, DecisionRefused):
            return result.reason
        self._tasks.spawn(self._restores.run_approved(result), name=f"approved {result.index_name}")
        return None

    async def deny(self, job_id: str, *, user_id: str, reason: str | None) -> str | None:
        if not reason:
            return render.DENIAL_NEEDS_A_REASON
        job, refusal = await self._decider_check(job_id, user_id)
        if job is None or refusal is not None:
            return refusal or "Request not found."
        result = await self._restores.deny(job.id, approver_id=user_id, reason=reason)
        return result.reason if isinstance(result, DecisionRefused) else None

    async def cancel(self, job_id: str, *, user_id: str) -> str | None:
        try:
            job = await self._store.get(job_id)
        except StoreUnavailable:
            return render.STORE_DECISION_FAILED
        if job is None or job.state is not JobState.AWAITING_APPROVAL:
            return render.no_longer_pending(job)
        if user_id != job.requester_id:
            return render.only_the_requester_cancels(job)
        result = await self._restores.cancel(job.id, requester_id=user_id)
        return result.reason if isinstance(result, DecisionRefused) else None

    async def _decider_check(self, job_id: str, user_id: str) -> tuple[Job | None, str | None]:
        """The pending job, and why `user_id` may not decide it (None: they may)."""
        try:
            job = await self._store.get(job_id)
        except StoreUnavailable:
            return None, render.STORE_DECISION_FAILED
        if job is None or job.state is not JobState.AWAITING_APPROVAL:
            return job, render.no_longer_pending(job)
        # The approvers recorded with the request decide, so a policy edit cannot change who may
        # approve a request already waiting.
        rules = ChannelRules(approval="always", approvers=job.approvers)
        if user_id not in job.approvers and user_id != job.requester_id:
            try:
                groups = await self._groups.groups_of(user_id, frozenset(filter(is_group_id, job.approvers)))
            except GroupsUnavailable as exc:
                return job, render.groups_unavailable(exc.group_id, exc.error)
        else:
            groups = frozenset()  # named directly, or the requester: no group can change the answer
        refused = may_approve(rules, approver_id=user_id, approver_groups=groups, requester_id=job.requester_id)
        return job, refused.message if refused is not None else None
