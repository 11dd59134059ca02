"""SQLite job store on aiosqlite: WAL, durable commits, migrations on open."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.jobs import Job, JobState, NewJob, check_transition, utcnow
from storage.base import ActiveRestoreExists, StaleJob, StoreError
from storage.migrations import MIGRATIONS

_COLUMNS = tuple(Job.model_fields)
_UPDATABLE = frozenset(_COLUMNS) - {"id", "state", "created_at", "updated_at", *NewJob.model_fields}
_TIMESTAMPS = frozenset({"created_at", "updated_at", "submitted_at", "finished_at"})


async def open_store(path: Path | str, *, busy_timeout_ms: int = 5000) -> SqliteJobStore:
    """Open (creating if needed) and migrate the database at `path`.

    `busy_timeout_ms`: how long a write waits for another writer's lock before giving up.
    """
    path = Path(path)
    try:
        if path.parent != Path(""):
            path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise StoreError(f"cannot open the job store at {path}: {exc}") from exc
    store = SqliteJobStore(connection)
    try:
        await store.prepare(busy_timeout_ms)
    except BaseException:
        await connection.close()
        raise
    return store


class SqliteJobStore:
    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._db = connection
        self._db.row_factory = aiosqlite.Row
        # One connection, many coroutines: transactions must not interleave on it.
        self._write_lock = asyncio.Lock()

    async def prepare(self, busy_timeout_ms: int) -> None:
        try:
            await self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit survives power loss, which is what "a job is never lost" means.
            await self._db.execute("PRAGMA synchronous=FULL")
            await self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            await self._db.execute("PRAGMA foreign_keys=ON")
            await self._migrate()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot prepare the job store: {exc}") from exc

    async def schema_version(self) -> int:
        async with self._db.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def _migrate(self) -> None:
        current = await self.schema_version()
        if current > len(MIGRATIONS):
            raise StoreError(
                f"the job store has schema version {current}, newer than this bot knows "
                f"({len(MIGRATIONS)}); run a newer restore-bot"
            )
        for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
            # executescript commits first, so the version bump rides in the same script.
            await self._db.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version={version};\nCOMMIT;")

    async def close(self) -> None:
        await self._db.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        async with self._write_lock:
            try:
                await self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"the job store is unavailable: {exc}") from exc
            try:
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            try:
                await self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                await self._db.execute("ROLLBACK")
                raise StoreError(f"the job store could not save the change: {exc}") from exc

    async def create(self, job: NewJob) -> Job:
        now = utcnow()
        record = Job(id=str(uuid.uuid4()), state=JobState.REQUESTED, created_at=now, updated_at=now, **job.model_dump())
        values = _to_row(record.model_dump())
        columns = ", ".join(values)
        placeholders = ", ".join("?" for _ in values)
        try:
            async with self._transaction() as db:
                await db.execute(f"INSERT INTO jobs ({columns}) VALUES ({placeholders})", tuple(values.values()))
                await _log_event(db, record.id, None, JobState.REQUESTED, None, now)
        except sqlite3.IntegrityError:
            existing = await self._active_for_name(job.index_name)
            if existing is None:  # it finished between our insert and this look-up
                return await self.create(job)
            raise ActiveRestoreExists(existing) from None
        except sqlite3.Error as exc:
            raise StoreError(f"the job store could not record the request: {exc}") from exc
        return record

    async def get(self, job_id: str) -> Job | None:
        return await self._one("SELECT * FROM jobs WHERE id = ?", (job_id,))

    async def transition(self, job_id: str, expected: JobState, target: JobState, **fields: Any) -> Job:
        check_transition(expected, target)
        _check_fields(fields)
        now = utcnow()
        values = _to_row({**fields, "state": target, "updated_at": now})
        assignments = ", ".join(f"{column} = ?" for column in values)
        try:
            async with self._transaction() as db:
                cursor = await db.execute(
                    f"UPDATE jobs SET {assignments} WHERE id = ? AND state = ?",
                    (*values.values(), job_id, expected.value),
                )
                if cursor.rowcount != 1:
                    raise StaleJob(await self.get(job_id), expected)
                await _log_event(db, job_id, expected, target, fields.get("reason"), now)
        except sqlite3.Error as exc:
            raise StoreError(f"the job store could not save the change: {exc}") from exc
        job = await self.get(job_id)
        assert job is not None
        return job

    async def update(self, job_id: str, **fields: Any) -> Job:
        _check_fields(fields)
        values = _to_row({**fields, "updated_at": utcnow()})
        assignments = ", ".join(f"{column} = ?" for column in values)
        try:
            async with self._transaction() as db:
                await db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*values.values(), job_id))
        except sqlite3.Error as exc:
            raise StoreError(f"the job store could not save the change: {exc}") from exc
        job = await self.get(job_id)
        if job is None:
            raise StoreError(f"job {job_id} does not exist")
        return job

    async def active_jobs(self) -> list[Job]:
        return await self._many(
            "SELECT * FROM jobs WHERE state IN ('requested','submitting','restoring') ORDER BY created_at", ()
        )

    async def latest_for_index(self, index_name: str) -> Job | None:
        return await self._one(
            "SELECT * FROM jobs WHERE index_name = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (index_name,),
        )

    async def recent_in_channel(self, channel_id: str, limit: int = 10) -> list[Job]:
        return await self._many(
            "SELECT * FROM jobs WHERE channel_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (channel_id, limit),
        )

    async def events(self, job_id: str) -> list[tuple[str | None, str, str | None]]:
        """(from_state, to_state, detail) in order: the job's history."""
        async with self._db.execute(
            "SELECT from_state, to_state, detail FROM job_events WHERE job_id = ? ORDER BY id", (job_id,)
        ) as cursor:
            return [(row[0], row[1], row[2]) for row in await cursor.fetchall()]

    async def _active_for_name(self, index_name: str) -> Job | None:
        return await self._one(
            "SELECT * FROM jobs WHERE index_name = ? AND state IN ('requested','submitting','restoring')",
            (index_name,),
        )

    async def _one(self, sql: str, params: tuple[Any, ...]) -> Job | None:
        rows = await self._many(sql, params)
        return rows[0] if rows else None

    async def _many(self, sql: str, params: tuple[Any, ...]) -> list[Job]:
        try:
            async with self._db.execute(sql, params) as cursor:
                rows = await cursor.fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"the job store could not be read: {exc}") from exc
        return [_from_row(dict(row)) for row in rows]


