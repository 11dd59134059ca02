"""Make the fakes' fixtures (``pinecone``, ``slack``) available to the contract tests."""

from tests.fakes.fixtures import pinecone, slack

__all__ = ["pinecone", "slack"]
