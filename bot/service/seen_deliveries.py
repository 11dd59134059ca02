"""Which Slack deliveries (trigger_id / event_id) the bot has already handled.

The check sits on Slack's 3-second ack path, so it is answered from memory. The keys are also
written to the store, in batches in the background, and read back at start-up, so a Slack retry
that arrives after a restart is still recognised. Writing them on the ack path, one durable
commit per request, made acks 12-25x slower than bare Bolt under load and contended with the
restores' own transactions (bench/ack_latency.py).

With several bot processes on one store (PostgreSQL), a retry may reach another process, whose memory has
never seen the key. There the work after the ack is claimed first (`claim`): the key is inserted in the
store with this process as its holder, and only the process that recorded it (by its claim or its batch)
does the work. The ack itself still waits on nothing. Claims are written together: while one batch is in
the store, the next collects, so a burst of commands costs a few transactions, not one each.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta

from bot.core.jobs import utcnow
from storage.base import JobStore, StoreUnavailable

log = logging.getLogger(__name__)

REMEMBER_FOR = timedelta(days=1)
FLUSH_EVERY = 0.2
# How often a claim or a save also forgets the keys older than REMEMBER_FOR (a DELETE: not on every write).
FORGET_EVERY = 60.0


class SeenDeliveries:
    def __init__(
        self,
        store: JobStore,
        *,
        remember_for: timedelta = REMEMBER_FOR,
        clock: Callable[[], float] = time.monotonic,
        shared: bool | None = None,
        holder: str | None = None,
    ) -> None:
        """`shared`: whether other processes use the store too (None: as the store says); `holder`: this
        process's name in the store."""
        self._store = store
        self._remember_for = remember_for
        self._clock = clock
        # In the order the keys expire (every key lives `remember_for` from when it was noted), so
        # forgetting the expired ones only ever looks at the front: O(1) per ack, however many are kept.
        self._expires: OrderedDict[str, float] = OrderedDict()
        self._unsaved: list[str] = []
        self._pending = asyncio.Event()
        # Other processes share the store: the work after an ack is claimed there first (`claim`).
        self._shared = store.shared if shared is None else shared
        self._holder = holder or f"process-{secrets.token_hex(6)}"
        self._claims: list[tuple[str, asyncio.Future[bool]]] = []
        self._claiming: asyncio.Task[None] | None = None
        self._forgotten_at = clock()

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

    async def claim(self, key: str) -> bool:
        """Whether this process should do the work of the delivery `key` (after its ack): always, when no other
        process shares the store (memory decided); otherwise only if the store had not recorded the key for
        another process. When the store cannot be reached the work goes ahead (its own writes then fail the
        same way)."""
        if not self._shared:
            return True
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._claims.append((key, answer))
        if self._claiming is None:
            self._claiming = asyncio.create_task(self._claim_batches(), name="claim Slack deliveries")
        return await answer

    async def _claim_batches(self) -> None:
        try:
            while self._claims:
                batch, self._claims = self._claims, []
                keys = [key for key, _ in batch]
                forget = self._due_to_forget()
                now = utcnow()
                try:
                    claimed = await self._store.claim_deliveries(
                        keys, holder=self._holder, now=now, forget_before=now - self._remember_for if forget else None
                    )
                except StoreUnavailable as exc:
                    log.warning(
                        "could not claim %d Slack deliveries in the store; handling them here: %s", len(keys), exc
                    )
                    claimed = set(keys)
                except Exception as exc:
                    for _, answer in batch:
                        if not answer.done():
                            answer.set_exception(exc)
                    continue
                if forget:
                    self._forgotten_at = self._clock()
                for key, answer in batch:
                    if key not in claimed:
                        log.info("Slack delivery %s was handled by another process; nothing more is done here", key)
                    if not answer.done():
                        answer.set_result(key in claimed)
        finally:
            self._claiming = None

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
        forget = self._due_to_forget()
        try:
            await self._store.record_deliveries(
                batch, forget_before=utcnow() - self._remember_for if forget else None, holder=self._holder
            )
        except StoreUnavailable as exc:
            # Memory still has them; only a restart in the meantime could let a retry through.
            log.warning("could not save %d Slack delivery keys; will try again: %s", len(batch), exc)
            self._unsaved = batch + self._unsaved
            return
        if forget:
            self._forgotten_at = self._clock()

    def _due_to_forget(self) -> bool:
        return (self._clock() - self._forgotten_at) >= FORGET_EVERY

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
