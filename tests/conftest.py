"""Shared test set-up: the HTTP fakes, the throwaway PostgreSQL server and the store URLs (SQLite and
PostgreSQL) are available to every test directory."""

from tests.fakes.fixtures import pinecone, slack  # noqa: F401  (pytest fixtures)
from tests.fakes.postgres_server import own_postgres_server, postgres_server, postgres_url  # noqa: F401  (fixtures)
from tests.fakes.stores import database_url  # noqa: F401  (pytest fixture)
