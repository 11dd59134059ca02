"""Finding tracked restore jobs in pages of `GET /restore-jobs`, against the Pinecone emulator over HTTP."""

from __future__ import annotations

import itertools
import math
from collections.abc import AsyncIterator, Collection

import httpx
import pytest
import pytest_asyncio

from bot.pinecone import PineconeClient, ServerError
from bot.service.restore_listing import PAGE_SIZE, Listing, RestoreJobSweep, page_budget
from tests.fakes.fixtures import PINECONE_API_KEY, pinecone
from tests.fakes.pinecone_emulator import ListingOrder, PineconeEmulator, Realism

__all__ = ["pinecone"]


@pytest_asyncio.fixture
async def client(pinecone: PineconeEmulator) -> AsyncIterator[PineconeClient]:
    async with httpx.AsyncClient(base_url=pinecone.base_url) as http:
        yield PineconeClient(http, PINECONE_API_KEY, read_attempts=1)


async def list_wanted(client: PineconeClient, wanted: Collection[str], *, max_pages: int) -> Listing:
    """One sweep from the top: pages until every ID in `wanted` is found, the list ends, or `max_pages` were read."""
    return await RestoreJobSweep().read(client, wanted, max_pages=max_pages)


def start(pinecone: PineconeEmulator, count: int, prefix: str) -> list[str]:
    backup = pinecone.add_backup()
    return [pinecone.start_restore(backup["backup_id"], f"{prefix}-{n}")["restore_job_id"] for n in range(count)]


def list_calls(pinecone: PineconeEmulator) -> int:
    return len(pinecone.calls("GET", "/restore-jobs"))


@pytest.mark.parametrize("tracked", [1, 99, 100, 101, 250])
async def test_a_project_of_only_tracked_jobs_costs_one_page_per_hundred(
    pinecone: PineconeEmulator, client: PineconeClient, tracked: int
) -> None:
    pinecone.realism = Realism.regular()  # newest first, pages that neither overlap nor end early
    wanted = start(pinecone, tracked, "tracked")
    listing = await list_wanted(client, wanted, max_pages=page_budget(len(wanted)))
    assert set(listing.found) == set(wanted)
    assert listing.error is None
    assert list_calls(pinecone) == listing.pages == math.ceil(tracked / PAGE_SIZE)
    assert not pinecone.calls("GET", "/restore-jobs/*"), "no job was described on its own"


async def test_old_jobs_behind_the_tracked_ones_are_never_read(
    pinecone: PineconeEmulator, client: PineconeClient
) -> None:
    pinecone.realism = Realism.regular()  # newest first, pages that neither overlap nor end early
    start(pinecone, 700, "old")
    wanted = start(pinecone, 150, "tracked")
    listing = await list_wanted(client, wanted, max_pages=page_budget(len(wanted)))
    assert set(listing.found) == set(wanted)
    assert list_calls(pinecone) == 2


async def test_paging_stops_at_the_budget_when_tracked_jobs_are_far_down_the_list(
    pinecone: PineconeEmulator, client: PineconeClient
) -> None:
    pinecone.realism = Realism.regular()  # newest first, pages that neither overlap nor end early
    wanted = start(pinecone, 3, "tracked")
    start(pinecone, 950, "newer")  # e.g. another tool's restores, listed first
    listing = await list_wanted(client, wanted, max_pages=page_budget(len(wanted)))
    assert listing.found == {}
    assert list_calls(pinecone) == page_budget(3) == 3
    assert listing.error is None


async def test_a_job_pinecone_no_longer_lists_ends_the_sweep_at_the_last_page(
    pinecone: PineconeEmulator, client: PineconeClient
) -> None:
    wanted = [*start(pinecone, 2, "tracked"), "rj-forgotten-by-pinecone"]
    listing = await list_wanted(client, wanted, max_pages=10)
    assert set(listing.found) == set(wanted[:2])
    assert listing.pages == 1, "the list ended: nothing more to read"


async def test_a_failing_page_keeps_what_earlier_pages_found(
    pinecone: PineconeEmulator, client: PineconeClient
) -> None:
    pinecone.realism = Realism.regular()  # newest first, pages that neither overlap nor end early
    first = start(pinecone, 50, "first")
    last = start(pinecone, 100, "last")  # newest: on the first page
    pinecone.inject("GET", "/restore-jobs", status=0)  # faults apply in order: the first page is answered
    pinecone.inject("GET", "/restore-jobs", status=503)
    listing = await list_wanted(client, first + last, max_pages=10)
    assert set(listing.found) == set(last)
    assert isinstance(listing.error, ServerError)
    assert listing.pages == 1


# -- whatever order Pinecone lists them in (the strict emulator's defaults) -------------------------------


