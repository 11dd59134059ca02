"""The App Home tab: drawn, after the ack, with the approvals waiting for the person and their restores."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.service.use_cases import UseCases
from handlers.error_handler import after_ack


def register_home(app: AsyncApp, cases: UseCases) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        # Bolt acks an event when its listener returns; the tab is drawn after that.
        publish = cases.queries.publish_home(str(event["user"]))
        after_ack(cases, publish, body=body, name="draw the App Home")
