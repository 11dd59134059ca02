"""Rendering: every message fits Slack's limits and says what the user needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.core import render
from bot.core.jobs import Job, JobState

T0 = datetime(2026, 11, 24, 14, 2, tzinfo=UTC)


def job(**changes: Any) -> Job:
    base = Job(
        id="job-1",
        state=JobState.RESTORING,
        backup_id="670e8400-e29b-41d4-a716-446655440000",
        index_name="restored-index",
        tags={"env": "prod", "team": "search infra"},
        deletion_protection=True,
        requester_id="U0ALICE01",
        channel_id="C0RESTORE1",
        created_at=T0,
        updated_at=T0,
        source_index_name="prod-search",
        backup_record_count=120000,
        restore_job_id="rj-1",
        percent_complete=42.0,
        submitted_at=T0,
    )
    return base.model_copy(update=changes)


def assert_within_slack_limits(message: render.Message) -> None:
    assert message.text, "a plain-text fallback is required"
    assert len(message.blocks) <= 50
    for block in message.blocks:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150


def all_text(message: render.Message) -> str:
    return message.text + "\n" + repr(message.blocks)


def test_parent_message_shows_everything_the_issue_lists() -> None:
    message = render.parent_message(job())
    text = all_text(message)
    for expected in (
        "<@U0ALICE01>",
        "670e8400-e29b-41d4-a716-446655440000",
        "prod-search",
        "restored-index",
        "env=prod",
        "team=search infra",
        "Deletion protection:* enabled",
        "Restoring",
        "42%",
    ):
        assert expected in text
    assert_within_slack_limits(message)


def test_parent_shows_host_once_ready() -> None:
    ready = job(state=JobState.READY, host="restored-index-abc1234.svc.pinecone.io", finished_at=T0)
    assert "restored-index-abc1234.svc.pinecone.io" in all_text(render.parent_message(ready))


def test_ready_reply_mentions_requester_with_host_dimension_metric_and_duration() -> None:
    ready = job(
        state=JobState.READY,
        host="h.svc.pinecone.io",
        dimension=1536,
        metric="cosine",
        finished_at=T0 + timedelta(minutes=12, seconds=5),
    )
    text = render.thread_ready(ready).text
    for expected in ("<@U0ALICE01>", "h.svc.pinecone.io", "1536", "cosine", "12m 05s"):
        assert expected in text


def test_failure_reply_and_incident_notice_carry_reason_and_link() -> None:
    failed = job(state=JobState.FAILED, reason="Pinecone reports the restore job as Failed")
    assert "<@U0ALICE01>" in render.thread_failed(failed).text
    notice = render.incident_notice(failed, "https://example.slack.com/archives/C0RESTORE1/p1")
    assert "restored-index" in notice.text and "reports the restore job as Failed" in notice.text
    assert "https://example.slack.com/archives/C0RESTORE1/p1" in notice.text


def test_untrusted_text_cannot_become_markup() -> None:
    failed = job(state=JobState.FAILED, reason="<!channel> & <https://evil|click>")
    text = render.thread_failed(failed).text
    assert "<!channel>" not in text and "&lt;!channel&gt; &amp;" in text


@pytest.mark.parametrize(("percent", "shown"), [(24.6, "24%"), (25.0, "25%"), (99.7, "99%"), (100.0, "100%")])
def test_progress_is_shown_rounded_down_so_it_never_runs_ahead_of_milestones_or_the_finish(
    percent: float, shown: str
) -> None:
    assert f"` {shown} as of" in all_text(render.parent_message(job(percent_complete=percent)))
    assert f" {shown} — " in all_text(render.job_list([job(percent_complete=percent)]))


@pytest.mark.parametrize(("seconds", "text"), [(5, "5s"), (65, "1m 05s"), (3600 * 5 + 60, "5h 01m")])
def test_duration(seconds: float, text: str) -> None:
    assert render.duration(seconds) == text


def test_rejection_lists_every_problem_and_an_example() -> None:
    message = render.rejection(
        [
            ('index name "Prod_Index"', "lower-case letters, digits or '-'", 'try "prod-index"'),
            ('tag key "a b"', "letters, digits, '_' or '-'", None),
        ],
        "a65ff585-d987-4da5-a622-72e19a6ed5f4 prod-index",
    )
    assert "2 problems" in message.text
    assert "Prod_Index" in message.text and 'try "prod-index"' in message.text
    assert "/restore-index a65ff585-d987-4da5-a622-72e19a6ed5f4 prod-index" in message.text
    assert_within_slack_limits(message)


def test_huge_inputs_are_clipped_to_slack_limits() -> None:
    message = render.rejection([("x" * 5000, "y" * 5000, None)], "z")
    assert_within_slack_limits(message)
    many = render.job_list([job(id=f"job-{n}", index_name=f"index-{n}") for n in range(80)])
    assert_within_slack_limits(many)


def test_channel_refusal_names_where_restores_are_allowed() -> None:
    assert "<#C0RESTORE1>" in render.channel_not_allowed(["C0RESTORE1"]).text
    assert "RESTORE_BOT_ALLOWED_CHANNELS" in render.channel_not_allowed([]).text


def test_status_of_unknown_name() -> None:
    assert "no record" in render.status(None, "nothing-here", None).text


@pytest.mark.parametrize("length", [1, 2999, 3000, 3001, 5000])
def test_a_plain_message_is_the_one_section_slack_sdk_would_build(length: int) -> None:
    text = ("a <b> & c " * 600)[:length]
    built = render.build_message(text, [render.section_block(text)])
    assert render.plain(text) == built
    assert_within_slack_limits(render.plain(text))
