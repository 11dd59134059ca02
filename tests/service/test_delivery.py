"""Slack delivery rounds, one `deliver_due()` at a time: what the store says Slack should show, delivered once,
in order, retried after Slack refuses, and found again after a crash rather than posted twice."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from bot.core.jobs import JobState, Notice, NoticeKind, check_in_after
from bot.service.ack_priority import AckPriority
from bot.service.delivery import SlackDelivery
from bot.slack.pacing import SlackPacing
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.workspace import CHANNEL, INCIDENT_CHANNEL, USER
from tests.service.rig import RestoreTimeline, Rig, texts_with


def parent_posts(rig: Rig) -> list[dict[str, object]]:
    """chat.postMessage calls for a parent message (thread replies left out), taken or refused."""
    return [args for args in rig.posts() if "thread_ts" not in args]


def check_in(number: int) -> Notice:
    """The `number`-th "still restoring" notice, as the tracker records it (its detail: the seconds)."""
    return Notice(kind=NoticeKind.CHECK_IN, detail=f"{check_in_after(number):.0f}")


async def test_the_parent_is_posted_once_and_then_redrawn_only_when_the_job_changes(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn, timeline: RestoreTimeline
) -> None:
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    assert rig.parents() == [] and job.message_ts is None, "nothing reaches Slack before a delivery round"

    await rig.delivery.deliver_due()
    job = await rig.job(job.id)
    [parent] = rig.parents()
    assert job.message_ts == parent["ts"] and job.parent_posting_since is None and not job.parent_dirty
    assert parent["metadata"]["event_payload"] == {"job_id": job.id, "part": "parent"}
    assert texts_with(rig.thread(job), "Pinecone accepted") and "accepted by Pinecone" in rig.parent_text(job)

    for _ in range(3):
        await rig.delivery.deliver_due()
    timeline.to(10 * 60)  # ten minutes in, Pinecone says Pending: stored for `status`, not drawn
    await rig.tracker.cycle()
    await rig.delivery.deliver_due()
    assert (await rig.job(job.id)).pinecone_status == "Pending"
    assert len(parent_posts(rig)) == 1 and slack.calls_to("chat.update") == [], "nothing changed that Slack shows"

    timeline.to(check_in_after(1))  # the first check-in: the parent says what Pinecone reports, as of now
    await rig.tracker.cycle()
    await rig.delivery.deliver_due()
    await rig.delivery.deliver_due()
    [update] = rig.updates_of(job)
    assert update["channel"] == CHANNEL and "Pinecone reports `Pending`" in repr(update["blocks"])
    assert "Pinecone reports `Pending`" in rig.parent_text(job)
    assert len(parent_posts(rig)) == 1 and len(rig.parents()) == 1


async def test_notices_are_delivered_in_the_order_they_were_recorded(
    rig: Rig, pinecone: PineconeEmulator, timeline: RestoreTimeline
) -> None:
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    for number in (1, 2):  # Slack hears of none of it yet
        timeline.to(check_in_after(number))
        await rig.tracker.cycle()
    timeline.complete()
    await rig.tracker.cycle()
    job = await rig.job(job.id)
    assert job.state is JobState.READY
    assert [(n.kind, n.detail) for n in await rig.pending_notices(job.id)] == [
        (NoticeKind.STARTED, None),
        (NoticeKind.CHECK_IN, "1800"),
        (NoticeKind.CHECK_IN, "3600"),
        (NoticeKind.FINISHED, None),
    ]

    await rig.delivery.deliver_due()
    job = await rig.job(job.id)
    thread = rig.thread(job)
    assert len(thread) == 4
    for text, expected in zip(
        thread, ("Pinecone accepted", "still restoring after 30m", "still restoring after 1h", "is ready"), strict=True
    ):
        assert expected in text, thread
    assert "Ready" in rig.parent_text(job), "the parent is drawn from the state when it is posted"
    assert rig.updates_of(job) == [], "so it is not redrawn at once"
    assert await rig.pending_notices(job.id) == []


async def test_a_notice_slack_refuses_is_retried_after_its_back_off_and_later_notices_wait_behind_it(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    await rig.delivery.deliver_due()
    job = await rig.job(job.id)
    for number in (1, 2):
        await rig.store.update(job.id, notices=(check_in(number),))
    slack.inject("chat.postMessage", status=200, error="internal_error")
    posted = len(rig.posts())

    await rig.delivery.deliver_due()
    assert len(rig.posts()) == posted + 1, "the second check-in was not tried while the first one failed"
    assert len(rig.thread(job)) == 1
    refused, waiting = await rig.pending_notices(job.id)
    assert (refused.detail, refused.attempts) == ("1800", 1) and (waiting.detail, waiting.attempts) == ("3600", 0)
    assert refused.next_attempt_at is not None
    back_off = (refused.next_attempt_at - rig.clock()).total_seconds()
    assert 1.0 <= back_off <= 2.0, back_off  # the first retry waits 1 to 2 s (jittered)

    await rig.delivery.deliver_due()
    rig.clock.advance(0.99)
    await rig.delivery.deliver_due()
    assert len(rig.posts()) == posted + 1, "not retried before its back-off passed"

    rig.clock.advance(1.02)
    await rig.delivery.deliver_due()
    thread = rig.thread(job)
    assert len(thread) == 3 and "still restoring after 30m" in thread[1], thread
    assert "still restoring after 1h" in thread[2], thread
    assert await rig.pending_notices(job.id) == []


async def test_a_parent_slack_refuses_is_retried_and_its_notices_wait_for_it(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    slack.inject("chat.postMessage", status=200, error="internal_error")
    await rig.delivery.deliver_due()
    job = await rig.job(job.id)
    assert job.message_ts is None and rig.parents() == [] and len(rig.posts()) == 1
    assert [n.kind for n in await rig.pending_notices(job.id)] == [NoticeKind.STARTED]

    await rig.delivery.deliver_due()
    assert len(rig.posts()) == 1, "not retried before its back-off passed"
    rig.clock.advance(2.01)
    await rig.delivery.deliver_due()
    job = await rig.job(job.id)
    assert [p["ts"] for p in rig.parents()] == [job.message_ts]
    assert texts_with(rig.thread(job), "Pinecone accepted")


async def test_after_a_crash_mid_post_the_parent_is_found_by_its_metadata_not_posted_twice(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    # Slack stores the parent, but its answer never reaches the bot.
    slack.inject("chat.postMessage", status=200, error="internal_error", then_process=True)
    await rig.delivery.deliver_due()
    job = await rig.job(job.id)
    [in_slack] = rig.parents()
    assert job.message_ts is None and job.parent_posting_since is not None

    # A restart: a new sender, which knows only what the store says.
    restarted = SlackDelivery(
        rig.store, rig.publisher, INCIDENT_CHANNEL, clock=rig.clock, pacing=SlackPacing(clock=rig.clock.monotonic)
    )
    await restarted.deliver_due()
    job = await rig.job(job.id)
    assert job.message_ts == in_slack["ts"] and job.parent_posting_since is None
    assert len(parent_posts(rig)) == 1 and [p["ts"] for p in rig.parents()] == [in_slack["ts"]]
    [looked] = slack.calls_to("conversations.history")
    assert looked.args["channel"] == CHANNEL
    assert texts_with(rig.thread(job), "Pinecone accepted"), "the notices follow in the found thread"

    await restarted.deliver_due()
    [redraw] = rig.updates_of(job)
    assert "Restoring" in repr(redraw["blocks"]), "the parent is redrawn: it was drawn before the restart"
    assert len(parent_posts(rig)) == 1


async def test_after_a_crash_mid_reply_the_notice_is_found_in_the_thread_not_posted_twice(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    await rig.delivery.deliver_due()
    job = await rig.job(job.id)
    await rig.store.update(job.id, notices=(check_in(1),))
    # Slack stores the check-in reply at once but answers late; the bot dies waiting (the round is cancelled).
    slack.inject("chat.postMessage", status=503, then_process=True, delay=0.5)
    crashed = asyncio.create_task(rig.delivery.deliver_due())
    await slack.wait_for(lambda: texts_with(rig.thread(job), "still restoring"))
    crashed.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await crashed
    [notice] = await rig.pending_notices(job.id)
    assert notice.kind is NoticeKind.CHECK_IN and notice.sending_since is not None

    restarted = SlackDelivery(
        rig.store, rig.publisher, INCIDENT_CHANNEL, clock=rig.clock, pacing=SlackPacing(clock=rig.clock.monotonic)
    )
    await restarted.deliver_due()
    assert await rig.pending_notices(job.id) == [], "found in the thread, so marked sent"
    assert len(texts_with(rig.thread(job), "still restoring")) == 1
    [looked] = slack.calls_to("conversations.replies")
    assert looked.args["ts"] == job.message_ts
    await slack.wait_for(lambda: all(call.response is not None for call in slack.calls))  # the late answer


async def test_a_parent_slack_stored_but_answered_503_is_not_posted_twice(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    slack.inject("chat.postMessage", status=503, then_process=True)  # Slack took it; its answer is a 503
    for _ in range(3):
        await rig.delivery.deliver_due()
        rig.clock.advance(5)
    job = await rig.job(job.id)
    assert job.message_ts is not None
    assert len(rig.parents()) == 1, [p["ts"] for p in rig.parents()]


async def test_a_thread_reply_slack_stored_but_answered_503_is_looked_for_not_posted_twice(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    await rig.delivery.deliver_due()  # the parent and the "accepted" reply
    job = await rig.job(job.id)
    before = len(rig.thread(job))
    await rig.store.update(job.id, notices=(Notice(kind=NoticeKind.OUTAGE, detail=rig.clock().isoformat()),))
    slack.inject("chat.postMessage", status=503, then_process=True)  # Slack took the reply; its answer is a 503
    for _ in range(3):
        await rig.delivery.deliver_due()
        rig.clock.advance(5)
    assert len(rig.thread(job)) == before + 1, rig.thread(job)
    assert await rig.pending_notices(job.id) == [], "found in the thread, so marked sent"
    assert slack.calls_to("conversations.replies"), "looked for before posting again"


async def test_a_parent_whose_connection_drops_after_slack_stored_it_is_looked_for_not_posted_twice(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    """A proxy or Slack's edge closes the connection before the answer: slack_sdk raises aiohttp's own error,
    which must count as "no answer" (the post may have landed), not break the delivery round."""
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    slack.inject("chat.postMessage", drop_connection=True, then_process=True)  # stored; the answer never comes
    for _ in range(3):
        await rig.delivery.deliver_due()
        rig.clock.advance(5)
    job = await rig.job(job.id)
    assert job.message_ts is not None
    assert len(rig.parents()) == 1, [p["ts"] for p in rig.parents()]
    assert slack.calls_to("conversations.history"), "looked for before posting again"


async def test_a_private_answer_that_may_have_reached_the_requester_is_not_sent_again(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    """A direct message answered 503 may have been delivered, and the bot cannot read its DMs to find out:
    it is dropped (and said in the log), never sent twice."""
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    await rig.delivery.deliver_due()
    await rig.store.update(job.id, notices=(Notice(kind=NoticeKind.UNREACHABLE),))
    slack.inject("chat.postMessage", status=503, then_process=True)  # Slack delivered the DM; its answer is a 503
    for _ in range(3):
        await rig.delivery.deliver_due()
        rig.clock.advance(60)
    assert len(slack.messages_in("D" + USER[1:])) == 1  # the bot's direct messages with the requester
    assert await rig.pending_notices(job.id) == [], "dropped, not left to send again"


async def restart_after_a_lost_parent_answer(rig: Rig, slack: SlackStandIn, chatter: int) -> tuple[SlackDelivery, str]:
    """Slack stores a parent whose answer never reaches the bot; `chatter` messages follow it in the channel; the
    bot restarts. Returns the new sender and the stored parent's ts."""
    slack.inject("chat.postMessage", status=200, error="internal_error", then_process=True)
    await rig.delivery.deliver_due()
    [in_slack] = rig.parents()
    for n in range(chatter):
        slack.someone_posts(CHANNEL, f"incident chatter {n}")
    restarted = SlackDelivery(
        rig.store, rig.publisher, INCIDENT_CHANNEL, clock=rig.clock, pacing=SlackPacing(clock=rig.clock.monotonic)
    )
    return restarted, str(in_slack["ts"])


