"""What every job state change reports: Prometheus metrics and one structured log event.

`report_state_changes` returns the hook `build_services` registers on the store
(`JobStore.on_state_change`): after a `create` or a `transition` has been committed it updates the
metrics (bot/app/metrics.py) and logs one `job.state_changed` event on the `restore_bot.jobs` logger.
Nothing is reported for a change the store refused (any StoreError).
"""

from __future__ import annotations

from typing import Any

import structlog

from bot.app.metrics import Metrics
from storage.base import StateChange, StateChangeHook

JOB_LOGGER = "restore_bot.jobs"


def report_state_changes(metrics: Metrics) -> StateChangeHook:
    def report(change: StateChange) -> None:
        job, decision = change.job, change.decision
        metrics.job_changed(change.before, job)
        event: dict[str, Any] = {
            "job_id": job.id,
            "index_name": job.index_name,
            "requester_id": job.requester_id,
            "from_state": change.before.value if change.before is not None else None,
            "to_state": job.state.value,
        }
        reason = change.reason
        if reason is None and decision is not None:
            reason = decision.reason
        if reason:
            event["reason"] = reason
        if decision is not None:
            event["decided_by"] = decision.by_user
        # Looked up per event (cheap), so a logging configuration made later always applies.
        structlog.get_logger(JOB_LOGGER).info("job.state_changed", **event)

    return report
