"""Finding many restore jobs with few requests: page through `GET /restore-jobs`, 100 at a time.

Describing each tracked job costs one request per job per cycle; a page of the list answers for up
to 100 of them. The list is read until every wanted job has been seen, so when the project holds
only the tracked jobs a cycle costs `ceil(jobs / 100)` requests. Pinecone lists newest first, and
tracked jobs are recent, so old finished jobs in a busy project sit behind them and are never read.

The spec does not promise that order, so paging is also capped (`page_budget`): a job not seen
within the cap is looked up on its own by the caller, a few per cycle (`LOOKUPS_PER_CYCLE`), which
bounds a cycle's cost even in a project whose list is long and ordered some other way.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field

from bot.pinecone import PineconeClient, PineconeError
from bot.pinecone.models import RestoreJob

PAGE_SIZE = 100  # the most the spec allows per page
EXTRA_PAGES = 2  # beyond ceil(wanted / PAGE_SIZE): room for other tools' restores listed first
LOOKUPS_PER_CYCLE = 10  # single describe_restore_job calls for jobs the capped list did not reach


def page_budget(wanted: int) -> int:
    return math.ceil(wanted / PAGE_SIZE) + EXTRA_PAGES


@dataclass
class Listing:
    """What the pages read in one sweep said about the wanted jobs."""

    found: dict[str, RestoreJob] = field(default_factory=dict)
    pages: int = 0
    #: Why paging stopped early, when a page could not be read; `found` still holds the earlier pages.
    error: PineconeError | None = None


async def list_wanted(client: PineconeClient, wanted: Collection[str], *, max_pages: int) -> Listing:
    """Read pages of restore jobs until every ID in `wanted` is found, the list ends, or `max_pages` were read."""
    listing = Listing()
    missing = set(wanted)
    token: str | None = None
    while missing and listing.pages < max_pages:
        try:
            page = await client.list_restore_jobs(limit=PAGE_SIZE, pagination_token=token)
        except PineconeError as exc:
            listing.error = exc
            break
        listing.pages += 1
        for job in page.data:
            if job.restore_job_id in missing:
                missing.discard(job.restore_job_id)
                listing.found[job.restore_job_id] = job
        token = page.pagination.next if page.pagination else None
        if not token:
            break
    return listing
