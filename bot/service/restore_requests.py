"""The one path every restore request takes after it is parsed, whether it came from the slash
command or the restore modal: channel policy, approvals, then the restore itself."""

from __future__ import annotations

from bot.core import render
from bot.core.outcomes import Outcome, UnexpectedFailure
from bot.core.policy.policy_model import Policy
from bot.core.policy.policy_rules import PolicyRefusal, evaluate, group_ids, rules_for
from bot.core.request.field_rules import RestoreRequest
from bot.service.background import BackgroundTasks
from bot.service.restores import RestoreService
from bot.service.unexpected_errors import log_unexpected
from bot.slack.publisher import SlackPublisher
from bot.slack.usergroups import UserGroups

SubmitResult = PolicyRefusal | Outcome | UnexpectedFailure


class RestoreRequests:
    def __init__(
        self,
        policy: Policy,
        groups: UserGroups,
        restores: RestoreService,
        slack: SlackPublisher,
        tasks: BackgroundTasks,
    ) -> None:
        self._policy = policy
        self._groups = groups
        self._restores = restores
        self._slack = slack
        self._tasks = tasks

    def refusal_before_work(self, channel_id: str) -> render.Message | None:
        """What to answer at once, in the ack, when a request cannot go ahead at all (no Slack calls here)."""
        if rules_for(self._policy, channel_id) is None:
            return render.channel_not_allowed(sorted(self._policy.channels))
        if self._tasks.draining:
            return render.plain(render.RESTARTING)
        return None

    async def submit(self, request: RestoreRequest, *, user_id: str, channel_id: str) -> SubmitResult:
        """Check policy, then ask for approval or run the request. Never raises: a failure is logged with a
        reference and answered with it."""
        try:
            groups = await self._groups.groups_of(user_id, group_ids(self._policy))
            verdict = evaluate(
                self._policy,
                channel_id=channel_id,
                requester_id=user_id,
                requester_groups=groups,
                index_name=request.index_name,
                tags=request.tags,
            )
            if isinstance(verdict, PolicyRefusal):
                return verdict
            if verdict.needs_approval:
                return await self._restores.request_approval(
                    request,
                    requester_id=user_id,
                    channel_id=channel_id,
                    approvers=verdict.approvers,
                    approval_reason=verdict.reason,
                    timeout_minutes=verdict.timeout_minutes,
                )
            return await self._restores.request(request, requester_id=user_id, channel_id=channel_id)
        except Exception as exc:
            return UnexpectedFailure(log_unexpected(exc, f"restore into {request.index_name}"))

    async def submit_from_form(self, request: RestoreRequest, *, user_id: str, channel_id: str) -> None:
        """A submitted restore form carries no response_url: the answer goes to the requester only, in the
        channel the form was opened from (or by direct message if Slack refuses that)."""
        result = await self.submit(request, user_id=user_id, channel_id=channel_id)
        await self._slack.tell(channel_id, user_id, render.request_answer(result))
