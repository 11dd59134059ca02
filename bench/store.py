"""Target 3 of issue 7: the job store on a real SQLite file (WAL, synchronous=FULL, as storage.open_store sets it),
and, with --database-url, the same on PostgreSQL (asyncpg, the bot's pool).

    .venv/bin/python bench/store.py           # 2,000 jobs through 50 coroutines; resume 10,000 unfinished jobs
    .venv/bin/python bench/store.py --quick   # 400 jobs; resume 10,000 unfinished jobs
    .venv/bin/python bench/store.py --quick --database-url postgresql://user:password@host:5432/dbname

1. Transitions per second: `--coroutines` coroutines each take jobs through create -> submitting -> restoring
   -> ready with the fields and notices the bot records (bot/service/restores.py, bot/service/tracker.py), each
   change one durable commit through storage.open_store. Also one coroutine alone, as context.
2. Start-up resuming 10,000 unfinished jobs: a file holding 10,000 `restoring` jobs (plus `--finished`
   finished ones as history) is opened with open_store and read with active_jobs(), which is what the bot
   does at start-up before its first tracking cycle. Target: under 5 s (exit 1 if missed).
The scratch files live in bench/.work-* (the repo's disk, not a tmpfs) and are removed afterwards. On PostgreSQL
each measurement gets a schema of its own in the given database (`bench_<random>`, through search_path), dropped
afterwards; the user must be allowed to create schemas there. The server's fsync and synchronous_commit are
printed with the figures: they decide what a commit costs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

import asyncpg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bot.core.jobs import JobState, NewJob, Notice, NoticeKind, utcnow  # noqa: E402
from bot.core.urls import safe_url  # noqa: E402
from storage import open_store, store_kind  # noqa: E402
from storage.common import COLUMNS  # noqa: E402
from storage.postgres.postgres_store import DEFAULT_POOL_SIZE  # noqa: E402

RESUME_LIMIT = 5.0
BACKUP = "a65ff585-d987-4da5-a622-72e19a6ed5f4"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(q / 100.0 * len(ordered))) - 1]


def new_job(name: str) -> NewJob:
    return NewJob(
        backup_id=BACKUP,
        index_name=name,
        tags={"env": "bench", "team": "search infra"},
        deletion_protection=False,
        requester_id="U0ALICE01",
        channel_id="C0RESTORE1",
    )


async def one_job(store, name: str, latencies: list[float]) -> None:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    job = await store.create(new_job(name))
    latencies.append(time.perf_counter() - t)
    steps = [
        (JobState.REQUESTED, JobState.SUBMITTING, {"source_index_name": "prod-search", "backup_record_count": 120000}),
        (
            JobState.SUBMITTING,
            JobState.RESTORING,
            {
                "restore_job_id": str(uuid.uuid4()),
                "index_id": str(uuid.uuid4()),
                "submitted_at": utcnow(),
                "percent_complete": 0.0,
                "notices": (Notice(kind=NoticeKind.STARTED),),
            },
        ),
        (
            JobState.RESTORING,
            JobState.READY,
            {
                "finished_at": utcnow(),
                "percent_complete": 100.0,
                "host": f"{name}-abc123.svc.pinecone.io",
                "dimension": 1536,
                "metric": "cosine",
                "notices": (Notice(kind=NoticeKind.FINISHED),),
            },
        ),
    ]
    for expected, target, fields in steps:
        t = time.perf_counter()
        await store.transition(job.id, expected, target, **fields)
        latencies.append(time.perf_counter() - t)


async def transitions(target: Path | str, jobs: int, coroutines: int, tag: str, pool_size: int) -> dict[str, float]:
    store = await open_store(target, pool_size=pool_size)
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for i in range(jobs):
        queue.put_nowait(f"bench-{tag}-{i}")

    async def worker() -> None:
        while not queue.empty():
            await one_job(store, queue.get_nowait(), latencies)

    try:
        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(coroutines)))
        wall = time.perf_counter() - started
    finally:
        await store.close()
    return {
        "wall": wall,
        "transitions_per_s": 3 * jobs / wall,
        "changes_per_s": 4 * jobs / wall,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
    }


async def seed_templates(target: Path | str) -> None:
    """One job of each kind through the store: a finished one and one restoring."""
    store = await open_store(target)
    try:
        latencies: list[float] = []
        await one_job(store, "template-ready", latencies)
        job = await store.create(new_job("template-restoring"))
        await store.transition(
            job.id, JobState.REQUESTED, JobState.SUBMITTING, source_index_name="prod-search", backup_record_count=120000
        )
        await store.transition(
            job.id,
            JobState.SUBMITTING,
            JobState.RESTORING,
            restore_job_id=str(uuid.uuid4()),
            index_id=str(uuid.uuid4()),
            submitted_at=utcnow(),
            percent_complete=0.0,
            notices=(Notice(kind=NoticeKind.STARTED),),
        )
    finally:
        await store.close()


async def seed_resume_file(path: Path, unfinished: int, finished: int) -> None:
    """The templates, then cloned (fresh id and name) in one transaction."""
    await seed_templates(path)
    with sqlite3.connect(path, isolation_level=None) as db:
        db.row_factory = sqlite3.Row
        base = utcnow() - timedelta(hours=1)
        db.execute("BEGIN IMMEDIATE")
        for template, count, state in (
            ("template-restoring", unfinished, "restoring"),
            ("template-ready", finished, "ready"),
        ):
            row = dict(db.execute("SELECT * FROM jobs WHERE index_name = ?", (template,)).fetchone())
            columns = list(row)
            sql = f"INSERT INTO jobs ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
            rows = []
            for i in range(count - 1):
                stamp = (base + timedelta(milliseconds=i)).isoformat()
                row.update(
                    id=str(uuid.uuid4()),
                    index_name=f"resume-{state}-{i}",
                    created_at=stamp,
                    updated_at=stamp,
                    restore_job_id=str(uuid.uuid4()),
                    index_id=str(uuid.uuid4()),
                )
                rows.append(tuple(row[c] for c in columns))
            db.executemany(sql, rows)
        db.execute("COMMIT")
        states = dict(db.execute("SELECT state, count(*) FROM jobs GROUP BY state").fetchall())
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    print(f"  seeded {path.name}: {json.dumps(states)}, {path.stat().st_size / 1e6:.1f} MB", flush=True)


async def seed_resume_schema(url: str, unfinished: int, finished: int) -> None:
    """The templates, then cloned (fresh id and name) in one statement each, in one transaction."""
    await seed_templates(url)
    fresh = {"id", "index_name", "created_at", "updated_at", "restore_job_id", "index_id"}
    kept = [c for c in COLUMNS if c not in fresh]
    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            for template, count, state in (
                ("template-restoring", unfinished, "restoring"),
                ("template-ready", finished, "ready"),
            ):
                await connection.execute(
                    f"INSERT INTO jobs (id, index_name, created_at, updated_at, restore_job_id, index_id, "
                    f"{', '.join(kept)}) "
                    f"SELECT gen_random_uuid()::text, 'resume-{state}-' || n, now() - interval '1 hour' "
                    f"+ n * interval '1 millisecond', now() - interval '1 hour' + n * interval '1 millisecond', "
                    f"gen_random_uuid()::text, gen_random_uuid()::text, {', '.join('t.' + c for c in kept)} "
                    f"FROM jobs t, generate_series(0, $2 - 2) AS n WHERE t.index_name = $1",
                    template,
                    count,
                )
        states = dict(await connection.fetch("SELECT state, count(*) FROM jobs GROUP BY state"))
        size = await connection.fetchval("SELECT pg_total_relation_size('jobs')")
        await connection.execute("ANALYZE jobs")
    finally:
        await connection.close()
    print(f"  seeded {safe_url(url)}: {json.dumps(states)}, jobs table {size / 1e6:.1f} MB", flush=True)


async def resume_once(target: Path | str) -> tuple[float, float, int]:
    started = time.perf_counter()
    store = await open_store(target)
    opened = time.perf_counter()
    jobs = await store.active_jobs()
    done = time.perf_counter()
    await store.close()
    return opened - started, done - started, len(jobs)


def with_search_path(url: str, schema: str) -> str:
    """`url` with the server setting search_path=`schema` (asyncpg sends unknown URL parameters as settings)."""
    parts = urlsplit(url)
    query = "&".join(part for part in (parts.query, urlencode({"search_path": schema})) if part)
    return urlunsplit(parts._replace(query=query))


@asynccontextmanager
async def scratch_schema(url: str) -> AsyncIterator[str]:
    """A new schema in the database at `url`, as a URL that puts the store's tables there; dropped afterwards."""
    schema = f"bench_{secrets.token_hex(4)}"
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f"CREATE SCHEMA {schema}")
        try:
            yield with_search_path(url, schema)
        finally:
            await connection.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await connection.close()


