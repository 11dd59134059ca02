"""Recognise a Slack delivery seen before (a retry, a double submit) and do nothing twice.

Slash commands and interactions carry a `trigger_id` unique to one user action; events carry an
`event_id`. The key is recorded in the job store, so it holds across restarts. A repeat gets an
empty 200, which Slack takes as "handled" without showing anything.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.jobs import utcnow
from storage.base import JobStore, StoreError

log = logging.getLogger(__name__)

REMEMBER_FOR = timedelta(days=1)


def delivery_key(body: dict[str, Any]) -> str | None:
    for field in ("event_id", "trigger_id"):
        value = body.get(field)
        if isinstance(value, str) and value:
            return f"{field}:{value}"
    return None


def register_dedupe(app: AsyncApp, store: JobStore) -> None:
    @app.middleware
    async def drop_repeats(body: dict[str, Any], next: Callable[[], Awaitable[None]]) -> BoltResponse | None:
        key = delivery_key(body)
        if key is not None:
            try:
                first = await store.remember_delivery(key, forget_before=utcnow() - REMEMBER_FOR)
            except StoreError as exc:
                # Better to risk handling a repeat (the store's constraints still hold) than to drop a request.
                log.warning("could not check Slack delivery %s for repeats: %s", key, exc)
                first = True
            if not first:
                log.info("ignored a repeated Slack delivery (%s)", key)
                return BoltResponse(status=200, body="")
        await next()
        return None
