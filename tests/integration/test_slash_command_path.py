"""The slash command's direct path (without Bolt's pipeline) reads, de-duplicates and fails as the Bolt path does."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app.wiring import Services
from handlers.commands import answer_directly, slash_command
from handlers.error_handler import after_ack
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import new_trigger_id, response_posts
from tests.fakes.workspace import CHANNEL, USER

FORM = "application/x-www-form-urlencoded"


def command(slack: SlackStandIn, text: str, **extra: str) -> tuple[str, str]:
    response_url = slack.new_response_url()
    fields = {
        "token": "deprecated",
        "team_id": "T0TEST",
        "channel_id": CHANNEL,
        "user_id": USER,
        "command": "/restore-index",
        "text": text,
        "response_url": response_url,
        "trigger_id": new_trigger_id(),
        **extra,
    }
    return urlencode(fields), response_url


@pytest.mark.parametrize(
    "text", ['a65ff585-d987-4da5-a622-72e19a6ed5f4 restored-index team="search infra"', "", "ünï cödé +1 %20 &amp;"]
)
async def test_a_slash_command_is_read_exactly_as_bolt_reads_it(slack: SlackStandIn, text: str) -> None:
    body, _ = command(slack, text)
    assert slash_command(body, FORM) == AsyncBoltRequest(body=body, headers={"content-type": [FORM]}).body


async def test_everything_else_is_left_to_bolt(slack: SlackStandIn) -> None:
    body, _ = command(slack, "help")
    assert slash_command(body, FORM) is not None
    assert slash_command(command(slack, "help", ssl_check="1")[0], FORM) is None, "Slack's SSL check"
    payload_field = urlencode({"payload": "{}", "command": "/restore-index"})
    assert slash_command(payload_field, FORM) is None, "an interaction's payload= field"
    assert slash_command(urlencode({"payload": json.dumps({"type": "block_actions"})}), FORM) is None
    assert slash_command(json.dumps({"type": "event_callback"}), "application/json") is None
    assert slash_command(urlencode({"command": "/other", "text": "x"}), FORM) is None


async def test_a_command_that_mentions_payload_is_read_whole(slack: SlackStandIn) -> None:
    body, _ = command(slack, "a65ff585-d987-4da5-a622-72e19a6ed5f4 payload-index")
    assert AsyncBoltRequest(body=body, headers={"content-type": [FORM]}).body == {}, "Bolt's reading"
    fields = slash_command(body, FORM)
    assert fields is not None and fields["text"].endswith(" payload-index")


async def test_a_repeated_delivery_is_answered_empty_and_does_nothing_twice(
    services: Services, slack: SlackStandIn
) -> None:
    body, response_url = command(slack, "list")
    fields = slash_command(body, FORM)
    assert fields is not None
    first = await answer_directly(services.cases, fields)
    again = await answer_directly(services.cases, dict(fields))
    assert (first.status, again.status, again.body) == (200, 200, "")
    assert await services.tasks.drain(5)
    assert len(response_posts(slack, response_url)) == 1, "the list was sent once"


async def test_a_failure_after_the_ack_is_logged_and_its_reference_sent_to_the_user(
    services: Services, slack: SlackStandIn, caplog: pytest.LogCaptureFixture
) -> None:
    _, response_url = command(slack, "list")

    async def broken() -> None:
        raise RuntimeError("a bug")

    after_ack(services.tasks, broken(), body={"command": "/restore-index", "response_url": response_url}, name="broken")
    [apology] = await slack.wait_for(lambda: response_posts(slack, response_url))
    logged = [r for r in caplog.records if r.name == "bot.unexpected"]
    assert len(logged) == 1 and "a bug" in str(logged[0].exc_info)
    reference = logged[0].args[0] if isinstance(logged[0].args, tuple) else None
    assert reference and f"`{reference}`" in apology["text"] and apology["response_type"] == "ephemeral"
