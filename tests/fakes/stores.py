"""Store tests run against both job stores: `database_url` is a fresh SQLite file or a fresh PostgreSQL
database, one test of each. Use it wherever a test is about the store's behaviour, not about one engine.

Registered in tests/conftest.py. The PostgreSQL case needs PostgreSQL installed (see postgres_server.py);
without it, it fails rather than being skipped.
"""

from __future__ import annotations

from pathlib import Path

import pytest

__all__ = ["BACKENDS", "database_url"]

BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A DATABASE_URL for an empty store: sqlite:///<tmp>/jobs.sqlite3, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))
