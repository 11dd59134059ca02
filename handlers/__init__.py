"""Inbound Slack listeners: each acks, calls one use case, and renders its result.

No policy, no store, no Pinecone here: those are the use cases' (bot/service), reached through the
`UseCases` the app wires (bot/app/wiring.py).
"""

from slack_bolt.async_app import AsyncApp

from bot.service.use_cases import UseCases
from handlers.commands import register_commands
from handlers.dedupe import register_dedupe
from handlers.error_handler import register_error_handler
from handlers.home import register_home
from handlers.modal import register_modal
from handlers.plan_card import register_approvals


def register(app: AsyncApp, cases: UseCases) -> None:
    register_dedupe(app, cases.seen)
    register_commands(app, cases)
    register_approvals(app, cases)
    register_modal(app, cases)
    register_home(app, cases)
    register_error_handler(app)


__all__ = ["register"]
