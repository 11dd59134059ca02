"""SQLite job store on aiosqlite: WAL, durable commits, migrations on open."""

from __future__ import annotations

import asyncio
import copy
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator, Callable, Collection
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import aiosqlite

from bot.core.jobs import (
    Decision,
    DueDelivery,
    Job,
    JobState,
    NewJob,
    Notice,
    PendingNotice,
    check_transition,
    utcnow,
)
from storage.base import (
    ActiveRestoreExists,
    Coordination,
    DeadlinePassed,
    Leader,
    NotLeader,
    PoolStats,
    StaleJob,
    StateChange,
    StateChangeHook,
    StoreUnavailable,
)
from storage.common import (
    ACTIVE_SQL,
    LEADERSHIP,
    THREADED_SQL,
    LocalCoordination,
    StateChangeHooks,
    check_fields,
)
from storage.sqlite.sqlite_migrations import MIGRATIONS

_TIMESTAMPS = frozenset(
    {
        "created_at",
        "updated_at",
        "submitted_at",
        "finished_at",
        "parent_posting_since",
        "outage_since",
        "approval_expires_at",
        "decided_at",
        "verify_since",
        "intent_moment",
        "driver_until",
    }
)
_BOOLEANS = frozenset({"deletion_protection", "parent_dirty", "outage_announced"})
_OPTIONAL_BOOLEANS = frozenset({"target_free", "verified"})
_JSON_LISTS = frozenset({"approvers"})


