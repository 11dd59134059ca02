"""The restore modal over real HTTP: `/restore-index` alone opens it, the backup picker is fed from
Pinecone, the name is pre-filled, and a submission is checked with the command's rules and then takes
the command's path. Interaction payloads are shaped and signed as Slack sends them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from bot.core.ids import (
    MODAL_BACKUP_ACTION,
    MODAL_BACKUP_BLOCK,
    MODAL_BACKUP_INFO_BLOCK,
    MODAL_BACKUP_UNAVAILABLE,
    MODAL_INDEX_NAME_ACTION,
    MODAL_INDEX_NAME_BLOCK,
    MODAL_MODE_BLOCK,
    MODAL_NOTICE_BLOCK,
    MODAL_PROTECTION_ACTION,
    MODAL_PROTECTION_BLOCK,
    MODAL_TAGS_ACTION,
    MODAL_TAGS_BLOCK,
    RESTORE_MODAL_CALLBACK,
)
from tests.e2e.harness import BotProcess
from tests.fakes.pinecone_emulator import PineconeEmulator, Realism
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import new_trigger_id, parents, response_posts
from tests.fakes.workspace import CHANNEL, USER

JSON = dict[str, Any]
USER_OBJECT = {"id": USER, "username": "alice", "name": "alice", "team_id": "T0TEST"}
TEAM = {"id": "T0TEST", "domain": "example"}
OTHER_CHANNEL = "C0RANDOM01"


def name_block_id(view: JSON) -> str:
    return next(b["block_id"] for b in view["blocks"] if b["block_id"].startswith(MODAL_INDEX_NAME_BLOCK))


def state(
    view: JSON,
    *,
    option: JSON | None = None,
    name: str | None = None,
    tags: str | None = None,
    protection: bool = False,
) -> JSON:
    """`view.state.values` as Slack reports it for what the user entered."""
    checkbox = next(b for b in view["blocks"] if b["block_id"] == MODAL_PROTECTION_BLOCK)["element"]["options"][0]
    return {
        "values": {
            MODAL_BACKUP_BLOCK: {MODAL_BACKUP_ACTION: {"type": "external_select", "selected_option": option}},
            name_block_id(view): {MODAL_INDEX_NAME_ACTION: {"type": "plain_text_input", "value": name}},
            MODAL_TAGS_BLOCK: {MODAL_TAGS_ACTION: {"type": "plain_text_input", "value": tags}},
            MODAL_PROTECTION_BLOCK: {
                MODAL_PROTECTION_ACTION: {"type": "checkboxes", "selected_options": [checkbox] if protection else []}
            },
        }
    }


def view_in_payload(view: JSON, values: JSON) -> JSON:
    """The view as an interaction payload carries it: the stored view plus the user's state."""
    return {**view, "state": values}


def block_suggestion(view: JSON, query: str) -> JSON:
    return {
        "type": "block_suggestion",
        "user": USER_OBJECT,
        "container": {"type": "view", "view_id": view["id"]},
        "api_app_id": "A0RESTORE",
        "token": "deprecated-verification-token",
        "action_id": MODAL_BACKUP_ACTION,
        "block_id": MODAL_BACKUP_BLOCK,
        "value": query,
        "team": TEAM,
        "enterprise": None,
        "is_enterprise_install": False,
        "view": view_in_payload(view, state(view)),
    }


def block_actions(view: JSON, option: JSON) -> JSON:
    values = state(view, option=option)
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
        "view": view_in_payload(view, values),
        "actions": [
            {
                "type": "external_select",
                "action_id": MODAL_BACKUP_ACTION,
                "block_id": MODAL_BACKUP_BLOCK,
                "selected_option": option,
                "action_ts": f"{datetime.now(UTC).timestamp():.6f}",
            }
        ],
        "state": values,
    }


