"""The job store on a real SQLite file and a real PostgreSQL database: migrations, the one-active-restore
constraint, transitions, the Slack outbox and de-duplication.

Tests taking `store` or `database_url` run once per store (`[sqlite]`, `[postgresql]`) with the same
assertions; those opening a SQLite file themselves are about SQLite alone (PostgreSQL's own are in
test_postgres_store.py).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.core.jobs import Decision, InvalidTransition, Job, JobState, NewJob, Notice, NoticeKind, utcnow
from bot.service.seen_deliveries import FORGET_EVERY, SeenDeliveries
from storage import (
    ActiveRestoreExists,
    PostgresJobStore,
    SqliteJobStore,
    StaleJob,
    StoreError,
    StoreUnavailable,
    open_store,
)
from storage.base import DeadlinePassed
from storage.postgres.postgres_migrations import MIGRATIONS as POSTGRES_MIGRATIONS
from storage.sqlite.sqlite_migrations import MIGRATIONS
from storage.stores import sqlite_path, store_kind

AnyStore = SqliteJobStore | PostgresJobStore


def new_job(name: str = "restored-index", channel: str = "C0RESTORE1") -> NewJob:
    return NewJob(
        backup_id="670e8400-e29b-41d4-a716-446655440000",
        index_name=name,
        tags={"env": "prod", "team": "search infra"},
        deletion_protection=True,
        requester_id="U0ALICE01",
        channel_id=channel,
    )


@pytest.fixture
async def store(database_url: str) -> AnyStore:
    store = await open_store(database_url)
    yield store
    await store.close()


async def stamp_a_newer_schema(database_url: str) -> None:
    """Make the database say it was migrated by a newer bot."""
    if store_kind(database_url) == "sqlite":
        with sqlite3.connect(sqlite_path(database_url)) as raw:
            raw.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
        return
    store = await open_store(database_url)
    await store.close()
    raw = await asyncpg.connect(database_url)
    try:
        await raw.execute("INSERT INTO schema_migrations (version) VALUES ($1)", len(POSTGRES_MIGRATIONS) + 1)
    finally:
        await raw.close()


async def test_migrates_an_empty_file_to_the_latest_schema(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "fresh.sqlite3"
    store = await open_store(path)
    assert await store.schema_version() == len(MIGRATIONS)
    await store.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"jobs", "job_events"} <= tables


async def test_reopening_keeps_jobs_and_does_not_migrate_twice(database_url: str) -> None:
    store = await open_store(database_url)
    job = await store.create(new_job())
    await store.close()
    store = await open_store(database_url)
    again = await store.get(job.id)
    await store.close()
    assert again == job


async def test_refuses_a_database_from_a_newer_bot(database_url: str) -> None:
    await stamp_a_newer_schema(database_url)
    with pytest.raises(StoreError, match="newer"):
        await open_store(database_url)


async def test_created_job_round_trips_every_field(store: AnyStore) -> None:
    job = await store.create(new_job())
    assert job.state is JobState.REQUESTED
    loaded = await store.get(job.id)
    assert loaded == job
    assert loaded is not None and loaded.tags == {"env": "prod", "team": "search infra"}
    assert loaded.deletion_protection is True


async def test_a_job_created_with_its_approval_and_odd_text_round_trips(store: AnyStore) -> None:
    # Every kind of value a new job carries (text that JSON escapes, a list, a moment to the microsecond, a
    # bool) reads back as it was written, however the store batches its inserts.
    odd = NewJob(
        backup_id="670e8400-e29b-41d4-a716-446655440000",
        index_name="odd-values",
        tags={"team": 'search "infra"', "note": "a\\b \u00e9 \u2603"},
        deletion_protection=False,
        requester_id="U0ALICE01",
        channel_id="C0RESTORE1",
    )
    job = await store.create(
        odd,
        state=JobState.AWAITING_APPROVAL,
        approvers=("U0BOB0001", "S0GROUP01"),
        approval_reason="prod tag",
        approval_expires_at=datetime(2026, 12, 2, 3, 4, 5, 678901, tzinfo=UTC),
    )
    assert await store.get(job.id) == job


async def test_a_request_by_intent_gets_its_backup_when_it_is_chosen(store: AnyStore) -> None:
    intent = NewJob(
        backup_id="",
        index_name="prod-search-restored",
        requester_id="U0ALICE01",
        channel_id="C0RESTORE1",
        intent_source="prod-search",
        intent_before="yesterday 14:00",
    )
    job = await store.create(intent, state=JobState.CHECKING)
    assert (job.backup_id, job.intent_source, job.intent_before, job.by_intent) == (
        "",
        "prod-search",
        "yesterday 14:00",
        True,
    )
    assert await store.get(job.id) == job
    moment = utcnow().replace(microsecond=0) - timedelta(days=1)
    chosen = await store.transition(
        job.id,
        JobState.CHECKING,
        JobState.REQUESTED,
        backup_id="670e8400-e29b-41d4-a716-446655440000",
        backup_choice="newest Ready backup of prod-search before ...",
        intent_moment=moment,
    )
    loaded = await store.get(job.id)
    assert loaded == chosen
    assert loaded is not None and loaded.backup_id == "670e8400-e29b-41d4-a716-446655440000"
    assert loaded.intent_moment == moment and loaded.backup_choice == "newest Ready backup of prod-search before ..."
    assert loaded.intent_source == "prod-search", "the intent itself never changes"
    with pytest.raises(ValueError, match="not updatable"):
        await store.update(job.id, intent_source="other")


async def test_one_active_restore_per_target_name(store: AnyStore) -> None:
    first = await store.create(new_job("prod-search"))
    with pytest.raises(ActiveRestoreExists) as raised:
        await store.create(new_job("prod-search", channel="C0OTHER001"))
    assert raised.value.existing.id == first.id
    other = await store.create(new_job("prod-search-2"))
    assert other.index_name == "prod-search-2"


async def test_a_finished_restore_frees_the_name(store: AnyStore) -> None:
    job = await store.create(new_job())
    await store.transition(job.id, JobState.REQUESTED, JobState.REJECTED, reason="backup not found")
    again = await store.create(new_job())
    assert again.id != job.id
    latest = await store.latest_for_index("restored-index")
    assert latest is not None and latest.id == again.id


async def test_concurrent_creates_for_one_name_make_one_job(store: AnyStore) -> None:
    results = await asyncio.gather(*(store.create(new_job()) for _ in range(10)), return_exceptions=True)
    created = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, ActiveRestoreExists)]
    assert len(created) == 1 and len(refused) == 9
    assert len(await store.active_jobs()) == 1


async def test_the_constraint_holds_across_connections(database_url: str) -> None:
    one, two = await open_store(database_url), await open_store(database_url)
    try:
        await one.create(new_job())
        with pytest.raises(ActiveRestoreExists):
            await two.create(new_job())
    finally:
        await one.close()
        await two.close()


async def test_transition_is_compare_and_set(store: AnyStore) -> None:
    job = await store.create(new_job())
    moved = await store.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING, source_index_name="prod")
    assert moved.state is JobState.SUBMITTING and moved.source_index_name == "prod"
    with pytest.raises(StaleJob) as raised:
        await store.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING)
    assert raised.value.job is not None and raised.value.job.state is JobState.SUBMITTING


async def test_transition_refuses_what_the_state_machine_forbids(store: AnyStore) -> None:
    job = await store.create(new_job())
    with pytest.raises(InvalidTransition):
        await store.transition(job.id, JobState.REQUESTED, JobState.READY)
    loaded = await store.get(job.id)
    assert loaded is not None and loaded.state is JobState.REQUESTED


async def test_history_records_every_transition(store: AnyStore) -> None:
    job = await store.create(new_job())
    await store.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING)
    await store.transition(job.id, JobState.SUBMITTING, JobState.RESTORING, restore_job_id="rj-1")
    await store.transition(job.id, JobState.RESTORING, JobState.FAILED, reason="Pinecone reports Failed")
    assert await store.events(job.id) == [
        (None, "requested", None),
        ("requested", "submitting", None),
        ("submitting", "restoring", None),
        ("restoring", "failed", "Pinecone reports Failed"),
    ]


async def test_update_refuses_identity_fields(store: AnyStore) -> None:
    job = await store.create(new_job())
    with pytest.raises(ValueError, match="not updatable"):
        await store.update(job.id, index_name="other")
    updated = await store.update(job.id, percent_complete=42.5, message_ts="1700000000.000100")
    assert updated.percent_complete == 42.5 and updated.message_ts == "1700000000.000100"


async def test_recent_in_channel_is_newest_first_and_scoped(store: AnyStore) -> None:
    names = [f"index-{n}" for n in range(5)]
    for name in names:
        await store.create(new_job(name))
    await store.create(new_job("elsewhere", channel="C0OTHER001"))
    recent = await store.recent_in_channel("C0RESTORE1", limit=3)
    assert [job.index_name for job in recent] == ["index-4", "index-3", "index-2"]


async def test_a_locked_database_is_a_store_error_and_records_nothing(tmp_path: Path) -> None:
    path = tmp_path / "locked.sqlite3"
    store = await open_store(path, busy_timeout_ms=50)
    blocker = sqlite3.connect(path, isolation_level=None)
    try:
        blocker.execute("BEGIN EXCLUSIVE")
        with pytest.raises(StoreError):
            await store.create(new_job())
        blocker.execute("ROLLBACK")
        assert await store.active_jobs() == []
        created = await store.create(new_job())  # and it serves again once the lock is gone
        assert created.state is JobState.REQUESTED
    finally:
        blocker.close()
        await store.close()


async def test_every_read_that_sqlite_fails_is_the_ports_store_unavailable(tmp_path: Path) -> None:
    """Callers catch the port's errors (the sender catches StoreUnavailable); a raw sqlite3 error would escape."""
    path = tmp_path / "broken.sqlite3"
    store = await open_store(path)
    job = await store.create(new_job())
    wrecker = sqlite3.connect(path, isolation_level=None)
    try:
        for table in ("jobs", "notices", "decisions", "job_events", "slack_deliveries", "leadership"):
            wrecker.execute(f"ALTER TABLE {table} RENAME TO gone_{table}")
        now = utcnow()
        reads: dict[str, Callable[[], Awaitable[object]]] = {
            "get": lambda: store.get(job.id),
            "active_jobs": store.active_jobs,
            "decisions": lambda: store.decisions(job.id),
            "pending_notices": lambda: store.pending_notices(job.id),
            "events": lambda: store.events(job.id),
            "deliveries_due": lambda: store.deliveries_due(now),
            "delivery_keys_since": lambda: store.delivery_keys_since(now),
            "leader": store.leader,
        }
        for name, read in reads.items():
            with pytest.raises(StoreUnavailable):
                await read()
                pytest.fail(f"{name} read a table that is gone")
    finally:
        wrecker.close()
        await store.close()


