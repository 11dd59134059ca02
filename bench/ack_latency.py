"""Target 1 of issue 7: ack latency of the real bot against a bare Bolt AsyncApp, same requests, same run.

    .venv/bin/python bench/ack_latency.py            # 1,000 commands per round, 4 rounds per server per level
    .venv/bin/python bench/ack_latency.py --quick    # 200 commands per round, 2 rounds

Set-up (all on 127.0.0.1):
* this process hosts the test suite's Pinecone emulator and Slack stand-in (tests/fakes) and orchestrates;
* the bot is `python -m bot`, started as tests/e2e/harness.py starts it (same environment, log to a file);
* the baseline is bench/_bare_app.py: a bare Bolt AsyncApp with default settings that acks and does nothing,
  served by aiohttp the same way, with the same signing secret;
* every round's load comes from a fresh bench/_loadgen.py process (aiohttp client, N in flight).

Each round sends N signed slash commands: half valid restores into distinct names, a quarter with a bad index
name, a quarter from a channel that is not allowed. Rounds alternate between the two servers (bot/bare, then
bare/bot, ...), the bare app getting exactly the bodies the bot got in that round. After each bot round the
script waits until the bot has no active job left and its CPU is idle, so its background work does not spill
into the next round.

Targets (exit 1 if missed): at 10 in flight every ack < 3 s; at every level p99(bot) <= 2 x p99(bare).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.e2e.harness import CHANNEL, READY_LINE, SIGNING_SECRET, USER, bot_env, free_port, new_trigger_id  # noqa: E402
from tests.fakes.fixtures import PINECONE_API_KEY, SLACK_BOT_TOKEN  # noqa: E402
from tests.fakes.pinecone_emulator import PineconeEmulator  # noqa: E402
from tests.fakes.slack_api import SlackStandIn  # noqa: E402

BENCH = Path(__file__).resolve().parent
OTHER_CHANNEL = "C0NOTALLOW"
ACK_LIMIT = 3.0
RATIO_LIMIT = 2.0
ROUND_TIMEOUT = 300.0
SETTLE_TIMEOUT = 180.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 50), "p99": percentile(values, 99), "max": max(values), "n": len(values)}


def command_body(slack: SlackStandIn, text: str, channel: str) -> str:
    return urlencode(
        {
            "token": "deprecated-verification-token",
            "team_id": "T0TEST",
            "team_domain": "example",
            "channel_id": channel,
            "channel_name": "restores",
            "user_id": USER,
            "user_name": USER.lower(),
            "command": "/restore-index",
            "text": text,
            "api_app_id": "A0RESTORE",
            "is_enterprise_install": "false",
            "response_url": slack.new_response_url(),
            "trigger_id": new_trigger_id(),
        }
    )


def round_bodies(slack: SlackStandIn, backup_id: str, count: int, tag: str) -> list[list[str]]:
    """Half valid restores into distinct names, a quarter bad names, a quarter from a channel not allowed."""
    bodies: list[list[str]] = []
    for i in range(count):
        if i % 4 in (0, 2):
            kind, text, channel = "valid", f"{backup_id} bench-{tag}-{i} env=bench", CHANNEL
        elif i % 4 == 1:
            kind, text, channel = "bad_name", f"{backup_id} Bench_{tag}_{i}", CHANNEL
        else:
            kind, text, channel = "wrong_channel", f"{backup_id} bench-{tag}-x{i}", OTHER_CHANNEL
        bodies.append([kind, command_body(slack, text, channel)])
    return bodies


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


async def wait_for_line(path: Path, fragment: str, process: asyncio.subprocess.Process, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and fragment in path.read_text(errors="replace"):
            return
        if process.returncode is not None:
            break
        await asyncio.sleep(0.1)
    raise SystemExit(f"{path.name}: '{fragment}' did not appear; log:\n{path.read_text(errors='replace')[-3000:]}")


async def load(url: str, concurrency: int, bodies: list[list[str]], warmup: list[str]) -> dict[str, Any]:
    job = {"url": url, "secret": SIGNING_SECRET, "concurrency": concurrency, "bodies": bodies, "warmup": warmup}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(BENCH / "_loadgen.py"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO,
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(json.dumps(job).encode()), ROUND_TIMEOUT)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise SystemExit(f"a round against {url} did not finish within {ROUND_TIMEOUT:.0f} s") from None
    if process.returncode != 0:
        raise SystemExit(f"the load generator failed (exit {process.returncode})")
    return json.loads(out)


async def settle(database: Path, pid: int) -> float:
    """Wait until the bot has no active job and has been idle (< 5% CPU) for a second; returns seconds waited."""
    started = time.monotonic()
    uri = f"file:{database}?mode=ro"
    while time.monotonic() - started < SETTLE_TIMEOUT:
        with contextlib.closing(sqlite3.connect(uri, uri=True, timeout=5)) as db:
            active = db.execute(
                "SELECT count(*) FROM jobs WHERE state IN ('requested','submitting','restoring')"
            ).fetchone()[0]
        if active == 0:
            before = cpu_seconds(pid)
            await asyncio.sleep(1.0)
            if cpu_seconds(pid) - before < 0.05:
                return time.monotonic() - started
        else:
            await asyncio.sleep(0.5)
    print(f"  warning: the bot did not settle within {SETTLE_TIMEOUT:.0f} s", flush=True)
    return time.monotonic() - started


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="200 commands per round, 2 rounds per server")
    parser.add_argument("--requests", type=int, help="commands per round (default 1000, quick 200)")
    parser.add_argument("--rounds", type=int, help="rounds per server per level (default 4, quick 2)")
    parser.add_argument("--levels", default="10,100", help="requests in flight, comma-separated")
    parser.add_argument(
        "--poll-interval", default="10", help="RESTORE_BOT_POLL_INTERVAL for the bot (production default 10)"
    )
    parser.add_argument("--restore-seconds", type=float, default=1.0, help="how long the emulator takes per restore")
    parser.add_argument(
        "--py-spy", metavar="FILE", help="py-spy record the bot during its first round at the top level"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (bot log, database)")
    args = parser.parse_args()
    count = args.requests or (200 if args.quick else 1000)
    rounds = args.rounds or (2 if args.quick else 4)
    levels = [int(x) for x in args.levels.split(",")]

    workdir = Path(tempfile.mkdtemp(prefix=".work-ack-", dir=BENCH))
    database = workdir / "restore-bot.sqlite3"
    async with PineconeEmulator(api_key=PINECONE_API_KEY) as pinecone, SlackStandIn(bot_token=SLACK_BOT_TOKEN) as slack:
        pinecone.restore_duration = args.restore_seconds
        backup_id = pinecone.add_backup()["backup_id"]
        bot_port, bare_port = free_port(), free_port()
        env = bot_env(
            pinecone,
            slack,
            database,
            bot_port,
            RESTORE_BOT_POLL_INTERVAL=args.poll_interval,
            RESTORE_BOT_RESTORE_TIMEOUT="3600",
            RESTORE_BOT_LOG_FORMAT="json",
        )
        bot_log, bare_log = workdir / "bot.log", workdir / "bare.log"
        with bot_log.open("wb") as bot_out, bare_log.open("wb") as bare_out:
            bot = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                cwd=REPO,
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=bot_out,
                stderr=asyncio.subprocess.STDOUT,
            )
            bare = await asyncio.create_subprocess_exec(
                sys.executable,
                str(BENCH / "_bare_app.py"),
                str(bare_port),
                SIGNING_SECRET,
                slack.api_url,
                SLACK_BOT_TOKEN,
                cwd=REPO,
                env={**env, "PYTHONUNBUFFERED": "1"},
                stdin=asyncio.subprocess.DEVNULL,
                stdout=bare_out,
                stderr=asyncio.subprocess.STDOUT,
            )
            try:
                await wait_for_line(bot_log, READY_LINE, bot, 30)
                await wait_for_line(bare_log, "bare ready", bare, 30)
                return await measure(
                    args, count, rounds, levels, slack, backup_id, bot, bot_port, bare_port, database, pinecone
                )
            finally:
                for process in (bot, bare):
                    if process.returncode is None:
                        process.terminate()
                        try:
                            await asyncio.wait_for(process.wait(), 30)
                        except TimeoutError:
                            process.kill()
                            await process.wait()
                if args.keep:
                    print(f"kept {workdir}")
                else:
                    for path in sorted(workdir.iterdir()):
                        path.unlink()
                    workdir.rmdir()


async def measure(
    args: argparse.Namespace,
    count: int,
    rounds: int,
    levels: list[int],
    slack: SlackStandIn,
    backup_id: str,
    bot: asyncio.subprocess.Process,
    bot_port: int,
    bare_port: int,
    database: Path,
    pinecone: PineconeEmulator,
) -> int:
    urls = {"bot": f"http://127.0.0.1:{bot_port}/slack/events", "bare": f"http://127.0.0.1:{bare_port}/slack/events"}
    latencies: dict[tuple[str, int], list[float]] = {}
    by_kind: dict[tuple[int, str], list[float]] = {}
    round_p99: dict[tuple[str, int], list[float]] = {}
    bad_status: list[str] = []
    samples: dict[str, str] = {}
    print(
        f"ack latency: {count} commands per round, {rounds} rounds per server per level, levels {levels}; "
        f"bot pid {bot.pid}, poll interval {args.poll_interval} s",
        flush=True,
    )
    for level in levels:
        for r in range(rounds):
            tag = f"{level}-{r}"
            bodies = round_bodies(slack, backup_id, count, tag)
            order = ["bot", "bare"] if r % 2 == 0 else ["bare", "bot"]
            for server in order:
                warmup = [command_body(slack, "help", CHANNEL) for _ in range(level)]
                spy = None
                if server == "bot" and args.py_spy and level == levels[-1] and r == 0:
                    spy = await asyncio.create_subprocess_exec(
                        str(REPO / ".venv/bin/py-spy"),
                        "record",
                        "-p",
                        str(bot.pid),
                        "-r",
                        "200",
                        "-d",
                        "60",
                        "--format",
                        "raw",
                        "-o",
                        args.py_spy,
                        "--nonblocking",
                        stdout=asyncio.subprocess.DEVNULL,
                        stderr=asyncio.subprocess.DEVNULL,
                    )
                    await asyncio.sleep(1.0)
                cpu_before = cpu_seconds(bot.pid)
                result = await load(urls[server], level, bodies, warmup)
                cpu_round = cpu_seconds(bot.pid) - cpu_before
                if spy is not None:
                    spy.send_signal(2)  # SIGINT: py-spy writes what it has
                    await asyncio.wait_for(spy.wait(), 60)
                values = result["latencies"]
                for kind, status, latency in zip(result["kinds"], result["statuses"], values, strict=False):
                    if status != 200:
                        bad_status.append(f"{server} {kind} -> {status}")
                    if server == "bot":
                        by_kind.setdefault((level, kind), []).append(latency)
                samples.update({f"{server}/{k}": v for k, v in result["samples"].items()})
                latencies.setdefault((server, level), []).extend(values)
                s = summary(values)
                round_p99.setdefault((server, level), []).append(s["p99"])
                line = (
                    f"  level {level:3d} round {r + 1} {server:4s}: p50 {s['p50'] * 1000:7.1f} ms  "
                    f"p99 {s['p99'] * 1000:7.1f} ms  max {s['max'] * 1000:7.1f} ms  "
                    f"({len(values)} in {result['wall']:.2f} s)"
                )
                if server == "bot":
                    waited = await settle(database, bot.pid)
                    line += f"  bot CPU in round {cpu_round:.2f} s, settled in {waited:.1f} s"
                print(line, flush=True)

    print("\nresults (all rounds pooled; nearest-rank percentiles):")
    print(f"{'level':>5} {'server':>6} {'n':>6} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}")
    failures: list[str] = []
    for level in levels:
        for server in ("bot", "bare"):
            s = summary(latencies[(server, level)])
            print(
                f"{level:5d} {server:>6} {s['n']:6d} "
                f"{s['p50'] * 1000:9.1f} {s['p99'] * 1000:9.1f} {s['max'] * 1000:9.1f}"
            )
        bot_s, bare_s = summary(latencies[("bot", level)]), summary(latencies[("bare", level)])
        ratio = bot_s["p99"] / bare_s["p99"]
        per_round = [b / a for b, a in zip(round_p99[("bot", level)], round_p99[("bare", level)], strict=False)]
        print(
            f"      p99 ratio bot/bare: {ratio:.2f} (target <= {RATIO_LIMIT:.0f}); per round: "
            + ", ".join(f"{x:.2f}" for x in per_round)
            + f"; median {statistics.median(per_round):.2f}"
        )
        kinds = ", ".join(
            f"{kind} p50 {percentile(v, 50) * 1000:.1f} / p99 {percentile(v, 99) * 1000:.1f} ms"
            for (lv, kind), v in sorted(by_kind.items())
            if lv == level
        )
        print(f"      bot by kind: {kinds}")
        if ratio > RATIO_LIMIT:
            failures.append(f"at {level} in flight p99(bot) = {ratio:.2f} x p99(bare) > {RATIO_LIMIT:.0f}x")
        if level == 10 and bot_s["max"] >= ACK_LIMIT:
            failures.append(f"at 10 in flight the slowest ack took {bot_s['max']:.2f} s >= {ACK_LIMIT:.0f} s")
    jobs = (
        sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        .execute("SELECT state, count(*) FROM jobs GROUP BY state")
        .fetchall()
    )
    print(
        f"\nbot's jobs after the run: {dict(jobs)}; Pinecone requests {len(pinecone.requests)}, "
        f"Slack calls {len(slack.calls)}, spec violations {len(pinecone.spec_violations)}"
    )
    if bad_status:
        failures.append(f"{len(bad_status)} requests did not get HTTP 200, e.g. {bad_status[:3]}")
    if failures:
        print("\nTARGET MISSED:\n  " + "\n  ".join(failures))
        return 1
    print("\ntargets met: every ack at 10 in flight < 3 s; p99(bot) <= 2 x p99(bare) at every level")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
