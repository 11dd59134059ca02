"""Every message the bot shows, as data: Block Kit blocks plus a plain-text fallback.

Pure functions: jobs and facts in, `Message` out. Slack's limits (≤ 50 blocks, section text
≤ 3000 characters, header ≤ 150) are respected here so no caller has to think about them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.core import ids
from bot.core.jobs import Decision, Job, JobState, Notice, NoticeKind

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
MAX_BLOCKS = 50
COMMAND = "/restore-index"
EXAMPLE = 'a65ff585-d987-4da5-a622-72e19a6ed5f4 restored-index env=prod team="search infra" --deletion-protection'

STATE_LABELS: dict[JobState, str] = {
    JobState.AWAITING_APPROVAL: ":raised_hand: Waiting for approval",
    JobState.REQUESTED: ":hourglass_flowing_sand: Checking the backup",
    JobState.SUBMITTING: ":outbox_tray: Submitting to Pinecone",
    JobState.RESTORING: ":arrows_counterclockwise: Restoring",
    JobState.READY: ":white_check_mark: Ready",
    JobState.FAILED: ":x: Failed",
    JobState.TIMED_OUT: ":alarm_clock: Timed out",
    JobState.REJECTED: ":no_entry_sign: Rejected",
    JobState.DENIED: ":no_entry: Denied",
    JobState.CANCELLED: ":wastebasket: Cancelled",
    JobState.EXPIRED: ":hourglass: Expired without a decision",
}

MILESTONES = (25, 50, 75)


@dataclass(frozen=True)
class Message:
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)

    def as_kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def escape(text: str) -> str:
    """Slack mrkdwn control characters; user and Pinecone text must not become markup."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=_clip(text, SECTION_LIMIT)))


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=_clip(text, SECTION_LIMIT))])


def _message(text: str, blocks: Sequence[Block]) -> Message:
    rendered = [block.to_dict() for block in blocks[:MAX_BLOCKS]]
    return Message(text=_clip(text, 3000), blocks=rendered)


def slack_date(moment: datetime) -> str:
    """A timestamp every reader sees in their own time zone, with a UTC fallback."""
    fallback = moment.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} {{time}}|{fallback}>"


def duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _tags(tags: dict[str, str]) -> str:
    if not tags:
        return "none"
    return ", ".join(f"`{escape(k)}={escape(v)}`" for k, v in sorted(tags.items()))


