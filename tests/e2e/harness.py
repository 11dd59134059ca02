"""Run the bot as users do (`python -m bot`) and talk to it the way Slack does.

Only the subprocess lives here (its environment, start, stop, log, and the requests sent to it); the
helpers other tiers share (signing, slash-command bodies, the workspace's IDs, settings) are in tests/fakes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import sys
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.fakes.fixtures import PINECONE_API_KEY, SLACK_BOT_TOKEN
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.ports import free_port
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import new_trigger_id, sign, slash_command_body
from tests.fakes.workspace import CHANNEL, INCIDENT_CHANNEL, SIGNING_SECRET, USER

REPO = Path(__file__).resolve().parents[2]
READY_LINE = "restore-bot ready"
START_TIMEOUT = 30.0


@dataclass
class BotProcess:
    """A running `python -m bot` and the way to reach it."""

    env: dict[str, str]
    port: int
    database: Path
    slack: SlackStandIn
    process: asyncio.subprocess.Process | None = None
    log_lines: list[str] = field(default_factory=list)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _new_line: asyncio.Condition = field(default_factory=asyncio.Condition)
    _reader: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> str:
        return "\n".join(self.log_lines)

    async def start(self) -> None:
        self._ready.clear()
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=REPO,
            env=self.env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        self._reader = asyncio.create_task(self._read_log(self.process))
        ready = asyncio.create_task(self._ready.wait())
        exited = asyncio.create_task(self.process.wait())
        done, _ = await asyncio.wait({ready, exited}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
        ready.cancel()
        exited.cancel()
        if ready not in done:
            raise AssertionError(f"the bot did not become ready; its log:\n{self.log}")

    async def _read_log(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        async for raw in process.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.log_lines.append(line)
            if READY_LINE in line:
                self._ready.set()
            async with self._new_line:
                self._new_line.notify_all()

    async def wait_for_log(self, fragment: str, timeout: float = 10.0) -> str:  # noqa: ASYNC109 - a deadline
        """The first log line containing `fragment`, as soon as the bot writes it."""
        async with asyncio.timeout(timeout), self._new_line:
            while True:
                found = next((line for line in self.log_lines if fragment in line), None)
                if found is not None:
                    return found
                await self._new_line.wait()

    async def stop(self, sig: int = signal.SIGTERM, grace: float = 30.0) -> int:
        assert self.process is not None
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(sig)
        try:
            code = await asyncio.wait_for(self.process.wait(), timeout=grace)
        except TimeoutError:
            self.process.kill()
            code = await self.process.wait()
        if self._reader is not None:
            await self._reader
        return code

    async def kill(self) -> None:
        await self.stop(signal.SIGKILL)

    # -- talking to it like Slack ----------------------------------------------------------------

    async def post(self, body: str, *, content_type: str, headers: Mapping[str, str] | None = None) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url, timeout=10.0) as client:
            return await client.post(
                "/slack/events",
                content=body.encode(),
                headers={"Content-Type": content_type, **(headers if headers is not None else sign(body))},
            )

    def command_body(self, text: str, *, user: str = USER, channel: str = CHANNEL) -> tuple[str, str]:
        """A slash-command payload as Slack sends it, and the response_url it carries."""
        response_url = self.slack.new_response_url()
        return slash_command_body(text, user=user, channel=channel, response_url=response_url), response_url

    async def command(self, text: str, *, user: str = USER, channel: str = CHANNEL) -> Command:
        body, response_url = self.command_body(text, user=user, channel=channel)
        response = await self.post(body, content_type="application/x-www-form-urlencoded")
        return Command(response=response, response_url=response_url)

    async def interaction(self, payload: dict[str, Any]) -> httpx.Response:
        """An interactivity payload (block_actions, view_submission, block_suggestion) as Slack posts it."""
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, content_type="application/x-www-form-urlencoded")

    async def click(
        self, action_id: str, value: str, *, user: str, channel: str = CHANNEL, message_ts: str = ""
    ) -> tuple[httpx.Response, str]:
        """A button click on a message; returns the response and the click's response_url."""
        response_url = self.slack.new_response_url()
        payload = {
            "type": "block_actions",
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0TEST"},
            "api_app_id": "A0RESTORE",
            "token": "deprecated-verification-token",
            "container": {"type": "message", "message_ts": message_ts, "channel_id": channel, "is_ephemeral": False},
            "trigger_id": new_trigger_id(),
            "team": {"id": "T0TEST", "domain": "example"},
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": "restores"},
            "message": {"type": "message", "ts": message_ts, "text": "plan"},
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [
                {
                    "action_id": action_id,
                    "block_id": "approval_actions",
                    "value": value,
                    "type": "button",
                    "action_ts": f"{time.time():.6f}",
                    "text": {"type": "plain_text", "text": action_id},
                }
            ],
        }
        return await self.interaction(payload), response_url

    async def submit_view(
        self, callback_id: str, private_metadata: str, values: dict[str, dict[str, Any]], *, user: str
    ) -> httpx.Response:
        """A modal submission: `values` maps block_id -> action_id -> element state."""
        payload = {
            "type": "view_submission",
            "team": {"id": "T0TEST", "domain": "example"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0TEST"},
            "api_app_id": "A0RESTORE",
            "token": "deprecated-verification-token",
            "trigger_id": new_trigger_id(),
            "view": {
                "id": f"V{uuid.uuid4().hex[:10].upper()}",
                "team_id": "T0TEST",
                "type": "modal",
                "callback_id": callback_id,
                "private_metadata": private_metadata,
                "state": {"values": values},
                "hash": uuid.uuid4().hex,
                "blocks": [],
            },
            "response_urls": [],
            "is_enterprise_install": False,
        }
        return await self.interaction(payload)

    # -- what it stored ------------------------------------------------------------------------------

    def decisions(self) -> list[dict[str, Any]]:
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute("SELECT * FROM decisions ORDER BY id")]

    def jobs(self) -> list[dict[str, Any]]:
        if not self.database.exists():
            return []
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            db.row_factory = sqlite3.Row
            return [dict(row) for row in db.execute("SELECT * FROM jobs ORDER BY created_at")]


