"""Contract tests of the Slack Web API stand-in, driven through slack_sdk as the bot drives Slack."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.fixtures import SLACK_BOT_TOKEN
from tests.fakes.slack_api import SlackStandIn

CHANNEL = "C0OPS"


@pytest_asyncio.fixture
async def client(slack: SlackStandIn) -> AsyncIterator[AsyncWebClient]:
    yield AsyncWebClient(token=SLACK_BOT_TOKEN, base_url=slack.api_url)


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


async def slack_error(call: Any) -> dict[str, Any]:
    """The response body of a Slack call expected to fail with SlackApiError."""
    with pytest.raises(SlackApiError) as caught:
        await call
    data: dict[str, Any] = caught.value.response.data
    return data


# --------------------------------------------------------------------------------------------
# Auth and routing
# --------------------------------------------------------------------------------------------


async def test_auth_test(client: AsyncWebClient) -> None:
    response = await client.auth_test()
    assert response["team_id"] == "T0TEST"
    assert (response["user_id"], response["bot_id"]) == ("U0BOT", "B0BOT")
    assert response["url"].startswith("https://")


@pytest.mark.parametrize(("token", "error"), [("xoxb-wrong", "invalid_auth"), (None, "not_authed")])
async def test_bad_or_missing_token(slack: SlackStandIn, token: str | None, error: str) -> None:
    data = await slack_error(AsyncWebClient(token=token, base_url=slack.api_url).auth_test())
    assert data == {"ok": False, "error": error}


async def test_unknown_method(slack: SlackStandIn, client: AsyncWebClient) -> None:
    data = await slack_error(client.api_call("chat.teleport", json={"channel": CHANNEL}))
    assert data["error"] == "unknown_method"
    assert slack.calls_to("chat.teleport")[0].http_status == 200


async def test_form_encoded_body_with_json_string_blocks(slack: SlackStandIn) -> None:
    blocks = [section("from a form")]
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{slack.api_url}chat.postMessage",
            data={"channel": CHANNEL, "text": "form", "blocks": json.dumps(blocks), "token": SLACK_BOT_TOKEN},
        )
    assert response.json()["ok"] is True
    call = slack.calls_to("chat.postMessage")[0]
    assert call.args["blocks"] == blocks
    assert "token" not in call.args
    assert slack.messages_in(CHANNEL)[0]["blocks"] == blocks


# --------------------------------------------------------------------------------------------
# Messages
# --------------------------------------------------------------------------------------------


async def test_post_update_permalink_and_threads(slack: SlackStandIn, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel=CHANNEL, text="Restoring…", blocks=[section("*Restoring*")])
    ts = posted["ts"]
    assert posted["channel"] == CHANNEL
    assert posted["message"]["text"] == "Restoring…"

    reply = await client.chat_postMessage(channel=CHANNEL, text="step 1", thread_ts=ts)
    assert float(reply["ts"]) > float(ts)  # timestamps increase monotonically

    updated = await client.chat_update(channel=CHANNEL, ts=ts, text="Restored", blocks=[section("*Done*")])
    assert (updated["ts"], updated["text"]) == (ts, "Restored")

    message = slack.message(CHANNEL, ts)
    assert message["text"] == "Restored"
    assert message["blocks"] == [section("*Done*")]
    assert "edited" in message
    assert [m["text"] for m in slack.message_history(CHANNEL, ts)] == ["Restoring…", "Restored"]
    assert [m["text"] for m in slack.thread(CHANNEL, ts)] == ["step 1"]
    assert [m["ts"] for m in slack.messages_in(CHANNEL)] == [ts, reply["ts"]]

    # Updating text only keeps the blocks, as Slack does.
    await client.chat_update(channel=CHANNEL, ts=ts, text="Restored!")
    assert slack.message(CHANNEL, ts)["blocks"] == [section("*Done*")]

    link = await client.chat_getPermalink(channel=CHANNEL, message_ts=ts)
    assert link["permalink"] == f"https://example.slack.com/archives/{CHANNEL}/p{ts.replace('.', '')}"
    reply_link = await client.chat_getPermalink(channel=CHANNEL, message_ts=reply["ts"])
    assert reply_link["permalink"].endswith(f"?thread_ts={ts}&cid={CHANNEL}")
    assert slack.warnings == []


async def test_update_of_unknown_message(client: AsyncWebClient) -> None:
    data = await slack_error(client.chat_update(channel=CHANNEL, ts="1.000000", text="x"))
    assert data["error"] == "message_not_found"


async def test_post_requires_channel_and_content(slack: SlackStandIn, client: AsyncWebClient) -> None:
    assert (await slack_error(client.api_call("chat.postMessage", json={"text": "x"})))["error"] == "channel_not_found"
    assert (await slack_error(client.api_call("chat.postMessage", json={"channel": CHANNEL})))["error"] == "no_text"
    assert slack.messages_in(CHANNEL) == []


async def test_post_to_user_id_goes_to_dm(slack: SlackStandIn, client: AsyncWebClient) -> None:
    posted = await client.chat_postMessage(channel="U123", text="psst")
    assert posted["channel"] == "D123"
    assert [m["text"] for m in slack.messages_in("U123")] == ["psst"]


async def test_ephemeral(slack: SlackStandIn, client: AsyncWebClient) -> None:
    response = await client.chat_postEphemeral(channel=CHANNEL, user="U1", text="only you")
    assert response["message_ts"]
    assert [(e["to_user"], e["text"]) for e in slack.ephemerals] == [("U1", "only you")]
    data = await slack_error(client.api_call("chat.postEphemeral", json={"channel": CHANNEL, "text": "x"}))
    assert data["error"] == "invalid_arguments"


async def test_text_too_long(client: AsyncWebClient) -> None:
    assert (await client.chat_postMessage(channel=CHANNEL, text="x" * 40_000))["ok"]
    data = await slack_error(client.chat_postMessage(channel=CHANNEL, text="x" * 40_001))
    assert data["error"] == "msg_too_long"


async def test_blocks_without_text_fallback_are_accepted_with_a_warning(
    slack: SlackStandIn, client: AsyncWebClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SKIP_SLACK_SDK_WARNING", "1")  # slack_sdk would warn client-side too
    posted = await client.chat_postMessage(channel=CHANNEL, blocks=[section("no fallback")])
    assert posted["ok"]
    assert len(slack.warnings) == 1 and "fallback" in slack.warnings[0]


# --------------------------------------------------------------------------------------------
# Block Kit limits
# --------------------------------------------------------------------------------------------


async def test_fifty_blocks_ok_fifty_one_rejected(slack: SlackStandIn, client: AsyncWebClient) -> None:
    assert (await client.chat_postMessage(channel=CHANNEL, text="t", blocks=[{"type": "divider"}] * 50))["ok"]
    data = await slack_error(client.chat_postMessage(channel=CHANNEL, text="t", blocks=[{"type": "divider"}] * 51))
    assert data["error"] == "invalid_blocks"
    assert data["errors"] == ["no more than 50 items allowed [json-pointer:/blocks]"]
    assert len(slack.messages_in(CHANNEL)) == 1


async def test_section_text_limit(client: AsyncWebClient) -> None:
    assert (await client.chat_postMessage(channel=CHANNEL, text="t", blocks=[section("x" * 3000)]))["ok"]
    data = await slack_error(client.chat_postMessage(channel=CHANNEL, text="t", blocks=[section("x" * 3001)]))
    assert data["error"] == "invalid_blocks"
    assert data["errors"] == ["must be less than 3001 characters [json-pointer:/blocks/0/text/text]"]


def _button(text: str, action_id: str = "go") -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id}


@pytest.mark.parametrize(
    ("block", "pointer"),
    [
        ({"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}, "/blocks/0/text/text"),
        ({"type": "header", "text": {"type": "mrkdwn", "text": "*h*"}}, "/blocks/0/text/type"),
        (
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "f"}] * 11},
            "/blocks/0/fields",
        ),
        (
            {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * 2001}]},
            "/blocks/0/fields/0/text",
        ),
        ({"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * 11}, "/blocks/0/elements"),
        ({"type": "actions", "elements": [_button("b" * 76)]}, "/blocks/0/elements/0/text/text"),
        ({"type": "actions", "elements": [_button("ok", "a" * 256)]}, "/blocks/0/elements/0/action_id"),
        ({"type": "divider", "block_id": "b" * 256}, "/blocks/0/block_id"),
        ({"type": "carousel"}, "/blocks/0/type"),
        ({"text": {"type": "mrkdwn", "text": "typeless"}}, "/blocks/0"),
        (section(""), "/blocks/0/text/text"),
    ],
    ids=[
        "header-long",
        "header-mrkdwn",
        "too-many-fields",
        "field-long",
        "context-elements",
        "button-text",
        "action-id",
        "block-id",
        "unknown-type",
        "no-type",
        "empty-text",
    ],
)
async def test_block_kit_limits(client: AsyncWebClient, block: dict[str, Any], pointer: str) -> None:
    data = await slack_error(client.chat_postMessage(channel=CHANNEL, text="t", blocks=[block]))
    assert data["error"] == "invalid_blocks"
    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in data["errors"]), data["errors"]


async def test_update_validates_blocks_too(slack: SlackStandIn, client: AsyncWebClient) -> None:
    ts = (await client.chat_postMessage(channel=CHANNEL, text="t"))["ts"]
    data = await slack_error(client.chat_update(channel=CHANNEL, ts=ts, text="t", blocks=[section("x" * 3001)]))
    assert data["error"] == "invalid_blocks"
    assert slack.message(CHANNEL, ts)["text"] == "t"


# --------------------------------------------------------------------------------------------
# Fault injection
# --------------------------------------------------------------------------------------------


async def test_rate_limit_surfaces_as_slack_api_error(slack: SlackStandIn, client: AsyncWebClient) -> None:
    slack.inject("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as caught:
        await client.chat_postMessage(channel=CHANNEL, text="hi")
    assert caught.value.response.status_code == 429
    assert caught.value.response.headers["Retry-After"] == "7"
    assert caught.value.response["error"] == "ratelimited"
    assert slack.messages_in(CHANNEL) == []
    assert (await client.chat_postMessage(channel=CHANNEL, text="hi"))["ok"]


async def test_rate_limit_is_retried_by_retry_handler(slack: SlackStandIn) -> None:
    slack.inject("chat.*", status=429, retry_after=0)
    client = AsyncWebClient(
        token=SLACK_BOT_TOKEN,
        base_url=slack.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    assert (await client.chat_postMessage(channel=CHANNEL, text="eventually"))["ok"]
    assert [c.http_status for c in slack.calls_to("chat.postMessage")] == [429, 200]
    assert [m["text"] for m in slack.messages_in(CHANNEL)] == ["eventually"]


async def test_server_error_and_ok_false_faults(slack: SlackStandIn, client: AsyncWebClient) -> None:
    slack.inject("users.info", status=503)
    slack.inject("conversations.info", status=200, error="channel_not_found")
    with pytest.raises(SlackApiError) as caught:
        await client.users_info(user="U1")
    assert caught.value.response.status_code == 503
    assert (await slack_error(client.conversations_info(channel=CHANNEL)))["error"] == "channel_not_found"
    assert (await client.conversations_info(channel=CHANNEL))["channel"]["id"] == CHANNEL


# --------------------------------------------------------------------------------------------
# response_url, lookups, views
# --------------------------------------------------------------------------------------------


async def test_response_url_posts_are_recorded(slack: SlackStandIn) -> None:
    url = slack.new_response_url()
    url_id = url.rsplit("/", 1)[1]
    webhook = AsyncWebhookClient(url)
    response = await webhook.send(text="Working on it", response_type="ephemeral", replace_original=False)
    assert (response.status_code, json.loads(response.body)) == (200, {"ok": True})
    bad = await webhook.send(text="t", blocks=[section("x" * 3001)])
    assert bad.status_code == 400
    assert slack.responses[url_id] == [
        {"text": "Working on it", "response_type": "ephemeral", "replace_original": False}
    ]
    assert [c.response_url_id for c in slack.calls_to("response_url")] == [url_id, url_id]
    unknown = await AsyncWebhookClient(f"{slack.base_url}/response/R-unknown").send(text="t")
    assert unknown.status_code == 404


async def test_lookups(slack: SlackStandIn, client: AsyncWebClient) -> None:
    slack.add_user("U1", name="alice", real_name="Alice A", email="alice@example.com", is_admin=True)
    slack.add_channel("C1", name="ops", is_private=True)
    slack.set_usergroup("S1", ["U1", "U2"])
    user = (await client.users_info(user="U1"))["user"]
    assert (user["name"], user["profile"]["email"], user["is_admin"]) == ("alice", "alice@example.com", True)
    channel = (await client.conversations_info(channel="C1"))["channel"]
    assert (channel["name"], channel["is_private"]) == ("ops", True)
    assert (await client.usergroups_users_list(usergroup="S1"))["users"] == ["U1", "U2"]
    assert (await slack_error(client.usergroups_users_list(usergroup="S9")))["error"] == "no_such_subteam"


async def test_views(slack: SlackStandIn, client: AsyncWebClient) -> None:
    modal = {
        "type": "modal",
        "callback_id": "restore",
        "title": {"type": "plain_text", "text": "Restore"},
        "submit": {"type": "plain_text", "text": "Go"},
        "blocks": [
            {
                "type": "input",
                "block_id": "name",
                "label": {"type": "plain_text", "text": "Index name"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            }
        ],
    }
    opened = (await client.views_open(trigger_id="123.456", view=modal))["view"]
    assert opened["callback_id"] == "restore"
    updated = await client.views_update(view_id=opened["id"], view={**modal, "blocks": [section("Started")]})
    assert updated["view"]["id"] == opened["id"]
    assert slack.view(opened["id"])["blocks"] == [section("Started")]
    stale = await slack_error(client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal))
    assert stale["error"] == "hash_conflict"
    too_long_title = {**modal, "title": {"type": "plain_text", "text": "x" * 25}}
    assert (await slack_error(client.views_open(trigger_id="1", view=too_long_title)))["error"] == "invalid_arguments"
    home = {"type": "home", "blocks": [section("Recent restores")]}
    first = (await client.views_publish(user_id="U1", view=home))["view"]
    second = (await client.views_publish(user_id="U1", view=home))["view"]
    assert first["id"] == second["id"]
    assert len(slack.views) == 2


# --------------------------------------------------------------------------------------------
# Waiting
# --------------------------------------------------------------------------------------------


async def test_wait_for_wakes_on_calls(slack: SlackStandIn, client: AsyncWebClient) -> None:
    async def bot() -> None:
        await asyncio.sleep(0.05)  # stands in for the bot process doing work
        await client.chat_postMessage(channel=CHANNEL, text="first")
        await client.chat_postMessage(channel=CHANNEL, text="second")

    task = asyncio.create_task(bot())
    messages = await slack.wait_for(lambda: len(slack.messages_in(CHANNEL)) == 2 and slack.messages_in(CHANNEL))
    assert [m["text"] for m in messages] == ["first", "second"]
    await task


async def test_wait_for_timeout_dumps_calls(slack: SlackStandIn, client: AsyncWebClient) -> None:
    await client.chat_postMessage(channel=CHANNEL, text="something else")
    with pytest.raises(AssertionError, match=r"chat\.postMessage .*something else"):
        await slack.wait_for(lambda: slack.messages_in("C0OTHER"), timeout=0.1)
