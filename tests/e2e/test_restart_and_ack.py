"""The ack never waits for Pinecone, and a restart resumes tracking in the original thread."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents, response_posts
from tests.fakes.workspace import CHANNEL


async def test_the_ack_returns_while_pinecone_is_still_thinking(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.inject("GET", "/backups/*", status=0, delay=4.0)  # slower than Slack's 3 seconds
    command = await bot.command(f"{backup['backup_id']} restored-index")
    assert command.response.status_code == 200 and "Checking backup" in command.ack_text
    [describe] = await pinecone.wait_for(lambda: pinecone.calls("GET", "/backups/*"))
    assert describe.status is None, "Slack was answered before Pinecone answered the bot"
    await slack.wait_for(lambda: response_posts(slack, command.response_url), timeout=20)


async def test_kill_9_while_restoring_resumes_in_the_same_thread(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 3.0)
    async with start_bot() as first:
        await first.command(f"{backup['backup_id']} restored-index")
        [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
        await slack.wait_for(lambda: slack.thread(CHANNEL, parent["ts"]))  # "Pinecone accepted"
        await first.kill()
    assert [job["state"] for job in first.jobs()] == ["restoring"]

    async with start_bot() as second:
        ready = await slack.wait_for(
            lambda: [m for m in slack.thread(CHANNEL, parent["ts"]) if "is ready" in m["text"]], timeout=20
        )
        assert len(ready) == 1
        assert [job["state"] for job in second.jobs()] == ["ready"]
    assert len(pinecone.create_index_calls) == 1
    assert [m["ts"] for m in parents(slack, CHANNEL)] == [parent["ts"]], "no second parent message"
