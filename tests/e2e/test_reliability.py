"""Never lose or double a restore: kill -9 at every point, SIGTERM, duplicates, Pinecone and Slack faults.

Each test injects the fault against the real bot process and then checks what crossed the wire and
what is in the store: one create-index call, one index, one parent message, every job accounted for.
"""

from __future__ import annotations

import asyncio
import math
import signal
import sqlite3
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents, response_posts
from tests.fakes.workspace import CHANNEL


def replies_with(slack: SlackStandIn, ts: str, fragment: str) -> list[dict[str, Any]]:
    return [m for m in slack.thread(CHANNEL, ts) if fragment in m.get("text", "")]


async def ready_in_one_thread(slack: SlackStandIn, pinecone: PineconeEmulator, bot: BotProcess) -> dict[str, Any]:
    """Wait for the one restore to be Ready and check it made one index, one parent, one final reply."""
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL), timeout=20)
    await slack.wait_for(lambda: replies_with(slack, parent["ts"], "is ready"), timeout=30)
    assert [m["ts"] for m in parents(slack, CHANNEL)] == [parent["ts"]], "exactly one parent message"
    assert len(replies_with(slack, parent["ts"], "is ready")) == 1
    assert len(replies_with(slack, parent["ts"], "Pinecone accepted")) == 1
    assert len(pinecone.restore_jobs()) == 1 and len(pinecone.indexes()) == 1
    assert [job["state"] for job in bot.jobs()] == ["ready"]
    return parent


# -- crashes and restarts ---------------------------------------------------------------------------


