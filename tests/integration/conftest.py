"""Services wired together in the test process against the fakes, with the Slack sender running, on each
job store (`database_url`: SQLite, then PostgreSQL)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_asyncio

from bot.app.wiring import Services, build_services
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.settings import in_process_settings
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.workspace import CHANNEL


@pytest_asyncio.fixture
async def services(slack: SlackStandIn, pinecone: PineconeEmulator, database_url: str) -> AsyncIterator[Services]:
    slack.add_channel(CHANNEL, name="restores")  # the stand-in is strict: the allowed channel exists
    settings = in_process_settings(slack, database_url, pinecone_url=pinecone.base_url)
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
