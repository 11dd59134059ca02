"""Approvals end to end: a policy file, the plan card, Approve/Deny/Cancel, expiry and races.

Button clicks and modal submissions are posted as Slack posts them (`payload=` form bodies,
signed), against the real bot process with a real policy file.
"""

from __future__ import annotations

import asyncio
import json
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import pytest

from bot.core import ids
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents, response_posts
from tests.fakes.workspace import CHANNEL, INCIDENT_CHANNEL

ALICE, BOB, CAROL, DAVE = "U0ALICE01", "U0BOB0001", "U0CAROL01", "U0DAVE001"
ONCALL = "S0ONCALL01"
LOCKED_CHANNEL = "C0LOCKED01"

POLICY = f"""
incident_channel = "{INCIDENT_CHANNEL}"
admins = ["U0ADMIN001"]

[channels.{CHANNEL}]
approval = "matching"
approvers = ["{BOB}", "{ONCALL}"]
approval_timeout_minutes = {{timeout}}
[channels.{CHANNEL}.approval_match]
names = ["prod-*"]
tags = {{{{ env = "prod" }}}}

[channels.{LOCKED_CHANNEL}]
requesters = ["{ALICE}"]
"""


def reason(text: str) -> dict[str, dict[str, Any]]:
    return {ids.DECISION_REASON_BLOCK: {ids.DECISION_REASON_INPUT: {"type": "plain_text_input", "value": text}}}


def with_policy(start_bot: StartBot, tmp_path: Path, timeout: float = 60) -> AbstractAsyncContextManager[BotProcess]:
    path = tmp_path / "policy.toml"
    path.write_text(POLICY.format(timeout=timeout))
    return start_bot(RESTORE_BOT_POLICY=str(path), RESTORE_BOT_ALLOWED_CHANNELS=None, RESTORE_BOT_INCIDENT_CHANNEL=None)


async def plan_card(bot: BotProcess, slack: SlackStandIn, backup_id: str, name: str = "prod-search") -> dict[str, Any]:
    """Alice asks for a restore that needs approval; returns the plan card, after checking what she was told."""
    command = await bot.command(f"{backup_id} {name} env=prod", user=ALICE)
    [answer] = await slack.wait_for(lambda: response_posts(slack, command.response_url), timeout=20)
    assert "needs approval" in answer["text"] and f"<@{BOB}>" in answer["text"], answer["text"]
    [card] = parents(slack, CHANNEL)
    return card


def job_id_of(card: dict[str, Any]) -> str:
    [actions] = [b for b in card["blocks"] if b["type"] == "actions"]
    return str(actions["elements"][0]["value"])


def card_now(slack: SlackStandIn, card: dict[str, Any]) -> dict[str, Any]:
    return slack.message(CHANNEL, card["ts"])


def has_buttons(message: dict[str, Any]) -> bool:
    return any(b["type"] == "actions" for b in message.get("blocks", []))


def replies_with(slack: SlackStandIn, ts: str, fragment: str) -> list[dict[str, Any]]:
    return [m for m in slack.thread(CHANNEL, ts) if fragment in m.get("text", "")]


