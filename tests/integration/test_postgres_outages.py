"""The bot's services on a PostgreSQL store whose server goes away: a restore request is refused clearly and
nothing reaches Pinecone; `GET /healthz` is 503 while the database is down; `GET /metrics` shows the pool;
and everything works again once the database is back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from aiohttp import web
from prometheus_client.parser import text_string_to_metric_families

from bot.app.server import create_web_app
from bot.app.wiring import Services, build_services
from bot.core import render
from bot.core.outcomes import RequestRefused, Started
from bot.core.request.field_rules import RestoreRequest
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.ports import free_port
from tests.fakes.postgres_server import PostgresServer
from tests.fakes.settings import in_process_settings
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.workspace import CHANNEL, USER


@pytest_asyncio.fixture
async def services_on_postgres(
    own_postgres_server: PostgresServer, slack: SlackStandIn, pinecone: PineconeEmulator
) -> AsyncIterator[Services]:
    url = own_postgres_server.url(await own_postgres_server.create_database())
    built = await build_services(in_process_settings(slack, url, pinecone_url=pinecone.base_url))
    try:
        yield built
    finally:
        await built.close()


@pytest_asyncio.fixture
async def http(services_on_postgres: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The bot's HTTP server (health check and metrics), on a free port."""
    runner = web.AppRunner(create_web_app(None, services_on_postgres), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, host="127.0.0.1", port=port).start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client
    finally:
        await runner.cleanup()


def samples(text: str, name: str) -> dict[str, float]:
    """{label value: sample value} of a one-label gauge."""
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[next(iter(sample.labels.values()))] = sample.value
    return found


async def test_healthz_is_503_while_the_database_is_down_and_200_again_after(
    own_postgres_server: PostgresServer, http: httpx.AsyncClient
) -> None:
    healthy = await http.get("/healthz")
    assert (healthy.status_code, healthy.json()) == (200, {"status": "ok"})

    await own_postgres_server.stop_async()
    down = await http.get("/healthz")
    assert (down.status_code, down.json()) == (503, {"status": "database unreachable"})
    assert (await http.get("/metrics")).status_code == 200, "the metrics are still served"

    await own_postgres_server.start_async()
    assert (await http.get("/healthz")).status_code == 200


async def test_metrics_show_the_store_pool(http: httpx.AsyncClient) -> None:
    text = (await http.get("/metrics")).text
    assert samples(text, "restore_bot_store_pool_limit") == {"min": 2.0, "max": 10.0}
    connections = samples(text, "restore_bot_store_pool_connections")
    assert set(connections) == {"idle", "in_use"}
    assert 1 <= connections["idle"] + connections["in_use"] <= 10


async def test_a_request_while_the_database_is_down_is_refused_clearly_and_sends_nothing(
    own_postgres_server: PostgresServer, services_on_postgres: Services, pinecone: PineconeEmulator
) -> None:
    backup = pinecone.add_backup()
    request = RestoreRequest(backup_id=backup["backup_id"], index_name="restored-index")

    await own_postgres_server.stop_async()
    refused = await services_on_postgres.restores.request(request, requester_id=USER, channel_id=CHANNEL)
    assert refused == RequestRefused(render.STORE_WRITE_FAILED)
    assert pinecone.create_index_calls == [], "a job that could not be recorded is never sent to Pinecone"

    await own_postgres_server.start_async()
    started = await services_on_postgres.restores.request(request, requester_id=USER, channel_id=CHANNEL)
    assert isinstance(started, Started) and started.job.index_name == "restored-index"
    assert len(pinecone.create_index_calls) == 1
    stored = await services_on_postgres.store.get(started.job.id)
    assert stored is not None and stored.state is started.job.state
