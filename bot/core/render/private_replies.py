"""Answers only the requester sees: usage, refusals, `status`, `list`, the audit trail."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import Block, DividerBlock

from bot.core.backup_choice import age_text, taken_at, when_text
from bot.core.channels import INVITE, Blocker, Reach
from bot.core.ids import RESTORE_COMMAND, is_group_id
from bot.core.jobs import Decision, Job, JobState
from bot.core.outcomes import (
    AlreadyRunning,
    AwaitingApproval,
    DryRun,
    GroupsUnknown,
    NotAnAuditor,
    Outcome,
    Pending,
    RequestRefused,
    Started,
    StoreDown,
    UnexpectedFailure,
)
from bot.core.policy.policy_rules import PolicyPermission, PolicyRefusal
from bot.core.render.blocks import (
    COMMAND,
    EXAMPLE,
    Message,
    build_message,
    chunk_lines,
    duration,
    escape,
    mention,
    plain,
    request_failed,
    section_block,
    size_text,
    slack_date,
    tags_text,
)
from bot.core.render.thread_messages import (
    STATE_LABELS,
    backup_line,
    backup_ref,
    choice_line,
    estimate_text,
    running_line,
    state_label,
    whole_percent,
)


def usage(intro: str | None = None) -> Message:
    text = (
        (f"{intro}\n\n" if intro else "")
        + f"*Restore a Pinecone index from a backup:*\n`{COMMAND} <backup_id> <index_name> [key=value ...] "
        "[--deletion-protection]`\n"
        f"Example: `{COMMAND} {escape(EXAMPLE)}`\n\n"
        f"*Or say which backup you mean:* `{COMMAND} from:<source-index> <index_name> [before:<when>] ...` "
        "restores the newest Ready backup of that index (taken before that moment). `<when>`: `14:00` "
        "(today, your time zone), `yesterday-14:00`, `2h` or `90m` (ago), or an ISO time like "
        "`2026-11-30T14:00Z`.\n"
        f"Example: `{COMMAND} from:prod-search prod-search-restored before:yesterday-14:00`\n"
        "Add `--dry-run` to any restore to see its plan, only to you, without doing anything.\n\n"
        f"*Other commands:*\n• `{COMMAND} status <index_name>`: the latest restore into that name\n"
        f"• `{COMMAND} list`: recent restores in this channel\n"
        f"• `{COMMAND} audit [index_name]`: who requested, approved, denied and cancelled what "
        "(approvers and policy admins)\n"
        f"• `{COMMAND}` alone: a form to pick the backup\n• `{COMMAND} help`: this message\n\n"
        "Index names: 1–45 lower-case letters, digits or `-`, starting and ending with a letter or digit. "
        "Tags: keys up to 80 letters, digits, `_` or `-`; values up to 120 letters, digits, spaces or `; @ _ - . +`; "
        "quote values with spaces."
    )
    return plain(text)


def rejection(problems: Sequence[tuple[str, str, str | None]], example: str) -> Message:
    """problems: (part, rule, hint) triples."""
    lines = [f"I can't start that restore: {len(problems)} problem{'s' if len(problems) != 1 else ''}."]
    for part, rule, hint in problems:
        lines.append(f"• *{escape(part)}*: {escape(rule)}" + (f" ({escape(hint)})" if hint else ""))
    lines.append(f"\nFor example: `{COMMAND} {escape(example)}`")
    text = "\n".join(lines)
    return plain(text)


def channel_not_allowed(allowed: Sequence[str]) -> Message:
    if not allowed:
        text = (
            ":no_entry: Restores are not enabled in any channel yet. An admin has to list the channels "
            "where restores may be requested in the bot's `RESTORE_BOT_ALLOWED_CHANNELS` setting."
        )
    else:
        where = ", ".join(f"<#{channel}>" for channel in allowed)
        text = f":no_entry: Restores can't be requested in this channel. Please ask in {where}."
    return plain(text)


def cannot_post(reach: Reach) -> Message:
    """A restore asked for in a channel the bot cannot post in: refused before anything is done."""
    match reach.blocker:
        case Blocker.ARCHIVED:
            why = "this channel is archived"
            fix = "Ask in a channel that is not archived."
        case Blocker.LOST:
            why = f"Slack refused my last post here ({escape(reach.error or 'unknown')})"
            fix = f"If this channel is private, invite me first: `{INVITE}`, then ask again."
        case _:
            why = "this channel is private and I am not in it"
            fix = f"Invite me first: `{INVITE}`, then ask again."
    text = f":no_entry: I can't post here, so I can't follow a restore in this channel: {why}. {fix}"
    return plain(text)


def groups_unavailable(group_id: str, error: str) -> str:
    """A user group the decision depends on could not be read, and what was known of it is too old."""
    group = f"<!subteam^{group_id}>" if is_group_id(group_id) else f"`{escape(group_id)}`"
    return (
        f"I could not check who is in {group} (Slack answered `{escape(error)}`), so I can't tell whether "
        "you may do this, and I don't guess. Nothing was done; try again in a minute."
    )


def policy_refusal(message: str, rule: str, ask: Sequence[str]) -> Message:
    who = ", ".join(mention(person) for person in ask)
    text = f":no_entry: {escape(message)}\n*Rule:* {escape(rule)}" + (f"\n*Ask:* {who}" if who else "")
    return plain(text)


def accepted(backup_id: str, index_name: str) -> Message:
    return plain(f":hourglass_flowing_sand: Checking backup `{backup_id}` before restoring into `{index_name}`…")


def accepted_intent(source_index: str, before: str | None, index_name: str) -> Message:
    when = f" taken before `{escape(before)}`" if before else ""
    return plain(
        f":hourglass_flowing_sand: Choosing the newest Ready backup of `{source_index}`{when} to restore into "
        f"`{index_name}`…"
    )


def dry_run_started(index_name: str) -> Message:
    return plain(f":mag: Dry run: reading what a restore into `{index_name}` would do. Nothing will be restored…")


def already_running(existing: Job, thread_link: str | None) -> Message:
    thread = f"<{thread_link}|See its thread.>" if thread_link else f"Its thread will be in <#{existing.channel_id}>."
    where = f" {thread}"
    return plain(
        f":warning: A restore into `{existing.index_name}` is already running "
        f"(requested by <@{existing.requester_id}> {slack_date(existing.created_at)}, "
        f"{STATE_LABELS[existing.state].split(' ', 1)[1].lower()}).{where}"
    )


def status(job: Job | None, index_name: str, thread_link: str | None) -> Message:
    if job is None:
        return plain(f"I have no record of a restore into `{index_name}`.")
    lines = [
        f"*Latest restore into `{job.index_name}`:* {state_label(job)}"
        + (f" · {running_line(job)}" if job.state is JobState.RESTORING else ""),
        f"*Requested by:* <@{job.requester_id}> {slack_date(job.created_at)}",
        f"*Backup:* {backup_line(job)}",
    ]
    chosen = choice_line(job)
    if chosen:
        lines.append(chosen)
    estimate = estimate_text(job) if job.state is JobState.RESTORING and job.verify_since is None else None
    if estimate:
        lines.append(f"*Estimate:* {estimate}")
    if job.state is JobState.READY:
        lines.append(f"*Host:* `{escape(job.host or 'unknown')}` · *Took:* {duration(job.elapsed(job.updated_at))}")
    elif job.reason:
        lines.append(f"*Reason:* {escape(job.reason)}")
    if thread_link:
        lines.append(f"<{thread_link}|Open the thread>")
    text = "\n".join(lines)
    return plain(text)


def job_list(jobs: Sequence[Job]) -> Message:
    if not jobs:
        return plain("No restores have been requested in this channel yet.")
    blocks: list[Block] = [
        section_block(f"*Recent restores in this channel* (newest first, {len(jobs)} shown)"),
        DividerBlock(),
    ]
    lines = []
    for job in jobs:
        progress = ""
        if job.state is JobState.RESTORING and job.percent_complete:
            progress = f" {whole_percent(job.percent_complete)}"
        elif job.state is JobState.RESTORING and job.pinecone_status and job.verify_since is None:
            progress = f" (Pinecone: `{escape(job.pinecone_status)}`)"
        why = f" ({escape(job.backup_choice)})" if job.backup_choice else ""
        line = (
            f"• `{job.index_name}` — {state_label(job)}{progress} — <@{job.requester_id}> "
            f"{slack_date(job.created_at)} — backup {backup_ref(job)}{why}"
        )
        lines.append(line)
        blocks.append(section_block(line))
    return build_message("Recent restores in this channel:\n" + "\n".join(lines), blocks)


RESTARTING = ":arrows_counterclockwise: The bot is restarting right now. Try again in a minute."


STORE_READ_FAILED = "The bot cannot read its job store right now. Try again in a minute."


STORE_WRITE_FAILED = (
    "The bot could not record your request (its job store is unavailable), so nothing was sent "
    "to Pinecone. Try again in a minute; if it keeps failing, tell the bot's operators."
)


def audit_trail(entries: Sequence[tuple[Job, Sequence[Decision]]], index_name: str | None) -> Message:
    """Who requested, approved, denied and cancelled what, when; newest first."""
    scope = f" for `{index_name}`" if index_name else ""
    if not entries:
        return plain(f"No restores recorded{scope}.")
    lines = [f"*Audit trail{scope}* (newest first, {len(entries)} shown)"]
    for job, decisions in entries:
        why = f" ({escape(job.backup_choice)})" if job.backup_choice else ""
        lines.append(
            f"• `{job.index_name}` from {backup_ref(job)}{why}: {STATE_LABELS[job.state]}. "
            f"Requested by <@{job.requester_id}> {slack_date(job.created_at)} in <#{job.channel_id}>"
        )
        for decision in decisions:
            when = f" {slack_date(decision.at)}" if decision.at else ""
            why = f": {escape(decision.reason)}" if decision.reason else ""
            by = "the bot (no decision in time)" if decision.by_user == "restore-bot" else mention(decision.by_user)
            lines.append(f"    ◦ {decision.decision} by {by}{when}{why}")
    return build_message("\n".join(lines), [section_block(chunk) for chunk in chunk_lines(lines)])


def not_an_auditor() -> Message:
    return plain(":lock: The audit trail is for approvers and policy admins. Ask one of them, or the bot's operators.")


def apology(reference: str) -> str:
    return (
        f":warning: Something went wrong on the bot's side (reference `{reference}`). Nothing more will happen "
        "for this request; try again, and give the reference to the bot's operators if it repeats."
    )


def form_apology(view: Mapping[str, Any], reference: str) -> dict[str, Any] | None:
    """The answer to a form submission that failed on the bot's side: the apology under the form's first field,
    so the form stays open (an empty answer would close it as if the submission had worked). None for a form
    without a field to show it under."""
    for block in view.get("blocks") or ():
        if isinstance(block, Mapping) and block.get("type") == "input" and block.get("block_id"):
            text = (
                f"Something went wrong on the bot's side (reference {reference}); nothing was done. Submit again, "
                "and give the reference to the bot's operators if it repeats."
            )
            return {"response_action": "errors", "errors": {str(block["block_id"]): text}}
    return None


def request_answer(result: PolicyRefusal | Outcome | UnexpectedFailure) -> Message:
    """What the requester is told, privately, once a restore request has been handled."""
    match result:
        case PolicyRefusal(message=message, rule=rule, ask=ask):
            return policy_refusal(message, rule, ask)
        case UnexpectedFailure(reference=reference):
            return plain(apology(reference))
        case Started(job=job, thread_link=link):
            where = f" <{link}|Follow it in the thread.>" if link else " Follow it in the channel."
            if job.slack_error:
                where = (
                    f" I could not post its thread in <#{job.channel_id}> ({escape(job.slack_error)}); "
                    f"`{RESTORE_COMMAND} status {job.index_name}` shows where it stands."
                )
            why = f" ({escape(job.backup_choice)})" if job.backup_choice else ""
            return plain(
                f":arrows_counterclockwise: Restore of `{job.backup_id}`{why} into `{job.index_name}` started.{where}"
            )
        case AlreadyRunning(existing=existing, thread_link=link):
            return already_running(existing, link)
        case RequestRefused(reason=reason):
            return request_failed(reason)
        case AwaitingApproval(job=job, thread_link=link):
            where = f" <{link}|See the plan.>" if link else ""
            who = ", ".join(mention(approver) for approver in job.approvers)
            if job.slack_error:
                return request_failed(
                    f"Your restore into `{job.index_name}` needs approval ({job.approval_reason}), but I could not "
                    f"post its plan card in <#{job.channel_id}> ({escape(job.slack_error)}), so {who} cannot see "
                    "it. Nothing was restored; ask again once the request has expired"
                    + (f" ({slack_date(job.approval_expires_at)})." if job.approval_expires_at else ".")
                )
            chosen = (
                f" The plan is to restore `{job.backup_id}` ({escape(job.backup_choice)}); that is the backup an "
                "approval restores."
                if job.backup_choice
                else ""
            )
            return plain(
                f":raised_hand: Your restore into `{job.index_name}` needs approval ({job.approval_reason}). "
                f"I've asked {who} in the channel; nothing happens until one of them approves.{where}{chosen} "
                "You can cancel it from the plan card."
            )
        case Pending(job=job):
            return plain(
                f":hourglass_flowing_sand: Pinecone has not confirmed the restore into `{job.index_name}` yet. "
                "The request is recorded and I keep checking; its thread will appear in this channel once "
                f"Pinecone confirms. `{RESTORE_COMMAND} status {job.index_name}` shows where it stands."
            )


def status_answer(result: tuple[Job | None, str | None] | StoreDown, index_name: str) -> Message:
    """`/restore-index status`: the latest restore into that name and a link to its thread."""
    if isinstance(result, StoreDown):
        return request_failed(STORE_READ_FAILED)
    job, link = result
    return status(job, index_name, link)


def list_answer(result: Sequence[Job] | StoreDown) -> Message:
    """`/restore-index list`: the recent restores in this channel."""
    if isinstance(result, StoreDown):
        return request_failed(STORE_READ_FAILED)
    return job_list(result)


def audit_answer(
    result: Sequence[tuple[Job, Sequence[Decision]]] | NotAnAuditor | StoreDown | GroupsUnknown,
    index_name: str | None,
) -> Message:
    """`/restore-index audit`: the trail, or why it cannot be shown."""
    if isinstance(result, NotAnAuditor):
        return not_an_auditor()
    if isinstance(result, GroupsUnknown):
        return request_failed(groups_unavailable(result.group_id, result.error))
    if isinstance(result, StoreDown):
        return request_failed(STORE_READ_FAILED)
    return audit_trail(result, index_name)


def no_longer_pending(job: Job | None) -> str:
    """Why a click on a plan card's button changes nothing: the request was decided or is gone."""
    if job is None:
        return "That restore request no longer exists."
    return f"This request is no longer waiting for a decision: it was {decision_said(job)}."


