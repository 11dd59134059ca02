"""The ways Pinecone can refuse or fail a call, as the core speaks of them.

The Pinecone adapter's error tree (bot/pinecone/errors.py) tags each exception class with one of
these; the core turns them into sentences (bot/core/render/pinecone_sentences.py) without importing
the adapter.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class PineconeFailure(StrEnum):
    BACKUP_NOT_READY = "backup_not_ready"
    NOT_FOUND = "not_found"
    NAME_TAKEN = "name_taken"
    BAD_REQUEST = "bad_request"
    BAD_API_KEY = "bad_api_key"
    PAYMENT_REQUIRED = "payment_required"
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    UNEXPECTED = "unexpected"


class PineconeFailureFacts(Protocol):
    """What a Pinecone error carries: its kind and Pinecone's own message (or what went wrong)."""

    @property
    def failure(self) -> PineconeFailure: ...

    @property
    def detail(self) -> str: ...