@dataclass
class Command:
    response: httpx.Response
    response_url: str

    @property
    def ack(self) -> dict[str, Any]:
        """The immediate answer Slack would show the requester (empty for a bare ack)."""
        if not self.response.content:
            return {}
        data: dict[str, Any] = self.response.json()
        return data

    @property
    def ack_text(self) -> str:
        return str(self.ack.get("text", "")) + repr(self.ack.get("blocks", ""))


def bot_env(
    pinecone: PineconeEmulator, slack: SlackStandIn, database: Path, port: int, **overrides: str | None
) -> dict[str, str]:
    env = {
        key: value for key, value in os.environ.items() if not key.startswith(("SLACK_", "PINECONE_", "RESTORE_BOT_"))
    }
    env.update(
        {
            "SLACK_BOT_TOKEN": SLACK_BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "PINECONE_API_KEY": PINECONE_API_KEY,
            "PINECONE_CONTROLLER_HOST": pinecone.base_url,
            "RESTORE_BOT_DATA_PLANE_URL": pinecone.data_plane_url,
            "DATABASE_URL": f"sqlite:///{database}",
            "PORT": str(port),
            "RESTORE_BOT_ALLOWED_CHANNELS": CHANNEL,
            "RESTORE_BOT_INCIDENT_CHANNEL": INCIDENT_CHANNEL,
            "RESTORE_BOT_POLL_INTERVAL": "0.05",
            "RESTORE_BOT_RESTORE_TIMEOUT": "60",
            # Long enough for the emulator's count lag (Realism.count_lag), short enough for a mismatch test.
            "RESTORE_BOT_VERIFY_TIMEOUT": "5",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for key, value in overrides.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@contextlib.asynccontextmanager
async def running_bot(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path, **overrides: str | None
) -> AsyncIterator[BotProcess]:
    database = tmp_path / "restore-bot.sqlite3"
    port = free_port()
    bot = BotProcess(
        env=bot_env(pinecone, slack, database, port, **overrides), port=port, database=database, slack=slack
    )
    await bot.start()
    try:
        yield bot
    finally:
        await bot.stop()
