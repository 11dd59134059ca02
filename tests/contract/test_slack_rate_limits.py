"""The Slack stand-in's opt-in rate limits: Slack's documented tiers as token buckets, on a test-driven clock.

No test sleeps: the buckets read a fake clock that the test moves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.fixtures import SLACK_BOT_TOKEN
from tests.fakes.slack_api import (
    DEFAULT_RATE_LIMITS,
    PER_CHANNEL,
    RateLimit,
    SlackRateLimiter,
    SlackStandIn,
    TokenBucket,
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest_asyncio.fixture
async def limited(clock: FakeClock) -> AsyncIterator[SlackStandIn]:
    async with SlackStandIn(bot_token=SLACK_BOT_TOKEN, rate_limits=True, clock=clock) as stand_in:
        for channel in ("C0OPS", "C0ONE", "C0TWO"):
            stand_in.add_channel(channel)
        yield stand_in


@pytest_asyncio.fixture
async def http(limited: SlackStandIn) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        base_url=limited.api_url, headers={"Authorization": f"Bearer {SLACK_BOT_TOKEN}"}
    ) as client:
        yield client


async def post(http: httpx.AsyncClient, channel: str, text: str = "hi") -> httpx.Response:
    return await http.post("chat.postMessage", json={"channel": channel, "text": text})


# -- the buckets themselves ---------------------------------------------------------------------------


def test_a_bucket_starts_full_refills_continuously_and_never_beyond_capacity(clock: FakeClock) -> None:
    bucket = TokenBucket(RateLimit(capacity=3, per_minute=60), clock)
    for _ in range(3):
        assert bucket.wait() == 0.0
        bucket.take()
    assert bucket.wait() == pytest.approx(1.0)
    clock.advance(0.25)
    assert bucket.wait() == pytest.approx(0.75)
    clock.advance(0.75)
    assert bucket.wait() == 0.0
    clock.advance(3600)
    assert bucket.tokens == 3.0


def test_a_refused_call_takes_no_token_from_any_bucket(clock: FakeClock) -> None:
    limiter = SlackRateLimiter(
        {"m": RateLimit(capacity=2, per_minute=60), "m" + PER_CHANNEL: RateLimit(capacity=1, per_minute=60)}, clock
    )
    assert limiter.admit("m", "C1") is None
    assert limiter.admit("m", "C1") == pytest.approx(1.0)  # the channel's bucket is empty ...
    assert limiter.admit("m", "C2") is None  # ... and the refusal took nothing from the workspace bucket
    assert limiter.admit("m", "C3") == pytest.approx(1.0)  # now the workspace bucket is empty
    assert limiter.admit("other", "C1") is None  # methods without a limit are never refused


def test_invalid_limits_are_refused() -> None:
    with pytest.raises(ValueError, match="capacity"):
        RateLimit(capacity=0, per_minute=60)
    with pytest.raises(ValueError, match="capacity"):
        RateLimit(capacity=5, per_minute=0)


# -- over HTTP -----------------------------------------------------------------------------------------


async def test_limits_are_off_by_default(slack: SlackStandIn) -> None:
    slack.add_channel("C0OPS")
    client = AsyncWebClient(token=SLACK_BOT_TOKEN, base_url=slack.api_url)
    for i in range(30):
        await client.chat_postMessage(channel="C0OPS", text=f"message {i}")
    assert slack.rate_limits == {}
    assert not slack.rate_limited
    assert len(slack.messages_in("C0OPS")) == 30


async def test_defaults_are_slacks_documented_tiers(limited: SlackStandIn) -> None:
    assert limited.rate_limits["chat.postMessage" + PER_CHANNEL] == RateLimit(capacity=10, per_minute=60)
    assert limited.rate_limits["chat.postMessage"] == RateLimit(capacity=300, per_minute=300)
    assert limited.rate_limits["chat.update"] == RateLimit(capacity=50, per_minute=50)
    assert limited.rate_limits["conversations.history"] == RateLimit(capacity=50, per_minute=50)
    assert limited.rate_limits["conversations.replies"] == RateLimit(capacity=50, per_minute=50)
    assert limited.rate_limits["chat.getPermalink"] == RateLimit(capacity=100, per_minute=100)
    assert limited.rate_limits["chat.postEphemeral"] == RateLimit(capacity=100, per_minute=100)
    assert dict(limited.rate_limits) == dict(DEFAULT_RATE_LIMITS)


async def test_a_burst_beyond_a_channels_capacity_gets_429_with_retry_after(
    limited: SlackStandIn, http: httpx.AsyncClient
) -> None:
    for i in range(10):
        assert (await post(http, "C0OPS", f"burst {i}")).json()["ok"] is True
    refused = await post(http, "C0OPS", "one too many")
    assert refused.status_code == 429
    assert refused.json() == {"ok": False, "error": "ratelimited"}
    assert refused.headers["Retry-After"] == "1"  # one token a second
    assert limited.rate_limited == {"chat.postMessage": 1}
    call = limited.calls_to("chat.postMessage")[-1]
    assert (call.rate_limited, call.http_status) == (True, 429)
    # A refused call is not applied.
    assert [m["text"] for m in limited.messages_in("C0OPS")] == [f"burst {i}" for i in range(10)]


async def test_the_bucket_refills_with_time(limited: SlackStandIn, http: httpx.AsyncClient, clock: FakeClock) -> None:
    for _ in range(10):
        await post(http, "C0OPS")
    assert (await post(http, "C0OPS")).status_code == 429
    clock.advance(0.5)
    assert (await post(http, "C0OPS")).status_code == 429
    clock.advance(0.5)
    assert (await post(http, "C0OPS")).status_code == 200
    assert (await post(http, "C0OPS")).status_code == 429
    clock.advance(3.0)  # three more tokens
    assert [(await post(http, "C0OPS")).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert limited.rate_limited["chat.postMessage"] == 4


async def test_channels_do_not_share_the_per_channel_bucket(limited: SlackStandIn, http: httpx.AsyncClient) -> None:
    for _ in range(10):
        await post(http, "C0ONE")
    assert (await post(http, "C0ONE")).status_code == 429
    assert [(await post(http, "C0TWO")).status_code for _ in range(10)] == [200] * 10
    assert (await post(http, "C0TWO")).status_code == 429
    # Posting to a user id is posting to the DM channel: one bucket for both spellings.
    for _ in range(5):
        await post(http, "U0ALICE01")
    for _ in range(5):
        await post(http, "D0ALICE01")
    assert (await post(http, "U0ALICE01")).status_code == 429


async def test_the_workspace_limit_spans_channels(clock: FakeClock) -> None:
    overrides = {"chat.postMessage": RateLimit(capacity=15, per_minute=60)}
    async with (
        SlackStandIn(bot_token=SLACK_BOT_TOKEN, rate_limits=overrides, clock=clock) as slack,
        httpx.AsyncClient(base_url=slack.api_url, headers={"Authorization": f"Bearer {SLACK_BOT_TOKEN}"}) as http,
    ):
        for i in range(10):
            slack.add_channel(f"C0CH{i}")
        statuses = [(await post(http, f"C0CH{i % 5}")).status_code for i in range(16)]
        assert statuses == [200] * 15 + [429]
        clock.advance(1.0)
        assert (await post(http, "C0CH9")).status_code == 200


async def test_chat_update_is_tier_3(limited: SlackStandIn, http: httpx.AsyncClient, clock: FakeClock) -> None:
    ts = (await post(http, "C0OPS")).json()["ts"]
    statuses = [
        (await http.post("chat.update", json={"channel": "C0OPS", "ts": ts, "text": f"v{i}"})).status_code
        for i in range(51)
    ]
    assert statuses == [200] * 50 + [429]
    refused = limited.calls_to("chat.update")[-1]
    assert refused.response == {"ok": False, "error": "ratelimited"}
    assert limited.message("C0OPS", ts)["text"] == "v49"
    retry_after = int(
        (await http.post("chat.update", json={"channel": "C0OPS", "ts": ts, "text": "x"})).headers["Retry-After"]
    )
    assert retry_after == 2  # 50 a minute: 1.2 s, rounded up
    clock.advance(1.2)
    assert (await http.post("chat.update", json={"channel": "C0OPS", "ts": ts, "text": "late"})).status_code == 200
    assert limited.rate_limited == {"chat.update": 2}


async def test_tier_4_methods_and_overrides(clock: FakeClock) -> None:
    overrides: dict[str, RateLimit | None] = {
        "chat.getPermalink": RateLimit(capacity=2, per_minute=100),
        "chat.postEphemeral": None,  # not limited any more
    }
    async with SlackStandIn(bot_token=SLACK_BOT_TOKEN) as slack:
        slack.add_channel("C0OPS")
        slack.enable_rate_limits(overrides, clock=clock)
        client = AsyncWebClient(token=SLACK_BOT_TOKEN, base_url=slack.api_url)  # no retry handler
        for _ in range(2):
            await client.chat_getPermalink(channel="C0OPS", message_ts="1.000001")
        with pytest.raises(SlackApiError) as caught:
            await client.chat_getPermalink(channel="C0OPS", message_ts="1.000001")
        assert caught.value.response.status_code == 429
        assert caught.value.response.headers["Retry-After"] == "1"
        for _ in range(150):
            await client.chat_postEphemeral(channel="C0OPS", user="U0ALICE01", text="only you")
        assert slack.rate_limited == {"chat.getPermalink": 1}
        slack.disable_rate_limits()
        await client.chat_getPermalink(channel="C0OPS", message_ts="1.000001")
        assert slack.rate_limits == {}


async def test_an_injected_fault_takes_precedence_and_no_token(limited: SlackStandIn, http: httpx.AsyncClient) -> None:
    limited.inject("chat.postMessage", status=503)
    assert (await post(http, "C0OPS")).status_code == 503
    assert [(await post(http, "C0OPS")).status_code for _ in range(11)] == [200] * 10 + [429]
    assert limited.rate_limited == {"chat.postMessage": 1}
