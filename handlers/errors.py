"""The single error handler: log with a reference, tell the user the reference, never a traceback."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.unexpected import apology, log_unexpected

log = logging.getLogger(__name__)


def register_error_handler(app: AsyncApp) -> None:
    @app.error
    async def on_error(error: Exception, body: dict[str, Any], context: dict[str, Any]) -> BoltResponse:
        reference = log_unexpected(error, f"Slack request {body.get('command') or body.get('type') or 'unknown'}")
        response_url = body.get("response_url")
        # Only a request that passed verification and authorization may make the bot call a URL it names.
        if context.get("authorize_result") is not None and isinstance(response_url, str):
            try:
                await AsyncWebhookClient(response_url).send(text=apology(reference), response_type="ephemeral")
            except Exception as exc:  # the apology is best effort; the error is already logged
                log.warning("could not deliver the error reference %s: %s", reference, type(exc).__name__)
        # 200: Slack would show its own "failed with the error" banner for a 5xx and retry events.
        return BoltResponse(status=200, body="")
