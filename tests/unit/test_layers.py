"""The layers are a contract: import-linter checks the ones pyproject.toml declares, and this file the rest.

bot.app            wires everything (composition root)
handlers           inbound Slack listeners: ack, one use-case call, render
bot.service        use cases, I/O only through what they are given
bot.pinecone | bot.slack | storage      the adapters and the job store
bot.core           pure rules and rendering: no I/O
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Block Kit model builders are data; everything else in slack_sdk talks to Slack.
CORE_MAY_USE_FROM_SLACK_SDK = ("slack_sdk.models",)


def test_the_import_contracts_in_pyproject_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--config", str(REPO / "pyproject.toml")],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def imported_modules(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_the_core_uses_only_slack_sdks_block_kit_builders() -> None:
    # import-linter sees external packages only as a whole (slack_sdk), so this part is checked here.
    offending = {
        f"{path.relative_to(REPO)}: {module}"
        for path in (REPO / "bot" / "core").rglob("*.py")
        for module in imported_modules(path)
        if module.split(".")[0] == "slack_sdk" and not module.startswith(CORE_MAY_USE_FROM_SLACK_SDK)
    }
    assert offending == set()
