"""Slack's acks go first: the work a burst of commands starts waits until the burst has been answered.

Acks and the work they start share one event loop. In a burst of slash commands (an incident: many
people, many restores at once) every valid command used to start its restore at once, and the restores'
store writes, Pinecone calls and log lines took turns on the loop with the acks still waiting to be
answered (bench/ack_latency.py). Now the request is recorded at once (one store write, so a crash cannot
lose an acked request) and the rest of that work takes `Turns`:

* a turn starts once no Slack request has been answered for `quiet_after` seconds (the burst is over),
  or after `max_wait` seconds at the latest, so a steady stream of acks delays the work by at most that
  and never starves it;
* each kind of work has its own few slots (`AckPriority.turns`); the rest queue in arrival order, so when
  a long burst outlasts `max_wait` the queued work joins the acks a few at a time, not hundreds at once.

The leader's background work waits the same way before each round (`after_acks`): the Slack sender's and
the tracker's, so that on the replica that leads, a burst's answers do not take turns with the parents and
updates of the restores it started.

`answering()` is entered by the HTTP front door (bot/app/server.py) for every `POST /slack/events`. In
Socket Mode nothing enters it, so turns only queue for their slots.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

# No Slack request answered for this long: the burst is over. An ack takes well under a millisecond of
# the loop, so inside a burst the gaps between answers are far shorter than this.
QUIET_AFTER = 0.05
# Slack gives an ack 3 s; a restore waiting this long for a quiet moment is invisible next to its minutes.
MAX_WAIT = 2.0


class AckPriority:
    def __init__(self, *, max_wait: float = MAX_WAIT, quiet_after: float = QUIET_AFTER) -> None:
        self._answering = 0
        self._last_answer = 0.0
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._check: asyncio.TimerHandle | None = None
        self._max_wait = max_wait
        self._quiet_after = quiet_after

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Around the answer to one Slack request."""
        self._answering += 1
        self._quiet.clear()
        try:
            yield
        finally:
            self._answering -= 1
            loop = asyncio.get_running_loop()
            self._last_answer = loop.time()
            # One timer at a time, not one per ack: it re-arms itself for as long as acks keep coming.
            if self._check is None:
                self._check = loop.call_later(self._quiet_after, self._check_quiet)

    def _check_quiet(self) -> None:
        self._check = None
        if self._answering:
            return  # the answer in progress arms the next check
        loop = asyncio.get_running_loop()
        idle = loop.time() - self._last_answer
        if idle >= self._quiet_after:
            self._quiet.set()
        else:
            self._check = loop.call_later(self._quiet_after - idle, self._check_quiet)

    @property
    def quiet(self) -> bool:
        """No Slack request answered in the last `quiet_after` seconds."""
        return self._quiet.is_set()

    async def after_acks(self) -> None:
        """Return once no Slack request has been answered for `quiet_after` seconds, or after `max_wait`."""
        if not self._quiet.is_set():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._max_wait):
                    await self._quiet.wait()

    def turns(self, slots: int) -> Turns:
        """A kind of work that runs at most `slots` at a time, each once the acks are answered."""
        return Turns(self, slots)


class Turns:
    def __init__(self, acks: AckPriority, slots: int) -> None:
        self._acks = acks
        self._slots = asyncio.Semaphore(slots)

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        async with self._slots:
            await self._acks.after_acks()
            yield
