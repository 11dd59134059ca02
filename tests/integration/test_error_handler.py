"""The one error handler, in the real Bolt AsyncApp: a listener that fails answers Slack as Slack needs."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.web.async_client import AsyncWebClient

from handlers.error_handler import register_error_handler
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.workspace import USER


def failing_app(slack: SlackStandIn) -> AsyncApp:
    app = AsyncApp(
        client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url),
        request_verification_enabled=False,
        process_before_response=True,
    )
    register_error_handler(app)

    @app.view("a_form")
    async def broken(ack: Any) -> None:
        raise RuntimeError("a bug in a listener")

    return app


def submission(blocks: list[dict[str, Any]]) -> AsyncBoltRequest:
    payload = {
        "type": "view_submission",
        "team": {"id": "T0TEST"},
        "user": {"id": USER},
        "view": {"id": "V0FORM", "type": "modal", "callback_id": "a_form", "blocks": blocks, "state": {"values": {}}},
    }
    body = urlencode({"payload": json.dumps(payload)})
    return AsyncBoltRequest(body=body, headers={"content-type": ["application/x-www-form-urlencoded"]})


async def test_a_form_whose_submission_fails_stays_open_with_the_reference_under_its_first_field(
    slack: SlackStandIn,
) -> None:
    """A form submission has no response_url: an empty 200 would close the form as if it had worked."""
    blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "Approve the restore?"}},
        {
            "type": "input",
            "block_id": "reason",
            "label": {"type": "plain_text", "text": "Reason"},
            "element": {"type": "plain_text_input", "action_id": "reason_input"},
        },
    ]
    response = await failing_app(slack).async_dispatch(submission(blocks))
    assert response.status == 200
    answer = json.loads(response.body)
    assert answer["response_action"] == "errors"
    assert "reference" in answer["errors"]["reason"] and "nothing was done" in answer["errors"]["reason"]


async def test_a_form_without_a_field_to_show_it_under_is_answered_empty(slack: SlackStandIn) -> None:
    response = await failing_app(slack).async_dispatch(submission([]))
    assert (response.status, response.body) == (200, "")
