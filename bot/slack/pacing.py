"""Keeps the bot's own posting inside Slack's rate limits, so bursts are spread out, not answered with 429s.

Slack's documented limits (https://docs.slack.dev/apis/web-api/rate-limits), per app per workspace:
`chat.postMessage` about one message per second per channel with short bursts allowed, under a
workspace-wide limit of several hundred a minute; `chat.update` is Tier 3, 50+ a minute. The bot
stays a little under each. Nothing is dropped when a bucket is empty: the sender leaves the work
in the store for a later round, and parent redraws that pile up meanwhile collapse into one.

Hand-written rather than aiolimiter: the sender needs a take-or-skip (`try_take`), so one busy
channel never holds a delivery slot that another channel could use; aiolimiter only waits.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

# (burst, per second). Slack's side is 1/s per channel, bursts allowed; several hundred/min; 50+/min.
POSTS_PER_CHANNEL = (8, 1.0)
POSTS_PER_WORKSPACE = (240, 4.0)
UPDATES = (45, 0.75)


@dataclass
class TokenBucket:
    """`capacity` calls at once, refilled at `rate` per second."""

    capacity: float
    rate: float
    clock: Callable[[], float] = time.monotonic
    _tokens: float = field(init=False)
    _at: float = field(init=False)

    def __post_init__(self) -> None:
        self._tokens = self.capacity
        self._at = self.clock()

    def available(self) -> int:
        self._refill()
        return int(self._tokens)

    def try_take(self) -> bool:
        self._refill()
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def _refill(self) -> None:
        now = self.clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.rate)
        self._at = now


class SlackPacing:
    """The buckets for the two calls the sender makes in bulk: thread posts and parent redraws."""

    def __init__(
        self,
        *,
        posts_per_channel: tuple[float, float] = POSTS_PER_CHANNEL,
        posts_per_workspace: tuple[float, float] = POSTS_PER_WORKSPACE,
        updates: tuple[float, float] = UPDATES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._per_channel = posts_per_channel
        self._channels: dict[str, TokenBucket] = {}
        self._posts = TokenBucket(*posts_per_workspace, clock=clock)
        self._updates = TokenBucket(*updates, clock=clock)

    def posts_available(self, channel: str) -> int:
        return min(self._channel(channel).available(), self._posts.available())

    def updates_available(self) -> int:
        return self._updates.available()

    def try_post(self, channel: str) -> bool:
        bucket = self._channel(channel)
        if bucket.available() < 1 or self._posts.available() < 1:
            return False
        return bucket.try_take() and self._posts.try_take()

    def try_update(self) -> bool:
        return self._updates.try_take()

    def _channel(self, channel: str) -> TokenBucket:
        bucket = self._channels.get(channel)
        if bucket is None:
            # A full bucket and a fresh one behave the same; dropping full ones keeps this small.
            if len(self._channels) > 1000:
                self._channels = {key: b for key, b in self._channels.items() if b.available() < b.capacity}
            bucket = self._channels[channel] = TokenBucket(*self._per_channel, clock=self._clock)
        return bucket