# -- Slack delivery bookkeeping ---------------------------------------------------------------------


async def accepted(store: AnyStore, name: str = "restored-index") -> Job:
    job = await store.create(new_job(name))
    await store.transition(job.id, JobState.REQUESTED, JobState.SUBMITTING)
    return await store.transition(
        job.id, JobState.SUBMITTING, JobState.RESTORING, notices=(Notice(kind=NoticeKind.STARTED),)
    )


async def test_a_transition_records_its_notices_and_flags_the_parent_atomically(store: AnyStore) -> None:
    job = await accepted(store)
    assert job.parent_dirty is True
    [notice] = await store.pending_notices(job.id)
    assert notice.kind is NoticeKind.STARTED and notice.attempts == 0
    [due] = await store.deliveries_due(utcnow())
    assert due.job_id == job.id and due.channel_id == job.channel_id
    assert due.needs_parent and due.notice_due, "a threaded job without a parent message is due"


async def test_a_failed_transition_records_no_notice(store: AnyStore) -> None:
    job = await store.create(new_job())
    with pytest.raises(StaleJob):
        await store.transition(
            job.id, JobState.SUBMITTING, JobState.RESTORING, notices=(Notice(kind=NoticeKind.STARTED),)
        )
    assert await store.pending_notices(job.id) == []


