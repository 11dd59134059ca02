"""How a request by intent and a dry run read: the backup chosen and why, wherever the request is shown."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core import render
from bot.core.backup_choice import Chosen
from bot.core.jobs import Job, JobState
from bot.core.outcomes import DryRun, RequestRefused
from bot.core.policy.policy_rules import PolicyPermission, PolicyRefusal
from bot.core.request.moments import Moment
from bot.core.vector_fields import VectorShape, vector_shape
from tests.fakes.slack_blocks import validate_blocks

T0 = datetime(2026, 11, 30, 14, 0, tzinfo=UTC)
BACKUP_ID = "670e8400-e29b-41d4-a716-446655440000"
WHY = "newest Ready backup of prod-search before 14:00 today, 2026-11-30 15:00 Europe/Paris (2026-11-30 14:00 UTC)"


@dataclass(frozen=True)
class Listed:
    backup_id: str = BACKUP_ID
    status: str = "Ready"
    created_at: str | None = "2026-11-30T12:58:00Z"
    source_index_name: str = "prod-search"
    name: str | None = "nightly"
    record_count: int | None = 120000
    size_bytes: int | None = 10_000_000
    source_index_deleted_at: str | None = None

    @property
    def ready(self) -> bool:
        return self.status == "Ready"

    @property
    def vector_shape(self) -> VectorShape:
        return vector_shape(None)

    @property
    def dimension(self) -> int | None:
        return None

    @property
    def metric(self) -> str | None:
        return None


def job(**changes: Any) -> Job:
    base = Job(
        id="job-1",
        state=JobState.AWAITING_APPROVAL,
        backup_id=BACKUP_ID,
        index_name="prod-search-restored",
        requester_id="U0ALICE01",
        channel_id="C0RESTORE1",
        created_at=T0,
        updated_at=T0,
        intent_source="prod-search",
        intent_before="14:00",
        intent_moment=T0,
        backup_choice=WHY,
        backup_created_at="2026-11-30T12:58:00Z",
        backup_record_count=120000,
        approvers=("U0BOB0001",),
        approval_reason="target name matches prod-*",
    )
    return base.model_copy(update=changes)


def text_of(message: render.Message) -> str:
    assert validate_blocks(message.blocks) == [], message.blocks
    return message.text + "\n" + repr(message.blocks)


def test_the_plan_card_shows_the_chosen_backup_how_old_it_is_and_why() -> None:
    text = text_of(render.parent_message(job()))
    assert f"`{BACKUP_ID}`" in text and "taken 2026-11-30 12:58 UTC (1h 02m before the moment asked for)" in text
    assert f"*Chosen:* {WHY}" in text
    assert f"*Chosen:* {WHY}" in render.plan_summary(job())


def test_a_request_by_id_says_nothing_about_a_choice() -> None:
    plain = job(intent_source=None, intent_before=None, intent_moment=None, backup_choice=None)
    assert "Chosen" not in text_of(render.parent_message(plain)) and "before the moment" not in render.plan_summary(
        plain
    )


def test_a_request_whose_backup_was_never_chosen_says_what_was_asked_for() -> None:
    refused = job(state=JobState.REJECTED, backup_id="", backup_choice=None, intent_moment=None, reason="none")
    assert "the newest Ready backup of `prod-search` before `14:00` (not chosen)" in text_of(render.job_list([refused]))
    status = text_of(render.status(refused, "prod-search-restored", None))
    assert "*Asked for:* the newest Ready backup of `prod-search` before `14:00`" in status
    audit = text_of(render.audit_trail([(refused, [])], None))
    assert "from the newest Ready backup of `prod-search` before `14:00` (not chosen)" in audit


def test_status_list_audit_and_the_app_home_show_the_choice() -> None:
    running = job(state=JobState.RESTORING, source_index_name="prod-search")
    assert WHY in text_of(render.status(running, "prod-search-restored", None))
    assert f"({WHY})" in text_of(render.job_list([running]))
    assert f"({WHY})" in text_of(render.audit_trail([(running, [])], None))
    home = repr(render.home_view([running], [(job(), None)]))
    assert home.count(WHY) == 2


def moment() -> Moment:
    return Moment(at=T0, understood="14:00 today, 2026-11-30 15:00 Europe/Paris (2026-11-30 14:00 UTC)")


def plan(**changes: Any) -> DryRun:
    chosen = Chosen(backup=Listed(), taken_at=T0 - timedelta(minutes=62), moment=moment(), why=WHY)
    base = DryRun(
        command="from:prod-search prod-search-restored before:14:00",
        index_name="prod-search-restored",
        backup=Listed(),
        choice=chosen,
        target_free=True,
        verdict=PolicyPermission(
            needs_approval=True, approvers=("U0BOB0001", "S0ONCALL01"), timeout_minutes=60, reason="always"
        ),
        cannot_post=None,
        now=T0 + timedelta(hours=1),
        tags={"env": "prod"},
        deletion_protection=True,
    )
    return DryRun(**{**base.__dict__, **changes})


def test_a_dry_run_plan_says_what_would_happen_and_who_would_approve() -> None:
    text = text_of(render.dry_run_answer(plan()))
    for expected in (
        "nothing was restored, recorded or posted",
        f"`{BACKUP_ID}`",
        "“nightly”",
        "taken 2026-11-30 12:58 UTC (1h 02m before the moment asked for, 2h 02m ago)",
        "120,000 records",
        "10.0 MB",
        f"*Chosen:* {WHY}",
        "`prod-search-restored` (the name is free)",
        "`env=prod`",
        "*Deletion protection:* enabled",
        "*Approval:* needed (always), from <@U0BOB0001> <!subteam^S0ONCALL01>, within 1h 00m",
        "send it without `--dry-run`: `/restore-index from:prod-search prod-search-restored before:14:00`",
    ):
        assert expected in text, expected


def test_a_dry_run_names_everything_that_would_stop_the_restore() -> None:
    refusal = PolicyRefusal(rule="channels.C0RESTORE1.requesters", message="You may not restore here.", ask=("U0X",))
    text = text_of(
        render.dry_run_answer(
            plan(verdict=refusal, target_free=False, cannot_post=":no_entry: I can't post here", choice=None)
        )
    )
    assert "it would be refused: You may not restore here. (rule: channels.C0RESTORE1.requesters). Ask <@U0X>." in text
    assert "an index with this name exists, so the restore would be refused" in text
    assert "I can't post here" in text and "Fix what is marked above" in text and "without `--dry-run`" not in text
    assert "Chosen" not in text and "before the moment" not in text


def test_a_dry_run_that_cannot_even_be_planned_says_why() -> None:
    text = text_of(render.dry_run_answer(RequestRefused("`prod-search` has no backups.")))
    assert "Dry run, nothing was done: the restore would be refused. `prod-search` has no backups." in text
