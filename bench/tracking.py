"""Target 2 of issue 7 (tracking at scale) and its part of target 4 (cost growth), against the real bot.

    .venv/bin/python bench/tracking.py            # N = 10, 100, 1000; crowded project at N = 100 and 1000
    .venv/bin/python bench/tracking.py --quick    # N = 10, 100; crowded project at N = 100

The full run takes about an hour, the quick one about 5 minutes: creating N restores costs Slack 2 N posts
and N parent redraws, which the bot spreads within Slack's limits (about 4 posts and 0.75 updates a second).

Set-up, per run (a fresh emulator, stand-in, bot and database each time; all on 127.0.0.1):
* this process hosts the test suite's Pinecone emulator and Slack stand-in (tests/fakes), the stand-in with
  Slack's rate limits ON (tests/fakes/slack_api.py, DEFAULT_RATE_LIMITS: chat.postMessage 10 at once then
  1/s per channel and 300/min per workspace, chat.update 50/min, ...), answering 429 when they are exceeded;
* the bot is `python -m bot`, started with tests/e2e/harness.py's environment, RESTORE_BOT_POLL_INTERVAL=1,
  one allowed channel per 50 restores (restores spread evenly over them) and an incident channel;
* "crowded project" runs first seed the emulator with 5,000 old, finished restore jobs (its Python API), so
  `GET /restore-jobs` is long; the tracked restores are newer, as in a real project.
* N restores are requested through the real path: signed `/restore-index` slash commands over HTTP (10 in
  flight). The script waits (condition with a timeout) until all N jobs are `restoring` in the bot's SQLite
  file, which it only ever opens read-only.

The emulator is the test suite's strict one (tests/fakes/pinecone_emulator.py, `Realism()` defaults): Pinecone
API 2026-07, restore jobs Pending with no percent until done, listed in a seeded shuffle (not newest first),
overlapping pages, listings that now and then end early, `created_at` null at first, record counts that
reach the backup's only a second after Ready. Restores are long and the bench steers the emulator's clock
(restores progress with it): the clock stands still while the restores are created, then jumps 1,200 s,
and stands still again until Slack has been told everything (no pending notice, no parent to redraw, Slack
quiet). Then it runs at real speed for the measured window, in which, about 3 s in, ~10% of the jobs
complete (index Ready; its count lags, so most are "verifying" first, then verified against the backup) and
~1% fail (an incident notice each); the other ~89% stay Pending. The bot's "still restoring" check-ins come
after 30 minutes of its own clock, so none falls in a window; state changes and finishes are exercised next
to jobs that do not change.

Measured, over windows of whole tracking cycles: a window starts when `restore_bot_tracker_cycles_total`
(GET /metrics, polled before the window) moves, i.e. at the end of a cycle, and ends when it has moved W
more times (the end is found through the emulator: after the W-th cycle's first `GET /restore-jobs` and
0.3 s without a Pinecone request, /metrics is read once more; the bot's CPU is read before that scrape, so
scrapes are outside the window unless one came too early, which is reported). First a quiet window of 5
cycles with the clock still stopped (nothing changes: the pure cost of tracking N jobs), then the measured
window of W cycles (default 10) with the clock running. Then the emulator's clock stops again and the bench
waits until the bot has delivered everything to Slack ("drain"). `--py-spy PREFIX` profiles the bot through
each measured window (py-spy raw folded stacks, PREFIX-<N>.txt).
* Pinecone requests per cycle (both windows), as the emulator recorded them, split by cycle at each
  cycle's first page (`GET /restore-jobs` without paginationToken; checked against the metric): list pages
  and describe_restore_job, and separately the reads for finished jobs (describe_index, describe_backup and the
  index's describe_index_stats), counted from the window start to the end of the drain, per finished job;
* the bot's CPU seconds per cycle: utime + stime from /proc/<pid>/stat over a window, divided by its cycles
  (all its work in the window: tracking, the SQLite thread, Slack deliveries, the idle poll interval);
* the bot's peak RSS: VmHWM from /proc/<pid>/status at the end (set-up included), and the same above the
  bot's VmRSS when it had just started (the baseline);
* Slack: every Web API call the stand-in received from the window start to the end of the drain, by
  method, each attributed to its job (message metadata, or the channel and ts of the parent it updates or
  links to), against the jobs whose `state` or `check_ins` column changed between the DB read at the window
  start and the one at the end of the drain. Counting through the drain, not only within the W cycles, is
  what makes this exact when the bot paces its Slack calls: a change made in the window may be delivered
  after it, and nothing delivered in the drain can be about a change from before the window, because the
  window only starts once everything earlier was delivered; and the clock is stopped in the drain, so no
  new change happens then. Also every call answered 429 by the stand-in, set-up included.

Targets (exit 1 if one is missed; each is printed with its figure):
* per cycle: list pages + describe_restore_job <= ceil(N / 100) + 2, also in the crowded project;
  describe_restore_job never once per job per cycle (fewer calls in every cycle than jobs tracked);
* reads for finished jobs <= 3 per finished job (describe_index, describe_backup, the first
  describe_index_stats); re-counts of a count that lagged behind Ready are counted apart, and are bounded
  by the verification back-off (<= 12 per finished job);
* peak RSS < 250 MB at N = 1000;
* Slack: no call for a job that did not change (calls that cannot be attributed count as such, and so
  does any call in the quiet window);
  chat.update <= changed jobs + jobs that were "verifying" first (their parent shows that too);
  chat.postMessage <= changed jobs + finished jobs (the finished reply in the thread, plus an incident notice
  for a failure);
* no call answered 429 by the stand-in, set-up included;
* growth (target 4): from each N to the next (x10), requests per cycle, CPU seconds per cycle (measured
  window and quiet window) and RSS above the baseline grow at most 10 x 1.5 (small figures are floored
  before dividing: 1 request, 5 ms, 5 MB).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import re
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import bot_process, command_body, cpu_seconds, memory_kib, signed_headers, start_py_spy, work_directory

from tests.e2e.harness import bot_env
from tests.fakes.fixtures import PINECONE_API_KEY, SLACK_BOT_TOKEN
from tests.fakes.pinecone_emulator import PineconeEmulator, RecordedRequest
from tests.fakes.ports import free_port
from tests.fakes.slack_api import SlackCall, SlackStandIn
from tests.fakes.workspace import INCIDENT_CHANNEL

POLL_INTERVAL = 1.0
JOBS_PER_CHANNEL = 50
OLD_JOBS = 5000
IN_FLIGHT = 10
JUMP = 1200.0  # emulator seconds every restore has run when the measured window opens
LEAD = 3.0  # emulator seconds into the window at which the finishes happen
RECOUNTS_PER_JOB = 12  # re-counts of a lagging record count allowed per finished job (verification back-off)
RSS_LIMIT_MB = 250.0
GROWTH_TOLERANCE = 1.5
FLOORS = {"requests/cycle": 1.0, "CPU s/cycle": 0.005, "RSS above baseline MB": 5.0}  # before dividing
FINAL = ("ready", "failed", "timed_out", "rejected", "denied", "cancelled", "expired")
QUIET = 1.5  # seconds without a Slack call before deliveries count as settled


class SteeredEmulator(PineconeEmulator):
    """The Pinecone emulator with a clock the bench can stop, restart and move; restores progress with it."""

    def __init__(self, api_key: str) -> None:
        super().__init__(api_key=api_key)
        self._stopped_at: float | None = None

    def _now(self) -> float:
        return self._stopped_at if self._stopped_at is not None else super()._now()

    def stop_clock(self) -> None:
        if self._stopped_at is None:
            self._stopped_at = super()._now()

    def start_clock(self) -> None:
        if self._stopped_at is not None:
            self._clock_offset = self._stopped_at - time.monotonic()
            self._stopped_at = None

    def jump(self, seconds: float) -> None:
        if self._stopped_at is not None:
            self._stopped_at += seconds
        else:
            self.advance(seconds)


@dataclass
class Group:
    """Restores from one backup, all started at the same emulator time, so they move in step."""

    name: str
    count: int
    duration: float
    fail_at: float | None = None
    backup_id: str = ""


def plan(n: int) -> list[Group]:
    """Durations such that at JUMP seconds every group is Pending, and finishes (or fails) LEAD s into the window.

    A restore is Pending for its whole duration d (API 2026-07); a failure at p% happens at p% of d.
    """
    finishers = max(1, round(n * 0.10))
    failers = max(1, round(n * 0.01))
    return [
        Group("steady", n - finishers - failers, JUMP * 10),
        Group("completes", finishers, JUMP + LEAD),
        Group("fails at 20%", failers, (JUMP + LEAD + 1.0) / 0.20, fail_at=20.0),
    ]


# -- reading the bot's database (read-only) ------------------------------------------------------------


def read_db(database: Path, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as db:
        db.row_factory = sqlite3.Row
        return db.execute(sql, params).fetchall()


def snapshot(database: Path) -> dict[str, dict[str, Any]]:
    rows = read_db(
        database, "SELECT id, state, check_ins, verify_since, channel_id, message_ts, pinecone_status FROM jobs"
    )
    return {row["id"]: dict(row) for row in rows}


def states(database: Path) -> Counter[str]:
    return Counter({row[0]: row[1] for row in read_db(database, "SELECT state, count(*) FROM jobs GROUP BY state")})


def undelivered(database: Path) -> dict[str, int]:
    """What the bot still owes Slack, according to its store."""
    row = read_db(
        database,
        """SELECT (SELECT count(*) FROM notices WHERE sent_at IS NULL),
                  (SELECT count(*) FROM jobs WHERE parent_dirty = 1),
                  (SELECT count(*) FROM jobs WHERE message_ts IS NULL
                          AND state IN ('restoring', 'ready', 'failed', 'timed_out'))""",
    )[0]
    return {"notices": row[0], "parents to redraw": row[1], "parents to post": row[2]}


# -- waiting ---------------------------------------------------------------------------------------------


async def wait_until(what: str, check: Any, timeout: float, interval: float = 0.25) -> Any:
    """Await a truthy `check()`; exit with `what` (and the last value) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(interval)
    raise SystemExit(f"timed out after {timeout:.0f} s waiting for {what} (last: {value!r})")


