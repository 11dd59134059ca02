"""Seen Slack deliveries are answered from memory; expired keys are forgotten without rescanning the rest."""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from bot.service.seen_deliveries import SeenDeliveries
from storage.base import JobStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def seen_with(clock: Clock, seconds: float) -> SeenDeliveries:
    # first_time never touches the store; only load() and flush() do.
    return SeenDeliveries(cast(JobStore, None), remember_for=timedelta(seconds=seconds), clock=clock, shared=False)


def test_a_key_is_new_once_then_a_repeat_until_it_expires() -> None:
    clock = Clock()
    seen = seen_with(clock, 60)
    assert seen.first_time("trigger_id:1") is True
    assert seen.first_time("trigger_id:1") is False
    clock.now += 59
    assert seen.first_time("trigger_id:1") is False
    clock.now += 2
    assert seen.first_time("trigger_id:1") is True, "remembered for remember_for, then a new delivery again"


def test_expired_keys_are_forgotten_as_new_ones_arrive() -> None:
    clock = Clock()
    seen = seen_with(clock, 10)
    for i in range(1000):
        seen.first_time(f"trigger_id:{i}")
        clock.now += 0.1  # 100 keys live at any moment
    assert len(seen) <= 101
    assert seen.first_time("trigger_id:999") is False
    assert seen.first_time("trigger_id:0") is True
