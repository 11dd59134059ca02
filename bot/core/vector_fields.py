"""What an index schema says about its vectors: one dense field's dimension and metric, or what it is instead.

Pinecone's API 2026-07 no longer reports `dimension` and `metric` on an index or a backup: both carry a
`schema` whose `fields` map names to typed fields (db_control_2026-07.oas.yaml, IndexSchema). An index
served by the vectors API reports its vectors under the reserved names `_values` (dense) and
`_sparse_values` (sparse), and a dense one always reports both. Pure: field facts in, a shape out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

DENSE_VECTOR = "dense_vector"
SPARSE_VECTOR = "sparse_vector"
SEMANTIC_TEXT = "semantic_text"  # backed by an embedding model: dense if it has a dimension, else sparse


class FieldFacts(Protocol):
    """One schema field as the wire model has it (unknown types and extra keys are allowed)."""

    @property
    def type(self) -> str | None: ...

    @property
    def dimension(self) -> int | None: ...

    @property
    def metric(self) -> str | None: ...


class VectorKind(StrEnum):
    DENSE = "dense"  # exactly one dense vector field (sparse fields beside it do not change that)
    SPARSE = "sparse"  # sparse vector fields only: no dimension, no metric of its own
    SEVERAL = "several fields"  # more than one dense vector field: no single dimension or metric
    NONE = "no vector field"  # e.g. a full-text-search-only index
    UNKNOWN = "unknown"  # no schema reported (yet)


@dataclass(frozen=True)
class VectorShape:
    kind: VectorKind
    dimension: int | None = None
    metric: str | None = None

    @property
    def label(self) -> str:
        """`1536 · cosine` for one dense field, otherwise what the schema holds instead."""
        if self.kind is VectorKind.DENSE:
            return f"{_show(self.dimension)} · {self.metric or 'unknown'}"
        return self.kind.value


UNKNOWN_SHAPE = VectorShape(VectorKind.UNKNOWN)


def vector_shape(fields: Mapping[str, FieldFacts] | None) -> VectorShape:
    """The vectors of a schema's `fields` (None: the schema was not reported)."""
    if fields is None:
        return UNKNOWN_SHAPE
    dense = [field for field in fields.values() if _is_dense(field)]
    sparse = [field for field in fields.values() if _is_sparse(field)]
    if len(dense) == 1:
        return VectorShape(VectorKind.DENSE, dense[0].dimension, dense[0].metric)
    if len(dense) > 1:
        return VectorShape(VectorKind.SEVERAL)
    if sparse:
        return VectorShape(VectorKind.SPARSE)
    return VectorShape(VectorKind.NONE)


def _is_dense(field: FieldFacts) -> bool:
    return field.type == DENSE_VECTOR or (field.type == SEMANTIC_TEXT and field.dimension is not None)


def _is_sparse(field: FieldFacts) -> bool:
    return field.type == SPARSE_VECTOR or (field.type == SEMANTIC_TEXT and field.dimension is None)


def _show(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"
