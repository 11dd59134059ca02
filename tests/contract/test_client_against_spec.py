"""The bot's Pinecone client against the 2026-07 spec: the spec's own examples parse into its wire models, and
every call it makes is one the (strict, spec-checked) emulator routes and answers without a violation."""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bot.pinecone import API_VERSION, BackupNotReady, NotFound, PineconeClient, Unauthenticated
from bot.pinecone.models import Backup, CreateIndexFromBackupRequest, IndexModel, RestoreJob, read_list
from bot.service.restores import create_index_body
from tests.fakes.fixtures import PINECONE_API_KEY
from tests.fakes.openapi import OpenApiSpec
from tests.fakes.pinecone_emulator import API_VERSION as EMULATED_VERSION
from tests.fakes.pinecone_emulator import CONTROL_SPEC_PATH, PineconeEmulator, Realism

SPEC = OpenApiSpec.load(CONTROL_SPEC_PATH)


def examples(operation_id: str) -> list[tuple[str, Any]]:
    op = SPEC.operation(operation_id)
    raw = SPEC.document["paths"][op.template][op.method.lower()]["responses"]["200"]["content"]["application/json"]
    return [(name, example["value"]) for name, example in raw.get("examples", {}).items()]


def test_the_client_speaks_the_vendored_version() -> None:
    assert API_VERSION == EMULATED_VERSION == SPEC.version == "2026-07"


@pytest.mark.parametrize(("name", "example"), examples("describe_index"))
def test_the_specs_index_examples_parse(name: str, example: dict[str, Any]) -> None:
    index = IndexModel.model_validate(example)
    assert index.ready == (example["status"]["ready"] and example["status"]["state"] == "Ready")
    if name == "serverless-dense":
        assert (index.dimension, index.metric) == (1536, "cosine")
    else:  # full-text search only: no vector field to take a dimension from
        assert index.dimension is None and index.vector_shape.label == "no vector field"


@pytest.mark.parametrize(
    ("operation", "model", "id_key"),
    [("list_restore_jobs", RestoreJob, "restore_job_id"), ("list_project_backups", Backup, "backup_id")],
)
def test_the_specs_list_examples_parse_item_by_item(operation: str, model: type[Any], id_key: str) -> None:
    for _, example in examples(operation):
        page = read_list(json.dumps(example).encode(), model, id_key)
        assert page.malformed == [] and len(page.data) == len(example["data"])
        assert page.next == ((example.get("pagination") or {}).get("next"))


def test_the_specs_index_list_examples_parse() -> None:
    for _, example in examples("list_indexes"):
        for index in example["indexes"]:
            IndexModel.model_validate(index)


def test_the_create_index_body_is_what_the_spec_asks_for() -> None:
    body = create_index_body(
        "restored-index", {"env": "prod"}, deletion_protection=True, requester_id="U1", backup_id="b"
    )
    request = SPEC.operation("create_index_from_backup_operation").request_body
    assert request is not None and SPEC.errors(request, body.to_json()) == []


@pytest_asyncio.fixture
async def client(pinecone: PineconeEmulator) -> AsyncIterator[PineconeClient]:
    http = httpx.AsyncClient(base_url=pinecone.base_url, timeout=5.0)
    yield PineconeClient(http, PINECONE_API_KEY, read_attempts=1)
    await http.aclose()


async def test_every_call_the_bot_makes_is_answered_within_the_spec(
    pinecone: PineconeEmulator, client: PineconeClient
) -> None:
    pinecone.realism = Realism(not_found_after_create=60.0)
    backup = pinecone.add_backup(record_count=1000)
    pinecone.set_restore_duration(backup["backup_id"], math.inf)
    assert (await client.describe_backup(backup["backup_id"])).dimension == 1536
    assert (await client.list_backups()).data[0].backup_id == backup["backup_id"]
    request = CreateIndexFromBackupRequest(name="restored-index", tags={"restored-by": "U1"})
    created = await client.create_index_from_backup(backup["backup_id"], request)
    with pytest.raises(NotFound):  # Pinecone may not show a job it just created
        await client.describe_restore_job(created.restore_job_id)
    pinecone.advance(60.0)
    job = await client.describe_restore_job(created.restore_job_id)
    assert job.status == "Pending" and job.percent_complete is None
    page = await client.list_restore_jobs()
    assert [j.restore_job_id for j in page.data] == [created.restore_job_id]
    index = await client.describe_index("restored-index")
    assert index.source_backup_id == backup["backup_id"] and not index.ready and index.host == ""
    stats_url = pinecone.data_plane_url.format(host="nowhere")
    with pytest.raises(NotFound):
        await client.describe_index_stats(stats_url)
    pinecone.assert_no_spec_violations()
    recorded = [r for r in pinecone.requests if r.path != "/data/nowhere/describe_index_stats"]
    assert all(r.headers["x-pinecone-api-version"] == "2026-07" for r in recorded)


async def test_the_services_refusals_reach_the_client_typed(pinecone: PineconeEmulator) -> None:
    backup = pinecone.add_backup(status="Initializing")
    async with httpx.AsyncClient(base_url=pinecone.base_url) as http:
        with pytest.raises(BackupNotReady):
            await PineconeClient(http, PINECONE_API_KEY).create_index_from_backup(
                backup["backup_id"], CreateIndexFromBackupRequest(name="early")
            )
        with pytest.raises(Unauthenticated) as raised:
            await PineconeClient(http, "pc-wrong", read_attempts=1).list_restore_jobs()
    assert raised.value.message == "Invalid API key"