async def open_sqlite_store(path: Path | str, *, busy_timeout_ms: int = 5000) -> SqliteJobStore:
    """Open (creating if needed) and migrate the database at `path`.

    `busy_timeout_ms`: how long a write waits for another writer's lock before giving up.
    """
    path = Path(path)
    try:
        if path.parent != Path(""):
            path.parent.mkdir(parents=True, exist_ok=True)
        connection = await aiosqlite.connect(path, isolation_level=None)
    except (OSError, sqlite3.Error) as exc:
        raise StoreUnavailable(f"cannot open the job store at {path}: {exc}") from exc
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
        self._hooks = StateChangeHooks()
        self._closed = False
        # Set on a `fenced` view: the epoch its writes must be made under.
        self._fence: Callable[[], int | None] | None = None

    @property
    def shared(self) -> bool:
        return False  # one bot process per SQLite file

    def on_state_change(self, hook: StateChangeHook) -> None:
        self._hooks.add(hook)

    async def prepare(self, busy_timeout_ms: int) -> None:
        try:
            await self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit survives power loss, which is what "a job is never lost" means.
            await self._db.execute("PRAGMA synchronous=FULL")
            await self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            # Off while migrating: rebuilding a referenced table (migration 3) must not cascade.
            await self._db.execute("PRAGMA foreign_keys=OFF")
            await self._migrate()
            await self._db.execute("PRAGMA foreign_keys=ON")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"cannot prepare the job store: {exc}") from exc

    async def schema_version(self) -> int:
        rows = await self._rows("PRAGMA user_version", ())
        return int(rows[0][0]) if rows else 0

    async def _migrate(self) -> None:
        current = await self.schema_version()
        if current > len(MIGRATIONS):
            raise StoreUnavailable(
                f"the job store has schema version {current}, newer than this bot knows "
                f"({len(MIGRATIONS)}); run a newer restore-bot"
            )
        for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
            # executescript commits first, so the version bump rides in the same script.
            await self._db.executescript(f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version={version};\nCOMMIT;")

    async def ping(self) -> bool:
        # The file is local: the store answers as long as its connection is open.
        return not self._closed

    def pool_stats(self) -> PoolStats | None:
        return None  # one connection, no pool

    async def close(self) -> None:
        self._closed = True
        await self._db.close()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        wanted = self._fence() if self._fence is not None else None
        if self._fence is not None and wanted is None:
            raise NotLeader("this process does not lead the background work")
        async with self._write_lock:
            try:
                await self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"the job store is unavailable: {exc}") from exc
            try:
                if wanted is not None:
                    await self._check_epoch(wanted)
                yield self._db
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            try:
                await self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                await self._db.execute("ROLLBACK")
                raise StoreUnavailable(f"the job store could not save the change: {exc}") from exc

    async def _check_epoch(self, wanted: int) -> None:
        """Inside a write transaction (BEGIN IMMEDIATE holds the write lock): the leadership epoch is `wanted`."""
        async with self._db.execute("SELECT epoch FROM leadership WHERE name = ?", (LEADERSHIP,)) as cursor:
            row = await cursor.fetchone()
        current = int(row[0]) if row is not None else None
        if current != wanted:
            raise NotLeader(f"the background work is led under epoch {current} now, not {wanted}")

    # -- several processes (one, for SQLite) -----------------------------------------------------------

    def fenced(self, epoch: Callable[[], int | None]) -> SqliteJobStore:
        view = copy.copy(self)  # the same connection, lock and hooks
        view._fence = epoch
        return view

    def coordination(self, holder: str) -> Coordination:
        # One process per file: it always leads. Each start still bumps the epoch, so writes fenced under an
        # older one (a second process on the same file, which is not supported) are refused.
        return LocalCoordination(holder, self._bump_epoch)

    async def _bump_epoch(self, holder: str) -> int:
        try:
            async with (
                self._transaction() as db,
                db.execute(
                    "INSERT INTO leadership (name, epoch, holder, since) VALUES (?, 1, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET epoch = epoch + 1, holder = excluded.holder, "
                    "since = excluded.since RETURNING epoch",
                    (LEADERSHIP, holder, utcnow().isoformat()),
                ) as cursor,
            ):
                row = await cursor.fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not record the leadership: {exc}") from exc
        assert row is not None
        return int(row[0])

    async def leader(self) -> Leader | None:
        rows = await self._rows("SELECT holder, epoch, since FROM leadership WHERE name = ?", (LEADERSHIP,))
        if not rows:
            return None
        row = rows[0]
        return Leader(holder=row[0], epoch=int(row[1]), since=datetime.fromisoformat(row[2]))

    # -- leases: which process drives a job --------------------------------------------------------------

    async def claim_lease(self, job_id: str, driver: str, *, until: datetime, now: datetime) -> Job | None:
        try:
            async with self._transaction() as db:
                cursor = await db.execute(
                    f"UPDATE jobs SET driver_id = ?, driver_until = ? WHERE id = ? AND state IN ({ACTIVE_SQL}) "
                    "AND (driver_id IS NULL OR driver_id = ? OR driver_until IS NULL OR driver_until <= ?)",
                    (driver, until.isoformat(), job_id, driver, now.isoformat()),
                )
                claimed = cursor.rowcount == 1
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not record a lease: {exc}") from exc
        return await self.get(job_id) if claimed else None

    async def renew_leases(self, driver: str, job_ids: Collection[str], *, until: datetime) -> int:
        ids = list(job_ids)
        if not ids:
            return 0
        try:
            async with self._transaction() as db:
                cursor = await db.execute(
                    f"UPDATE jobs SET driver_until = ? WHERE driver_id = ? AND id IN ({', '.join('?' for _ in ids)})",
                    (until.isoformat(), driver, *ids),
                )
                return cursor.rowcount
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not renew leases: {exc}") from exc

    async def release_lease(self, job_id: str, driver: str) -> None:
        try:
            async with self._transaction() as db:
                await db.execute(
                    "UPDATE jobs SET driver_id = NULL, driver_until = NULL WHERE id = ? AND driver_id = ?",
                    (job_id, driver),
                )
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not release a lease: {exc}") from exc

    async def mark_submitted(self, job_id: str, driver: str, *, at: datetime) -> Job:
        try:
            async with self._transaction() as db:
                cursor = await db.execute(
                    "UPDATE jobs SET submitted_at = ?, updated_at = ? WHERE id = ? AND state = ? AND driver_id = ?",
                    (at.isoformat(), utcnow().isoformat(), job_id, JobState.SUBMITTING.value, driver),
                )
                marked = cursor.rowcount == 1
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not save the change: {exc}") from exc
        job = await self.get(job_id)
        if not marked or job is None:
            raise StaleJob(job, JobState.SUBMITTING)
        return job

    async def create(self, job: NewJob, *, state: JobState = JobState.REQUESTED, **fields: Any) -> Job:
        if state not in (JobState.CHECKING, JobState.REQUESTED, JobState.AWAITING_APPROVAL):
            raise ValueError(f"a job cannot start in {state}")
        check_fields(fields)
        now = utcnow()
        record = Job(id=str(uuid.uuid4()), state=state, created_at=now, updated_at=now, **job.model_dump(), **fields)
        values = _to_row(record.model_dump())
        columns = ", ".join(values)
        placeholders = ", ".join("?" for _ in values)
        try:
            async with self._transaction() as db:
                await db.execute(f"INSERT INTO jobs ({columns}) VALUES ({placeholders})", tuple(values.values()))
                await _log_event(db, record.id, None, state, None, now)
        except sqlite3.IntegrityError as exc:
            if "jobs.index_name" not in str(exc):  # not the one-active-restore-per-name index
                raise StoreUnavailable(f"the job store could not record the request: {exc}") from exc
            existing = await self._active_for_name(job.index_name)
            if existing is None:  # it finished between our insert and this look-up
                return await self.create(job, state=state, **fields)
            raise ActiveRestoreExists(existing) from None
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not record the request: {exc}") from exc
        self._hooks.announce(StateChange(None, record, fields.get("reason")))
        return record

    async def get(self, job_id: str) -> Job | None:
        return await self._one("SELECT * FROM jobs WHERE id = ?", (job_id,))

    async def transition(
        self,
        job_id: str,
        expected: JobState,
        target: JobState,
        *,
        notices: tuple[Notice, ...] = (),
        decision: Decision | None = None,
        deadline: datetime | None = None,
        **fields: Any,
    ) -> Job:
        check_transition(expected, target)
        check_fields(fields)
        now = utcnow()
        # Every state change shows on the parent message.
        values = _to_row({"parent_dirty": True, **fields, "state": target, "updated_at": now})
        assignments = ", ".join(f"{column} = ?" for column in values)
        try:
            async with self._transaction() as db:
                if deadline is not None:
                    # Read inside the write transaction: no expiry can slip in between the check and the update.
                    async with db.execute(
                        "SELECT approval_expires_at FROM jobs WHERE id = ? AND state = ?", (job_id, expected.value)
                    ) as found:
                        row = await found.fetchone()
                    if row is not None and row[0] and datetime.fromisoformat(row[0]) <= deadline:
                        raise _Expired()
                cursor = await db.execute(
                    f"UPDATE jobs SET {assignments} WHERE id = ? AND state = ?",
                    (*values.values(), job_id, expected.value),
                )
                if cursor.rowcount != 1:
                    raise StaleJob(await self.get(job_id), expected)
                await _log_event(db, job_id, expected, target, fields.get("reason"), now)
                await _add_notices(db, job_id, notices, now)
                if decision is not None:
                    await db.execute(
                        "INSERT INTO decisions (job_id, decision, by_user, at, reason) VALUES (?, ?, ?, ?, ?)",
                        (job_id, decision.decision, decision.by_user, now.isoformat(), decision.reason),
                    )
        except _Expired:
            expired = await self.get(job_id)
            assert expired is not None
            raise DeadlinePassed(expired) from None
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not save the change: {exc}") from exc
        job = await self.get(job_id)
        assert job is not None
        self._hooks.announce(StateChange(expected, job, fields.get("reason"), decision))
        return job

    async def decisions(self, job_id: str) -> list[Decision]:
        rows = await self._rows(
            "SELECT decision, by_user, reason, at FROM decisions WHERE job_id = ? ORDER BY id", (job_id,)
        )
        return [Decision(decision=r[0], by_user=r[1], reason=r[2], at=datetime.fromisoformat(r[3])) for r in rows]

    async def update(self, job_id: str, *, notices: tuple[Notice, ...] = (), **fields: Any) -> Job:
        check_fields(fields)
        now = utcnow()
        values = _to_row({**fields, "updated_at": now})
        assignments = ", ".join(f"{column} = ?" for column in values)
        try:
            async with self._transaction() as db:
                await db.execute(f"UPDATE jobs SET {assignments} WHERE id = ?", (*values.values(), job_id))
                await _add_notices(db, job_id, notices, now)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not save the change: {exc}") from exc
        job = await self.get(job_id)
        if job is None:
            raise StoreUnavailable(f"job {job_id} does not exist")
        return job

    # -- Slack delivery ------------------------------------------------------------------------------

    async def deliveries_due(self, now: datetime) -> list[DueDelivery]:
        # Light rows, every due job: the sender picks what Slack's rate limits allow this round, so a
        # busy channel never hides another channel's messages behind a LIMIT.
        # A job whose channel was given up on (slack_error) needs no parent and no redraw; one whose parent
        # is no longer redrawn (parent_error) needs no redraw. Dropped notices are never due.
        sql = f"""SELECT id, channel_id,
                       message_ts IS NULL AND slack_error IS NULL AND state IN ({THREADED_SQL}) AS needs_parent,
                       message_ts IS NOT NULL AND parent_dirty = 1 AND slack_error IS NULL
                           AND parent_error IS NULL AS parent_dirty,
                       EXISTS (SELECT 1 FROM notices WHERE job_id = jobs.id AND sent_at IS NULL AND dropped_at IS NULL
                               AND (next_attempt_at IS NULL OR next_attempt_at <= :now)) AS notice_due
                FROM jobs WHERE id IN (
                    SELECT id FROM jobs WHERE message_ts IS NULL AND slack_error IS NULL AND state IN ({THREADED_SQL})
                    UNION SELECT id FROM jobs WHERE parent_dirty = 1 AND slack_error IS NULL AND parent_error IS NULL
                          AND message_ts IS NOT NULL
                    UNION SELECT job_id FROM notices WHERE sent_at IS NULL AND dropped_at IS NULL
                          AND (next_attempt_at IS NULL OR next_attempt_at <= :now))
                ORDER BY updated_at"""
        rows = await self._rows(sql, {"now": now.isoformat()})
        return [
            DueDelivery(
                job_id=row["id"],
                channel_id=row["channel_id"],
                needs_parent=bool(row["needs_parent"]),
                parent_dirty=bool(row["parent_dirty"]),
                notice_due=bool(row["notice_due"]),
            )
            for row in rows
        ]

    async def claim_parent_redraw(self, job_id: str) -> bool:
        """Clear the job's parent_dirty flag; True if it was set (the caller must redraw)."""
        try:
            async with self._transaction() as db:
                cursor = await db.execute(
                    "UPDATE jobs SET parent_dirty = 0 WHERE id = ? AND parent_dirty = 1", (job_id,)
                )
                return cursor.rowcount == 1
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not save a delivery: {exc}") from exc

    async def claim_parent_post(self, job_id: str, *, seen: datetime | None, now: datetime) -> bool:
        try:
            async with self._transaction() as db:
                cursor = await db.execute(
                    "UPDATE jobs SET parent_posting_since = ?, updated_at = ? WHERE id = ? AND message_ts IS NULL "
                    "AND slack_error IS NULL AND parent_posting_since IS ?",
                    (now.isoformat(), utcnow().isoformat(), job_id, seen.isoformat() if seen else None),
                )
                return cursor.rowcount == 1
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not save a delivery: {exc}") from exc

    async def claim_notice(self, notice_id: int, *, seen: datetime | None, now: datetime) -> bool:
        try:
            async with self._transaction() as db:
                cursor = await db.execute(
                    "UPDATE notices SET sending_since = ? WHERE id = ? AND sent_at IS NULL AND dropped_at IS NULL "
                    "AND sending_since IS ?",
                    (now.isoformat(), notice_id, seen.isoformat() if seen else None),
                )
                return cursor.rowcount == 1
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not save a delivery: {exc}") from exc

    async def pending_notices(self, job_id: str) -> list[PendingNotice]:
        rows = await self._rows(
            "SELECT id, job_id, kind, milestone, detail, created_at, attempts, sending_since, next_attempt_at "
            "FROM notices "
            "WHERE job_id = ? AND sent_at IS NULL AND dropped_at IS NULL ORDER BY id",
            (job_id,),
        )
        return [
            PendingNotice(
                id=row[0],
                job_id=row[1],
                kind=row[2],
                milestone=row[3],
                detail=row[4],
                created_at=datetime.fromisoformat(row[5]),
                attempts=row[6],
                sending_since=datetime.fromisoformat(row[7]) if row[7] else None,
                next_attempt_at=datetime.fromisoformat(row[8]) if row[8] else None,
            )
            for row in rows
        ]

    async def notice_sending(self, notice_id: int) -> None:
        await self._set_notice(notice_id, "sending_since = ?", utcnow().isoformat())

    async def notice_sent(self, notice_id: int) -> None:
        await self._set_notice(notice_id, "sent_at = ?, sending_since = NULL", utcnow().isoformat())

    async def notice_failed(self, notice_id: int, retry_at: datetime, error: str, *, maybe_sent: bool = False) -> None:
        kept = "" if maybe_sent else ", sending_since = NULL"
        await self._set_notice(
            notice_id,
            f"attempts = attempts + 1, next_attempt_at = ?{kept}, last_error = ?",
            retry_at.isoformat(),
            error,
        )

    async def notice_dropped(self, notice_id: int, error: str) -> None:
        await self._set_notice(
            notice_id, "dropped_at = ?, sending_since = NULL, last_error = ?", utcnow().isoformat(), error
        )

    async def lose_channel(self, job_id: str, error: str, notice: Notice | None = None) -> bool:
        now = utcnow()
        try:
            async with self._transaction() as db:
                cursor = await db.execute(
                    "UPDATE jobs SET slack_error = ?, parent_dirty = 0, updated_at = ? "
                    "WHERE id = ? AND slack_error IS NULL",
                    (error, now.isoformat(), job_id),
                )
                if cursor.rowcount != 1:
                    return False
                await _add_notices(db, job_id, (notice,) if notice is not None else (), now)
                return True
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not save a delivery: {exc}") from exc

    async def _set_notice(self, notice_id: int, assignments: str, *values: Any) -> None:
        try:
            async with self._transaction() as db:
                await db.execute(f"UPDATE notices SET {assignments} WHERE id = ?", (*values, notice_id))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not save a delivery: {exc}") from exc

    # -- Slack request de-duplication ------------------------------------------------------------------

    async def record_deliveries(
        self, keys: list[str], *, forget_before: datetime | None = None, holder: str | None = None
    ) -> None:
        """Record Slack delivery keys (in one transaction); with `forget_before`, forget those older than that."""
        now = utcnow().isoformat()
        try:
            async with self._transaction() as db:
                await db.executemany(
                    "INSERT INTO slack_deliveries (key, received_at, holder) VALUES (?, ?, ?) "
                    "ON CONFLICT (key) DO NOTHING",
                    [(key, now, holder) for key in keys],
                )
                if forget_before is not None:
                    await db.execute("DELETE FROM slack_deliveries WHERE received_at < ?", (forget_before.isoformat(),))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not record Slack deliveries: {exc}") from exc

    async def claim_deliveries(
        self, keys: Collection[str], *, holder: str, now: datetime, forget_before: datetime | None = None
    ) -> set[str]:
        claimed: set[str] = set()
        try:
            async with self._transaction() as db:
                for key in dict.fromkeys(keys):
                    async with db.execute(
                        "INSERT INTO slack_deliveries (key, received_at, holder) VALUES (?, ?, ?) ON CONFLICT (key) "
                        "DO UPDATE SET holder = slack_deliveries.holder "
                        "WHERE slack_deliveries.holder = excluded.holder RETURNING 1",
                        (key, now.isoformat(), holder),
                    ) as cursor:
                        if await cursor.fetchone() is not None:
                            claimed.add(key)
                if forget_before is not None:
                    await db.execute("DELETE FROM slack_deliveries WHERE received_at < ?", (forget_before.isoformat(),))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not record Slack deliveries: {exc}") from exc
        return claimed

    async def delivery_keys_since(self, since: datetime) -> set[str]:
        rows = await self._rows("SELECT key FROM slack_deliveries WHERE received_at >= ?", (since.isoformat(),))
        return {str(row[0]) for row in rows}

    async def active_jobs(self) -> list[Job]:
        return await self._many(
            f"SELECT * FROM jobs WHERE state IN ({ACTIVE_SQL}) ORDER BY created_at",
            (),
        )

    async def latest_for_index(self, index_name: str) -> Job | None:
        return await self._one(
            "SELECT * FROM jobs WHERE index_name = ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (index_name,),
        )

    async def recent_jobs(
        self, *, index_name: str | None = None, requester_id: str | None = None, limit: int = 20
    ) -> list[Job]:
        """Newest first, optionally for one target name or one requester."""
        return await self._many(
            "SELECT * FROM jobs WHERE (? IS NULL OR index_name = ?) AND (? IS NULL OR requester_id = ?) "
            "ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (index_name, index_name, requester_id, requester_id, limit),
        )

    async def recent_in_channel(self, channel_id: str, limit: int = 10) -> list[Job]:
        return await self._many(
            "SELECT * FROM jobs WHERE channel_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (channel_id, limit),
        )

    async def events(self, job_id: str) -> list[tuple[str | None, str, str | None]]:
        """(from_state, to_state, detail) in order: the job's history."""
        rows = await self._rows(
            "SELECT from_state, to_state, detail FROM job_events WHERE job_id = ? ORDER BY id", (job_id,)
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def restore_job_owner(self, restore_job_id: str, *, other_than: str) -> Job | None:
        """The job, other than `other_than`, that already holds this Pinecone restore job, if any."""
        return await self._one(
            "SELECT * FROM jobs WHERE restore_job_id = ? AND id != ? ORDER BY created_at LIMIT 1",
            (restore_job_id, other_than),
        )

    async def _active_for_name(self, index_name: str) -> Job | None:
        return await self._one(
            f"SELECT * FROM jobs WHERE index_name = ? AND state IN ({ACTIVE_SQL})",
            (index_name,),
        )

    async def _one(self, sql: str, params: tuple[Any, ...]) -> Job | None:
        rows = await self._many(sql, params)
        return rows[0] if rows else None

    async def _many(self, sql: str, params: tuple[Any, ...]) -> list[Job]:
        return [_from_row(dict(row)) for row in await self._rows(sql, params)]

    async def _rows(self, sql: str, params: tuple[Any, ...] | dict[str, Any]) -> list[sqlite3.Row]:
        """A read; SQLite's errors (locked, I/O, corrupt) as the port's StoreUnavailable."""
        try:
            async with self._db.execute(sql, params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the job store could not be read: {exc}") from exc


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


async def _add_notices(db: aiosqlite.Connection, job_id: str, notices: tuple[Notice, ...], at: datetime) -> None:
    for notice in notices:
        await db.execute(
            "INSERT INTO notices (job_id, kind, milestone, detail, created_at) VALUES (?, ?, ?, ?, ?)",
            (job_id, notice.kind.value, notice.milestone, notice.detail, at.isoformat()),
        )


class _Expired(Exception):
    """Raised inside a transition's transaction to roll it back: the approval deadline has passed."""


def _to_row(values: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, datetime):
            row[key] = value.isoformat()
        elif isinstance(value, JobState):
            row[key] = value.value
        elif key == "tags":
            row[key] = json.dumps(value, sort_keys=True)
        elif key in _JSON_LISTS:
            row[key] = json.dumps(list(value))
        elif isinstance(value, bool):
            row[key] = int(value)
        elif hasattr(value, "value"):  # enums
            row[key] = value.value
        else:
            row[key] = value
    return row


def _from_row(row: dict[str, Any]) -> Job:
    row["tags"] = json.loads(row["tags"])
    for key in _BOOLEANS:
        row[key] = bool(row[key])
    for key in _OPTIONAL_BOOLEANS:
        row[key] = None if row[key] is None else bool(row[key])
    for key in _JSON_LISTS:
        row[key] = tuple(json.loads(row[key]))
    for key in _TIMESTAMPS:
        if row.get(key):
            row[key] = datetime.fromisoformat(row[key])
    return Job.model_validate(row)
