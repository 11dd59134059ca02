"""The app factory: settings and services in, a wired Bolt `AsyncApp` out. No module-level app."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp

import handlers
from bot.services import Services


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
        # Socket Mode frames are authenticated by the app token, not signed.
        request_verification_enabled=not settings.socket_mode,
        logger=logger,
    )
    handlers.register(app, services)
    return app