async def settled(database: Path, slack: SlackStandIn, timeout: float) -> float:
    """Wait until the store owes Slack nothing and Slack has been quiet for QUIET s; returns seconds waited."""
    started = time.monotonic()

    def done() -> bool:
        if any(undelivered(database).values()):
            return False
        last = slack.calls[-1].time if slack.calls else 0.0
        return time.monotonic() - last >= QUIET and all(c.response is not None for c in slack.calls[-50:])

    await wait_until(f"Slack deliveries to settle ({undelivered(database)})", done, timeout)
    return time.monotonic() - started


async def pinecone_quiet(pinecone: PineconeEmulator, gap: float, timeout: float) -> None:
    def quiet() -> bool:
        if not pinecone.requests:
            return True
        last = pinecone.requests[-1]
        return last.status is not None and time.monotonic() - last.time >= gap

    await wait_until("a pause in the bot's Pinecone requests", quiet, timeout, interval=0.02)


# -- the bot's /metrics --------------------------------------------------------------------------------


class MetricsReader:
    def __init__(self, session: aiohttp.ClientSession, url: str) -> None:
        self._session = session
        self._url = url
        self.scrapes = 0

    async def read(self) -> dict[str, float]:
        self.scrapes += 1
        async with self._session.get(self._url) as response:
            text = await response.text()
        values: dict[str, float] = {}
        for name in (
            "restore_bot_tracker_cycles_total",
            "restore_bot_tracker_cycle_seconds_sum",
            "restore_bot_tracker_cycle_seconds_count",
        ):
            match = re.search(rf"^{name} (\S+)$", text, re.MULTILINE)
            if match is not None:
                values[name] = float(match.group(1))
        if "restore_bot_tracker_cycles_total" not in values:
            raise SystemExit("the bot's /metrics has no restore_bot_tracker_cycles_total; is the tracker change in?")
        return values

    async def cycles(self) -> float:
        return (await self.read())["restore_bot_tracker_cycles_total"]


