"""End-to-end fixtures: the real bot process between the Pinecone emulator and the Slack stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path

import pytest
import pytest_asyncio

from tests.e2e.harness import BotProcess, running_bot
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.workspace import CHANNEL, INCIDENT_CHANNEL

StartBot = Callable[..., AbstractAsyncContextManager[BotProcess]]


@pytest.fixture(autouse=True)
def slack_channels(slack: SlackStandIn) -> None:
    """The stand-in is strict: the two channels the bot is configured with exist, public, with the bot
    invited. A test that needs them otherwise (private, archived, without the bot) changes them."""
    slack.add_channel(CHANNEL, name="restores")
    slack.add_channel(INCIDENT_CHANNEL, name="incidents")


@pytest_asyncio.fixture
async def bot(pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path) -> AsyncIterator[BotProcess]:
    async with running_bot(pinecone, slack, tmp_path) as process:
        yield process


@pytest_asyncio.fixture
async def start_bot(pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path) -> StartBot:
    """`async with start_bot(RESTORE_BOT_RESTORE_TIMEOUT="1") as bot:` for non-default settings."""

    def start(**overrides: str | None) -> AbstractAsyncContextManager[BotProcess]:
        return running_bot(pinecone, slack, tmp_path, **overrides)

    return start
