"""The App Home tab: the requests waiting for the person who opened it (named, or through a user group; never
their own), then their recent restores, published with views.publish."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.service.approval_policy import ALICE, APPROVAL_POLICY, BOB, CAROL, DAVE, ONCALL, plan_card
from tests.service.rig import Rig, build_rig


@pytest_asyncio.fixture
async def rig(pinecone: PineconeEmulator, slack: SlackStandIn, database: Path) -> AsyncIterator[Rig]:
    async with build_rig(pinecone, slack, database, policy=APPROVAL_POLICY) as built:
        yield built


def divider(view: dict[str, Any]) -> int:
    return next(i for i, block in enumerate(view["blocks"]) if block["type"] == "divider")


def waiting_part(view: dict[str, Any]) -> str:
    """What the tab lists under "Waiting for your approval" (up to the divider)."""
    return repr(view["blocks"][: divider(view)])


def recent_restores(view: dict[str, Any]) -> list[str]:
    """The lines under "Your recent restores" (after the divider)."""
    return [str(block["text"]["text"]) for block in view["blocks"][divider(view) :] if block["type"] == "section"]


async def home_of(rig: Rig, user: str) -> dict[str, Any]:
    published = len(rig.slack.calls_to("views.publish"))
    await rig.queries.publish_home(user)
    [call] = rig.slack.calls_to("views.publish")[published:]
    assert call.ok and call.args["user_id"] == user
    view: dict[str, Any] = call.args["view"]
    assert view["type"] == "home"
    return view


async def test_the_app_home_lists_the_requests_waiting_for_that_approver(rig: Rig, slack: SlackStandIn) -> None:
    slack.set_usergroup(ONCALL, [CAROL, ALICE])
    alices = await plan_card(rig, "prod-search", user=ALICE)
    bobs = await plan_card(rig, "prod-orders", user=BOB)
    decided = await plan_card(rig, "prod-billing", user=ALICE)
    assert await rig.approvals.deny(decided.id, user_id=BOB, reason="not needed") is None

    bob = waiting_part(await home_of(rig, BOB))
    assert "prod-search" in bob and f"<@{ALICE}>" in bob, "Bob is a named approver"
    assert "Open the plan card" in bob and "/archives/" in bob, "with a link to the plan card"
    assert "prod-orders" not in bob, "never his own request"
    assert "prod-billing" not in bob, "nor one already decided"

    carol = waiting_part(await home_of(rig, CAROL))
    assert "prod-search" in carol and "prod-orders" in carol, "Carol approves through the on-call group"
    assert "prod-billing" not in carol

    assert "Nothing is waiting for you" in waiting_part(await home_of(rig, DAVE)), "Dave may not approve"

    alice_view = await home_of(rig, ALICE)
    alice = waiting_part(alice_view)
    assert "prod-orders" in alice, "Alice approves Bob's request through the on-call group"
    assert "prod-search" not in alice, "but never her own, though the group may approve it"
    recent = recent_restores(alice_view)
    assert len(recent) == 2 and "prod-billing" in recent[0] and "prod-search" in recent[1], "her restores, newest first"
    assert "Denied" in recent[0] and "Waiting for approval" in recent[1]
    assert [job.id for job in await rig.queries.awaiting(CAROL)] == [alices.id, bobs.id]
