"""Which bot process leads the background work on PostgreSQL, and the nudges between the processes.

The leader holds a session-level advisory lock (`pg_try_advisory_lock`) on a connection of its own, outside
the pool. PostgreSQL releases the lock when that session ends, however it ends: the process was killed
(`kill -9`: the kernel closes its sockets and the server sees the connection go at once), the server
restarted, or the connection was cut (the server notices through TCP keepalives, set short here). A process
that loses its lock connection loses its leadership at that moment (`on_lost` is told) and contends again.

Each new leader bumps the epoch in the `leadership` table on that connection. The bump is an UPDATE of the
one row that fenced writes read `FOR SHARE` (storage/postgres/postgres_store.py), so it waits for the fenced
writes under way and every fenced write after it sees the new epoch: an ex-leader's late write is refused.

The lock is keyed by the schema the bot's tables are in (`current_schema()`), so two deployments in two
schemas of one database each have a leader.

The same connection LISTENs on the channel `restore_bot.<schema>`; `publish` is a `pg_notify` through the
pool. Notifications are best effort (one sent while a listener reconnects is lost): what they say is also
found by polling, only later.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg

from storage.common import LEADERSHIP, Subscribers
from storage.postgres.postgres_errors import DATABASE_ERRORS, OPEN_ERRORS, describe

if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record]
    Pool: TypeAlias = asyncpg.Pool[asyncpg.Record]

log = logging.getLogger("storage")

#: The advisory lock's first key ("rbot"); the second is derived from the schema's name.
LOCK_CLASS = 0x72626F74
CHANNEL_PREFIX = "restore_bot."
CONNECT_TIMEOUT = 10.0
#: How long a statement on the lock connection may take (the epoch bump waits for fenced writes under way).
STATEMENT_TIMEOUT = 10.0
#: How long the leader's "do I still hold it?" may take before the connection is given up as dead.
CHECK_TIMEOUT = 5.0
#: The server notices a lock connection that went silent (its host lost the network) after about
#: idle + interval x count seconds, and then releases the lock.
KEEPALIVES = {"tcp_keepalives_idle": "5", "tcp_keepalives_interval": "2", "tcp_keepalives_count": "3"}
_CHANNEL_SQL = f"left('{CHANNEL_PREFIX}' || coalesce(current_schema(), ''), 63)"
_BUMP = (
    "INSERT INTO leadership (name, epoch, holder, since) VALUES ($1, 1, $2, now()) "
    "ON CONFLICT (name) DO UPDATE SET epoch = leadership.epoch + 1, holder = EXCLUDED.holder, "
    "since = EXCLUDED.since RETURNING epoch"
)
_HOLDS_LOCK = (
    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
    "AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 2 AND granted)"
)


def schema_key(schema: str) -> int:
    """The advisory lock's second key for a schema: a non-negative 32-bit number."""
    return zlib.crc32(schema.encode()) & 0x7FFFFFFF


