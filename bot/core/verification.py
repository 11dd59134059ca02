"""Does a restored index match the backup it came from? Pure: facts in, a verdict out."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.backup_facts import BackupFacts, IndexFacts, IndexStatsFacts


@dataclass(frozen=True)
class Verdict:
    ok: bool
    summary: str  # one line for the thread, e.g. "dimension 1536 ✓ · metric cosine ✓ · 120,000 records ✓"
    mismatches: tuple[str, ...] = ()


def compare(backup: BackupFacts, index: IndexFacts, stats: IndexStatsFacts) -> Verdict:
    checks: list[tuple[str, object, object]] = [
        ("dimension", backup.dimension, stats.dimension if stats.dimension is not None else index.dimension),
        ("metric", backup.metric, stats.metric or index.metric),
        ("records", backup.record_count, stats.totalVectorCount),
    ]
    parts: list[str] = []
    mismatches: list[str] = []
    for name, expected, actual in checks:
        if expected is None:
            parts.append(f"{name} {_show(actual)} (backup does not say)")
        elif expected == actual:
            parts.append(f"{name} {_show(actual)} ✓")
        else:
            parts.append(f"{name} {_show(actual)} ✗ (backup: {_show(expected)})")
            mismatches.append(f"{name}: backup has {_show(expected)}, restored index has {_show(actual)}")
    return Verdict(ok=not mismatches, summary=" · ".join(parts), mismatches=tuple(mismatches))


def unverifiable(reason: str) -> Verdict:
    """The comparison could not be made; this is said, but it is not a mismatch."""
    return Verdict(ok=True, summary=f"not verified: {reason}")


def _show(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "unknown" if value is None else str(value)
