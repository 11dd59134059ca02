"""Contract tests of the Pinecone emulator, exercised over HTTP the way the bot uses it.

If these pass, tests written against the emulator exercise the bot against the API described by
the vendored spec.  The ``pinecone`` fixture also fails any test during which the emulator
produced an off-spec response.
"""

from __future__ import annotations

import base64
import itertools
import json
import math
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from tests.fakes.fixtures import PINECONE_API_KEY
from tests.fakes.openapi import OpenApiSpec
from tests.fakes.pinecone_emulator import API_VERSION, CONTROL_SPEC_PATH, PineconeEmulator, Realism

HEADERS = {"Api-Key": PINECONE_API_KEY, "X-Pinecone-Api-Version": API_VERSION}
HOST = re.compile(r"^[a-z0-9-]+-[0-9a-f]{7}\.svc\.aped-4627-b74a\.pinecone\.io$")


@pytest_asyncio.fixture
async def client(pinecone: PineconeEmulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=pinecone.base_url, headers=HEADERS, timeout=5.0) as http:
        yield http


def error_of(response: httpx.Response) -> tuple[int, str, str]:
    """(status, code, message) of a spec ErrorResponse, checking the body's status matches."""
    body = response.json()
    assert set(body) == {"error", "status"}, body
    assert body["status"] == response.status_code
    return response.status_code, body["error"]["code"], body["error"]["message"]


async def create_index(client: httpx.AsyncClient, backup_id: str, body: Any) -> httpx.Response:
    return await client.post(f"/backups/{backup_id}/create-index", json=body)


# --------------------------------------------------------------------------------------------
# Happy path and restore progress
# --------------------------------------------------------------------------------------------


async def test_restore_reaches_completed_and_index_becomes_ready(
    pinecone: PineconeEmulator, client: httpx.AsyncClient
) -> None:
    pinecone.realism = Realism.regular()
    pinecone.restore_duration = 0.3
    backup = pinecone.add_backup(dimension=768, metric="dotproduct")

    response = await create_index(
        client,
        backup["backup_id"],
        {"name": "restored-search", "tags": {"team": "search", "ticket": "OPS-1"}, "deletion_protection": "enabled"},
    )
    assert response.status_code == 202
    created = response.json()
    assert set(created) == {"restore_job_id", "index_id"}

    job = (await client.get(f"/restore-jobs/{created['restore_job_id']}")).json()
    assert job["status"] == "Pending"
    assert job["backup_id"] == backup["backup_id"]
    assert job["target_index_name"] == "restored-search"
    assert job["target_index_id"] == created["index_id"]
    assert job["completed_at"] is None and "percent_complete" not in job  # 2026-07: no progress figure
    index = (await client.get("/indexes/restored-search")).json()
    assert index["status"] == {"ready": False, "state": "Initializing"}

    await pinecone.wait_for(
        lambda: pinecone.restore_job(created["restore_job_id"])["status"] == "Completed",  # type: ignore[index]
        timeout=5,
    )

    job = (await client.get(f"/restore-jobs/{created['restore_job_id']}")).json()
    assert job["status"] == "Completed"
    assert job["percent_complete"] == 100
    assert job["completed_at"] > job["created_at"]
    index = (await client.get("/indexes/restored-search")).json()
    assert index["status"] == {"ready": True, "state": "Ready"}
    assert HOST.match(index["host"]) and index["host"].startswith("restored-search-")
    # 2026-07: the vectors are in the schema (inherited from the backup), the cloud in the deployment.
    assert index["schema"]["fields"]["_values"] == {"type": "dense_vector", "dimension": 768, "metric": "dotproduct"}
    assert "dimension" not in index and "metric" not in index and "spec" not in index
    assert index["source_backup_id"] == backup["backup_id"]
    assert index["deletion_protection"] == "enabled"
    assert index["tags"] == {"team": "search", "ticket": "OPS-1"}
    assert index["deployment"] == {"deployment_type": "managed", "cloud": "aws", "region": "us-east-1"}
    listed = (await client.get("/indexes")).json()
    assert [i["name"] for i in listed["indexes"]] == ["restored-search"]
    assert pinecone.spec_violations == []  # every response above was validated against the spec


