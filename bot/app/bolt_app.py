"""The app factory: settings and services in, a wired Bolt `AsyncApp` out. No module-level app."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp

import handlers
from bot.app.wiring import Services


def _not_the_token_warning(record: logging.LogRecord) -> bool:
    # Bolt reads SLACK_BOT_TOKEN from the environment by itself and then warns that our client
    # (which carries the same token, plus SLACK_API_URL and retry handlers) wins. That is intended.
    return "`token` will be unused" not in record.getMessage()


def create_app(services: Services) -> AsyncApp:
    settings = services.settings
    secret = settings.slack_signing_secret
    logger = logging.getLogger("bot.bolt")
    logger.addFilter(_not_the_token_warning)
    app = AsyncApp(
        client=services.slack,
        signing_secret=secret.get_secret_value() if secret else None,
        # Checked once, where it means something: bot/app/server.py verifies the raw bytes before Bolt is
        # given the request (Bolt would repeat the same HMAC over the same bytes), and Socket Mode frames
        # are authenticated by the app token.
        request_verification_enabled=False,
        # Answer as soon as the listener returns instead of polling for ack() in 10 ms steps; every
        # listener acks, then hands what follows to a background task (handlers.error_handler.after_ack).
        process_before_response=True,
        logger=logger,
    )
    handlers.register(app, services.cases)
    return app
