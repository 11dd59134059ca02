"""Every Pinecone refusal becomes one plain sentence for the requester, and nothing half-done."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.fakes.fixtures import PINECONE_API_KEY
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents, response_posts
from tests.fakes.workspace import CHANNEL


async def refusal(bot: BotProcess, slack: SlackStandIn, text: str) -> dict[str, Any]:
    command = await bot.command(text)
    assert command.response.status_code == 200
    [answer] = await slack.wait_for(lambda: response_posts(slack, command.response_url))
    assert answer.get("response_type") == "ephemeral"
    return answer


def assert_rejected_without_a_thread(bot: BotProcess, slack: SlackStandIn) -> None:
    assert parents(slack, CHANNEL) == []
    [job] = bot.jobs()
    assert job["state"] == "rejected"


async def test_backup_not_found_names_the_id(bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn) -> None:
    missing = "0b8c9d2e-1111-4222-8333-444455556666"
    answer = await refusal(bot, slack, f"{missing} restored-index")
    assert f"no backup with ID `{missing}`" in answer["text"]
    assert pinecone.create_index_calls == []
    assert_rejected_without_a_thread(bot, slack)


async def test_backup_not_ready_says_its_status(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup(status="Pending")
    answer = await refusal(bot, slack, f"{backup['backup_id']} restored-index")
    assert "not ready" in answer["text"] and "Pending" in answer["text"]
    assert pinecone.create_index_calls == []
    assert_rejected_without_a_thread(bot, slack)


async def test_name_already_taken(bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn) -> None:
    backup = pinecone.add_backup()
    pinecone.add_index("restored-index")
    answer = await refusal(bot, slack, f"{backup['backup_id']} restored-index")
    assert "`restored-index` already exists" in answer["text"]
    assert len(pinecone.create_index_calls) == 1
    assert_rejected_without_a_thread(bot, slack)


@pytest.mark.parametrize(
    ("status", "code", "message", "must_say"),
    [
        (400, "INVALID_ARGUMENT", "Tag values must not contain '/'", "Tag values must not contain '/'"),
        (403, "FORBIDDEN", "Increase your quota or upgrade to create more indexes.", "quota"),
        (402, "PAYMENT_REQUIRED", "Pay all past due invoices.", "unpaid invoices"),
    ],
)
async def test_create_index_refusals(
    bot: BotProcess,
    pinecone: PineconeEmulator,
    slack: SlackStandIn,
    status: int,
    code: str,
    message: str,
    must_say: str,
) -> None:
    backup = pinecone.add_backup()
    pinecone.inject("POST", "/backups/*/create-index", status=status, code=code, message=message)
    answer = await refusal(bot, slack, f"{backup['backup_id']} restored-index")
    assert must_say in answer["text"]
    assert len(pinecone.create_index_calls) == 1
    assert pinecone.index("restored-index") is None
    assert_rejected_without_a_thread(bot, slack)


async def test_rejected_api_key_is_named_but_never_shown(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    wrong_key = "pc-wrong-key-do-not-show"
    async with start_bot(PINECONE_API_KEY=wrong_key) as bot:
        answer = await refusal(bot, slack, f"{backup['backup_id']} restored-index")
        assert "PINECONE_API_KEY" in answer["text"] and "rejected" in answer["text"]
        assert wrong_key not in repr(slack.calls) and PINECONE_API_KEY not in repr(slack.calls)
    assert wrong_key not in bot.log
    assert pinecone.create_index_calls == []


async def test_pinecone_unavailable(bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn) -> None:
    backup = pinecone.add_backup()
    pinecone.inject("GET", "/backups/*", status=503, times=100)
    answer = await refusal(bot, slack, f"{backup['backup_id']} restored-index")
    assert "unavailable" in answer["text"] and "nothing was restored" in answer["text"]
    assert pinecone.create_index_calls == []
    assert_rejected_without_a_thread(bot, slack)
