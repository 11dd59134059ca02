"""The restore modal's "source index" path over real HTTP: switch to it, pick an index (from `GET /indexes`),
optionally a moment, see the backup that would be used (the modal redrawn with `views.update`), submit,
and the request takes the path of `from:<source-index> [before:<when>]`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.ids import (
    MODAL_BEFORE_ACTION,
    MODAL_BEFORE_BLOCK,
    MODAL_CHOICE_BLOCK,
    MODAL_INDEX_NAME_ACTION,
    MODAL_INDEX_NAME_BLOCK,
    MODAL_INDEXES_UNAVAILABLE,
    MODAL_MODE_ACTION,
    MODAL_MODE_BLOCK,
    MODAL_MODE_SOURCE,
    MODAL_PROTECTION_ACTION,
    MODAL_PROTECTION_BLOCK,
    MODAL_SOURCE_ACTION,
    MODAL_SOURCE_BLOCK,
    MODAL_TAGS_ACTION,
    MODAL_TAGS_BLOCK,
)
from tests.e2e.harness import BotProcess
from tests.e2e.test_modal import TEAM, USER_OBJECT, open_modal, view_submission
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import new_trigger_id, parents
from tests.fakes.workspace import CHANNEL, USER

JSON = dict[str, Any]


def values_of(view: JSON, *, source: str | None = None, before: str | None = None, name: str | None = None) -> JSON:
    """`view.state` as Slack reports it for the source path."""
    name_block = next(b["block_id"] for b in view["blocks"] if b["block_id"].startswith(MODAL_INDEX_NAME_BLOCK))
    option = {"text": {"type": "plain_text", "text": source}, "value": source} if source else None
    return {
        "values": {
            MODAL_MODE_BLOCK: {MODAL_MODE_ACTION: {"type": "radio_buttons", "selected_option": {"value": "source"}}},
            MODAL_SOURCE_BLOCK: {MODAL_SOURCE_ACTION: {"type": "external_select", "selected_option": option}},
            MODAL_BEFORE_BLOCK: {MODAL_BEFORE_ACTION: {"type": "plain_text_input", "value": before}},
            name_block: {MODAL_INDEX_NAME_ACTION: {"type": "plain_text_input", "value": name}},
            MODAL_TAGS_BLOCK: {MODAL_TAGS_ACTION: {"type": "plain_text_input", "value": None}},
            MODAL_PROTECTION_BLOCK: {MODAL_PROTECTION_ACTION: {"type": "checkboxes", "selected_options": []}},
        }
    }


def action(view: JSON, values: JSON, block_id: str, action_id: str, **fields: Any) -> JSON:
    """A block_actions payload from the modal, as Slack sends it when an element dispatches."""
    return {
        "type": "block_actions",
        "user": USER_OBJECT,
        "api_app_id": "A0RESTORE",
        "token": "deprecated-verification-token",
        "container": {"type": "view", "view_id": view["id"]},
        "trigger_id": new_trigger_id(),
        "team": TEAM,
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {**view, "state": values},
        "actions": [
            {
                "block_id": block_id,
                "action_id": action_id,
                "action_ts": f"{datetime.now(UTC).timestamp():.6f}",
                **fields,
            }
        ],
        "state": values,
    }


def suggestion(view: JSON, query: str) -> JSON:
    return {
        "type": "block_suggestion",
        "user": USER_OBJECT,
        "container": {"type": "view", "view_id": view["id"]},
        "api_app_id": "A0RESTORE",
        "token": "deprecated-verification-token",
        "action_id": MODAL_SOURCE_ACTION,
        "block_id": MODAL_SOURCE_BLOCK,
        "value": query,
        "team": TEAM,
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {**view, "state": values_of(view)},
    }


async def redrawn(slack: SlackStandIn, view: JSON, count: int) -> JSON:
    """The view after its `count`-th successful views.update."""
    await slack.wait_for(lambda: len([c for c in slack.calls_to("views.update") if c.ok]) >= count, timeout=20)
    return slack.view(view["id"])


def choice_text(view: JSON) -> str:
    return repr(next(b for b in view["blocks"] if b["block_id"] == MODAL_CHOICE_BLOCK))


async def test_the_source_path_shows_the_backup_that_would_be_used_then_restores_it(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.add_user(USER, tz="Europe/Paris")
    pinecone.add_index("prod-search")
    pinecone.add_index("prod-recs")
    now = datetime.now(UTC)
    newest = pinecone.add_backup(source_index_name="prod-search", created_at=now - timedelta(hours=1), name="newest")
    older = pinecone.add_backup(source_index_name="prod-search", created_at=now - timedelta(hours=5), name="older")
    pinecone.set_restore_duration(older["backup_id"], 0.3)
    view = await open_modal(bot, slack)

    # Switching to the source path redraws the modal for it.
    mode = {"type": "radio_buttons", "selected_option": {"value": MODAL_MODE_SOURCE}}
    assert (
        await bot.interaction(action(view, values_of(view), MODAL_MODE_BLOCK, MODAL_MODE_ACTION, **mode))
    ).is_success
    source_view = await redrawn(slack, view, 1)
    assert json.loads(source_view["private_metadata"])["mode"] == "source"
    assert "Choose an index" in choice_text(source_view)

    # The index picker lists the project's indexes, and offers a typed name that is not one.
    answer = await bot.interaction(suggestion(source_view, "prod"))
    assert [o["value"] for o in answer.json()["options"]] == ["prod-recs", "prod-search", "prod"]
    typed = await bot.interaction(suggestion(source_view, "deleted-index"))
    assert [o["value"] for o in typed.json()["options"]] == ["deleted-index"]

    # Choosing an index shows its newest Ready backup, and fills in a name.
    chosen = values_of(source_view, source="prod-search")
    select = {"type": "external_select", "selected_option": chosen["values"][MODAL_SOURCE_BLOCK][MODAL_SOURCE_ACTION]}
    await bot.interaction(action(source_view, chosen, MODAL_SOURCE_BLOCK, MODAL_SOURCE_ACTION, **select))
    latest = await redrawn(slack, view, 2)
    assert newest["backup_id"] in choice_text(latest) and "newest Ready backup of prod-search" in choice_text(latest)
    name = next(b for b in latest["blocks"] if b["block_id"].startswith(MODAL_INDEX_NAME_BLOCK))
    suggested = name["element"]["initial_value"]
    assert suggested.startswith("prod-search-restore-")

    # A moment (Enter in the field) shows the newest backup before it, said in the person's zone.
    with_moment = values_of(latest, source="prod-search", before="2h", name=suggested)
    typed_moment = {"type": "plain_text_input", "value": "2h"}
    await bot.interaction(action(latest, with_moment, MODAL_BEFORE_BLOCK, MODAL_BEFORE_ACTION, **typed_moment))
    before = await redrawn(slack, view, 3)
    assert older["backup_id"] in choice_text(before) and newest["backup_id"] not in choice_text(before)
    assert "before 2h ago" in choice_text(before) and "Europe/Paris" in choice_text(before)
    assert pinecone.create_index_calls == [] and bot.jobs() == [], "nothing happens before submission"

    response = await bot.interaction(
        view_submission(before, values_of(before, source="prod-search", before="2h", name="from-the-modal"))
    )
    assert response.status_code == 200 and not response.content
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL), timeout=20)
    assert "newest Ready backup of prod-search before 2h ago" in repr(parent["blocks"])
    [told] = await slack.wait_for(lambda: [e for e in slack.ephemerals if e["to_user"] == USER], timeout=20)
    assert f"Restore of `{older['backup_id']}`" in told["text"]
    assert [call.path for call in pinecone.create_index_calls] == [f"/backups/{older['backup_id']}/create-index"]


async def test_the_source_path_says_when_nothing_qualifies_or_pinecone_fails(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.add_user(USER)
    pinecone.add_index("prod-search")
    pinecone.add_backup(source_index_name="prod-search", status="Initializing")
    view = await open_modal(bot, slack)
    mode = {"type": "radio_buttons", "selected_option": {"value": MODAL_MODE_SOURCE}}
    await bot.interaction(action(view, values_of(view), MODAL_MODE_BLOCK, MODAL_MODE_ACTION, **mode))
    source_view = await redrawn(slack, view, 1)

    chosen = values_of(source_view, source="prod-search")
    select = {"type": "external_select", "selected_option": chosen["values"][MODAL_SOURCE_BLOCK][MODAL_SOURCE_ACTION]}
    await bot.interaction(action(source_view, chosen, MODAL_SOURCE_BLOCK, MODAL_SOURCE_ACTION, **select))
    none_ready = await redrawn(slack, view, 2)
    assert "None of the backups of `prod-search` is Ready" in choice_text(none_ready)

    pinecone.inject("GET", "/indexes", status=503, times=3)
    listed_before = len(pinecone.calls("GET", "/indexes"))
    answer = await bot.interaction(suggestion(none_ready, "prod-search"))
    assert [o["value"] for o in answer.json()["options"]] == [MODAL_INDEXES_UNAVAILABLE, "prod-search"]
    assert len(pinecone.calls("GET", "/indexes")) == listed_before + 1, "tried once: no retries in Slack's 3 s"
    refused = await bot.interaction(
        view_submission(none_ready, values_of(none_ready, source=MODAL_INDEXES_UNAVAILABLE, name="restored"))
    )
    assert refused.json()["errors"].keys() == {MODAL_SOURCE_BLOCK}
    assert pinecone.create_index_calls == [] and bot.jobs() == []
