"""Which job store a DATABASE_URL selects, and opening it.

* `sqlite:///relative/path` or `sqlite:////absolute/path`: the embedded SQLite store, for one bot process;
* `postgresql://user:password@host:5432/dbname` (or `postgres://`): the PostgreSQL store (asyncpg, a
  bounded pool), which several bot processes may share.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from bot.core.urls import safe_url
from storage.base import JobStore
from storage.postgres.postgres_store import DEFAULT_POOL_SIZE, open_postgres_store
from storage.sqlite.sqlite_store import open_sqlite_store

StoreKind = Literal["sqlite", "postgresql"]
SQLITE_PREFIX = "sqlite:///"
POSTGRES_SCHEMES = ("postgresql", "postgres")
EXPECTED = "expected sqlite:///relative/path, sqlite:////absolute/path or postgresql://user:password@host:5432/dbname"


def store_kind(url: str) -> StoreKind:
    """The kind of store `url` selects. Raises ValueError (never quoting the URL, which may hold a password)."""
    if url.startswith(SQLITE_PREFIX) and url != SQLITE_PREFIX:
        return "sqlite"
    scheme, separator, _ = url.partition("://")
    if separator and scheme.lower() in POSTGRES_SCHEMES:
        try:
            urlsplit(url).port  # noqa: B018  (parses the port: "host:abc" is refused here, not at connect time)
        except ValueError:
            raise ValueError(f"{EXPECTED} (the port is not a number)") from None
        return "postgresql"
    raise ValueError(EXPECTED)


def sqlite_path(url: str) -> Path:
    """sqlite:///rel/path -> rel/path; sqlite:////abs/path -> /abs/path."""
    return Path(url.removeprefix(SQLITE_PREFIX))


def store_location(url: str | Path) -> str:
    """Where the store is, fit to print: the SQLite file's path, or the PostgreSQL URL without credentials."""
    if isinstance(url, Path):
        return str(url)
    return str(sqlite_path(url)) if store_kind(url) == "sqlite" else safe_url(url)


async def open_store(url: str | Path, *, busy_timeout_ms: int = 5000, pool_size: int = DEFAULT_POOL_SIZE) -> JobStore:
    """Open (creating and migrating if needed) the store `url` selects; a `Path` is a SQLite file.

    `busy_timeout_ms` applies to SQLite (how long a write waits for another writer's lock), `pool_size`
    to PostgreSQL (the most connections this process opens). Raises StoreUnavailable, or ValueError for a
    URL that selects no store.
    """
    if isinstance(url, Path):
        return await open_sqlite_store(url, busy_timeout_ms=busy_timeout_ms)
    if store_kind(url) == "sqlite":
        return await open_sqlite_store(sqlite_path(url), busy_timeout_ms=busy_timeout_ms)
    return await open_postgres_store(url, pool_size=pool_size)