async def test_a_restore_is_pending_without_a_percent_until_it_is_completed(
    pinecone: PineconeEmulator,
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 100.0)
    job_id = pinecone.start_restore(backup["backup_id"], "progress")["restore_job_id"]

    def job() -> dict[str, Any]:
        model = pinecone.restore_job(job_id)
        assert model is not None
        return model

    for _ in range(3):
        assert job()["status"] == "Pending" and "percent_complete" not in job()
        assert pinecone.index("progress")["status"]["state"] == "Initializing"  # type: ignore[index]
        pinecone.advance(33.0)
    pinecone.advance(1.0)
    assert (job()["status"], job()["percent_complete"]) == ("Completed", 100)
    assert pinecone.index("progress")["status"] == {"ready": True, "state": "Ready"}  # type: ignore[index]


async def test_fail_restore_fails_job_and_index(pinecone: PineconeEmulator, client: httpx.AsyncClient) -> None:
    backup = pinecone.add_backup()
    pinecone.fail_restore(backup["backup_id"], at_percent=30.0)
    created = (await create_index(client, backup["backup_id"], {"name": "doomed"})).json()
    pinecone.advance(60.0)
    job = (await client.get(f"/restore-jobs/{created['restore_job_id']}")).json()
    assert job["status"] == "Failed" and "percent_complete" not in job
    assert job["completed_at"] is not None
    index = (await client.get("/indexes/doomed")).json()
    assert index["status"] == {"ready": False, "state": "InitializationFailed"}


async def test_fail_index_init_completes_job_but_not_index(
    pinecone: PineconeEmulator, client: httpx.AsyncClient
) -> None:
    backup = pinecone.add_backup()
    pinecone.fail_index_init(backup["backup_id"])
    created = (await create_index(client, backup["backup_id"], {"name": "half-done"})).json()
    pinecone.advance(60.0)
    job = (await client.get(f"/restore-jobs/{created['restore_job_id']}")).json()
    assert job["status"] == "Completed"
    index = (await client.get("/indexes/half-done")).json()
    assert index["status"] == {"ready": False, "state": "InitializationFailed"}


async def test_infinite_duration_never_finishes(pinecone: PineconeEmulator) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], math.inf)
    job_id = pinecone.start_restore(backup["backup_id"], "forever")["restore_job_id"]
    pinecone.advance(10**9)
    assert pinecone.restore_job(job_id)["status"] == "Pending"  # type: ignore[index]
    assert pinecone.index("forever")["status"]["ready"] is False  # type: ignore[index]


# --------------------------------------------------------------------------------------------
# Gatekeeping: auth, version header, routes, parameters, bodies
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{"Api-Key": "wrong"}, {}], ids=["wrong-key", "no-key"])
async def test_bad_api_key_is_401_in_plain_text(pinecone: PineconeEmulator, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=pinecone.base_url) as http:
        response = await http.get("/indexes", headers={"X-Pinecone-Api-Version": API_VERSION, **headers})
        stats = await http.post(
            f"/data/{'x' * 7}/describe_index_stats", json={}, headers={"X-Pinecone-Api-Version": API_VERSION, **headers}
        )
    for answer in (response, stats):
        assert answer.status_code == 401
        assert answer.headers["Content-Type"].startswith("text/plain")  # 2026-07: UnauthorizedMessage
        assert answer.text == "Invalid API key"


@pytest.mark.parametrize("version", [None, "2025-01"], ids=["missing", "wrong"])
async def test_version_header_is_required(pinecone: PineconeEmulator, version: str | None) -> None:
    headers = {"Api-Key": PINECONE_API_KEY}
    if version is not None:
        headers["X-Pinecone-Api-Version"] = version
    async with httpx.AsyncClient(base_url=pinecone.base_url) as http:
        response = await http.get("/backups", headers=headers)
    status, code, message = error_of(response)
    assert (status, code) == (400, "INVALID_ARGUMENT")
    assert "X-Pinecone-Api-Version" in message


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nope"), ("PUT", "/indexes"), ("GET", "/indexes/a/b/c"), ("POST", "/restore-jobs")]
)
async def test_routes_not_in_spec_are_404(client: httpx.AsyncClient, method: str, path: str) -> None:
    assert error_of(await client.request(method, path))[:2] == (404, "NOT_FOUND")


@pytest.mark.parametrize("limit", ["0", "-3", "ten", "1.5"])
async def test_query_parameters_are_validated(client: httpx.AsyncClient, limit: str) -> None:
    status, code, message = error_of(await client.get("/restore-jobs", params={"limit": limit}))
    assert (status, code) == (400, "INVALID_ARGUMENT")
    assert "limit" in message


