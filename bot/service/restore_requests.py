"""The one path every restore request takes after it is parsed, whether it came from the slash
command or the restore modal: where the bot can post, channel policy, approvals, then the restore itself.

Every acked request is in the store before any Slack or Pinecone call is made for it. When the answer
needs nothing from Slack (the bot could post in the channel when it last looked, the policy names no
user group that matters here) and no approval, the request is recorded as `requested` and goes to
Pinecone, as it always did. Otherwise it is recorded as `checking` first; then the channel is looked
at (a channel the bot cannot post in is refused with the fix, before Pinecone is asked anything), the
user groups read and, if approval is needed, the plan card's facts read from Pinecone. After a crash the
tracker finds the `checking` job and finishes the check (`RestoreService.checker`).

A request by intent (`from:<source-index> [before:<when>]`) is always recorded as `checking`, with its
intent and no backup yet; once the channel and the policy let it go ahead, its backup is chosen
(bot/service/backup_choice.py) and fixed on the job as it leaves `checking`, so an approver approves
that exact backup. A backup that cannot be chosen refuses the request with the reason.

A dry run (`--dry-run`) records nothing and writes nothing: it reads what the request would do (the
channel, the policy with the requester's groups, the backup, the target name) and answers with the plan.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from bot.core import render
from bot.core.backup_choice import Chosen
from bot.core.backup_facts import BackupFacts
from bot.core.jobs import Job, utcnow
from bot.core.outcomes import DryRun, Outcome, Pending, RequestRefused, UnexpectedFailure
from bot.core.policy.policy_model import Policy
from bot.core.policy.policy_rules import PolicyRefusal, PolicyVerdict, evaluate, groups_to_resolve, rules_for
from bot.core.render.pinecone_sentences import explain
from bot.core.request.field_rules import RestoreIntent, RestoreRequest
from bot.pinecone import PineconeError
from bot.service.background import BackgroundTasks
from bot.service.backup_choice import BackupChooser, Unchosen
from bot.service.channels import ChannelAccess
from bot.service.restores import RestoreService
from bot.service.unexpected_errors import log_unexpected
from bot.slack.publisher import SlackPublisher
from bot.slack.usergroups import GroupsUnavailable, UserGroups
from storage.base import StaleJob, StoreUnavailable

log = logging.getLogger(__name__)

SubmitResult = PolicyRefusal | Outcome | UnexpectedFailure
DryRunResult = DryRun | RequestRefused | UnexpectedFailure


class RestoreRequests:
    def __init__(
        self,
        policy: Policy,
        groups: UserGroups,
        restores: RestoreService,
        slack: SlackPublisher,
        tasks: BackgroundTasks,
        channels: ChannelAccess | None = None,
        chooser: BackupChooser | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._policy = policy
        self._chooser = chooser
        self._clock = clock
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
            async with self._restores.driving(job.id, leased=True):
                return await self._check(job, tell_requester=False)
        except Exception as exc:
            return UnexpectedFailure(log_unexpected(exc, f"restore into {request.index_name}"))

    async def submit_intent(self, intent: RestoreIntent, *, user_id: str, channel_id: str) -> SubmitResult:
        """A request by intent: recorded as `checking` first (no backup yet), then checked like any other;
        its backup is chosen once the channel and the policy let it go ahead. Never raises."""
        try:
            job = await self._restores.record_intent(intent, requester_id=user_id, channel_id=channel_id)
            if not isinstance(job, Job):
                return job
            async with self._restores.driving(job.id, leased=True):
                return await self._check(job, tell_requester=False)
        except Exception as exc:
            return UnexpectedFailure(log_unexpected(exc, f"restore by intent into {intent.index_name}"))

    async def submit_from_form(self, request: RestoreRequest | RestoreIntent, *, user_id: str, channel_id: str) -> None:
        """A submitted restore form carries no response_url: the answer goes to the requester only, as an
        ephemeral in the channel the form was opened from where the bot is a member, else by direct
        message (the app's Messages tab, enabled in manifest.yml)."""
        if isinstance(request, RestoreIntent):
            result = await self.submit_intent(request, user_id=user_id, channel_id=channel_id)
        else:
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
            choice: Chosen | None = None
            if job.by_intent:
                chosen = await self._choose(job)
                if isinstance(chosen, Unchosen):
                    refused = await self._restores.refuse(job, chosen.reason, tell_requester=tell_requester)
                    return RequestRefused(chosen.reason, refused)
                choice = chosen
            if verdict.needs_approval:
                return await self._restores.plan(
                    job,
                    approvers=verdict.approvers,
                    approval_reason=verdict.reason,
                    timeout_minutes=verdict.timeout_minutes,
                    tell_requester=tell_requester,
                    choice=choice,
                )
            return await self._restores.proceed(job, tell_requester=tell_requester, choice=choice)
        except StoreUnavailable as exc:
            # The request is on record: the tracker takes the check up again on its next cycle.
            log.error("job %s: the store failed while checking the request: %s", job.id, exc)
            return Pending(job)
        except StaleJob as exc:
            return Pending(exc.job or job)

    async def _choose(self, job: Job) -> Chosen | Unchosen:
        """The backup a request by intent means, placed in time from when it was made (so a check taken up
        again after a restart means the same moment)."""
        assert job.intent_source is not None
        if self._chooser is None:
            raise RuntimeError("restores by intent need a BackupChooser (bot/app/wiring.py gives one)")
        async with self._restores.pinecone_turn():
            return await self._chooser.choose(
                job.intent_source, job.intent_before, requester_id=job.requester_id, now=job.created_at
            )

    async def dry_run(self, request: RestoreRequest | RestoreIntent, *, user_id: str, channel_id: str) -> DryRunResult:
        """What the request would do, read and not done: no job recorded, no Pinecone write, nothing posted
        in the channel. The policy is evaluated with the requester's groups, the backup is described (or
        chosen, for a request by intent, as of now) and the target name looked up. Never raises."""
        index_name = request.index_name
        try:
            now = self._clock()
            reach = await self._channels.reach(channel_id)
            cannot_post = render.cannot_post(reach).text if reach is not None and not reach.can_post else None
            wanted = groups_to_resolve(self._policy, channel_id, user_id)
            try:
                groups = await self._groups.groups_of(user_id, wanted) if wanted else frozenset()
            except GroupsUnavailable as exc:
                return RequestRefused(render.groups_unavailable(exc.group_id, exc.error))
            verdict: PolicyVerdict = evaluate(
                self._policy,
                channel_id=channel_id,
                requester_id=user_id,
                requester_groups=groups,
                index_name=index_name,
                tags=request.tags,
            )
            choice: Chosen | None = None
            async with self._restores.pinecone_turn():
                if isinstance(request, RestoreIntent):
                    if self._chooser is None:
                        raise RuntimeError("restores by intent need a BackupChooser (bot/app/wiring.py gives one)")
                    chosen = await self._chooser.choose(
                        request.source_index, request.before, requester_id=user_id, now=now
                    )
                    if isinstance(chosen, Unchosen):
                        return RequestRefused(chosen.reason)
                    choice = chosen
                    backup: BackupFacts = chosen.backup
                else:
                    try:
                        backup = await self._restores.describe_backup(request.backup_id)
                    except PineconeError as exc:
                        return RequestRefused(explain(exc, backup_id=request.backup_id, index_name=index_name))
                try:
                    target_free: bool | None = await self._restores.name_is_free(index_name)
                except PineconeError as exc:
                    log.warning("dry run: could not look up index %s: %s", index_name, exc)
                    target_free = None
            try:
                running = await self._restores.active_restore(index_name)
            except StoreUnavailable:
                running = None
            return DryRun(
                command=request.as_command(),
                index_name=index_name,
                backup=backup,
                choice=choice,
                target_free=target_free,
                verdict=verdict,
                cannot_post=cannot_post,
                now=now,
                tags=dict(request.tags),
                deletion_protection=request.deletion_protection,
                running=running[0] if running else None,
                running_link=running[1] if running else None,
            )
        except Exception as exc:
            return UnexpectedFailure(log_unexpected(exc, f"dry run of a restore into {index_name}"))
