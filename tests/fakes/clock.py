"""A clock that moves only when the test says: wall time and monotonic seconds, advanced together.

The bot's services take `clock: Callable[[], datetime]` (RestoreService, Tracker, SlackDelivery) and
`monotonic: Callable[[], float]` (Tracker, SlackPacing); hand them `clock` and `clock.monotonic`.

It starts at the real time, because some timestamps are not the services' to give: the store stamps
`created_at` / `updated_at` itself, Slack's message `ts` is the stand-in's wall time, and the Pinecone
emulator stamps its restore jobs. Advancing it by minutes or hours stays consistent with those (all of
them lie in its past); only do not move it back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

__all__ = ["FakeClock"]


class FakeClock:
    """Call it for the wall time (an aware UTC datetime); `monotonic()` for seconds that never go back."""

    def __init__(self, start: datetime | None = None, *, monotonic_start: float = 1_000.0) -> None:
        self._now = start or datetime.now(UTC)
        self._monotonic = monotonic_start

    def __call__(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by `seconds`."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._now += timedelta(seconds=seconds)
        self._monotonic += seconds
