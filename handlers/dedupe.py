"""Recognise a Slack delivery seen before (a retry, a double submit) and do nothing twice.

Slash commands and interactions carry a `trigger_id` unique to one user action; events carry an
`event_id`. Seen keys are kept in memory and in the job store (see `bot.seen_deliveries`), so it
holds across restarts. A repeat gets an empty 200, which Slack takes as "handled" without showing anything.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.seen_deliveries import SeenDeliveries

log = logging.getLogger(__name__)


def delivery_key(body: dict[str, Any]) -> str | None:
    for field in ("event_id", "trigger_id"):
        value = body.get(field)
        if isinstance(value, str) and value:
            return f"{field}:{value}"
    return None


def register_dedupe(app: AsyncApp, seen: SeenDeliveries) -> None:
    @app.middleware
    async def drop_repeats(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        key = delivery_key(body)
        if key is not None and not seen.first_time(key):
            log.info("ignored a repeated Slack delivery (%s)", key)
            return BoltResponse(status=200, body="")
        await next()
        return None
