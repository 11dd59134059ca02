"""GET /metrics on the real bot: restores by outcome, job states, Pinecone and Slack calls, ack latency."""

from __future__ import annotations

import math
from collections.abc import Callable

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.fakes.fixtures import PINECONE_API_KEY, SLACK_BOT_TOKEN
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents
from tests.fakes.workspace import SIGNING_SECRET

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
TEMPLATED_ENDPOINTS = {
    "/backups",
    "/backups/{backup_id}",
    "/backups/{backup_id}/create-index",
    "/restore-jobs",
    "/restore-jobs/{job_id}",
    "/indexes",
    "/indexes/{index_name}",
    "/indexes/{index_name}/backups",
    "/describe_index_stats",
}


class Scrape:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self.text = response.text
        self.samples: Samples = {}
        for family in text_string_to_metric_families(self.text):
            for sample in family.samples:
                self.samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def __call__(self, name: str, **labels: str) -> float:
        return self.samples.get((name, frozenset(labels.items())), 0.0)

    def labels_of(self, name: str) -> list[dict[str, str]]:
        return [dict(labels) for (sample, labels) in self.samples if sample == name]

    def total(self, name: str, **labels: str) -> float:
        """The sum over every series of `name` whose labels include `labels`."""
        wanted = set(labels.items())
        return sum(v for (sample, have), v in self.samples.items() if sample == name and wanted <= have)


async def scrape(bot: BotProcess) -> Scrape:
    async with httpx.AsyncClient(base_url=bot.url, timeout=10.0) as client:
        response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    return Scrape(response)


async def scrape_until(bot: BotProcess, pinecone: PineconeEmulator, ready: Callable[[Scrape], bool]) -> Scrape:
    """Scrape again after each request the bot makes to Pinecone (the tracker polls) until `ready`."""
    latest = await scrape(bot)
    for _ in range(200):
        if ready(latest):
            return latest
        await pinecone.wait_for(more_calls_than(pinecone, len(pinecone.calls())))
        latest = await scrape(bot)
    raise AssertionError(f"the metrics never got there:\n{latest.text}")


def more_calls_than(pinecone: PineconeEmulator, seen: int) -> Callable[[], bool]:
    return lambda: len(pinecone.calls()) > seen


def job_states(bot: BotProcess) -> dict[str, str]:
    return {job["index_name"]: job["state"] for job in bot.jobs()}