def view_submission(view: JSON, values: JSON) -> JSON:
    return {
        "type": "view_submission",
        "team": TEAM,
        "user": USER_OBJECT,
        "api_app_id": "A0RESTORE",
        "token": "deprecated-verification-token",
        "trigger_id": new_trigger_id(),
        "view": view_in_payload(view, values),
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


async def open_modal(bot: BotProcess, slack: SlackStandIn, *, channel: str = CHANNEL) -> JSON:
    """`/restore-index` with no text; returns the view Slack opened."""
    body, _ = bot.command_body("", channel=channel)
    trigger_id = parse_qs(body)["trigger_id"][0]
    response = await bot.post(body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    [call] = await slack.wait_for(lambda: [c for c in slack.calls_to("views.open") if c.ok])
    assert call.args["trigger_id"] == trigger_id
    view: JSON = slack.view(call.response["view"]["id"] if call.response else "")
    return view


async def options_for(bot: BotProcess, view: JSON, query: str) -> list[JSON]:
    response = await bot.interaction(block_suggestion(view, query))
    assert response.status_code == 200
    options: list[JSON] = response.json()["options"]
    return options


def assert_nothing_restored(pinecone: PineconeEmulator, slack: SlackStandIn, bot: BotProcess) -> None:
    assert pinecone.create_index_calls == []
    assert slack.calls_to("chat.postMessage") == []
    assert bot.jobs() == []


# -- the tests ------------------------------------------------------------------------------------------


async def test_an_empty_command_opens_the_modal_with_the_channel_in_its_metadata(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    view = await open_modal(bot, slack)
    assert view["type"] == "modal" and view["callback_id"] == RESTORE_MODAL_CALLBACK
    assert json.loads(view["private_metadata"]) == {"channel_id": CHANNEL}
    blocks = [b["block_id"] for b in view["blocks"]]
    assert blocks == [
        MODAL_MODE_BLOCK,
        MODAL_BACKUP_BLOCK,
        MODAL_INDEX_NAME_BLOCK,
        MODAL_TAGS_BLOCK,
        MODAL_PROTECTION_BLOCK,
    ]
    assert_nothing_restored(pinecone, slack, bot)


async def test_if_slack_will_not_open_the_modal_the_requester_gets_the_usage_text(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.inject("views.open", status=200, error="expired_trigger_id")
    command = await bot.command("")
    [answer] = await slack.wait_for(lambda: response_posts(slack, command.response_url))
    assert answer.get("response_type") == "ephemeral"
    assert "could not open the restore form" in answer["text"]
    assert "/restore-index <backup_id> <index_name>" in answer["text"]
    assert_nothing_restored(pinecone, slack, bot)


async def test_the_picker_lists_matching_backups_and_marks_those_not_ready(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    ready = pinecone.add_backup(source_index_name="prod-search", name="nightly", record_count=120_000)
    pending = pinecone.add_backup(source_index_name="prod-search", name="hourly", status="Pending")
    by_name = pinecone.add_backup(source_index_name="analytics", name="PROD-snapshot")
    pinecone.add_backup(source_index_name="staging-search", name="weekly")
    view = await open_modal(bot, slack)

    options = await options_for(bot, view, "prod")

    by_value = {o["value"]: o["text"]["text"] for o in options}
    assert set(by_value) == {ready["backup_id"], pending["backup_id"], by_name["backup_id"]}
    assert by_value[ready["backup_id"]].startswith("prod-search / nightly · ")
    assert by_value[ready["backup_id"]].endswith("120k records")
    assert by_value[pending["backup_id"]].startswith("NOT READY (Pending)")
    assert "NOT READY" not in by_value[ready["backup_id"]] + by_value[by_name["backup_id"]]
    assert all(len(text) <= 75 for text in by_value.values())
    assert [o["value"] for o in await options_for(bot, view, "WEEKLY")] != []
    assert await options_for(bot, view, "nothing-matches") == []
    assert_nothing_restored(pinecone, slack, bot)


async def test_the_picker_shows_newest_first_whatever_order_pinecone_lists_them_in(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    assert pinecone.realism.backup_listing_order == "shuffled"
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for i in range(30):
        pinecone.add_backup(source_index_name="prod-search", name=f"b{i}", created_at=start + timedelta(hours=i))
    view = await open_modal(bot, slack)

    shown = [o["text"]["text"].split(" ")[2] for o in await options_for(bot, view, "")]
    assert shown == [f"b{i}" for i in reversed(range(30))]


async def test_the_picker_reads_at_most_two_pages_and_finds_a_pasted_id_beyond_them(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    # Pinecone promises no order for GET /backups (the emulator shuffles it by default); this test is about the
    # page budget, so here it lists newest first, the one order in which "the third page" names fixed backups.
    pinecone.realism = Realism.regular()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    oldest = pinecone.add_backup(source_index_name="archive", name="ancient", created_at=start)
    for i in range(1, 211):
        pinecone.add_backup(source_index_name="prod-search", name=f"b{i}", created_at=start + timedelta(hours=i))
    view = await open_modal(bot, slack)

    newest = await options_for(bot, view, "")
    assert len(newest) == 100
    assert newest[0]["text"]["text"].startswith("prod-search / b210 ")
    assert len(pinecone.calls("GET", "/backups")) == 1  # a full page of matches: no second page
    assert all(call.query.get("limit") == "100" for call in pinecone.calls("GET", "/backups"))

    assert await options_for(bot, view, "ancient") == []  # only in the third page: not read
    assert len(pinecone.calls("GET", "/backups")) == 3
    pasted = await options_for(bot, view, oldest["backup_id"].upper())  # a pasted ID is looked up directly
    assert [o["value"] for o in pasted] == [oldest["backup_id"]]


async def test_the_picker_says_when_pinecone_fails_and_answers_within_slacks_3_seconds(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    pinecone.add_backup()
    view = await open_modal(bot, slack)

    pinecone.inject("GET", "/backups", status=503, times=5)
    [failed] = await options_for(bot, view, "prod")
    assert failed["value"] == MODAL_BACKUP_UNAVAILABLE and "Pinecone" in failed["text"]["text"]
    assert len(pinecone.calls("GET", "/backups")) == 1  # no retries inside Slack's 3 seconds
    pinecone.clear_faults()

    pinecone.inject("GET", "/backups", status=0, delay=6.0)
    started = datetime.now(UTC)
    [slow] = await options_for(bot, view, "prod")
    assert datetime.now(UTC) - started < timedelta(seconds=3)
    assert slow["value"] == MODAL_BACKUP_UNAVAILABLE
    pinecone.clear_faults()

    # Submitting while the warning is still selected is refused on the backup field.
    response = await bot.interaction(view_submission(view, state(view, option=failed, name="restored-index")))
    assert response.json()["errors"].keys() == {MODAL_BACKUP_BLOCK}
    assert_nothing_restored(pinecone, slack, bot)


async def test_a_bad_name_and_a_bad_tag_are_shown_inline_and_nothing_is_sent(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    view = await open_modal(bot, slack)
    [option] = await options_for(bot, view, backup["backup_id"])

    response = await bot.interaction(
        view_submission(view, state(view, option=option, name="Prod_Index", tags="env=prod bad$key=x"))
    )

    assert response.status_code == 200
    answer = response.json()
    assert answer["response_action"] == "errors"
    assert answer["errors"].keys() == {MODAL_INDEX_NAME_BLOCK, MODAL_TAGS_BLOCK}
    assert 'try "prod-index"' in answer["errors"][MODAL_INDEX_NAME_BLOCK]
    assert '"bad$key"' in answer["errors"][MODAL_TAGS_BLOCK]
    assert_nothing_restored(pinecone, slack, bot)
    assert slack.ephemerals == []


async def test_a_valid_submission_restores_into_the_prefilled_name_and_tells_the_requester(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup(source_index_name="prod-search", created_at=datetime(2026, 1, 31, 9, tzinfo=UTC))
    view = await open_modal(bot, slack)
    [option] = await options_for(bot, view, "prod-search")

    # Choosing the backup redraws the modal with its details and a name pre-filled.
    assert (await bot.interaction(block_actions(view, option))).status_code == 200
    [update] = await slack.wait_for(lambda: [c for c in slack.calls_to("views.update") if c.ok])
    assert update.args["view_id"] == view["id"]
    redrawn = slack.view(view["id"])
    name_block = next(b for b in redrawn["blocks"] if b["block_id"] == name_block_id(redrawn))
    assert name_block["element"]["initial_value"] == "prod-search-restore-0131"
    assert any(b["block_id"] == MODAL_BACKUP_INFO_BLOCK for b in redrawn["blocks"])

    values = state(
        redrawn, option=option, name="prod-search-restore-0131", tags='env=prod\nteam="search infra"', protection=True
    )
    response = await bot.interaction(view_submission(redrawn, values))

    assert response.status_code == 200 and not response.content  # an empty ack closes the modal
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    assert "prod-search-restore-0131" in parent["text"]
    [told] = await slack.wait_for(
        lambda: [e for e in slack.ephemerals if e["to_user"] == USER and "started" in e["text"]]
    )
    assert told["channel"] == CHANNEL
    [create] = pinecone.create_index_calls
    assert create.json == {
        "name": "prod-search-restore-0131",
        "tags": {"env": "prod", "team": "search infra", "restored-by": USER, "restored-from": backup["backup_id"]},
        "deletion_protection": "enabled",
    }
    assert create.path == f"/backups/{backup['backup_id']}/create-index"
    [job] = bot.jobs()
    assert job["channel_id"] == CHANNEL and job["requester_id"] == USER


async def test_a_submission_from_a_channel_that_is_not_allowed_is_refused_inline(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    view = await open_modal(bot, slack, channel=OTHER_CHANNEL)
    notice = next(b for b in view["blocks"] if b["block_id"] == MODAL_NOTICE_BLOCK)
    assert f"<#{CHANNEL}>" in notice["text"]["text"]  # said up front, with a link to where restores work
    [option] = await options_for(bot, view, backup["backup_id"])

    response = await bot.interaction(view_submission(view, state(view, option=option, name="restored-index")))

    answer = response.json()
    assert answer["response_action"] == "errors"
    assert "can't be requested in this channel" in answer["errors"][MODAL_BACKUP_BLOCK]
    assert CHANNEL in answer["errors"][MODAL_BACKUP_BLOCK]
    assert_nothing_restored(pinecone, slack, bot)
    assert slack.ephemerals == []


async def test_a_valid_submission_still_honours_the_commands_refusals(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup(status="Pending")
    view = await open_modal(bot, slack)
    [option] = await options_for(bot, view, backup["backup_id"])

    response = await bot.interaction(view_submission(view, state(view, option=option, name="restored-index")))

    assert response.status_code == 200 and not response.content
    [told] = await slack.wait_for(lambda: [e for e in slack.ephemerals if e["to_user"] == USER])
    assert "not ready" in told["text"] and told["channel"] == CHANNEL
    assert pinecone.create_index_calls == []
    assert parents(slack, CHANNEL) == []
