"""A JobStore that reports every state change: Prometheus metrics and one structured log event.

`ObservedJobStore` wraps any `JobStore` and delegates everything to it. After a `create` or a
`transition` has succeeded, it updates the metrics (bot/app/metrics.py) and logs one
`job.state_changed` event on the `restore_bot.jobs` logger. Nothing is reported for a change the
store refused (any StoreError), and a failure to report never turns a
saved change into an error for the caller.

`build_services` wraps the store, so every component (request path, approvals, tracker, delivery)
goes through it.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

import structlog

from bot.app.metrics import Metrics
from bot.core.jobs import Decision, DueDelivery, Job, JobState, NewJob, Notice, PendingNotice
from storage.base import JobStore

JOB_LOGGER = "restore_bot.jobs"
_fallback = logging.getLogger(__name__)


class ObservedJobStore:
    def __init__(self, inner: JobStore, metrics: Metrics) -> None:
        self._inner = inner
        self.metrics = metrics

    @property
    def inner(self) -> JobStore:
        """The wrapped store (e.g. for SQLite-only helpers such as `events`)."""
        return self._inner

    # -- the two calls that change a job's state ---------------------------------------------------

    async def create(self, job: NewJob, *, state: JobState = JobState.REQUESTED, **fields: Any) -> Job:
        created = await self._inner.create(job, state=state, **fields)
        self._observe(None, created, fields.get("reason"), None)
        return created

    async def transition(
        self,
        job_id: str,
        expected: JobState,
        target: JobState,
        *,
        notices: tuple[Notice, ...] = (),
        decision: Decision | None = None,
        **fields: Any,
    ) -> Job:
        job = await self._inner.transition(job_id, expected, target, notices=notices, decision=decision, **fields)
        self._observe(expected, job, fields.get("reason"), decision)
        return job

    def _observe(self, before: JobState | None, job: Job, reason: str | None, decision: Decision | None) -> None:
        try:
            self.metrics.job_changed(before, job)
            event: dict[str, Any] = {
                "job_id": job.id,
                "index_name": job.index_name,
                "requester_id": job.requester_id,
                "from_state": before.value if before is not None else None,
                "to_state": job.state.value,
            }
            if reason is None and decision is not None:
                reason = decision.reason
            if reason:
                event["reason"] = reason
            if decision is not None:
                event["decided_by"] = decision.by_user
            # Looked up per event (cheap), so a logging configuration made later always applies.
            structlog.get_logger(JOB_LOGGER).info("job.state_changed", **event)
        except Exception:  # the change is saved; reporting it must not make the caller think otherwise
            _fallback.exception("could not report the state change of job %s", job.id)

    # -- plain delegation ----------------------------------------------------------------------------

    async def get(self, job_id: str) -> Job | None:
        return await self._inner.get(job_id)

    async def update(self, job_id: str, *, notices: tuple[Notice, ...] = (), **fields: Any) -> Job:
        return await self._inner.update(job_id, notices=notices, **fields)

    async def deliveries_due(self, now: datetime) -> list[DueDelivery]:
        return await self._inner.deliveries_due(now)

    async def claim_parent_redraw(self, job_id: str) -> bool:
        return await self._inner.claim_parent_redraw(job_id)

    async def pending_notices(self, job_id: str) -> list[PendingNotice]:
        return await self._inner.pending_notices(job_id)

    async def notice_sending(self, notice_id: int) -> None:
        await self._inner.notice_sending(notice_id)

    async def notice_sent(self, notice_id: int) -> None:
        await self._inner.notice_sent(notice_id)

    async def notice_failed(self, notice_id: int, retry_at: datetime, error: str) -> None:
        await self._inner.notice_failed(notice_id, retry_at, error)

    async def record_deliveries(self, keys: list[str], *, forget_before: datetime) -> None:
        await self._inner.record_deliveries(keys, forget_before=forget_before)

    async def delivery_keys_since(self, since: datetime) -> set[str]:
        return await self._inner.delivery_keys_since(since)

    async def active_jobs(self) -> list[Job]:
        return await self._inner.active_jobs()

    async def decisions(self, job_id: str) -> list[Decision]:
        return await self._inner.decisions(job_id)

    async def latest_for_index(self, index_name: str) -> Job | None:
        return await self._inner.latest_for_index(index_name)

    async def recent_in_channel(self, channel_id: str, limit: int = 10) -> list[Job]:
        return await self._inner.recent_in_channel(channel_id, limit)

    async def recent_jobs(
        self, *, index_name: str | None = None, requester_id: str | None = None, limit: int = 20
    ) -> list[Job]:
        return await self._inner.recent_jobs(index_name=index_name, requester_id=requester_id, limit=limit)

    async def close(self) -> None:
        await self._inner.close()


def observe(store: JobStore, metrics: Metrics) -> ObservedJobStore:
    """`store`, reporting to `metrics`; a store already observed is unwrapped first, never wrapped twice."""
    if isinstance(store, ObservedJobStore):
        store = store.inner
    return ObservedJobStore(store, metrics)