@pytest.mark.parametrize(
    "name",
    ["Upper", "-leading", "trailing-", "under_score", "dot.ted", "", "a" * 46, "sp ace", "ünïcode"],
)
async def test_bad_index_names_are_400(pinecone: PineconeEmulator, client: httpx.AsyncClient, name: str) -> None:
    backup = pinecone.add_backup()
    status, code, message = error_of(await create_index(client, backup["backup_id"], {"name": name}))
    assert (status, code) == (400, "INVALID_ARGUMENT")
    assert "1-45 characters" in message
    assert pinecone.indexes() == []


@pytest.mark.parametrize("name", ["a", "9", "a" * 45, "prod-search-2025-01-01"])
async def test_edge_case_index_names_are_accepted(
    pinecone: PineconeEmulator, client: httpx.AsyncClient, name: str
) -> None:
    backup = pinecone.add_backup()
    assert (await create_index(client, backup["backup_id"], {"name": name})).status_code == 202


@pytest.mark.parametrize(
    ("tags", "fragment"),
    [
        ({"k" * 81: "v"}, "tag key"),
        ({"bad key": "v"}, "tag key"),
        ({"ok": "v" * 121}, "value for tag"),
        ({"ok": "no!bang"}, "value for tag"),
    ],
)
async def test_bad_tags_are_400(
    pinecone: PineconeEmulator, client: httpx.AsyncClient, tags: dict[str, str], fragment: str
) -> None:
    backup = pinecone.add_backup()
    response = await create_index(client, backup["backup_id"], {"name": "tagged", "tags": tags})
    status, code, message = error_of(response)
    assert (status, code) == (400, "INVALID_ARGUMENT")
    assert fragment in message


async def test_allowed_tag_characters_are_accepted(pinecone: PineconeEmulator, client: httpx.AsyncClient) -> None:
    backup = pinecone.add_backup()
    tags = {"k" * 80: "v" * 120, "Team_A-1": "a;b@c_d-e.f+g h", "unset": ""}
    assert (await create_index(client, backup["backup_id"], {"name": "tagged", "tags": tags})).status_code == 202


@pytest.mark.parametrize(
    "content",
    [
        b'{"name": 123}',
        b'{"name": "ok", "tags": "not-an-object"}',
        b'{"name": "ok", "tags": {"k": 1}}',
        b'{"name": "ok", "deletion_protection": "sometimes"}',
        b'{"tags": {}}',
        b"[]",
        b"{not json",
        b"",
    ],
    ids=["int-name", "str-tags", "int-tag-value", "bad-enum", "no-name", "array", "malformed", "empty"],
)
async def test_undeserialisable_bodies_are_422(
    pinecone: PineconeEmulator, client: httpx.AsyncClient, content: bytes
) -> None:
    backup = pinecone.add_backup()
    response = await client.post(
        f"/backups/{backup['backup_id']}/create-index",
        content=content,
        headers={"Content-Type": "application/json"},
    )
    assert error_of(response)[:2] == (422, "UNPROCESSABLE_ENTITY")
    assert pinecone.indexes() == []


async def test_non_json_content_type_is_422(pinecone: PineconeEmulator, client: httpx.AsyncClient) -> None:
    backup = pinecone.add_backup()
    response = await client.post(f"/backups/{backup['backup_id']}/create-index", data={"name": "form"})
    assert error_of(response)[:2] == (422, "UNPROCESSABLE_ENTITY")


# --------------------------------------------------------------------------------------------
# Resource errors
# --------------------------------------------------------------------------------------------


async def test_not_found_errors(client: httpx.AsyncClient) -> None:
    assert error_of(await client.get("/backups/missing")) == (404, "NOT_FOUND", "Backup missing not found.")
    assert error_of(await client.get("/restore-jobs/missing")) == (
        404,
        "NOT_FOUND",
        "Restore job missing not found.",
    )
    assert error_of(await client.get("/indexes/missing")) == (404, "NOT_FOUND", "Index missing not found.")
    assert error_of(await create_index(client, "missing", {"name": "x"})) == (
        404,
        "NOT_FOUND",
        "Backup missing not found.",
    )


async def test_existing_index_name_is_409(pinecone: PineconeEmulator, client: httpx.AsyncClient) -> None:
    backup = pinecone.add_backup()
    pinecone.add_index("taken")
    assert error_of(await create_index(client, backup["backup_id"], {"name": "taken"})) == (
        409,
        "ALREADY_EXISTS",
        "Resource taken already exists.",
    )
    assert pinecone.restore_jobs() == []


