"""The job store: the only code that speaks SQL."""

from storage.base import (
    ActiveRestoreExists,
    DeadlinePassed,
    JobStore,
    PoolStats,
    StaleJob,
    StoreConflict,
    StoreError,
    StoreUnavailable,
)
from storage.postgres.postgres_store import PostgresJobStore
from storage.sqlite.sqlite_store import SqliteJobStore
from storage.stores import open_store, store_kind, store_location

__all__ = [
    "ActiveRestoreExists",
    "DeadlinePassed",
    "JobStore",
    "PoolStats",
    "PostgresJobStore",
    "SqliteJobStore",
    "StaleJob",
    "StoreConflict",
    "StoreError",
    "StoreUnavailable",
    "open_store",
    "store_kind",
    "store_location",
]