async def server_durability(url: str) -> str:
    connection = await asyncpg.connect(url)
    try:
        settings = [
            f"{name}={await connection.fetchval(f'SHOW {name}')}"
            for name in ("fsync", "synchronous_commit", "full_page_writes")
        ]
        version = await connection.fetchval("SHOW server_version")
    finally:
        await connection.close()
    return f"PostgreSQL {version}, {', '.join(settings)}"


def report_transitions(rate: dict[str, float], alone: dict[str, float], jobs: int, coroutines: int) -> None:
    print(
        f"transitions: {jobs} jobs x 3 transitions with {coroutines} coroutines in {rate['wall']:.2f} s: "
        f"{rate['transitions_per_s']:.0f} transitions/s ({rate['changes_per_s']:.0f} state changes/s counting "
        f"create); per change p50 {rate['p50'] * 1000:.1f} ms, p99 {rate['p99'] * 1000:.1f} ms"
    )
    print(
        f"  one coroutine alone: {alone['transitions_per_s']:.0f} transitions/s, per change p50 "
        f"{alone['p50'] * 1000:.1f} ms (so {coroutines} coroutines give "
        f"{rate['transitions_per_s'] / alone['transitions_per_s']:.2f}x one)"
    )


def report_resume(results: list[tuple[float, float, int]], unfinished: int) -> int:
    for opened, total, count in results:
        print(f"  start-up: open_store {opened * 1000:.0f} ms, + active_jobs() -> {count} jobs, total {total:.2f} s")
    worst = max(total for _, total, _ in results)
    found = {count for _, _, count in results}
    print(
        f"resume {unfinished} unfinished jobs: worst {worst:.2f} s of {len(results)} "
        f"(target < {RESUME_LIMIT:.0f} s, {worst / RESUME_LIMIT:.0%} of it)"
    )
    if found != {unfinished}:
        print(f"TARGET MISSED: active_jobs() returned {found}, expected {unfinished}")
        return 1
    if worst >= RESUME_LIMIT:
        print("TARGET MISSED: start-up resume took too long")
        return 1
    print("target met")
    return 0