async def test_backup_not_ready_is_412_failed_precondition(
    pinecone: PineconeEmulator, client: httpx.AsyncClient
) -> None:
    backup = pinecone.add_backup("bk-1", status="Initializing")
    assert error_of(await create_index(client, "bk-1", {"name": "early"})) == (
        412,
        "FAILED_PRECONDITION",
        "Backup bk-1 is not ready (status: Initializing).",
    )
    pinecone.set_backup_status(backup["backup_id"], "Ready")
    assert (await create_index(client, "bk-1", {"name": "early"})).status_code == 202


async def test_delete_index_honours_deletion_protection(pinecone: PineconeEmulator, client: httpx.AsyncClient) -> None:
    pinecone.add_index("protected", deletion_protection="enabled")
    pinecone.add_index("scratch")
    assert error_of(await client.delete("/indexes/protected"))[:2] == (403, "FORBIDDEN")
    response = await client.delete("/indexes/scratch")
    assert (response.status_code, response.content) == (202, b"")
    assert [i["name"] for i in pinecone.indexes()] == ["protected"]


# --------------------------------------------------------------------------------------------
# Listing and pagination
# --------------------------------------------------------------------------------------------


async def test_restore_jobs_pagination_covers_every_job_once(
    pinecone: PineconeEmulator, client: httpx.AsyncClient
) -> None:
    pinecone.realism = Realism.regular()
    backup = pinecone.add_backup()
    created = [pinecone.start_restore(backup["backup_id"], f"idx-{i}")["restore_job_id"] for i in range(250)]

    pages: list[list[str]] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 100}
        if token is not None:
            params["paginationToken"] = token
        response = await client.get("/restore-jobs", params=params)
        assert response.status_code == 200
        body = response.json()
        pages.append([job["restore_job_id"] for job in body["data"]])
        token = (body.get("pagination") or {}).get("next")
        if token is None:
            assert "pagination" not in body  # regular: left out on the last page (2026-07 also allows null)
            break
        if len(pages) == 1:
            # Jobs created between page fetches must not shift the pages (keyset pagination).
            pinecone.start_restore(backup["backup_id"], "late-arrival")

    assert [len(p) for p in pages] == [100, 100, 50]
    seen = [job_id for page in pages for job_id in page]
    assert len(seen) == len(set(seen)) == 250
    assert seen == list(reversed(created))  # newest first


async def test_restore_jobs_default_limit_and_bad_token(pinecone: PineconeEmulator, client: httpx.AsyncClient) -> None:
    pinecone.realism = Realism.regular()
    backup = pinecone.add_backup()
    for i in range(102):
        pinecone.start_restore(backup["backup_id"], f"idx-{i}")
    body = (await client.get("/restore-jobs")).json()
    assert len(body["data"]) == 100  # 2026-07's default limit
    assert isinstance(body["pagination"]["next"], str)
    bogus = base64.b64encode(json.dumps({"kind": "backups", "after": [5], "inclusive": False}).encode()).decode()
    for token in ("garbage!", bogus):
        response = await client.get("/restore-jobs", params={"paginationToken": token})
        assert error_of(response)[:2] == (400, "INVALID_ARGUMENT")


async def test_backups_list_describe_and_per_index_list(pinecone: PineconeEmulator, client: httpx.AsyncClient) -> None:
    pinecone.realism = Realism.regular()
    pinecone.add_index("prod-search")
    first = pinecone.add_backup(source_index_name="prod-search", tags={"env": "prod"})
    second = pinecone.add_backup(source_index_name="other-index", status="Initializing")
    listed = (await client.get("/backups", params={"limit": 1})).json()
    assert [b["backup_id"] for b in listed["data"]] == [second["backup_id"]]
    rest = (await client.get("/backups", params={"paginationToken": listed["pagination"]["next"]})).json()
    assert rest == {"data": [first]}
    assert (await client.get(f"/backups/{first['backup_id']}")).json() == first
    per_index = (await client.get("/indexes/prod-search/backups")).json()
    assert [b["backup_id"] for b in per_index["data"]] == [first["backup_id"]]
    assert error_of(await client.get("/indexes/unknown/backups"))[:2] == (404, "NOT_FOUND")


async def index_backups(client: httpx.AsyncClient, name: str, **params: Any) -> list[dict[str, Any]]:
    """Every page of `GET /indexes/{name}/backups`, items seen twice counted once (pages may overlap)."""
    seen: dict[str, dict[str, Any]] = {}
    token = None
    for _ in range(100):
        page_params = {**params, **({"paginationToken": token} if token else {})}
        response = await client.get(f"/indexes/{name}/backups", params=page_params)
        assert response.status_code == 200, response.text
        body = response.json()
        for item in body["data"]:
            seen.setdefault(item["backup_id"], item)
        token = (body.get("pagination") or {}).get("next")
        if not token:
            return list(seen.values())
    raise AssertionError("the listing did not end")


