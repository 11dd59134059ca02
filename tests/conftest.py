"""Shared test set-up: the HTTP fakes are available to every test directory."""

from tests.fakes.fixtures import pinecone, slack  # noqa: F401  (pytest fixtures)