async def test_kill_9_before_create_index_then_restart_restores_once(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    pinecone.inject("GET", "/backups/*", status=0, delay=30.0)  # the bot dies while checking the backup
    async with start_bot() as first:
        await first.command(f"{backup['backup_id']} restored-index")
        await pinecone.wait_for(lambda: pinecone.calls("GET", "/backups/*"))
        await first.kill()
    assert [job["state"] for job in first.jobs()] == ["requested"]
    assert pinecone.create_index_calls == []
    async with start_bot() as second:
        await ready_in_one_thread(slack, pinecone, second)
    assert len(pinecone.create_index_calls) == 1


async def test_kill_9_during_create_index_is_reconciled_not_repeated(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    # Pinecone applies the request at once; the bot dies before the answer arrives.
    pinecone.inject("POST", "/backups/*/create-index", status=503, then_process=True, delay=30.0)
    async with start_bot() as first:
        await first.command(f"{backup['backup_id']} restored-index")
        await pinecone.wait_for(lambda: pinecone.restore_jobs())
        await first.kill()
    assert [job["state"] for job in first.jobs()] == ["submitting"]
    async with start_bot() as second:
        await ready_in_one_thread(slack, pinecone, second)
    assert len(pinecone.create_index_calls) == 1


async def test_kill_9_after_slack_took_the_parent_does_not_post_a_second_one(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 1.0)
    # Slack stores the parent message, but the bot dies before hearing its ts.
    slack.inject("chat.postMessage", status=503, then_process=True, delay=30.0)
    async with start_bot() as first:
        await first.command(f"{backup['backup_id']} restored-index")
        await slack.wait_for(lambda: parents(slack, CHANNEL))
        await first.kill()
    [job] = first.jobs()
    assert job["state"] == "restoring" and job["message_ts"] is None
    async with start_bot() as second:
        await ready_in_one_thread(slack, pinecone, second)


async def test_sigterm_finishes_in_flight_work_and_refuses_new_requests_clearly(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.5)
    pinecone.inject("POST", "/backups/*/create-index", status=0, delay=4.0)  # slow, but it will answer
    async with start_bot() as first:
        command = await first.command(f"{backup['backup_id']} restored-index")
        await pinecone.wait_for(lambda: pinecone.create_index_calls)
        assert first.process is not None
        first.process.send_signal(signal.SIGTERM)
        await first.wait_for_log("shutting down")
        late = await first.command(f"{backup['backup_id']} another-index")
        assert "restarting" in late.ack_text and "Try again in a minute" in late.ack_text
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{first.url}/healthz")).status_code == 503
        assert await first.stop() == 0
    assert "restore-bot stopped" in first.log
    assert [job["index_name"] for job in first.jobs()] == ["restored-index"], "nothing recorded for the late one"
    assert first.jobs()[0]["state"] == "restoring", "the in-flight create-index was allowed to finish"
    assert "started" in response_posts(slack, command.response_url)[-1]["text"]
    async with start_bot() as second:
        await ready_in_one_thread(slack, pinecone, second)
    assert len(pinecone.create_index_calls) == 1


# -- duplicates and races ----------------------------------------------------------------------------


async def test_simultaneous_requests_for_one_name_start_one_restore(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 1.0)
    users = ["U0ALICE01", "U0BOB0001", "U0CAROL01", "U0DAVE001", "U0ERIN001"]
    commands = await asyncio.gather(
        *(bot.command(f"{backup['backup_id']} restored-index", user=user) for user in users)
    )
    answers = [
        (await slack.wait_for(lambda c=c: response_posts(slack, c.response_url), timeout=20))[-1]["text"]
        for c in commands
    ]
    started = [a for a in answers if "started" in a]
    running = [a for a in answers if "already running" in a]
    assert len(started) == 1 and len(running) == len(users) - 1, answers
    assert all(f"<#{CHANNEL}>" in a or "See its thread" in a for a in running)
    await ready_in_one_thread(slack, pinecone, bot)
    assert len(pinecone.create_index_calls) == 1


async def test_a_burst_of_restores_in_one_channel_is_spread_within_slacks_rate_limits(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.enable_rate_limits()  # Slack's documented limits: about one post a second per channel, short bursts
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], math.inf)  # only the parents and "started" replies
    names = [f"restored-{n}" for n in range(8)]
    await asyncio.gather(*(bot.command(f"{backup['backup_id']} {name}") for name in names))

    def threads_started() -> bool:
        posted = parents(slack, CHANNEL)
        return len(posted) == len(names) and all(slack.thread(CHANNEL, p["ts"]) for p in posted)

    await slack.wait_for(threads_started, timeout=40)
    assert not slack.rate_limited, "every post went out within the limits, none was answered 429"
    assert len(slack.calls_to("chat.postMessage")) == 2 * len(names), "and none was retried or dropped"


async def test_a_retried_slack_delivery_does_nothing_twice(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    body, _ = bot.command_body(f"{backup['backup_id']} restored-index")
    first = await bot.post(body, content_type="application/x-www-form-urlencoded")
    again = await bot.post(body, content_type="application/x-www-form-urlencoded")  # same trigger_id
    assert first.status_code == again.status_code == 200
    assert "Checking backup" in first.text and again.content == b""
    await ready_in_one_thread(slack, pinecone, bot)
    assert len(pinecone.create_index_calls) == 1


async def test_a_slack_retry_after_a_restart_is_still_recognised(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    async with start_bot() as first:
        body, _ = first.command_body(f"{backup['backup_id']} restored-index")
        await first.post(body, content_type="application/x-www-form-urlencoded")
        await ready_in_one_thread(slack, pinecone, first)
        await first.stop()  # SIGTERM: the last seen keys are saved on the way out
    async with start_bot() as second:
        again = await second.post(body, content_type="application/x-www-form-urlencoded")
        assert again.status_code == 200 and again.content == b""
    assert len(pinecone.create_index_calls) == 1 and len(second.jobs()) == 1


# -- transient faults --------------------------------------------------------------------------------


async def test_a_pinecone_outage_while_tracking_is_said_once_and_its_end_once(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.5)
    pinecone.inject("GET", "/restore-jobs", status=503, times=6)
    pinecone.inject("GET", "/restore-jobs", status=429, retry_after=0.2, times=2)
    pinecone.inject("GET", "/restore-jobs", status=0, drop_connection=True, times=1)
    await bot.command(f"{backup['backup_id']} restored-index")
    parent = await ready_in_one_thread(slack, pinecone, bot)
    outage = replies_with(slack, parent["ts"], "has not answered since")
    recovered = replies_with(slack, parent["ts"], "answering again")
    assert len(outage) == 1 and len(recovered) == 1
    thread = slack.thread(CHANNEL, parent["ts"])
    assert (
        thread.index(outage[0])
        < thread.index(recovered[0])
        < thread.index(replies_with(slack, parent["ts"], "is ready")[0])
    )


async def test_slack_rate_limits_and_outages_delay_messages_but_never_the_restore(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.5)
    slack.inject("chat.postMessage", status=429, retry_after=1)  # slack_sdk's handler waits it out
    slack.inject("chat.postMessage", status=503, times=4)  # then Slack is down for a while
    slack.inject("chat.update", status=503, times=3)
    await bot.command(f"{backup['backup_id']} restored-index")
    await slack.wait_for(lambda: bot.jobs() and bot.jobs()[0]["state"] == "ready", timeout=20)
    # A post answered 503 may have been stored, so it is never repeated at once: the sender looks for it and
    # tries again after its back-off (2 s doubling, with jitter): four 503s take up to 30 s to get through.
    await slack.wait_for(lambda: parents(slack, CHANNEL), timeout=40)
    parent = await ready_in_one_thread(slack, pinecone, bot)
    assert "Ready" in repr(slack.message(CHANNEL, parent["ts"])["blocks"])


async def test_parent_updates_that_pile_up_are_sent_once_with_the_newest_state(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 1.0)
    slack.inject("chat.update", status=200, error="service_unavailable", times=50, delay=0.0)
    await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    await slack.wait_for(lambda: bot.jobs()[0]["state"] == "ready", timeout=20)
    failed_updates = len(slack.calls_to("chat.update"))
    slack.clear_faults()
    await slack.wait_for(lambda: "Ready" in repr(slack.message(CHANNEL, parent["ts"])["blocks"]), timeout=20)
    successful = [c for c in slack.calls_to("chat.update")[failed_updates:] if c.ok]
    assert len(successful) == 1, "one update carried the newest state; the stale ones were never sent"


# -- store trouble ----------------------------------------------------------------------------------


async def test_a_locked_store_refuses_clearly_sends_nothing_and_recovers(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    blocker = sqlite3.connect(bot.database, isolation_level=None, timeout=0)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        command = await bot.command(f"{backup['backup_id']} restored-index")
        assert "Checking backup" in command.ack_text
        help_during = await bot.command("help")
        assert "/restore-index <backup_id>" in help_during.ack_text, "the bot keeps serving"
        [answer] = await slack.wait_for(lambda: response_posts(slack, command.response_url), timeout=20)
        assert "could not record your request" in answer["text"] and "nothing was sent" in answer["text"]
        assert pinecone.requests == []
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    await bot.command(f"{backup['backup_id']} restored-index")
    await ready_in_one_thread(slack, pinecone, bot)
