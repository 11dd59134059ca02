"""Which Slack deliveries (trigger_id / event_id) the bot has already handled.

The check sits on Slack's 3-second ack path, so it is answered from memory. The keys are also
written to the store, in batches in the background, and read back at start-up, so a Slack retry
that arrives after a restart is still recognised. Writing them on the ack path, one durable
commit per request, made acks 12-25x slower than bare Bolt under load and contended with the
restores' own transactions (bench/ack_latency.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta

from bot.core.jobs import utcnow
from storage.base import JobStore, StoreUnavailable

log = logging.getLogger(__name__)

REMEMBER_FOR = timedelta(days=1)
FLUSH_EVERY = 0.2


class SeenDeliveries:
    def __init__(
        self,
        store: JobStore,
        *,
        remember_for: timedelta = REMEMBER_FOR,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._remember_for = remember_for
        self._clock = clock
        # In the order the keys expire (every key lives `remember_for` from when it was noted), so
        # forgetting the expired ones only ever looks at the front: O(1) per ack, however many are kept.
        self._expires: OrderedDict[str, float] = OrderedDict()
        self._unsaved: list[str] = []
        self._pending = asyncio.Event()

    async def load(self) -> None:
        """Read the keys of the last day from the store (at start-up)."""
        keys = await self._store.delivery_keys_since(utcnow() - self._remember_for)
        expiry = self._clock() + self._remember_for.total_seconds()
        for key in keys:
            self._expires.setdefault(key, expiry)

    def first_time(self, key: str) -> bool:
        """True the first time `key` is seen (and records it); False for a repeat."""
        now = self._clock()
        self._forget_expired(now)
        if key in self._expires:
            return False
        self._expires[key] = now + self._remember_for.total_seconds()
        self._unsaved.append(key)
        self._pending.set()
        return True

    def __len__(self) -> int:
        return len(self._expires)

    def _forget_expired(self, now: float) -> None:
        while self._expires:
            key, expiry = next(iter(self._expires.items()))
            if expiry > now:
                return
            del self._expires[key]

    async def flush(self) -> None:
        """Write the keys not saved yet, in one transaction."""
        if not self._unsaved:
            return
        batch, self._unsaved = self._unsaved, []
        try:
            await self._store.record_deliveries(batch, forget_before=utcnow() - self._remember_for)
        except StoreUnavailable as exc:
            # Memory still has them; only a restart in the meantime could let a retry through.
            log.warning("could not save %d Slack delivery keys; will try again: %s", len(batch), exc)
            self._unsaved = batch + self._unsaved

    async def run(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            waiters = [asyncio.ensure_future(self._pending.wait()), asyncio.ensure_future(stopping.wait())]
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waiters:
                waiter.cancel()
            self._pending.clear()
            await self.flush()
            await asyncio.sleep(FLUSH_EVERY)  # batch whatever arrives meanwhile into the next write
        await self.flush()
