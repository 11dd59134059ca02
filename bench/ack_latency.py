"""Targets 1 and 4 (acks) of issue 7: ack latency of the real bot against a bare Bolt AsyncApp, and how it grows.

    .venv/bin/python bench/ack_latency.py            # 10, 100 and 1,000 commands per round; 10 and 100 in flight
    .venv/bin/python bench/ack_latency.py --quick    # the same sizes and levels, fewer rounds (a few minutes)
    .venv/bin/python bench/ack_latency.py --replicas 2 --postgres --sizes 1000 --levels 100 --rounds 2
                                                     # two replicas on a throwaway PostgreSQL, requests alternating

Set-up (all on 127.0.0.1):
* this process hosts the test suite's Pinecone emulator and Slack stand-in (tests/fakes) and orchestrates;
* the bot is `python -m bot`, started as tests/e2e/harness.py starts it (same environment, log to a file);
* the baseline is bench/_bare_app.py: a bare Bolt AsyncApp with default settings that acks and does nothing,
  served by aiohttp the same way, with the same signing secret;
* every round's load comes from a fresh bench/_loadgen.py process (aiohttp client, N in flight).

A round sends `size` signed slash commands: half valid restores into distinct names, a quarter with a bad index
name, a quarter from a channel that is not allowed. For each level (commands in flight) and size, rounds
alternate between the two servers (bot/bare, then bare/bot, ...), the bare app getting exactly the bodies the
bot got in that round. After each bot round the script waits until every valid restore sent so far is recorded
and Ready and the bot's CPU is idle, so one round's work never spills into the next; the bot's CPU is read from
/proc/<pid>/stat from the start of the round to that point, so "CPU per command" is all a command costs: its ack,
its restore, the tracking to Ready and the Slack messages.

Targets (exit 1 if any is missed):
* target 1, at 1,000 commands per round: at 10 in flight every ack < 3 s; at each level p99(bot) <= 2 x p99(bare)
  over all rounds pooled (nearest-rank percentiles);
* target 4, cost growth, from each size to the next (10 -> 100 -> 1,000) at each level: the bot's CPU per command
  grows by at most CPU_TOLERANCE (total CPU at most that much faster than linear in the number of commands; the
  tolerance is for a shared machine's noise), and the bot's p99 ack grows by at most the factor the command count
  grows (latency at a fixed number in flight should not grow at all; compared only from a size that can keep the
  level in flight, e.g. not from 10 commands at 100 in flight);
* nothing dropped: every request answered 200 and every valid restore Ready at the end.

With `--replicas N` (N > 1 needs PostgreSQL: `--postgres` starts a throwaway server, durable as PostgreSQL's
defaults, or `--database-url` names one) N bot processes share the database, as replicas behind a load
balancer: each round's requests alternate between them (request i goes to replica i mod N) and the bot's CPU
is theirs summed. The bare app stays one process (unless `--bare-replicas`). The ratio target is then
`--ratio-limit` (2 by default; the issue asks at most 1x for two replicas at 100 in flight).
`--bare-replicas 2` runs the baseline as two bare
processes too, each round's requests spread over them the same way. `--control` puts bare apps in the bot's
place (as many as `--replicas`; no database, no restores): what this harness and this machine give a "bot"
that is Bolt's bare app, e.g. `--control --replicas 2` for two bare processes against one.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import sqlite3
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import asyncpg
from _common import BENCH, REPO, bot_process, child_process, command_body, cpu_seconds, start_py_spy, work_directory

from tests.e2e.harness import bot_env
from tests.fakes.fixtures import PINECONE_API_KEY, SLACK_BOT_TOKEN
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.ports import free_port
from tests.fakes.postgres_server import PostgresServer
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.workspace import CHANNEL, INCIDENT_CHANNEL, SIGNING_SECRET

OTHER_CHANNEL = "C0NOTALLOW"
ACK_LIMIT = 3.0
RATIO_LIMIT = 2.0
TARGET_SIZE = 1000
# Per-command CPU may grow this much from one size to the next before it counts as faster than linear.
CPU_TOLERANCE = 1.5
ROUND_TIMEOUT = 300.0
SETTLE_TIMEOUT = 300.0
FULL_ROUNDS = {10: 10, 100: 6, 1000: 6}
QUICK_ROUNDS = {10: 4, 100: 2, 1000: 2}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 50), "p99": percentile(values, 99), "max": max(values), "n": len(values)}


def round_bodies(slack: SlackStandIn, backup_id: str, count: int, tag: str, replicas: int = 1) -> list[list[Any]]:
    """Half valid restores into distinct names, a quarter bad names, a quarter from a channel not allowed; with
    several replicas, each kind is spread over them in turn (each gets the same mix)."""
    bodies: list[list[Any]] = []
    seen: dict[str, int] = {}
    for i in range(count):
        if i % 4 in (0, 2):
            kind, text, channel = "valid", f"{backup_id} bench-{tag}-{i} env=bench", CHANNEL
        elif i % 4 == 1:
            kind, text, channel = "bad_name", f"{backup_id} Bench_{tag}_{i}", CHANNEL
        else:
            kind, text, channel = "wrong_channel", f"{backup_id} bench-{tag}-x{i}", OTHER_CHANNEL
        turn = seen.get(kind, 0)
        seen[kind] = turn + 1
        bodies.append([kind, command_body(slack, text, channel), turn % replicas])
    return bodies


@dataclass
class Cell:
    """Everything measured for one (level, size)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: {"bot": [], "bare": []})
    round_p99: dict[str, list[float]] = field(default_factory=lambda: {"bot": [], "bare": []})
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    by_replica: dict[int, list[float]] = field(default_factory=dict)
    commands: dict[str, int] = field(default_factory=lambda: {"bot": 0, "bare": 0})
    ack_cpu: dict[str, float] = field(default_factory=lambda: {"bot": 0.0, "bare": 0.0})
    total_cpu: float = 0.0  # the bot, from the start of each round until it settled
    settle: list[float] = field(default_factory=list)

    def ratio(self) -> float:
        return summary(self.latencies["bot"])["p99"] / summary(self.latencies["bare"])["p99"]

    def per_round(self) -> list[float]:
        return [b / a for b, a in zip(self.round_p99["bot"], self.round_p99["bare"], strict=True)]

    def cpu_per_command(self) -> float:
        return self.total_cpu / self.commands["bot"]