def _progress(job: Job) -> str:
    if job.percent_complete is None:
        return ""
    filled = int(job.percent_complete // 10)
    return f"`{'█' * filled}{'░' * (10 - filled)}` {whole_percent(job.percent_complete)}"


def whole_percent(percent: float) -> str:
    """Rounded down: 24.6% is not yet the 25% milestone, and 99.7% is not done."""
    return f"{math.floor(percent)}%"


def _as_of(job: Job) -> str:
    """The parent is redrawn at milestones, not every poll, so its progress says when it was true."""
    if job.percent_complete is None:
        return ""
    moment = job.updated_at
    return f" as of <!date^{int(moment.timestamp())}^{{time}}|{moment.strftime('%H:%M UTC')}>"


def _backup_line(job: Job) -> str:
    if job.state is JobState.AWAITING_APPROVAL:
        return _backup_facts(job)
    source = f" of `{escape(job.source_index_name)}`" if job.source_index_name else ""
    records = f", {job.backup_record_count:,} records" if job.backup_record_count is not None else ""
    return f"`{job.backup_id}`{source}{records}"


# -- the parent message and its thread -----------------------------------------------------------


def parent_message(job: Job) -> Message:
    """The one message a restore has in its channel; while awaiting approval it is the plan card."""
    label = STATE_LABELS[job.state]
    lines = [
        f"*State:* {label}" + (f"  {_progress(job)}{_as_of(job)}" if job.state is JobState.RESTORING else ""),
        f"*Requested by:* <@{job.requester_id}> {slack_date(job.created_at)}",
        f"*Backup:* {_backup_line(job)}",
        f"*Target index:* `{job.index_name}`" + _target_note(job),
        f"*Tags:* {_tags(job.tags)}",
        f"*Deletion protection:* {'enabled' if job.deletion_protection else 'disabled'}",
    ]
    if job.state is JobState.READY and job.host:
        lines.append(f"*Host:* `{escape(job.host)}`")
    if job.approvers:
        lines.append(_approval_line(job))
    if job.reason and job.state in {JobState.FAILED, JobState.TIMED_OUT, JobState.REJECTED}:
        lines.append(f"*Reason:* {escape(job.reason)}")
    title = "Restore plan" if job.state is JobState.AWAITING_APPROVAL else "Restore"
    blocks: list[Block] = [
        HeaderBlock(text=PlainTextObject(text=_clip(f"{title}: {job.index_name}", HEADER_LIMIT))),
        _section("\n".join(lines)),
    ]
    if job.state is JobState.AWAITING_APPROVAL:
        blocks.append(approval_buttons(job.id))
    blocks.append(
        _context(f"Job `{job.id}`" + (f" · Pinecone restore job `{job.restore_job_id}`" if job.restore_job_id else ""))
    )
    text = f"Restore of backup {job.backup_id} into {job.index_name}: {label.split(' ', 1)[1]}"
    return _message(text, blocks)


def _target_note(job: Job) -> str:
    if job.state is not JobState.AWAITING_APPROVAL or job.target_free is None:
        return ""
    return " (the name is free)" if job.target_free else " (:warning: an index with this name exists)"


def _approval_line(job: Job) -> str:
    who = " ".join(mention(approver) for approver in job.approvers)
    if job.state is JobState.AWAITING_APPROVAL:
        until = f" before {slack_date(job.approval_expires_at)}" if job.approval_expires_at else ""
        why = f" ({escape(job.approval_reason)})" if job.approval_reason else ""
        return f"*Needs approval{why} from:* {who}{until}"
    if job.decided_by:
        verb = {JobState.DENIED: "Denied", JobState.CANCELLED: "Cancelled", JobState.EXPIRED: "Expired"}.get(
            job.state, "Approved"
        )
        because = f": {escape(job.decision_reason)}" if job.decision_reason else ""
        return f"*{verb} by:* {mention(job.decided_by)}{because}"
    return f"*Approvers:* {who}"


def mention(slack_id: str) -> str:
    """A user (U…/W…) or user-group (S…) mention."""
    if slack_id.startswith("S"):
        return f"<!subteam^{slack_id}>"
    return f"<@{slack_id}>"


def approval_buttons(job_id: str) -> ActionsBlock:
    return ActionsBlock(
        block_id=ids.APPROVAL_ACTIONS_BLOCK,
        elements=[
            ButtonElement(text="Approve", action_id=ids.APPROVE_ACTION, value=job_id, style="primary"),
            ButtonElement(text="Deny", action_id=ids.DENY_ACTION, value=job_id, style="danger"),
            ButtonElement(text="Cancel request", action_id=ids.CANCEL_ACTION, value=job_id),
        ],
    )


def _backup_facts(job: Job) -> str:
    parts = [f"`{job.backup_id}`"]
    if job.backup_name:
        parts.append(f"“{escape(job.backup_name)}”")
    if job.source_index_name:
        parts.append(f"of `{escape(job.source_index_name)}`")
    if job.backup_created_at:
        parts.append(f"taken {escape(job.backup_created_at)}")
    if job.backup_record_count is not None:
        parts.append(f"{job.backup_record_count:,} records")
    if job.backup_size_bytes is not None:
        parts.append(_size(job.backup_size_bytes))
    if job.backup_status:
        parts.append(f"status {escape(job.backup_status)}")
    return " · ".join(parts)


def _size(size_bytes: int) -> str:
    size = float(size_bytes)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{size_bytes} B"


def thread_decided(job: Job, kind: str) -> Message:
    reason = f": {escape(job.decision_reason)}" if job.decision_reason else ""
    by = mention(job.decided_by) if job.decided_by else "someone"
    texts = {
        "approved": f":white_check_mark: Approved by {by}{reason}. Starting the restore.",
        "denied": f":no_entry: <@{job.requester_id}> your restore was denied by {by}{reason}.",
        "cancelled": f":wastebasket: Cancelled by {by}. Nothing was restored.",
        "expired": f":hourglass: <@{job.requester_id}> nobody approved this restore in time, so it expired. "
        "Ask again if it is still needed.",
    }
    return plain(texts[kind])


def plan_summary(job: Job) -> str:
    """Exactly what would be restored, for the approval modals."""
    return "\n".join(
        [
            f"*Backup:* {_backup_facts(job)}",
            f"*Into:* `{job.index_name}`" + _target_note(job),
            f"*Tags:* {_tags(job.tags)}",
            f"*Deletion protection:* {'enabled' if job.deletion_protection else 'disabled'}",
            f"*Requested by:* <@{job.requester_id}> {slack_date(job.created_at)}",
        ]
    )


def thread_started(job: Job) -> Message:
    text = (
        f"Pinecone accepted the restore (restore job `{job.restore_job_id}`). "
        "I'll post here at 25%, 50% and 75%, and when it is done."
    )
    return _message(text, [_section(text)])


def thread_milestone(job: Job, milestone: int) -> Message:
    text = f":arrows_counterclockwise: `{job.index_name}` is {milestone}% restored ({duration(job.elapsed())} so far)."
    return _message(text, [_section(text)])


def thread_ready(job: Job) -> Message:
    text = (
        f":white_check_mark: <@{job.requester_id}> `{job.index_name}` is ready.\n"
        f"*Host:* `{escape(job.host or 'unknown')}`\n"
        f"*Dimension:* {job.dimension if job.dimension is not None else 'n/a'} · "
        f"*Metric:* {escape(job.metric or 'n/a')}\n"
        f"*Took:* {duration(job.elapsed())}"
    )
    if job.verification:
        mark = ":warning: *Does not match its backup:*" if job.verified is False else "*Compared with the backup:*"
        text += f"\n{mark} {escape(job.verification)}"
    return _message(text, [_section(text)])


def thread_failed(job: Job) -> Message:
    verb = "timed out" if job.state is JobState.TIMED_OUT else "failed"
    reason = escape(job.reason or "no reason given")
    text = f":x: <@{job.requester_id}> the restore into `{job.index_name}` {verb}: {reason}"
    return _message(text, [_section(text)])


def incident_notice(job: Job, thread_link: str | None) -> Message:
    verb = "timed out" if job.state is JobState.TIMED_OUT else "failed"
    where = f" <{thread_link}|Thread>" if thread_link else ""
    text = (
        f":rotating_light: Restore into `{job.index_name}` {verb}: {escape(job.reason or 'no reason given')}. "
        f"Requested by <@{job.requester_id}> from backup `{job.backup_id}`.{where}"
    )
    return _message(text, [_section(text)])


def thread_outage(since: datetime) -> Message:
    return plain(
        f":warning: Pinecone has not answered since {slack_date(since)}; still trying. "
        "The restore itself is not affected; I'll say here when Pinecone answers again."
    )


def thread_recovered(since: datetime | None) -> Message:
    what = f" (no answer since {slack_date(since)})" if since else ""
    return plain(f":white_check_mark: Pinecone is answering again{what}; tracking continues.")


def notice_message(job: Job, notice: Notice, thread_link: str | None) -> Message:
    """What a recorded notice says, drawn from the job as it is now."""
    since = datetime.fromisoformat(notice.detail) if notice.detail else None
    match notice.kind:
        case NoticeKind.STARTED:
            return thread_started(job)
        case NoticeKind.MILESTONE:
            return thread_milestone(job, notice.milestone or 0)
        case NoticeKind.FINISHED:
            return thread_ready(job) if job.state is JobState.READY else thread_failed(job)
        case NoticeKind.INCIDENT:
            return incident_notice(job, thread_link)
        case NoticeKind.OUTAGE:
            return thread_outage(since or job.updated_at)
        case NoticeKind.RECOVERED:
            return thread_recovered(since)
        case NoticeKind.REJECTED:
            return request_failed(
                f"<@{job.requester_id}> the restore of `{job.backup_id}` into `{job.index_name}` could not go "
                f"ahead: {escape(job.reason or 'no reason given')}"
            )
        case NoticeKind.APPROVED | NoticeKind.DENIED | NoticeKind.CANCELLED | NoticeKind.EXPIRED:
            return thread_decided(job, notice.kind.value)
        case NoticeKind.MISMATCH:
            where = f" <{thread_link}|Thread>" if thread_link else ""
            return plain(
                f":rotating_light: Restored index `{job.index_name}` does not match backup `{job.backup_id}`: "
                f"{escape(job.reason or job.verification or 'see the thread')}.{where}"
            )


def next_milestone(job: Job) -> int | None:
    """The highest milestone reached and not yet announced, if any."""
    if job.percent_complete is None:
        return None
    reached = [m for m in MILESTONES if job.percent_complete >= m and m > job.milestone]
    return max(reached) if reached else None


# -- answers to the requester only -------------------------------------------------------------------


def usage(intro: str | None = None) -> Message:
    text = (
        (f"{intro}\n\n" if intro else "")
        + f"*Restore a Pinecone index from a backup:*\n`{COMMAND} <backup_id> <index_name> [key=value ...] "
        "[--deletion-protection]`\n"
        f"Example: `{COMMAND} {escape(EXAMPLE)}`\n\n"
        f"*Other commands:*\n• `{COMMAND} status <index_name>`: the latest restore into that name\n"
        f"• `{COMMAND} list`: recent restores in this channel\n"
        f"• `{COMMAND} audit [index_name]`: who requested, approved, denied and cancelled what "
        "(approvers and policy admins)\n"
        f"• `{COMMAND}` alone: a form to pick the backup\n• `{COMMAND} help`: this message\n\n"
        "Index names: 1–45 lower-case letters, digits or `-`, starting and ending with a letter or digit. "
        "Tags: keys up to 80 letters, digits, `_` or `-`; values up to 120 letters, digits, spaces or `; @ _ - . +`; "
        "quote values with spaces."
    )
    return _message(text, [_section(text)])


def rejection(problems: Sequence[tuple[str, str, str | None]], example: str) -> Message:
    """problems: (part, rule, hint) triples."""
    lines = [f"I can't start that restore: {len(problems)} problem{'s' if len(problems) != 1 else ''}."]
    for part, rule, hint in problems:
        lines.append(f"• *{escape(part)}*: {escape(rule)}" + (f" ({escape(hint)})" if hint else ""))
    lines.append(f"\nFor example: `{COMMAND} {escape(example)}`")
    text = "\n".join(lines)
    return _message(text, [_section(text)])


def channel_not_allowed(allowed: Sequence[str]) -> Message:
    if not allowed:
        text = (
            ":no_entry: Restores are not enabled in any channel yet. An admin has to list the channels "
            "where restores may be requested in the bot's `RESTORE_BOT_ALLOWED_CHANNELS` setting."
        )
    else:
        where = ", ".join(f"<#{channel}>" for channel in allowed)
        text = f":no_entry: Restores can't be requested in this channel. Please ask in {where}."
    return _message(text, [_section(text)])


def policy_refusal(message: str, rule: str, ask: Sequence[str]) -> Message:
    who = ", ".join(mention(person) for person in ask)
    text = f":no_entry: {escape(message)}\n*Rule:* {escape(rule)}" + (f"\n*Ask:* {who}" if who else "")
    return _message(text, [_section(text)])


def plain(text: str) -> Message:
    return _message(text, [_section(text)])


def accepted(backup_id: str, index_name: str) -> Message:
    return plain(f":hourglass_flowing_sand: Checking backup `{backup_id}` before restoring into `{index_name}`…")


def already_running(existing: Job, thread_link: str | None) -> Message:
    thread = f"<{thread_link}|See its thread.>" if thread_link else f"Its thread will be in <#{existing.channel_id}>."
    where = f" {thread}"
    return plain(
        f":warning: A restore into `{existing.index_name}` is already running "
        f"(requested by <@{existing.requester_id}> {slack_date(existing.created_at)}, "
        f"{STATE_LABELS[existing.state].split(' ', 1)[1].lower()}).{where}"
    )


def request_failed(reason: str) -> Message:
    return plain(f":x: {reason}")


def status(job: Job | None, index_name: str, thread_link: str | None) -> Message:
    if job is None:
        return plain(f"I have no record of a restore into `{index_name}`.")
    lines = [
        f"*Latest restore into `{job.index_name}`:* {STATE_LABELS[job.state]}"
        + (f" {_progress(job)}" if job.state is JobState.RESTORING else ""),
        f"*Requested by:* <@{job.requester_id}> {slack_date(job.created_at)}",
        f"*Backup:* {_backup_line(job)}",
    ]
    if job.state is JobState.READY:
        lines.append(f"*Host:* `{escape(job.host or 'unknown')}` · *Took:* {duration(job.elapsed())}")
    elif job.reason:
        lines.append(f"*Reason:* {escape(job.reason)}")
    if thread_link:
        lines.append(f"<{thread_link}|Open the thread>")
    text = "\n".join(lines)
    return _message(text, [_section(text)])


def job_list(jobs: Sequence[Job]) -> Message:
    if not jobs:
        return plain("No restores have been requested in this channel yet.")
    blocks: list[Block] = [
        _section(f"*Recent restores in this channel* (newest first, {len(jobs)} shown)"),
        DividerBlock(),
    ]
    lines = []
    for job in jobs:
        progress = ""
        if job.state is JobState.RESTORING and job.percent_complete:
            progress = f" {whole_percent(job.percent_complete)}"
        line = (
            f"• `{job.index_name}` — {STATE_LABELS[job.state]}{progress} — <@{job.requester_id}> "
            f"{slack_date(job.created_at)} — backup `{job.backup_id}`"
        )
        lines.append(line)
        blocks.append(_section(line))
    return _message("Recent restores in this channel:\n" + "\n".join(lines), blocks)


RESTARTING = ":arrows_counterclockwise: The bot is restarting right now. Try again in a minute."
STORE_UNAVAILABLE = "The bot cannot read its job store right now. Try again in a minute."


def _decision_view(
    job: Job, *, callback_id: str, title: str, submit: str, reason_label: str, optional: bool
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": job.id,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Back"},
        "blocks": [
            _section(_clip(plan_summary(job), SECTION_LIMIT)).to_dict(),
            {
                "type": "input",
                "block_id": ids.DECISION_REASON_BLOCK,
                "optional": optional,
                "label": {"type": "plain_text", "text": reason_label},
                "element": {
                    "type": "plain_text_input",
                    "action_id": ids.DECISION_REASON_INPUT,
                    "multiline": True,
                    "max_length": 2000,
                },
            },
        ],
    }


