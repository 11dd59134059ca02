"""The log is structured: one JSON object per line, one event per job state change, no secret."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.fakes.fixtures import PINECONE_API_KEY, SLACK_BOT_TOKEN
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents
from tests.fakes.workspace import CHANNEL, SIGNING_SECRET, USER


def events(bot: BotProcess) -> list[dict[str, Any]]:
    parsed = []
    for line in bot.log_lines:
        try:
            parsed.append(json.loads(line))
        except ValueError as exc:
            raise AssertionError(f"not a JSON log line: {line!r}") from exc
    return parsed


async def test_json_lines_with_one_event_per_state_change(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    await slack.wait_for(lambda: [m for m in slack.thread(CHANNEL, parent["ts"]) if "is ready" in m["text"]])
    await bot.stop()

    records = events(bot)
    assert all({"timestamp", "level", "event", "logger"} <= set(r) for r in records)
    changes = [r for r in records if r["event"] == "job.state_changed"]
    [job] = bot.jobs()
    assert [(c.get("from_state"), c["to_state"]) for c in changes] == [
        (None, "requested"),
        ("requested", "submitting"),
        ("submitting", "restoring"),
        ("restoring", "ready"),
    ]
    for change in changes:
        assert change["job_id"] == job["id"] and change["index_name"] == "restored-index"
        assert change["requester_id"] == USER
    text = "\n".join(bot.log_lines)
    for secret in (PINECONE_API_KEY, SLACK_BOT_TOKEN, SIGNING_SECRET):
        assert secret not in text


async def test_console_format_for_people(start_bot: StartBot) -> None:
    async with start_bot(RESTORE_BOT_LOG_FORMAT="console") as bot:
        line = await bot.wait_for_log("restore-bot ready")
    assert not line.startswith("{") and "[info" in line
