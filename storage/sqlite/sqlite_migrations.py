"""Schema versions, applied in order. The database's `user_version` is the last one applied.

Never edit a released migration: add the next one.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: jobs and their history
    """
    CREATE TABLE jobs (
        id                  TEXT PRIMARY KEY,
        state               TEXT NOT NULL CHECK (state IN
                                ('requested','submitting','restoring','ready','failed','timed_out','rejected')),
        backup_id           TEXT NOT NULL,
        index_name          TEXT NOT NULL,
        tags                TEXT NOT NULL DEFAULT '{}',
        deletion_protection INTEGER NOT NULL DEFAULT 0,
        requester_id        TEXT NOT NULL,
        channel_id          TEXT NOT NULL,
        created_at          TEXT NOT NULL,
        updated_at          TEXT NOT NULL,
        source_index_name   TEXT,
        backup_record_count INTEGER,
        message_ts          TEXT,
        restore_job_id      TEXT,
        index_id            TEXT,
        percent_complete    REAL,
        milestone           INTEGER NOT NULL DEFAULT 0,
        host                TEXT,
        dimension           INTEGER,
        metric              TEXT,
        reason              TEXT,
        submitted_at        TEXT,
        finished_at         TEXT
    );
    -- The guarantee "one active restore per target name" lives here, not in process memory.
    CREATE UNIQUE INDEX jobs_one_active_per_name ON jobs (index_name)
        WHERE state IN ('requested', 'submitting', 'restoring');
    CREATE INDEX jobs_by_state ON jobs (state);
    CREATE INDEX jobs_by_name ON jobs (index_name, created_at);
    CREATE INDEX jobs_by_channel ON jobs (channel_id, created_at);

    CREATE TABLE job_events (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id     TEXT NOT NULL REFERENCES jobs (id),
        at         TEXT NOT NULL,
        from_state TEXT,
        to_state   TEXT NOT NULL,
        detail     TEXT
    );
    CREATE INDEX job_events_by_job ON job_events (job_id, id);
    """,
    # 2: Slack delivery decoupled from the job (outbox), outage bookkeeping, Slack request de-duplication
    """
    -- The parent message shows the job's current state; this flag says it must be (re)drawn.
    ALTER TABLE jobs ADD COLUMN parent_dirty INTEGER NOT NULL DEFAULT 0;
    -- Set just before chat.postMessage for the parent: after a crash, look for it before posting again.
    ALTER TABLE jobs ADD COLUMN parent_posting_since TEXT;
    ALTER TABLE jobs ADD COLUMN outage_since TEXT;
    ALTER TABLE jobs ADD COLUMN outage_announced INTEGER NOT NULL DEFAULT 0;

    -- Thread replies and incident notices, written in the same transaction as the change they
    -- describe and delivered by the bot's Slack sender, so a job never waits on Slack.
    CREATE TABLE notices (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id          TEXT NOT NULL REFERENCES jobs (id),
        kind            TEXT NOT NULL,
        milestone       INTEGER,
        detail          TEXT,
        created_at      TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT,
        sending_since   TEXT,
        sent_at         TEXT,
        last_error      TEXT
    );
    CREATE INDEX notices_pending ON notices (job_id, id) WHERE sent_at IS NULL;

    -- Slack retries and double submits carry the same trigger/event ID: remember what was seen.
    CREATE TABLE slack_deliveries (
        key         TEXT PRIMARY KEY,
        received_at TEXT NOT NULL
    );
    CREATE INDEX slack_deliveries_by_age ON slack_deliveries (received_at);
    """,
    # 3: approvals (policy), the plan card's facts, and every decision for the audit trail.
    # SQLite cannot alter a CHECK constraint, so `jobs` is rebuilt (sqlite.org/lang_altertable.html,
    # "making other kinds of table schema changes"); migrations run with foreign keys off.
    """
    CREATE TABLE jobs_v3 (
        id                  TEXT PRIMARY KEY,
        state               TEXT NOT NULL CHECK (state IN
                                ('awaiting_approval','requested','submitting','restoring','ready','failed',
                                 'timed_out','rejected','denied','cancelled','expired')),
        backup_id           TEXT NOT NULL,
        index_name          TEXT NOT NULL,
        tags                TEXT NOT NULL DEFAULT '{}',
        deletion_protection INTEGER NOT NULL DEFAULT 0,
        requester_id        TEXT NOT NULL,
        channel_id          TEXT NOT NULL,
        created_at          TEXT NOT NULL,
        updated_at          TEXT NOT NULL,
        source_index_name   TEXT,
        backup_record_count INTEGER,
        message_ts          TEXT,
        restore_job_id      TEXT,
        index_id            TEXT,
        percent_complete    REAL,
        milestone           INTEGER NOT NULL DEFAULT 0,
        host                TEXT,
        dimension           INTEGER,
        metric              TEXT,
        reason              TEXT,
        submitted_at        TEXT,
        finished_at         TEXT,
        parent_dirty        INTEGER NOT NULL DEFAULT 0,
        parent_posting_since TEXT,
        outage_since        TEXT,
        outage_announced    INTEGER NOT NULL DEFAULT 0,
        approvers           TEXT NOT NULL DEFAULT '[]',
        approval_reason     TEXT,
        approval_expires_at TEXT,
        decided_by          TEXT,
        decided_at          TEXT,
        decision_reason     TEXT,
        backup_name         TEXT,
        backup_created_at   TEXT,
        backup_size_bytes   INTEGER,
        backup_status       TEXT,
        target_free         INTEGER
    );
    INSERT INTO jobs_v3 (
        id, state, backup_id, index_name, tags, deletion_protection, requester_id, channel_id, created_at,
        updated_at, source_index_name, backup_record_count, message_ts, restore_job_id, index_id,
        percent_complete, milestone, host, dimension, metric, reason, submitted_at, finished_at, parent_dirty,
        parent_posting_since, outage_since, outage_announced)
    SELECT
        id, state, backup_id, index_name, tags, deletion_protection, requester_id, channel_id, created_at,
        updated_at, source_index_name, backup_record_count, message_ts, restore_job_id, index_id,
        percent_complete, milestone, host, dimension, metric, reason, submitted_at, finished_at, parent_dirty,
        parent_posting_since, outage_since, outage_announced
    FROM jobs;
    DROP TABLE jobs;
    ALTER TABLE jobs_v3 RENAME TO jobs;
    CREATE UNIQUE INDEX jobs_one_active_per_name ON jobs (index_name)
        WHERE state IN ('awaiting_approval', 'requested', 'submitting', 'restoring');
    CREATE INDEX jobs_by_state ON jobs (state);
    CREATE INDEX jobs_by_name ON jobs (index_name, created_at);
    CREATE INDEX jobs_by_channel ON jobs (channel_id, created_at);

    -- Every approval decision, for the thread and the audit trail.
    CREATE TABLE decisions (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id   TEXT NOT NULL REFERENCES jobs (id),
        decision TEXT NOT NULL,
        by_user  TEXT NOT NULL,
        at       TEXT NOT NULL,
        reason   TEXT
    );
    CREATE INDEX decisions_by_job ON decisions (job_id, id);
    """,
    # 4: verification of the restored index against its backup
    """
    ALTER TABLE jobs ADD COLUMN verification TEXT;
    ALTER TABLE jobs ADD COLUMN verified INTEGER;
    """,
    # 5: the sender reads what is due every round; these keep that cheap however many jobs are finished
    """
    CREATE INDEX jobs_without_parent ON jobs (state) WHERE message_ts IS NULL;
    CREATE INDEX jobs_parent_dirty ON jobs (id) WHERE parent_dirty = 1;
    """,
    # 6: Slack as it really answers. A `checking` state (a request is recorded as soon as it is acked,
    # before any Slack or Pinecone call); why a job's channel gets nothing more (`slack_error`) and why
    # its parent is no longer redrawn (`parent_error`); notices given up on (`dropped_at`).
    # `jobs` is rebuilt for the CHECK constraint, as in migration 3. MERGE NOTE: the column list below is
    # every column up to migration 5; a migration that adds a `jobs` column before this one must add it
    # to both lists, or the rebuild drops it.
    """
    CREATE TABLE jobs_v6 (
        id                  TEXT PRIMARY KEY,
        state               TEXT NOT NULL CHECK (state IN
                                ('checking','awaiting_approval','requested','submitting','restoring','ready',
                                 'failed','timed_out','rejected','denied','cancelled','expired')),
        backup_id           TEXT NOT NULL,
        index_name          TEXT NOT NULL,
        tags                TEXT NOT NULL DEFAULT '{}',
        deletion_protection INTEGER NOT NULL DEFAULT 0,
        requester_id        TEXT NOT NULL,
        channel_id          TEXT NOT NULL,
        created_at          TEXT NOT NULL,
        updated_at          TEXT NOT NULL,
        source_index_name   TEXT,
        backup_record_count INTEGER,
        message_ts          TEXT,
        restore_job_id      TEXT,
        index_id            TEXT,
        percent_complete    REAL,
        milestone           INTEGER NOT NULL DEFAULT 0,
        host                TEXT,
        dimension           INTEGER,
        metric              TEXT,
        reason              TEXT,
        submitted_at        TEXT,
        finished_at         TEXT,
        parent_dirty        INTEGER NOT NULL DEFAULT 0,
        parent_posting_since TEXT,
        outage_since        TEXT,
        outage_announced    INTEGER NOT NULL DEFAULT 0,
        approvers           TEXT NOT NULL DEFAULT '[]',
        approval_reason     TEXT,
        approval_expires_at TEXT,
        decided_by          TEXT,
        decided_at          TEXT,
        decision_reason     TEXT,
        backup_name         TEXT,
        backup_created_at   TEXT,
        backup_size_bytes   INTEGER,
        backup_status       TEXT,
        target_free         INTEGER,
        verification        TEXT,
        verified            INTEGER,
        slack_error         TEXT,
        parent_error        TEXT
    );
    INSERT INTO jobs_v6 (
        id, state, backup_id, index_name, tags, deletion_protection, requester_id, channel_id, created_at,
        updated_at, source_index_name, backup_record_count, message_ts, restore_job_id, index_id,
        percent_complete, milestone, host, dimension, metric, reason, submitted_at, finished_at, parent_dirty,
        parent_posting_since, outage_since, outage_announced, approvers, approval_reason, approval_expires_at,
        decided_by, decided_at, decision_reason, backup_name, backup_created_at, backup_size_bytes,
        backup_status, target_free, verification, verified)
    SELECT
        id, state, backup_id, index_name, tags, deletion_protection, requester_id, channel_id, created_at,
        updated_at, source_index_name, backup_record_count, message_ts, restore_job_id, index_id,
        percent_complete, milestone, host, dimension, metric, reason, submitted_at, finished_at, parent_dirty,
        parent_posting_since, outage_since, outage_announced, approvers, approval_reason, approval_expires_at,
        decided_by, decided_at, decision_reason, backup_name, backup_created_at, backup_size_bytes,
        backup_status, target_free, verification, verified
    FROM jobs;
    DROP TABLE jobs;
    ALTER TABLE jobs_v6 RENAME TO jobs;
    CREATE UNIQUE INDEX jobs_one_active_per_name ON jobs (index_name)
        WHERE state IN ('checking', 'awaiting_approval', 'requested', 'submitting', 'restoring');
    CREATE INDEX jobs_by_state ON jobs (state);
    CREATE INDEX jobs_by_name ON jobs (index_name, created_at);
    CREATE INDEX jobs_by_channel ON jobs (channel_id, created_at);
    CREATE INDEX jobs_without_parent ON jobs (state) WHERE message_ts IS NULL AND slack_error IS NULL;
    CREATE INDEX jobs_parent_dirty ON jobs (id)
        WHERE parent_dirty = 1 AND slack_error IS NULL AND parent_error IS NULL;

    ALTER TABLE notices ADD COLUMN dropped_at TEXT;
    DROP INDEX notices_pending;
    CREATE INDEX notices_pending ON notices (job_id, id) WHERE sent_at IS NULL AND dropped_at IS NULL;
    """,
    # 7: Pinecone API 2026-07 reports no progress: what it reports instead (its status), the "still restoring"
    # check-ins said so far, and when a Ready index's record count began to be re-checked. The `milestone`
    # column (25/50/75 %) is no longer written. Restore jobs are looked up by ID to tell whose they are.
    """
    ALTER TABLE jobs ADD COLUMN pinecone_status TEXT;
    ALTER TABLE jobs ADD COLUMN check_ins INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN verify_since TEXT;
    CREATE INDEX jobs_by_restore_job ON jobs (restore_job_id) WHERE restore_job_id IS NOT NULL;
    """,
    # 8: restores by intent (`from:<source-index> [before:<when>]`): the source index and the `before:` text as
    # typed, recorded before the backup is chosen (its backup_id is empty until then); once chosen, the moment
    # understood (UTC) and the sentence saying which backup was chosen and why.
    """
    ALTER TABLE jobs ADD COLUMN intent_source TEXT;
    ALTER TABLE jobs ADD COLUMN intent_before TEXT;
    ALTER TABLE jobs ADD COLUMN intent_moment TEXT;
    ALTER TABLE jobs ADD COLUMN backup_choice TEXT;
    """,
    # 9: several bot processes (on PostgreSQL; the same tables here, so both stores behave alike). Which process
    # drives a job through a request right now, and until when (a lease the tracker respects); which process
    # recorded a Slack delivery key (the one that may do its work); the leadership of the background work,
    # numbered by an epoch each new leader bumps. Columns added, no table rebuilt.
    """
    ALTER TABLE jobs ADD COLUMN driver_id TEXT;
    ALTER TABLE jobs ADD COLUMN driver_until TEXT;
    ALTER TABLE slack_deliveries ADD COLUMN holder TEXT;
    CREATE TABLE leadership (
        name   TEXT PRIMARY KEY,
        epoch  INTEGER NOT NULL,
        holder TEXT NOT NULL,
        since  TEXT NOT NULL
    );
    """,
)
