"""The PostgreSQL store's own guarantees, against a real server: several processes (here: several stores,
each with its own pool) on one database, migrations under a lock, outages, and a password that no message
ever shows. The behaviour both stores share is tested in test_store.py, on both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from urllib.parse import quote

import asyncpg
import pytest
import pytest_asyncio

from bot.core.jobs import Job, JobState, NewJob, Notice, NoticeKind, utcnow
from storage import ActiveRestoreExists, PostgresJobStore, StaleJob, StoreUnavailable, open_store
from storage.postgres.postgres_migrations import MIGRATIONS
from storage.postgres.postgres_store import open_postgres_store
from tests.fakes.postgres_server import APP_USER, PostgresServer, free_port
from tests.fakes.tcp_proxy import SeveringProxy


def new_job(name: str = "restored-index") -> NewJob:
    return NewJob(
        backup_id="670e8400-e29b-41d4-a716-446655440000",
        index_name=name,
        tags={"env": "prod"},
        requester_id="U0ALICE01",
        channel_id="C0RESTORE1",
    )


def password_of(url: str) -> str:
    return url.split("://", 1)[1].split("@", 1)[0].split(":", 1)[1]


@pytest_asyncio.fixture
async def two_stores(postgres_url: str) -> AsyncIterator[tuple[PostgresJobStore, PostgresJobStore]]:
    """Two stores on one database, as two bot processes would have: two pools, no shared memory."""
    one = await open_postgres_store(postgres_url)
    two = await open_postgres_store(postgres_url)
    try:
        yield one, two
    finally:
        await one.close()
        await two.close()


@pytest_asyncio.fixture
async def raw(postgres_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to the test's database, to look at it or hold its locks."""
    connection = await asyncpg.connect(postgres_url)
    try:
        yield connection
    finally:
        await connection.close()


_WAITING_ON_LOCKS = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def until_waiting_on_locks(url: str, count: int) -> None:
    """Until `count` sessions wait on a lock in this database (PostgreSQL has no notification for it). Asked on
    a connection of its own, outside any transaction: pg_stat_activity is read once per transaction."""
    watcher = await asyncpg.connect(url)
    try:
        async with asyncio.timeout(10):
            while await watcher.fetchval(_WAITING_ON_LOCKS) < count:  # noqa: ASYNC110 - nothing to await instead
                await asyncio.sleep(0.005)
    finally:
        await watcher.close()


# -- the schema ------------------------------------------------------------------------------------------


async def test_an_empty_database_is_migrated_to_typed_tables_and_the_version_recorded(
    postgres_url: str, raw: asyncpg.Connection
) -> None:
    store = await open_store(postgres_url)
    try:
        assert await store.schema_version() == len(MIGRATIONS)
    finally:
        await store.close()
    versions = await raw.fetch("SELECT version FROM schema_migrations ORDER BY version")
    assert [row["version"] for row in versions] == list(range(1, len(MIGRATIONS) + 1))
    types = {
        row["column_name"]: row["data_type"]
        for row in await raw.fetch(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'jobs'"
        )
    }
    assert types["created_at"] == "timestamp with time zone"
    assert types["deletion_protection"] == "boolean" and types["verified"] == "boolean"
    assert types["tags"] == "jsonb" and types["approvers"] == "jsonb"
    assert types["percent_complete"] == "double precision"
    [unique] = await raw.fetch("SELECT indexdef FROM pg_indexes WHERE indexname = 'jobs_one_active_per_name'")
    assert "UNIQUE" in unique["indexdef"] and "WHERE" in unique["indexdef"], "a partial unique index"


async def test_stores_opened_at_once_on_an_empty_database_migrate_it_once(
    postgres_url: str, raw: asyncpg.Connection
) -> None:
    stores = await asyncio.gather(*(open_store(postgres_url) for _ in range(4)))
    try:
        assert [await store.schema_version() for store in stores] == [len(MIGRATIONS)] * 4
        job = await stores[0].create(new_job())
        assert await stores[3].get(job.id) == job
    finally:
        for store in stores:
            await store.close()
    rows = await raw.fetch("SELECT version, count(*) AS n FROM schema_migrations GROUP BY version ORDER BY version")
    assert [(row["version"], row["n"]) for row in rows] == [(v, 1) for v in range(1, len(MIGRATIONS) + 1)]