async def test_metrics_after_a_ready_and_a_failed_restore(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    good = pinecone.add_backup(source_index_name="prod-search")
    pinecone.set_restore_duration(good["backup_id"], 0.3)
    bad = pinecone.add_backup(source_index_name="prod-search")
    pinecone.fail_restore(bad["backup_id"])
    pinecone.set_restore_duration(bad["backup_id"], 0.3)
    slow = pinecone.add_backup(source_index_name="prod-search")
    pinecone.set_restore_duration(slow["backup_id"], math.inf)  # still restoring while we look

    before = await scrape(bot)
    assert before("restore_bot_restores_total", outcome="ready") == 0
    assert before("restore_bot_ack_seconds_count") == 0

    commands = [
        await bot.command(f"{good['backup_id']} restored-good"),
        await bot.command(f"{bad['backup_id']} restored-bad"),
        await bot.command(f"{slow['backup_id']} restored-slow"),
        await bot.command("help"),
    ]
    assert all(c.response.status_code == 200 for c in commands)
    await pinecone.wait_for(
        lambda: job_states(bot) == {"restored-good": "ready", "restored-bad": "failed", "restored-slow": "restoring"},
        timeout=20,
    )

    metrics = await scrape_until(
        bot,
        pinecone,
        lambda m: (
            m("restore_bot_restores_total", outcome="ready") == 1
            and m("restore_bot_restores_total", outcome="failed") == 1
        ),
    )

    # Restores by outcome, and how long the two finished ones took.
    assert metrics("restore_bot_restores_total", outcome="ready") == 1
    assert metrics("restore_bot_restores_total", outcome="failed") == 1
    for outcome in ("timed_out", "rejected", "denied", "cancelled", "expired"):
        assert metrics("restore_bot_restores_total", outcome=outcome) == 0, outcome
    assert metrics("restore_bot_restore_duration_seconds_count") == 2
    assert metrics("restore_bot_restore_duration_seconds_bucket", le="30.0") == 2

    # Jobs by state, from the store at scrape time.
    assert metrics("restore_bot_jobs", state="restoring") == 1
    for state in ("awaiting_approval", "requested", "submitting"):
        assert metrics("restore_bot_jobs", state=state) == 0, state

    # Tracking cycles: counted once each, with their duration.
    cycles = metrics("restore_bot_tracker_cycles_total")
    assert cycles >= 1 and metrics("restore_bot_tracker_cycle_seconds_count") in (cycles, cycles + 1)

    # Pinecone: every attempt by method, templated endpoint and status; no ID or name as a label.
    create = "restore_bot_pinecone_requests_total"
    assert metrics(create, method="POST", endpoint="/backups/{backup_id}/create-index", status="202") == 3
    assert metrics(create, method="GET", endpoint="/backups/{backup_id}", status="200") >= 3
    assert metrics.total(create, endpoint="/restore-jobs") >= 2
    assert {labels["endpoint"] for labels in metrics.labels_of(create)} <= TEMPLATED_ENDPOINTS
    assert metrics.total(create) <= len(pinecone.calls())

    # Slack: calls by method and outcome, never more than the stand-in saw.
    posted = metrics("restore_bot_slack_requests_total", method="chat.postMessage", status="ok")
    assert 3 <= posted <= len([c for c in slack.calls_to("chat.postMessage") if c.ok])
    assert len(parents(slack, "C0RESTORE1")) == 3

    # Acks: one observation per POST /slack/events, all inside Slack's 3 seconds.
    assert metrics("restore_bot_ack_seconds_count") == len(commands)
    assert metrics("restore_bot_ack_seconds_bucket", le="3.0") == len(commands)

    # Each state change is also one structured log event.
    failed = [line for line in bot.log_lines if "job.state_changed" in line and "restored-bad" in line]
    assert len(failed) == 4 and "failed" in failed[-1]

    # Nothing secret, and no raw identifiers.
    for secret in (SIGNING_SECRET, SLACK_BOT_TOKEN, PINECONE_API_KEY):
        assert secret not in metrics.text
    for identifier in (good["backup_id"], bad["backup_id"], "restored-good", "prod-search"):
        assert identifier not in metrics.text


async def test_pinecone_errors_and_slack_errors_are_counted(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    pinecone.inject("GET", f"/backups/{backup['backup_id']}", status=503, times=1)
    pinecone.inject("GET", "/restore-jobs", status=500, drop_connection=True)  # no HTTP answer at all
    slack.inject("chat.postMessage", status=200, error="channel_not_found", times=1)

    await bot.command(f"{backup['backup_id']} restored-index")
    await pinecone.wait_for(lambda: job_states(bot) == {"restored-index": "ready"}, timeout=20)
    metrics = await scrape_until(
        bot,
        pinecone,
        lambda m: m("restore_bot_slack_requests_total", method="chat.postMessage", status="channel_not_found") == 1,
    )

    endpoint = "/backups/{backup_id}"
    assert metrics("restore_bot_pinecone_requests_total", method="GET", endpoint=endpoint, status="503") == 1
    assert metrics("restore_bot_pinecone_requests_total", method="GET", endpoint=endpoint, status="200") >= 1
    dropped = {"method": "GET", "endpoint": "/restore-jobs", "status": "error"}
    assert metrics("restore_bot_pinecone_requests_total", **dropped) == 1
    assert metrics("restore_bot_restores_total", outcome="ready") == 1


async def test_metrics_are_served_in_socket_mode_too(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    async with start_bot(SLACK_APP_TOKEN=slack.app_token, SLACK_SIGNING_SECRET=None) as bot:
        await slack.wait_for(lambda: slack.socket_connected)
        metrics = await scrape(bot)
        assert metrics("restore_bot_jobs", state="restoring") == 0
        assert "restore_bot_restores_total" in metrics.text
        assert metrics("restore_bot_ack_seconds_count") == 0  # Socket Mode acks do not go over HTTP
        assert slack.app_token not in metrics.text and SLACK_BOT_TOKEN not in metrics.text