def already_decided(job: Job | None) -> str:
    """The second of two simultaneous decisions: who decided first."""
    if job is None:
        return "That restore request no longer exists."
    return f"This request was already {decision_said(job)}."


_DECISION_WORDS = {JobState.DENIED: "denied", JobState.CANCELLED: "cancelled", JobState.EXPIRED: "expired"}


def decision_said(job: Job) -> str:
    """How a decided request was decided, and by whom: "approved by <@U…>", "expired"... An approved
    request has moved on (requested, restoring, ready...), so its state is not the word to use."""
    word = _DECISION_WORDS.get(job.state, "approved")
    who = f" by <@{job.decided_by}>" if job.decided_by and job.decided_by != "restore-bot" else ""
    return f"{word}{who}"


def only_the_requester_cancels(job: Job) -> str:
    return f"Only <@{job.requester_id}>, who asked for this restore, can cancel it."


DENIAL_NEEDS_A_REASON = "Say why, for the requester."


STORE_DECISION_FAILED = (
    "The bot could not record your decision (its job store is unavailable), so nothing changed. "
    "Submit again in a minute."
)


def request_expired(job: Job) -> str:
    """A decision that came after the request's deadline."""
    when = f" at {slack_date(job.approval_expires_at)}" if job.approval_expires_at else ""
    return f"This request expired{when}, before your decision; nothing was restored. Ask for it again if needed."