async def load(urls: list[str], concurrency: int, bodies: list[list[Any]], warmup: list[str]) -> dict[str, Any]:
    job = {"urls": urls, "secret": SIGNING_SECRET, "concurrency": concurrency, "bodies": bodies, "warmup": warmup}
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
        raise SystemExit(f"a round against {urls} did not finish within {ROUND_TIMEOUT:.0f} s") from None
    if process.returncode != 0:
        raise SystemExit(f"the load generator failed (exit {process.returncode})")
    return json.loads(out)


_COUNTS = (
    "SELECT count(*), "
    "coalesce(sum(CASE WHEN state IN ('checking','requested','submitting','restoring','awaiting_approval') "
    "THEN 1 ELSE 0 END), 0), coalesce(sum(CASE WHEN state = 'ready' THEN 1 ELSE 0 END), 0) FROM jobs"
)


async def job_counts(database: Path | str) -> tuple[int, int, int]:
    """(jobs recorded, jobs still active, jobs Ready), from the SQLite file or the PostgreSQL URL."""
    if isinstance(database, str):
        connection = await asyncpg.connect(database)
        try:
            row = await connection.fetchrow(_COUNTS)
        finally:
            await connection.close()
        assert row is not None
        recorded, active, ready = row[0], row[1], row[2]
    else:
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=5)) as db:
            recorded, active, ready = db.execute(_COUNTS).fetchone()
    return int(recorded), int(active), int(ready)


def total_cpu(pids: list[int]) -> float:
    return sum(cpu_seconds(pid) for pid in pids)


