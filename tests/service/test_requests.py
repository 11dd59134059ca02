"""The request path's other answers: a refusal never reaches the channel, a second request for a running
restore is pointed at its thread, and a refusal found after a restart still reaches the requester."""

from __future__ import annotations

from bot.core.jobs import JobState, NoticeKind
from bot.core.outcomes import AlreadyRunning, RequestRefused, Started
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.workspace import CHANNEL, USER
from tests.service.rig import Rig

MISSING_BACKUP = "0b8c9d2e-1111-4222-8333-444455556666"


async def test_a_refused_request_is_answered_to_the_requester_and_never_reaches_the_channel(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    outcome = await rig.submit(MISSING_BACKUP, "restored-index")

    assert isinstance(outcome, RequestRefused) and f"no backup with ID `{MISSING_BACKUP}`" in outcome.reason
    job = await rig.only_job()
    assert job.state is JobState.REJECTED and job.reason == outcome.reason
    assert await rig.pending_notices(job.id) == [], "the request path answers the requester itself"
    await rig.delivery.deliver_due()
    assert rig.parents() == [] and slack.calls_to("chat.postEphemeral") == []
    assert pinecone.create_index_calls == []


async def test_a_second_request_for_a_running_restore_is_pointed_at_its_thread(
    rig: Rig, pinecone: PineconeEmulator
) -> None:
    backup = pinecone.add_backup()
    first = await rig.submit(backup["backup_id"], "restored-index")
    assert isinstance(first, Started) and first.thread_link is not None

    again = await rig.submit(backup["backup_id"], "restored-index", user="U0BOB0001")

    assert isinstance(again, AlreadyRunning) and again.existing.id == first.job.id, again
    assert again.thread_link == first.thread_link
    assert len(pinecone.create_index_calls) == 1 and len(await rig.store.recent_jobs()) == 1


async def test_a_request_refused_after_a_restart_is_told_to_the_requester_alone(
    rig: Rig, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    job = await rig.recorded(MISSING_BACKUP, "restored-index")  # recorded, then the bot restarted

    await rig.tracker.cycle()

    job = await rig.job(job.id)
    assert job.state is JobState.REJECTED
    assert [n.kind for n in await rig.pending_notices(job.id)] == [NoticeKind.REJECTED]
    await rig.delivery.deliver_due()
    [told] = slack.calls_to("chat.postEphemeral")
    assert told.ok and told.args["user"] == USER and told.args["channel"] == CHANNEL
    assert MISSING_BACKUP in told.args["text"] and "restored-index" in told.args["text"]
    assert rig.parents() == [], "no thread for a restore that never started"
    assert await rig.pending_notices(job.id) == []