class PostgresCoordination:
    def __init__(self, url: str, pool: Pool, *, holder: str, where: str, secrets: list[str]) -> None:
        self._url = url
        self._pool = pool
        self._holder = holder
        self._where = where
        self._secrets = secrets
        # One statement at a time on the lock connection.
        self._lock = asyncio.Lock()
        self._connection: Connection | None = None
        self._key = 0
        self._epoch: int | None = None
        self._on_lost: list[Callable[[], None]] = []
        self._subscribers = Subscribers()

    @property
    def epoch(self) -> int | None:
        return self._epoch

    def on_lost(self, callback: Callable[[], None]) -> None:
        self._on_lost.append(callback)

    def subscribe(self, subscriber: Callable[[str, str], None]) -> None:
        self._subscribers.add(subscriber)

    # -- the lock connection --------------------------------------------------------------------------

    async def _connected(self) -> Connection:
        """The lock connection, listening; a new one if there is none (held: self._lock)."""
        if self._connection is not None and not self._connection.is_closed():
            return self._connection
        self._connection = None
        connection: Connection = await asyncpg.connect(
            self._url,
            timeout=CONNECT_TIMEOUT,
            command_timeout=STATEMENT_TIMEOUT,
            server_settings={"application_name": f"restore-bot leadership {self._holder}"[:63], **KEEPALIVES},
        )
        try:
            schema = str(await connection.fetchval("SELECT coalesce(current_schema(), '')"))
            channel = str(await connection.fetchval(f"SELECT {_CHANNEL_SQL}"))
            await connection.add_listener(channel, self._heard)
        except BaseException:
            connection.terminate()
            raise
        connection.add_termination_listener(self._terminated)
        self._key = schema_key(schema)
        self._connection = connection
        return connection

    def _heard(self, connection: Any, pid: int, channel: str, payload: object) -> None:
        topic, _, detail = str(payload).partition(":")
        self._subscribers.tell(topic, detail)

    def _terminated(self, connection: Any) -> None:
        if connection is not self._connection:
            return
        self._connection = None
        if self._epoch is not None:
            log.warning("the leadership connection to %s closed: this process no longer leads", self._where)
            self._lose()

    def _lose(self) -> None:
        self._epoch = None
        for callback in self._on_lost:
            try:
                callback()
            except Exception:
                log.exception("a leadership-lost callback failed")

    def _drop(self) -> None:
        """Close the lock connection at once (the server then releases the lock)."""
        connection, self._connection = self._connection, None
        if connection is not None and not connection.is_closed():
            connection.terminate()

    def _failed(self, doing: str, error: BaseException) -> None:
        log.warning("leadership: could not %s at %s: %s", doing, self._where, describe(error, self._secrets))

    # -- leading ----------------------------------------------------------------------------------------

    async def try_lead(self) -> int | None:
        async with self._lock:
            if self._epoch is not None:
                return self._epoch
            try:
                connection = await self._connected()
                if not await connection.fetchval("SELECT pg_try_advisory_lock($1, $2)", LOCK_CLASS, self._key):
                    return None
                try:
                    epoch = int(await connection.fetchval(_BUMP, LEADERSHIP, self._holder))
                except BaseException:
                    self._drop()  # and with it the lock: never hold it without a new epoch
                    raise
            except OPEN_ERRORS as exc:
                self._failed("contend for the background work", exc)
                self._drop()
                return None
            self._epoch = epoch
            return epoch

    async def still_leading(self) -> bool:
        if self._epoch is None:
            return False
        async with self._lock:
            connection = self._connection
            if self._epoch is None:
                return False
            if connection is None or connection.is_closed():
                self._lose()
                return False
            try:
                held = bool(await connection.fetchval(_HOLDS_LOCK, LOCK_CLASS, self._key, timeout=CHECK_TIMEOUT))
            except DATABASE_ERRORS as exc:
                self._failed("check its leadership", exc)
                held = False
            if not held:
                self._drop()
                self._lose()
            return held

    async def resign(self) -> None:
        async with self._lock:
            if self._epoch is None:
                return
            self._epoch = None
            connection = self._connection
            if connection is None:
                return
            try:
                await connection.execute("SELECT pg_advisory_unlock($1, $2)", LOCK_CLASS, self._key)
            except DATABASE_ERRORS:
                self._drop()

    # -- nudges -----------------------------------------------------------------------------------------

    async def listen(self) -> bool:
        async with self._lock:
            try:
                await self._connected()
            except OPEN_ERRORS as exc:
                self._failed("listen", exc)
                self._drop()
                return False
            return True

    async def publish(self, topic: str, payload: str = "") -> None:
        message = f"{topic}:{payload}" if payload else topic
        try:
            async with self._pool.acquire(timeout=CONNECT_TIMEOUT) as connection:
                await connection.execute(f"SELECT pg_notify({_CHANNEL_SQL}, $1)", message)
        except DATABASE_ERRORS as exc:
            self._failed(f"publish {topic}", exc)

    async def close(self) -> None:
        async with self._lock:
            self._epoch = None
            connection, self._connection = self._connection, None
            if connection is not None and not connection.is_closed():
                try:
                    await asyncio.wait_for(connection.close(), CHECK_TIMEOUT)
                except DATABASE_ERRORS:
                    connection.terminate()