# -- classifying what crossed the wire ---------------------------------------------------------------------


def pinecone_kind(request: RecordedRequest) -> str:
    path = request.path
    if request.method == "GET" and path == "/restore-jobs":
        return "list"
    if request.method == "GET" and path.startswith("/restore-jobs/"):
        return "describe_restore_job"
    if request.method == "GET" and path.startswith("/indexes/"):
        return "describe_index"
    if request.method == "GET" and path.startswith("/backups/"):
        return "describe_backup"
    if path.endswith("/describe_index_stats"):
        return "describe_index_stats"
    return f"other {request.method} {path}"


def first_page(request: RecordedRequest) -> bool:
    return pinecone_kind(request) == "list" and "paginationToken" not in request.query


def slack_job(call: SlackCall, by_message: dict[tuple[str, str], str]) -> str | None:
    metadata = call.args.get("metadata")
    if isinstance(metadata, dict):
        job_id = (metadata.get("event_payload") or {}).get("job_id")
        if job_id:
            return str(job_id)
    channel = str(call.args.get("channel") or "")
    ts = call.args.get("ts") or call.args.get("message_ts")
    if ts is not None:
        return by_message.get((channel, str(ts)))
    return None


_AS_OF = re.compile(r" as of <!date\^\d+\^\{time\}\|[^>]*>")


def idle_updates(slack: SlackStandIn, jobs: dict[str, dict[str, Any]], since_wall: float) -> tuple[int, int]:
    """chat.update calls whose result looks exactly like the message before (the "as of" time aside),
    before and after the wall-clock time `since_wall`."""

    def seen(version: dict[str, Any]) -> str:
        text = _AS_OF.sub("", json.dumps([version.get("text"), version.get("blocks")], sort_keys=True))
        return text

    before = after = 0
    for row in jobs.values():
        if not row["message_ts"]:
            continue
        versions = slack.message_history(row["channel_id"], row["message_ts"])
        for previous, current in itertools.pairwise(versions):
            if seen(previous) == seen(current):
                if float(current["edited"]["ts"]) < since_wall:
                    before += 1
                else:
                    after += 1
    return before, after


@dataclass
class Mark:
    """A moment between two tracking cycles: the bot's CPU, where the recordings were, the cycle metrics."""

    cpu: float
    t: float
    r: int  # len(pinecone.requests)
    s: int  # len(slack.calls)
    values: dict[str, float]

    @property
    def cycles(self) -> float:
        return self.values["restore_bot_tracker_cycles_total"]


@dataclass
class Window:
    """W whole tracking cycles, from one Mark to another."""

    cycles: int = 0
    cpu: float = 0.0
    seconds: float = 0.0
    per_cycle: list[Counter[str]] = field(default_factory=list)
    cycle_seconds_mean: float | None = None
    scrapes_inside: int = 0
    notes: list[str] = field(default_factory=list)

    @staticmethod
    def polling(cycle: Counter[str]) -> int:
        return cycle["list"] + cycle["describe_restore_job"]

    @property
    def requests_per_cycle(self) -> float:
        return sum(self.polling(c) for c in self.per_cycle) / max(1, len(self.per_cycle))

    @property
    def max_requests(self) -> int:
        return max((self.polling(c) for c in self.per_cycle), default=0)

    @property
    def cpu_per_cycle(self) -> float:
        return self.cpu / max(1, self.cycles)


