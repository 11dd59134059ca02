"""The App Home tab: approvals waiting for the person who opened it, and their recent restores."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.app.wiring import Services
from bot.core import render
from bot.core.jobs import Job, JobState
from handlers.error_handler import after_ack


def register_home(app: AsyncApp, services: Services) -> None:
    @app.event("app_home_opened")
    async def on_home_opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        # Bolt acks an event when its listener returns; the tab is drawn after that.
        after_ack(services, _publish(services, str(event["user"])), body=body, name="draw the App Home")


async def _publish(services: Services, user_id: str) -> None:
    mine = await services.store.recent_jobs(requester_id=user_id, limit=20)
    waiting = [(job, await services.delivery.link(job)) for job in await awaiting(services, user_id)]
    await services.slack.views_publish(user_id=user_id, view=render.home_view(mine, waiting))


async def awaiting(services: Services, user_id: str) -> list[Job]:
    """Pending requests this person may decide (named, or through a group; never their own)."""
    pending = [job for job in await services.store.active_jobs() if job.state is JobState.AWAITING_APPROVAL]
    groups = frozenset(approver for job in pending for approver in job.approvers if approver.startswith("S"))
    mine = await services.groups.groups_of(user_id, groups) if groups else frozenset()
    return [
        job
        for job in pending
        if job.requester_id != user_id and (user_id in job.approvers or mine & set(job.approvers))
    ]
