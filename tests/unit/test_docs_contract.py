"""The README, the docs/ pages and the Slack manifest stay true to the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from bot.app.settings import Settings
from bot.core.ids import RESTORE_COMMAND
from bot.core.jobs import JobState
from bot.service.channels import REQUIRED_SCOPES

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
SETTINGS_PAGE = (REPO / "docs" / "settings.md").read_text()
LIFECYCLE_PAGE = (REPO / "docs" / "restore-lifecycle.md").read_text()
DOC_FILES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]

FENCED_BLOCK = re.compile(r"^```.*?^```", flags=re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`[^`\n]*`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")


def env_names() -> set[str]:
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        names.add(str(getattr(alias, "choices", [alias])[0]))
    return names


def test_every_setting_is_in_the_settings_table() -> None:
    table_rows = set(re.findall(r"^\| `([A-Z_]+)` \|", SETTINGS_PAGE, flags=re.MULTILINE))
    assert env_names() <= table_rows
    assert table_rows <= env_names(), "docs/settings.md documents a variable the bot does not read"


def test_every_state_is_documented() -> None:
    for state in JobState:
        assert f"| `{state.value}` |" in LIFECYCLE_PAGE


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


def test_the_manifest_grants_what_the_code_needs_and_the_readme_names_every_scope() -> None:
    manifest = yaml.safe_load((REPO / "manifest.yml").read_text())
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # What start-up and `check` compare the token with (bot/service/channels.py).
    assert scopes == set(REQUIRED_SCOPES)
    # Answers to a submitted form, and "I can no longer post there", go by direct message when no
    # ephemeral can reach the person: the app's Messages tab must be on.
    assert manifest["features"]["app_home"]["messages_tab_enabled"] is True
    for scope in scopes:
        assert f"`{scope}`" in README, f"the README's set-up does not name the scope {scope}"


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text().strip().splitlines()
    assert ci[-1] == "./scripts/test"
    assert "`./scripts/test`" in README and "`./scripts/start`" in README
    assert (REPO / "Procfile").read_text().strip() == "web: python -m bot"


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    text = FENCED_BLOCK.sub("", page.read_text())
    return {github_anchor(h) for h in re.findall(r"^#+ (.+)$", text, flags=re.MULTILINE)}


def relative_links(page: Path) -> list[str]:
    text = INLINE_CODE.sub("", FENCED_BLOCK.sub("", page.read_text()))
    return [target for target in LINK.findall(text) if not re.match(r"[a-z]+:", target)]


@pytest.mark.parametrize("page", DOC_FILES, ids=lambda page: str(page.relative_to(REPO)))
def test_every_relative_link_points_to_something_that_exists(page: Path) -> None:
    broken = []
    for target in relative_links(page):
        path, _, fragment = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif fragment and file.suffix == ".md" and fragment not in anchors(file):
            broken.append(f"{target}: no heading #{fragment} in {file.name}")
    assert not broken, broken


def test_the_readme_links_to_every_docs_page() -> None:
    linked = {(REPO / target.partition("#")[0]).resolve() for target in relative_links(REPO / "README.md")}
    assert set(DOC_FILES[1:]) <= linked
