"""Signed requests only; start-up errors in one line; secrets never in Slack or the log."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from tests.e2e.harness import REPO, BotProcess, bot_env
from tests.fakes.fixtures import PINECONE_API_KEY, SLACK_BOT_TOKEN
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.ports import free_port
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents, response_posts, sign
from tests.fakes.workspace import CHANNEL, SIGNING_SECRET


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="unsigned"),
        pytest.param(
            {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64}, id="forged"
        ),
        pytest.param("wrong-secret", id="wrong-secret"),
        pytest.param("stale", id="six-minutes-old"),
    ],
)
async def test_unverified_requests_get_401_and_do_nothing(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn, headers: object
) -> None:
    backup = pinecone.add_backup()
    body, _ = bot.command_body(f"{backup['backup_id']} restored-index")
    if headers == "wrong-secret":
        headers = sign(body, secret="not-the-signing-secret")
    elif headers == "stale":
        headers = sign(body, timestamp=int(time.time()) - 6 * 60)
    assert isinstance(headers, dict)
    response = await bot.post(body, content_type="application/x-www-form-urlencoded", headers=headers)
    assert response.status_code == 401
    assert pinecone.requests == [] and slack.calls_to("chat.*") == [] and bot.jobs() == []


async def test_slacks_ssl_check_is_answered_200_without_a_signature_and_does_nothing(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    # Slack's SSL check, as Slack sends it: unsigned, a form with ssl_check=1 (and a verification token).
    check = urlencode({"ssl_check": "1", "token": "deprecated-verification-token"})
    response = await bot.post(check, content_type="application/x-www-form-urlencoded", headers={})
    assert (response.status_code, response.content) == (200, b"")
    # It cannot smuggle a command past the signature check.
    backup = pinecone.add_backup()
    body, _ = bot.command_body(f"{backup['backup_id']} restored-index")
    smuggled = await bot.post(body + "&ssl_check=1", content_type="application/x-www-form-urlencoded", headers={})
    assert (smuggled.status_code, smuggled.content) == (200, b"")
    assert pinecone.requests == [] and slack.calls_to("chat.*") == [] and bot.jobs() == []


async def test_a_tampered_body_fails_verification(bot: BotProcess, pinecone: PineconeEmulator) -> None:
    body, _ = bot.command_body("help")
    headers = sign(body)
    tampered = body.replace("help", "list")
    response = await bot.post(tampered, content_type="application/x-www-form-urlencoded", headers=headers)
    assert response.status_code == 401


async def test_healthz(bot: BotProcess) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.get(f"{bot.url}/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


async def test_sigterm_stops_cleanly(bot: BotProcess) -> None:
    assert await bot.stop(signal.SIGTERM) == 0
    assert "restore-bot stopped" in bot.log


async def run_bot_expecting_exit(env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        cwd=REPO,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=30)
    assert process.returncode is not None
    return process.returncode, output.decode()


@pytest.mark.parametrize(
    ("overrides", "expected_lines"),
    [
        (
            {"SLACK_BOT_TOKEN": None, "PINECONE_API_KEY": None},
            ["SLACK_BOT_TOKEN: is required but not set", "PINECONE_API_KEY: is required but not set"],
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxp-user-token-is-secret"},
            ["SLACK_BOT_TOKEN: expected a bot token starting with xoxb-"],
        ),
        ({"SLACK_SIGNING_SECRET": None}, ["SLACK_SIGNING_SECRET is required in HTTP mode"]),
        ({"PORT": "http"}, ["PORT: "]),
        ({"RESTORE_BOT_POLL_INTERVAL": "-1"}, ["RESTORE_BOT_POLL_INTERVAL: "]),
    ],
)
async def test_bad_settings_stop_startup_with_one_line_each(
    pinecone: PineconeEmulator,
    slack: SlackStandIn,
    tmp_path: Path,
    overrides: dict[str, str | None],
    expected_lines: list[str],
) -> None:
    env = bot_env(pinecone, slack, tmp_path / "db.sqlite3", free_port(), **overrides)
    code, output = await run_bot_expecting_exit(env)
    assert code == 2
    lines = output.strip().splitlines()
    assert len(lines) == len(expected_lines)
    for line, expected in zip(lines, expected_lines, strict=True):
        assert line.startswith("restore-bot: cannot start: ") and expected in line
    assert "Traceback" not in output
    for secret in (PINECONE_API_KEY, SLACK_BOT_TOKEN, SIGNING_SECRET, "xoxp-user-token-is-secret"):
        assert secret not in output


async def test_an_unusable_database_path_stops_startup_in_one_line(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where a directory should be")
    env = bot_env(pinecone, slack, blocker / "db.sqlite3", free_port())
    code, output = await run_bot_expecting_exit(env)
    assert code == 1
    assert "cannot start" in output and "DATABASE_URL" in output
    assert "Traceback" not in output


async def test_secrets_never_reach_slack_or_the_log(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    good = pinecone.add_backup()
    pinecone.set_restore_duration(good["backup_id"], 0.3)
    pinecone.fail_restore(good["backup_id"], at_percent=50)
    await bot.command(f"{good['backup_id']} restored-index env=prod")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    await slack.wait_for(lambda: any("failed" in m["text"] for m in slack.thread(CHANNEL, parent["ts"])))
    missing = await bot.command("0b8c9d2e-1111-4222-8333-444455556666 other-index")
    await slack.wait_for(lambda: response_posts(slack, missing.response_url))
    pinecone.inject("GET", "/backups/*", status=401, times=10)
    unauthorised = await bot.command(f"{good['backup_id']} third-index")
    await slack.wait_for(lambda: response_posts(slack, unauthorised.response_url))
    body = urlencode({"command": "/restore-index", "text": "help"})
    await bot.post(body, content_type="application/x-www-form-urlencoded", headers=sign(body, secret="forged"))
    await bot.stop()

    everything_sent_to_slack = repr([(call.method, call.args) for call in slack.calls]) + repr(slack.responses)
    for secret in (PINECONE_API_KEY, SIGNING_SECRET):
        assert secret not in everything_sent_to_slack
        assert secret not in bot.log
    assert SLACK_BOT_TOKEN not in bot.log
    assert bot.log.strip(), "the log is not empty: the check above looked at something"