async def test_a_matching_request_waits_for_approval_then_restores_in_the_same_thread(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup(source_index_name="prod-search", name="nightly-1124", record_count=120000)
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    async with with_policy(start_bot, tmp_path) as bot:
        card = await plan_card(bot, slack, backup["backup_id"])
        text = repr(card["blocks"])
        for expected in (
            "Restore plan",
            "prod-search",
            "nightly-1124",
            "120,000 records",
            "10.0 MB",
            "status Ready",
            "the name is free",
            f"<@{ALICE}>",
            f"<@{BOB}>",
            f"<!subteam^{ONCALL}>",
            "env=prod",
        ):
            assert expected in text, expected
        assert has_buttons(card)
        assert pinecone.create_index_calls == [], "no Pinecone write before approval"

        click, _ = await bot.click(ids.APPROVE_ACTION, job_id_of(card), user=BOB, message_ts=card["ts"])
        assert click.status_code == 200
        [opened] = await slack.wait_for(lambda: slack.calls_to("views.open"))
        view = opened.args["view"]
        assert view["callback_id"] == ids.APPROVE_VIEW and "prod-search" in repr(view["blocks"])
        assert pinecone.create_index_calls == [], "opening the modal changes nothing"

        submitted = await bot.submit_view(ids.APPROVE_VIEW, job_id_of(card), reason("incident 4711"), user=BOB)
        assert submitted.status_code == 200 and not submitted.content, "the modal closes"
        await slack.wait_for(lambda: replies_with(slack, card["ts"], "is ready"), timeout=20)
        approved = replies_with(slack, card["ts"], "Approved by")
        assert len(approved) == 1 and f"<@{BOB}>" in approved[0]["text"] and "incident 4711" in approved[0]["text"]
        assert [m["ts"] for m in parents(slack, CHANNEL)] == [card["ts"]], "the plan card is the restore's thread"
        assert not has_buttons(card_now(slack, card))
        assert len(pinecone.create_index_calls) == 1
        [decision] = bot.decisions()
        assert (decision["decision"], decision["by_user"], decision["reason"]) == ("approved", BOB, "incident 4711")


async def test_a_request_policy_does_not_match_restores_without_approval(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    async with with_policy(start_bot, tmp_path) as bot:
        command = await bot.command(f"{backup['backup_id']} staging-search env=staging", user=ALICE)
        [answer] = await slack.wait_for(lambda: response_posts(slack, command.response_url), timeout=20)
        assert "started" in answer["text"]
        assert bot.decisions() == []


async def test_only_an_approver_other_than_the_requester_may_decide(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup()
    slack.set_usergroup(ONCALL, [ALICE, CAROL])  # Alice is an approver through the group, but she asked
    async with with_policy(start_bot, tmp_path) as bot:
        card = await plan_card(bot, slack, backup["backup_id"])
        for user, expected in ((ALICE, "own"), (DAVE, "approver")):
            for action in (ids.APPROVE_ACTION, ids.DENY_ACTION):
                _, url = await bot.click(action, job_id_of(card), user=user, message_ts=card["ts"])
                [told] = await slack.wait_for(lambda url=url: response_posts(slack, url))
                assert told["response_type"] == "ephemeral" and told.get("replace_original") is False
                assert expected in told["text"].lower(), told["text"]
        # Even a forged submission of the modal is refused.
        refused = await bot.submit_view(ids.APPROVE_VIEW, job_id_of(card), reason("me"), user=DAVE)
        assert refused.json()["response_action"] == "errors"
        assert slack.calls_to("views.open") == []
        assert [job["state"] for job in bot.jobs()] == ["awaiting_approval"] and bot.decisions() == []
        assert pinecone.create_index_calls == []
        # A member of the approver group who did not ask may approve.
        await bot.click(ids.APPROVE_ACTION, job_id_of(card), user=CAROL, message_ts=card["ts"])
        await slack.wait_for(lambda: slack.calls_to("views.open"))


async def test_deny_requires_a_reason_and_tells_the_requester(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup()
    async with with_policy(start_bot, tmp_path) as bot:
        card = await plan_card(bot, slack, backup["backup_id"])
        await bot.click(ids.DENY_ACTION, job_id_of(card), user=BOB, message_ts=card["ts"])
        [opened] = await slack.wait_for(lambda: slack.calls_to("views.open"))
        assert opened.args["view"]["callback_id"] == ids.DENY_VIEW
        blank = await bot.submit_view(ids.DENY_VIEW, job_id_of(card), reason("   "), user=BOB)
        assert blank.json()["response_action"] == "errors" and ids.DECISION_REASON_BLOCK in blank.json()["errors"]
        denied = await bot.submit_view(ids.DENY_VIEW, job_id_of(card), reason("use yesterday's backup"), user=BOB)
        assert denied.status_code == 200 and not denied.content
        [reply] = await slack.wait_for(lambda: replies_with(slack, card["ts"], "denied"))
        assert f"<@{ALICE}>" in reply["text"] and "use yesterday's backup" in reply["text"]
        await slack.wait_for(lambda: not has_buttons(card_now(slack, card)))
        assert [job["state"] for job in bot.jobs()] == ["denied"]
        assert pinecone.create_index_calls == []


async def test_only_the_requester_can_cancel(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup()
    async with with_policy(start_bot, tmp_path) as bot:
        card = await plan_card(bot, slack, backup["backup_id"])
        _, url = await bot.click(ids.CANCEL_ACTION, job_id_of(card), user=BOB, message_ts=card["ts"])
        [told] = await slack.wait_for(lambda: response_posts(slack, url))
        assert f"Only <@{ALICE}>" in told["text"]
        await bot.click(ids.CANCEL_ACTION, job_id_of(card), user=ALICE, message_ts=card["ts"])
        await slack.wait_for(lambda: replies_with(slack, card["ts"], "Cancelled by"))
        await slack.wait_for(lambda: not has_buttons(card_now(slack, card)))
        _, late = await bot.click(ids.APPROVE_ACTION, job_id_of(card), user=BOB, message_ts=card["ts"])
        [told] = await slack.wait_for(lambda: response_posts(slack, late))
        assert "no longer waiting" in told["text"] and "cancelled" in told["text"]
        assert [job["state"] for job in bot.jobs()] == ["cancelled"] and pinecone.create_index_calls == []


async def test_an_unanswered_request_expires(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup()
    async with with_policy(start_bot, tmp_path, timeout=0.02) as bot:  # 1.2 seconds
        card = await plan_card(bot, slack, backup["backup_id"])
        [reply] = await slack.wait_for(lambda: replies_with(slack, card["ts"], "expired"), timeout=20)
        assert f"<@{ALICE}>" in reply["text"]
        await slack.wait_for(lambda: not has_buttons(card_now(slack, card)))
        assert [job["state"] for job in bot.jobs()] == ["expired"] and pinecone.create_index_calls == []


async def test_two_approvers_at_once_start_one_restore(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    slack.set_usergroup(ONCALL, [CAROL])
    async with with_policy(start_bot, tmp_path) as bot:
        card = await plan_card(bot, slack, backup["backup_id"])
        bob, carol = await asyncio.gather(
            bot.submit_view(ids.APPROVE_VIEW, job_id_of(card), reason("bob says yes"), user=BOB),
            bot.submit_view(ids.APPROVE_VIEW, job_id_of(card), reason("carol says yes"), user=CAROL),
        )
        answers = [r.json() if r.content else {} for r in (bob, carol)]
        assert sorted("errors" in a.get("response_action", "") for a in answers) == [False, True], answers
        loser = next(a for a in answers if a)
        assert "already" in loser["errors"][ids.DECISION_REASON_BLOCK]
        await slack.wait_for(lambda: replies_with(slack, card["ts"], "is ready"), timeout=20)
        assert len(pinecone.create_index_calls) == 1 and len(bot.decisions()) == 1
        assert len(replies_with(slack, card["ts"], "Approved by")) == 1


async def test_a_pending_approval_survives_a_restart(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    async with with_policy(start_bot, tmp_path) as first:
        card = await plan_card(first, slack, backup["backup_id"])
        await first.kill()
    async with with_policy(start_bot, tmp_path) as second:
        await second.submit_view(ids.APPROVE_VIEW, job_id_of(card), reason("after restart"), user=BOB)
        await slack.wait_for(lambda: replies_with(slack, card["ts"], "is ready"), timeout=20)
    assert len(pinecone.create_index_calls) == 1


async def test_policy_refusals_name_the_rule_and_whom_to_ask(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup()
    slack.add_channel(LOCKED_CHANNEL, name="locked")  # the policy's other channel, with the bot in it
    async with with_policy(start_bot, tmp_path) as bot:
        command = await bot.command(f"{backup['backup_id']} some-index", user=DAVE, channel=LOCKED_CHANNEL)
        [answer] = await slack.wait_for(lambda: response_posts(slack, command.response_url))
        assert answer["response_type"] == "ephemeral"
        assert "requesters" in answer["text"] and "Rule" in answer["text"]
        elsewhere = await bot.command(f"{backup['backup_id']} some-index", user=ALICE, channel="C0RANDOM01")
        assert "can't be requested in this channel" in elsewhere.ack_text
        assert f"<#{CHANNEL}>" in elsewhere.ack_text
        assert pinecone.create_index_calls == [] and bot.jobs() == []


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[channels.C0PRODOPS1]\napproval = "always"\n', "approvers"),
        ('[channels.C0PRODOPS1]\naproval = "never"\n', "aproval"),
        ("[channels.C0PRODOPS1\n", "line 1"),
    ],
)
async def test_a_bad_policy_file_stops_startup_naming_file_key_and_problem(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path, toml: str, expected: str
) -> None:
    from tests.e2e.harness import bot_env
    from tests.e2e.test_security_and_startup import run_bot_expecting_exit
    from tests.fakes.ports import free_port

    path = tmp_path / "bad-policy.toml"
    path.write_text(toml)
    env = bot_env(pinecone, slack, tmp_path / "db.sqlite3", free_port(), RESTORE_BOT_POLICY=str(path))
    code, output = await run_bot_expecting_exit(env)
    assert code == 2 and "Traceback" not in output
    assert "RESTORE_BOT_POLICY" in output and "bad-policy.toml" in output and expected in output, output


async def test_the_audit_trail_is_for_approvers_and_admins(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    async with with_policy(start_bot, tmp_path) as bot:
        card = await plan_card(bot, slack, backup["backup_id"])
        await bot.submit_view(ids.APPROVE_VIEW, job_id_of(card), reason("incident 4711"), user=BOB)
        await slack.wait_for(lambda: replies_with(slack, card["ts"], "is ready"), timeout=20)
        denied_card_cmd = await bot.command(f"{backup['backup_id']} prod-other env=prod", user=ALICE)
        await slack.wait_for(lambda: response_posts(slack, denied_card_cmd.response_url), timeout=20)
        other = next(c for c in parents(slack, CHANNEL) if c["ts"] != card["ts"])
        await bot.submit_view(ids.DENY_VIEW, job_id_of(other), reason("not needed"), user=BOB)
        await slack.wait_for(lambda: [j for j in bot.jobs() if j["state"] == "denied"])

        audit = await bot.command("audit", user=BOB)
        [trail] = await slack.wait_for(lambda: response_posts(slack, audit.response_url))
        assert trail["response_type"] == "ephemeral"
        for expected in (
            "prod-search",
            "prod-other",
            f"<@{ALICE}>",
            "approved by",
            "incident 4711",
            "denied by",
            "not needed",
            f"<@{BOB}>",
        ):
            assert expected in trail["text"], expected

        one = await bot.command("audit prod-other", user="U0ADMIN001")
        [scoped] = await slack.wait_for(lambda: response_posts(slack, one.response_url))
        assert "prod-other" in scoped["text"] and "prod-search" not in scoped["text"]

        refused = await bot.command("audit", user=DAVE)
        [lock] = await slack.wait_for(lambda: response_posts(slack, refused.response_url))
        assert "approvers and policy admins" in lock["text"] and "prod-search" not in lock["text"]


async def home_opened(bot: BotProcess, user: str) -> None:
    payload = {
        "token": "deprecated-verification-token",
        "team_id": "T0TEST",
        "api_app_id": "A0RESTORE",
        "event": {
            "type": "app_home_opened",
            "user": user,
            "channel": "D0HOME001",
            "tab": "home",
            "event_ts": "1795560000.000100",
        },
        "type": "event_callback",
        "event_id": f"Ev{user}{len(bot.log_lines)}",
        "event_time": 1795560000,
    }
    body = json.dumps(payload)
    response = await bot.post(body, content_type="application/json")
    assert response.status_code == 200


async def test_app_home_shows_approvals_waiting_and_recent_restores(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup()
    slack.set_usergroup(ONCALL, [CAROL])
    async with with_policy(start_bot, tmp_path) as bot:
        card = await plan_card(bot, slack, backup["backup_id"])
        for user in (BOB, CAROL, DAVE, ALICE):
            await home_opened(bot, user)
        published = await slack.wait_for(
            lambda: (calls := slack.calls_to("views.publish")) and len(calls) == 4 and calls
        )
        views = {call.args["user_id"]: repr(call.args["view"]) for call in published}
        assert "prod-search" in views[BOB] and f"<@{ALICE}>" in views[BOB], "Bob is a named approver"
        assert "prod-search" in views[CAROL], "Carol approves through the on-call group"
        assert "Nothing is waiting for you" in views[DAVE]
        assert "Nothing is waiting for you" in views[ALICE], "never your own request"
        assert "Waiting for approval" in views[ALICE] and "prod-search" in views[ALICE], "her recent restores"
        assert job_id_of(card)
