"""The Pinecone client against httpx.MockTransport: headers, typed errors, retries."""

from __future__ import annotations

import json
from collections.abc import Callable

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
    assert seen[0].headers["X-Pinecone-Api-Version"] == "2026-04"
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
