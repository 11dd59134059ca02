"""Thin Slack listeners: Slack payloads in, domain calls, Slack responses out."""

from slack_bolt.async_app import AsyncApp

from bot.app.wiring import Services
from handlers.approvals import register_approvals
from handlers.commands import register_commands
from handlers.dedupe import register_dedupe
from handlers.error_handler import register_error_handler
from handlers.home import register_home
from handlers.modal import register_modal


def register(app: AsyncApp, services: Services) -> None:
    register_dedupe(app, services.seen)
    register_commands(app, services)
    register_approvals(app, services)
    register_modal(app, services)
    register_home(app, services)
    register_error_handler(app)


__all__ = ["register"]
