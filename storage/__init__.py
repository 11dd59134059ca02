"""The job store: the only code that speaks SQL."""

from storage.base import ActiveRestoreExists, JobStore, StaleJob, StoreError
from storage.sqlite.sqlite_store import SqliteJobStore, open_store

__all__ = ["ActiveRestoreExists", "JobStore", "SqliteJobStore", "StaleJob", "StoreError", "open_store"]
