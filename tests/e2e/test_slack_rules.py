"""Slack as it really answers: channels the bot is not in, archived channels, missing scopes, permanent
errors, and approvals that hold at the click.

The stand-in applies Slack's documented rules for a bot token (tests/fakes/slack_api.py): a private
channel the bot is not in is invisible to it, reading history needs membership, an archived channel
takes nothing, a scope the app was not granted answers `missing_scope`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bot.core import ids
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess, Command
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents, response_posts
from tests.fakes.workspace import CHANNEL, INCIDENT_CHANNEL, USER

INVITE = "/invite @restore-bot"
BOB = "U0BOB0001"
ONCALL = "S0ONCALL01"


def notices(bot: BotProcess) -> list[dict[str, Any]]:
    with contextlib.closing(sqlite3.connect(bot.database)) as db:
        db.row_factory = sqlite3.Row
        return [dict(row) for row in db.execute("SELECT * FROM notices ORDER BY id")]


def told(slack: SlackStandIn, command: Command) -> str:
    """Everything the requester was told about a command: its ack and what came through its response_url."""
    return command.ack_text + "".join(str(post.get("text", "")) for post in response_posts(slack, command.response_url))


def replies_with(slack: SlackStandIn, channel: str, ts: str, fragment: str) -> list[dict[str, Any]]:
    return [m for m in slack.thread(channel, ts) if fragment in m.get("text", "")]


def calls_in(slack: SlackStandIn, channel: str, since: int = 0) -> list[str]:
    """The chat.* and conversations.* calls the bot made about `channel`, after the first `since` calls."""
    return [
        call.method
        for call in slack.calls[since:]
        if call.method.startswith(("chat.", "conversations.")) and call.args.get("channel") == channel
    ]


async def metric(bot: BotProcess, line_start: str) -> float:
    async with httpx.AsyncClient(base_url=bot.url, timeout=10.0) as client:
        text = (await client.get("/metrics")).text
    found = [line for line in text.splitlines() if line.startswith(line_start)]
    return float(found[0].rsplit(" ", 1)[1]) if found else 0.0


def settled(bot: BotProcess) -> bool:
    """No notice is waiting: each was sent or given up on."""
    return all(n["sent_at"] is not None or n["dropped_at"] is not None for n in notices(bot))


# -- crash recovery in a channel the bot never joined ----------------------------------------------------


async def test_kill_9_after_slack_took_a_parent_in_a_public_channel_the_bot_had_not_joined(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    # Any channel may restore ([defaults]); this public one was never joined: the bot posts there with
    # chat:write.public, but Slack will not let it read the channel's history until it joins.
    public = "C0PUBLIC01"
    slack.add_channel(public, name="anyone", is_member=False)
    policy = tmp_path / "policy.toml"
    policy.write_text(f'incident_channel = "{INCIDENT_CHANNEL}"\n[defaults]\nrequesters = ["*"]\n')
    overrides = {"RESTORE_BOT_POLICY": str(policy), "RESTORE_BOT_ALLOWED_CHANNELS": None}
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 1.0)
    # Slack stores the parent message, but the bot dies before hearing its ts.
    slack.inject("chat.postMessage", status=503, then_process=True, delay=30.0)
    async with start_bot(**overrides) as first:
        await first.command(f"{backup['backup_id']} restored-index", channel=public)
        await slack.wait_for(lambda: parents(slack, public))
        await first.kill()
    [job] = first.jobs()
    assert job["state"] == "restoring" and job["message_ts"] is None and job["parent_posting_since"]
    assert not slack.is_member(public)

    async with start_bot(**overrides) as second:
        [parent] = parents(slack, public)
        await slack.wait_for(lambda: replies_with(slack, public, parent["ts"], "is ready"), timeout=30)
        assert [m["ts"] for m in parents(slack, public)] == [parent["ts"]], "exactly one parent message"
        assert second.jobs()[0]["message_ts"] == parent["ts"]
    assert slack.is_member(public), "it joined to look its message up"
    history = [c for c in slack.calls_to("conversations.history") if c.args.get("channel") == public]
    assert [c.response["error"] if c.response and not c.ok else "ok" for c in history][:2] == ["not_in_channel", "ok"]
    assert len(pinecone.create_index_calls) == 1


# -- a private channel the bot is not in -------------------------------------------------------------------


async def test_an_allowed_private_channel_the_bot_is_not_in_refuses_up_front_and_failures_still_reach_incidents(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.add_channel(CHANNEL, name="restores", is_private=True, is_member=False)
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 1000.0)  # moves only when the test advances the clock
    pinecone.fail_restore(backup["backup_id"], at_percent=40.0)
    async with start_bot() as bot:
        line = await bot.wait_for_log(INVITE)
        assert CHANNEL in line, "start-up names the channel and the fix in one line"

        # Refused before anything is done, to the requester only, with the fix.
        refused = await bot.command(f"{backup['backup_id']} restored-index")
        await slack.wait_for(lambda: INVITE in told(slack, refused))
        assert "private" in told(slack, refused)
        assert all(post.get("response_type") == "ephemeral" for post in response_posts(slack, refused.response_url))
        assert pinecone.requests == [] and slack.calls_to("chat.postMessage") == []

        # Invited, a restore starts in its thread; then the bot is removed from the channel and it fails.
        slack.invite_bot(CHANNEL)
        started = await bot.command(f"{backup['backup_id']} restored-index")
        [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL), timeout=20)
        await slack.wait_for(lambda: slack.thread(CHANNEL, parent["ts"]))  # "Pinecone accepted"
        await slack.wait_for(lambda: "started" in told(slack, started))
        slack.remove_bot(CHANNEL)
        removed_at = len(slack.calls)
        pinecone.advance(1000.0)

        [notice] = await slack.wait_for(lambda: slack.messages_in(INCIDENT_CHANNEL), timeout=20)
        assert "restored-index" in notice["text"] and "Failed" in notice["text"]
        [dm] = await slack.wait_for(lambda: slack.messages_in(USER))
        assert "can no longer post" in dm["text"] and INVITE in dm["text"]
        await slack.wait_for(lambda: bot.jobs()[-1]["state"] == "failed" and settled(bot), timeout=20)
        job = bot.jobs()[-1]
        assert job["slack_error"] == "channel_not_found"
        assert len(calls_in(slack, CHANNEL, removed_at)) <= 2, "one refusal, then nothing more there"

        # The next request there is refused up front again, with the fix.
        again = await bot.command(f"{backup['backup_id']} another-index")
        await slack.wait_for(lambda: INVITE in told(slack, again))
        assert len(pinecone.create_index_calls) == 1


# -- a channel archived mid-restore ------------------------------------------------------------------------


async def test_a_channel_archived_mid_restore_gets_a_bounded_number_of_calls_then_silence_recorded(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 1000.0)
    command = await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL), timeout=20)
    await slack.wait_for(lambda: slack.thread(CHANNEL, parent["ts"]))
    await slack.wait_for(lambda: "started" in told(slack, command))
    slack.archive_channel(CHANNEL)
    archived_at = len(slack.calls)

    pinecone.advance(1000.0)  # done: the parent's redraw and the "ready" reply are due
    await slack.wait_for(lambda: bot.jobs()[0]["slack_error"] == "is_archived", timeout=20)
    await slack.wait_for(lambda: bot.jobs()[0]["state"] == "ready" and settled(bot), timeout=30)

    refused = [c for c in slack.calls[archived_at:] if c.args.get("channel") == CHANNEL and not c.ok]
    assert 1 <= len(refused) <= 2 and all(c.response and c.response["error"] == "is_archived" for c in refused)
    assert len(calls_in(slack, CHANNEL, archived_at)) == len(refused), "nothing after the refusal"
    dropped = [n for n in notices(bot) if n["dropped_at"] is not None]
    assert {n["kind"] for n in dropped} >= {"finished"}
    assert all("is_archived" in n["last_error"] for n in dropped)
    [dm] = [m for m in slack.messages_in(USER) if "can no longer post" in m["text"]]
    assert "is_archived" in dm["text"]
    dropped_count = 'restore_bot_slack_deliveries_dropped_total{delivery="'
    assert await metric(bot, dropped_count) >= 1
    assert bot.jobs()[0]["state"] == "ready", "the restore itself never waited on Slack"


# -- a missing scope -----------------------------------------------------------------------------------------


async def test_a_missing_scope_is_named_at_start_up_and_ends_the_deliveries_that_need_it(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.revoke_scope("chat:write")  # installed from a manifest without it
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.5)
    pinecone.fail_restore(backup["backup_id"], at_percent=60.0)
    async with start_bot() as bot:
        line = await bot.wait_for_log("lacks the scopes")
        assert "chat:write" in line and "manifest.yml" in line
        command = await bot.command(f"{backup['backup_id']} restored-index")
        await slack.wait_for(lambda: bot.jobs() and bot.jobs()[0]["state"] == "failed", timeout=20)
        await slack.wait_for(lambda: settled(bot) and bot.jobs()[0]["slack_error"], timeout=20)
        answer = await slack.wait_for(lambda: response_posts(slack, command.response_url))
        assert "started" in answer[-1]["text"]
        assert bot.jobs()[0]["slack_error"] == "missing_scope"
        posts = slack.calls_to("chat.postMessage")
        # The parent, the incident notice and the direct message: each refused once, none retried.
        assert all(c.response and c.response["error"] == "missing_scope" for c in posts)
        assert len(posts) <= 3 and slack.calls_to("chat.update") == []
        parent_dropped = 'restore_bot_slack_deliveries_dropped_total{delivery="parent",error="missing_scope"}'
        assert await metric(bot, parent_dropped) == 1


# -- approvals that hold at the click -------------------------------------------------------------------------


def approval_policy(tmp_path: Path, *, timeout_minutes: float = 60, requesters: str = '["*"]') -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(
        f'incident_channel = "{INCIDENT_CHANNEL}"\n'
        f"[channels.{CHANNEL}]\n"
        f"requesters = {requesters}\n"
        'approval = "always"\n'
        f'approvers = ["{BOB}"]\n'
        f"approval_timeout_minutes = {timeout_minutes}\n"
    )
    return path


def reason(text: str) -> dict[str, dict[str, Any]]:
    return {ids.DECISION_REASON_BLOCK: {ids.DECISION_REASON_INPUT: {"type": "plain_text_input", "value": text}}}


async def plan_card(bot: BotProcess, slack: SlackStandIn, backup_id: str) -> tuple[dict[str, Any], str]:
    command = await bot.command(f"{backup_id} prod-search")
    await slack.wait_for(lambda: "needs approval" in told(slack, command), timeout=20)
    [card] = parents(slack, CHANNEL)
    return card, bot.jobs()[0]["id"]


async def test_an_approval_after_the_deadline_but_before_the_next_cycle_is_refused(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup()
    policy = approval_policy(tmp_path, timeout_minutes=0.001)  # 60 ms
    # The tracker's next cycle is an hour away: only the click itself can notice the deadline.
    async with start_bot(
        RESTORE_BOT_POLICY=str(policy), RESTORE_BOT_ALLOWED_CHANNELS=None, RESTORE_BOT_POLL_INTERVAL="3600"
    ) as bot:
        card, job_id = await plan_card(bot, slack, backup["backup_id"])
        deadline = datetime.fromisoformat(bot.jobs()[0]["approval_expires_at"])
        # The one wait on the clock: a deadline is a moment, not a condition anything announces.
        await asyncio.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()))
        assert bot.jobs()[0]["state"] == "awaiting_approval", "no cycle expired it"

        answer = await bot.submit_view(ids.APPROVE_VIEW, job_id, reason("late"), user=BOB)
        body = answer.json()
        assert body["response_action"] == "errors" and "expired" in body["errors"][ids.DECISION_REASON_BLOCK]
        assert bot.jobs()[0]["state"] == "expired"
        assert [d["decision"] for d in bot.decisions()] == ["expired"]
        await slack.wait_for(lambda: replies_with(slack, CHANNEL, card["ts"], "expired"))
        assert pinecone.create_index_calls == []


async def test_a_store_failure_while_approving_shows_an_error_in_the_form_and_changes_nothing(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    policy = approval_policy(tmp_path)
    async with start_bot(RESTORE_BOT_POLICY=str(policy), RESTORE_BOT_ALLOWED_CHANNELS=None) as bot:
        _, job_id = await plan_card(bot, slack, backup["backup_id"])
        blocker = sqlite3.connect(bot.database, isolation_level=None, timeout=0)
        try:
            blocker.execute("BEGIN EXCLUSIVE")
            answer = await bot.submit_view(ids.APPROVE_VIEW, job_id, reason("go"), user=BOB)
        finally:
            blocker.execute("ROLLBACK")
            blocker.close()
        body = answer.json()
        assert body["response_action"] == "errors", "the form stays open"
        assert "could not record your decision" in body["errors"][ids.DECISION_REASON_BLOCK]
        assert [job["state"] for job in bot.jobs()] == ["awaiting_approval"] and bot.decisions() == []
        assert pinecone.create_index_calls == []

        again = await bot.submit_view(ids.APPROVE_VIEW, job_id, reason("go"), user=BOB)
        assert again.status_code == 200 and not again.content, "once the store answers, the same form works"
        await slack.wait_for(lambda: bot.jobs()[0]["state"] == "ready", timeout=20)


# -- user groups --------------------------------------------------------------------------------------------


async def test_a_burst_of_requests_whose_policy_needs_one_user_group_looks_it_up_once(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    users = [f"U0ONCALL{n:02d}" for n in range(8)]
    slack.set_usergroup(ONCALL, users)
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], math.inf)
    path = tmp_path / "policy.toml"
    path.write_text(f'[channels.{CHANNEL}]\nrequesters = ["{ONCALL}"]\n')
    async with start_bot(RESTORE_BOT_POLICY=str(path), RESTORE_BOT_ALLOWED_CHANNELS=None) as bot:
        commands = await asyncio.gather(
            *(bot.command(f"{backup['backup_id']} restored-{n}", user=user) for n, user in enumerate(users))
        )
        for command in commands:
            await slack.wait_for(lambda c=command: "started" in told(slack, c), timeout=30)
        assert len(slack.calls_to("usergroups.users.list")) == 1
        assert len(pinecone.create_index_calls) == len(users)


async def test_a_request_waiting_on_a_user_group_is_on_record_and_survives_a_kill_9(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    slack.set_usergroup(ONCALL, [USER])
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    path = tmp_path / "policy.toml"
    path.write_text(f'[channels.{CHANNEL}]\nrequesters = ["{ONCALL}"]\n')
    overrides = {"RESTORE_BOT_POLICY": str(path), "RESTORE_BOT_ALLOWED_CHANNELS": None}
    slack.inject("usergroups.users.list", status=503, delay=30.0)  # Slack is slow; the bot dies meanwhile
    async with start_bot(**overrides) as first:
        command = await first.command(f"{backup['backup_id']} restored-index")
        assert "Checking backup" in command.ack_text
        await slack.wait_for(lambda: slack.calls_to("usergroups.users.list"))
        await first.kill()
    assert [job["state"] for job in first.jobs()] == ["checking"], "acked, so on record before Slack answered"
    assert pinecone.requests == []
    async with start_bot(**overrides) as second:
        [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL), timeout=20)
        await slack.wait_for(lambda: replies_with(slack, CHANNEL, parent["ts"], "is ready"), timeout=20)
        assert [job["state"] for job in second.jobs()] == ["ready"]
    assert len(pinecone.create_index_calls) == 1
