"""Helpers shared by the bench scripts: start and stop the real bot, sign slash commands, read /proc.

Importing this module puts the repo root on `sys.path`, so `tests.e2e.harness` and `tests.fakes` import.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.e2e.harness import READY_LINE  # noqa: E402
from tests.fakes.slack_api import SlackStandIn  # noqa: E402
from tests.fakes.slack_requests import sign, slash_command_body  # noqa: E402
from tests.fakes.workspace import USER  # noqa: E402

BENCH = Path(__file__).resolve().parent
CLK_TCK = os.sysconf("SC_CLK_TCK")


def command_body(slack: SlackStandIn, text: str, channel: str, user: str = USER) -> str:
    """A `/restore-index` slash-command payload as Slack sends it (form-encoded), with a fresh response_url."""
    return slash_command_body(text, user=user, channel=channel, response_url=slack.new_response_url())


def signed_headers(body: str) -> dict[str, str]:
    """Slack's v0 signature headers for `body` (with the test workspace's signing secret) and the content type."""
    return {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/<pid>/stat; resolution 1 / CLK_TCK."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def memory_kib(pid: int, field: str) -> int:
    """A field of /proc/<pid>/status in KiB, e.g. "VmRSS" (now) or "VmHWM" (peak resident set)."""
    match = re.search(rf"^{field}:\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"/proc/{pid}/status has no {field}")
    return int(match.group(1))


async def wait_for_line(path: Path, fragment: str, process: asyncio.subprocess.Process, timeout: float) -> None:
    """Wait until `fragment` appears in the log file `path`; exit with the log's tail if it does not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and fragment in path.read_text(errors="replace"):
            return
        if process.returncode is not None:
            break
        await asyncio.sleep(0.1)
    raise SystemExit(f"{path.name}: '{fragment}' did not appear; log:\n{path.read_text(errors='replace')[-3000:]}")


@contextlib.asynccontextmanager
async def child_process(
    argv: list[str], *, env: dict[str, str], log: Path, ready: str, start_timeout: float = 30.0
) -> AsyncIterator[int]:
    """A process with its output in `log`; yields its pid once `ready` is in the log, SIGTERMs it after."""
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *argv,
            cwd=REPO,
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            await wait_for_line(log, ready, process, start_timeout)
            yield process.pid
        finally:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 30)
                except TimeoutError:
                    process.kill()
                    await process.wait()


def bot_process(
    env: dict[str, str], log: Path, start_timeout: float = 30.0
) -> contextlib.AbstractAsyncContextManager[int]:
    """`python -m bot` with `env`, its output in `log`; yields its pid once it is ready, SIGTERMs it after."""
    return child_process([sys.executable, "-m", "bot"], env=env, log=log, ready=READY_LINE, start_timeout=start_timeout)


@contextlib.contextmanager
def work_directory(prefix: str, *, keep: bool) -> Iterator[Path]:
    """A fresh directory under bench/ for one run's database and logs; removed after unless `keep`."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=BENCH))
    try:
        yield path
    finally:
        if keep:
            print(f"  kept {path}")
        else:
            shutil.rmtree(path)


async def start_py_spy(pid: int, output: str | Path, *, rate: int) -> asyncio.subprocess.Process:
    """py-spy (installed beside this Python) recording `pid` as raw folded stacks, without pausing it;
    SIGINT it to stop and write `output`."""
    return await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "py-spy"),
        "record",
        "-p",
        str(pid),
        "-r",
        str(rate),
        "--format",
        "raw",
        "-o",
        str(output),
        "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
