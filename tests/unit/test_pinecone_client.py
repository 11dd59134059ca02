"""The Pinecone client against httpx.MockTransport: headers, typed errors, retries."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from bot.core.render.pinecone_sentences import explain
from bot.pinecone import (
    AlreadyExists,
    BackupNotReady,
    BadRequest,
    Forbidden,
    NotFound,
    PaymentRequired,
    PineconeClient,
    PineconeUnreachable,
    RateLimited,
    ServerError,
    Unauthenticated,
)
from bot.pinecone.client import parse_retry_after
from bot.pinecone.errors import is_ambiguous, is_transient
from bot.pinecone.models import CreateIndexFromBackupRequest

BACKUP = {
    "backup_id": "670e8400-e29b-41d4-a716-446655440000",
    "source_index_name": "prod-search",
    "source_index_id": "idx-1",
    "status": "Ready",
    "cloud": "aws",
    "region": "us-east-1",
    "record_count": 120000,
}


def error_body(status: int, code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}, "status": status}).encode()


def client_for(handler: Callable[[httpx.Request], httpx.Response]) -> tuple[PineconeClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    http = httpx.AsyncClient(base_url="https://pinecone.test", transport=httpx.MockTransport(record))
    return PineconeClient(http, "pc-key", read_attempts=3, backoff_initial=0.001, backoff_max=0.002), seen


async def test_sends_api_key_and_version_headers() -> None:
    client, seen = client_for(lambda _: httpx.Response(200, json=BACKUP))
    backup = await client.describe_backup(BACKUP["backup_id"])
    assert backup.source_index_name == "prod-search" and backup.ready
    assert seen[0].headers["Api-Key"] == "pc-key"
    assert seen[0].headers["X-Pinecone-Api-Version"] == "2026-07"
    assert seen[0].url.path == f"/backups/{BACKUP['backup_id']}"


@pytest.mark.parametrize(
    ("status", "code", "error_type"),
    [
        (400, "INVALID_ARGUMENT", BadRequest),
        (400, "FAILED_PRECONDITION", BackupNotReady),
        (401, "UNAUTHENTICATED", Unauthenticated),
        (402, "PAYMENT_REQUIRED", PaymentRequired),
        (403, "FORBIDDEN", Forbidden),
        (404, "NOT_FOUND", NotFound),
        (409, "ALREADY_EXISTS", AlreadyExists),
        (422, "UNPROCESSABLE_ENTITY", BadRequest),
    ],
)
async def test_client_errors_are_typed_and_never_retried(status: int, code: str, error_type: type) -> None:
    client, seen = client_for(lambda _: httpx.Response(status, content=error_body(status, code, "nope")))
    with pytest.raises(error_type) as raised:
        await client.describe_backup("b")
    assert raised.value.code == code and raised.value.message == "nope"
    assert len(seen) == 1


async def test_reads_retry_5xx_429_and_connection_errors_then_succeed() -> None:
    answers = iter(
        [
            httpx.Response(503, content=error_body(503, "UNAVAILABLE", "down")),
            httpx.Response(429, content=error_body(429, "RESOURCE_EXHAUSTED", "slow"), headers={"Retry-After": "0"}),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        answer = next(answers, None)
        return answer if answer is not None else httpx.Response(200, json=BACKUP)

    client, seen = client_for(handler)
    await client.describe_backup("b")
    assert len(seen) == 3


async def test_reads_give_up_after_the_attempt_budget() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client, seen = client_for(handler)
    with pytest.raises(PineconeUnreachable):
        await client.describe_restore_job("rj")
    assert len(seen) == 3


async def test_create_index_is_sent_once_even_on_a_5xx() -> None:
    client, seen = client_for(lambda _: httpx.Response(500, content=error_body(500, "UNKNOWN", "oops")))
    with pytest.raises(ServerError) as raised:
        await client.create_index_from_backup("b", CreateIndexFromBackupRequest(name="x", tags={"env": "prod"}))
    assert is_ambiguous(raised.value)
    assert len(seen) == 1
    assert json.loads(seen[0].content) == {"name": "x", "tags": {"env": "prod"}, "deletion_protection": "disabled"}


async def test_a_success_body_that_breaks_the_spec_is_not_trusted() -> None:
    client, _ = client_for(lambda _: httpx.Response(200, json={"unexpected": True}))
    with pytest.raises(PineconeUnreachable, match="does not match"):
        await client.describe_index("x")


async def test_an_error_without_a_spec_body_still_maps_by_status() -> None:
    client, _ = client_for(lambda _: httpx.Response(401, text="<html>nope</html>"))
    with pytest.raises(Unauthenticated):
        await client.describe_backup("b")


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now=1445412480.0) == 5.0


def test_transient_and_ambiguous_classification() -> None:
    assert is_transient(RateLimited(429, "RESOURCE_EXHAUSTED", "x"))
    assert not is_ambiguous(RateLimited(429, "RESOURCE_EXHAUSTED", "x"))
    assert is_ambiguous(PineconeUnreachable("timeout"))
    assert not is_transient(NotFound(404, "NOT_FOUND", "x"))


@pytest.mark.parametrize(
    ("error", "must_say"),
    [
        (NotFound(404, "NOT_FOUND", "Backup b not found."), "no backup with ID `bkp-1`"),
        (BackupNotReady(400, "FAILED_PRECONDITION", "status: Pending"), "status: Pending"),
        (AlreadyExists(409, "ALREADY_EXISTS", "exists"), "`target` already exists"),
        (BadRequest(400, "INVALID_ARGUMENT", "Tag value too long"), "Tag value too long"),
        (Unauthenticated(401, "UNAUTHENTICATED", "Invalid API key."), "PINECONE_API_KEY"),
        (Forbidden(403, "FORBIDDEN", "Increase your quota"), "quota"),
        (PaymentRequired(402, "PAYMENT_REQUIRED", "Pay"), "unpaid invoices"),
        (ServerError(503, "UNAVAILABLE", "x"), "unavailable"),
        (PineconeUnreachable("timed out"), "unavailable"),
        (RateLimited(429, "RESOURCE_EXHAUSTED", "x"), "rate limiting"),
    ],
)
def test_every_error_has_a_plain_sentence(error: Exception, must_say: str) -> None:
    sentence = explain(error, backup_id="bkp-1", index_name="target")  # type: ignore[arg-type]
    assert must_say in sentence
    assert "pc-key" not in sentence


# -- API 2026-07 as the service answers it -----------------------------------------------------------

JOB = {
    "restore_job_id": "rj-1",
    "backup_id": BACKUP["backup_id"],
    "target_index_name": "restored-index",
    "target_index_id": "idx-2",
    "status": "Pending",
    "created_at": None,
    "completed_at": None,
}


async def test_a_401_in_plain_text_is_a_rejected_key_with_its_message() -> None:
    client, _ = client_for(
        lambda _: httpx.Response(401, text="Invalid API key", headers={"Content-Type": "text/plain"})
    )
    with pytest.raises(Unauthenticated) as raised:
        await client.list_restore_jobs()
    assert raised.value.status == 401 and raised.value.message == "Invalid API key"


async def test_a_412_is_a_backup_that_is_not_ready() -> None:
    body = error_body(412, "FAILED_PRECONDITION", "Backup b is not completed")
    client, _ = client_for(lambda _: httpx.Response(412, content=body))
    with pytest.raises(BackupNotReady):
        await client.create_index_from_backup("b", CreateIndexFromBackupRequest(name="x"))


@pytest.mark.parametrize("pagination", [None, "absent", {"next": "tok-2"}], ids=["null", "absent", "next"])
async def test_a_restore_job_list_reads_null_fields_and_every_shape_of_last_page(pagination: object) -> None:
    body: dict[str, object] = {"data": [JOB]}
    if pagination != "absent":
        body["pagination"] = pagination
    client, _ = client_for(lambda _: httpx.Response(200, json=body))
    page = await client.list_restore_jobs()
    [job] = page.data
    assert job.created_at is None and job.completed_at is None and job.percent_complete is None
    assert not job.completed and not job.failed
    assert page.next == ("tok-2" if isinstance(pagination, dict) else None)


async def test_one_malformed_item_is_set_aside_with_its_id_and_the_rest_of_the_page_is_used() -> None:
    broken = {**JOB, "restore_job_id": "rj-broken", "created_at": "yesterday"}
    nameless = {"status": "Pending"}
    healthy = {**JOB, "restore_job_id": "rj-2", "status": "Completed", "percent_complete": 100}
    client, _ = client_for(lambda _: httpx.Response(200, json={"data": [JOB, broken, nameless, healthy]}))
    page = await client.list_restore_jobs()
    assert [job.restore_job_id for job in page.data] == ["rj-1", "rj-2"]
    assert [bad.item_id for bad in page.malformed] == ["rj-broken", None]
    assert "created_at" in page.malformed[0].problem
    assert page.data[1].completed and page.data[1].percent_complete == 100


async def test_a_restore_job_time_without_a_zone_is_read_as_utc() -> None:
    """Reconcile and the tracker compare these times with aware ones: a naive one would raise TypeError there."""
    naive = {**JOB, "status": "Completed", "created_at": "2026-11-30T14:00:00", "completed_at": "2026-11-30T15:00:00"}
    client, _ = client_for(lambda _: httpx.Response(200, json=naive))
    job = await client.describe_restore_job("rj-1")
    assert job.created_at == datetime(2026, 11, 30, 14, tzinfo=UTC)
    assert job.completed_at == datetime(2026, 11, 30, 15, tzinfo=UTC)


async def test_a_status_pinecone_may_add_later_is_kept_not_refused() -> None:
    client, _ = client_for(lambda _: httpx.Response(200, json={**JOB, "status": "Throttled"}))
    job = await client.describe_restore_job("rj-1")
    assert job.status == "Throttled" and not job.completed and not job.failed


@pytest.mark.parametrize("status", ["Failed", "Cancelled"])
async def test_failed_and_cancelled_jobs_are_failures(status: str) -> None:
    client, _ = client_for(lambda _: httpx.Response(200, json={**JOB, "status": status}))
    assert (await client.describe_restore_job("rj-1")).failed


async def test_an_index_reports_its_vectors_through_its_schema() -> None:
    index = {
        "name": "restored-index",
        "host": "",
        "status": {"ready": False, "state": "Initializing"},
        "deployment": {"deployment_type": "managed", "cloud": "aws", "region": "us-east-1"},
        "schema": {
            "fields": {
                "_values": {"type": "dense_vector", "dimension": 1536, "metric": "cosine"},
                "_sparse_values": {"type": "sparse_vector"},
            }
        },
        "deletion_protection": "disabled",
        "source_backup_id": BACKUP["backup_id"],
        "tags": None,
    }
    client, _ = client_for(lambda _: httpx.Response(200, json=index))
    model = await client.describe_index("restored-index")
    assert (model.dimension, model.metric) == (1536, "cosine")
    assert model.source_backup_id == BACKUP["backup_id"] and model.tags is None
    assert not model.ready, "no host yet"
    unknown_state = {**index, "host": None, "status": {"ready": False, "state": "Migrating"}}
    client, _ = client_for(lambda _: httpx.Response(200, json=unknown_state))
    model = await client.describe_index("restored-index")
    assert model.status.state == "Migrating" and not model.ready and not model.initialization_failed


async def test_a_backup_that_is_not_ready_may_say_neither_its_counts_nor_its_schema() -> None:
    client, _ = client_for(
        lambda _: httpx.Response(200, json={**BACKUP, "status": "Initializing", "record_count": None})
    )
    backup = await client.describe_backup("b")
    assert not backup.ready and backup.record_count is None
    assert backup.dimension is None and backup.metric is None and backup.vector_shape.label == "unknown"


async def test_lists_the_backups_of_one_index_with_deleted_ones_when_asked() -> None:
    deleted = {**BACKUP, "backup_id": "b2", "source_index_deleted_at": "2026-11-30T13:05:00Z"}
    page = {"data": [BACKUP, deleted, {"backup_id": "b3"}], "pagination": {"next": "tok"}}
    client, seen = client_for(lambda _: httpx.Response(200, json=page))
    listed = await client.list_index_backups("prod-search", include_deleted=True, limit=50, pagination_token="t0")
    assert [b.backup_id for b in listed.data] == [BACKUP["backup_id"], "b2"]
    assert listed.data[1].source_index_deleted_at == "2026-11-30T13:05:00Z"
    assert [m.item_id for m in listed.malformed] == ["b3"] and listed.next == "tok"
    assert seen[0].url.path == "/indexes/prod-search/backups"
    assert dict(seen[0].url.params) == {"limit": "50", "paginationToken": "t0", "include_deleted": "true"}

    await client.list_index_backups("prod-search")
    assert "include_deleted" not in seen[1].url.params


async def test_an_index_that_is_not_there_is_not_found() -> None:
    client, _ = client_for(lambda _: httpx.Response(404, content=error_body(404, "NOT_FOUND", "Index x not found.")))
    with pytest.raises(NotFound):
        await client.list_index_backups("x", include_deleted=True)


async def test_path_segments_are_escaped() -> None:
    client, seen = client_for(lambda _: httpx.Response(200, json={"data": []}))
    await client.list_index_backups("../backups")
    assert seen[0].url.raw_path.startswith(b"/indexes/..%2Fbackups/backups")


async def test_lists_the_index_names() -> None:
    body = {"indexes": [{"name": "prod-search", "status": {"ready": True}}, {"no": "name"}, {"name": "prod-recs"}]}
    client, seen = client_for(lambda _: httpx.Response(200, json=body))
    assert await client.list_index_names() == ["prod-search", "prod-recs"]
    assert seen[0].url.path == "/indexes"
