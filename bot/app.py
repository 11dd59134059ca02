"""The app factory: settings and services in, a wired Bolt `AsyncApp` out. No module-level app."""

from __future__ import annotations

import logging

from slack_bolt.async_app import AsyncApp

import handlers
from bot.services import Services


def create_app(services: Services) -> AsyncApp:
    settings = services.settings
    secret = settings.slack_signing_secret
    app = AsyncApp(
        client=services.slack,
        signing_secret=secret.get_secret_value() if secret else None,
        # Socket Mode frames are authenticated by the app token, not signed.
        request_verification_enabled=not settings.socket_mode,
        logger=logging.getLogger("bot.bolt"),
    )
    handlers.register(app, services)
    return app
