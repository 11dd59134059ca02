"""Contract tests of the Slack Web API stand-in, driven through slack_sdk as the bot drives Slack."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
import yaml
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from tests.fakes.fixtures import SLACK_BOT_TOKEN
from tests.fakes.slack_api import MANIFEST, SlackStandIn

CHANNEL = "C0OPS"


@pytest.fixture(autouse=True)
def ops_channel(slack: SlackStandIn) -> None:
    """The stand-in is strict: the channel these tests post in is created, public, with the bot in it."""
    slack.add_channel(CHANNEL, name="ops")


@pytest_asyncio.fixture
async def client(slack: SlackStandIn) -> AsyncIterator[AsyncWebClient]:
    yield AsyncWebClient(token=SLACK_BOT_TOKEN, base_url=slack.api_url)


def metadata(job_id: str, part: str) -> dict[str, Any]:
    return {"event_type": "restore_bot_message", "event_payload": {"job_id": job_id, "part": part}}


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
    slack.grant_scope("users:read")  # the bot's manifest does not ask for it
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


# --------------------------------------------------------------------------------------------
# Slack's rules for a bot token: channels, membership, archiving, scopes, the Messages tab
# --------------------------------------------------------------------------------------------

PUBLIC, PRIVATE, ARCHIVED = "C0PUBLIC1", "C0PRIVATE1", "C0OLD0001"


async def test_the_token_has_the_manifests_scopes_and_says_so(slack: SlackStandIn, client: AsyncWebClient) -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    assert slack.scopes == set(manifest["oauth_config"]["scopes"]["bot"])
    assert slack.messages_tab is manifest["features"]["app_home"]["messages_tab_enabled"]
    response = await client.auth_test()
    assert set(response.headers["X-OAuth-Scopes"].split(",")) == slack.scopes


async def test_a_channel_nobody_created_does_not_exist(client: AsyncWebClient) -> None:
    for call in (
        client.chat_postMessage(channel="C0NOWHERE1", text="x"),
        client.conversations_info(channel="C0NOWHERE1"),
        client.conversations_history(channel="C0NOWHERE1"),
        client.conversations_join(channel="C0NOWHERE1"),
        client.chat_postEphemeral(channel="C0NOWHERE1", user="U1", text="x"),
    ):
        assert (await slack_error(call))["error"] == "channel_not_found"


async def test_a_public_channel_takes_posts_without_membership_only_with_chat_write_public(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    slack.add_channel(PUBLIC, is_member=False)
    posted = await client.chat_postMessage(channel=PUBLIC, text="from outside", metadata=metadata("J1", "parent"))
    await client.chat_update(channel=PUBLIC, ts=posted["ts"], text="edited from outside")
    # Reading it back, and answering one person only, need membership.
    assert (await slack_error(client.conversations_history(channel=PUBLIC)))["error"] == "not_in_channel"
    replies = client.conversations_replies(channel=PUBLIC, ts=posted["ts"])
    assert (await slack_error(replies))["error"] == "not_in_channel"
    ephemeral = client.chat_postEphemeral(channel=PUBLIC, user="U1", text="x")
    assert (await slack_error(ephemeral))["error"] == "not_in_channel"
    info = (await client.conversations_info(channel=PUBLIC))["channel"]
    assert (info["is_private"], info["is_member"]) == (False, False)

    slack.revoke_scope("chat:write.public")
    assert (await slack_error(client.chat_postMessage(channel=PUBLIC, text="x")))["error"] == "not_in_channel"
    assert [m["text"] for m in slack.messages_in(PUBLIC)] == ["edited from outside"]


async def test_joining_a_public_channel_lets_the_bot_read_what_it_posted_with_metadata(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    slack.add_channel(PUBLIC, is_member=False)
    posted = await client.chat_postMessage(channel=PUBLIC, text="parent", metadata=metadata("J1", "parent"))
    reply = await client.chat_postMessage(
        channel=PUBLIC, text="reply", thread_ts=posted["ts"], metadata=metadata("J1", "notice-1")
    )
    joined = await client.conversations_join(channel=PUBLIC)
    assert joined["channel"]["is_member"] is True and slack.is_member(PUBLIC)
    assert (await client.conversations_join(channel=PUBLIC))["warning"] == "already_in_channel"

    history = (await client.conversations_history(channel=PUBLIC, include_all_metadata=True))["messages"]
    assert [(m["ts"], m["metadata"]["event_payload"]) for m in history] == [
        (posted["ts"], {"job_id": "J1", "part": "parent"})
    ]
    without = (await client.conversations_history(channel=PUBLIC))["messages"]
    assert "metadata" not in without[0], "metadata only when asked for"
    thread = (await client.conversations_replies(channel=PUBLIC, ts=posted["ts"], include_all_metadata=True))[
        "messages"
    ]
    assert [m["ts"] for m in thread] == [posted["ts"], reply["ts"]]
    assert thread[1]["metadata"]["event_payload"]["part"] == "notice-1"


async def test_a_private_channel_the_bot_is_not_in_is_invisible_to_it(
    slack: SlackStandIn, client: AsyncWebClient
) -> None:
    slack.add_channel(PRIVATE, is_private=True, is_member=False)
    for call in (
        client.chat_postMessage(channel=PRIVATE, text="x"),
        client.conversations_info(channel=PRIVATE),
        client.conversations_history(channel=PRIVATE),
        client.conversations_join(channel=PRIVATE),
        client.chat_postEphemeral(channel=PRIVATE, user="U1", text="x"),
        client.chat_getPermalink(channel=PRIVATE, message_ts="1.000001"),
    ):
        assert (await slack_error(call))["error"] == "channel_not_found"
    assert slack.messages_in(PRIVATE) == []

    slack.invite_bot(PRIVATE)
    assert (await client.chat_postMessage(channel=PRIVATE, text="invited"))["ok"]
    assert (await client.conversations_info(channel=PRIVATE))["channel"]["is_private"] is True
    joining = client.conversations_join(channel=PRIVATE)
    assert (await slack_error(joining))["error"] == "method_not_supported_for_channel_type"

    slack.remove_bot(PRIVATE)
    assert (await slack_error(client.chat_postMessage(channel=PRIVATE, text="x")))["error"] == "channel_not_found"


async def test_an_archived_channel_takes_nothing(slack: SlackStandIn, client: AsyncWebClient) -> None:
    slack.add_channel(ARCHIVED)
    ts = (await client.chat_postMessage(channel=ARCHIVED, text="before"))["ts"]
    slack.archive_channel(ARCHIVED)
    assert (await slack_error(client.chat_postMessage(channel=ARCHIVED, text="x")))["error"] == "is_archived"
    assert (await slack_error(client.chat_update(channel=ARCHIVED, ts=ts, text="x")))["error"] == "is_archived"
    assert (await slack_error(client.conversations_join(channel=ARCHIVED)))["error"] == "is_archived"
    ephemeral = client.chat_postEphemeral(channel=ARCHIVED, user="U1", text="x")
    assert (await slack_error(ephemeral))["error"] == "is_archived"
    assert (await client.conversations_info(channel=ARCHIVED))["channel"]["is_archived"] is True
    assert [m["text"] for m in slack.messages_in(ARCHIVED)] == ["before"]


@pytest.mark.parametrize(
    ("scope", "method", "arguments"),
    [
        ("chat:write", "chat.postMessage", {"channel": CHANNEL, "text": "x"}),
        ("chat:write", "chat.postEphemeral", {"channel": CHANNEL, "user": "U1", "text": "x"}),
        ("channels:read", "conversations.info", {"channel": CHANNEL}),
        ("channels:history", "conversations.history", {"channel": CHANNEL}),
        ("channels:join", "conversations.join", {"channel": CHANNEL}),
        ("usergroups:read", "usergroups.users.list", {"usergroup": "S1"}),
        ("users:read", "users.info", {"user": "U1"}),
    ],
)
async def test_a_method_whose_scope_is_not_granted_answers_missing_scope(
    slack: SlackStandIn, client: AsyncWebClient, scope: str, method: str, arguments: dict[str, Any]
) -> None:
    slack.set_usergroup("S1", ["U1"])
    slack.add_user("U1")
    assert (await client.api_call(method, json=arguments))["ok"]
    slack.revoke_scope(scope)
    data = await slack_error(client.api_call(method, json=arguments))
    assert (data["error"], data["needed"]) == ("missing_scope", scope)
    assert scope not in data["provided"].split(",")


async def test_users_info_gives_each_person_their_time_zone(slack: SlackStandIn, client: AsyncWebClient) -> None:
    slack.add_user("U0TOKYO01", tz="Asia/Tokyo")
    slack.add_user("U0NOZONE1", tz=None)
    user = (await client.users_info(user="U0TOKYO01"))["user"]
    assert (user["tz"], user["tz_label"], user["tz_offset"]) == ("Asia/Tokyo", "JST", 9 * 3600)
    assert "tz" not in (await client.users_info(user="U0NOZONE1"))["user"]
    assert (await slack_error(client.users_info(user="U0NOBODY1")))["error"] == "user_not_found"


async def test_a_private_channel_needs_the_groups_scopes(slack: SlackStandIn, client: AsyncWebClient) -> None:
    slack.add_channel(PRIVATE, is_private=True)
    slack.revoke_scope("groups:read", "groups:history")
    assert (await slack_error(client.conversations_info(channel=PRIVATE)))["needed"] == "groups:read"
    assert (await slack_error(client.conversations_history(channel=PRIVATE)))["needed"] == "groups:history"
    assert (await client.conversations_info(channel=CHANNEL))["ok"], "public channels need channels:read only"


async def test_a_direct_message_needs_the_messages_tab(slack: SlackStandIn, client: AsyncWebClient) -> None:
    assert (await client.chat_postMessage(channel="U0ALICE01", text="hello"))["channel"] == "D0ALICE01"
    slack.messages_tab = False
    assert (await slack_error(client.chat_postMessage(channel="U0ALICE01", text="x")))["error"] == "channel_not_found"
    assert [m["text"] for m in slack.messages_in("U0ALICE01")] == ["hello"]
