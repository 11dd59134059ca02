"""Failover: from `kill -9` of the replica leading the background work to the other replica's first tracking cycle.

    .venv/bin/python bench/failover.py                         # poll intervals 1 s and 2 s, 5 kills each
    .venv/bin/python bench/failover.py --poll-intervals 10 --kills 3

Set-up (all on 127.0.0.1): a throwaway PostgreSQL server (PostgreSQL's durable defaults), this process hosting
the test suite's Pinecone emulator and Slack stand-in, and two `python -m bot` replicas on one database
(tests/e2e/harness.py starts them as the end-to-end tests do). `--restores` restores are started and kept
running (they never finish), so every tracking cycle has work.

Each kill comes at a random moment (a uniform wait of up to two ticks of the leadership first, so it does not
fall at the same point of the standby's tick every time): the leader is sent SIGKILL; the other replica's
/metrics is read every 10 ms until its
`restore_bot_tracker_cycles_total` rises. Two figures from the moment of the kill:
* to leading: the replica's "leads the background work now" log line (its own timestamp);
* to its first tracking cycle done (/metrics; 10 ms resolution).
A new standby is then started, and the next kill is of the new leader. Target: the first cycle within two poll
intervals of the kill (exit 1 if missed).

Then, once per poll interval, the other failover: the leader is killed while it is itself driving a request
(create-index answered late, so the job is `submitting` and leased to the dead replica): the time until the new
leader has the job `restoring` is what was left of the lease (RESTORE_BOT_LEASE_SECONDS: half the poll
interval, at least 1 s) plus up to one tracking cycle, and no second create-index is sent.

Before the kills, `--requests` restores are asked for one at a time, alternately of the leader and of the
standby: from the command to its parent message in the channel, and to the requester's answer linking the thread.
On the standby both cross replicas: its request wakes the leader's sender with a NOTIFY, and the leader's sender
tells it the thread exists with another; without them the sender would find the request at its next idle round
(up to 1 s) and the request would see its thread at its next look at the store (up to 1 s).

At the end: every restore is tracked by one replica, with one parent message and one create-index each.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common  # noqa: F401  (puts the repo on sys.path)
import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from bot.app.leadership import tick_for
from tests.e2e.harness import BotProcess, new_bot
from tests.fakes.fixtures import PINECONE_API_KEY, SLACK_BOT_TOKEN
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.postgres_server import PostgresServer
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents, response_posts
from tests.fakes.workspace import CHANNEL, INCIDENT_CHANNEL

LEADS = "leads the background work now"
METRICS_EVERY = 0.01
POST_REFILL = 2.5


async def tracker_cycles(client: httpx.AsyncClient) -> float:
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "restore_bot_tracker_cycles_total":
                return float(sample.value)
    return 0.0


def led_at(bot: BotProcess) -> float:
    """The wall time of the replica's "leads the background work now" line (its JSON timestamp)."""
    for line in bot.log_lines:
        if LEADS in line:
            stamp = json.loads(line)["timestamp"]
            return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    raise AssertionError(f"the replica never led; its log:\n{bot.log[-3000:]}")


async def states(url: str) -> list[str]:
    connection = await asyncpg.connect(url)
    try:
        return [row[0] for row in await connection.fetch("SELECT state FROM jobs ORDER BY created_at, seq")]
    finally:
        await connection.close()


class Pair:
    """The replicas of one poll interval: the leader, the standby, and every one started (to stop at the end)."""

    def __init__(self, pinecone: PineconeEmulator, slack: SlackStandIn, work: Path, url: str, interval: str) -> None:
        self.pinecone, self.slack, self.work, self.url, self.interval = pinecone, slack, work, url, interval
        self.started: list[BotProcess] = []

    async def start(self) -> BotProcess:
        bot = new_bot(
            self.pinecone,
            self.slack,
            self.work,
            database_url=self.url,
            RESTORE_BOT_POLL_INTERVAL=self.interval,
            RESTORE_BOT_RESTORE_TIMEOUT="36000",
            RESTORE_BOT_LOG_FORMAT="json",
            RESTORE_BOT_LEASE_SECONDS=None,  # the default (the harness sets one for the tests)
        )
        self.started.append(bot)
        await bot.start()
        return bot

    async def close(self) -> None:
        for bot in self.started:
            if bot.process is not None and bot.process.returncode is None:
                await bot.stop()
            if bot.peek is not None:
                bot.peek.close()


