"""Choosing the backup a request by intent means, against the Pinecone emulator and the Slack stand-in over HTTP:
the moment in the requester's zone (or said in UTC when Slack cannot give one and the form needs none),
every page read, the limit on pages, a moment still to come, and Pinecone failing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest_asyncio
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.backup_choice import Chosen
from bot.pinecone import PineconeClient
from bot.service.backup_choice import BackupChooser, Unchosen
from bot.slack.users import UserZones
from tests.fakes.fixtures import PINECONE_API_KEY, SLACK_BOT_TOKEN
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn

NOW = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)
USER = "U0ALICE01"


@pytest_asyncio.fixture
async def client(pinecone: PineconeEmulator) -> AsyncIterator[PineconeClient]:
    async with httpx.AsyncClient(base_url=pinecone.base_url) as http:
        yield PineconeClient(http, PINECONE_API_KEY, read_attempts=1)


def chooser(client: PineconeClient, slack: SlackStandIn, **options: int) -> BackupChooser:
    web = AsyncWebClient(token=SLACK_BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])
    return BackupChooser(client, UserZones(web), **options)


async def test_every_page_is_read_and_the_moment_is_said_in_the_requesters_zone(
    pinecone: PineconeEmulator, client: PineconeClient, slack: SlackStandIn
) -> None:
    slack.add_user(USER, tz="America/New_York")
    pinecone.add_index("prod-search")
    nightly = pinecone.add_backups("prod-search", count=320, every=timedelta(hours=3), newest=NOW)
    result = await chooser(client, slack).choose("prod-search", "yesterday 14:00", requester_id=USER, now=NOW)
    assert isinstance(result, Chosen), result
    # Yesterday 14:00 in New York is 19:00 UTC on the 29th; the backups are every 3 hours back from 15:30 UTC.
    assert result.backup.backup_id == next(
        b["backup_id"]
        for b in nightly
        if datetime.fromisoformat(b["created_at"]) < datetime(2026, 11, 29, 19, 0, tzinfo=UTC)
    )
    assert "2026-11-29 14:00 America/New_York (2026-11-29 19:00 UTC)" in result.why
    assert len(pinecone.calls("GET", "/indexes/prod-search/backups")) >= 4


async def test_a_span_needs_no_zone_and_is_then_said_in_utc(
    pinecone: PineconeEmulator, client: PineconeClient, slack: SlackStandIn
) -> None:
    pinecone.add_index("prod-search")
    old = pinecone.add_backup(source_index_name="prod-search", created_at=NOW - timedelta(hours=3))
    result = await chooser(client, slack).choose("prod-search", "2h", requester_id="U0UNKNOWN", now=NOW)
    assert isinstance(result, Chosen) and result.backup.backup_id == old["backup_id"]
    assert result.why.endswith("before 2h ago: 2026-11-30 13:30 UTC")


async def test_a_moment_still_to_come_is_refused_with_what_was_probably_meant(
    pinecone: PineconeEmulator, client: PineconeClient, slack: SlackStandIn
) -> None:
    slack.add_user(USER, tz="UTC")
    pinecone.add_index("prod-search")
    pinecone.add_backup(source_index_name="prod-search", created_at=NOW - timedelta(hours=3))
    result = await chooser(client, slack).choose("prod-search", "16:00", requester_id=USER, now=NOW)
    assert isinstance(result, Unchosen)
    assert "which is still to come. Did you mean `before:yesterday-16:00`?" in result.reason
    assert pinecone.calls("GET", "/indexes/*") == [], "nothing is listed for a moment that cannot be used"


async def test_more_backups_than_it_reads_is_refused_not_guessed(
    pinecone: PineconeEmulator, client: PineconeClient, slack: SlackStandIn
) -> None:
    pinecone.add_index("prod-search")
    pinecone.add_backups("prod-search", count=250, newest=NOW)
    result = await chooser(client, slack, max_pages=2).choose("prod-search", None, requester_id=USER, now=NOW)
    assert isinstance(result, Unchosen) and "has more than 200 backups" in result.reason
    assert len(pinecone.calls("GET", "/indexes/prod-search/backups")) == 2
    whole = await chooser(client, slack, max_pages=4).choose("prod-search", None, requester_id=USER, now=NOW)
    assert isinstance(whole, Chosen)


async def test_pinecone_failing_refuses_with_its_sentence(
    pinecone: PineconeEmulator, client: PineconeClient, slack: SlackStandIn
) -> None:
    pinecone.add_index("prod-search")
    pinecone.add_backups("prod-search", count=3, newest=NOW)
    pinecone.inject("GET", "/indexes/prod-search/backups", status=503)
    result = await chooser(client, slack).choose("prod-search", None, requester_id=USER, now=NOW)
    assert isinstance(result, Unchosen)
    assert result.reason.startswith("I could not list the backups of `prod-search`: Pinecone is unavailable")