async def test_parent_redraw_is_claimed_once(store: AnyStore) -> None:
    job = await accepted(store)
    await store.update(job.id, message_ts="1795560000.000100")
    assert await store.claim_parent_redraw(job.id) is True
    assert await store.claim_parent_redraw(job.id) is False
    await store.update(job.id, percent_complete=50.0, parent_dirty=True)
    assert await store.claim_parent_redraw(job.id) is True


async def test_notice_delivery_states(store: AnyStore) -> None:
    job = await accepted(store)
    await store.update(job.id, message_ts="1795560000.000100")
    await store.claim_parent_redraw(job.id)
    [notice] = await store.pending_notices(job.id)
    await store.notice_sending(notice.id)
    [sending] = await store.pending_notices(job.id)
    assert sending.sending_since is not None
    later = utcnow() + timedelta(minutes=5)
    await store.notice_failed(notice.id, later, "ratelimited")
    [failed] = await store.pending_notices(job.id)
    assert failed.attempts == 1 and failed.sending_since is None and failed.next_attempt_at == later
    assert await store.deliveries_due(utcnow()) == [], "a postponed notice is not due yet"
    [due] = await store.deliveries_due(later)
    assert (due.job_id, due.needs_parent, due.parent_dirty, due.notice_due) == (job.id, False, False, True)
    await store.notice_sent(notice.id)
    assert await store.pending_notices(job.id) == []