async def test_the_backups_of_one_index_across_many_days_and_pages(
    pinecone: PineconeEmulator, client: httpx.AsyncClient
) -> None:
    pinecone.add_index("prod-search")
    pinecone.add_index("prod-recs")
    search = pinecone.add_backups("prod-search", count=250)
    recs = pinecone.add_backups("prod-recs", count=30, every=timedelta(hours=6))
    assert {b["name"] for b in search[:2]} == {
        f"nightly-{datetime.fromisoformat(b['created_at']):%m%d}" for b in search[:2]
    }
    first = (await client.get("/indexes/prod-search/backups", params={"limit": 100})).json()
    listed = [b["backup_id"] for b in first["data"]]
    # No promised order (a seeded shuffle), and the next page starts with the item that ended this one.
    assert listed != [b["backup_id"] for b in search[:100]]
    second = (
        await client.get("/indexes/prod-search/backups", params={"paginationToken": first["pagination"]["next"]})
    ).json()
    assert second["data"][0]["backup_id"] == listed[-1]
    assert {b["backup_id"] for b in await index_backups(client, "prod-search")} == {b["backup_id"] for b in search}
    assert {b["backup_id"] for b in await index_backups(client, "prod-recs", limit=7)} == {b["backup_id"] for b in recs}
    assert all("source_index_deleted_at" not in b for b in await index_backups(client, "prod-recs"))


async def test_backups_outlive_their_index_behind_include_deleted(
    pinecone: PineconeEmulator, client: httpx.AsyncClient
) -> None:
    pinecone.add_index("prod-search")
    before = pinecone.add_backups("prod-search", count=3)
    deleted_at = datetime(2026, 11, 30, 13, 5, tzinfo=UTC)
    pinecone.remove_index("prod-search", at=deleted_at)
    # No active index by that name: 404, not an empty list, even though its backups exist.
    assert error_of(await client.get("/indexes/prod-search/backups"))[:2] == (404, "NOT_FOUND")
    kept = await index_backups(client, "prod-search", include_deleted="true")
    assert {b["backup_id"] for b in kept} == {b["backup_id"] for b in before}
    assert {b["source_index_deleted_at"] for b in kept} == {"2026-11-30T13:05:00.000Z"}
    described = (await client.get(f"/backups/{before[0]['backup_id']}")).json()
    assert described["source_index_deleted_at"] == "2026-11-30T13:05:00.000Z"

    # A new index takes the name: only its backups without include_deleted, every incarnation's with it.
    pinecone.add_index("prod-search")
    after = pinecone.add_backup(source_index_name="prod-search")
    active = await index_backups(client, "prod-search")
    assert [b["backup_id"] for b in active] == [after["backup_id"]] and "source_index_deleted_at" not in active[0]
    everything = await index_backups(client, "prod-search", include_deleted="true")
    assert len(everything) == 4


async def test_no_index_by_that_name_ever_existed_is_404_even_with_include_deleted(
    pinecone: PineconeEmulator, client: httpx.AsyncClient
) -> None:
    pinecone.add_index("prod-search")
    for params in ({}, {"include_deleted": "true"}, {"include_deleted": "false"}):
        response = await client.get("/indexes/prod-serch/backups", params=params)
        assert error_of(response)[:2] == (404, "NOT_FOUND")
    # An index that exists without backups answers an empty list.
    assert await index_backups(client, "prod-search") == []
    assert await index_backups(client, "prod-search", include_deleted="true") == []


async def test_backups_of_an_index_deleted_before_the_emulator_started(
    pinecone: PineconeEmulator, client: httpx.AsyncClient
) -> None:
    newest = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    pinecone.add_backups("old-index", count=2, newest=newest)
    assert error_of(await client.get("/indexes/old-index/backups"))[:2] == (404, "NOT_FOUND")
    kept = await index_backups(client, "old-index", include_deleted="true")
    assert {b["source_index_deleted_at"] for b in kept} == {"2026-11-29T02:00:00.000Z"}


# --------------------------------------------------------------------------------------------
# Fault injection
# --------------------------------------------------------------------------------------------


