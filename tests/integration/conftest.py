"""Services wired together in the test process against the fakes, with the Slack sender running."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from bot.app.wiring import Services, build_services
from tests.e2e.harness import CHANNEL, in_process_settings
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn


@pytest_asyncio.fixture
async def services(slack: SlackStandIn, pinecone: PineconeEmulator, tmp_path: Path) -> AsyncIterator[Services]:
    slack.add_channel(CHANNEL, name="restores")  # the stand-in is strict: the allowed channel exists
    settings = in_process_settings(slack, tmp_path / "restore-bot.sqlite3", pinecone_url=pinecone.base_url)
    built = await build_services(settings)
    stopping = asyncio.Event()
    sender = asyncio.create_task(built.delivery.run(stopping))
    try:
        yield built
    finally:
        await built.tasks.drain(5)
        stopping.set()
        await sender
        await built.close()
