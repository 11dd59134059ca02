"""A requester's time zone, as their Slack profile says it (`users.info`: `tz`, `tz_label`; the `users:read`
scope), for the `before:` forms that are read in it (`14:00`, `yesterday 14:00`, an ISO time without a zone).

A zone that cannot be read is never guessed: the caller is told why (`ZoneUnavailable`) and refuses the
forms that need one, with an example that names its zone. What was read is kept for `CACHE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.errors import SLACK_FAILURES

log = logging.getLogger(__name__)

CACHE_SECONDS = 600.0
#: Slack answers users.info at once; an answer this late is treated as none (the request waits on it).
LOOKUP_TIMEOUT = 5.0


@dataclass(frozen=True)
class UserZone:
    """The zone a person's Slack profile is set to."""

    #: The IANA name, e.g. "Europe/Paris".
    name: str
    zone: tzinfo
    #: What Slack calls it, e.g. "Central European Time".
    label: str | None = None


@dataclass(frozen=True)
class ZoneUnavailable:
    """Why a person's zone is not known: Slack's error code, or what was wrong with the answer."""

    error: str


class UserZones:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        cache_seconds: float = CACHE_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._zones: dict[str, tuple[float, UserZone]] = {}

    async def zone_of(self, user_id: str) -> UserZone | ZoneUnavailable:
        cached = self._zones.get(user_id)
        if cached is not None and self._monotonic() - cached[0] < self._cache_seconds:
            return cached[1]
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT):
                response = await self._client.users_info(user=user_id)
        except SLACK_FAILURES as exc:
            error = str(exc.response.get("error") or "") if isinstance(exc, SlackApiError) else type(exc).__name__
            log.warning("could not read the time zone of %s: %s", user_id, error or "no answer")
            return ZoneUnavailable(error or "no answer")
        user = response.get("user") or {}
        found = read_zone(user.get("tz"), user.get("tz_label"))
        if isinstance(found, UserZone):
            self._zones[user_id] = (self._monotonic(), found)
        else:
            log.warning("the time zone of %s cannot be used: %s", user_id, found.error)
        return found


def read_zone(name: object, label: object = None) -> UserZone | ZoneUnavailable:
    """A zone from what users.info says (`tz`, `tz_label`)."""
    if not isinstance(name, str) or not name:
        return ZoneUnavailable("no time zone in the Slack profile")
    try:
        zone = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneUnavailable(f"unknown time zone {name!r}")
    return UserZone(name=name, zone=zone, label=label if isinstance(label, str) and label else None)
