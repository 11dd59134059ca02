"""A requester's time zone from Slack (`users.info`): read once for a while, never guessed when it cannot be."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.users import UserZone, UserZones, ZoneUnavailable, read_zone
from tests.fakes.fixtures import SLACK_BOT_TOKEN
from tests.fakes.slack_api import SlackStandIn


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def zones_for(slack: SlackStandIn, clock: Clock) -> UserZones:
    client = AsyncWebClient(token=SLACK_BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])
    return UserZones(client, monotonic=clock, cache_seconds=60)


async def test_the_zone_a_profile_is_set_to_is_read_once_for_a_while(slack: SlackStandIn) -> None:
    slack.add_user("U0PARIS01", tz="Europe/Paris")
    clock = Clock()
    zones = zones_for(slack, clock)
    first = await zones.zone_of("U0PARIS01")
    assert isinstance(first, UserZone) and first.name == "Europe/Paris" and first.label in {"CET", "CEST"}
    assert await zones.zone_of("U0PARIS01") == first
    assert len(slack.calls_to("users.info")) == 1
    clock.now += 61
    await zones.zone_of("U0PARIS01")
    assert len(slack.calls_to("users.info")) == 2


async def test_without_the_scope_the_zone_is_unavailable_not_utc(slack: SlackStandIn) -> None:
    slack.add_user("U0PARIS01", tz="Europe/Paris")
    slack.revoke_scope("users:read")
    assert await zones_for(slack, Clock()).zone_of("U0PARIS01") == ZoneUnavailable("missing_scope")


async def test_an_unknown_user_or_a_profile_without_a_zone(slack: SlackStandIn) -> None:
    slack.add_user("U0NOZONE1", tz=None)
    zones = zones_for(slack, Clock())
    assert await zones.zone_of("U0NOBODY1") == ZoneUnavailable("user_not_found")
    assert await zones.zone_of("U0NOZONE1") == ZoneUnavailable("no time zone in the Slack profile")


def test_a_zone_name_python_does_not_know_is_not_guessed() -> None:
    assert read_zone("Mars/Olympus_Mons") == ZoneUnavailable("unknown time zone 'Mars/Olympus_Mons'")
    assert isinstance(read_zone("America/Argentina/Buenos_Aires", "Argentina Time"), UserZone)