def approve_view(job: Job) -> dict[str, Any]:
    """Exactly what will be restored, with an optional reason."""
    return _decision_view(
        job,
        callback_id=ids.APPROVE_VIEW,
        title="Approve restore",
        submit="Approve",
        reason_label="Reason (optional)",
        optional=True,
    )


def deny_view(job: Job) -> dict[str, Any]:
    return _decision_view(
        job, callback_id=ids.DENY_VIEW, title="Deny restore", submit="Deny", reason_label="Why?", optional=False
    )


def audit_trail(entries: Sequence[tuple[Job, Sequence[Decision]]], index_name: str | None) -> Message:
    """Who requested, approved, denied and cancelled what, when; newest first."""
    scope = f" for `{index_name}`" if index_name else ""
    if not entries:
        return plain(f"No restores recorded{scope}.")
    lines = [f"*Audit trail{scope}* (newest first, {len(entries)} shown)"]
    for job, decisions in entries:
        lines.append(
            f"• `{job.index_name}` from `{job.backup_id}`: {STATE_LABELS[job.state]}. "
            f"Requested by <@{job.requester_id}> {slack_date(job.created_at)} in <#{job.channel_id}>"
        )
        for decision in decisions:
            when = f" {slack_date(decision.at)}" if decision.at else ""
            why = f": {escape(decision.reason)}" if decision.reason else ""
            by = "the bot (no decision in time)" if decision.by_user == "restore-bot" else mention(decision.by_user)
            lines.append(f"    ◦ {decision.decision} by {by}{when}{why}")
    return _message("\n".join(lines), [_section(chunk) for chunk in _chunks(lines)])


