"""The restore modal's "source index" path: the view, its index options, the preview, and the submission."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.core.backup_choice import Chosen, NoneQualifies
from bot.core.ids import (
    MODAL_BACKUP_BLOCK,
    MODAL_BEFORE_ACTION,
    MODAL_BEFORE_BLOCK,
    MODAL_CHOICE_BLOCK,
    MODAL_INDEX_NAME_ACTION,
    MODAL_INDEX_NAME_BLOCK,
    MODAL_INDEXES_UNAVAILABLE,
    MODAL_MODE_BACKUP,
    MODAL_MODE_BLOCK,
    MODAL_MODE_SOURCE,
    MODAL_PROTECTION_ACTION,
    MODAL_PROTECTION_BLOCK,
    MODAL_PROTECTION_ENABLED,
    MODAL_SOURCE_ACTION,
    MODAL_SOURCE_BLOCK,
    MODAL_TAGS_ACTION,
    MODAL_TAGS_BLOCK,
)
from bot.core.render.restore_form_view import (
    ModalForm,
    index_options,
    indexes_unavailable_options,
    preview_text,
    restore_view,
    view_for_mode,
    view_with_preview,
)
from bot.core.request.field_rules import RestoreIntent
from bot.core.request.moments import Moment
from bot.core.request.restore_form import Invalid, Submission, first_field, read_submission
from bot.pinecone.models import Backup
from tests.fakes.slack_blocks import validate_view

CHANNEL = "C0RESTORE1"
NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)
BACKUP = Backup.model_validate(
    {
        "backup_id": "670e8400-e29b-41d4-a716-446655440000",
        "source_index_name": "prod-search",
        "source_index_id": "idx-1",
        "name": "nightly",
        "status": "Ready",
        "cloud": "aws",
        "region": "us-east-1",
        "record_count": 120_000,
        "created_at": "2026-11-30T12:58:00Z",
    }
)


def ids_of(view: dict[str, Any]) -> list[str]:
    return [block["block_id"] for block in view["blocks"]]


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b["block_id"] == block_id)


def name_block(view: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b["block_id"].startswith(MODAL_INDEX_NAME_BLOCK))


def with_state(
    view: dict[str, Any],
    *,
    source: str | None = None,
    before: str | None = None,
    name: str | None = None,
    tags: str | None = None,
    protection: bool = False,
) -> dict[str, Any]:
    option = {"text": {"type": "plain_text", "text": source}, "value": source} if source else None
    checkbox = {"text": {"type": "plain_text", "text": "Enable"}, "value": MODAL_PROTECTION_ENABLED}
    values = {
        MODAL_SOURCE_BLOCK: {MODAL_SOURCE_ACTION: {"type": "external_select", "selected_option": option}},
        MODAL_BEFORE_BLOCK: {MODAL_BEFORE_ACTION: {"type": "plain_text_input", "value": before}},
        name_block(view)["block_id"]: {MODAL_INDEX_NAME_ACTION: {"type": "plain_text_input", "value": name}},
        MODAL_TAGS_BLOCK: {MODAL_TAGS_ACTION: {"type": "plain_text_input", "value": tags}},
        MODAL_PROTECTION_BLOCK: {
            MODAL_PROTECTION_ACTION: {"type": "checkboxes", "selected_options": [checkbox] if protection else []}
        },
    }
    return {**view, "id": "V0MODAL001", "state": {"values": values}}


def source_view(**form: Any) -> dict[str, Any]:
    return restore_view(ModalForm(channel_id=CHANNEL, mode=MODAL_MODE_SOURCE, **form))


def test_the_source_path_asks_for_an_index_and_a_moment_and_says_what_it_would_restore() -> None:
    view = source_view()
    assert validate_view(view) == []
    assert ids_of(view) == [
        MODAL_MODE_BLOCK,
        MODAL_SOURCE_BLOCK,
        MODAL_BEFORE_BLOCK,
        MODAL_CHOICE_BLOCK,
        MODAL_INDEX_NAME_BLOCK,
        MODAL_TAGS_BLOCK,
        MODAL_PROTECTION_BLOCK,
    ]
    assert block(view, MODAL_MODE_BLOCK)["element"]["initial_option"]["value"] == MODAL_MODE_SOURCE
    source = block(view, MODAL_SOURCE_BLOCK)
    assert source["dispatch_action"] is True and source["element"]["type"] == "external_select"
    before = block(view, MODAL_BEFORE_BLOCK)
    assert before["optional"] is True and before["dispatch_action"] is True
    assert before["element"]["dispatch_action_config"] == {"trigger_actions_on": ["on_enter_pressed"]}
    assert "Choose an index" in repr(block(view, MODAL_CHOICE_BLOCK))
    assert json.loads(view["private_metadata"]) == {"channel_id": CHANNEL, "mode": "source"}


def test_switching_paths_keeps_the_name_the_tags_and_the_protection() -> None:
    backup_path = restore_view(ModalForm(channel_id=CHANNEL))
    filled = {
        **backup_path,
        "state": {
            "values": {
                MODAL_INDEX_NAME_BLOCK: {MODAL_INDEX_NAME_ACTION: {"value": "mine"}},
                MODAL_TAGS_BLOCK: {MODAL_TAGS_ACTION: {"value": "env=prod"}},
                MODAL_PROTECTION_BLOCK: {MODAL_PROTECTION_ACTION: {"selected_options": [{"value": "enabled"}]}},
            }
        },
    }
    switched = view_for_mode(filled, MODAL_MODE_SOURCE, notice=":no_entry: not here")
    assert switched is not None and validate_view(switched) == []
    assert MODAL_SOURCE_BLOCK in ids_of(switched) and MODAL_BACKUP_BLOCK not in ids_of(switched)
    assert name_block(switched)["element"]["initial_value"] == "mine"
    assert block(switched, MODAL_TAGS_BLOCK)["element"]["initial_value"] == "env=prod"
    assert block(switched, MODAL_PROTECTION_BLOCK)["element"]["initial_options"][0]["value"] == "enabled"
    assert "not here" in repr(switched["blocks"][0])
    back = view_for_mode(switched, MODAL_MODE_BACKUP)
    assert back is not None and MODAL_BACKUP_BLOCK in ids_of(back) and "mode" not in back["private_metadata"]
    assert view_for_mode(filled, "sideways") is None
    assert view_for_mode({**filled, "private_metadata": ""}, MODAL_MODE_SOURCE) is None


def test_index_options_filter_and_offer_a_typed_name_that_is_not_an_index() -> None:
    names = ["prod-search", "prod-recs", "staging-search"]
    assert [o["value"] for o in index_options(names, "")] == ["prod-recs", "prod-search", "staging-search"]
    assert [o["value"] for o in index_options(names, "SEARCH prod")] == ["prod-search"]
    assert [o["value"] for o in index_options(names, "prod")] == ["prod-recs", "prod-search", "prod"]
    typed = index_options(names, "old-index")
    assert [o["value"] for o in typed] == ["old-index"] and "no such index now" in typed[0]["text"]["text"]
    assert index_options(names, "Not_A_Name") == []
    assert len(index_options([f"i{n}" for n in range(500)], "")) == 100
    assert all(len(o["text"]["text"]) <= 75 for o in index_options(names, "x" * 45))
    unavailable = indexes_unavailable_options("prod-search")
    assert [o["value"] for o in unavailable] == [MODAL_INDEXES_UNAVAILABLE, "prod-search"]


def chosen(before: timedelta | None = None) -> Chosen:
    moment = Moment(at=NOW - before, understood="...") if before is not None else None
    taken = datetime(2026, 11, 30, 12, 58, tzinfo=UTC)
    why = "newest Ready backup of prod-search" + (" before 14:00 today, ..." if moment else "")
    return Chosen(backup=BACKUP, taken_at=taken, moment=moment, why=why)


def test_the_preview_says_which_backup_how_old_and_why_escaped() -> None:
    text = preview_text(chosen(before=timedelta(minutes=60)), NOW)
    assert text.startswith("*Would restore:* `670e8400-e29b-41d4-a716-446655440000` · “nightly” · taken ")
    assert "2026-11-30 12:58 UTC (1h 02m before that moment, 2h 02m ago) · 120,000 records" in text
    assert text.endswith("newest Ready backup of prod-search before 14:00 today, ...")
    refused = preview_text(NoneQualifies("`x` has no backups <!channel>"), NOW)
    assert refused.startswith(":warning: `x` has no backups") and "<!channel>" not in refused


def test_a_preview_prefills_the_name_from_the_backup_it_would_restore() -> None:
    view = with_state(source_view(), source="prod-search", before="14:00")
    redrawn = view_with_preview(view, "*Would restore:* ...", chosen=BACKUP, today=date(2026, 12, 1))
    assert redrawn is not None and validate_view(redrawn) == []
    assert name_block(redrawn)["element"]["initial_value"] == "prod-search-restore-1130"
    assert block(redrawn, MODAL_SOURCE_BLOCK)["element"]["initial_option"]["value"] == "prod-search"
    assert block(redrawn, MODAL_BEFORE_BLOCK)["element"]["initial_value"] == "14:00"
    assert "*Would restore:* ..." in repr(block(redrawn, MODAL_CHOICE_BLOCK))
    typed = with_state(redrawn, source="prod-search", name="my-own-name")
    kept = view_with_preview(typed, "x", chosen=BACKUP, today=date(2026, 12, 1))
    assert kept is not None and name_block(kept)["element"]["initial_value"] == "my-own-name"


def test_a_source_submission_is_the_request_the_command_would_make() -> None:
    view = with_state(
        source_view(), source="prod-search", before="yesterday-14:00", name="restored", tags="env=prod", protection=True
    )
    result = read_submission(view)
    assert isinstance(result, Submission) and result.channel_id == CHANNEL
    assert result.request == RestoreIntent(
        source_index="prod-search",
        before="yesterday 14:00",
        index_name="restored",
        tags={"env": "prod"},
        deletion_protection=True,
    )
    latest = read_submission(with_state(source_view(), source="prod-search", name="restored"))
    assert isinstance(latest, Submission) and isinstance(latest.request, RestoreIntent)
    assert latest.request.before is None


def test_each_problem_of_a_source_submission_lands_on_its_field() -> None:
    result = read_submission(with_state(source_view(), before="soon", name="Bad_Name", tags="x"))
    assert isinstance(result, Invalid)
    assert set(result.errors) == {MODAL_SOURCE_BLOCK, MODAL_BEFORE_BLOCK, MODAL_INDEX_NAME_BLOCK, MODAL_TAGS_BLOCK}
    assert "Choose the index" in result.errors[MODAL_SOURCE_BLOCK]
    assert "Say when" in result.errors[MODAL_BEFORE_BLOCK]
    unavailable = read_submission(with_state(source_view(), source=MODAL_INDEXES_UNAVAILABLE, name="restored"))
    assert isinstance(unavailable, Invalid) and "did not answer" in unavailable.errors[MODAL_SOURCE_BLOCK]
    assert first_field(source_view()) == MODAL_SOURCE_BLOCK
    assert first_field(restore_view(ModalForm(channel_id=CHANNEL))) == MODAL_BACKUP_BLOCK
