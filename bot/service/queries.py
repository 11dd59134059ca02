"""The read-only questions: `status`, `list`, `audit`, and drawing the App Home tab."""

from __future__ import annotations

from bot.core import render
from bot.core.ids import is_group_id
from bot.core.jobs import Decision, Job, JobState
from bot.core.outcomes import GroupsUnknown, NotAnAuditor, StoreDown
from bot.core.policy.policy_model import Policy
from bot.core.policy.policy_rules import auditors
from bot.service.delivery import SlackDelivery
from bot.slack.publisher import SlackPublisher
from bot.slack.usergroups import GroupsUnavailable, UserGroups
from storage.base import JobStore, StoreUnavailable

LIST_LIMIT = 10
AUDIT_LIMIT = 20
HOME_LIMIT = 20


class Queries:
    def __init__(
        self, store: JobStore, delivery: SlackDelivery, groups: UserGroups, policy: Policy, slack: SlackPublisher
    ) -> None:
        self._store = store
        self._slack = slack
        self._delivery = delivery
        self._groups = groups
        self._policy = policy

    async def status(self, index_name: str) -> tuple[Job | None, str | None] | StoreDown:
        """The latest restore into `index_name`, and a link to its thread."""
        try:
            job = await self._store.latest_for_index(index_name)
        except StoreUnavailable:
            return StoreDown()
        return job, await self._delivery.link(job) if job else None

    async def recent_in_channel(self, channel_id: str) -> list[Job] | StoreDown:
        try:
            return await self._store.recent_in_channel(channel_id, LIST_LIMIT)
        except StoreUnavailable:
            return StoreDown()

    async def audit(
        self, user_id: str, index_name: str | None
    ) -> list[tuple[Job, list[Decision]]] | NotAnAuditor | StoreDown | GroupsUnknown:
        allowed = auditors(self._policy)
        if user_id not in allowed:
            try:
                groups = await self._groups.groups_of(user_id, frozenset(filter(is_group_id, allowed)))
            except GroupsUnavailable as exc:
                return GroupsUnknown(exc.group_id, exc.error)
            if not groups:
                return NotAnAuditor()
        try:
            jobs = await self._store.recent_jobs(index_name=index_name, limit=AUDIT_LIMIT)
            return [(job, await self._store.decisions(job.id)) for job in jobs]
        except StoreUnavailable:
            return StoreDown()

    async def publish_home(self, user_id: str) -> None:
        """Draw this person's App Home: the requests waiting for their decision, then their recent restores."""
        mine = await self._store.recent_jobs(requester_id=user_id, limit=HOME_LIMIT)
        waiting = [(job, await self._delivery.link(job)) for job in await self.awaiting(user_id)]
        await self._slack.publish_home(user_id, render.home_view(mine, waiting))

    async def awaiting(self, user_id: str) -> list[Job]:
        """Pending requests this person may decide (named, or through a group; never their own)."""
        pending = [job for job in await self._store.active_jobs() if job.state is JobState.AWAITING_APPROVAL]
        groups = frozenset(approver for job in pending for approver in job.approvers if is_group_id(approver))
        try:
            mine = await self._groups.groups_of(user_id, groups) if groups else frozenset()
        except GroupsUnavailable:
            mine = frozenset()  # fail closed: only what names this person directly (the failure is logged)
        return [
            job
            for job in pending
            if job.requester_id != user_id and (user_id in job.approvers or mine & set(job.approvers))
        ]
