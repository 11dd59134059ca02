"""What both job stores share: which fields may change, the SQL lists of states, the state-change hooks."""

from __future__ import annotations

import logging
from typing import Any

from bot.core.jobs import ACTIVE_STATES, THREADED_STATES, Job, NewJob
from storage.base import StateChange, StateChangeHook

log = logging.getLogger("storage")

#: Every column of `jobs` the stores read back into a `Job`, in the model's order.
COLUMNS = tuple(Job.model_fields)
#: What `update` and `transition` may set: not the identity of a job, not its state, not its times. One
#: exception: a request by intent is recorded before its backup is chosen, and gets its `backup_id` then.
UPDATABLE = frozenset(COLUMNS) - {"id", "state", "created_at", "updated_at", *NewJob.model_fields} | {"backup_id"}
#: `state IN (...)` lists, written out so that the partial indexes' predicates match them.
THREADED_SQL = ", ".join(f"'{state.value}'" for state in sorted(THREADED_STATES))
ACTIVE_SQL = ", ".join(f"'{state.value}'" for state in sorted(ACTIVE_STATES))


def check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise ValueError(f"not updatable job fields: {sorted(unknown)}")


class StateChangeHooks:
    """The hooks `JobStore.on_state_change` registers, called after a change has been committed."""

    def __init__(self) -> None:
        self._hooks: list[StateChangeHook] = []

    def add(self, hook: StateChangeHook) -> None:
        self._hooks.append(hook)

    def announce(self, change: StateChange) -> None:
        for hook in self._hooks:
            try:
                hook(change)
            except Exception:  # the change is saved; reporting it must not make the caller think otherwise
                log.exception("could not report the state change of job %s", change.job.id)