async def test_rejected_jobs_never_need_a_parent(store: AnyStore) -> None:
    job = await store.create(new_job())
    await store.transition(job.id, JobState.REQUESTED, JobState.REJECTED, reason="backup not found")
    assert await store.deliveries_due(utcnow()) == []
    told = await store.create(new_job("told-index"))
    await store.transition(
        told.id, JobState.REQUESTED, JobState.REJECTED, reason="gone", notices=(Notice(kind=NoticeKind.REJECTED),)
    )
    [due] = await store.deliveries_due(utcnow())
    assert (due.job_id, due.needs_parent, due.notice_due) == (told.id, False, True), "only its notice is due"


async def test_slack_delivery_keys_are_saved_in_batches_and_forgotten_when_old(store: AnyStore) -> None:
    long_ago = utcnow() - timedelta(days=2)
    await store.record_deliveries(["trigger_id:1", "trigger_id:2"], forget_before=long_ago)
    await store.record_deliveries(["trigger_id:2", "event_id:Ev1"], forget_before=long_ago)  # repeats are fine
    assert await store.delivery_keys_since(long_ago) == {"trigger_id:1", "trigger_id:2", "event_id:Ev1"}
    assert await store.delivery_keys_since(utcnow() + timedelta(seconds=1)) == set()
    await store.record_deliveries(["trigger_id:3"], forget_before=utcnow() + timedelta(seconds=1))
    assert await store.delivery_keys_since(long_ago) == set(), "older than forget_before: gone"


async def test_seen_deliveries_answer_from_memory_and_survive_a_restart(database_url: str) -> None:
    store = await open_store(database_url)
    seen = SeenDeliveries(store)
    assert seen.first_time("trigger_id:1") is True
    assert seen.first_time("trigger_id:1") is False
    await seen.flush()
    await store.close()

    store = await open_store(database_url)
    try:
        after_restart = SeenDeliveries(store)
        await after_restart.load()
        assert after_restart.first_time("trigger_id:1") is False, "a retry after a restart is recognised"
        assert after_restart.first_time("trigger_id:2") is True
    finally:
        await store.close()


async def test_saved_delivery_keys_are_forgotten_once_a_minute_not_at_every_save(store: AnyStore) -> None:
    # Forgetting is a DELETE: done with a save at most every FORGET_EVERY seconds, not with each one (a save
    # runs every 0.2 s while commands arrive).
    clock = [1000.0]
    seen = SeenDeliveries(store, remember_for=timedelta(0), clock=lambda: clock[0], shared=False)
    long_ago = utcnow() - timedelta(days=1)
    seen.first_time("trigger_id:a")
    await seen.flush()
    seen.first_time("trigger_id:b")
    await seen.flush()
    assert await store.delivery_keys_since(long_ago) == {"trigger_id:a", "trigger_id:b"}, "nothing forgotten yet"
    clock[0] += FORGET_EVERY
    seen.first_time("trigger_id:c")
    await seen.flush()
    assert await store.delivery_keys_since(long_ago) == {"trigger_id:c"}, "a minute on: the old keys are forgotten"