async def cycle_end(metrics: MetricsReader, pinecone: PineconeEmulator, slack: SlackStandIn, pid: int) -> Mark:
    """Poll /metrics (10 a second; only outside the windows) until a cycle ends; the mark is taken right then."""
    before = await metrics.cycles()
    while True:
        values = await metrics.read()
        if values["restore_bot_tracker_cycles_total"] != before:
            return Mark(cpu_seconds(pid), time.monotonic(), len(pinecone.requests), len(slack.calls), values)
        await asyncio.sleep(0.1)


async def cycles_window(
    count: int, start: Mark, pinecone: PineconeEmulator, slack: SlackStandIn, metrics: MetricsReader, pid: int
) -> tuple[Window, Mark]:
    """Wait for `count` more cycles after `start`; returns them and a mark between the last and the next cycle.

    The end is found without polling /metrics inside the window: once the emulator has seen the `count`-th
    cycle's first page and then 0.3 s without a request, the CPU is read and /metrics asked whether the cycle
    has ended (if not, that scrape was inside the window and is reported). The returned mark's CPU is read
    again after that scrape, so it can open the next window.
    """

    def markers() -> int:
        return sum(1 for r in pinecone.requests[start.r :] if first_page(r))

    await wait_until(f"{count} cycles", lambda: markers() >= count, timeout=60 + count * 30, interval=0.05)
    window = Window()
    while True:
        await pinecone_quiet(pinecone, 0.3, timeout=120)
        cpu, t, r = cpu_seconds(pid), time.monotonic(), len(pinecone.requests)
        values = await metrics.read()
        if values["restore_bot_tracker_cycles_total"] - start.cycles >= count:
            break
        window.scrapes_inside += 1
        await asyncio.sleep(0.05)
    end = Mark(cpu_seconds(pid), time.monotonic(), r, len(slack.calls), values)
    window.cycles = int(end.cycles - start.cycles)
    window.cpu, window.seconds = cpu - start.cpu, t - start.t
    count_key, sum_key = "restore_bot_tracker_cycle_seconds_count", "restore_bot_tracker_cycle_seconds_sum"
    if values.get(count_key, 0) - start.values.get(count_key, 0):
        window.cycle_seconds_mean = (values[sum_key] - start.values[sum_key]) / (
            values[count_key] - start.values[count_key]
        )
    for request in pinecone.requests[start.r : r]:
        if first_page(request):
            window.per_cycle.append(Counter())
        if not window.per_cycle:
            window.notes.append(f"a Pinecone request before the window's first cycle: {request.path}")
            continue
        window.per_cycle[-1][pinecone_kind(request)] += 1
    if len(window.per_cycle) != window.cycles:
        window.notes.append(
            f"{len(window.per_cycle)} cycles began with a first page of GET /restore-jobs, "
            f"but the metric counted {window.cycles} cycles"
        )
    return window, end


async def start_profile(output: str, pid: int, result: Result) -> asyncio.subprocess.Process:
    """py-spy record the bot through the measured window (100 Hz)."""
    path = f"{output}-{result.n}{'-crowded' if result.crowded else ''}.txt"
    result.notes.append(f"py-spy profile of the window in {path}")
    return await start_py_spy(pid, path, rate=100)


# -- one run -----------------------------------------------------------------------------------------------


@dataclass
class Result:
    n: int
    crowded: bool
    #: The measured window (the emulator's clock running) and, before it, a quiet one (clock stopped).
    window: Window = field(default_factory=Window)
    quiet: Window = field(default_factory=Window)
    finish_reads: Counter[str] = field(default_factory=Counter)
    rss_base_mb: float = 0.0
    rss_peak_mb: float = 0.0
    slack_calls: Counter[str] = field(default_factory=Counter)
    slack_in_window: Counter[str] = field(default_factory=Counter)
    slack_quiet: Counter[str] = field(default_factory=Counter)
    changed: int = 0
    check_ins: int = 0
    #: Finished jobs whose index was Ready before its count matched: "verifying" first.
    verified_later: int = 0
    #: describe_index_stats calls after the first for an index (a lagging count re-checked).
    recounts: int = 0
    finished: Counter[str] = field(default_factory=Counter)
    calls_for_unchanged: int = 0
    unattributed: list[str] = field(default_factory=list)
    slack_setup: Counter[str] = field(default_factory=Counter)
    #: chat.update calls that changed nothing a reader sees (the "as of" time aside): set-up, window + drain.
    idle_updates: tuple[int, int] = (0, 0)
    rate_limited_setup: Counter[str] = field(default_factory=Counter)
    rate_limited_window: Counter[str] = field(default_factory=Counter)
    setup_seconds: float = 0.0
    drain_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"N={self.n}" + (" crowded" if self.crowded else "")

    @property
    def budget(self) -> int:
        return math.ceil(self.n / 100) + 2

    @property
    def rss_growth_mb(self) -> float:
        return self.rss_peak_mb - self.rss_base_mb


