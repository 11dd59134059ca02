"""The README and the Slack manifest stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.app.settings import Settings
from bot.core.ids import RESTORE_COMMAND
from bot.core.jobs import JobState

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()


def env_names() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        names.add(str(getattr(alias, "choices", [alias])[0]))
    return names


def test_every_setting_is_in_the_readme_settings_table() -> None:
    table_rows = set(re.findall(r"^\| `([A-Z_]+)` \|", README, flags=re.MULTILINE))
    assert env_names() <= table_rows
    assert table_rows <= env_names(), "the README documents a variable the bot does not read"


def test_every_state_is_documented() -> None:
    for state in JobState:
        assert f"| `{state.value}` |" in README


def test_the_manifest_declares_the_command_and_the_scopes_the_bot_uses() -> None:
    manifest = yaml.safe_load((REPO / "manifest.yml").read_text())
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == RESTORE_COMMAND
    assert command["url"].endswith("/slack/events")
    assert command["should_escape"] is False
    # chat.postMessage/update/postEphemeral need chat:write; conversations.history/replies need the history scopes.
    assert {"commands", "chat:write", "channels:history", "groups:history"} <= set(
        manifest["oauth_config"]["scopes"]["bot"]
    )
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == "./scripts/test"
    assert "`./scripts/test`" in README and "`./scripts/start`" in README
    assert (REPO / "Procfile").read_text().strip() == "web: python -m bot"
