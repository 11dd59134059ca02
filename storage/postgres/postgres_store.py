"""PostgreSQL job store on asyncpg: a bounded connection pool, every guarantee in the database.

Several bot processes may share one database, so nothing that must hold across them lives in a process:

* one active restore per target name: the partial unique index `jobs_one_active_per_name`; requests arriving
  together are inserted in one statement (`INSERT ... ON CONFLICT DO NOTHING`), and one the index left out
  is told the restore that holds its name;
* compare-and-set transitions: `UPDATE ... WHERE id = $1 AND state = $2`, in READ COMMITTED, where a
  second writer waits for the first and then finds the state changed (StaleJob);
* the notices outbox and the parent-redraw flag: written in the transaction of the change they describe;
  `claim_parent_redraw` clears the flag with `UPDATE ... WHERE parent_dirty`, so one caller wins;
* Slack delivery keys: `INSERT ... ON CONFLICT DO NOTHING`;
* migrations: applied in one transaction holding `pg_advisory_xact_lock`, so replicas starting together
  migrate once (the others wait, then find nothing to do);
* which process drives a job (`claim_lease`...): compare-and-set on `driver_id`/`driver_until`;
* the sender's claims on a parent post and on a notice: compare-and-set on the mark the caller read;
* the leadership of the background work: an advisory lock on a connection of its own
  (storage/postgres/postgres_coordination.py), and writes `fenced` by its epoch, read `FOR SHARE`.

Errors: a database that cannot be reached (refused, reset, shut down, a pool with no free connection in
time, a statement that exceeds its timeout) is `StoreUnavailable`; the unique index refusing a second
active restore is `ActiveRestoreExists`; as in the SQLite store. No message names the password: where a
message says where the database is, it is `safe_url`'s form, and asyncpg's own wording is stripped of the
password too, as a last line of defence.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar

import asyncpg

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
from bot.core.urls import safe_url, url_password
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
    StoreError,
    StoreUnavailable,
)
from storage.common import ACTIVE_SQL, COLUMNS, LEADERSHIP, THREADED_SQL, StateChangeHooks, check_fields
from storage.postgres.postgres_coordination import KEEPALIVES, PostgresCoordination
from storage.postgres.postgres_errors import CONNECTION_LOST, DATABASE_ERRORS, OPEN_ERRORS, describe
from storage.postgres.postgres_migrations import MIGRATIONS

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy
    from asyncpg.transaction import Transaction

    Connection: TypeAlias = PoolConnectionProxy[asyncpg.Record]
    Pool: TypeAlias = asyncpg.Pool[asyncpg.Record]

T = TypeVar("T")

#: The most connections one bot process opens. Its writers are the ack path (one `create` per restore
#: request), the tracker, the Slack sender and the de-duplication batches: a handful at a time.
DEFAULT_POOL_SIZE = 10
#: Connections kept open while idle, so a request after a quiet hour does not wait for a new one.
MIN_POOL_SIZE = 2
CONNECT_TIMEOUT = 10.0
#: How long a call waits for a free connection before the store is reported unavailable.
ACQUIRE_TIMEOUT = 10.0
#: How long one statement may run (a lock held by a stuck transaction, a server that stopped answering).
COMMAND_TIMEOUT = 30.0
PING_TIMEOUT = 2.0
#: Every pooled connection, like the leadership's own: the server finds a dead client (a host lost without
#: closing its sockets) in seconds, not the operating system's two hours, and ends a transaction left open
#: that long, so the row locks it holds (the leadership row `FOR SHARE`, a job's row) never block the
#: replica taking over for longer than that. No transaction of the bot waits on anything but the database.
POOL_SERVER_SETTINGS = {**KEEPALIVES, "idle_in_transaction_session_timeout": "60000"}
#: `pg_advisory_xact_lock` key held while migrating (any constant; this one spells "rbot-mig").
MIGRATION_LOCK = 0x72626F74_2D6D6967

_ONE_ACTIVE_PER_NAME = "jobs_one_active_per_name"
#: At most this many requests are recorded in one statement.
RECORD_BATCH = 100
_SELECT_JOB = f"SELECT {', '.join(COLUMNS)} FROM jobs"


async def open_postgres_store(
    url: str,
    *,
    pool_size: int = DEFAULT_POOL_SIZE,
    connect_timeout: float = CONNECT_TIMEOUT,
    acquire_timeout: float = ACQUIRE_TIMEOUT,
    command_timeout: float = COMMAND_TIMEOUT,
) -> PostgresJobStore:
    """Connect a pool of at most `pool_size` connections to `url` (postgresql://user:password@host:5432/db)
    and migrate the database. Raises StoreUnavailable, never naming the password."""
    if pool_size < 1:
        raise ValueError("pool_size must be at least 1")
    where = safe_url(url)
    secrets = url_password(url)
    try:
        pool: Pool = await asyncpg.create_pool(
            url,
            min_size=min(MIN_POOL_SIZE, pool_size),
            max_size=pool_size,
            timeout=connect_timeout,
            command_timeout=command_timeout,
            server_settings=POOL_SERVER_SETTINGS,
            init=_init_connection,
            reset=_keep_session,
        )
    except OPEN_ERRORS as exc:
        # Not chained: an error about the URL itself may quote it.
        raise StoreUnavailable(f"cannot connect to the job store at {where}: {describe(exc, secrets)}") from None
    store = PostgresJobStore(pool, where=where, secrets=secrets, acquire_timeout=acquire_timeout, url=url)
    try:
        await store.migrate()
    except BaseException:
        await store.close()
        raise
    return store


async def _init_connection(connection: asyncpg.Connection[asyncpg.Record]) -> None:
    # jsonb in and out as Python values (tags: a dict; approvers: a list).
    await connection.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(connection: asyncpg.Connection[asyncpg.Record]) -> None:
    """What a pooled connection needs on its way back to the pool beyond what asyncpg always does (roll back an
    open transaction, drop listeners): nothing. asyncpg's default also sends `SELECT pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL`, a round trip on every release, for session state this store never sets
    on a pooled connection (no session locks, cursors, LISTEN or SET: the leader's lock and LISTEN live on a
    connection of their own, postgres_coordination.py; migrations take a transaction-level lock)."""


class PostgresJobStore:
    def __init__(
        self,
        pool: Pool,
        *,
        where: str,
        secrets: list[str] | None = None,
        acquire_timeout: float = ACQUIRE_TIMEOUT,
        url: str | None = None,
    ) -> None:
        self._pool = pool
        self._where = where
        self._secrets = secrets or []
        self._acquire_timeout = acquire_timeout
        self._hooks = StateChangeHooks()
        # For the coordination's own connection (it holds the password: never shown).
        self._url = url
        # Set on a `fenced` view: the epoch its writes must be made under.
        self._fence: Callable[[], int | None] | None = None
        # Requests waiting to be recorded together (`create`): one statement in flight, the next batch collecting.
        self._to_record: list[tuple[Job, asyncio.Future[bool]]] = []
        self._recording: asyncio.Task[None] | None = None

    @property
    def shared(self) -> bool:
        return True

    @property
    def where(self) -> str:
        """The database's URL without credentials: fit for messages."""
        return self._where

    def on_state_change(self, hook: StateChangeHook) -> None:
        self._hooks.add(hook)

    def _unavailable(self, doing: str, error: BaseException) -> StoreUnavailable:
        return StoreUnavailable(f"the job store at {self._where} could not {doing}: {describe(error, self._secrets)}")

    # -- schema ------------------------------------------------------------------------------------

    async def migrate(self) -> None:
        """Bring the schema up to date, once across every process starting at the same time."""
        try:
            async with self._pool.acquire(timeout=self._acquire_timeout) as connection, connection.transaction():
                # Held until this transaction ends: another process migrating waits here, then finds the
                # versions applied. DDL is transactional in PostgreSQL, so a failed migration leaves nothing.
                await connection.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
                await connection.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    " version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
                )
                current = int(await connection.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))
                if current > len(MIGRATIONS):
                    raise StoreUnavailable(
                        f"the job store at {self._where} has schema version {current}, newer than this bot "
                        f"knows ({len(MIGRATIONS)}); run a newer restore-bot"
                    )
                for version, script in enumerate(MIGRATIONS[current:], start=current + 1):
                    await connection.execute(script)
                    await connection.execute("INSERT INTO schema_migrations (version) VALUES ($1)", version)
        except DATABASE_ERRORS as exc:
            raise self._unavailable("be migrated", exc) from exc

    async def schema_version(self) -> int:
        async def read(connection: Connection) -> int:
            return int(await connection.fetchval("SELECT coalesce(max(version), 0) FROM schema_migrations"))

        return await self._statement("be read", read)

    # -- health and the pool -----------------------------------------------------------------------

    async def ping(self) -> bool:
        async def read(connection: Connection) -> bool:
            return bool(await connection.fetchval("SELECT 1", timeout=PING_TIMEOUT) == 1)

        try:
            return await self._statement("answer", read, acquire_timeout=PING_TIMEOUT)
        except StoreUnavailable:
            return False

    def pool_stats(self) -> PoolStats | None:
        idle = self._pool.get_idle_size()
        return PoolStats(
            idle=idle,
            in_use=max(0, self._pool.get_size() - idle),
            min_size=self._pool.get_min_size(),
            max_size=self._pool.get_max_size(),
        )

    async def close(self) -> None:
        await self._pool.close()

    # -- connections and transactions ---------------------------------------------------------------

    async def _statement(
        self, doing: str, statement: Callable[[Connection], Awaitable[T]], *, acquire_timeout: float | None = None
    ) -> T:
        """Run one statement on a pooled connection, committed alone (no BEGIN, no COMMIT: one round trip); once
        more on a fresh connection if this one had died without the pool noticing. So only a statement whose
        second sending, after a first that may have committed unseen, does nothing twice: a read; a claim of
        delivery keys (a key this process holds stays its own); new jobs (their ids made here: those the
        first try inserted are left out by the second and found by their ids)."""
        for attempt in (1, 2):
            try:
                async with self._pool.acquire(timeout=acquire_timeout or self._acquire_timeout) as connection:
                    return await statement(connection)
            except CONNECTION_LOST as exc:
                if attempt == 2:
                    raise self._unavailable(doing, exc) from exc
                await self._replace_connections()
            except DATABASE_ERRORS as exc:
                raise self._unavailable(doing, exc) from exc
        raise AssertionError("unreachable")

    async def _replace_connections(self) -> None:
        """One connection died unnoticed (a failover, a restart, a dropped NAT entry): the others opened with
        it probably did too. Each is replaced when next acquired (one in use, when released)."""
        await self._pool.expire_connections()

    async def _begin(self) -> tuple[Connection, Transaction]:
        """A pooled connection inside a new transaction. A connection found dead at BEGIN is replaced once:
        nothing was sent in it, so nothing can have been applied twice."""
        for attempt in (1, 2):
            connection = await self._pool.acquire(timeout=self._acquire_timeout)
            transaction = connection.transaction()
            try:
                await transaction.start()
            except BaseException as exc:
                await self._pool.release(connection)
                if attempt == 2 or not isinstance(exc, CONNECTION_LOST):
                    raise
                await self._replace_connections()
                continue
            return connection, transaction
        raise AssertionError("unreachable")

    @asynccontextmanager
    async def _transaction(self, doing: str) -> AsyncIterator[Connection]:
        """One transaction; store errors raised inside (StaleJob, ...) roll it back and pass through, database
        errors become StoreUnavailable (a unique violation is left for `create` to read). On a `fenced` view it
        begins by checking the leadership epoch (NotLeader)."""
        wanted = self._fence() if self._fence is not None else None
        if self._fence is not None and wanted is None:
            raise NotLeader("this process does not lead the background work")
        try:
            connection, transaction = await self._begin()
        except DATABASE_ERRORS as exc:
            raise self._unavailable(doing, exc) from exc
        try:
            try:
                if wanted is not None:
                    # FOR SHARE: a new leader's bump (an UPDATE of this row) waits until this transaction ends,
                    # and a transaction that begins after the bump reads the new epoch.
                    current = await connection.fetchval(
                        "SELECT epoch FROM leadership WHERE name = $1 FOR SHARE", LEADERSHIP
                    )
                    if current != wanted:
                        raise NotLeader(f"the background work is led under epoch {current} now, not {wanted}")
                yield connection
            except BaseException:
                if not connection.is_closed():
                    # If the connection is gone, the transaction went with it.
                    with contextlib.suppress(*DATABASE_ERRORS):
                        await transaction.rollback()
                raise
            try:
                await transaction.commit()
            except DATABASE_ERRORS as exc:
                raise self._unavailable(doing, exc) from exc
        except asyncpg.UniqueViolationError:
            raise
        except DATABASE_ERRORS as exc:
            raise self._unavailable(doing, exc) from exc
        finally:
            await self._pool.release(connection)

    async def _write(self, doing: str, sql: str, *params: Any) -> Any:
        """One statement in a transaction of its own; its first value (fetchval)."""
        async with self._transaction(doing) as connection:
            return await connection.fetchval(sql, *params)

    # -- several processes -----------------------------------------------------------------------------

    def fenced(self, epoch: Callable[[], int | None]) -> PostgresJobStore:
        view = copy.copy(self)  # the same pool and hooks
        view._fence = epoch
        return view

    def coordination(self, holder: str) -> Coordination:
        if self._url is None:
            raise ValueError("this store was not opened from a URL: it cannot open a coordination connection")
        return PostgresCoordination(self._url, self._pool, holder=holder, where=self._where, secrets=self._secrets)

    async def leader(self) -> Leader | None:
        async def read(connection: Connection) -> asyncpg.Record | None:
            return await connection.fetchrow("SELECT holder, epoch, since FROM leadership WHERE name = $1", LEADERSHIP)

        row = await self._statement("be read", read)
        return None if row is None else Leader(holder=row["holder"], epoch=int(row["epoch"]), since=row["since"])

    # -- leases: which process drives a job --------------------------------------------------------------

    async def claim_lease(self, job_id: str, driver: str, *, until: datetime, now: datetime) -> Job | None:
        async with self._transaction("record a lease") as connection:
            row = await connection.fetchrow(
                f"UPDATE jobs SET driver_id = $1, driver_until = $2 WHERE id = $3 AND state IN ({ACTIVE_SQL}) "
                "AND (driver_id IS NULL OR driver_id = $1 OR driver_until IS NULL OR driver_until <= $4) "
                f"RETURNING {', '.join(COLUMNS)}",
                driver,
                until,
                job_id,
                now,
            )
        return _from_row(row) if row is not None else None

    async def renew_leases(self, driver: str, job_ids: Collection[str], *, until: datetime) -> int:
        ids = list(job_ids)
        if not ids:
            return 0
        async with self._transaction("renew leases") as connection:
            status = await connection.execute(
                "UPDATE jobs SET driver_until = $1 WHERE driver_id = $2 AND id = ANY($3::text[])", until, driver, ids
            )
        return int(status.split()[-1])

    async def release_lease(self, job_id: str, driver: str) -> None:
        await self._write(
            "release a lease",
            "UPDATE jobs SET driver_id = NULL, driver_until = NULL WHERE id = $1 AND driver_id = $2",
            job_id,
            driver,
        )

    async def mark_submitted(self, job_id: str, driver: str, *, at: datetime) -> Job:
        async with self._transaction("save the change") as connection:
            row = await connection.fetchrow(
                "UPDATE jobs SET submitted_at = $1, updated_at = $2 WHERE id = $3 AND state = $4 AND driver_id = $5 "
                f"RETURNING {', '.join(COLUMNS)}",
                at,
                utcnow(),
                job_id,
                JobState.SUBMITTING.value,
                driver,
            )
        if row is None:
            raise StaleJob(await self.get(job_id), JobState.SUBMITTING)
        return _from_row(row)

    # -- jobs --------------------------------------------------------------------------------------

    async def create(self, job: NewJob, *, state: JobState = JobState.REQUESTED, **fields: Any) -> Job:
        if state not in (JobState.CHECKING, JobState.REQUESTED, JobState.AWAITING_APPROVAL):
            raise ValueError(f"a job cannot start in {state}")
        check_fields(fields)
        now = utcnow()
        record = Job(id=str(uuid.uuid4()), state=state, created_at=now, updated_at=now, **job.model_dump(), **fields)
        if self._fence is None:
            recorded = await self._record_with_others(record)
        else:  # the leader's writes check the epoch first, in the same transaction
            recorded = await self._record_alone(record)
        if not recorded:
            existing = await self._active_for_name(job.index_name)
            if existing is None:  # it finished between our insert and this look-up
                return await self.create(job, state=state, **fields)
            if existing.id != record.id:  # (the same id: a first try whose answer was lost had recorded it)
                raise ActiveRestoreExists(existing)
        self._hooks.announce(StateChange(None, record, fields.get("reason")))
        return record

    async def _record_alone(self, record: Job) -> bool:
        """Insert one job and its first event in a transaction; False if an active restore has its name."""
        values = _to_row(record.model_dump())
        placeholders = ", ".join(f"${n}" for n in range(1, len(values) + 1))
        try:
            async with self._transaction("record the request") as connection:
                await connection.execute(
                    f"INSERT INTO jobs ({', '.join(values)}) VALUES ({placeholders})", *values.values()
                )
                await _log_event(connection, record.id, None, record.state, None, record.created_at)
        except asyncpg.UniqueViolationError as exc:
            if exc.constraint_name != _ONE_ACTIVE_PER_NAME:
                raise self._unavailable("record the request", exc) from exc
            return False
        return True

    async def _record_with_others(self, record: Job) -> bool:
        """Record a request together with those that arrive while a batch is being written: one statement for
        the lot (a burst of commands is a burst of requests, and each used to be four round trips)."""
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._to_record.append((record, answer))
        if self._recording is None:
            self._recording = asyncio.create_task(self._record_batches(), name="record restore requests")
        return await answer

    async def _record_batches(self) -> None:
        batch: list[tuple[Job, asyncio.Future[bool]]] = []
        try:
            while self._to_record:
                batch, self._to_record = self._to_record[:RECORD_BATCH], self._to_record[RECORD_BATCH:]
                try:
                    inserted = await self._insert_jobs([record for record, _ in batch])
                except StoreError as exc:  # every request of the batch hears of it
                    _answer(batch, exc)
                    continue
                for record, answer in batch:
                    if not answer.done():
                        answer.set_result(record.id in inserted)
        except BaseException as exc:  # cancelled, or a bug: nobody is left waiting for ever
            _answer(batch + self._to_record, exc)
            self._to_record = []
            raise
        finally:
            self._recording = None

    async def _insert_jobs(self, records: list[Job]) -> set[str]:
        """Insert jobs and their first events in one statement committed alone; the ids inserted. A job whose
        name an active restore holds (or that came twice) is left out. Sent once more on a new connection if
        the first died: a job that the first try had recorded after all is then left out too, and `create`
        finds it by its id."""
        rows = [_to_row(record.model_dump()) for record in records]
        rows.sort(key=lambda row: str(row["index_name"]))  # one order in every process: batches never deadlock
        columns = ", ".join(rows[0])
        document = json.dumps(rows, default=_json_value)
        statement = (
            "WITH job AS ("
            f"INSERT INTO jobs ({columns}) SELECT {columns} FROM jsonb_populate_recordset(NULL::jobs, $1::text::jsonb) "
            "ON CONFLICT DO NOTHING RETURNING id, state, created_at) "
            "INSERT INTO job_events (job_id, at, from_state, to_state, detail) "
            "SELECT id, created_at, NULL, state, NULL FROM job RETURNING job_id"
        )
        found = await self._statement("record the request", lambda connection: connection.fetch(statement, document))
        return {str(row[0]) for row in found}

    async def get(self, job_id: str) -> Job | None:
        return await self._one(f"{_SELECT_JOB} WHERE id = $1", job_id)

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
        assignments = ", ".join(f"{column} = ${n}" for n, column in enumerate(values, start=1))
        count = len(values)
        async with self._transaction("save the change") as connection:
            # With a deadline, the row is only moved while its approval deadline is after it: checked by the
            # UPDATE itself, so no expiry can slip in between a check and the change.
            in_time = f" AND (approval_expires_at IS NULL OR approval_expires_at > ${count + 3})" if deadline else ""
            row = await connection.fetchrow(
                f"UPDATE jobs SET {assignments} WHERE id = ${count + 1} AND state = ${count + 2}{in_time} "
                f"RETURNING {', '.join(COLUMNS)}",
                *values.values(),
                job_id,
                expected.value,
                *((deadline,) if deadline else ()),
            )
            if row is None:
                current = await connection.fetchrow(f"{_SELECT_JOB} WHERE id = $1", job_id)
                found = _from_row(current) if current is not None else None
                if found is not None and found.state is expected and deadline is not None:
                    raise DeadlinePassed(found)
                raise StaleJob(found, expected)
            await _log_event(connection, job_id, expected, target, fields.get("reason"), now)
            await _add_notices(connection, job_id, notices, now)
            if decision is not None:
                await connection.execute(
                    "INSERT INTO decisions (job_id, decision, by_user, at, reason) VALUES ($1, $2, $3, $4, $5)",
                    job_id,
                    decision.decision,
                    decision.by_user,
                    now,
                    decision.reason,
                )
        job = _from_row(row)
        self._hooks.announce(StateChange(expected, job, fields.get("reason"), decision))
        return job

    async def decisions(self, job_id: str) -> list[Decision]:
        async def read(connection: Connection) -> list[asyncpg.Record]:
            return await connection.fetch(
                "SELECT decision, by_user, reason, at FROM decisions WHERE job_id = $1 ORDER BY id", job_id
            )

        rows = await self._statement("be read", read)
        return [Decision(decision=r[0], by_user=r[1], reason=r[2], at=r[3]) for r in rows]

    async def update(self, job_id: str, *, notices: tuple[Notice, ...] = (), **fields: Any) -> Job:
        check_fields(fields)
        now = utcnow()
        values = _to_row({**fields, "updated_at": now})
        assignments = ", ".join(f"{column} = ${n}" for n, column in enumerate(values, start=1))
        async with self._transaction("save the change") as connection:
            row = await connection.fetchrow(
                f"UPDATE jobs SET {assignments} WHERE id = ${len(values) + 1} RETURNING {', '.join(COLUMNS)}",
                *values.values(),
                job_id,
            )
            if row is None:
                raise StoreUnavailable(f"job {job_id} does not exist")
            await _add_notices(connection, job_id, notices, now)
        return _from_row(row)

    # -- Slack delivery ------------------------------------------------------------------------------

    async def deliveries_due(self, now: datetime) -> list[DueDelivery]:
        # Light rows, every due job: the sender picks what Slack's rate limits allow this round, so a
        # busy channel never hides another channel's messages behind a LIMIT.
        # A job whose channel was given up on (slack_error) needs no parent and no redraw; one whose parent
        # is no longer redrawn (parent_error) needs no redraw. Dropped notices are never due.
        sql = f"""SELECT id, channel_id,
                       message_ts IS NULL AND slack_error IS NULL AND state IN ({THREADED_SQL}) AS needs_parent,
                       message_ts IS NOT NULL AND parent_dirty AND slack_error IS NULL
                           AND parent_error IS NULL AS parent_dirty,
                       EXISTS (SELECT 1 FROM notices WHERE job_id = jobs.id AND sent_at IS NULL AND dropped_at IS NULL
                               AND (next_attempt_at IS NULL OR next_attempt_at <= $1)) AS notice_due
                FROM jobs WHERE id IN (
                    SELECT id FROM jobs WHERE message_ts IS NULL AND slack_error IS NULL AND state IN ({THREADED_SQL})
                    UNION SELECT id FROM jobs WHERE parent_dirty AND slack_error IS NULL AND parent_error IS NULL
                          AND message_ts IS NOT NULL
                    UNION SELECT job_id FROM notices WHERE sent_at IS NULL AND dropped_at IS NULL
                          AND (next_attempt_at IS NULL OR next_attempt_at <= $1))
                ORDER BY updated_at, seq"""

        async def read(connection: Connection) -> list[asyncpg.Record]:
            return await connection.fetch(sql, now)

        rows = await self._statement("be read", read)
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
        async with self._transaction("save a delivery") as connection:
            claimed = await connection.fetchval(
                "UPDATE jobs SET parent_dirty = false WHERE id = $1 AND parent_dirty RETURNING true", job_id
            )
        return claimed is True

    async def claim_parent_post(self, job_id: str, *, seen: datetime | None, now: datetime) -> bool:
        claimed = await self._write(
            "save a delivery",
            "UPDATE jobs SET parent_posting_since = $1, updated_at = $2 WHERE id = $3 AND message_ts IS NULL "
            "AND slack_error IS NULL AND parent_posting_since IS NOT DISTINCT FROM $4 RETURNING true",
            now,
            utcnow(),
            job_id,
            seen,
        )
        return claimed is True

    async def claim_notice(self, notice_id: int, *, seen: datetime | None, now: datetime) -> bool:
        claimed = await self._write(
            "save a delivery",
            "UPDATE notices SET sending_since = $1 WHERE id = $2 AND sent_at IS NULL AND dropped_at IS NULL "
            "AND sending_since IS NOT DISTINCT FROM $3 RETURNING true",
            now,
            notice_id,
            seen,
        )
        return claimed is True

    async def pending_notices(self, job_id: str) -> list[PendingNotice]:
        async def read(connection: Connection) -> list[asyncpg.Record]:
            return await connection.fetch(
                "SELECT id, job_id, kind, milestone, detail, created_at, attempts, sending_since, next_attempt_at "
                "FROM notices WHERE job_id = $1 AND sent_at IS NULL AND dropped_at IS NULL ORDER BY id",
                job_id,
            )

        rows = await self._statement("be read", read)
        return [
            PendingNotice(
                id=row["id"],
                job_id=row["job_id"],
                kind=row["kind"],
                milestone=row["milestone"],
                detail=row["detail"],
                created_at=row["created_at"],
                attempts=row["attempts"],
                sending_since=row["sending_since"],
                next_attempt_at=row["next_attempt_at"],
            )
            for row in rows
        ]

    async def notice_sending(self, notice_id: int) -> None:
        await self._set_notice(notice_id, "sending_since = $2", utcnow())

    async def notice_sent(self, notice_id: int) -> None:
        await self._set_notice(notice_id, "sent_at = $2, sending_since = NULL", utcnow())

    async def notice_failed(self, notice_id: int, retry_at: datetime, error: str, *, maybe_sent: bool = False) -> None:
        kept = "" if maybe_sent else ", sending_since = NULL"
        await self._set_notice(
            notice_id,
            f"attempts = attempts + 1, next_attempt_at = $2{kept}, last_error = $3",
            retry_at,
            error,
        )

    async def notice_dropped(self, notice_id: int, error: str) -> None:
        await self._set_notice(notice_id, "dropped_at = $2, sending_since = NULL, last_error = $3", utcnow(), error)

    async def lose_channel(self, job_id: str, error: str, notice: Notice | None = None) -> bool:
        now = utcnow()
        async with self._transaction("save a delivery") as connection:
            lost = await connection.fetchval(
                "UPDATE jobs SET slack_error = $1, parent_dirty = false, updated_at = $2 "
                "WHERE id = $3 AND slack_error IS NULL RETURNING true",
                error,
                now,
                job_id,
            )
            if lost is not True:
                return False
            await _add_notices(connection, job_id, (notice,) if notice is not None else (), now)
        return True

    async def _set_notice(self, notice_id: int, assignments: str, *values: Any) -> None:
        async with self._transaction("save a delivery") as connection:
            await connection.execute(f"UPDATE notices SET {assignments} WHERE id = $1", notice_id, *values)

    # -- Slack request de-duplication ------------------------------------------------------------------

    async def record_deliveries(
        self, keys: list[str], *, forget_before: datetime | None = None, holder: str | None = None
    ) -> None:
        """Record Slack delivery keys; with `forget_before`, forget those older than that in the same
        transaction. A key another process recorded first is left as it is."""
        record = (
            "INSERT INTO slack_deliveries (key, received_at, holder) "
            "SELECT key, $2, $3 FROM unnest($1::text[]) AS key ORDER BY key ON CONFLICT (key) DO NOTHING"
        )
        # In one order in every process: two batches sharing keys never deadlock.
        params = (sorted(set(keys)), utcnow(), holder)
        if forget_before is None and self._fence is None:
            # Recording a key twice records it once: one statement, sent again on a new connection if need be.
            await self._statement("record Slack deliveries", lambda connection: connection.execute(record, *params))
            return
        async with self._transaction("record Slack deliveries") as connection:
            await connection.execute(record, *params)
            if forget_before is not None:
                await connection.execute("DELETE FROM slack_deliveries WHERE received_at < $1", forget_before)

    async def claim_deliveries(
        self, keys: Collection[str], *, holder: str, now: datetime, forget_before: datetime | None = None
    ) -> set[str]:
        # A row may be affected once per statement; and in one order in every process, so that two batches
        # sharing keys wait for each other instead of deadlocking.
        unique = sorted(set(keys))
        # A key this process recorded first (in a batch, or in a first try whose answer was lost) is still its
        # own to work on: sending the claim twice claims nothing twice.
        claim = (
            "INSERT INTO slack_deliveries (key, received_at, holder) "
            "SELECT key, $2, $3 FROM unnest($1::text[]) AS key ORDER BY key ON CONFLICT (key) "
            "DO UPDATE SET holder = slack_deliveries.holder WHERE slack_deliveries.holder = EXCLUDED.holder "
            "RETURNING key"
        )
        if forget_before is None and self._fence is None:
            # On the path of every command in a burst: one round trip.
            rows = await self._statement("record Slack deliveries", lambda c: c.fetch(claim, unique, now, holder))
            return {str(row[0]) for row in rows}
        async with self._transaction("record Slack deliveries") as connection:
            rows = await connection.fetch(claim, unique, now, holder)
            if forget_before is not None:
                await connection.execute("DELETE FROM slack_deliveries WHERE received_at < $1", forget_before)
        return {str(row[0]) for row in rows}

    async def delivery_keys_since(self, since: datetime) -> set[str]:
        async def read(connection: Connection) -> list[asyncpg.Record]:
            return await connection.fetch("SELECT key FROM slack_deliveries WHERE received_at >= $1", since)

        return {str(row[0]) for row in await self._statement("be read", read)}

    # -- queries -------------------------------------------------------------------------------------

    async def active_jobs(self) -> list[Job]:
        return await self._many(f"{_SELECT_JOB} WHERE state IN ({ACTIVE_SQL}) ORDER BY created_at, seq")

    async def latest_for_index(self, index_name: str) -> Job | None:
        return await self._one(
            f"{_SELECT_JOB} WHERE index_name = $1 ORDER BY created_at DESC, seq DESC LIMIT 1", index_name
        )

    async def recent_jobs(
        self, *, index_name: str | None = None, requester_id: str | None = None, limit: int = 20
    ) -> list[Job]:
        """Newest first, optionally for one target name or one requester."""
        return await self._many(
            f"{_SELECT_JOB} WHERE ($1::text IS NULL OR index_name = $1) AND ($2::text IS NULL OR requester_id = $2) "
            "ORDER BY created_at DESC, seq DESC LIMIT $3",
            index_name,
            requester_id,
            limit,
        )

    async def recent_in_channel(self, channel_id: str, limit: int = 10) -> list[Job]:
        return await self._many(
            f"{_SELECT_JOB} WHERE channel_id = $1 ORDER BY created_at DESC, seq DESC LIMIT $2", channel_id, limit
        )

    async def events(self, job_id: str) -> list[tuple[str | None, str, str | None]]:
        """(from_state, to_state, detail) in order: the job's history."""

        async def read(connection: Connection) -> list[asyncpg.Record]:
            return await connection.fetch(
                "SELECT from_state, to_state, detail FROM job_events WHERE job_id = $1 ORDER BY id", job_id
            )

        return [(row[0], row[1], row[2]) for row in await self._statement("be read", read)]

    async def restore_job_owner(self, restore_job_id: str, *, other_than: str) -> Job | None:
        """The job, other than `other_than`, that already holds this Pinecone restore job, if any."""
        return await self._one(
            f"{_SELECT_JOB} WHERE restore_job_id = $1 AND id != $2 ORDER BY created_at, seq LIMIT 1",
            restore_job_id,
            other_than,
        )

    async def _active_for_name(self, index_name: str) -> Job | None:
        return await self._one(f"{_SELECT_JOB} WHERE index_name = $1 AND state IN ({ACTIVE_SQL})", index_name)

    async def _one(self, sql: str, *params: Any) -> Job | None:
        rows = await self._many(sql, *params)
        return rows[0] if rows else None

    async def _many(self, sql: str, *params: Any) -> list[Job]:
        async def read(connection: Connection) -> list[asyncpg.Record]:
            return await connection.fetch(sql, *params)

        return [_from_row(row) for row in await self._statement("be read", read)]