async def run(n: int, crowded: bool, args: argparse.Namespace) -> Result:
    result = Result(n=n, crowded=crowded)
    channels = [f"C0TRK{i:04d}" for i in range(max(1, math.ceil(n / JOBS_PER_CHANNEL)))]
    print(f"\n== {result.label}: {n} restores in {len(channels)} channels", flush=True)
    with work_directory(".work-tracking-", keep=args.keep) as workdir:
        database = workdir / "restore-bot.sqlite3"
        async with (
            SteeredEmulator(api_key=PINECONE_API_KEY) as pinecone,
            SlackStandIn(bot_token=SLACK_BOT_TOKEN, rate_limits=True) as slack,
            aiohttp.ClientSession() as http,
        ):
            pinecone.stop_clock()
            for channel in [*channels, INCIDENT_CHANNEL]:  # the stand-in is strict: the bot's channels exist
                slack.add_channel(channel)
            groups = plan(n)
            for group in groups:
                group.backup_id = pinecone.add_backup(source_index_name=f"src-{group.name.split()[0]}")["backup_id"]
                pinecone.set_restore_duration(group.backup_id, group.duration)
                if group.fail_at is not None:
                    pinecone.fail_restore(group.backup_id, at_percent=group.fail_at)
            if crowded:
                old = pinecone.add_backup(source_index_name="src-old")["backup_id"]
                pinecone.set_restore_duration(old, 0.0)
                for i in range(args.old_jobs):
                    pinecone.start_restore(old, f"old-{i:05d}")
                print(f"  seeded {args.old_jobs} old finished restore jobs", flush=True)
            port = free_port()
            env = bot_env(
                pinecone,
                slack,
                database,
                port,
                RESTORE_BOT_POLL_INTERVAL=str(args.poll_interval),
                RESTORE_BOT_RESTORE_TIMEOUT="36000",
                RESTORE_BOT_ALLOWED_CHANNELS=",".join(channels),
                RESTORE_BOT_INCIDENT_CHANNEL=INCIDENT_CHANNEL,
                RESTORE_BOT_LOG_FORMAT="json",
            )
            async with bot_process(env, workdir / "bot.log") as pid:
                result.rss_base_mb = memory_kib(pid, "VmRSS") / 1024
                metrics = MetricsReader(http, f"http://127.0.0.1:{port}/metrics")
                await measure(result, args, pinecone, slack, http, metrics, database, pid, port, channels, groups)
                result.rss_peak_mb = memory_kib(pid, "VmHWM") / 1024
            if pinecone.spec_violations:
                result.notes.append(f"{len(pinecone.spec_violations)} emulator spec violations")
    report(result)
    return result