async def test_migration_1_databases_upgrade_in_place(tmp_path: Path) -> None:
    path = tmp_path / "v1.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.executescript(MIGRATIONS[0] + "\nPRAGMA user_version=1;")
        raw.execute(
            "INSERT INTO jobs (id, state, backup_id, index_name, requester_id, channel_id, created_at, updated_at) "
            "VALUES ('old', 'restoring', 'b', 'old-index', 'U0ALICE01', 'C0RESTORE1', ?, ?)",
            (utcnow().isoformat(), utcnow().isoformat()),
        )
    store = await open_store(path)
    try:
        assert await store.schema_version() == len(MIGRATIONS)
        old = await store.get("old")
        assert old is not None and old.state is JobState.RESTORING and old.parent_dirty is False
    finally:
        await store.close()


async def test_every_due_delivery_is_listed_oldest_change_first_whatever_the_channel(store: AnyStore) -> None:
    jobs = [await accepted(store, f"restored-{n}") for n in range(150)]
    for job in jobs[:100]:
        await store.update(job.id, message_ts=f"1795560000.{job.id[:6]}")
    await store.update(jobs[0].id, parent_dirty=True)  # a redraw only: posted, and its notice...
    [notice] = await store.pending_notices(jobs[0].id)
    await store.notice_sent(notice.id)
    due = await store.deliveries_due(utcnow())
    assert len(due) == 150, "no LIMIT hides jobs behind others"
    by_id = {item.job_id: item for item in due}
    assert (by_id[jobs[0].id].needs_parent, by_id[jobs[0].id].parent_dirty, by_id[jobs[0].id].notice_due) == (
        False,
        True,
        False,
    )
    assert all(by_id[job.id].needs_parent for job in jobs[100:])
    assert [item.job_id for item in due][-1] == jobs[0].id, "the most recently changed job comes last"


# -- Slack as it really answers (migration 6) ----------------------------------------------------------


async def awaiting(store: AnyStore, expires_in: timedelta) -> Job:
    return await store.create(
        new_job("prod-search"),
        state=JobState.AWAITING_APPROVAL,
        approvers=("U0BOB0001",),
        approval_expires_at=utcnow() + expires_in,
    )


async def test_a_decision_after_the_deadline_is_refused_in_the_transaction_and_changes_nothing(
    store: AnyStore,
) -> None:
    job = await awaiting(store, timedelta(minutes=5))
    at_the_click = utcnow() + timedelta(minutes=6)
    with pytest.raises(DeadlinePassed) as refused:
        await store.transition(
            job.id,
            JobState.AWAITING_APPROVAL,
            JobState.REQUESTED,
            notices=(Notice(kind=NoticeKind.APPROVED),),
            decision=Decision(decision="approved", by_user="U0BOB0001"),
            decided_by="U0BOB0001",
            deadline=at_the_click,
        )
    assert refused.value.job.state is JobState.AWAITING_APPROVAL
    assert (await store.get(job.id)).state is JobState.AWAITING_APPROVAL  # type: ignore[union-attr]
    assert await store.decisions(job.id) == [] and await store.pending_notices(job.id) == []
    in_time = await store.transition(
        job.id, JobState.AWAITING_APPROVAL, JobState.REQUESTED, deadline=utcnow(), decided_by="U0BOB0001"
    )
    assert in_time.state is JobState.REQUESTED


async def test_a_checking_job_holds_its_target_name(store: AnyStore) -> None:
    checking = await store.create(new_job(), state=JobState.CHECKING)
    with pytest.raises(ActiveRestoreExists):
        await store.create(new_job())
    assert (await store.transition(checking.id, JobState.CHECKING, JobState.REQUESTED)).state is JobState.REQUESTED


async def test_a_lost_channel_is_recorded_once_and_needs_no_parent_or_redraw_any_more(store: AnyStore) -> None:
    job = await accepted(store)
    assert await store.lose_channel(job.id, "is_archived", Notice(kind=NoticeKind.UNREACHABLE)) is True
    assert await store.lose_channel(job.id, "channel_not_found", Notice(kind=NoticeKind.UNREACHABLE)) is False
    lost = await store.get(job.id)
    assert lost is not None and lost.slack_error == "is_archived"
    assert [n.kind for n in await store.pending_notices(job.id)] == [NoticeKind.STARTED, NoticeKind.UNREACHABLE]
    [due] = await store.deliveries_due(utcnow())
    assert (due.needs_parent, due.parent_dirty, due.notice_due) == (False, False, True)
    for notice in await store.pending_notices(job.id):
        await store.notice_dropped(notice.id, "not sent: is_archived")
    assert await store.pending_notices(job.id) == [] and await store.deliveries_due(utcnow()) == []