async def test_a_migration_waits_for_one_in_progress(postgres_url: str, raw: asyncpg.Connection) -> None:
    # Another process is migrating: it holds the lock. Opening waits for it instead of migrating beside it.
    await raw.execute("BEGIN")
    await raw.execute("SELECT pg_advisory_xact_lock($1)", 0x72626F74_2D6D6967)
    opening = asyncio.create_task(open_store(postgres_url))
    await until_waiting_on_locks(postgres_url, 1)
    assert not opening.done()
    await raw.execute("COMMIT")
    store = await opening
    try:
        assert await store.schema_version() == len(MIGRATIONS)
    finally:
        await store.close()


# -- several stores on one database ------------------------------------------------------------------------


async def test_two_stores_racing_to_create_one_target_name_make_one_job(
    two_stores: tuple[PostgresJobStore, PostgresJobStore], raw: asyncpg.Connection, postgres_url: str
) -> None:
    one, two = two_stores
    # An uncommitted active job holds the name: both inserts wait on the unique index, then race.
    blocker = await one.create(new_job("blocker"))
    await raw.execute("BEGIN")
    await raw.execute(
        "INSERT INTO jobs (id, state, backup_id, index_name, requester_id, channel_id, created_at, updated_at) "
        "VALUES ('held', 'requested', 'b', 'prod-search', 'U0ALICE01', 'C0RESTORE1', now(), now())"
    )
    racing = [asyncio.create_task(store.create(new_job("prod-search"))) for store in (one, two)]
    await until_waiting_on_locks(postgres_url, 2)
    await raw.execute("ROLLBACK")
    results = await asyncio.gather(*racing, return_exceptions=True)
    created = [r for r in results if isinstance(r, Job)]
    refused = [r for r in results if isinstance(r, ActiveRestoreExists)]
    assert len(created) == 1 and len(refused) == 1, results
    assert refused[0].existing.id == created[0].id
    assert [job.id for job in await two.active_jobs()] == [blocker.id, created[0].id]


async def test_many_creates_from_two_stores_for_one_name_make_one_job(
    two_stores: tuple[PostgresJobStore, PostgresJobStore],
) -> None:
    one, two = two_stores
    results = await asyncio.gather(
        *(store.create(new_job()) for _ in range(10) for store in (one, two)), return_exceptions=True
    )
    created = [r for r in results if isinstance(r, Job)]
    refused = [r for r in results if isinstance(r, ActiveRestoreExists)]
    assert len(created) == 1 and len(refused) == 19, results
    assert {r.existing.id for r in refused} == {created[0].id}


async def test_requests_recorded_together_are_each_told_their_own_outcome(
    two_stores: tuple[PostgresJobStore, PostgresJobStore], raw: asyncpg.Connection
) -> None:
    # Requests that arrive together are written in one statement: the taken name is refused with the restore
    # that holds it, the same name asked twice in the batch is recorded once, every other request is recorded
    # with its first audit event.
    one, two = two_stores
    holder = await two.create(new_job("taken"))
    names = ["free-a", "taken", "twice", "free-b", "twice"]
    results = await asyncio.gather(*(one.create(new_job(name)) for name in names), return_exceptions=True)
    outcome = {
        position: (r.index_name if isinstance(r, Job) else f"refused for {r.existing.index_name}")
        for position, r in enumerate(results)
        if isinstance(r, Job | ActiveRestoreExists)
    }
    assert outcome == {
        0: "free-a",
        1: "refused for taken",
        2: "twice",
        3: "free-b",
        4: "refused for twice",
    }, results
    refused_taken = results[1]
    assert isinstance(refused_taken, ActiveRestoreExists) and refused_taken.existing.id == holder.id
    recorded = [r for r in results if isinstance(r, Job)]
    for job in recorded:
        assert await two.get(job.id) == job
        events = await raw.fetch("SELECT from_state, to_state FROM job_events WHERE job_id = $1", job.id)
        assert [tuple(e) for e in events] == [(None, "requested")]


async def test_two_stores_racing_a_transition_one_wins(
    two_stores: tuple[PostgresJobStore, PostgresJobStore], raw: asyncpg.Connection, postgres_url: str
) -> None:
    one, two = two_stores
    job = await one.create(new_job())
    # Hold the row so that both compare-and-set updates are waiting when it is released.
    await raw.execute("BEGIN")
    await raw.execute("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", job.id)
    submitting = asyncio.create_task(
        one.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING, notices=(Notice(kind=NoticeKind.STARTED),))
    )
    rejecting = asyncio.create_task(
        two.transition(
            job.id,
            JobState.REQUESTED,
            JobState.REJECTED,
            reason="the backup is gone",
            notices=(Notice(kind=NoticeKind.REJECTED),),
        )
    )
    await until_waiting_on_locks(postgres_url, 2)
    await raw.execute("COMMIT")
    results = await asyncio.gather(submitting, rejecting, return_exceptions=True)
    won = [r for r in results if isinstance(r, Job)]
    lost = [r for r in results if isinstance(r, StaleJob)]
    assert len(won) == 1 and len(lost) == 1, results
    assert lost[0].job is not None and lost[0].job.state is won[0].state
    assert await two.get(job.id) == won[0]
    history = await one.events(job.id)
    assert history == [(None, "requested", None), history[1]] and history[1][1] == won[0].state.value
    [notice] = await one.pending_notices(job.id)
    expected_kind = NoticeKind.STARTED if won[0].state is JobState.SUBMITTING else NoticeKind.REJECTED
    assert notice.kind is expected_kind, "only the winner's notice is recorded"


