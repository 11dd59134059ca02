"""pytest fixtures for the HTTP fakes.

Import them into a conftest (or a test module) to make them available::

    from tests.fakes.fixtures import pinecone, slack  # noqa: F401  (pytest fixtures)

Both are function-scoped async fixtures: each test gets fresh servers on new ephemeral ports,
so no state leaks between tests.  On teardown the Pinecone emulator fails the test if it ever
produced an off-spec response, because that means the emulator (not the bot) is wrong and
every assertion made against it is suspect.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn

__all__ = ["PINECONE_API_KEY", "SLACK_BOT_TOKEN", "pinecone", "slack"]

PINECONE_API_KEY = "pc-test-key"
SLACK_BOT_TOKEN = "xoxb-test-token"


@pytest_asyncio.fixture
async def pinecone() -> AsyncIterator[PineconeEmulator]:
    """A started :class:`PineconeEmulator` (api key ``pc-test-key``); base URL in ``.base_url``."""
    async with PineconeEmulator(api_key=PINECONE_API_KEY) as emulator:
        yield emulator
        emulator.assert_no_spec_violations()


@pytest_asyncio.fixture
async def slack() -> AsyncIterator[SlackStandIn]:
    """A started :class:`SlackStandIn` (token ``xoxb-test-token``); give the bot ``.api_url``."""
    async with SlackStandIn(bot_token=SLACK_BOT_TOKEN) as stand_in:
        yield stand_in
