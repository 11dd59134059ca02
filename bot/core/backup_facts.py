"""What the core reads of a Pinecone backup, index and its statistics, as structural types.

Since API 2026-07 a backup and an index report `dimension` and `metric` only through their schema's
fields (bot/core/vector_fields.py); the wire models derive them, and say when there is no single dense
field to derive them from.

The core never imports the Pinecone adapter: its wire models (bot/pinecone/models.py) satisfy these
protocols as they are, and a test can hand in any object with the same attributes.
"""

from __future__ import annotations

from typing import Protocol

from bot.core.vector_fields import VectorShape


class BackupFacts(Protocol):
    @property
    def backup_id(self) -> str: ...

    @property
    def source_index_name(self) -> str: ...

    @property
    def name(self) -> str | None: ...

    @property
    def status(self) -> str: ...

    @property
    def created_at(self) -> str | None: ...

    @property
    def record_count(self) -> int | None: ...

    @property
    def size_bytes(self) -> int | None: ...

    @property
    def dimension(self) -> int | None: ...

    @property
    def metric(self) -> str | None: ...

    @property
    def vector_shape(self) -> VectorShape:
        """Its schema's vectors: one dense field (whose dimension and metric the two above are), or not."""
        ...

    @property
    def ready(self) -> bool: ...


class IndexFacts(Protocol):
    @property
    def dimension(self) -> int | None: ...

    @property
    def metric(self) -> str | None: ...

    @property
    def vector_shape(self) -> VectorShape: ...


class IndexStatsFacts(Protocol):
    @property
    def dimension(self) -> int | None: ...

    @property
    def metric(self) -> str | None: ...

    @property
    def totalVectorCount(self) -> int | None: ...