async def settle(database: Path | str, pids: list[int], expected: int) -> float:
    """Wait until all `expected` valid restores are recorded and none is active (requests still waiting in
    the bot's memory are not in the store yet, so the count matters), then for a second of idle CPU."""
    started = time.monotonic()
    while time.monotonic() - started < SETTLE_TIMEOUT:
        recorded, active, _ = await job_counts(database)
        if recorded >= expected and active == 0:
            before = total_cpu(pids)
            await asyncio.sleep(1.0)
            if total_cpu(pids) - before < 0.05 * len(pids):
                return time.monotonic() - started
        else:
            await asyncio.sleep(0.25)
    print(f"  warning: the bot did not settle within {SETTLE_TIMEOUT:.0f} s", flush=True)
    return time.monotonic() - started


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds per size (4, 2, 2 instead of 10, 6, 6)")
    parser.add_argument("--sizes", default="10,100,1000", help="commands per round, comma-separated")
    parser.add_argument("--rounds", type=int, help="rounds per server for every size (default: by size)")
    parser.add_argument("--levels", default="10,100", help="requests in flight, comma-separated")
    parser.add_argument(
        "--poll-interval", default="10", help="RESTORE_BOT_POLL_INTERVAL for the bot (production default 10)"
    )
    parser.add_argument("--restore-seconds", type=float, default=1.0, help="how long the emulator takes per restore")
    parser.add_argument(
        "--py-spy",
        metavar="FILE",
        help="py-spy record the bot (replicas: FILE.0, FILE.1, ...) during its first round at the top level and size",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (bot log, database)")
    parser.add_argument("--replicas", type=int, default=1, help="bot processes sharing the store (>1: PostgreSQL)")
    parser.add_argument(
        "--bare-replicas",
        type=int,
        default=1,
        help="bare app processes, the requests spread over them as over the bot's replicas (the issue's baseline: 1)",
    )
    parser.add_argument(
        "--control",
        action="store_true",
        help="a control run: the bare app in the bot's place (--replicas of them), no database, no restores",
    )
    parser.add_argument("--postgres", action="store_true", help="the store on a throwaway PostgreSQL server")
    parser.add_argument("--database-url", help="the store on this PostgreSQL database (it must be empty)")
    parser.add_argument("--ratio-limit", type=float, default=RATIO_LIMIT, help="p99(bot) / p99(bare) allowed")
    args = parser.parse_args()
    if args.replicas > 1 and not (args.postgres or args.database_url or args.control):
        parser.error("--replicas above 1 needs PostgreSQL: --postgres or --database-url")
    sizes = sorted(int(x) for x in args.sizes.split(","))
    levels = [int(x) for x in args.levels.split(",")]
    table = QUICK_ROUNDS if args.quick else FULL_ROUNDS
    rounds = {size: args.rounds or table.get(size, 2) for size in sizes}

    with work_directory(".work-ack-", keep=args.keep) as workdir, contextlib.ExitStack() as servers:
        database: Path | str = workdir / "restore-bot.sqlite3"
        if args.postgres:
            server = PostgresServer(durable=True)
            servers.callback(server.destroy)
            await asyncio.to_thread(server.start)  # it runs an event loop of its own to create the role
            database = server.url(await server.create_database())
            print(f"PostgreSQL {server.bindir.parent.name} on port {server.port} (fsync and synchronous_commit on)")
        elif args.database_url:
            database = args.database_url
        async with (
            PineconeEmulator(api_key=PINECONE_API_KEY) as pinecone,
            SlackStandIn(bot_token=SLACK_BOT_TOKEN) as slack,
        ):
            pinecone.restore_duration = args.restore_seconds
            for channel in (CHANNEL, INCIDENT_CHANNEL):  # the stand-in is strict: the bot's channels exist
                slack.add_channel(channel)
            backup_id = pinecone.add_backup()["backup_id"]
            bot_ports = [free_port() for _ in range(args.replicas)]
            bare_ports = [free_port() for _ in range(args.bare_replicas)]
            async with contextlib.AsyncExitStack() as bots:
                bot_pids = []
                for n, port in enumerate(bot_ports):
                    env = bot_env(
                        pinecone,
                        slack,
                        workdir / "restore-bot.sqlite3",
                        port,
                        RESTORE_BOT_POLL_INTERVAL=args.poll_interval,
                        RESTORE_BOT_RESTORE_TIMEOUT="3600",
                        RESTORE_BOT_LOG_FORMAT="json",
                    )
                    if isinstance(database, str):
                        env["DATABASE_URL"] = database
                    process = (
                        bare_process(env, port, slack, workdir, f"control-{n}")
                        if args.control
                        else bot_process(env, workdir / f"bot-{n}.log")
                    )
                    bot_pids.append(await bots.enter_async_context(process))
                bare_pids = [
                    await bots.enter_async_context(bare_process(env, port, slack, workdir, f"bare-{n}"))
                    for n, port in enumerate(bare_ports)
                ]
                bench = Bench(args, slack, backup_id, bot_pids, bare_pids, bot_ports, bare_ports, database)
                cells = await bench.run(levels, sizes, rounds)
                return await report(cells, levels, sizes, bench, database, pinecone, slack)


def bare_process(
    env: dict[str, str], port: int, slack: SlackStandIn, workdir: Path, name: str
) -> contextlib.AbstractAsyncContextManager[int]:
    """bench/_bare_app.py on `port`, started as the bot is, its output in `name`.log; its pid."""
    return child_process(
        [sys.executable, str(BENCH / "_bare_app.py"), str(port), SIGNING_SECRET, slack.api_url, SLACK_BOT_TOKEN],
        env={**env, "PYTHONUNBUFFERED": "1"},
        log=workdir / f"{name}.log",
        ready="bare ready",
    )


class Bench:
    def __init__(
        self,
        args: argparse.Namespace,
        slack: SlackStandIn,
        backup_id: str,
        bot_pids: list[int],
        bare_pids: list[int],
        bot_ports: list[int],
        bare_ports: list[int],
        database: Path | str,
    ) -> None:
        self.args = args
        self.slack = slack
        self.backup_id = backup_id
        self.pids = {"bot": bot_pids, "bare": bare_pids}
        self.urls = {
            "bot": [f"http://127.0.0.1:{port}/slack/events" for port in bot_ports],
            "bare": [f"http://127.0.0.1:{port}/slack/events" for port in bare_ports],
        }
        self.database = database
        self.valid_sent = 0
        self.bad_status: list[str] = []
        self.samples: dict[str, str] = {}

    async def run(self, levels: list[int], sizes: list[int], rounds: dict[int, int]) -> dict[tuple[int, int], Cell]:
        print(
            f"ack latency: levels {levels} in flight; commands per round {sizes}, rounds per server "
            f"{[rounds[s] for s in sizes]}; bot pids {self.pids['bot']} ({len(self.pids['bot'])} replica(s), store "
            f"{'PostgreSQL' if isinstance(self.database, str) else 'SQLite'}), "
            f"poll interval {self.args.poll_interval} s; bare app pids {self.pids['bare']}",
            flush=True,
        )
        cells: dict[tuple[int, int], Cell] = {}
        for level in levels:
            for size in sizes:
                cell = cells[(level, size)] = Cell()
                for r in range(rounds[size]):
                    spy = bool(self.args.py_spy) and level == levels[-1] and size == sizes[-1] and r == 0
                    await self.round(cell, level, size, r, spy)
        return cells

    async def round(self, cell: Cell, level: int, size: int, r: int, spy: bool) -> None:
        tag = f"{level}-{size}-{r}"
        bodies = round_bodies(self.slack, self.backup_id, size, tag, len(self.urls["bot"]))
        order = ["bot", "bare"] if r % 2 == 0 else ["bare", "bot"]
        for server in order:
            warmup = [command_body(self.slack, "help", CHANNEL) for _ in range(level)]
            profilers = await self.profile_bot() if spy and server == "bot" else []
            cpu_before = total_cpu(self.pids[server])
            result = await load(self.urls[server], level, bodies, warmup)
            ack_cpu = total_cpu(self.pids[server]) - cpu_before
            for profiler in profilers:
                profiler.send_signal(2)  # SIGINT: py-spy writes what it has
                await asyncio.wait_for(profiler.wait(), 60)
            values: list[float] = result["latencies"]
            for kind, status, latency, target in zip(
                result["kinds"], result["statuses"], values, result["targets"], strict=True
            ):
                if status != 200:
                    self.bad_status.append(f"{server} {kind} -> {status}")
                if server == "bot":
                    cell.by_kind.setdefault(kind, []).append(latency)
                    cell.by_replica.setdefault(target, []).append(latency)
            self.samples.update({f"{server}/{k}": v for k, v in result["samples"].items()})
            cell.latencies[server].extend(values)
            cell.commands[server] += len(values)
            cell.ack_cpu[server] += ack_cpu
            s = summary(values)
            cell.round_p99[server].append(s["p99"])
            line = (
                f"  level {level:3d} size {size:4d} round {r + 1:2d} {server:4s}: p50 {s['p50'] * 1000:6.1f} ms  "
                f"p99 {s['p99'] * 1000:6.1f} ms  max {s['max'] * 1000:6.1f} ms  "
                f"({len(values)} in {result['wall']:.2f} s)"
            )
            if server == "bot" and not self.args.control:
                self.valid_sent += sum(1 for kind, *_ in bodies if kind == "valid")
                waited = await settle(self.database, self.pids["bot"], self.valid_sent)
                total = total_cpu(self.pids["bot"]) - cpu_before
                cell.total_cpu += total
                cell.settle.append(waited)
                line += f"  bot CPU {ack_cpu:.2f} s while loaded, {total:.2f} s until settled ({waited:.1f} s)"
            print(line, flush=True)

    async def profile_bot(self) -> list[asyncio.subprocess.Process]:
        """One py-spy per replica: FILE for one, FILE.0, FILE.1, ... (0 started first) for several."""
        pids = self.pids["bot"]
        names = [self.args.py_spy] if len(pids) == 1 else [f"{self.args.py_spy}.{n}" for n in range(len(pids))]
        spies = [await start_py_spy(pid, name, rate=200) for pid, name in zip(pids, names, strict=True)]
        await asyncio.sleep(1.0)
        return spies


async def report(
    cells: dict[tuple[int, int], Cell],
    levels: list[int],
    sizes: list[int],
    bench: Bench,
    database: Path | str,
    pinecone: PineconeEmulator,
    slack: SlackStandIn,
) -> int:
    failures: list[str] = []
    ms = 1000.0
    print(
        "\nresults (all rounds of a size pooled; nearest-rank percentiles; CPU from /proc/<pid>/stat: 'bot CPU/cmd'"
        " from the start of a round until every restore is Ready, 'loaded' while the load generator ran, bot then"
        " bare)"
    )
    for level in levels:
        print(f"\n{level} in flight")
        print(
            f"{'commands':>8} {'rounds':>6} | {'bot p50':>8} {'p99':>7} {'max':>7} | {'bare p50':>8} {'p99':>7} "
            f"{'max':>7} | {'ratio':>5} {'per round (median)':>22} | {'bot CPU/cmd':>11} {'loaded':>9} "
            f"{'bare':>6}"
        )
        for size in sizes:
            cell = cells[(level, size)]
            bot, bare = summary(cell.latencies["bot"]), summary(cell.latencies["bare"])
            per_round = cell.per_round()
            rounds = f"{min(per_round):.2f}-{max(per_round):.2f} ({statistics.median(per_round):.2f})"
            # CPU while the load generator ran (the acks, its warm-up, whatever the server did meanwhile).
            loaded = {server: cell.ack_cpu[server] / cell.commands[server] * ms for server in ("bot", "bare")}
            print(
                f"{size:8d} {len(per_round):6d} | "
                f"{bot['p50'] * ms:8.1f} {bot['p99'] * ms:7.1f} {bot['max'] * ms:7.1f} | "
                f"{bare['p50'] * ms:8.1f} {bare['p99'] * ms:7.1f} {bare['max'] * ms:7.1f} | {cell.ratio():5.2f} "
                f"{rounds:>22} | {cell.cpu_per_command() * ms:8.2f} ms {loaded['bot']:6.2f} ms "
                f"{loaded['bare']:3.2f} ms"
            )
            if level == 10 and bot["max"] >= ACK_LIMIT:
                failures.append(f"{size} commands at 10 in flight: the slowest ack took {bot['max']:.2f} s >= 3 s")
            if size == TARGET_SIZE and cell.ratio() > bench.args.ratio_limit:
                failures.append(
                    f"{size} commands at {level} in flight: p99(bot) = {cell.ratio():.2f} x p99(bare) "
                    f"> {bench.args.ratio_limit:g}x"
                )
        kinds = cells[(level, sizes[-1])].by_kind
        print(
            f"  bot by kind at {sizes[-1]} commands: "
            + ", ".join(
                f"{kind} p50 {percentile(v, 50) * ms:.1f} / p99 {percentile(v, 99) * ms:.1f} ms"
                for kind, v in sorted(kinds.items())
            )
        )
        replicas = cells[(level, sizes[-1])].by_replica
        if len(replicas) > 1:
            print(
                f"  bot by replica at {sizes[-1]} commands (0 started first: the leader): "
                + ", ".join(
                    f"{n}: p50 {percentile(v, 50) * ms:.1f} / p99 {percentile(v, 99) * ms:.1f} ms"
                    for n, v in sorted(replicas.items())
                )
            )
        print("  growth (bot), from each size to the next:")
        for small, big in itertools.pairwise(sizes):
            a, b = cells[(level, small)], cells[(level, big)]
            factor = big / small
            cpu_growth = b.cpu_per_command() / a.cpu_per_command()
            line = (
                f"    {small} -> {big} commands (x{factor:.0f}): "
                f"CPU per command x{cpu_growth:.2f} (limit x{CPU_TOLERANCE})"
            )
            if cpu_growth > CPU_TOLERANCE:
                failures.append(
                    f"at {level} in flight the bot's CPU per command grew x{cpu_growth:.2f} from {small} to {big} "
                    f"commands (> x{CPU_TOLERANCE}: faster than linear)"
                )
            if small >= level:
                p99_growth = summary(b.latencies["bot"])["p99"] / summary(a.latencies["bot"])["p99"]
                line += f", p99 ack x{p99_growth:.2f} (limit x{factor:.0f})"
                if p99_growth > factor:
                    failures.append(
                        f"at {level} in flight the bot's p99 ack grew x{p99_growth:.2f} from {small} to {big} "
                        f"commands (> x{factor:.0f}: faster than the command count)"
                    )
            else:
                # Fewer commands than the level: fewer in flight, so shorter queues; nothing to compare.
                line += f", p99 ack not compared ({small} commands cannot keep {level} in flight)"
            print(line)
    if bench.args.control:
        print("\ncontrol run: bare apps in the bot's place (no database, no restores)")
    else:
        recorded, active, ready = await job_counts(database)
        print(
            f"\nvalid restores sent {bench.valid_sent}: recorded {recorded}, Ready {ready}, still active {active}; "
            f"Pinecone requests {len(pinecone.requests)}, Slack calls {len(slack.calls)}, "
            f"spec violations {len(pinecone.spec_violations)}"
        )
        if ready != bench.valid_sent:
            failures.append(f"{bench.valid_sent - ready} of {bench.valid_sent} valid restores did not reach Ready")
    if bench.bad_status:
        failures.append(f"{len(bench.bad_status)} requests did not get HTTP 200, e.g. {bench.bad_status[:3]}")
    if failures:
        print("\nTARGET MISSED:\n  " + "\n  ".join(failures))
        return 1
    ratio = (
        f"at {TARGET_SIZE} commands p99(bot) <= {bench.args.ratio_limit:g} x p99(bare) at every level"
        if TARGET_SIZE in sizes
        else f"(no {TARGET_SIZE}-command rounds: the p99 ratio of target 1 was not checked)"
    )
    print(
        f"\ntargets met: {ratio}; every ack at 10 in flight < 3 s; no figure grew faster than linearly; "
        "every valid restore Ready"
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
