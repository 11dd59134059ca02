"""Talking to the bot the way Slack does, and reading what it sent back through the Slack stand-in.

Requests are signed with the signing secret exactly as Slack signs them (v0 HMAC over
`v0:<timestamp>:<body>`), using slack_sdk's own `SignatureVerifier`.
"""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

from tests.fakes.slack_api import SlackStandIn
from tests.fakes.workspace import SIGNING_SECRET

__all__ = ["new_trigger_id", "parents", "response_posts", "sign", "slash_command_body"]


def new_trigger_id() -> str:
    return f"{uuid.uuid4().int % 10**12}.0.{uuid.uuid4().hex[:16]}"


def sign(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body)
    return {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": signature or ""}


def slash_command_body(text: str, *, user: str, channel: str, response_url: str) -> str:
    """A `/restore-index` slash-command payload as Slack sends it (form-encoded), with a fresh trigger_id."""
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": "T0TEST",
            "team_domain": "example",
            "channel_id": channel,
            "channel_name": "restores",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/restore-index",
            "text": text,
            "api_app_id": "A0RESTORE",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": new_trigger_id(),
        }
    )


def parents(slack: SlackStandIn, channel: str) -> list[dict[str, Any]]:
    """Top-level messages the bot posted in `channel` (thread replies left out)."""
    return [m for m in slack.messages_in(channel) if m.get("thread_ts") in (None, m["ts"])]


def response_posts(slack: SlackStandIn, response_url: str) -> list[dict[str, Any]]:
    """What the bot sent to one response_url, oldest first."""
    return list(slack.responses.get(response_url.rsplit("/", 1)[1], []))