def form_not_opened(error: str) -> str:
    return f"I could not open the form (Slack answered `{escape(error)}`). Click the button again."


DRY_RUN_FLAG = "--dry-run"


def dry_run_answer(result: DryRun | RequestRefused | UnexpectedFailure) -> Message:
    """`--dry-run`: the plan, or why the restore could not even be planned; only to the requester."""
    match result:
        case UnexpectedFailure(reference=reference):
            return plain(apology(reference))
        case RequestRefused(reason=reason):
            return request_failed(f"Dry run, nothing was done: the restore would be refused. {reason}")
        case DryRun():
            return dry_run_plan(result)


def dry_run_plan(plan: DryRun) -> Message:
    """What the restore would do: which backup (taken when, how old), why, the target, the tags, deletion
    protection, the policy's verdict (approval and from whom), and anything that would stop it."""
    command = f"`{COMMAND} {escape(plan.command)}`"
    lines = [f":mag: *Dry run: nothing was restored, recorded or posted.* This is what {command} would do:"]
    backup = plan.backup
    parts = [f"`{escape(backup.backup_id)}`"]
    if backup.name:
        parts.append(f"“{escape(backup.name)}”")
    parts.append(f"of `{escape(backup.source_index_name)}`")
    taken = taken_at(backup)
    if taken is not None:
        ages = []
        if plan.choice is not None and plan.choice.moment is not None:
            ages.append(f"{age_text(plan.choice.moment.at - taken)} before the moment asked for")
        ages.append(f"{age_text(plan.now - taken)} ago")
        parts.append(f"taken {when_text(taken)} ({', '.join(ages)})")
    else:
        parts.append("creation time not given by Pinecone")
    if backup.record_count is not None:
        parts.append(f"{backup.record_count:,} records")
    if backup.size_bytes is not None:
        parts.append(size_text(backup.size_bytes))
    parts.append(f"status {escape(backup.status)}")
    lines.append(f"*Backup:* {' · '.join(parts)}")
    if plan.choice is not None:
        lines.append(f"*Chosen:* {escape(plan.choice.why)}")
    blockers: list[str] = []
    if plan.target_free is None:
        note = " (Pinecone could not say whether the name is free)"
    elif plan.target_free:
        note = " (the name is free)"
    else:
        note = " (:warning: an index with this name exists, so the restore would be refused)"
        blockers.append("name")
    lines.append(f"*Into:* `{escape(plan.index_name)}`{note}")
    lines.append(f"*Tags:* {tags_text(plan.tags)}")
    lines.append(f"*Deletion protection:* {'enabled' if plan.deletion_protection else 'disabled'}")
    match plan.verdict:
        case PolicyRefusal(message=message, rule=rule, ask=ask):
            who = f" Ask {', '.join(mention(person) for person in ask)}." if ask else ""
            lines.append(f":no_entry: *Policy:* it would be refused: {escape(message)} (rule: {escape(rule)}).{who}")
            blockers.append("policy")
        case PolicyPermission(needs_approval=True, approvers=approvers, reason=reason, timeout_minutes=minutes):
            who = " ".join(mention(approver) for approver in approvers) or "nobody (no approver is listed)"
            lines.append(
                f"*Approval:* needed ({escape(reason)}), from {who}, within {duration(minutes * 60)}; "
                "a plan card would wait in the channel"
            )
        case PolicyPermission(reason=reason):
            lines.append(f"*Approval:* not needed ({escape(reason)}); it would start at once")
    if plan.cannot_post:
        lines.append(plan.cannot_post)
        blockers.append("channel")
    if plan.running is not None:
        lines.append(already_running(plan.running, plan.running_link).text)
        blockers.append("running")
    if blockers:
        lines.append("\nFix what is marked above before asking for it.")
    else:
        lines.append(f"\nTo restore, send it without `{DRY_RUN_FLAG}`: {command}")
    return build_message("\n".join(lines), [section_block(chunk) for chunk in chunk_lines(lines)])
