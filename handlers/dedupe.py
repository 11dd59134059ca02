"""Recognise a Slack delivery seen before (a retry, a double submit) and do nothing twice.

Slash commands and interactions carry a `trigger_id` unique to one user action; events carry an
`event_id`. Seen keys are kept in memory and in the job store (see `bot.service.seen_deliveries`), so it
holds across restarts. A repeat gets an empty 200, which Slack takes as "handled" without showing anything.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.service.seen_deliveries import SeenDeliveries

log = logging.getLogger(__name__)


def delivery_key(body: dict[str, Any]) -> str | None:
    for field in ("event_id", "trigger_id"):
        value = body.get(field)
        if isinstance(value, str) and value:
            return f"{field}:{value}"
    return None


def is_repeat(seen: SeenDeliveries, body: dict[str, Any]) -> bool:
    """True for a delivery seen before (answer it with an empty 200); notes a new one as seen."""
    key = delivery_key(body)
    if key is not None and not seen.first_time(key):
        log.info("ignored a repeated Slack delivery (%s)", key)
        return True
    return False


class DropRepeats(AsyncMiddleware):
    """A middleware class rather than an `@app.middleware` function: for a function middleware Bolt builds
    every injectable argument (clients, say, respond, ...) on each request, tens of microseconds on the
    ack path, many times the check itself (profiled under bench/ack_latency.py)."""

    def __init__(self, seen: SeenDeliveries) -> None:
        self._seen = seen

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],  # Bolt passes it by this name
    ) -> BoltResponse | None:
        if is_repeat(self._seen, req.body):
            return BoltResponse(status=200, body="")
        return await next()


def register_dedupe(app: AsyncApp, seen: SeenDeliveries) -> None:
    app.middleware(DropRepeats(seen))
