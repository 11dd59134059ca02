"""The use-case tier: services built in the test process (tests/service/rig.py) against the fakes, no subprocess.

`rig` is the default set-up (the channel allowed without approval, an incident channel, a restore
timeout too long to matter); a test that needs another policy or timeout builds its own with
`build_rig(pinecone, slack, database, ...)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.service.rig import RestoreTimeline, Rig, build_rig


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "restore-bot.sqlite3"


@pytest_asyncio.fixture
async def rig(pinecone: PineconeEmulator, slack: SlackStandIn, database: Path) -> AsyncIterator[Rig]:
    async with build_rig(pinecone, slack, database) as built:
        yield built


@pytest.fixture
def timeline(pinecone: PineconeEmulator, rig: Rig) -> RestoreTimeline:
    """Time for the default rig's restores, moved on the emulator's clock and the rig's fake clock together."""
    return RestoreTimeline(pinecone, rig.clock)