async def test_injected_503_burst_then_success(pinecone: PineconeEmulator, client: httpx.AsyncClient) -> None:
    backup = pinecone.add_backup()
    fault = pinecone.inject("POST", "/backups/*/create-index", status=503, times=2, retry_after=1)
    for _ in range(2):
        response = await create_index(client, backup["backup_id"], {"name": "retried"})
        assert error_of(response)[:2] == (503, "SERVICE_UNAVAILABLE")  # 2026-07's code list
        assert response.headers["Retry-After"] == "1"
        assert pinecone.index("retried") is None  # a plain fault is not processed
    assert (await create_index(client, backup["backup_id"], {"name": "retried"})).status_code == 202
    assert fault.hits == 2
    assert [(c.status, c.fault is fault) for c in pinecone.create_index_calls] == [
        (503, True),
        (503, True),
        (202, False),
    ]


async def test_then_process_applies_request_but_reports_failure(
    pinecone: PineconeEmulator, client: httpx.AsyncClient
) -> None:
    backup = pinecone.add_backup()
    pinecone.inject("POST", "/backups/*/create-index", status=503, then_process=True)
    response = await create_index(client, backup["backup_id"], {"name": "ambiguous"})
    assert error_of(response)[:2] == (503, "SERVICE_UNAVAILABLE")
    assert pinecone.index("ambiguous") is not None
    assert len(pinecone.restore_jobs(backup["backup_id"])) == 1
    # A naive retry now collides with the index the "failed" request created.
    assert error_of(await create_index(client, backup["backup_id"], {"name": "ambiguous"}))[:2] == (
        409,
        "ALREADY_EXISTS",
    )
    assert len(pinecone.create_index_calls) == 2


async def test_custom_fault_code_message_and_validation(pinecone: PineconeEmulator, client: httpx.AsyncClient) -> None:
    pinecone.inject("GET", "/indexes", status=429, code="RESOURCE_EXHAUSTED", message="slow down")
    assert error_of(await client.get("/indexes")) == (429, "RESOURCE_EXHAUSTED", "slow down")
    assert (await client.get("/indexes")).status_code == 200
    with pytest.raises(ValueError, match="ErrorResponse"):
        pinecone.inject("GET", "/indexes", status=500, code="NOT_A_PINECONE_CODE")
    with pytest.raises(ValueError):
        pinecone.inject("GET", "/indexes", status=200)


async def test_slow_response_then_normal_processing(pinecone: PineconeEmulator, client: httpx.AsyncClient) -> None:
    pinecone.inject("GET", "/indexes", status=0, delay=0.05)
    with pytest.raises(httpx.ReadTimeout):
        await client.get("/indexes", timeout=0.01)
    pinecone.inject("*", "/indexes", status=0, delay=0.05)
    assert (await client.get("/indexes")).status_code == 200


async def test_dropped_connection(pinecone: PineconeEmulator, client: httpx.AsyncClient) -> None:
    backup = pinecone.add_backup()
    pinecone.inject("POST", "/backups/*/create-index", status=0, drop_connection=True, then_process=True)
    with pytest.raises(httpx.RemoteProtocolError):
        await create_index(client, backup["backup_id"], {"name": "lost-response"})
    assert pinecone.index("lost-response") is not None
    assert pinecone.create_index_calls[0].status is None


# --------------------------------------------------------------------------------------------
# Faithfulness, recording, waiting
# --------------------------------------------------------------------------------------------


