"""The one path every restore request takes after it is parsed, whether it came from the slash
command or the restore modal: where the bot can post, channel policy, approvals, then the restore itself.

Every acked request is in the store before any Slack or Pinecone call is made for it. When the answer
needs nothing from Slack (the bot could post in the channel when it last looked, the policy names no
user group that matters here) and no approval, the request is recorded as `requested` and goes to
Pinecone, as it always did. Otherwise it is recorded as `checking` first; then the channel is looked
at (a channel the bot cannot post in is refused with the fix, before Pinecone is asked anything), the
user groups read and, if approval is needed, the plan card's facts read from Pinecone. After a crash the
tracker finds the `checking` job and finishes the check (`RestoreService.checker`).
"""

from __future__ import annotations

import logging

from bot.core import render
from bot.core.jobs import Job
from bot.core.outcomes import Outcome, Pending, RequestRefused, UnexpectedFailure
from bot.core.policy.policy_model import Policy
from bot.core.policy.policy_rules import PolicyRefusal, evaluate, groups_to_resolve, rules_for
from bot.core.request.field_rules import RestoreRequest
from bot.service.background import BackgroundTasks
from bot.service.channels import ChannelAccess
from bot.service.restores import RestoreService
from bot.service.unexpected_errors import log_unexpected
from bot.slack.publisher import SlackPublisher
from bot.slack.usergroups import GroupsUnavailable, UserGroups
from storage.base import StaleJob, StoreUnavailable

log = logging.getLogger(__name__)

SubmitResult = PolicyRefusal | Outcome | UnexpectedFailure


class RestoreRequests:
    def __init__(
        self,
        policy: Policy,
        groups: UserGroups,
        restores: RestoreService,
        slack: SlackPublisher,
        tasks: BackgroundTasks,
        channels: ChannelAccess | None = None,
    ) -> None:
        self._policy = policy
        self._groups = groups
        self._restores = restores
        self._slack = slack
        self._tasks = tasks
        self._channels = channels or ChannelAccess(slack)
        restores.checker = self._check_after_restart

    def refusal_before_work(self, channel_id: str) -> render.Message | None:
        """What to answer at once, in the ack, when a request cannot go ahead at all (no Slack calls here)."""
        if rules_for(self._policy, channel_id) is None:
            return render.channel_not_allowed(sorted(self._policy.channels))
        if self._tasks.draining:
            return render.plain(render.RESTARTING)
        return None

    async def submit(self, request: RestoreRequest, *, user_id: str, channel_id: str) -> SubmitResult:
        """Check the channel and the policy, then ask for approval or run the request. Never raises: a
        failure is logged with a reference and answered with it."""
        try:
            if self._channels.known(channel_id) is not None and not groups_to_resolve(
                self._policy, channel_id, user_id
            ):
                # Everything is known: decide now; only an approval needs the job recorded before Pinecone.
                verdict = evaluate(
                    self._policy,
                    channel_id=channel_id,
                    requester_id=user_id,
                    requester_groups=frozenset(),
                    index_name=request.index_name,
                    tags=request.tags,
                )
                if isinstance(verdict, PolicyRefusal):
                    return verdict
                if not verdict.needs_approval:
                    return await self._restores.request(request, requester_id=user_id, channel_id=channel_id)
            job = await self._restores.record_checking(request, requester_id=user_id, channel_id=channel_id)
            if not isinstance(job, Job):
                return job
            with self._restores.driving(job.id):
                return await self._check(job, tell_requester=False)
        except Exception as exc:
            return UnexpectedFailure(log_unexpected(exc, f"restore into {request.index_name}"))

    async def submit_from_form(self, request: RestoreRequest, *, user_id: str, channel_id: str) -> None:
        """A submitted restore form carries no response_url: the answer goes to the requester only, as an
        ephemeral in the channel the form was opened from where the bot is a member, else by direct
        message (the app's Messages tab, enabled in manifest.yml)."""
        result = await self.submit(request, user_id=user_id, channel_id=channel_id)
        reach = self._channels.known(channel_id)
        member = reach.member if reach is not None else None
        await self._slack.tell(channel_id, user_id, render.request_answer(result), member=member)

    async def _check_after_restart(self, job: Job, tell_requester: bool) -> None:
        await self._check(job, tell_requester=tell_requester)

    async def _check(self, job: Job, *, tell_requester: bool) -> SubmitResult:
        """Finish checking a job recorded in `checking`: the channel, the groups, the policy, the approval."""
        try:
            reach = await self._channels.reach(job.channel_id)
            if reach is not None and not reach.can_post:
                reason = render.cannot_post(reach).text
                return RequestRefused(reason, await self._restores.refuse(job, reason, tell_requester=tell_requester))
            wanted = groups_to_resolve(self._policy, job.channel_id, job.requester_id)
            try:
                groups = await self._groups.groups_of(job.requester_id, wanted) if wanted else frozenset()
            except GroupsUnavailable as exc:
                reason = render.groups_unavailable(exc.group_id, exc.error)
                return RequestRefused(reason, await self._restores.refuse(job, reason, tell_requester=tell_requester))
            verdict = evaluate(
                self._policy,
                channel_id=job.channel_id,
                requester_id=job.requester_id,
                requester_groups=groups,
                index_name=job.index_name,
                tags=job.tags,
            )
            if isinstance(verdict, PolicyRefusal):
                reason = f"{verdict.message} (rule: {verdict.rule})"
                await self._restores.refuse(job, reason, tell_requester=tell_requester)
                return verdict
            if verdict.needs_approval:
                return await self._restores.plan(
                    job,
                    approvers=verdict.approvers,
                    approval_reason=verdict.reason,
                    timeout_minutes=verdict.timeout_minutes,
                    tell_requester=tell_requester,
                )
            return await self._restores.proceed(job, tell_requester=tell_requester)
        except StoreUnavailable as exc:
            # The request is on record: the tracker takes the check up again on its next cycle.
            log.error("job %s: the store failed while checking the request: %s", job.id, exc)
            return Pending(job)
        except StaleJob as exc:
            return Pending(exc.job or job)
