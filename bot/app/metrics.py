"""Prometheus metrics: restores, job states, approval waits, Slack acks, Pinecone and Slack calls.

Everything lives in one `Metrics` object with its own `CollectorRegistry` (never the library's global
default), so tests and several apps in one process do not collide. `GET /metrics` (bot/app/server.py)
serves `Metrics.render()` after refreshing the job gauge from the store.

Where each metric is fed:

* `job_changed`, hooked on the store by `report_state_changes` (bot/app/job_events.py):
  restores_total, restore_duration_seconds, approval_wait_seconds, on every state change the store makes;
* `Metrics.refresh_jobs`: the `jobs{state}` gauge, counted from the store's active jobs at scrape time;
* `CountingTransport` (bot/pinecone/transport.py): every HTTP attempt the Pinecone client makes
  (retries count one each), through `Metrics.pinecone_request`;
* `CountingWebClient` (bot/slack/web_client.py): every Slack Web API call, once, after slack_sdk's own
  retries, through `Metrics.slack_request`;
* the Slack sender (bot/service/delivery.py): slack_deliveries_dropped_total, once per delivery it gives
  up on (a permanent refusal, or its retries used up), through `Metrics.slack_delivery_dropped`;
* the aiohttp middleware in bot/app/server.py: ack_seconds for `POST /slack/events`;
* the tracker (bot/service/tracker.py): tracker_cycles_total and tracker_cycle_seconds, once per polling cycle;
* `Metrics.refresh_pool`: store_pool_connections{state} and store_pool_limit{bound}, from the store's
  connection pool at scrape time (PostgreSQL only: SQLite has one connection and no samples here).

Label values are bounded: job states, HTTP methods, templated Pinecone paths (never an ID or a
name), Slack method names and Slack error codes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from bot.core.jobs import ACTIVE_STATES, Job, JobState

if TYPE_CHECKING:
    from storage.base import JobStore, PoolStats

CONTENT_TYPE = CONTENT_TYPE_LATEST

# From a quick restore to Pinecone's documented ~5 hours for 100M vectors (the default timeout is 6 h).
RESTORE_BUCKETS = (30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 10800.0, 14400.0, 21600.0)
# Slack gives up on an ack after 3 s.
ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 2.5, 3.0)
# A tracking cycle is one list of restore jobs per 100 tracked plus the reads for jobs that finished.
CYCLE_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
# Approval timeouts default to an hour and may be set longer.
APPROVAL_BUCKETS = (10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 86400.0)

FINAL_STATES = tuple(state for state in JobState if state.final)
GAUGED_STATES = tuple(state for state in JobState if state in ACTIVE_STATES)
TIMED_OUTCOMES = frozenset({JobState.READY, JobState.FAILED, JobState.TIMED_OUT})
# Leaving awaiting_approval: the decision that moved the job, by where it went.
DECISIONS: dict[JobState, str] = {
    JobState.REQUESTED: "approved",
    JobState.DENIED: "denied",
    JobState.CANCELLED: "cancelled",
    JobState.EXPIRED: "expired",
}


class Metrics:
    """The bot's metrics, registered in a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.restores = Counter(
            "restore_bot_restores", "Jobs that reached a final state, by that state.", ["outcome"], registry=r
        )
        self.restore_duration = Histogram(
            "restore_bot_restore_duration_seconds",
            "From create-index being sent (submitted_at) to ready, failed or timed_out.",
            buckets=RESTORE_BUCKETS,
            registry=r,
        )
        self.jobs = Gauge(
            "restore_bot_jobs", "Jobs in each active state, counted from the store.", ["state"], registry=r
        )
        self.pinecone_requests = Counter(
            "restore_bot_pinecone_requests",
            "HTTP attempts to Pinecone by method, templated endpoint and status (error: no HTTP answer).",
            ["method", "endpoint", "status"],
            registry=r,
        )
        self.slack_requests = Counter(
            "restore_bot_slack_requests",
            "Slack Web API calls by method and outcome (ok, the Slack error code, http_<status>, error).",
            ["method", "status"],
            registry=r,
        )
        self.slack_deliveries_dropped = Counter(
            "restore_bot_slack_deliveries_dropped",
            "Slack deliveries given up on (parent, redraw, notice), by Slack's last error code.",
            ["delivery", "error"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "restore_bot_ack_seconds",
            "From receiving POST /slack/events to answering it.",
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.approval_wait = Histogram(
            "restore_bot_approval_wait_seconds",
            "From a request awaiting approval being created to its decision.",
            ["decision"],
            buckets=APPROVAL_BUCKETS,
            registry=r,
        )
        self.tracker_cycles = Counter(
            "restore_bot_tracker_cycles",
            "Tracking cycles completed (each polls every due active job once).",
            registry=r,
        )
        self.tracker_cycle_seconds = Histogram(
            "restore_bot_tracker_cycle_seconds", "Wall time of one tracking cycle.", buckets=CYCLE_BUCKETS, registry=r
        )
        # Only a store with a pool (PostgreSQL) gives these samples; they are set at scrape time.
        self.store_pool_connections = Gauge(
            "restore_bot_store_pool_connections",
            "Connections the job store's pool holds open, idle or in use (PostgreSQL).",
            ["state"],
            registry=r,
        )
        self.store_pool_limit = Gauge(
            "restore_bot_store_pool_limit",
            "The job store pool's bounds: connections kept open (min) and at most (max) (PostgreSQL).",
            ["bound"],
            registry=r,
        )
        # Known label values start at zero, so rate() and increase() see the first event.
        for state in FINAL_STATES:
            self.restores.labels(outcome=state.value)
        for state in GAUGED_STATES:
            self.jobs.labels(state=state.value).set(0)
        for decision in DECISIONS.values():
            self.approval_wait.labels(decision=decision)

    def render(self) -> bytes:
        return generate_latest(self.registry)

    # -- jobs --------------------------------------------------------------------------------------

    def job_changed(self, before: JobState | None, job: Job) -> None:
        """A job was created (`before` None) or moved from `before` to `job.state`."""
        if before is None or before is job.state:
            return
        if job.state.final:
            self.restores.labels(outcome=job.state.value).inc()
        if job.state in TIMED_OUTCOMES and job.submitted_at is not None:
            end = job.finished_at or job.updated_at
            self.restore_duration.observe(max(0.0, (end - job.submitted_at).total_seconds()))
        if before is JobState.AWAITING_APPROVAL and job.state in DECISIONS:
            decided = job.decided_at or job.updated_at
            wait = max(0.0, (decided - job.created_at).total_seconds())
            self.approval_wait.labels(decision=DECISIONS[job.state]).observe(wait)

    async def refresh_jobs(self, store: JobStore) -> None:
        """Set `jobs{state}` from the store's active jobs (final states are the counter's job)."""
        counts = dict.fromkeys(GAUGED_STATES, 0)
        for job in await store.active_jobs():
            counts[job.state] = counts.get(job.state, 0) + 1
        for state, count in counts.items():
            self.jobs.labels(state=state.value).set(count)

    def refresh_pool(self, stats: PoolStats | None) -> None:
        """Set the pool gauges from the store's pool (nothing for a store without one)."""
        if stats is None:
            return
        self.store_pool_connections.labels(state="idle").set(stats.idle)
        self.store_pool_connections.labels(state="in_use").set(stats.in_use)
        self.store_pool_limit.labels(bound="min").set(stats.min_size)
        self.store_pool_limit.labels(bound="max").set(stats.max_size)

    # -- outbound calls ----------------------------------------------------------------------------

    def pinecone_request(self, method: str, endpoint: str, status: str) -> None:
        self.pinecone_requests.labels(method=method, endpoint=endpoint, status=status).inc()

    def slack_request(self, method: str, status: str) -> None:
        self.slack_requests.labels(method=method, status=status).inc()

    def slack_delivery_dropped(self, delivery: str, error: str) -> None:
        self.slack_deliveries_dropped.labels(delivery=delivery, error=error[:64]).inc()

    def tracker_cycle(self, seconds: float) -> None:
        self.tracker_cycle_seconds.observe(seconds)
        self.tracker_cycles.inc()