async def request_latency(slack: SlackStandIn, bot: BotProcess, backup_id: str, name: str) -> tuple[float, float]:
    """Ask one restore of `bot`: (seconds to its parent in the channel, to the requester's answer with the link)."""
    started = time.monotonic()
    command = await bot.command(f"{backup_id} {name}")
    await slack.wait_for(lambda: any(name in str(m.get("text")) for m in parents(slack, CHANNEL)), timeout=30)
    parent = time.monotonic() - started
    await slack.wait_for(lambda: response_posts(slack, command.response_url), timeout=30)
    answered = time.monotonic() - started
    answer = response_posts(slack, command.response_url)[-1]["text"]
    assert "Follow it in the thread" in answer, answer
    return parent, answered


async def one_kill(leader: BotProcess, standby: BotProcess, tick: float) -> tuple[float, float]:
    """Kill the leader at a random moment; (seconds to the standby leading, to its first tracking cycle done)."""
    assert leader.process is not None
    await asyncio.sleep(random.uniform(0, 2 * tick))
    async with httpx.AsyncClient(base_url=standby.url, timeout=5) as client:
        before = await tracker_cycles(client)
        killed_wall, killed = time.time(), time.monotonic()
        leader.process.send_signal(signal.SIGKILL)
        while await tracker_cycles(client) <= before:
            await asyncio.sleep(METRICS_EVERY)
        cycled = time.monotonic() - killed
    await leader.stop()  # reaps it
    await standby.wait_for_log(LEADS)
    return led_at(standby) - killed_wall, cycled


