"""Plumbing shared by the HTTP fakes: a loopback aiohttp server and a "wait until" helper.

Both fakes are real HTTP servers living in the pytest process's event loop while the bot under
test runs in a separate process.  Tests therefore cannot call into the bot; they can only observe
what the bot *sent*.  The two pieces here make that observation cheap and sleep-free:

* :class:`LoopbackServer` starts an ``aiohttp.web`` application on ``127.0.0.1`` with an
  ephemeral port, so parallel test runs never fight over ports.
* :class:`ChangeNotifier` lets a test ``await`` a condition over the recorded traffic.  Every
  recorded request wakes the waiters up (so the test resumes as soon as the bot acts), and an
  optional poll interval covers state that changes with the passage of time alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Self, TypeVar

from aiohttp import web

T = TypeVar("T")

__all__ = ["ChangeNotifier", "LoopbackServer"]


class ChangeNotifier:
    """Wakes up ``wait_for`` callers whenever the owner records something.

    ``asyncio.Condition`` is used instead of polling so that a test reacts to a request the moment
    it is recorded, which keeps the suite fast and free of arbitrary sleeps.
    """

    def __init__(self, describe: Callable[[], str], *, poll_interval: float | None = None) -> None:
        """``describe`` renders recent activity for the timeout message; ``poll_interval`` (seconds)
        forces a re-check even without notifications, for time-driven state."""
        self._condition = asyncio.Condition()
        self._describe = describe
        self._poll_interval = poll_interval

    async def notify(self) -> None:
        """Re-evaluate every pending ``wait_for`` predicate."""
        async with self._condition:
            self._condition.notify_all()

    async def wait_for(self, predicate: Callable[[], T | bool | None], timeout: float = 10.0) -> T:  # noqa: ASYNC109 - a deadline for the condition, not for I/O
        """Return the first truthy value of ``predicate()``.

        ``None``, ``False`` and any other falsy value (an empty list, for instance) mean "not yet",
        so ``lambda: slack.calls_to("chat.postMessage")`` waits for the first such call.  On timeout
        an ``AssertionError`` carrying a dump of the recent traffic is raised, because a timeout in
        a test almost always means "the bot did something else" and the traffic shows what.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._condition:
            while True:
                result = predicate()
                if result:
                    return result  # type: ignore[return-value]  # truthy, so neither None nor False
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise AssertionError(
                        f"condition not met within {timeout:.1f}s; recent traffic:\n{self._describe()}"
                    )
                if self._poll_interval is not None:
                    remaining = min(remaining, self._poll_interval)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._condition.wait(), timeout=remaining)


class LoopbackServer(ABC):
    """An ``aiohttp.web`` application served on ``127.0.0.1:<ephemeral port>``.

    Subclasses provide the application; this class owns start/stop so that both fakes behave the
    same way as async context managers.
    """

    def __init__(self) -> None:
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None

    @abstractmethod
    def _build_app(self) -> web.Application:
        """Create the application serving this fake's routes."""

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>`` (no trailing slash); only valid while started."""
        if self._base_url is None:
            raise RuntimeError(f"{type(self).__name__} is not started; use 'async with' or await start()")
        return self._base_url

    async def start(self) -> None:
        """Bind to an ephemeral loopback port and start serving."""
        if self._runner is not None:
            raise RuntimeError(f"{type(self).__name__} is already started")
        # A short shutdown timeout: a fault with a long delay must not hold up test teardown.
        runner = web.AppRunner(self._build_app(), handle_signals=False, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self._runner = runner
        self._base_url = f"http://{host}:{port}"

    async def close(self) -> None:
        """Stop serving; idempotent."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._base_url = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