async def test_a_parent_redraw_is_claimed_by_one_store(two_stores: tuple[PostgresJobStore, PostgresJobStore]) -> None:
    one, two = two_stores
    job = await one.create(new_job())
    job = await one.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING)
    job = await one.transition(job.id, JobState.SUBMITTING, JobState.RESTORING)
    await one.update(job.id, message_ts="1795560000.000100")
    claims = await asyncio.gather(*(store.claim_parent_redraw(job.id) for _ in range(5) for store in (one, two)))
    assert sorted(claims) == [False] * 9 + [True]


async def test_slack_delivery_keys_from_two_stores_are_kept_once(
    two_stores: tuple[PostgresJobStore, PostgresJobStore], raw: asyncpg.Connection
) -> None:
    one, two = two_stores
    long_ago = utcnow() - timedelta(days=2)
    # A Slack retry reaching the other process: the same key from both, at once.
    await asyncio.gather(
        one.record_deliveries(["trigger_id:1", "event_id:Ev1"], forget_before=long_ago),
        two.record_deliveries(["event_id:Ev1", "trigger_id:2", "trigger_id:2"], forget_before=long_ago),
    )
    assert await two.delivery_keys_since(long_ago) == {"trigger_id:1", "trigger_id:2", "event_id:Ev1"}
    assert await raw.fetchval("SELECT count(*) FROM slack_deliveries") == 3


async def test_the_pool_is_bounded(postgres_url: str, raw: asyncpg.Connection) -> None:
    store = await open_store(postgres_url, pool_size=3)
    try:
        stats = store.pool_stats()
        assert stats is not None and (stats.min_size, stats.max_size) == (2, 3)
        await store.create(new_job())
        reads = await asyncio.gather(*(store.active_jobs() for _ in range(30)))
        assert all(len(jobs) == 1 for jobs in reads)
        connections = await raw.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND usename = $1 "
            "AND pid <> pg_backend_pid()",
            APP_USER,
        )
        assert connections <= 3
        stats = store.pool_stats()
        assert stats is not None and stats.in_use == 0 and 1 <= stats.idle <= 3
    finally:
        await store.close()


# -- outages -----------------------------------------------------------------------------------------------


async def test_while_the_database_is_down_calls_are_unavailable_and_after_it_they_work(
    own_postgres_server: PostgresServer,
) -> None:
    server = own_postgres_server
    url = server.url(await server.create_database())
    store = await open_store(url)
    try:
        job = await store.create(new_job())
        assert await store.ping() is True

        await server.stop_async()
        assert await store.ping() is False
        with pytest.raises(StoreUnavailable) as reading:
            await store.get(job.id)
        with pytest.raises(StoreUnavailable) as writing:
            await store.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING)
        for raised in (reading, writing):
            assert password_of(url) not in str(raised.value)
            assert f"127.0.0.1:{server.port}" in str(raised.value)

        await server.start_async()
        assert await store.ping() is True
        assert await store.get(job.id) == job, "nothing was changed during the outage"
        moved = await store.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING)
        assert moved.state is JobState.SUBMITTING
        assert (await store.create(new_job("after-the-outage"))).state is JobState.REQUESTED
    finally:
        await store.close()


async def test_after_a_restart_the_pool_replaces_its_dead_connections(own_postgres_server: PostgresServer) -> None:
    server = own_postgres_server
    url = server.url(await server.create_database())
    store = await open_store(url)
    try:
        job = await store.create(new_job())
        stats = store.pool_stats()
        assert stats is not None and stats.idle >= 2, "idle connections that the restart will cut"
        await server.restart_async()
        # The first calls after the restart work: no caller sees the connections the restart cut.
        assert await store.get(job.id) == job
        moved = await store.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING)
        assert moved.state is JobState.SUBMITTING
        assert [j.id for j in await store.active_jobs()] == [job.id]
    finally:
        await store.close()


# -- the password ------------------------------------------------------------------------------------------


