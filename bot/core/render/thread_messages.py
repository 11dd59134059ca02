"""The parent message of a restore (the plan card while it awaits approval) and its thread's replies.

Pure functions: jobs and facts in, `Message` out; `notice_message` draws a recorded notice from the
job as it is now.
"""

from __future__ import annotations

import math
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, HeaderBlock, PlainTextObject

from bot.core import ids
from bot.core.backup_choice import age_text, taken_at_dt, taken_at_text
from bot.core.estimate import restore_estimate
from bot.core.jobs import FIRST_CHECK_IN, Job, JobState, Notice, NoticeKind
from bot.core.pinecone_failures import PineconeFailure
from bot.core.render.blocks import (
    HEADER_LIMIT,
    Message,
    build_message,
    clip,
    context_block,
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

STATE_LABELS: dict[JobState, str] = {
    JobState.CHECKING: ":mag: Checking the request",
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


VERIFYING_LABEL = ":mag: Verifying"


def state_label(job: Job) -> str:
    """The state as the parent and `status` name it; a restore whose index is Ready and whose record count
    is being re-checked is "Verifying"."""
    if job.state is JobState.RESTORING and job.verify_since is not None:
        return VERIFYING_LABEL
    return STATE_LABELS[job.state]


def progress_bar(job: Job) -> str:
    """A bar only for a percent Pinecone reported (API 2026-07 reports none until the restore is done)."""
    if job.percent_complete is None:
        return ""
    filled = int(job.percent_complete // 10)
    return f"`{'█' * filled}{'░' * (10 - filled)}` {whole_percent(job.percent_complete)}"


def whole_percent(percent: float) -> str:
    """Rounded down: a reported 99.7% is not done."""
    return f"{math.floor(percent)}%"


def _as_of(job: Job) -> str:
    """The parent is redrawn on changes and check-ins, not every poll, so what it shows says when it was true."""
    moment = job.updated_at
    return f" as of <!date^{int(moment.timestamp())}^{{time}}|{moment.strftime('%H:%M UTC')}>"


def running_line(job: Job) -> str:
    """What is known about a running restore: what Pinecone reports, and how long it has been running."""
    if job.verify_since is not None:
        return (
            "Pinecone reports the index Ready; re-checking its record count against the backup's "
            f"(Pinecone may still be counting) since {slack_date(job.verify_since)}"
        )
    if job.percent_complete is not None:
        return f"{progress_bar(job)}{_as_of(job)}"
    reported = f"Pinecone reports `{escape(job.pinecone_status)}`" if job.pinecone_status else "accepted by Pinecone"
    return f"{reported}, running {duration(job.elapsed(job.updated_at))}{_as_of(job)}"


def estimate_text(job: Job) -> str | None:
    """The published restore time for this backup's size, labelled as an estimate; None if the backup does not
    say how many records it holds."""
    estimate = restore_estimate(job.backup_record_count)
    if estimate is None:
        return None
    records = f"{estimate.records:,} records"
    if estimate.beyond_published:
        text = f"more than {duration(estimate.seconds)} for {records} (Pinecone publishes up to 5 hours for 100M)"
    else:
        text = f"about {duration(estimate.seconds)} in all for {records}, from Pinecone's published restore times"
    if job.state is JobState.RESTORING and job.elapsed(job.updated_at) > estimate.seconds:
        text += "; this one is taking longer, and Pinecone may still finish it"
    return f"{text} (an estimate: Pinecone reports no progress until the restore is done)"


def backup_line(job: Job) -> str:
    if job.state is JobState.AWAITING_APPROVAL:
        return backup_facts_line(job)
    if not job.backup_id:
        return backup_ref(job)
    source = f" of `{escape(job.source_index_name)}`" if job.source_index_name else ""
    records = f", {job.backup_record_count:,} records" if job.backup_record_count is not None else ""
    return f"`{job.backup_id}`{source}{records}"


def backup_ref(job: Job) -> str:
    """The backup a job restores, in a few words: its ID, or for a request by intent whose backup is not
    chosen (yet, or ever), what was asked for."""
    if job.backup_id:
        return f"`{escape(job.backup_id)}`"
    before = f" before `{escape(job.intent_before)}`" if job.intent_before else ""
    return f"the newest Ready backup of `{escape(job.intent_source or '?')}`{before} (not chosen)"


def choice_line(job: Job) -> str | None:
    """Why this backup, for a request by intent: "*Chosen:* newest Ready backup of prod-search before ..."."""
    if not job.by_intent:
        return None
    if job.backup_choice:
        return f"*Chosen:* {escape(job.backup_choice)}"
    before = f" before `{escape(job.intent_before)}`" if job.intent_before else ""
    return f"*Asked for:* the newest Ready backup of `{escape(job.intent_source or '?')}`{before}"


def parent_message(job: Job) -> Message:
    """The one message a restore has in its channel; while awaiting approval it is the plan card."""
    label = state_label(job)
    lines = [
        f"*State:* {label}" + (f" · {running_line(job)}" if job.state is JobState.RESTORING else ""),
        f"*Requested by:* <@{job.requester_id}> {slack_date(job.created_at)}",
        f"*Backup:* {backup_line(job)}",
    ]
    chosen = choice_line(job)
    if chosen:
        lines.append(chosen)
    estimate = estimate_text(job) if job.state is JobState.RESTORING and job.verify_since is None else None
    if estimate:
        lines.append(f"*Estimate:* {estimate}")
    lines += [
        f"*Target index:* `{job.index_name}`" + target_note(job),
        f"*Tags:* {tags_text(job.tags)}",
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
        HeaderBlock(text=PlainTextObject(text=clip(f"{title}: {job.index_name}", HEADER_LIMIT))),
        section_block("\n".join(lines)),
    ]
    if job.state is JobState.AWAITING_APPROVAL:
        blocks.append(approval_buttons(job.id))
    blocks.append(
        context_block(
            f"Job `{job.id}`" + (f" · Pinecone restore job `{job.restore_job_id}`" if job.restore_job_id else "")
        )
    )
    text = f"Restore of backup {job.backup_id} into {job.index_name}: {label.split(' ', 1)[1]}"
    return build_message(text, blocks)


def target_note(job: Job) -> str:
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


def approval_buttons(job_id: str) -> ActionsBlock:
    return ActionsBlock(
        block_id=ids.APPROVAL_ACTIONS_BLOCK,
        elements=[
            ButtonElement(text="Approve", action_id=ids.APPROVE_ACTION, value=job_id, style="primary"),
            ButtonElement(text="Deny", action_id=ids.DENY_ACTION, value=job_id, style="danger"),
            ButtonElement(text="Cancel request", action_id=ids.CANCEL_ACTION, value=job_id),
        ],
    )


def backup_facts_line(job: Job) -> str:
    parts = [f"`{job.backup_id}`"]
    if job.backup_name:
        parts.append(f"“{escape(job.backup_name)}”")
    if job.source_index_name:
        parts.append(f"of `{escape(job.source_index_name)}`")
    if job.backup_created_at:
        shown = taken_at_text(job.backup_created_at) or escape(job.backup_created_at)
        parts.append(f"taken {shown}" + _age_note(job))
    if job.backup_record_count is not None:
        parts.append(f"{job.backup_record_count:,} records")
    if job.backup_size_bytes is not None:
        parts.append(size_text(job.backup_size_bytes))
    if job.backup_status:
        parts.append(f"status {escape(job.backup_status)}")
    return " · ".join(parts)


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


def _age_note(job: Job) -> str:
    """How old the backup is relative to the moment asked for (`before:`), for a request by intent."""
    taken = taken_at_dt(job.backup_created_at)
    if job.intent_moment is None or taken is None:
        return ""
    return f" ({age_text(job.intent_moment - taken)} before the moment asked for)"


def plan_summary(job: Job) -> str:
    """Exactly what would be restored, for the approval modals."""
    chosen = choice_line(job)
    return "\n".join(
        [
            f"*Backup:* {backup_facts_line(job)}",
            *([chosen] if chosen else []),
            f"*Into:* `{job.index_name}`" + target_note(job),
            f"*Tags:* {tags_text(job.tags)}",
            f"*Deletion protection:* {'enabled' if job.deletion_protection else 'disabled'}",
            f"*Requested by:* <@{job.requester_id}> {slack_date(job.created_at)}",
        ]
    )


def thread_started(job: Job) -> Message:
    which = (
        f"restore job `{escape(job.restore_job_id)}`"
        if job.restore_job_id
        else "followed through its index: Pinecone did not list the restore job"
    )
    text = (
        f"Pinecone accepted the restore ({which}). Pinecone reports no progress while a restore runs, so "
        f"I'll say here if it is still running after {duration(FIRST_CHECK_IN)}, 1h, 2h, 4h…, and when it is done."
    )
    return plain(text)


def thread_check_in(job: Job, after: float) -> Message:
    """A quiet "still restoring" reply: all that can be said honestly while Pinecone reports no progress."""
    status = f"`{escape(job.pinecone_status)}`" if job.pinecone_status else "no status yet"
    text = (
        f":hourglass_flowing_sand: `{job.index_name}` is still restoring after {duration(after)} (Pinecone: {status})."
    )
    estimate = estimate_text(job)
    if estimate:
        text += f" Estimate: {estimate}."
    return plain(text)


def thread_milestone(job: Job, milestone: int, now: datetime) -> Message:
    """A 25/50/75 % reply, for notices recorded under API 2026-04 and not yet delivered at the upgrade."""
    text = (
        f":arrows_counterclockwise: `{job.index_name}` is {milestone}% restored ({duration(job.elapsed(now))} so far)."
    )
    return plain(text)


def thread_ready(job: Job) -> Message:
    text = (
        f":white_check_mark: <@{job.requester_id}> `{job.index_name}` is ready.\n"
        f"*Host:* `{escape(job.host or 'unknown')}`\n"
        f"*Dimension:* {job.dimension if job.dimension is not None else 'n/a'} · "
        f"*Metric:* {escape(job.metric or 'n/a')}\n"
        f"*Took:* {duration(job.elapsed(job.updated_at))}"
    )
    if job.verification:
        mark = ":warning: *Does not match its backup:*" if job.verified is False else "*Compared with the backup:*"
        text += f"\n{mark} {escape(job.verification)}"
        if job.verify_since is not None:
            waited = max(0.0, ((job.finished_at or job.updated_at) - job.verify_since).total_seconds())
            text += f" (the record count was re-checked for {duration(waited)} after the index was Ready)"
    return plain(text)


def thread_failed(job: Job) -> Message:
    verb = "timed out" if job.state is JobState.TIMED_OUT else "failed"
    reason = escape(job.reason or "no reason given")
    text = f":x: <@{job.requester_id}> the restore into `{job.index_name}` {verb}: {reason}"
    return plain(text)


def incident_notice(job: Job, thread_link: str | None) -> Message:
    verb = "timed out" if job.state is JobState.TIMED_OUT else "failed"
    where = f" <{thread_link}|Thread>" if thread_link else ""
    text = (
        f":rotating_light: Restore into `{job.index_name}` {verb}: {escape(job.reason or 'no reason given')}. "
        f"Requested by <@{job.requester_id}> from backup `{job.backup_id}`.{where}"
    )
    return plain(text)


def thread_outage(since: datetime) -> Message:
    return plain(
        f":warning: Pinecone has not answered since {slack_date(since)}; still trying. "
        "The restore itself is not affected; I'll say here when Pinecone answers again."
    )


def thread_refused(detail: str) -> Message:
    """Pinecone answers the tracker's reads with a refusal. `detail`: the failure kind, a space, Pinecone's words."""
    kind, _, words = detail.partition(" ")
    said = f" Pinecone says: {escape(clip(words, 300))}" if words else ""
    match kind:
        case PineconeFailure.BAD_API_KEY:
            said = ""  # as for a request (pinecone_sentences.explain): nothing about the key is repeated in Slack
            why = "Pinecone rejects the bot's API key"
            fix = "An admin needs to check restore-bot's `PINECONE_API_KEY` setting."
        case PineconeFailure.FORBIDDEN:
            why = "Pinecone denies the bot's API key permission to read this restore"
            fix = "An admin needs to give restore-bot's API key read access to the project's restores and indexes."
        case _:
            why = "Pinecone refuses the bot's reads of this restore"
            fix = "An admin should look at restore-bot's log."
    return plain(
        f":no_entry: {why}, so I cannot tell how the restore is going.{said} {fix} The restore itself is not "
        "affected; I keep trying and will say here when Pinecone answers again."
    )


def thread_recovered(since: datetime | None) -> Message:
    what = f" (the bot's reads failed from {slack_date(since)})" if since else ""
    return plain(f":white_check_mark: Pinecone is answering again{what}; tracking continues.")


def thread_unreachable(job: Job) -> Message:
    """To the requester, by direct message: the restore's channel takes nothing more from the bot."""
    why = escape(job.slack_error or "Slack refused")
    incident = " Failures still go to the incident channel." if job.state.active else ""
    return plain(
        f":warning: I can no longer post about your restore into `{job.index_name}` in <#{job.channel_id}> "
        f"({why}). The restore itself is not affected; `/restore-index status {job.index_name}` shows where it "
        f"stands.{incident} If the bot was removed from that private channel, `/invite @restore-bot` there."
    )


def notice_message(job: Job, notice: Notice, thread_link: str | None, now: datetime) -> Message:
    """What a recorded notice says, drawn from the job as it is `now`."""
    # An outage notice's detail is when the outage began (ISO 8601); a check-in's, its seconds.
    since = (
        datetime.fromisoformat(notice.detail)
        if notice.detail and notice.kind in (NoticeKind.OUTAGE, NoticeKind.RECOVERED)
        else None
    )
    match notice.kind:
        case NoticeKind.STARTED:
            return thread_started(job)
        case NoticeKind.CHECK_IN:
            return thread_check_in(job, float(notice.detail or 0))
        case NoticeKind.MILESTONE:
            return thread_milestone(job, notice.milestone or 0, now)
        case NoticeKind.FINISHED:
            return thread_ready(job) if job.state is JobState.READY else thread_failed(job)
        case NoticeKind.INCIDENT:
            return incident_notice(job, thread_link)
        case NoticeKind.OUTAGE:
            return thread_outage(since or job.updated_at)
        case NoticeKind.RECOVERED:
            return thread_recovered(since)
        case NoticeKind.REFUSED:
            return thread_refused(notice.detail or "")
        case NoticeKind.REJECTED:
            return request_failed(
                f"<@{job.requester_id}> the restore of {backup_ref(job)} into `{job.index_name}` could not go "
                f"ahead: {escape(job.reason or 'no reason given')}"
            )
        case NoticeKind.APPROVED | NoticeKind.DENIED | NoticeKind.CANCELLED | NoticeKind.EXPIRED:
            return thread_decided(job, notice.kind.value)
        case NoticeKind.UNREACHABLE:
            return thread_unreachable(job)
        case NoticeKind.MISMATCH:
            where = f" <{thread_link}|Thread>" if thread_link else ""
            return plain(
                f":rotating_light: Restored index `{job.index_name}` does not match backup `{job.backup_id}`: "
                f"{escape(job.reason or job.verification or 'see the thread')}. "
                f"Compared: {escape(job.verification or 'unknown')}.{where}"
            )
