"""Who may request a restore where. Pure: settings and a request in, a decision out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ChannelPolicy:
    allowed_channels: Sequence[str]

    def allows(self, channel_id: str) -> bool:
        return channel_id in self.allowed_channels