async def bench_sqlite(args: argparse.Namespace, jobs: int) -> int:
    workdir = Path(tempfile.mkdtemp(prefix=".work-", dir=Path(__file__).resolve().parent))
    try:
        print(f"store: {workdir} (WAL, synchronous=FULL via storage.open_store)", flush=True)
        rate = await transitions(workdir / "transitions.sqlite3", jobs, args.coroutines, "many", args.pool_size)
        alone = await transitions(workdir / "alone.sqlite3", max(50, jobs // 10), 1, "alone", args.pool_size)
        report_transitions(rate, alone, jobs, args.coroutines)

        path = workdir / "resume.sqlite3"
        await seed_resume_file(path, args.unfinished, args.finished)
        return report_resume([await resume_once(path) for _ in range(args.repeats)], args.unfinished)
    finally:
        shutil.rmtree(workdir)


async def bench_postgres(args: argparse.Namespace, jobs: int) -> int:
    url = args.database_url
    print(
        f"store: {safe_url(url)} ({await server_durability(url)}; asyncpg pool of at most {args.pool_size}; "
        "a scratch schema per measurement)",
        flush=True,
    )
    async with scratch_schema(url) as scratch:
        rate = await transitions(scratch, jobs, args.coroutines, "many", args.pool_size)
    async with scratch_schema(url) as scratch:
        alone = await transitions(scratch, max(50, jobs // 10), 1, "alone", args.pool_size)
    report_transitions(rate, alone, jobs, args.coroutines)

    async with scratch_schema(url) as scratch:
        await seed_resume_schema(scratch, args.unfinished, args.finished)
        return report_resume([await resume_once(scratch) for _ in range(args.repeats)], args.unfinished)


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="400 jobs for the transition rate")
    parser.add_argument("--jobs", type=int, help="jobs taken through create -> ready (default 2000, quick 400)")
    parser.add_argument("--coroutines", type=int, default=50)
    parser.add_argument("--unfinished", type=int, default=10_000)
    parser.add_argument("--finished", type=int, default=10_000, help="finished jobs kept as history in the resume file")
    parser.add_argument("--repeats", type=int, default=3, help="start-ups measured")
    parser.add_argument(
        "--database-url",
        help="measure PostgreSQL instead of a scratch SQLite file: postgresql://user:password@host:5432/dbname",
    )
    parser.add_argument(
        "--pool-size", type=int, default=DEFAULT_POOL_SIZE, help="PostgreSQL: the pool's size (the bot's default)"
    )
    args = parser.parse_args()
    jobs = args.jobs or (400 if args.quick else 2000)
    if args.database_url is None:
        return await bench_sqlite(args, jobs)
    try:
        kind = store_kind(args.database_url)
    except ValueError as exc:
        parser.error(f"--database-url: {exc}")
    if kind != "postgresql":
        parser.error("--database-url: expected a postgresql:// URL (SQLite is measured without it)")
    return await bench_postgres(args, jobs)


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