async def _log_event(
    connection: Connection,
    job_id: str,
    from_state: JobState | None,
    to_state: JobState,
    detail: str | None,
    at: datetime,
) -> None:
    await connection.execute(
        "INSERT INTO job_events (job_id, at, from_state, to_state, detail) VALUES ($1, $2, $3, $4, $5)",
        job_id,
        at,
        from_state.value if from_state else None,
        to_state.value,
        detail,
    )


async def _add_notices(connection: Connection, job_id: str, notices: tuple[Notice, ...], at: datetime) -> None:
    if notices:
        await connection.executemany(
            "INSERT INTO notices (job_id, kind, milestone, detail, created_at) VALUES ($1, $2, $3, $4, $5)",
            [(job_id, notice.kind.value, notice.milestone, notice.detail, at) for notice in notices],
        )


def _answer(waiting: list[tuple[Job, asyncio.Future[bool]]], error: BaseException) -> None:
    for _, answer in waiting:
        if not answer.done():
            answer.set_exception(error if isinstance(error, Exception) else StoreUnavailable("the store is closing"))


def _json_value(value: object) -> str:
    """A row's values in JSON, as jsonb_populate_recordset reads them into the columns' types."""
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} into a job row")


def _to_row(values: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in values.items():
        if key == "approvers":
            row[key] = list(value)
        elif hasattr(value, "value"):  # enums (JobState, ...)
            row[key] = value.value
        else:
            row[key] = value
    return row


def _from_row(record: asyncpg.Record) -> Job:
    row = dict(record)
    row["approvers"] = tuple(row["approvers"])
    return Job.model_validate(row)
