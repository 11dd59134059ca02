"""Pacing the bot's own Slack calls to Slack's documented rate limits (a fake clock, no waiting)."""

from __future__ import annotations

from bot.slack.pacing import POSTS_PER_CHANNEL, UPDATES, SlackPacing, TokenBucket


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_bucket_allows_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    bucket = TokenBucket(3, 0.5, clock=clock)
    assert [bucket.try_take() for _ in range(4)] == [True, True, True, False]
    clock.now += 1.0
    assert bucket.available() == 0, "half a call is not a call"
    clock.now += 1.0
    assert bucket.try_take() and not bucket.try_take()
    clock.now += 3600
    assert bucket.available() == 3, "never more than the burst"


def test_posts_are_limited_per_channel_and_channels_do_not_share() -> None:
    clock = Clock()
    pacing = SlackPacing(clock=clock)
    burst = int(POSTS_PER_CHANNEL[0])
    assert sum(pacing.try_post("C1") for _ in range(burst + 5)) == burst
    assert pacing.posts_available("C1") == 0
    assert pacing.try_post("C2"), "another channel has its own second-by-second budget"
    clock.now += 1.0
    assert pacing.try_post("C1") and not pacing.try_post("C1"), "about one a second after the burst"


def test_the_workspace_limit_caps_posts_across_channels() -> None:
    clock = Clock()
    pacing = SlackPacing(posts_per_workspace=(5, 0.1), clock=clock)
    assert sum(pacing.try_post(f"C{n}") for n in range(10)) == 5
    assert pacing.posts_available("C99") == 0


def test_parent_redraws_stay_under_tier_3() -> None:
    clock = Clock()
    pacing = SlackPacing(clock=clock)
    allowed = 0
    for _ in range(600):  # ten minutes, one attempt every second... and a burst at the start
        allowed += sum(pacing.try_update() for _ in range(100))
        clock.now += 1.0
    per_minute = (allowed - UPDATES[0]) / 10
    assert per_minute <= 50, "Slack's Tier 3 is 50+ a minute"
    assert per_minute >= 40, "but the bot uses most of it"


def test_a_refused_post_takes_nothing_from_the_workspace_budget() -> None:
    clock = Clock()
    pacing = SlackPacing(posts_per_channel=(1, 1.0), posts_per_workspace=(3, 0.1), clock=clock)
    assert pacing.try_post("C1")
    assert not pacing.try_post("C1")
    assert not pacing.try_post("C1")
    assert pacing.try_post("C2") and pacing.try_post("C3"), "the refusals did not spend workspace calls"
