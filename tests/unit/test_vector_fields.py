"""What an index or backup schema says about its vectors (API 2026-07 has no `dimension` or `metric` fields)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from bot.core.vector_fields import VectorKind, VectorShape, vector_shape


@dataclass(frozen=True)
class Field:
    type: str | None
    dimension: int | None = None
    metric: str | None = None


DENSE = Field("dense_vector", 1536, "cosine")
SPARSE = Field("sparse_vector")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        # A vectors-API dense index reports both reserved fields: still one dense field.
        ({"_values": DENSE, "_sparse_values": SPARSE}, VectorShape(VectorKind.DENSE, 1536, "cosine")),
        ({"embedding": Field("dense_vector", 768, "dotproduct")}, VectorShape(VectorKind.DENSE, 768, "dotproduct")),
        (
            {"embedding": DENSE, "title": Field("string"), "genre": Field(None)},
            VectorShape(VectorKind.DENSE, 1536, "cosine"),
        ),
        ({"text": Field("semantic_text", 1024, "cosine")}, VectorShape(VectorKind.DENSE, 1024, "cosine")),
        ({"_sparse_values": SPARSE}, VectorShape(VectorKind.SPARSE)),
        ({"text": Field("semantic_text", None, "dotproduct")}, VectorShape(VectorKind.SPARSE)),
        ({"a": DENSE, "b": Field("dense_vector", 384, "euclidean")}, VectorShape(VectorKind.SEVERAL)),
        ({"body": Field("string")}, VectorShape(VectorKind.NONE)),
        ({}, VectorShape(VectorKind.NONE)),
        (None, VectorShape(VectorKind.UNKNOWN)),
    ],
)
def test_the_vectors_of_a_schema(fields: dict[str, Field] | None, expected: VectorShape) -> None:
    assert vector_shape(fields) == expected


def test_labels_say_what_the_schema_holds() -> None:
    assert VectorShape(VectorKind.DENSE, 1536, "cosine").label == "1,536 · cosine"
    assert VectorShape(VectorKind.SPARSE).label == "sparse"
    assert VectorShape(VectorKind.SEVERAL).label == "several fields"