async def test_no_error_names_the_password(postgres_server: PostgresServer, postgres_url: str) -> None:
    # A password that URLs must encode: neither its written nor its decoded form may show.
    password = "s3cret:p@ss/w%rd"
    role = "restore_bot_odd"
    admin = await asyncpg.connect(postgres_server.superuser_url())
    try:
        await admin.execute(f"DROP ROLE IF EXISTS {role}")
        await admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
    finally:
        await admin.close()
    written = quote(password, safe="")
    database = postgres_url.rsplit("/", 1)[1]
    good = f"postgresql://{role}:{written}@127.0.0.1:{postgres_server.port}/{database}"
    wrong_password = f"postgresql://{APP_USER}:{written}@127.0.0.1:{postgres_server.port}/{database}"
    nothing_there = f"postgresql://{APP_USER}:{written}@127.0.0.1:{free_port()}/{database}"
    no_database = f"postgres://{role}:{written}@127.0.0.1:{postgres_server.port}/no_such_database"

    for url, says in (
        (wrong_password, "password authentication failed"),
        (nothing_there, "cannot connect"),
        (no_database, "does not exist"),
    ):
        with pytest.raises(StoreUnavailable) as raised:
            await open_store(url)
        message = str(raised.value)
        assert says in message, message
        assert password not in message and written not in message, message
        assert raised.value.__cause__ is None or password not in str(raised.value.__cause__)

    # It connects with the odd password (so the URL was read right), but the role may not create tables.
    with pytest.raises(StoreUnavailable) as refused:
        await open_store(good)
    assert "permission denied" in str(refused.value) and password not in str(refused.value)
    assert written not in str(refused.value)


async def test_connections_that_died_silently_are_replaced_on_first_use(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    # A failover or a dropped NAT entry: the pool's connections are dead, and the client does not know yet.
    async with SeveringProxy(postgres_server.port) as proxy:
        store = await open_store(postgres_url.replace(f":{postgres_server.port}/", f":{proxy.port}/"), pool_size=2)
        try:
            job = await store.create(new_job())
            proxy.sever_silently()
            assert await store.get(job.id) == job, "a read is answered on a new connection"
            assert proxy.resets >= 1, "it did meet a dead connection first"
            proxy.sever_silently()
            resets = proxy.resets
            moved = await store.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING)
            assert moved.state is JobState.SUBMITTING, "a write is begun again on a new connection"
            assert proxy.resets > resets
            proxy.sever_silently()
            resets = proxy.resets
            assert await store.ping() is True
            assert proxy.resets > resets
            proxy.sever_silently()
            resets = proxy.resets
            created = await store.create(new_job("after-the-cut"))
            assert proxy.resets > resets, "the request is recorded on a new connection"
            assert await store.get(created.id) == created
        finally:
            await store.close()


async def test_a_request_whose_answer_was_lost_after_it_was_recorded_is_recorded_once(
    postgres_server: PostgresServer, postgres_url: str, raw: asyncpg.Connection
) -> None:
    # The INSERT committed, then the connection died before its answer came back: the store sends it again on a
    # new connection, meets its own job there, and says the request is recorded (not "already running").
    async with SeveringProxy(postgres_server.port) as proxy:
        store = await open_store(postgres_url.replace(f":{postgres_server.port}/", f":{proxy.port}/"), pool_size=2)
        try:
            proxy.lose_the_answer(b"INSERT 0 1")
            job = await store.create(new_job("answer-lost"))
            assert proxy.lost_answers == 1
            assert await store.get(job.id) == job
        finally:
            await store.close()
    assert await raw.fetchval("SELECT count(*) FROM jobs WHERE index_name = 'answer-lost'") == 1
    assert await raw.fetchval("SELECT count(*) FROM job_events WHERE job_id = $1", job.id) == 1


async def test_a_claim_whose_answer_was_lost_is_still_this_process_s_claim(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    # The claim committed, the answer never came: sent again on a new connection, the keys are still ours, and
    # another process claiming them gets none.
    now = utcnow()
    other = await open_store(postgres_url)
    async with SeveringProxy(postgres_server.port) as proxy:
        store = await open_store(postgres_url.replace(f":{postgres_server.port}/", f":{proxy.port}/"), pool_size=2)
        try:
            proxy.lose_the_answer(b"INSERT 0 2")
            claimed = await store.claim_deliveries(["trigger_id:A", "trigger_id:B"], holder="replica-1", now=now)
            assert proxy.lost_answers == 1
            assert claimed == {"trigger_id:A", "trigger_id:B"}
            assert await other.claim_deliveries(["trigger_id:A", "trigger_id:B"], holder="replica-2", now=now) == set()
        finally:
            await store.close()
            await other.close()