async def _log_event(
    db: aiosqlite.Connection,
    job_id: str,
    from_state: JobState | None,
    to_state: JobState,
    detail: str | None,
    at: datetime,
) -> None:
    await db.execute(
        "INSERT INTO job_events (job_id, at, from_state, to_state, detail) VALUES (?, ?, ?, ?, ?)",
        (job_id, at.isoformat(), from_state.value if from_state else None, to_state.value, detail),
    )


def _check_fields(fields: dict[str, Any]) -> None:
    unknown = set(fields) - _UPDATABLE
    if unknown:
        raise ValueError(f"not updatable job fields: {sorted(unknown)}")


def _to_row(values: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, datetime):
            row[key] = value.isoformat()
        elif isinstance(value, JobState):
            row[key] = value.value
        elif key == "tags":
            row[key] = json.dumps(value, sort_keys=True)
        elif isinstance(value, bool):
            row[key] = int(value)
        else:
            row[key] = value
    return row


def _from_row(row: dict[str, Any]) -> Job:
    row["tags"] = json.loads(row["tags"])
    row["deletion_protection"] = bool(row["deletion_protection"])
    for key in _TIMESTAMPS:
        if row.get(key):
            row[key] = datetime.fromisoformat(row[key])
    return Job.model_validate(row)
