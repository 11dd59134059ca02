"""`python -m bot check`: one line per check, exit 0 only when all are ok, never a secret or a traceback.

Runs the real command as a subprocess against the Pinecone emulator and the Slack stand-in.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from bot.core.jobs import NewJob
from bot.core.urls import safe_url
from storage import open_store
from storage.postgres.postgres_migrations import MIGRATIONS as POSTGRES_MIGRATIONS
from storage.sqlite.sqlite_migrations import MIGRATIONS
from tests.e2e.harness import REPO, bot_env
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.ports import free_port
from tests.fakes.postgres_server import PostgresServer
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.workspace import SIGNING_SECRET

SECRET_VARIABLES = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "PINECONE_API_KEY")

GOOD_POLICY = """
incident_channel = "C0INCIDENT"
admins = ["U0ADMIN001"]

[channels.C0RESTORE1]
[channels.C0PRODOPS1]
approval = "always"
approvers = ["U0ALICE01"]
[channels.C0STAGING1]
requesters = ["S0ONCALL01"]
"""

BAD_POLICY = """
[channels.C0RESTORE1]
approvall = "never"
"""


async def run_check(env: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "check",
        *args,
        cwd=REPO,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, output.decode()


def check_env(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path, **overrides: str | None
) -> dict[str, str]:
    return bot_env(pinecone, slack, tmp_path / "restore-bot.sqlite3", free_port(), **overrides)


def lines_of(output: str) -> list[str]:
    return output.strip().splitlines()


def line_for(output: str, name: str) -> str:
    found = [line for line in lines_of(output) if line.split(" ", 1)[-1].lstrip().startswith(f"{name}")]
    assert found, f"no line for {name!r} in:\n{output}"
    return found[0]


def assert_safe(output: str, env: dict[str, str], *more_secrets: str) -> None:
    """No traceback, and none of the configured secrets (nor any given ones) anywhere in the output."""
    assert "Traceback" not in output, output
    secrets = [env[name] for name in SECRET_VARIABLES if env.get(name)] + list(more_secrets)
    assert secrets, "the check looked at something"
    for secret in secrets:
        assert secret not in output, f"a secret leaked into:\n{output}"


async def test_all_ok_exits_0_with_one_ok_line_per_check(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    env = check_env(pinecone, slack, tmp_path)
    code, output = await run_check(env)

    assert code == 0, output
    lines = lines_of(output)
    assert all(line.startswith("ok ") for line in lines), output
    assert [line.split(":", 1)[0].split(" ", 1)[-1].strip() for line in lines] == [
        "settings",
        "policy",
        "slack",
        "channel C0RESTORE1",
        "channel C0INCIDENT",
        "pinecone",
        "database",
    ]
    assert (
        line_for(output, "policy")
        == "ok   policy: 1 channel, incident channel C0INCIDENT (from RESTORE_BOT_ALLOWED_CHANNELS)"
    )
    assert line_for(output, "slack") == "ok   slack: auth.test as @restore-bot in Test Team"
    restores = line_for(output, "channel C0RESTORE1")
    assert restores == "ok   channel C0RESTORE1: #restores, public, restore-bot is a member"
    assert line_for(output, "database").endswith(f"restore-bot.sqlite3, schema {len(MIGRATIONS)}, 0 active jobs")
    assert (tmp_path / "restore-bot.sqlite3").exists()
    # Read-only: one GET /backups, one auth.test, one look at each channel, nothing else.
    assert [(r.method, r.path) for r in pinecone.requests] == [("GET", "/backups")]
    assert [call.method for call in slack.calls] == ["auth.test", "conversations.info", "conversations.info"]
    assert_safe(output, env)


async def test_a_good_policy_file_is_summarised(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(GOOD_POLICY)
    slack.add_channel("C0PRODOPS1")  # the policy's other channels, with the bot in them
    slack.add_channel("C0STAGING1")
    env = check_env(pinecone, slack, tmp_path, RESTORE_BOT_POLICY=str(policy), RESTORE_BOT_ALLOWED_CHANNELS=None)
    code, output = await run_check(env)
    assert code == 0, output
    assert line_for(output, "policy") == f"ok   policy: 3 channels, incident channel C0INCIDENT (from {policy})"
    assert_safe(output, env)


async def test_socket_mode_checks_the_app_token_too(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    env = check_env(pinecone, slack, tmp_path, SLACK_APP_TOKEN=slack.app_token, SLACK_SIGNING_SECRET=None)
    code, output = await run_check(env)
    assert code == 0, output
    assert all(line.startswith("ok ") for line in lines_of(output)), output
    assert line_for(output, "settings") == "ok   settings: Socket Mode"
    assert (
        line_for(output, "slack socket mode")
        == "ok   slack socket mode: apps.connections.open accepted SLACK_APP_TOKEN"
    )
    assert sorted(call.method for call in slack.calls) == [
        "apps.connections.open",
        "auth.test",
        "conversations.info",
        "conversations.info",
    ]
    assert not slack.socket_connected, "the check only asks for a URL; it never connects"
    assert_safe(output, env)


async def test_a_wrong_app_token_fails_naming_it(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    env = check_env(
        pinecone, slack, tmp_path, SLACK_APP_TOKEN="xapp-not-the-right-one-secret", SLACK_SIGNING_SECRET=None
    )
    code, output = await run_check(env)
    assert code == 1, output
    line = line_for(output, "slack socket mode")
    assert line.startswith("FAIL slack socket mode:") and "invalid_auth" in line and "SLACK_APP_TOKEN" in line
    assert line_for(output, "slack:").startswith("ok ")
    assert_safe(output, env)


async def test_a_wrong_pinecone_key_fails_naming_the_setting(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    env = check_env(pinecone, slack, tmp_path, PINECONE_API_KEY="pc-wrong-key-that-is-secret")
    code, output = await run_check(env)
    assert code == 1, output
    assert line_for(output, "pinecone") == "FAIL pinecone: the API key was rejected (401): check PINECONE_API_KEY", (
        output
    )
    assert [line for line in lines_of(output) if not line.startswith("ok ")] == [line_for(output, "pinecone")]
    assert len(pinecone.requests) == 1, "a check asks once; it does not retry"
    assert_safe(output, env)


async def test_a_wrong_slack_token_fails_naming_the_setting(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    env = check_env(pinecone, slack, tmp_path, SLACK_BOT_TOKEN="xoxb-wrong-token-that-is-secret")
    code, output = await run_check(env)
    assert code == 1, output
    line = line_for(output, "slack")
    assert line == "FAIL slack: auth.test: Slack answered invalid_auth: check SLACK_BOT_TOKEN", output
    assert line_for(output, "pinecone").startswith("ok ")
    assert_safe(output, env)


@pytest.mark.parametrize(
    ("variable", "name"),
    [
        pytest.param("PINECONE_CONTROLLER_HOST", "pinecone", id="pinecone"),
        pytest.param("SLACK_API_URL", "slack", id="slack"),
    ],
)
async def test_an_unreachable_host_is_a_fail_line_not_a_traceback(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path, variable: str, name: str
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    env = check_env(pinecone, slack, tmp_path, **{variable: closed})
    code, output = await run_check(env)
    assert code == 1, output
    line = line_for(output, name)
    assert line.startswith(f"FAIL {name}:") and "cannot reach" in line and variable in line, output
    assert closed.removeprefix("http://") in line
    assert_safe(output, env)


async def test_a_bad_policy_file_fails_naming_the_key(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(BAD_POLICY)
    env = check_env(pinecone, slack, tmp_path, RESTORE_BOT_POLICY=str(policy))
    code, output = await run_check(env)
    assert code == 1, output
    line = line_for(output, "policy")
    assert line.startswith("FAIL policy: RESTORE_BOT_POLICY: "), output
    assert "channels.C0RESTORE1.approvall" in line and "did you mean approval?" in line
    # The other checks still ran.
    for other in ("slack", "pinecone", "database"):
        assert line_for(output, other).startswith("ok "), output
    assert_safe(output, env)


async def test_a_missing_policy_file_fails(pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path) -> None:
    env = check_env(pinecone, slack, tmp_path, RESTORE_BOT_POLICY=str(tmp_path / "nowhere.toml"))
    code, output = await run_check(env)
    assert code == 1, output
    assert line_for(output, "policy").startswith("FAIL policy: RESTORE_BOT_POLICY: ") and "cannot read" in output
    assert_safe(output, env)


async def test_bad_settings_fail_with_the_start_up_messages_and_nothing_else_is_tried(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    env = check_env(
        pinecone, slack, tmp_path, SLACK_BOT_TOKEN="xoxp-a-user-token-that-is-secret", PINECONE_API_KEY=None
    )
    code, output = await run_check(env)
    assert code == 1, output
    lines = lines_of(output)
    assert lines[:2] == [
        "FAIL settings: SLACK_BOT_TOKEN: expected a bot token starting with xoxb-",
        "FAIL settings: PINECONE_API_KEY: is required but not set",
    ]
    assert lines[2].startswith("skip ") and "fix the settings first" in lines[2]
    assert len(lines) == 3
    assert pinecone.requests == [] and slack.calls == []
    assert not (tmp_path / "restore-bot.sqlite3").exists()
    assert_safe(output, env, SIGNING_SECRET)


async def test_an_unusable_database_path_fails_naming_the_setting(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where a directory should be")
    env = check_env(pinecone, slack, tmp_path, DATABASE_URL=f"sqlite:///{blocker}/db.sqlite3")
    code, output = await run_check(env)
    assert code == 1, output
    line = line_for(output, "database")
    assert line.startswith("FAIL database:") and "DATABASE_URL" in line, output
    assert_safe(output, env)


async def test_active_jobs_are_counted(pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path) -> None:
    store = await open_store(tmp_path / "restore-bot.sqlite3")
    try:
        for name in ("one-index", "two-index"):
            await store.create(
                NewJob(
                    backup_id="a65ff585-d987-4da5-a622-72e19a6ed5f4",
                    index_name=name,
                    requester_id="U0ALICE01",
                    channel_id="C0RESTORE1",
                )
            )
    finally:
        await store.close()
    env = check_env(pinecone, slack, tmp_path)
    code, output = await run_check(env)
    assert code == 0, output
    assert line_for(output, "database").endswith(", 2 active jobs")


async def test_arguments_are_refused(pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path) -> None:
    code, output = await run_check(check_env(pinecone, slack, tmp_path), "--verbose")
    assert code == 2 and "usage: python -m bot check" in output


async def test_a_postgresql_database_is_checked_and_its_password_never_shown(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path, postgres_url: str
) -> None:
    store = await open_store(postgres_url)
    try:
        await store.create(
            NewJob(
                backup_id="a65ff585-d987-4da5-a622-72e19a6ed5f4",
                index_name="one-index",
                requester_id="U0ALICE01",
                channel_id="C0RESTORE1",
            )
        )
    finally:
        await store.close()
    env = check_env(pinecone, slack, tmp_path, DATABASE_URL=postgres_url)
    code, output = await run_check(env)
    assert code == 0, output
    assert line_for(output, "database") == (
        f"ok   database: {safe_url(postgres_url)}, schema {len(POSTGRES_MIGRATIONS)}, 1 active job"
    )
    assert_safe(output, env, password_in(postgres_url))


async def test_an_unusable_postgresql_database_fails_naming_the_setting_never_the_password(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path, postgres_server: PostgresServer, postgres_url: str
) -> None:
    password = password_in(postgres_url)
    database = postgres_url.rsplit("/", 1)[1]
    unreachable = f"postgresql://restore_bot:{password}@127.0.0.1:{free_port()}/{database}"
    wrong_password = f"postgres://restore_bot:not-{password}@127.0.0.1:{postgres_server.port}/{database}"
    for url, says in ((unreachable, "cannot connect"), (wrong_password, "password authentication failed")):
        env = check_env(pinecone, slack, tmp_path, DATABASE_URL=url)
        code, output = await run_check(env)
        assert code == 1, output
        line = line_for(output, "database")
        assert line.startswith("FAIL database:") and says in line and "DATABASE_URL" in line, output
        assert safe_url(url) in line, "it says which database"
        assert_safe(output, env, password, f"not-{password}")


def password_in(url: str) -> str:
    return url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]


async def test_channels_the_bot_cannot_post_in_fail_with_the_fix(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(GOOD_POLICY)
    slack.add_channel("C0PRODOPS1", is_private=True, is_member=False)
    slack.add_channel("C0STAGING1", is_archived=True)
    slack.add_channel("C0INCIDENT", is_member=False)  # public: posted in without an invite, joined at start-up
    env = check_env(pinecone, slack, tmp_path, RESTORE_BOT_POLICY=str(policy), RESTORE_BOT_ALLOWED_CHANNELS=None)
    code, output = await run_check(env)
    assert code == 1, output
    private = line_for(output, "channel C0PRODOPS1")
    assert private.startswith("FAIL channel C0PRODOPS1: ") and "private" in private, output
    assert private.endswith("fix: /invite @restore-bot in that channel")
    archived = line_for(output, "channel C0STAGING1")
    assert archived.startswith("FAIL channel C0STAGING1: ") and "archived" in archived, output
    incident = line_for(output, "channel C0INCIDENT")
    assert incident.startswith("ok ") and "joins it at start-up" in incident, output
    assert line_for(output, "channel C0RESTORE1").startswith("ok ")
    assert not slack.is_member("C0INCIDENT"), "check only looks; it never joins"
    assert "conversations.join" not in [call.method for call in slack.calls]
    assert_safe(output, env)


async def test_a_token_without_a_scope_the_manifest_asks_for_fails_naming_it(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    slack.revoke_scope("channels:join", "groups:read")  # installed from an older manifest
    env = check_env(pinecone, slack, tmp_path)
    code, output = await run_check(env)
    assert code == 1, output
    assert (
        line_for(output, "slack scopes")
        == "FAIL slack scopes: the bot token lacks channels:join, groups:read: reinstall the app from manifest.yml"
    )
    assert line_for(output, "slack:").startswith("ok ")
    assert_safe(output, env)
