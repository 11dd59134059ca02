"""Slack's answers, classified once (bot/slack/errors.py): retry, drop that delivery, or the place is lost."""

from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.render import plain
from bot.slack.errors import DROP_ERRORS, LOST_ERRORS, TRANSIENT_ERRORS, Verdict, classify
from bot.slack.publisher import Posted, SlackPublisher, SlackTrouble
from tests.fakes.fixtures import SLACK_BOT_TOKEN
from tests.fakes.ports import free_port
from tests.fakes.slack_api import SlackStandIn


@pytest.mark.parametrize(
    "error",
    [
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "missing_scope",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "user_not_in_channel",
    ],
)
def test_a_place_the_bot_cannot_use_is_lost(error: str) -> None:
    assert classify(error) is Verdict.LOST


@pytest.mark.parametrize(
    "error", ["message_not_found", "cant_update_message", "edit_window_closed", "invalid_blocks", "msg_too_long"]
)
def test_a_message_that_can_never_go_is_dropped(error: str) -> None:
    assert classify(error) is Verdict.DROP


@pytest.mark.parametrize("error", ["ratelimited", "internal_error", "fatal_error", "service_unavailable"])
def test_slacks_try_again_codes_are_retried(error: str) -> None:
    assert classify(error) is Verdict.RETRY


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_an_http_429_or_5xx_is_retried_whatever_its_body_says(status: int) -> None:
    assert classify("channel_not_found", http_status=status) is Verdict.RETRY


def test_a_code_nobody_listed_is_retried_a_bounded_number_of_times_not_dropped() -> None:
    assert classify("some_code_slack_adds_next_year") is Verdict.RETRY
    assert classify("channel_not_found", http_status=200) is Verdict.LOST


def test_the_lists_do_not_overlap() -> None:
    assert not (LOST_ERRORS & DROP_ERRORS) and not (LOST_ERRORS & TRANSIENT_ERRORS)
    assert not (DROP_ERRORS & TRANSIENT_ERRORS)


# -- through the publisher, against the stand-in's answers ---------------------------------------------


async def test_the_publisher_reports_each_answer_classified(slack: SlackStandIn) -> None:
    publisher = SlackPublisher(AsyncWebClient(token=SLACK_BOT_TOKEN, base_url=slack.api_url, retry_handlers=[]))
    message = plain("hello")
    slack.add_channel("C0OPS0001")
    posted = await publisher.post("C0OPS0001", message, job_id="J1", part="parent")
    assert isinstance(posted, Posted)

    slack.archive_channel("C0OPS0001")
    archived = await publisher.post("C0OPS0001", message, job_id="J1", part="notice-1")
    assert archived == SlackTrouble("is_archived", Verdict.LOST)
    gone = await publisher.update("C0OPS0001", "1.000001", message, job_id="J1")
    assert gone == SlackTrouble("is_archived", Verdict.LOST)

    slack.add_channel("C0OTHER01")
    missing = await publisher.update("C0OTHER01", "1.000001", message, job_id="J1")
    assert missing == SlackTrouble("message_not_found", Verdict.DROP)

    slack.inject("chat.postMessage", status=503)
    down = await publisher.post("C0OTHER01", message, job_id="J1", part="parent")
    assert isinstance(down, SlackTrouble) and down.transient

    slack.revoke_scope("chat:write")
    unscoped = await publisher.post("C0OTHER01", message, job_id="J1", part="parent")
    assert unscoped == SlackTrouble("missing_scope", Verdict.LOST)


async def test_no_answer_at_all_is_transient() -> None:
    nowhere = AsyncWebClient(token=SLACK_BOT_TOKEN, base_url=f"http://127.0.0.1:{free_port()}/", retry_handlers=[])
    result = await SlackPublisher(nowhere).post("C0OPS0001", plain("x"), job_id="J1", part="parent")
    assert isinstance(result, SlackTrouble) and result.verdict is Verdict.RETRY
