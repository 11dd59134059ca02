"""Requests that need a second person: approve, deny, cancel, expire, and two approvers at once.

The policy asks for approval of every restore in the channel, from Bob or the on-call user group.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

from bot.core import render
from bot.core.jobs import JobState
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.service.approval_policy import (
    ALICE,
    APPROVAL_POLICY,
    BOB,
    CAROL,
    DAVE,
    ONCALL,
    TIMEOUT_MINUTES,
    has_buttons,
    plan_card,
)
from tests.service.rig import Rig, build_rig, texts_with


@pytest_asyncio.fixture
async def rig(pinecone: PineconeEmulator, slack: SlackStandIn, database: Path) -> AsyncIterator[Rig]:
    async with build_rig(pinecone, slack, database, policy=APPROVAL_POLICY) as built:
        yield built


async def test_an_approval_starts_exactly_one_restore_in_the_plan_cards_thread(
    rig: Rig, pinecone: PineconeEmulator
) -> None:
    job = await plan_card(rig)
    assert pinecone.create_index_calls == [], "nothing is written to Pinecone before the approval"

    assert await rig.approvals.approve(job.id, user_id=BOB, reason="incident 4711") is None
    await rig.background_done()

    job = await rig.job(job.id)
    assert job.state is JobState.RESTORING and job.decided_by == BOB and job.decision_reason == "incident 4711"
    [create] = pinecone.create_index_calls
    assert create.json["name"] == "prod-search" and create.json["tags"]["restored-by"] == ALICE
    assert await rig.decisions(job.id) == [("approved", BOB, "incident 4711")]

    await rig.delivery.deliver_due()
    thread = rig.thread(job)
    [approved] = texts_with(thread, "Approved by")
    assert f"<@{BOB}>" in approved and "incident 4711" in approved
    assert thread.index(approved) < thread.index(texts_with(thread, "Pinecone accepted")[0])
    assert [p["ts"] for p in rig.parents()] == [job.message_ts], "the plan card is the restore's thread"
    assert not has_buttons(rig, job)

    assert await rig.approvals.approve(job.id, user_id=BOB, reason="again") is not None
    await rig.background_done()
    assert len(pinecone.create_index_calls) == 1, "a second approval starts nothing"


async def test_two_approvals_at_once_start_one_restore_and_the_second_is_told_who_decided(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.set_usergroup(ONCALL, [CAROL])
    job = await plan_card(rig)

    bob, carol = await asyncio.gather(
        rig.approvals.approve(job.id, user_id=BOB, reason="bob says yes"),
        rig.approvals.approve(job.id, user_id=CAROL, reason="carol says yes"),
    )
    await rig.background_done()

    assert [bob, carol].count(None) == 1, (bob, carol)
    winner, refusal = (BOB, carol) if bob is None else (CAROL, bob)
    assert refusal is not None and f"<@{winner}>" in refusal, refusal
    assert len(pinecone.create_index_calls) == 1
    [(decision, by, _)] = await rig.decisions(job.id)
    assert (decision, by) == ("approved", winner)
    await rig.delivery.deliver_due()
    assert len(texts_with(rig.thread(await rig.job(job.id)), "Approved by")) == 1


async def test_the_requester_cannot_approve_their_own_request(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.set_usergroup(ONCALL, [ALICE, CAROL])  # Alice approves through the group, but she asked
    job = await plan_card(rig, user=ALICE)

    own = await rig.approvals.approve(job.id, user_id=ALICE, reason="me")
    assert own is not None and "own" in own.lower(), own
    denied_own = await rig.approvals.deny(job.id, user_id=ALICE, reason="me")
    assert denied_own is not None and "own" in denied_own.lower(), denied_own
    stranger = await rig.approvals.approve(job.id, user_id=DAVE, reason="me")
    assert stranger is not None and "approver" in stranger.lower(), stranger
    await rig.background_done()

    assert (await rig.job(job.id)).state is JobState.AWAITING_APPROVAL
    assert await rig.decisions(job.id) == [] and pinecone.create_index_calls == []
    assert await rig.approvals.approve(job.id, user_id=CAROL, reason="on call") is None, "another group member may"


async def test_a_denial_needs_a_reason_and_records_it(rig: Rig, pinecone: PineconeEmulator) -> None:
    job = await plan_card(rig)
    for blank in (None, ""):
        assert await rig.approvals.deny(job.id, user_id=BOB, reason=blank) == render.DENIAL_NEEDS_A_REASON
    assert (await rig.job(job.id)).state is JobState.AWAITING_APPROVAL

    assert await rig.approvals.deny(job.id, user_id=BOB, reason="use yesterday's backup") is None

    job = await rig.job(job.id)
    assert job.state is JobState.DENIED and job.decided_by == BOB and job.decision_reason == "use yesterday's backup"
    assert await rig.decisions(job.id) == [("denied", BOB, "use yesterday's backup")]
    await rig.delivery.deliver_due()
    [denied] = texts_with(rig.thread(job), "denied")
    assert f"<@{ALICE}>" in denied and f"<@{BOB}>" in denied and "use yesterday's backup" in denied
    assert not has_buttons(rig, job) and "Denied" in rig.parent_text(job)
    assert pinecone.create_index_calls == []


async def test_only_the_requester_can_cancel(rig: Rig, pinecone: PineconeEmulator) -> None:
    job = await plan_card(rig)

    refusal = await rig.approvals.cancel(job.id, user_id=BOB)
    assert refusal == f"Only <@{ALICE}>, who asked for this restore, can cancel it."
    assert (await rig.job(job.id)).state is JobState.AWAITING_APPROVAL

    assert await rig.approvals.cancel(job.id, user_id=ALICE) is None
    job = await rig.job(job.id)
    assert job.state is JobState.CANCELLED and await rig.decisions(job.id) == [("cancelled", ALICE, None)]
    await rig.delivery.deliver_due()
    assert texts_with(rig.thread(job), f"Cancelled by <@{ALICE}>")
    assert not has_buttons(rig, job)

    late = await rig.approvals.approve(job.id, user_id=BOB, reason="too late")
    assert late is not None and "no longer waiting" in late and "cancelled" in late, late
    await rig.background_done()
    assert pinecone.create_index_calls == []


async def test_an_unanswered_request_expires_in_a_tracker_cycle_after_its_deadline(
    rig: Rig, pinecone: PineconeEmulator
) -> None:
    job = await plan_card(rig)
    assert job.approval_expires_at is not None
    rig.clock.advance(TIMEOUT_MINUTES * 60 - 1)
    await rig.tracker.cycle()
    assert (await rig.job(job.id)).state is JobState.AWAITING_APPROVAL, "not before its deadline"

    rig.clock.advance(2)
    await rig.tracker.cycle()

    job = await rig.job(job.id)
    assert job.state is JobState.EXPIRED and await rig.decisions(job.id) == [("expired", "restore-bot", None)]
    await rig.delivery.deliver_due()
    [expired] = texts_with(rig.thread(job), "expired")
    assert f"<@{ALICE}>" in expired
    assert not has_buttons(rig, job)
    late = await rig.approvals.approve(job.id, user_id=BOB, reason="sorry, was away")
    assert late is not None and "expired" in late
    await rig.background_done()
    assert pinecone.create_index_calls == []


async def test_an_approver_too_late_is_told_the_request_was_approved_and_by_whom(rig: Rig, slack: SlackStandIn) -> None:
    slack.set_usergroup(ONCALL, [CAROL, DAVE])
    job = await plan_card(rig)
    bob, carol = await asyncio.gather(
        rig.approvals.approve(job.id, user_id=BOB, reason="bob says yes"),
        rig.approvals.approve(job.id, user_id=CAROL, reason="carol says yes"),
    )
    await rig.background_done()
    assert (await rig.job(job.id)).state is JobState.RESTORING
    late = await rig.approvals.approve(job.id, user_id=DAVE, reason="dave says yes")

    refusals = [text for text in (bob, carol, late) if text is not None]
    assert len(refusals) == 2
    for refusal in refusals:
        assert "approved by <@" in refusal, refusal
