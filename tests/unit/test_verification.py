"""Comparing a restored index with its backup: vectors at once, the record count patiently."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.vector_fields import VectorKind, VectorShape
from bot.core.verification import compare, recount

DENSE = VectorShape(VectorKind.DENSE, 1536, "cosine")


@dataclass(frozen=True)
class Facts:
    vector_shape: VectorShape
    record_count: int | None = 120_000

    @property
    def dimension(self) -> int | None:
        return self.vector_shape.dimension

    @property
    def metric(self) -> str | None:
        return self.vector_shape.metric


@dataclass(frozen=True)
class Stats:
    totalVectorCount: int | None
    dimension: int | None = 1536
    metric: str | None = "cosine"


def test_a_match_is_ok() -> None:
    verdict = compare(Facts(DENSE), Facts(DENSE), Stats(120_000))  # type: ignore[arg-type]
    assert verdict.ok and not verdict.count_short
    assert verdict.summary == "dimension 1,536 ✓ · metric cosine ✓ · records 120,000 ✓"


def test_a_count_that_falls_short_may_still_be_counting() -> None:
    verdict = compare(Facts(DENSE), Facts(DENSE), Stats(80_000))  # type: ignore[arg-type]
    assert not verdict.ok and verdict.count_short
    assert (verdict.expected_records, verdict.found_records) == (120_000, 80_000)
    assert verdict.vectors == "dimension 1,536 ✓ · metric cosine ✓"
    later = recount(verdict.vectors, (), 120_000, 120_000)
    assert later.ok and later.summary == "dimension 1,536 ✓ · metric cosine ✓ · records 120,000 ✓"


def test_vectors_that_differ_are_a_mismatch_at_once_whatever_the_count() -> None:
    verdict = compare(Facts(DENSE), Facts(DENSE), Stats(80_000, dimension=768))  # type: ignore[arg-type]
    assert not verdict.ok and not verdict.count_short
    assert "dimension: backup has 1,536, restored index has 768" in verdict.mismatches


def test_more_records_than_the_backup_is_not_waited_for() -> None:
    verdict = compare(Facts(DENSE), Facts(DENSE), Stats(130_000))  # type: ignore[arg-type]
    assert not verdict.ok and not verdict.count_short
    assert verdict.mismatches == ("records: backup has 120,000, restored index has 130,000",)


def test_sparse_and_several_field_schemas_are_compared_as_such() -> None:
    sparse = VectorShape(VectorKind.SPARSE)
    verdict = compare(Facts(sparse), Facts(sparse), Stats(120_000, dimension=None, metric="dotproduct"))  # type: ignore[arg-type]
    assert verdict.ok and verdict.summary.startswith("vectors sparse ✓")
    several = VectorShape(VectorKind.SEVERAL)
    verdict = compare(Facts(several), Facts(DENSE), Stats(120_000))  # type: ignore[arg-type]
    assert not verdict.ok and "vectors: backup has several fields, restored index has dense" in verdict.mismatches