async def driven_kill(pair: Pair, leader: BotProcess, standby: BotProcess, backup_id: str, name: str) -> float:
    """Kill the leader while it drives a request of its own: seconds until the other has the job restoring."""
    pair.pinecone.inject("POST", "/backups/*/create-index", status=503, then_process=True, delay=120.0)
    before = len(pair.pinecone.create_index_calls)
    await leader.command(f"{backup_id} {name}")
    await pair.pinecone.wait_for(lambda: len(pair.pinecone.create_index_calls) > before, timeout=30)
    assert leader.process is not None
    killed = time.monotonic()
    leader.process.send_signal(signal.SIGKILL)
    while (await states(pair.url))[-1] != "restoring":
        await asyncio.sleep(METRICS_EVERY)
    taken = time.monotonic() - killed
    await leader.stop()
    assert len(pair.pinecone.create_index_calls) == before + 1, "no second create-index"
    return taken


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--poll-intervals", default="1,2", help="RESTORE_BOT_POLL_INTERVAL values, comma-separated")
    parser.add_argument("--kills", type=int, default=5, help="leaders killed per poll interval")
    parser.add_argument("--restores", type=int, default=20, help="restores kept running while the leaders die")
    parser.add_argument("--requests", type=int, default=10, help="restores timed from each replica first")
    args = parser.parse_args()
    intervals = [x.strip() for x in args.poll_intervals.split(",")]
    failures: list[str] = []
    results: dict[str, tuple[list[float], list[float], float]] = {}
    latencies: dict[str, dict[str, list[tuple[float, float]]]] = {}
    server = PostgresServer(durable=True)
    try:
        await asyncio.to_thread(server.start)
        print(f"PostgreSQL {server.bindir.parent.name}, durable (fsync, synchronous_commit on); 2 replicas")
        async with (
            PineconeEmulator(api_key=PINECONE_API_KEY) as pinecone,
            SlackStandIn(bot_token=SLACK_BOT_TOKEN) as slack,
        ):
            for channel in (CHANNEL, INCIDENT_CHANNEL):
                slack.add_channel(channel)
            for interval in intervals:
                url = server.url(await server.create_database())
                backup = pinecone.add_backup()
                pinecone.set_restore_duration(backup["backup_id"], 10**9)  # running for the whole run
                with tempfile.TemporaryDirectory(prefix="failover-") as work:
                    pair = Pair(pinecone, slack, Path(work), url, interval)
                    try:
                        leader, standby = await pair.start(), await pair.start()
                        timed: dict[str, list[tuple[float, float]]] = {"leader": [], "standby": []}
                        for n in range(2 * args.requests):
                            # Slack allows about one post a second per channel (the sender keeps to it), and each
                            # restore posts two (its parent and "accepted"): let the bucket refill in between.
                            await asyncio.sleep(POST_REFILL)
                            role, replica = ("leader", leader) if n % 2 == 0 else ("standby", standby)
                            name = f"latency-{interval.replace('.', '-')}-{n}"
                            timed[role].append(await request_latency(slack, replica, backup["backup_id"], name))
                        latencies[interval] = timed
                        posted_before = len(parents(slack, CHANNEL))
                        creates_before = len(pinecone.create_index_calls)
                        for n in range(args.restores):
                            await (leader if n % 2 else standby).command(
                                f"{backup['backup_id']} failover-{interval}-{n}"
                            )
                        while (await states(url)).count("restoring") < args.restores + 2 * args.requests:
                            await asyncio.sleep(0.1)
                        to_lead, to_cycle = [], []
                        for _ in range(args.kills):
                            led, cycled = await one_kill(leader, standby, tick_for(float(interval)))
                            to_lead.append(led)
                            to_cycle.append(cycled)
                            print(
                                f"  poll interval {interval} s: kill -9 of the leader -> the other leads after "
                                f"{led * 1000:.0f} ms, its first tracking cycle done after {cycled * 1000:.0f} ms",
                                flush=True,
                            )
                            leader, standby = standby, await pair.start()
                        driven = await driven_kill(pair, leader, standby, backup["backup_id"], f"driven-{interval}")
                        print(
                            f"  poll interval {interval} s: kill -9 of the leader while it drives a request -> the "
                            f"other has it restoring after {driven:.2f} s (no second create-index)",
                            flush=True,
                        )
                        await slack.wait_for(
                            lambda pb=posted_before: len(parents(slack, CHANNEL)) - pb == args.restores + 1, timeout=120
                        )
                        posted = len(parents(slack, CHANNEL)) - posted_before
                        creates = len(pinecone.create_index_calls) - creates_before
                        if posted != args.restores + 1 or creates != args.restores + 1:
                            failures.append(f"interval {interval}: {posted} parents, {creates} create-index calls")
                        results[interval] = (to_lead, to_cycle, driven)
                    finally:
                        await pair.close()
    finally:
        server.destroy()

    print("\nresults (seconds from kill -9 of the leader; min / median / max)")
    print(f"{'poll interval':>13} | {'to leading':>20} | {'to first cycle':>20} | {'target':>7} | driven job taken up")
    for interval, (to_lead, to_cycle, driven) in results.items():
        target = 2 * float(interval)

        def spread(values: list[float]) -> str:
            return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"

        print(f"{interval:>11} s | {spread(to_lead):>20} | {spread(to_cycle):>20} | {target:>5.1f} s | {driven:.2f} s")
        if max(to_cycle) > target:
            failures.append(f"poll interval {interval} s: a first cycle came {max(to_cycle):.2f} s after the kill")
    print("\nfrom a restore command to its parent / to the requester's answer linking the thread (median, max)")
    for interval, timed in latencies.items():
        for role, values in timed.items():
            parent = [v[0] for v in values]
            answer = [v[1] for v in values]
            print(
                f"  poll interval {interval} s, asked of the {role:7}: "
                f"parent {statistics.median(parent) * 1000:.0f} ms "
                f"(max {max(parent) * 1000:.0f}), answer {statistics.median(answer) * 1000:.0f} ms "
                f"(max {max(answer) * 1000:.0f})"
            )
    if failures:
        print("\nTARGET MISSED:\n  " + "\n  ".join(failures))
        return 1
    print(
        "\ntargets met: every first tracking cycle within two poll intervals of the kill; one parent and one "
        "create-index per restore"
    )
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(asyncio.run(main()))
