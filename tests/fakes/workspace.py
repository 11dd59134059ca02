"""The Slack workspace every test tier talks about: its channels, its requester and the app's signing secret.

The same IDs are used by the in-process tiers (tests/service, tests/integration), the end-to-end tests
that run `python -m bot` and the benchmarks, so a message the bot posts lands where every tier looks.
"""

from __future__ import annotations

__all__ = ["CHANNEL", "INCIDENT_CHANNEL", "SIGNING_SECRET", "USER"]

#: The Slack app's signing secret, as the bot is configured and as requests are signed.
SIGNING_SECRET = "e2e-signing-secret-0123456789abcdef"
#: The channel restores are allowed in (RESTORE_BOT_ALLOWED_CHANNELS).
CHANNEL = "C0RESTORE1"
#: Where failed and timed-out restores are announced (RESTORE_BOT_INCIDENT_CHANNEL).
INCIDENT_CHANNEL = "C0INCIDENT"
#: The requester when a test does not say otherwise.
USER = "U0ALICE01"
