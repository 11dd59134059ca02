"""How long a restore may take, from the only figures Pinecone publishes. Pure: a record count in, an estimate out.

Pinecone reports no progress while a restore runs (API 2026-07: `Pending` until done), so anything the bot
says about the time left is an estimate, and it is always labelled as one. Its source is Pinecone's
documentation, "Backups overview", section *Performance*
(https://docs.pinecone.io/guides/manage-data/backups-overview):

    Backup and restore times depend upon the size of the index and number of namespaces:
    - For less than 1M vectors in a namespace, backups and restores take approximately 10 minutes.
    - For 100,000,000 vectors, backups and restores can take up to 5 hours.

Between those two points the estimate is a straight line; below the first it is the first; above the
second there is no published figure, so the estimate says only "more than 5 hours". The number of
namespaces, which Pinecone says also matters, is not in the formula: it publishes no figure for it.
"""

from __future__ import annotations

from dataclasses import dataclass

SOURCE = "https://docs.pinecone.io/guides/manage-data/backups-overview"
SMALL_RECORDS = 1_000_000
SMALL_SECONDS = 10 * 60.0
LARGE_RECORDS = 100_000_000
LARGE_SECONDS = 5 * 3600.0


@dataclass(frozen=True)
class Estimate:
    """About `seconds` in all, for `records` records; `beyond_published`: at least that, nothing published above."""

    seconds: float
    records: int
    beyond_published: bool = False


def restore_estimate(record_count: int | None) -> Estimate | None:
    """The published time for a backup of `record_count` records; None when the backup does not say."""
    if record_count is None or record_count < 0:
        return None
    if record_count <= SMALL_RECORDS:
        return Estimate(SMALL_SECONDS, record_count)
    if record_count > LARGE_RECORDS:
        return Estimate(LARGE_SECONDS, record_count, beyond_published=True)
    share = (record_count - SMALL_RECORDS) / (LARGE_RECORDS - SMALL_RECORDS)
    return Estimate(SMALL_SECONDS + share * (LARGE_SECONDS - SMALL_SECONDS), record_count)
