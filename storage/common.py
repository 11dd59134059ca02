"""What both job stores share: which fields may change, the SQL lists of states, the state-change hooks, and the
coordination of a store only one process uses."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.core.jobs import ACTIVE_STATES, THREADED_STATES, Job, NewJob
from storage.base import StateChange, StateChangeHook, StoreUnavailable, Subscriber

log = logging.getLogger("storage")

#: Every column of `jobs` the stores read back into a `Job`, in the model's order.
COLUMNS = tuple(Job.model_fields)
#: What `update` and `transition` may set: not the identity of a job, not its state, not its times. One
#: exception: a request by intent is recorded before its backup is chosen, and gets its `backup_id` then.
UPDATABLE = frozenset(COLUMNS) - {"id", "state", "created_at", "updated_at", *NewJob.model_fields} | {"backup_id"}
#: `state IN (...)` lists, written out so that the partial indexes' predicates match them.
THREADED_SQL = ", ".join(f"'{state.value}'" for state in sorted(THREADED_STATES))
ACTIVE_SQL = ", ".join(f"'{state.value}'" for state in sorted(ACTIVE_STATES))
#: The row of the `leadership` table for the background work (the tracker and the Slack sender).
LEADERSHIP = "background"


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


class Subscribers:
    """Who hears what is published; one that raises is logged, never the publisher's problem."""

    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []

    def add(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def tell(self, topic: str, payload: str) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber(topic, payload)
            except Exception:
                log.exception("a subscriber failed on %s", topic)


class LocalCoordination:
    """The coordination of a store one process uses (SQLite): that process always leads, and what it publishes
    it hears at once. Leading still bumps the store's epoch (`bump`), once."""

    def __init__(self, holder: str, bump: Callable[[str], Awaitable[int]]) -> None:
        self._holder = holder
        self._bump = bump
        self._epoch: int | None = None
        self._subscribers = Subscribers()

    @property
    def epoch(self) -> int | None:
        return self._epoch

    async def try_lead(self) -> int | None:
        if self._epoch is None:
            try:
                self._epoch = await self._bump(self._holder)
            except StoreUnavailable as exc:
                log.warning("could not record the leadership of the background work: %s", exc)
                return None
        return self._epoch

    async def still_leading(self) -> bool:
        return self._epoch is not None

    def on_lost(self, callback: Callable[[], None]) -> None:
        pass  # nothing to lose: no other process can take it

    async def resign(self) -> None:
        self._epoch = None

    async def listen(self) -> bool:
        return True

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.add(subscriber)

    async def publish(self, topic: str, payload: str = "") -> None:
        self._subscribers.tell(topic, payload)

    async def close(self) -> None:
        self._epoch = None