async def test_a_parent_no_longer_redrawn_is_not_due_for_redraws(store: AnyStore) -> None:
    job = await accepted(store)
    await store.update(job.id, message_ts="1795560000.000100", parent_dirty=True, parent_error="message_not_found")
    for notice in await store.pending_notices(job.id):
        await store.notice_sent(notice.id)
    assert await store.deliveries_due(utcnow()) == []


async def test_migration_5_databases_upgrade_to_6_keeping_every_job(tmp_path: Path) -> None:
    path = tmp_path / "v5.sqlite3"
    with sqlite3.connect(path) as raw:
        for version, script in enumerate(MIGRATIONS[:5], start=1):
            raw.executescript(f"{script}\nPRAGMA user_version={version};")
        raw.execute(
            "INSERT INTO jobs (id, state, backup_id, index_name, requester_id, channel_id, created_at, updated_at, "
            "approvers, verification, verified, message_ts) VALUES "
            "('old', 'ready', 'b', 'old-index', 'U0ALICE01', 'C0RESTORE1', ?, ?, '[\"U0BOB0001\"]', 'ok', 1, '1.2')",
            (utcnow().isoformat(), utcnow().isoformat()),
        )
        raw.execute(
            "INSERT INTO notices (job_id, kind, created_at) VALUES ('old', 'finished', ?)", (utcnow().isoformat(),)
        )
    store = await open_store(path)
    try:
        assert await store.schema_version() == len(MIGRATIONS)
        old = await store.get("old")
        assert old is not None and old.state is JobState.READY and old.approvers == ("U0BOB0001",)
        assert (old.verification, old.verified, old.message_ts, old.slack_error) == ("ok", True, "1.2", None)
        assert [n.kind for n in await store.pending_notices("old")] == [NoticeKind.FINISHED]
        await store.create(new_job("old-index"), state=JobState.CHECKING)  # the new state is allowed
    finally:
        await store.close()


async def test_a_restore_in_flight_under_migration_5_keeps_going_under_7(tmp_path: Path) -> None:
    """Upgrading in the middle of a restore: what Pinecone reports, the check-ins said and verification start empty."""
    path = tmp_path / "jobs.sqlite3"
    with sqlite3.connect(path) as raw:
        raw.executescript("\n".join(MIGRATIONS[:5]) + "\nPRAGMA user_version=5;")
        raw.execute(
            "INSERT INTO jobs (id, state, backup_id, index_name, requester_id, channel_id, created_at, updated_at, "
            "restore_job_id, percent_complete, milestone) VALUES ('j1', 'restoring', 'b', 'restored-index', 'U1', "
            "'C0RESTORE1', '2026-11-24T14:02:00+00:00', '2026-11-24T14:02:00+00:00', 'rj-1', 37.5, 25)"
        )
    store = await open_store(path)
    try:
        job = await store.get("j1")
        assert job is not None and job.state is JobState.RESTORING and job.percent_complete == 37.5
        assert (job.pinecone_status, job.check_ins, job.verify_since) == (None, 0, None)
        now = utcnow()
        job = await store.update("j1", pinecone_status="Pending", check_ins=2, verify_since=now)
        assert (job.pinecone_status, job.check_ins, job.verify_since) == ("Pending", 2, now)
    finally:
        await store.close()


async def test_the_store_says_which_job_holds_a_restore_job(store: AnyStore) -> None:
    first = await store.create(new_job("first-index"))
    second = await store.create(new_job("second-index"))
    await store.transition(first.id, JobState.REQUESTED, JobState.SUBMITTING)
    await store.transition(first.id, JobState.SUBMITTING, JobState.RESTORING, restore_job_id="rj-1")
    held = await store.restore_job_owner("rj-1", other_than=second.id)
    assert held is not None and held.id == first.id
    assert await store.restore_job_owner("rj-1", other_than=first.id) is None, "its own restore job is not another's"
    assert await store.restore_job_owner("rj-unknown", other_than=second.id) is None
