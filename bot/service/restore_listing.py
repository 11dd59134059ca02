"""Finding many restore jobs with few requests, whatever order Pinecone lists them in.

Describing each tracked job costs one request per job per cycle; a page of `GET /restore-jobs` answers for
up to 100 of them. The spec promises no order, and the SDK warns that pages may overlap, that a listing
may end early, and that it may leave out jobs whose index was deleted. So a cycle never assumes that the
jobs it wants are near the top:

* Each cycle reads at most `page_budget(wanted)` pages, `ceil(wanted / 100) + 2`, and stops as soon as
  every wanted job was seen. The first is always the top page (the newest jobs, if Pinecone lists newest
  first, which costs one page a cycle when the tracked jobs are the newest).
* The rest continue a *sweep* of the whole list where the previous cycle stopped (the pagination token is
  kept), so a long list in any order is read to its end over a few cycles at a bounded cost per cycle;
  once every wanted job was seen in a cycle, the next cycle starts from the top again.
* A job seen twice (overlapping pages) counts once. An item that does not match the spec is set aside
  with its ID; the rest of the page is used.
* A job that two whole sweeps in a row did not list is `unlisted`: the caller describes it on its own
  (a few a cycle, within the same budget). One sweep is not enough, because a listing may end early.
* A page token Pinecone refuses (400) starts the sweep again from the top.
* A full page that says it is the last one is asked for once more: a listing may end early, and the same
  request asked again usually goes on.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Collection
from dataclasses import dataclass, field

from bot.pinecone import BadRequest, PineconeClient, PineconeError
from bot.pinecone.models import Malformed, RestoreJob

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # the bot asks for 100 a page (2026-07's default)
EXTRA_PAGES = 2  # beyond ceil(wanted / PAGE_SIZE): room for other restores listed among ours
LOOKUPS_PER_CYCLE = EXTRA_PAGES  # jobs described on their own, taken from the same per-cycle budget
MISSED_SWEEPS = 2  # whole sweeps that did not list a job before it is described on its own


def page_budget(wanted: int) -> int:
    """Pinecone requests (pages and single look-ups together) one tracking cycle may make for `wanted` jobs."""
    return math.ceil(wanted / PAGE_SIZE) + EXTRA_PAGES


@dataclass
class Listing:
    """What the pages read in one cycle said about the wanted jobs."""

    found: dict[str, RestoreJob] = field(default_factory=dict)
    #: Wanted jobs whose item in the list could not be read.
    malformed: dict[str, Malformed] = field(default_factory=dict)
    pages: int = 0
    #: Why paging stopped early, when a page could not be read; `found` still holds the earlier pages.
    error: PineconeError | None = None


class RestoreJobSweep:
    """The list of restore jobs, read across tracking cycles (see the module docstring)."""

    def __init__(self) -> None:
        self._token: str | None = None  # where the sweep goes on; None: the next sweep starts at the top
        self._seen: set[str] = set()  # IDs listed since the current sweep began
        self._sweeping_for: set[str] = set()  # IDs wanted when it began
        self._misses: dict[str, int] = {}  # whole sweeps in a row that did not list a job

    def unlisted(self, wanted: Collection[str]) -> list[str]:
        """Wanted jobs that `MISSED_SWEEPS` whole sweeps in a row did not list, most missed first."""
        missed = [job_id for job_id in wanted if self._misses.get(job_id, 0) >= MISSED_SWEEPS]
        return sorted(missed, key=lambda job_id: -self._misses[job_id])

    def forget(self, keep: Collection[str]) -> None:
        """Drop what is known of jobs no longer tracked."""
        kept = set(keep)
        self._misses = {job_id: n for job_id, n in self._misses.items() if job_id in kept}

    async def read(self, client: PineconeClient, wanted: Collection[str], *, max_pages: int) -> Listing:
        """Read pages until every ID in `wanted` was seen, the sweep reaches the end, or `max_pages` were read."""
        listing = Listing()
        missing = set(wanted)
        top_read = False
        asked_again: str | None = None  # the token of a full "last" page already asked for once more
        while missing and listing.pages < max_pages:
            continuing = top_read
            if continuing and self._token is None:
                break  # the sweep reached the end in this cycle; the next one starts a new sweep at the top
            token = self._token if continuing else None
            try:
                page = await client.list_restore_jobs(limit=PAGE_SIZE, pagination_token=token)
            except BadRequest as exc:
                if token is None:
                    listing.error = exc
                else:
                    log.warning("Pinecone refused a restore-jobs page token (%s); listing again from the top", exc)
                    self._restart()
                break
            except PineconeError as exc:
                listing.error = exc
                break
            listing.pages += 1
            self._take(page.data, page.malformed, missing, listing)
            if not continuing:
                top_read = True
                if self._token is not None:
                    continue  # the top page on its own; the sweep goes on where it stopped
                self._sweeping_for = set(wanted)  # a new sweep, of which the top page is the first
            full = len(page.data) + len(page.malformed) >= PAGE_SIZE
            if page.next is None and full and continuing and asked_again != token:
                asked_again = token  # perhaps not the end: ask for the same page once more
                continue
            self._token = page.next
            if self._token is None:
                self._end()
        if not missing:
            self._restart()  # all seen: the next cycle starts from the top
        return listing

    def _take(self, items: list[RestoreJob], malformed: list[Malformed], missing: set[str], listing: Listing) -> None:
        for job in items:
            self._seen.add(job.restore_job_id)
            self._misses.pop(job.restore_job_id, None)
            if job.restore_job_id in missing or job.restore_job_id in listing.found:
                listing.found[job.restore_job_id] = job  # a repeat in a later page is the newer answer
                missing.discard(job.restore_job_id)
        for bad in malformed:
            if bad.item_id is None:
                log.warning("a listed restore job without a readable ID was skipped: %s", bad.problem)
                continue
            self._seen.add(bad.item_id)
            self._misses.pop(bad.item_id, None)
            if bad.item_id in missing:
                listing.malformed[bad.item_id] = bad
                missing.discard(bad.item_id)

    def _end(self) -> None:
        """The sweep read the list to its end: a wanted job it never saw has missed one more sweep."""
        for job_id in self._sweeping_for - self._seen:
            self._misses[job_id] = self._misses.get(job_id, 0) + 1
        self._restart()

    def _restart(self) -> None:
        self._token = None
        self._seen = set()
        self._sweeping_for = set()