async def measure(
    result: Result,
    args: argparse.Namespace,
    pinecone: SteeredEmulator,
    slack: SlackStandIn,
    http: aiohttp.ClientSession,
    metrics: MetricsReader,
    database: Path,
    pid: int,
    port: int,
    channels: list[str],
    groups: list[Group],
) -> None:
    n = result.n
    setup_started = time.monotonic()
    # -- the restores, through signed slash commands -----------------------------------------------------
    bodies: list[str] = []
    for group in groups:
        for i in range(group.count):
            name = f"trk-{group.name.split()[0]}-{i:04d}"
            channel = channels[len(bodies) % len(channels)]
            bodies.append(command_body(slack, f"{group.backup_id} {name}", channel))
    url = f"http://127.0.0.1:{port}/slack/events"
    limit = asyncio.Semaphore(IN_FLIGHT)
    bad: list[str] = []

    async def send(body: str) -> None:
        async with limit, http.post(url, data=body.encode(), headers=signed_headers(body)) as response:
            text = await response.text()
            if response.status != 200:
                bad.append(f"HTTP {response.status}: {text[:200]}")

    await asyncio.gather(*(send(body) for body in bodies))
    if bad:
        raise SystemExit(f"{len(bad)} slash commands were not acked with 200, e.g. {bad[:3]}")

    def all_restoring() -> bool:
        found = states(database)
        if set(found) & set(FINAL):
            raise SystemExit(f"not every restore started: {dict(found)}")
        return found["restoring"] == n

    await wait_until(f"all {n} jobs to be restoring", all_restoring, timeout=120 + 0.2 * n, interval=0.5)
    print(f"  {n} jobs restoring after {time.monotonic() - setup_started:.1f} s", flush=True)

    # -- every job long under way (Pending: Pinecone says nothing more), and Slack told everything -----------
    pinecone.jump(JUMP)
    pending = "SELECT count(*) FROM jobs WHERE state = 'restoring' AND pinecone_status = 'Pending'"
    await wait_until(
        "the bot to have heard Pinecone report every job Pending",
        lambda: read_db(database, pending)[0][0] == n,
        timeout=300 + 0.2 * n,
        interval=0.5,
    )
    # Generous: at N = 1000 the set-up is bound by Slack's limits (2,000 posts at 4/s, N parent redraws at 0.75/s).
    await settled(database, slack, timeout=900 + 2.5 * n)
    result.setup_seconds = time.monotonic() - setup_started
    result.rate_limited_setup = Counter(slack.rate_limited)
    print(
        f"  set-up done in {result.setup_seconds:.1f} s; Slack calls {len(slack.calls)}, "
        f"answered 429: {dict(result.rate_limited_setup) or 0}",
        flush=True,
    )

    # -- a quiet window (the clock stopped: nothing changes), then the measured one ---------------------------
    first = await cycle_end(metrics, pinecone, slack, pid)
    result.slack_setup = Counter(c.method for c in slack.calls[: first.s])
    result.quiet, mark = await cycles_window(args.quiet_cycles, first, pinecone, slack, metrics, pid)
    result.slack_quiet = Counter(c.method for c in slack.calls[first.s : mark.s])
    wall0 = time.time()
    limited0 = Counter(slack.rate_limited)
    s_before = snapshot(database)
    spy = await start_profile(args.py_spy, pid, result) if args.py_spy else None
    pinecone.start_clock()
    main, last = await cycles_window(args.cycles, mark, pinecone, slack, metrics, pid)
    if spy is not None:
        spy.send_signal(2)  # SIGINT: py-spy writes what it has
        await asyncio.wait_for(spy.wait(), 60)
    result.window = main
    result.slack_in_window = Counter(c.method for c in slack.calls[mark.s : last.s])
    r0, s0 = mark.r, mark.s

    # -- drain: what the window's changes cost Slack -----------------------------------------------------------
    drain_started = time.monotonic()
    # In a long list in no particular order the bot sees a finish only when its sweep of the list comes by
    # (a few cycles), and a lagging count is re-checked before it is verified: wait for every finish first,
    # the clock still running (nothing else finishes before JUMP * 10), then stop it.
    expected = sum(group.count for group in groups if group.name != "steady")
    await wait_until(
        f"the bot to see all {expected} finishes",
        lambda: sum(count for state, count in states(database).items() if state in FINAL) >= expected,
        timeout=300 + 0.5 * n,
        interval=0.5,
    )
    pinecone.stop_clock()
    await settled(database, slack, timeout=900 + 1.0 * n)
    result.drain_seconds = time.monotonic() - drain_started
    s_after = snapshot(database)
    counted_hosts: set[str] = set()
    for request in pinecone.requests[r0:]:
        kind = pinecone_kind(request)
        if kind == "describe_index_stats":
            if request.path in counted_hosts:
                result.recounts += 1  # a count that lagged behind Ready, counted again
                continue
            counted_hosts.add(request.path)
        if kind in ("describe_index", "describe_backup", "describe_index_stats"):
            result.finish_reads[kind] += 1
    changed: set[str] = set()
    for job_id, row in s_after.items():
        old = s_before.get(job_id)
        if old is None or (old["state"], old["check_ins"]) != (row["state"], row["check_ins"]):
            changed.add(job_id)
            if old is not None and row["state"] != old["state"] and row["state"] in FINAL:
                result.finished[row["state"]] += 1
                if row["verify_since"]:
                    result.verified_later += 1
            elif old is not None and row["check_ins"] != old["check_ins"]:
                result.check_ins += 1
    result.changed = len(changed)
    by_message = {(row["channel_id"], row["message_ts"]): job_id for job_id, row in s_after.items()}
    for call in slack.calls[s0:]:
        result.slack_calls[call.method] += 1
        about = slack_job(call, by_message)
        if about is None:
            result.unattributed.append(call.method)
        elif about not in changed:
            result.calls_for_unchanged += 1
    result.rate_limited_window = Counter(slack.rate_limited) - limited0
    result.idle_updates = idle_updates(slack, s_after, wall0)


# -- reporting -----------------------------------------------------------------------------------------------