async def test_a_parent_behind_a_busy_channels_first_page_of_history_is_found_not_posted_twice(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    restarted, in_slack = await restart_after_a_lost_parent_answer(rig, slack, chatter=450)

    await restarted.deliver_due()
    job = await rig.job(job.id)
    assert job.message_ts == in_slack
    assert len(parent_posts(rig)) == 1
    assert len(slack.calls_to("conversations.history")) == 3, "read page by page until it was found"


async def test_a_parent_that_a_look_up_cannot_reach_is_not_posted_again(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    """More messages since the attempt than a look-up reads: not finding it proves nothing."""
    backup = pinecone.add_backup()
    job = await rig.restoring(backup["backup_id"])
    restarted, _ = await restart_after_a_lost_parent_answer(rig, slack, chatter=1_100)

    await restarted.deliver_due()
    job = await rig.job(job.id)
    assert job.message_ts is None and job.parent_posting_since is not None, "still marked as possibly posted"
    assert len(parent_posts(rig)) == 1


async def test_the_senders_rounds_wait_while_a_burst_of_commands_is_being_answered(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    """On the leader, acks and the sender share one event loop: a burst's answers go first (as its restores do)."""
    acks = AckPriority(max_wait=30.0)
    sender = SlackDelivery(
        rig.store,
        rig.publisher,
        INCIDENT_CHANNEL,
        clock=rig.clock,
        pacing=SlackPacing(clock=rig.clock.monotonic),
        acks=acks,
    )
    backup = pinecone.add_backup()
    await rig.restoring(backup["backup_id"])  # its parent is due
    stopping = asyncio.Event()
    with acks.answering():  # a Slack request is being answered
        running = asyncio.create_task(sender.run(stopping))
        with pytest.raises(AssertionError):
            await slack.wait_for(lambda: rig.parents(), timeout=0.5)
    try:
        await slack.wait_for(lambda: rig.parents(), timeout=10)  # the burst is over: the round goes ahead
    finally:
        stopping.set()
        sender.wake()
        await running
