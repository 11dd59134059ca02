"""Work that continues after Slack has been answered, tracked so shutdown can wait for it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from bot.service.unexpected_errors import log_unexpected

log = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        #: Set once shutdown began: new restore requests are refused, `/healthz` answers 503.
        self.draining = False

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None:
        task = asyncio.create_task(self._run(work, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log_unexpected(exc, f"background task {name}")

    def __len__(self) -> int:
        return len(self._tasks)

    async def drain(self, grace: float) -> bool:
        """Wait up to `grace` seconds for running work; cancel what is left. True if all finished."""
        self.draining = True
        if not self._tasks:
            return True
        _, pending = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        return not pending