def report(r: Result) -> None:
    w, q = r.window, r.quiet
    finished = sum(r.finished.values())
    reads = sum(r.finish_reads.values())

    def spread(values: list[int]) -> str:
        return f"{min(values, default=0)}-{max(values, default=0)}"

    wall = f", a cycle's own wall time {w.cycle_seconds_mean * 1000:.0f} ms" if w.cycle_seconds_mean else ""
    print(
        f"  window: {w.cycles} cycles in {w.seconds:.1f} s{wall}; set-up {r.setup_seconds:.0f} s, "
        f"drain {r.drain_seconds:.1f} s"
    )
    print(
        f"  Pinecone per cycle: list pages {spread([c['list'] for c in w.per_cycle])}, describe_restore_job "
        f"{spread([c['describe_restore_job'] for c in w.per_cycle])}; together "
        f"{spread([w.polling(c) for c in w.per_cycle])} (mean {w.requests_per_cycle:.2f}), budget ceil(N/100)+2 "
        f"= {r.budget}; with nothing changing: {spread([q.polling(c) for c in q.per_cycle])}"
    )
    print(
        f"  reads for finished jobs: {dict(r.finish_reads)} = {reads} for {finished} finished jobs"
        + (f" ({reads / finished:.2f} per job)" if finished else "")
        + f"; re-counts of a lagging count: {r.recounts} ({r.verified_later} jobs verifying first)"
    )
    print(
        f"  bot CPU per cycle: {w.cpu_per_cycle * 1000:.1f} ms ({w.cpu:.2f} s over the window); with nothing "
        f"changing {q.cpu_per_cycle * 1000:.1f} ms ({q.cpu:.2f} s over {q.cycles} cycles)"
    )
    print(f"  RSS at start {r.rss_base_mb:.1f} MB, peak {r.rss_peak_mb:.1f} MB (+{r.rss_growth_mb:.1f} MB)")
    print(
        f"  Slack from the window start to the end of the drain: {dict(r.slack_calls)} "
        f"(within the {w.cycles} cycles: {dict(r.slack_in_window)}; while nothing changed: {dict(r.slack_quiet)})"
    )
    print(
        f"  jobs changed: {r.changed} (check-in {r.check_ins}, finished {dict(r.finished)}); "
        f"calls for unchanged jobs {r.calls_for_unchanged}, unattributed {len(r.unattributed)}"
        + (f" {sorted(set(r.unattributed))}" if r.unattributed else "")
    )
    print(
        f"  Slack in the set-up: {dict(r.slack_setup)}; chat.update that changed nothing visible (apart from "
        f"the 'as of' time): set-up {r.idle_updates[0]}, window and drain {r.idle_updates[1]}"
    )
    print(
        f"  answered 429: set-up {dict(r.rate_limited_setup) or 0}, window and drain "
        f"{dict(r.rate_limited_window) or 0}; /metrics scrapes inside the windows: "
        f"{q.scrapes_inside + w.scrapes_inside}"
    )
    for note in r.notes + q.notes + w.notes:
        print(f"  note: {note}")


def failures(r: Result) -> list[str]:
    out: list[str] = []
    w = r.window
    if not w.per_cycle or not r.quiet.per_cycle:
        out.append(f"{r.label}: no cycle was measured")
    worst = max(w.max_requests, r.quiet.max_requests)
    if worst > r.budget:
        out.append(f"{r.label}: a cycle made {worst} list/describe_restore_job requests > ceil(N/100)+2 = {r.budget}")
    finished = sum(r.finished.values())
    active = r.n - finished
    if any(c["describe_restore_job"] >= max(2, active) for c in w.per_cycle + r.quiet.per_cycle):
        out.append(f"{r.label}: a cycle described (about) every job on its own")
    if sum(r.finish_reads.values()) > 3 * finished:
        out.append(f"{r.label}: {sum(r.finish_reads.values())} reads for {finished} finished jobs (> 3 each)")
    if r.recounts > RECOUNTS_PER_JOB * finished:
        out.append(f"{r.label}: {r.recounts} re-counts for {finished} finished jobs (> {RECOUNTS_PER_JOB} each)")
    if r.n >= 1000 and r.rss_peak_mb >= RSS_LIMIT_MB:
        out.append(f"{r.label}: peak RSS {r.rss_peak_mb:.0f} MB >= {RSS_LIMIT_MB:.0f} MB")
    unchanged = r.calls_for_unchanged + len(r.unattributed) + sum(r.slack_quiet.values())
    if unchanged:
        out.append(f"{r.label}: {unchanged} Slack calls for jobs that did not change (or not attributable)")
    if r.slack_calls["chat.update"] > r.changed + r.verified_later:
        out.append(
            f"{r.label}: {r.slack_calls['chat.update']} chat.update > {r.changed} changed jobs "
            f"+ {r.verified_later} verifying first"
        )
    if r.slack_calls["chat.postMessage"] > r.changed + finished:
        out.append(
            f"{r.label}: {r.slack_calls['chat.postMessage']} chat.postMessage > {r.changed} changed "
            f"+ {finished} finished jobs"
        )
    limited = r.rate_limited_setup + r.rate_limited_window
    if limited:
        out.append(f"{r.label}: Slack answered 429 to {dict(limited)}")
    if r.changed == 0 or finished == 0:
        out.append(f"{r.label}: the window exercised no change ({r.changed}) or no finish ({finished}): bench bug")
    return out