async def test_off_spec_response_is_caught_loudly(
    pinecone: PineconeEmulator, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    pinecone.add_index("broken")
    original = pinecone._index_model

    def without_host(index: Any) -> dict[str, Any]:
        model = original(index)
        del model["host"]  # "host" is required by IndexModel
        return model

    monkeypatch.setattr(pinecone, "_index_model", without_host)
    status, code, message = error_of(await client.get("/indexes/broken"))
    assert (status, code) == (500, "INTERNAL")
    assert "host" in message
    assert len(pinecone.spec_violations) == 1
    assert "'host' is a required property" in pinecone.spec_violations[0].problem
    with pytest.raises(AssertionError, match="unfaithful"):
        pinecone.assert_no_spec_violations()
    pinecone.spec_violations.clear()  # expected here; keep the fixture's teardown check green


async def test_unimplemented_operation_is_reported(pinecone: PineconeEmulator, client: httpx.AsyncClient) -> None:
    response = await client.get("/collections")
    assert error_of(response)[:2] == (500, "UNKNOWN")
    assert [r.path for r in pinecone.unimplemented_calls] == ["/collections"]
    pinecone.unimplemented_calls.clear()


async def test_requests_are_recorded(pinecone: PineconeEmulator, client: httpx.AsyncClient) -> None:
    backup = pinecone.add_backup()
    await create_index(client, backup["backup_id"], {"name": "recorded"})
    await client.get("/restore-jobs", params={"limit": 5})
    post, get = pinecone.requests
    assert (post.method, post.path, post.json, post.status) == (
        "POST",
        f"/backups/{backup['backup_id']}/create-index",
        {"name": "recorded"},
        202,
    )
    assert post.headers["api-key"] == PINECONE_API_KEY
    assert post.headers["x-pinecone-api-version"] == API_VERSION
    assert (get.query, get.json) == ({"limit": "5"}, None)
    assert pinecone.calls("get", "/restore-*") == [get]
    assert pinecone.create_index_calls == [post]


async def test_wait_for_times_out_with_traffic_dump(pinecone: PineconeEmulator, client: httpx.AsyncClient) -> None:
    await client.get("/indexes")
    with pytest.raises(AssertionError, match=r"GET /indexes -> 200"):
        await pinecone.wait_for(lambda: pinecone.index("never"), timeout=0.1)


def test_every_documented_operation_routes() -> None:
    """Routing is derived from the spec: each operation's template routes back to it."""
    spec = OpenApiSpec(CONTROL_SPEC_PATH)
    assert spec.version == API_VERSION
    for op in spec.operations:
        path = re.sub(r"\{[^}]+\}", "x", op.template)
        routed = spec.route(op.method, path)
        assert routed is not None and routed[0] is op, op.template
    assert spec.route("POST", "/indexes/create-for-model")[0].operation_id == "create_index_for_model"  # type: ignore[index]


# --------------------------------------------------------------------------------------------
# As strict as the service (the defaults; Realism.regular() turns each off)
# --------------------------------------------------------------------------------------------


async def list_all(client: httpx.AsyncClient, limit: int = 100) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    token: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"paginationToken": token} if token else {})}
        body = (await client.get("/restore-jobs", params=params)).json()
        pages.append(body["data"])
        token = (body.get("pagination") or {}).get("next")
        if token is None:
            return pages


@pytest.mark.parametrize("order", ["newest_first", "oldest_first", "shuffled"])
async def test_restore_jobs_are_listed_in_the_order_a_test_chooses(
    pinecone: PineconeEmulator, client: httpx.AsyncClient, order: str
) -> None:
    pinecone.realism = Realism(listing_order=order, repeat_across_pages=False, stop_early=0.0)  # type: ignore[arg-type]
    backup = pinecone.add_backup()
    created = [pinecone.start_restore(backup["backup_id"], f"idx-{i}")["restore_job_id"] for i in range(30)]
    seen = [job["restore_job_id"] for page in await list_all(client, limit=7) for job in page]
    assert sorted(seen) == sorted(created) and len(seen) == len(set(seen))
    expected = {"newest_first": created[::-1], "oldest_first": created}.get(order)
    if expected is not None:
        assert seen == expected
    else:
        assert seen not in (created, created[::-1])


async def test_by_default_pages_overlap_and_the_last_one_says_null(
    pinecone: PineconeEmulator, client: httpx.AsyncClient
) -> None:
    pinecone.realism = Realism(stop_early=0.0)
    backup = pinecone.add_backup()
    for i in range(25):
        pinecone.start_restore(backup["backup_id"], f"idx-{i}")
    pages = await list_all(client, limit=10)
    for before, after in itertools.pairwise(pages):
        assert after[0] == before[-1], "each later page starts with the item that ended the page before"
    assert len({job["restore_job_id"] for page in pages for job in page}) == 25
    last = (await client.get("/restore-jobs")).json()
    assert "pagination" in last and last["pagination"] is None


async def test_a_listing_sometimes_ends_early(pinecone: PineconeEmulator, client: httpx.AsyncClient) -> None:
    pinecone.realism = Realism(stop_early=0.5, seed=1)
    backup = pinecone.add_backup()
    for i in range(50):
        pinecone.start_restore(backup["backup_id"], f"idx-{i}")
    lengths = {sum(len(page) for page in await list_all(client, limit=10)) for _ in range(10)}
    assert min(lengths) < 50, "some listings said they were done although more existed"


