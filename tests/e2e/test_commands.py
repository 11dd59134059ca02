"""help, usage, status, list, and every rejection: answered to the requester only, nothing sent to Pinecone."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents, response_posts
from tests.fakes.workspace import CHANNEL, USER

GOOD_BACKUP = "a65ff585-d987-4da5-a622-72e19a6ed5f4"


def assert_nothing_happened(pinecone: PineconeEmulator, slack: SlackStandIn, bot: BotProcess) -> None:
    assert pinecone.create_index_calls == []
    assert slack.calls_to("chat.postMessage") == []
    assert bot.jobs() == []


@pytest.mark.parametrize("text", ["help", "HELP", "--help"])
async def test_help_shows_syntax_and_an_example(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn, text: str
) -> None:
    command = await bot.command(text)
    assert command.response.status_code == 200
    assert "/restore-index <backup_id> <index_name>" in command.ack_text
    assert "Example" in command.ack_text and "--deletion-protection" in command.ack_text
    assert command.ack.get("response_type", "ephemeral") == "ephemeral"
    assert_nothing_happened(pinecone, slack, bot)


@pytest.mark.parametrize(
    "text", ["", "  \t \u00a0\u3000 ", "\u200b\ufeff\u200d\u2060"], ids=["empty", "blank", "invisible"]
)
async def test_an_empty_command_opens_the_restore_modal(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn, text: str
) -> None:
    command = await bot.command(text)
    assert command.response.status_code == 200
    [opened] = await slack.wait_for(lambda: slack.calls_to("views.open"))
    assert opened.args["view"]["type"] == "modal" and opened.args["trigger_id"]
    assert_nothing_happened(pinecone, slack, bot)


@pytest.mark.parametrize(
    ("text", "must_mention"),
    [
        (f"{GOOD_BACKUP} Prod_Index", "Prod_Index"),
        (f"{GOOD_BACKUP} -leading-dash", "leading-dash"),
        (f"{GOOD_BACKUP} {'a' * 46}", "45"),
        ("not-a-uuid restored-index", "not-a-uuid"),
        (f"{GOOD_BACKUP} restored-index bad$key=x", "bad$key"),
        (f"{GOOD_BACKUP} restored-index env=pr/od", "pr/od"),
        (f"{GOOD_BACKUP} restored-index env={'v' * 121}", "120"),
        (f'{GOOD_BACKUP} restored-index team="search infra', "quote"),
        (f"{GOOD_BACKUP} restored-index --force", "--force"),
        (f"{GOOD_BACKUP}", "index name"),
    ],
)
async def test_rejections_name_the_part_the_rule_and_an_example(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn, text: str, must_mention: str
) -> None:
    command = await bot.command(text)
    assert command.response.status_code == 200
    assert command.ack.get("response_type", "ephemeral") == "ephemeral"
    assert "can't start that restore" in command.ack_text
    assert must_mention in command.ack_text
    assert "For example: `/restore-index " in command.ack_text
    assert_nothing_happened(pinecone, slack, bot)


async def test_a_channel_that_is_not_allowed_is_refused_with_where_to_go(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    command = await bot.command(f"{backup['backup_id']} restored-index", channel="C0RANDOM01")
    assert "can't be requested in this channel" in command.ack_text
    assert f"<#{CHANNEL}>" in command.ack_text
    assert_nothing_happened(pinecone, slack, bot)


async def test_without_allowed_channels_every_restore_is_refused(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    async with start_bot(RESTORE_BOT_ALLOWED_CHANNELS=None) as bot:
        command = await bot.command(f"{backup['backup_id']} restored-index")
        assert "not enabled in any channel" in command.ack_text
        assert "RESTORE_BOT_ALLOWED_CHANNELS" in command.ack_text
        assert_nothing_happened(pinecone, slack, bot)


async def test_status_and_list_report_what_the_store_knows(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    await slack.wait_for(lambda: any("is ready" in m["text"] for m in slack.thread(CHANNEL, parent["ts"])))

    status = await bot.command("status restored-index")
    [answer] = await slack.wait_for(lambda: response_posts(slack, status.response_url))
    assert answer.get("response_type") == "ephemeral"
    for expected in ("Ready", f"<@{USER}>", pinecone.index("restored-index")["host"], "Open the thread"):
        assert expected in answer["text"]

    unknown = await bot.command("status never-restored")
    [answer] = await slack.wait_for(lambda: response_posts(slack, unknown.response_url))
    assert "no record" in answer["text"]

    listing = await bot.command("list")
    [answer] = await slack.wait_for(lambda: response_posts(slack, listing.response_url))
    assert "restored-index" in answer["text"] and "Ready" in answer["text"]
    elsewhere = await bot.command("list", channel="C0OTHER001")
    [answer] = await slack.wait_for(lambda: response_posts(slack, elsewhere.response_url))
    assert "No restores" in answer["text"]


async def test_a_restore_into_a_name_with_payload_in_it_is_started(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    # Bolt reads any form body containing "payload" as an interaction; the command is read whole.
    backup = pinecone.add_backup()
    command = await bot.command(f"{backup['backup_id']} payload-index")
    assert command.response.status_code == 200 and "Checking backup" in command.ack_text
    [call] = await pinecone.wait_for(lambda: pinecone.create_index_calls)
    assert call.json["name"] == "payload-index"
