"""Metrics: the store's state-change hook against a real store (SQLite and PostgreSQL), the pool gauges, endpoint
templating, the counting seams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncServerErrorRetryHandler
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient
from structlog.testing import capture_logs

from bot.app.job_events import report_state_changes
from bot.app.metrics import Metrics
from bot.app.settings import Settings
from bot.app.wiring import build_services, slack_client
from bot.core.jobs import Decision, JobState, NewJob
from bot.pinecone import PineconeClient
from bot.pinecone.errors import NotFound, PineconeUnreachable
from bot.pinecone.transport import CountingTransport, pinecone_endpoint
from bot.slack.web_client import CountingWebClient
from storage import PoolStats, PostgresJobStore, SqliteJobStore, StaleJob, open_store
from storage.base import StateChange
from tests.fakes.fixtures import PINECONE_API_KEY, SLACK_BOT_TOKEN
from tests.fakes.ports import free_port
from tests.fakes.settings import in_process_settings
from tests.fakes.slack_api import SlackStandIn

BACKUP_ID = "a65ff585-d987-4da5-a622-72e19a6ed5f4"
AnyStore = SqliteJobStore | PostgresJobStore


def value(metrics: Metrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels)
    return 0.0 if found is None else found


def new_job(index_name: str = "restored-index") -> NewJob:
    return NewJob(backup_id=BACKUP_ID, index_name=index_name, requester_id="U0ALICE01", channel_id="C0RESTORE1")


@pytest_asyncio.fixture
async def sqlite(database_url: str) -> AsyncIterator[AnyStore]:
    """A real store of each kind (the name is from when SQLite was the only one)."""
    store = await open_store(database_url)
    yield store
    await store.close()


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def store(sqlite: AnyStore, metrics: Metrics) -> AnyStore:
    sqlite.on_state_change(report_state_changes(metrics))
    return sqlite


# -- the store's state-change hook ------------------------------------------------------------------------------


async def test_a_restore_moves_the_gauge_then_the_counter_and_the_duration(store: AnyStore, metrics: Metrics) -> None:
    job = await store.create(new_job())
    await metrics.refresh_jobs(store)
    assert value(metrics, "restore_bot_jobs", state="requested") == 1

    job = await store.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING)
    submitted = job.updated_at
    job = await store.transition(job.id, JobState.SUBMITTING, JobState.RESTORING, submitted_at=submitted)
    await metrics.refresh_jobs(store)
    assert value(metrics, "restore_bot_jobs", state="requested") == 0
    assert value(metrics, "restore_bot_jobs", state="restoring") == 1
    assert value(metrics, "restore_bot_restores_total", outcome="ready") == 0

    await store.transition(
        job.id, JobState.RESTORING, JobState.READY, finished_at=submitted + timedelta(seconds=90), host="h"
    )
    await metrics.refresh_jobs(store)
    assert value(metrics, "restore_bot_jobs", state="restoring") == 0
    assert value(metrics, "restore_bot_restores_total", outcome="ready") == 1
    assert value(metrics, "restore_bot_restore_duration_seconds_count") == 1
    assert value(metrics, "restore_bot_restore_duration_seconds_sum") == pytest.approx(90.0)
    assert value(metrics, "restore_bot_restore_duration_seconds_bucket", le="60.0") == 0
    assert value(metrics, "restore_bot_restore_duration_seconds_bucket", le="120.0") == 1


async def test_failed_and_timed_out_restores_are_timed_and_a_rejection_is_only_counted(
    store: AnyStore, metrics: Metrics
) -> None:
    for index_name, outcome in (("failing", JobState.FAILED), ("slow", JobState.TIMED_OUT)):
        job = await store.create(new_job(index_name))
        job = await store.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING)
        job = await store.transition(job.id, JobState.SUBMITTING, JobState.RESTORING, submitted_at=job.updated_at)
        assert job.submitted_at is not None
        await store.transition(
            job.id, JobState.RESTORING, outcome, finished_at=job.submitted_at + timedelta(hours=2), reason="r"
        )
    refused = await store.create(new_job("refused"))
    await store.transition(refused.id, JobState.REQUESTED, JobState.REJECTED, reason="the backup does not exist")

    assert value(metrics, "restore_bot_restores_total", outcome="failed") == 1
    assert value(metrics, "restore_bot_restores_total", outcome="timed_out") == 1
    assert value(metrics, "restore_bot_restores_total", outcome="rejected") == 1
    assert value(metrics, "restore_bot_restores_total", outcome="ready") == 0
    # Only restores Pinecone accepted have a duration.
    assert value(metrics, "restore_bot_restore_duration_seconds_count") == 2
    assert value(metrics, "restore_bot_restore_duration_seconds_sum") == pytest.approx(4 * 3600.0)
    await metrics.refresh_jobs(store)
    assert all(value(metrics, "restore_bot_jobs", state=s) == 0 for s in ("requested", "submitting", "restoring"))


@pytest.mark.parametrize(
    ("target", "decision"),
    [
        (JobState.REQUESTED, "approved"),
        (JobState.DENIED, "denied"),
        (JobState.CANCELLED, "cancelled"),
        (JobState.EXPIRED, "expired"),
    ],
)
async def test_leaving_awaiting_approval_observes_the_wait_by_decision(
    store: AnyStore, metrics: Metrics, target: JobState, decision: str
) -> None:
    job = await store.create(new_job(), state=JobState.AWAITING_APPROVAL, approvers=("U0BOB0001",))
    await metrics.refresh_jobs(store)
    assert value(metrics, "restore_bot_jobs", state="awaiting_approval") == 1

    await store.transition(
        job.id,
        JobState.AWAITING_APPROVAL,
        target,
        decided_by="U0BOB0001",
        decided_at=job.created_at + timedelta(seconds=45),
        decision=Decision(decision=decision, by_user="U0BOB0001", reason="incident 4711"),
    )

    assert value(metrics, "restore_bot_approval_wait_seconds_count", decision=decision) == 1
    assert value(metrics, "restore_bot_approval_wait_seconds_sum", decision=decision) == pytest.approx(45.0)
    others = {"approved", "denied", "cancelled", "expired"} - {decision}
    assert all(value(metrics, "restore_bot_approval_wait_seconds_count", decision=d) == 0 for d in others)
    final = 0 if target is JobState.REQUESTED else 1
    assert value(metrics, "restore_bot_restores_total", outcome=target.value) == final
    await metrics.refresh_jobs(store)
    assert value(metrics, "restore_bot_jobs", state="awaiting_approval") == 0


async def test_every_state_change_is_one_structured_log_event(store: AnyStore) -> None:
    with capture_logs() as events:
        job = await store.create(new_job())
        await store.transition(job.id, JobState.REQUESTED, JobState.REJECTED, reason="the backup is not ready")
        other = await store.create(new_job("other"), state=JobState.AWAITING_APPROVAL)
        await store.transition(
            other.id,
            JobState.AWAITING_APPROVAL,
            JobState.DENIED,
            decision=Decision(decision="denied", by_user="U0BOB0001", reason="not during the freeze"),
        )
        await store.update(job.id, percent_complete=10.0)  # not a state change: no event

    changes = [e for e in events if e["event"] == "job.state_changed"]
    assert len(changes) == len(events) == 4
    created, rejected, awaiting, denied = changes
    assert created == {
        "event": "job.state_changed",
        "log_level": "info",
        "job_id": job.id,
        "index_name": "restored-index",
        "requester_id": "U0ALICE01",
        "from_state": None,
        "to_state": "requested",
    }
    assert rejected["from_state"] == "requested" and rejected["to_state"] == "rejected"
    assert rejected["reason"] == "the backup is not ready"
    assert awaiting["to_state"] == "awaiting_approval" and "reason" not in awaiting
    assert denied["from_state"] == "awaiting_approval" and denied["to_state"] == "denied"
    assert denied["reason"] == "not during the freeze" and denied["decided_by"] == "U0BOB0001"


async def test_a_change_the_store_refuses_is_neither_counted_nor_logged(store: AnyStore, metrics: Metrics) -> None:
    job = await store.create(new_job())
    await store.transition(job.id, JobState.REQUESTED, JobState.REJECTED, reason="no")
    with capture_logs() as events, pytest.raises(StaleJob):
        await store.transition(job.id, JobState.REQUESTED, JobState.REJECTED, reason="again")
    assert events == []
    assert value(metrics, "restore_bot_restores_total", outcome="rejected") == 1


async def test_a_hook_that_fails_never_fails_the_saved_change(sqlite: AnyStore) -> None:
    seen: list[StateChange] = []

    def broken(change: StateChange) -> None:
        raise RuntimeError("a reporting bug")

    sqlite.on_state_change(broken)
    sqlite.on_state_change(seen.append)
    job = await sqlite.create(new_job())
    moved = await sqlite.transition(job.id, JobState.REQUESTED, JobState.REJECTED, reason="no")
    assert moved.state is JobState.REJECTED and (await sqlite.get(job.id)) == moved
    assert [(change.before, change.job.state) for change in seen] == [
        (None, JobState.REQUESTED),
        (JobState.REQUESTED, JobState.REJECTED),
    ], "a failing hook does not stop the next one"


# -- the store's pool ------------------------------------------------------------------------------------------


def test_the_pool_gauges_show_a_pool_and_nothing_without_one(metrics: Metrics) -> None:
    metrics.refresh_pool(None)  # SQLite: one connection, no pool
    text = metrics.render().decode()
    assert "restore_bot_store_pool_connections{" not in text and "restore_bot_store_pool_limit{" not in text
    metrics.refresh_pool(PoolStats(idle=3, in_use=2, min_size=2, max_size=10))
    assert value(metrics, "restore_bot_store_pool_connections", state="idle") == 3
    assert value(metrics, "restore_bot_store_pool_connections", state="in_use") == 2
    assert value(metrics, "restore_bot_store_pool_limit", bound="min") == 2
    assert value(metrics, "restore_bot_store_pool_limit", bound="max") == 10


# -- Pinecone ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "endpoint"),
    [
        (f"https://api.pinecone.io/backups/{BACKUP_ID}", "/backups/{backup_id}"),
        (f"https://api.pinecone.io/backups/{BACKUP_ID}/create-index", "/backups/{backup_id}/create-index"),
        ("https://api.pinecone.io/backups?limit=100&paginationToken=abc", "/backups"),
        ("https://api.pinecone.io/restore-jobs", "/restore-jobs"),
        ("https://api.pinecone.io/restore-jobs/rj-0001", "/restore-jobs/{job_id}"),
        ("https://api.pinecone.io/indexes/prod-search", "/indexes/{index_name}"),
        ("https://api.pinecone.io/indexes/backups", "/indexes/{index_name}"),  # an index named "backups"
        ("https://api.pinecone.io/indexes/prod-search/backups", "/indexes/{index_name}/backups"),
        ("https://api.pinecone.io/backups/", "/backups"),
        ("https://prod-search-abc123.svc.pinecone.io/describe_index_stats", "/describe_index_stats"),
        ("http://127.0.0.1:8080/data/prod-search-x.svc/describe_index_stats", "/describe_index_stats"),
        ("https://api.pinecone.io/collections/c1", "other"),
        ("https://api.pinecone.io/", "other"),
    ],
)
def test_endpoints_are_templated_never_raw_ids(url: str, endpoint: str) -> None:
    assert pinecone_endpoint(httpx.URL(url), httpx.URL("https://api.pinecone.io")) == endpoint


def test_a_controller_host_with_a_path_prefix_is_stripped_first() -> None:
    base = httpx.URL("https://proxy.example.com/pinecone/")
    assert pinecone_endpoint(httpx.URL(f"{base}backups/{BACKUP_ID}"), base) == "/backups/{backup_id}"
    assert pinecone_endpoint(httpx.URL(f"{base}indexes/backups"), base) == "/indexes/{index_name}"


def pinecone_with(metrics: Metrics, handler: Any, *, read_attempts: int = 1) -> PineconeClient:
    counting = CountingTransport(httpx.MockTransport(handler), metrics.pinecone_request, "https://api.pinecone.io")
    http = httpx.AsyncClient(base_url="https://api.pinecone.io", transport=counting)
    return PineconeClient(http, PINECONE_API_KEY, read_attempts=read_attempts, backoff_initial=0.0, backoff_max=0.0)


async def test_pinecone_attempts_are_counted_by_status_including_transport_errors(metrics: Metrics) -> None:
    answers: list[httpx.Response | Exception] = [
        httpx.Response(503, json={"error": {"code": "UNAVAILABLE", "message": "try later"}}),
        httpx.ConnectError("refused"),
        httpx.Response(404, json={"error": {"code": "NOT_FOUND", "message": "no such backup"}}),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    client = pinecone_with(metrics, handler, read_attempts=3)
    with pytest.raises(NotFound):
        await client.describe_backup(BACKUP_ID)  # 503, no answer, 404: three attempts, each counted

    def count(status: str) -> float:
        return value(
            metrics, "restore_bot_pinecone_requests_total", method="GET", endpoint="/backups/{backup_id}", status=status
        )

    assert (count("503"), count("error"), count("404")) == (1, 1, 1)

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    unreachable = pinecone_with(metrics, timeout)
    with pytest.raises(PineconeUnreachable):
        await unreachable.describe_index("prod-search")
    assert (
        value(
            metrics,
            "restore_bot_pinecone_requests_total",
            method="GET",
            endpoint="/indexes/{index_name}",
            status="error",
        )
        == 1
    )
    text = metrics.render().decode()
    assert BACKUP_ID not in text and "prod-search" not in text and PINECONE_API_KEY not in text
    await client.aclose()
    await unreachable.aclose()


# -- Slack -------------------------------------------------------------------------------------------


def settings_for(slack: SlackStandIn, tmp_path: Path) -> Settings:
    return in_process_settings(slack, tmp_path / "restore-bot.sqlite3")


async def test_slack_calls_are_counted_by_method_and_outcome(
    slack: SlackStandIn, tmp_path: Path, metrics: Metrics
) -> None:
    client = slack_client(settings_for(slack, tmp_path), metrics=metrics)
    assert isinstance(client, CountingWebClient)
    slack.add_channel("C0RESTORE1")  # the stand-in is strict: the channel exists

    await client.chat_postMessage(channel="C0RESTORE1", text="hello")
    slack.inject("chat.postMessage", status=200, error="channel_not_found")
    with pytest.raises(SlackApiError):
        await client.chat_postMessage(channel="C0NOWHERE", text="hello")
    with pytest.raises(SlackApiError):
        await client.chat_update(channel="C0RESTORE1", ts="1.000000", text="edit")  # no such message
    # Counted once per call, after slack_sdk's retries (here without their back-off, to stay quick).
    retrying = CountingWebClient(
        token=SLACK_BOT_TOKEN,
        base_url=slack.api_url,
        retry_handlers=[AsyncServerErrorRetryHandler(2, FixedValueRetryIntervalCalculator(0.0))],
        on_call=metrics.slack_request,
    )
    slack.inject("views.open", status=500, times=3)
    with pytest.raises(SlackApiError):
        await retrying.views_open(trigger_id="1.2.3", view={"type": "modal"})

    def count(method: str, status: str) -> float:
        return value(metrics, "restore_bot_slack_requests_total", method=method, status=status)

    assert count("chat.postMessage", "ok") == 1
    assert count("chat.postMessage", "channel_not_found") == 1
    assert count("chat.update", "message_not_found") == 1
    assert len(slack.calls_to("views.open")) == 3
    assert count("views.open", "http_500") == 1
    assert SLACK_BOT_TOKEN not in metrics.render().decode()


async def test_slack_calls_that_get_no_answer_are_errors(metrics: Metrics) -> None:
    client = CountingWebClient(
        token=SLACK_BOT_TOKEN,
        base_url=f"http://127.0.0.1:{free_port()}/",
        retry_handlers=[],
        on_call=metrics.slack_request,
    )
    with pytest.raises(Exception):  # noqa: B017 - aiohttp's connection error; which one is not the point
        await client.auth_test()
    assert value(metrics, "restore_bot_slack_requests_total", method="auth.test", status="error") == 1


async def test_build_services_wires_the_store_hook_and_the_counting_clients(
    slack: SlackStandIn, tmp_path: Path
) -> None:
    services = await build_services(settings_for(slack, tmp_path))
    try:
        assert isinstance(services.slack, CountingWebClient)
        assert services.slack.on_call == services.metrics.slack_request
        await services.slack.auth_test()
        refused = await services.store.create(new_job("refused"))
        await services.store.transition(refused.id, JobState.REQUESTED, JobState.REJECTED, reason="no")
        assert value(services.metrics, "restore_bot_restores_total", outcome="rejected") == 1, "the store's hook"
        await services.store.create(new_job())
        await services.metrics.refresh_jobs(services.store)
        families = {f.name: f for f in text_string_to_metric_families(services.metrics.render().decode())}
        assert {
            "restore_bot_restores",
            "restore_bot_restore_duration_seconds",
            "restore_bot_jobs",
            "restore_bot_pinecone_requests",
            "restore_bot_slack_requests",
            "restore_bot_ack_seconds",
            "restore_bot_approval_wait_seconds",
        } <= set(families)
        assert value(services.metrics, "restore_bot_jobs", state="requested") == 1
        assert value(services.metrics, "restore_bot_slack_requests_total", method="auth.test", status="ok") == 1
    finally:
        await services.close()


def test_each_metrics_object_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()  # would raise "Duplicated timeseries" on a shared registry
    first.slack_request("auth.test", "ok")
    assert value(second, "restore_bot_slack_requests_total", method="auth.test", status="ok") == 0


def test_without_metrics_the_clients_are_the_plain_ones(slack: SlackStandIn, tmp_path: Path) -> None:
    assert type(slack_client(settings_for(slack, tmp_path))) is AsyncWebClient