async def test_a_new_job_has_no_created_at_for_a_while_and_is_not_found_at_first(
    pinecone: PineconeEmulator, client: httpx.AsyncClient
) -> None:
    pinecone.realism = Realism(created_at_null_for=10.0, not_found_after_create=2.0)
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], math.inf)
    job_id = pinecone.start_restore(backup["backup_id"], "fresh")["restore_job_id"]
    assert error_of(await client.get(f"/restore-jobs/{job_id}"))[:2] == (404, "NOT_FOUND")
    pinecone.advance(2.0)
    job = (await client.get(f"/restore-jobs/{job_id}")).json()
    assert job["created_at"] is None and job["status"] == "Pending"
    pinecone.advance(8.0)
    assert (await client.get(f"/restore-jobs/{job_id}")).json()["created_at"] is not None


async def test_an_initialising_index_has_no_host_yet_and_its_count_lags_behind_ready(
    pinecone: PineconeEmulator, client: httpx.AsyncClient
) -> None:
    pinecone.realism = Realism(count_lag=10.0)
    backup = pinecone.add_backup(record_count=1000)
    pinecone.set_restore_duration(backup["backup_id"], 5.0)
    pinecone.start_restore(backup["backup_id"], "lagging")
    index = (await client.get("/indexes/lagging")).json()
    assert index["host"] == "" and index["status"]["ready"] is False  # the spec requires a string: never null
    pinecone.advance(5.0)
    index = (await client.get("/indexes/lagging")).json()
    assert index["status"]["ready"] is True and HOST.match(index["host"])
    counts = []
    for _ in range(3):
        stats = await client.post(f"/data/{index['host']}/describe_index_stats", json={})
        counts.append(stats.json()["totalVectorCount"])
        pinecone.advance(5.0)
    assert counts[0] < 100 and 450 <= counts[1] <= 600 and counts[2] == 1000  # real time moves a little too


async def test_a_backup_says_its_counts_and_schema_only_once_ready(
    pinecone: PineconeEmulator, client: httpx.AsyncClient
) -> None:
    backup = pinecone.add_backup(status="Initializing")
    early = (await client.get(f"/backups/{backup['backup_id']}")).json()
    assert not {"record_count", "size_bytes", "namespace_count", "schema"} & set(early)
    pinecone.set_backup_status(backup["backup_id"], "Ready")
    ready = (await client.get(f"/backups/{backup['backup_id']}")).json()
    assert ready["record_count"] == 120000 and ready["schema"]["fields"]["_values"]["dimension"] == 1536


async def test_a_cancelled_job_and_the_jobs_of_deleted_indexes(
    pinecone: PineconeEmulator, client: httpx.AsyncClient
) -> None:
    pinecone.realism = Realism(stop_early=0.0)
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], math.inf)
    cancelled = pinecone.start_restore(backup["backup_id"], "cancelled")["restore_job_id"]
    dropped = pinecone.start_restore(backup["backup_id"], "dropped")["restore_job_id"]
    pinecone.advance(1.0)
    pinecone.cancel_restore(cancelled)
    pinecone.cancel_restore(dropped, delete_index=True)
    job = (await client.get(f"/restore-jobs/{cancelled}")).json()
    assert job["status"] == "Cancelled" and job["completed_at"] is not None and "percent_complete" not in job
    assert (await client.get("/indexes/cancelled")).json()["status"]["state"] == "InitializationFailed"
    listed = {job["restore_job_id"] for page in await list_all(client) for job in page}
    assert listed == {cancelled}, "the list leaves out a job whose index was deleted"
    assert (await client.get(f"/restore-jobs/{dropped}")).json()["status"] == "Cancelled"


async def test_a_status_pinecone_may_add_later_and_a_deliberately_malformed_job(
    pinecone: PineconeEmulator, client: httpx.AsyncClient
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], math.inf)
    odd, broken = (pinecone.start_restore(backup["backup_id"], f"idx-{i}")["restore_job_id"] for i in range(2))
    pinecone.advance(5.0)
    pinecone.set_restore_status(odd, "Throttled")
    pinecone.malform_restore_job(broken, created_at="yesterday", status=7)
    assert (await client.get(f"/restore-jobs/{odd}")).json()["status"] == "Throttled"
    served = (await client.get(f"/restore-jobs/{broken}")).json()
    assert served["created_at"] == "yesterday" and served["status"] == 7
    page = (await client.get("/restore-jobs")).json()
    assert {job["restore_job_id"] for job in page["data"]} == {odd, broken}
    assert pinecone.spec_violations == [], "broken on purpose, and the rest of each answer still checked"
    pinecone.malform_restore_job(broken)
    assert (await client.get(f"/restore-jobs/{broken}")).json()["status"] == "Pending"
