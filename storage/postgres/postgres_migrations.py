"""PostgreSQL schema versions, applied in order under an advisory lock (see postgres_store._migrate).

The table `schema_migrations` holds one row per version applied. Never edit a released migration: add
the next one.

Migration 1 is the end state of SQLite's five migrations (storage/sqlite/sqlite_migrations.py) in
PostgreSQL's types: `timestamptz` for instants, `boolean` for flags, `jsonb` for the tags and the
approvers, `double precision` for progress (SQLite's REAL), `bigint` for counts that may be large. The
store turns rows back into the same `Job`, `PendingNotice` and `Decision` values as the SQLite store.
`jobs.seq` stands in for SQLite's rowid: the order of insertion, to break ties between equal
`created_at`s.
"""

from __future__ import annotations

MIGRATIONS: tuple[str, ...] = (
    # 1: jobs and their history, the Slack outbox, Slack request de-duplication, approval decisions,
    # verification (SQLite's migrations 1 to 5)
    """
    CREATE TABLE jobs (
        id                   text PRIMARY KEY,
        seq                  bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
        state                text NOT NULL CHECK (state IN
                                 ('awaiting_approval','requested','submitting','restoring','ready','failed',
                                  'timed_out','rejected','denied','cancelled','expired')),
        backup_id            text NOT NULL,
        index_name           text NOT NULL,
        tags                 jsonb NOT NULL DEFAULT '{}',
        deletion_protection  boolean NOT NULL DEFAULT false,
        requester_id         text NOT NULL,
        channel_id           text NOT NULL,
        created_at           timestamptz NOT NULL,
        updated_at           timestamptz NOT NULL,
        source_index_name    text,
        backup_record_count  bigint,
        message_ts           text,
        restore_job_id       text,
        index_id             text,
        percent_complete     double precision,
        milestone            integer NOT NULL DEFAULT 0,
        host                 text,
        dimension            integer,
        metric               text,
        reason               text,
        submitted_at         timestamptz,
        finished_at          timestamptz,
        -- The parent message shows the job's current state; this flag says it must be (re)drawn.
        parent_dirty         boolean NOT NULL DEFAULT false,
        -- Set just before chat.postMessage for the parent: after a crash, look for it before posting again.
        parent_posting_since timestamptz,
        outage_since         timestamptz,
        outage_announced     boolean NOT NULL DEFAULT false,
        approvers            jsonb NOT NULL DEFAULT '[]',
        approval_reason      text,
        approval_expires_at  timestamptz,
        decided_by           text,
        decided_at           timestamptz,
        decision_reason      text,
        backup_name          text,
        backup_created_at    text,
        backup_size_bytes    bigint,
        backup_status        text,
        target_free          boolean,
        verification         text,
        verified             boolean
    );
    -- The guarantee "one active restore per target name" lives here, not in any process's memory.
    CREATE UNIQUE INDEX jobs_one_active_per_name ON jobs (index_name)
        WHERE state IN ('awaiting_approval', 'requested', 'submitting', 'restoring');
    CREATE INDEX jobs_by_state ON jobs (state);
    CREATE INDEX jobs_by_name ON jobs (index_name, created_at);
    CREATE INDEX jobs_by_channel ON jobs (channel_id, created_at);
    -- The sender reads what is due every round; these keep that cheap however many jobs are finished.
    CREATE INDEX jobs_without_parent ON jobs (state) WHERE message_ts IS NULL;
    CREATE INDEX jobs_parent_dirty ON jobs (id) WHERE parent_dirty;

    CREATE TABLE job_events (
        id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        job_id     text NOT NULL REFERENCES jobs (id),
        at         timestamptz NOT NULL,
        from_state text,
        to_state   text NOT NULL,
        detail     text
    );
    CREATE INDEX job_events_by_job ON job_events (job_id, id);

    -- Thread replies and incident notices, written in the same transaction as the change they
    -- describe and delivered by the bot's Slack sender, so a job never waits on Slack.
    CREATE TABLE notices (
        id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        job_id          text NOT NULL REFERENCES jobs (id),
        kind            text NOT NULL,
        milestone       integer,
        detail          text,
        created_at      timestamptz NOT NULL,
        attempts        integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz,
        sending_since   timestamptz,
        sent_at         timestamptz,
        last_error      text
    );
    CREATE INDEX notices_pending ON notices (job_id, id) WHERE sent_at IS NULL;

    -- Slack retries and double submits carry the same trigger/event ID: remember what was seen.
    CREATE TABLE slack_deliveries (
        key         text PRIMARY KEY,
        received_at timestamptz NOT NULL
    );
    CREATE INDEX slack_deliveries_by_age ON slack_deliveries (received_at);

    -- Every approval decision, for the thread and the audit trail.
    CREATE TABLE decisions (
        id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        job_id   text NOT NULL REFERENCES jobs (id),
        decision text NOT NULL,
        by_user  text NOT NULL,
        at       timestamptz NOT NULL,
        reason   text
    );
    CREATE INDEX decisions_by_job ON decisions (job_id, id);
    """,
    # 2: Slack as it really answers (SQLite's 6). A `checking` state: a request is recorded as soon as it is
    # acked, before any Slack or Pinecone call; why a job's channel gets nothing more (`slack_error`) and why
    # its parent is no longer redrawn (`parent_error`); notices given up on (`dropped_at`).
    """
    ALTER TABLE jobs DROP CONSTRAINT jobs_state_check;
    ALTER TABLE jobs ADD CONSTRAINT jobs_state_check CHECK (state IN
        ('checking','awaiting_approval','requested','submitting','restoring','ready','failed',
         'timed_out','rejected','denied','cancelled','expired'));
    ALTER TABLE jobs ADD COLUMN slack_error text;
    ALTER TABLE jobs ADD COLUMN parent_error text;
    DROP INDEX jobs_one_active_per_name;
    CREATE UNIQUE INDEX jobs_one_active_per_name ON jobs (index_name)
        WHERE state IN ('checking', 'awaiting_approval', 'requested', 'submitting', 'restoring');
    DROP INDEX jobs_without_parent;
    CREATE INDEX jobs_without_parent ON jobs (state) WHERE message_ts IS NULL AND slack_error IS NULL;
    DROP INDEX jobs_parent_dirty;
    CREATE INDEX jobs_parent_dirty ON jobs (id) WHERE parent_dirty AND slack_error IS NULL AND parent_error IS NULL;

    ALTER TABLE notices ADD COLUMN dropped_at timestamptz;
    DROP INDEX notices_pending;
    CREATE INDEX notices_pending ON notices (job_id, id) WHERE sent_at IS NULL AND dropped_at IS NULL;
    """,
    # 3: Pinecone API 2026-07 reports no progress (SQLite's 7): what it reports instead (its status), the
    # "still restoring" check-ins said so far, and when a Ready index's record count began to be re-checked.
    # Restore jobs are looked up by ID to tell whose they are.
    """
    ALTER TABLE jobs ADD COLUMN pinecone_status text;
    ALTER TABLE jobs ADD COLUMN check_ins integer NOT NULL DEFAULT 0;
    ALTER TABLE jobs ADD COLUMN verify_since timestamptz;
    CREATE INDEX jobs_by_restore_job ON jobs (restore_job_id) WHERE restore_job_id IS NOT NULL;
    """,
    # 4: restores by intent (SQLite's 8): the source index and the `before:` text as typed, recorded before the
    # backup is chosen (its backup_id is empty until then); once chosen, the moment understood and the sentence
    # saying which backup was chosen and why.
    """
    ALTER TABLE jobs ADD COLUMN intent_source text;
    ALTER TABLE jobs ADD COLUMN intent_before text;
    ALTER TABLE jobs ADD COLUMN intent_moment timestamptz;
    ALTER TABLE jobs ADD COLUMN backup_choice text;
    """,
    # 5: several bot processes (SQLite's 9). Which process drives a job through a request right now, and until
    # when: a lease the leader's tracker respects, taken and renewed by compare-and-set. The leadership of the
    # background work (the advisory lock's holder), numbered by an epoch each new leader bumps: fenced writes
    # check it under FOR SHARE, so the bump waits for them and none made under an older epoch lands after it.
    """
    ALTER TABLE jobs ADD COLUMN driver_id text;
    ALTER TABLE jobs ADD COLUMN driver_until timestamptz;
    -- Which process recorded a Slack delivery key: the one that does its work (claim_deliveries).
    ALTER TABLE slack_deliveries ADD COLUMN holder text;
    CREATE TABLE leadership (
        name   text PRIMARY KEY,
        epoch  bigint NOT NULL,
        holder text NOT NULL,
        since  timestamptz NOT NULL
    );
    """,
)