def _chunks(lines: Sequence[str]) -> list[str]:
    """Lines packed into section-sized texts (a section holds at most 3,000 characters)."""
    chunks: list[str] = []
    current = ""
    for line in lines:
        if current and len(current) + len(line) + 1 > SECTION_LIMIT:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else _clip(line, SECTION_LIMIT)
    if current:
        chunks.append(current)
    return chunks[: MAX_BLOCKS - 1]


def not_an_auditor() -> Message:
    return plain(":lock: The audit trail is for approvers and policy admins. Ask one of them, or the bot's operators.")


def home_view(mine: Sequence[Job], waiting: Sequence[tuple[Job, str | None]]) -> dict[str, Any]:
    """The App Home tab: the approvals waiting for this person, then their recent restores."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text="Waiting for your approval"))]
    if waiting:
        for job, link in waiting[:15]:
            open_card = f" <{link}|Open the plan card>" if link else ""
            blocks.append(
                _section(
                    f"`{job.index_name}` from `{job.backup_id}`, asked by <@{job.requester_id}> "
                    f"{slack_date(job.created_at)}.{open_card}"
                )
            )
    else:
        blocks.append(_context("Nothing is waiting for you."))
    blocks.append(DividerBlock())
    blocks.append(HeaderBlock(text=PlainTextObject(text="Your recent restores")))
    if mine:
        for job in mine[:20]:
            progress = f" {_progress(job)}" if job.state is JobState.RESTORING else ""
            blocks.append(
                _section(f"`{job.index_name}`: {STATE_LABELS[job.state]}{progress} · {slack_date(job.created_at)}")
            )
    else:
        blocks.append(_context(f"You have not asked for a restore yet. Try `{COMMAND}` in an allowed channel."))
    return {"type": "home", "blocks": [block.to_dict() for block in blocks[:MAX_BLOCKS]]}
