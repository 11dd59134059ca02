"""Does a restored index match the backup it came from? Pure: facts in, a verdict out.

The vectors (dimension and metric, or what the schema holds instead) are decided at once: a restore does
not change them later. The record count is not: right after an index is Ready, describe_index_stats may
count fewer records than the backup holds while Pinecone is still counting, so a count that falls short
is re-checked with back-off (`recheck_delay`) for a bounded window before it is called a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.backup_facts import BackupFacts, IndexFacts, IndexStatsFacts
from bot.core.vector_fields import VectorKind


@dataclass(frozen=True)
class Verdict:
    ok: bool
    summary: str  # one line for the thread, e.g. "dimension 1536 ✓ · metric cosine ✓ · 120,000 records ✓"
    mismatches: tuple[str, ...] = ()
    #: The summary of the vectors' checks alone (dimension and metric, or what the schema holds instead).
    vectors: str = ""
    #: The only difference is fewer records than the backup holds: Pinecone may still be counting them.
    count_short: bool = False
    expected_records: int | None = None
    found_records: int | None = None


def compare(backup: BackupFacts, index: IndexFacts, stats: IndexStatsFacts) -> Verdict:
    shape = backup.vector_shape
    checks: list[tuple[str, object, object]] = []
    if shape.kind in (VectorKind.DENSE, VectorKind.UNKNOWN):
        checks.append(
            ("dimension", backup.dimension, stats.dimension if stats.dimension is not None else index.dimension)
        )
        checks.append(("metric", backup.metric, stats.metric or index.metric))
    else:  # sparse, several dense fields, or none: there is no one dimension and metric to compare
        checks.append(("vectors", shape.kind.value, index.vector_shape.kind.value))
    parts: list[str] = []
    mismatches: list[str] = []
    for name, expected, actual in checks:
        part, mismatch = _check(name, expected, actual)
        parts.append(part)
        mismatches += mismatch
    return recount(" · ".join(parts), tuple(mismatches), backup.record_count, stats.totalVectorCount)


def recount(vectors: str, vector_mismatches: tuple[str, ...], expected: int | None, found: int | None) -> Verdict:
    """The verdict from the vectors' checks (their summary and mismatches) and a record count, which may be a
    later re-check of a count that fell short."""
    part, mismatch = _check("records", expected, found)
    mismatches = (*vector_mismatches, *mismatch)
    count_short = not vector_mismatches and bool(mismatch) and expected is not None and (found or 0) < expected
    return Verdict(
        ok=not mismatches,
        summary=f"{vectors} · {part}" if vectors else part,
        mismatches=mismatches,
        vectors=vectors,
        count_short=count_short,
        expected_records=expected,
        found_records=found,
    )


def _check(name: str, expected: object, actual: object) -> tuple[str, tuple[str, ...]]:
    if expected is None:
        return f"{name} {_show(actual)} (backup does not say)", ()
    if expected == actual:
        return f"{name} {_show(actual)} ✓", ()
    return (
        f"{name} {_show(actual)} ✗ (backup: {_show(expected)})",
        (f"{name}: backup has {_show(expected)}, restored index has {_show(actual)}",),
    )


def unverifiable(reason: str) -> Verdict:
    """The comparison could not be made; this is said, but it is not a mismatch."""
    return Verdict(ok=True, summary=f"not verified: {reason}")


def recheck_delay(checks_done: int, *, first: float, longest: float) -> float:
    """Seconds before re-checking a count that fell short, after `checks_done` checks: `first`, doubling,
    never more than `longest`."""
    return min(longest, first * 2.0 ** max(0, checks_done - 1))


def _show(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "unknown" if value is None else str(value)
