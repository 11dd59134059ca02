"""Restores that fail or never finish are said in the thread and announced in the incident channel;
create-index outcomes that are unknown are reconciled, never blindly repeated."""

from __future__ import annotations

import math
from typing import Any

from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents, response_posts
from tests.fakes.workspace import CHANNEL, INCIDENT_CHANNEL, USER


def reply_containing(slack: SlackStandIn, ts: str, fragment: str) -> dict[str, Any] | None:
    return next((m for m in slack.thread(CHANNEL, ts) if fragment in m.get("text", "")), None)


async def test_failed_restore_job_is_said_in_thread_and_incident_channel(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.5)
    pinecone.fail_restore(backup["backup_id"], at_percent=40.0)
    await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))

    failed = await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "failed"))
    assert f"<@{USER}>" in failed["text"] and "Failed" in failed["text"]
    [notice] = await slack.wait_for(lambda: slack.messages_in(INCIDENT_CHANNEL))
    assert "restored-index" in notice["text"] and "Failed" in notice["text"]
    assert f"/archives/{CHANNEL}/p" in notice["text"], "the notice links to the thread"
    assert "Failed" in repr(slack.message(CHANNEL, parent["ts"])["blocks"])
    assert [job["state"] for job in bot.jobs()] == ["failed"]


async def test_index_initialization_failure_is_a_failure(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    pinecone.fail_index_init(backup["backup_id"])
    await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    failed = await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "InitializationFailed"))
    assert f"<@{USER}>" in failed["text"]
    await slack.wait_for(lambda: slack.messages_in(INCIDENT_CHANNEL))
    assert [job["state"] for job in bot.jobs()] == ["failed"]


async def test_restore_not_ready_in_time_is_timed_out(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], math.inf)
    async with start_bot(RESTORE_BOT_RESTORE_TIMEOUT="1.5") as bot:
        await bot.command(f"{backup['backup_id']} restored-index")
        [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
        timed_out = await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "timed out"))
        assert f"<@{USER}>" in timed_out["text"] and "RESTORE_BOT_RESTORE_TIMEOUT" in timed_out["text"]
        [notice] = await slack.wait_for(lambda: slack.messages_in(INCIDENT_CHANNEL))
        assert "timed out" in notice["text"] and "restored-index" in notice["text"]
        assert [job["state"] for job in bot.jobs()] == ["timed_out"]


async def test_without_an_incident_channel_the_notice_stays_in_the_thread(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    pinecone.fail_restore(backup["backup_id"], at_percent=20.0)
    async with start_bot(RESTORE_BOT_INCIDENT_CHANNEL=None) as bot:
        await bot.command(f"{backup['backup_id']} restored-index")
        [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
        await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "failed"))
        await slack.wait_for(lambda: bot.jobs() and bot.jobs()[0]["state"] == "failed")
    assert slack.messages_in(INCIDENT_CHANNEL) == []
    assert [m["ts"] for m in parents(slack, CHANNEL)] == [parent["ts"]]


async def test_a_lost_create_index_answer_is_reconciled_not_repeated(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    # Pinecone creates the index but the answer is a 503: the bot must find it, not create again.
    pinecone.inject("POST", "/backups/*/create-index", status=503, then_process=True)
    command = await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "is ready"), timeout=20)
    assert len(pinecone.create_index_calls) == 1
    assert len(pinecone.restore_jobs()) == 1
    [answer] = await slack.wait_for(lambda: response_posts(slack, command.response_url))
    assert "started" in answer["text"]


async def test_a_create_index_whose_answer_never_comes_is_reconciled(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    pinecone.inject("POST", "/backups/*/create-index", status=0, then_process=True, drop_connection=True)
    await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "is ready"), timeout=20)
    assert len(pinecone.create_index_calls) == 1
    assert len(pinecone.indexes()) == 1


async def test_a_create_index_slower_than_the_bot_proceeds_once(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    # Applied at once, answered after the bot has given up waiting.
    pinecone.inject("POST", "/backups/*/create-index", status=503, then_process=True, delay=2.0)
    async with start_bot(RESTORE_BOT_PINECONE_TIMEOUT="0.5") as bot:
        await bot.command(f"{backup['backup_id']} restored-index")
        [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
        await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "is ready"), timeout=20)
        assert len(pinecone.create_index_calls) == 1
        assert len(pinecone.restore_jobs()) == 1


async def test_a_slow_create_index_that_lands_late_is_still_one_restore(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    # Not applied until long after the bot gave up: reconcile finds nothing, so it sends once more.
    pinecone.inject("POST", "/backups/*/create-index", status=0, delay=1.5)
    async with start_bot(RESTORE_BOT_PINECONE_TIMEOUT="0.5") as bot:
        await bot.command(f"{backup['backup_id']} restored-index")
        [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
        await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "is ready"), timeout=20)
        await pinecone.wait_for(lambda: all(r.status is not None for r in pinecone.create_index_calls))
        assert len(pinecone.restore_jobs()) == 1 and len(pinecone.indexes()) == 1
        assert [job["state"] for job in bot.jobs()] == ["ready"]


async def test_a_create_index_that_failed_before_processing_is_sent_again(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    pinecone.inject("POST", "/backups/*/create-index", status=503)  # not applied
    await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "is ready"), timeout=20)
    assert len(pinecone.create_index_calls) == 2, "looked first, found nothing, then sent once more"
    listed_before_retry = [
        r
        for r in pinecone.calls("GET", "/restore-jobs")
        if pinecone.create_index_calls[0].time < r.time < pinecone.create_index_calls[1].time
    ]
    assert listed_before_retry, "the bot reconciled before sending create-index again"
    assert len(pinecone.restore_jobs()) == 1


async def test_create_index_rate_limit_is_waited_out(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    pinecone.inject("POST", "/backups/*/create-index", status=429, retry_after=0.2)
    await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "is ready"), timeout=20)
    first, second = pinecone.create_index_calls
    assert second.time - first.time >= 0.2
    assert len(pinecone.restore_jobs()) == 1


async def test_tracking_survives_a_burst_of_pinecone_errors(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.5)
    pinecone.inject("GET", "/restore-jobs", status=503, times=6)
    await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "is ready"), timeout=30)
    assert [job["state"] for job in bot.jobs()] == ["ready"]
