"""The job store: the only code that speaks SQL."""

from storage.base import (
    ActiveRestoreExists,
    DeadlinePassed,
    JobStore,
    StaleJob,
    StoreConflict,
    StoreError,
    StoreUnavailable,
)
from storage.sqlite.sqlite_store import SqliteJobStore, open_store

__all__ = [
    "ActiveRestoreExists",
    "DeadlinePassed",
    "JobStore",
    "SqliteJobStore",
    "StaleJob",
    "StoreConflict",
    "StoreError",
    "StoreUnavailable",
    "open_store",
]