def growth(results: list[Result]) -> list[str]:
    plain = sorted((r for r in results if not r.crowded), key=lambda r: r.n)
    if not plain:
        return []
    checked: dict[str, Callable[[Result], float]] = {
        "requests/cycle": lambda r: r.window.requests_per_cycle,
        "CPU s/cycle": lambda r: r.window.cpu_per_cycle,
        "CPU s/cycle, no change": lambda r: r.quiet.cpu_per_cycle,
        "RSS above baseline MB": lambda r: r.rss_growth_mb,
    }
    context: dict[str, Callable[[Result], float]] = {
        "peak RSS MB": lambda r: r.rss_peak_mb,
        "cycle wall ms (metric)": lambda r: (r.window.cycle_seconds_mean or 0.0) * 1000,
        "Slack calls / changed job": lambda r: sum(r.slack_calls.values()) / max(1, r.changed),
    }
    print("\ngrowth (target 4: no figure grows faster than the number of jobs; x1.5 tolerance)")
    header = f"{'figure':<26}" + "".join(f"{'N=' + str(r.n):>12}" for r in plain)
    print(header + "   step ratios (limit)")
    out: list[str] = []
    for name, get in {**checked, **context}.items():
        values = [get(r) for r in plain]
        line = f"{name:<26}" + "".join(f"{v:12.3f}" if v < 10 else f"{v:12.1f}" for v in values)
        if name in checked:
            floor = FLOORS[name.split(",")[0]]
            steps = []
            for (a, va), (b, vb) in itertools.pairwise(zip(plain, values, strict=True)):
                ratio = max(vb, floor) / max(va, floor)
                limit = b.n / a.n * GROWTH_TOLERANCE
                steps.append(f"{ratio:.2f} ({limit:.0f})")
                if ratio > limit:
                    out.append(f"{name} grew {ratio:.1f}x from N={a.n} to N={b.n} (limit {limit:.0f}x)")
            line += "   " + ", ".join(steps)
        print(line)
    crowded = {r.n: r for r in results if r.crowded}
    for r in plain:
        if r.n in crowded:
            c = crowded[r.n]
            print(
                f"crowded project at N={r.n}: requests/cycle {c.window.requests_per_cycle:.2f} vs "
                f"{r.window.requests_per_cycle:.2f}, CPU/cycle {c.window.cpu_per_cycle * 1000:.1f} vs "
                f"{r.window.cpu_per_cycle * 1000:.1f} ms (no change: {c.quiet.cpu_per_cycle * 1000:.1f} vs "
                f"{r.quiet.cpu_per_cycle * 1000:.1f} ms)"
            )
    return out


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="N = 10 and 100; crowded project at 100")
    parser.add_argument("--sizes", help="comma-separated N (default 10,100,1000; quick 10,100)")
    parser.add_argument("--crowded", help="comma-separated N for the crowded project (default 100,1000; quick 100)")
    parser.add_argument("--old-jobs", type=int, default=OLD_JOBS, help="old restore jobs in the crowded project")
    parser.add_argument("--cycles", type=int, default=10, help="tracking cycles measured per run")
    parser.add_argument(
        "--quiet-cycles", type=int, default=5, help="cycles measured before the window, with nothing changing"
    )
    parser.add_argument("--py-spy", metavar="PREFIX", help="py-spy record the bot through each measured window")
    parser.add_argument("--poll-interval", type=float, default=POLL_INTERVAL, help="RESTORE_BOT_POLL_INTERVAL")
    parser.add_argument("--keep", action="store_true", help="keep each run's directory (bot log, database)")
    args = parser.parse_args()
    sizes_text = args.sizes if args.sizes is not None else ("10,100" if args.quick else "10,100,1000")
    crowded_text = args.crowded if args.crowded is not None else ("100" if args.quick else "100,1000")
    sizes = [int(x) for x in sizes_text.split(",") if x]
    crowded = [int(x) for x in crowded_text.split(",") if x]
    print(
        f"tracking at scale: N = {sizes}, crowded project ({args.old_jobs} old jobs) at N = {crowded}; "
        f"{args.cycles} cycles each, poll interval {args.poll_interval} s, Slack rate limits on"
    )
    results = [await run(n, False, args) for n in sizes]
    results += [await run(n, True, args) for n in crowded]
    missed = [problem for r in results for problem in failures(r)]
    missed += growth(results)
    print("\nfigures as JSON:", json.dumps([summary(r) for r in results]))
    if missed:
        print("\nTARGET MISSED:\n  " + "\n  ".join(missed))
        return 1
    print("\ntargets met")
    return 0


def summary(r: Result) -> dict[str, Any]:
    return {
        "n": r.n,
        "crowded": r.crowded,
        "cycles": r.window.cycles,
        "requests_per_cycle": round(r.window.requests_per_cycle, 3),
        "max_requests_per_cycle": r.window.max_requests,
        "quiet_max_requests_per_cycle": r.quiet.max_requests,
        "finish_reads": dict(r.finish_reads),
        "recounts": r.recounts,
        "verified_later": r.verified_later,
        "finished": dict(r.finished),
        "cpu_per_cycle_s": round(r.window.cpu_per_cycle, 4),
        "quiet_cpu_per_cycle_s": round(r.quiet.cpu_per_cycle, 4),
        "cycle_wall_s": round(r.window.cycle_seconds_mean or 0.0, 4),
        "rss_base_mb": round(r.rss_base_mb, 1),
        "rss_peak_mb": round(r.rss_peak_mb, 1),
        "slack_calls": dict(r.slack_calls),
        "slack_setup": dict(r.slack_setup),
        "changed_jobs": r.changed,
        "calls_for_unchanged": r.calls_for_unchanged + len(r.unattributed) + sum(r.slack_quiet.values()),
        "rate_limited": dict(r.rate_limited_setup + r.rate_limited_window),
        "idle_updates": list(r.idle_updates),
        "setup_s": round(r.setup_seconds, 1),
        "drain_s": round(r.drain_seconds, 1),
    }


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
