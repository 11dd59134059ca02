"""User groups for policy checks: one look-up per group however many ask at once, and no trust in an old
membership when Slack fails (fail closed, with the group and Slack's answer to say so)."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.usergroups import CACHE_SECONDS, READ_TIMEOUT, TRUST_FOR, GroupsUnavailable, UserGroups
from tests.fakes.fixtures import SLACK_BOT_TOKEN
from tests.fakes.slack_api import SlackStandIn

ONCALL = "S0ONCALL01"


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def groups_for(slack: SlackStandIn, clock: Clock) -> UserGroups:
    client = AsyncWebClient(token=SLACK_BOT_TOKEN, base_url=slack.api_url, retry_handlers=[])
    return UserGroups(client, monotonic=clock)


async def test_fifty_simultaneous_look_ups_of_one_group_make_one_call(slack: SlackStandIn) -> None:
    slack.set_usergroup(ONCALL, ["U1", "U2"])
    groups = groups_for(slack, Clock())
    answers = await asyncio.gather(*(groups.groups_of(f"U{n}", frozenset({ONCALL})) for n in range(50)))
    assert answers[1] == answers[2] == frozenset({ONCALL}) and answers[3] == frozenset()
    assert len(slack.calls_to("usergroups.users.list")) == 1


async def test_a_recent_read_is_used_while_slack_fails_and_an_old_one_is_not(slack: SlackStandIn) -> None:
    slack.set_usergroup(ONCALL, ["U1"])
    clock = Clock()
    groups = groups_for(slack, clock)
    assert await groups.groups_of("U1", frozenset({ONCALL})) == frozenset({ONCALL})

    clock.now += CACHE_SECONDS + 1  # the cache is stale: Slack is asked, and fails
    slack.inject("usergroups.users.list", status=503, times=2)
    assert await groups.groups_of("U1", frozenset({ONCALL})) == frozenset({ONCALL}), "read recently enough"

    clock.now += TRUST_FOR  # now too old to trust
    with pytest.raises(GroupsUnavailable) as failed:
        await groups.groups_of("U1", frozenset({ONCALL}))
    assert (failed.value.group_id, failed.value.error) == (ONCALL, "service_unavailable")


async def test_a_group_never_read_is_unavailable_not_empty_when_slack_fails(slack: SlackStandIn) -> None:
    slack.revoke_scope("usergroups:read")
    with pytest.raises(GroupsUnavailable) as failed:
        await groups_for(slack, Clock()).groups_of("U1", frozenset({ONCALL}))
    assert failed.value.error == "missing_scope"


async def test_a_group_slack_says_does_not_exist_has_no_members(slack: SlackStandIn) -> None:
    assert await groups_for(slack, Clock()).groups_of("U1", frozenset({"S0NOSUCH01"})) == frozenset()


async def test_a_read_slower_than_an_approvers_form_can_wait_counts_as_failed(slack: SlackStandIn) -> None:
    """Slack gives a form submission 3 s; a group read still waiting after READ_TIMEOUT is given up."""
    slack.set_usergroup(ONCALL, ["U1"])
    slack.inject("usergroups.users.list", status=503, delay=READ_TIMEOUT + 5)
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(GroupsUnavailable) as failed:
        await groups_for(slack, Clock()).groups_of("U1", frozenset({ONCALL}))
    assert failed.value.error == "TimeoutError"
    assert loop.time() - started < READ_TIMEOUT + 1