async def read_until_all_seen(
    sweep: RestoreJobSweep, client: PineconeClient, wanted: list[str], cycles: int
) -> tuple[set[str], list[int]]:
    """Cycles of the tracker's sweep; the jobs seen and the pages each cycle read."""
    seen: set[str] = set()
    pages: list[int] = []
    for _ in range(cycles):
        listing = await sweep.read(client, wanted, max_pages=page_budget(len(wanted)))
        seen |= set(listing.found)
        pages.append(listing.pages)
        if seen == set(wanted):
            break
    return seen, pages


@pytest.mark.parametrize("order", ["newest_first", "oldest_first", "shuffled"])
async def test_tracked_jobs_among_many_others_are_all_seen_in_a_few_cycles_at_a_bounded_cost(
    pinecone: PineconeEmulator, client: PineconeClient, order: ListingOrder
) -> None:
    pinecone.realism = Realism(listing_order=order, stop_early=0.0)  # pages still overlap
    start(pinecone, 300, "old")
    wanted = start(pinecone, 120, "tracked")
    start(pinecone, 300, "newer")
    seen, pages = await read_until_all_seen(RestoreJobSweep(), client, wanted, cycles=10)
    assert seen == set(wanted)
    assert max(pages) <= page_budget(len(wanted)) == 4
    assert len(pages) <= 4, "the list is read on where the last cycle stopped, not again from the top"


async def test_overlapping_pages_and_early_ends_lose_no_job(pinecone: PineconeEmulator, client: PineconeClient) -> None:
    pinecone.realism = Realism(stop_early=0.3, seed=7)
    wanted = start(pinecone, 250, "tracked")
    # The service as set up here does what the test is about: listings that end early, pages that repeat.
    passes = [await whole_listing(client) for _ in range(6)]
    assert any(len({job for page in listing for job in page}) < len(wanted) for listing in passes), "an early end"
    assert any(page[0] == before[-1] for listing in passes for before, page in itertools.pairwise(listing))

    seen, _ = await read_until_all_seen(RestoreJobSweep(), client, wanted, cycles=20)
    assert seen == set(wanted)


async def whole_listing(client: PineconeClient) -> list[list[str]]:
    """One pass over GET /restore-jobs from the top, as Pinecone pages it: each page's job IDs."""
    pages: list[list[str]] = []
    token: str | None = None
    while True:
        page = await client.list_restore_jobs(limit=100, pagination_token=token)
        pages.append([job.restore_job_id for job in page.data])
        token = page.next
        if token is None:
            return pages


async def test_a_job_two_whole_sweeps_did_not_list_is_named_for_a_look_up(
    pinecone: PineconeEmulator, client: PineconeClient
) -> None:
    pinecone.realism = Realism(stop_early=0.0)
    listed = start(pinecone, 5, "tracked")
    gone = pinecone.start_restore(pinecone.add_backup()["backup_id"], "deleted-later")["restore_job_id"]
    pinecone.remove_index("deleted-later")  # the list leaves out jobs whose index was deleted
    sweep = RestoreJobSweep()
    wanted = [*listed, gone]
    await sweep.read(client, wanted, max_pages=3)
    assert sweep.unlisted(wanted) == [], "one sweep may have ended early: not yet"
    listing = await sweep.read(client, wanted, max_pages=3)
    assert set(listing.found) == set(listed)
    assert sweep.unlisted(wanted) == [gone]


async def test_a_malformed_item_is_set_aside_and_the_rest_of_its_page_used(
    pinecone: PineconeEmulator, client: PineconeClient
) -> None:
    wanted = start(pinecone, 3, "tracked")
    pinecone.malform_restore_job(wanted[1], created_at="yesterday")
    listing = await RestoreJobSweep().read(client, wanted, max_pages=3)
    assert set(listing.found) == {wanted[0], wanted[2]}
    assert set(listing.malformed) == {wanted[1]} and "created_at" in listing.malformed[wanted[1]].problem


async def test_a_page_token_pinecone_refuses_starts_the_sweep_again_from_the_top(
    pinecone: PineconeEmulator, client: PineconeClient
) -> None:
    pinecone.realism = Realism.regular()
    wanted = start(pinecone, 3, "tracked")
    start(pinecone, 450, "newer")
    sweep = RestoreJobSweep()
    await sweep.read(client, wanted, max_pages=3)
    pinecone.inject("GET", "/restore-jobs", status=0)  # the top page is answered
    pinecone.inject("GET", "/restore-jobs", status=400, code="INVALID_ARGUMENT", message="bad page token")
    listing = await sweep.read(client, wanted, max_pages=3)
    assert listing.error is None, "a refused token is not an outage"
    listing = await sweep.read(client, wanted, max_pages=3)
    assert listing.found == {}, "pages 1-3 again (the old token would have reached ours on page 5)"
    listing = await sweep.read(client, wanted, max_pages=3)
    assert set(listing.found) == set(wanted)
