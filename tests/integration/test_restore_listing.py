"""Finding tracked restore jobs in pages of `GET /restore-jobs`, against the Pinecone emulator over HTTP."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from bot.pinecone import PineconeClient, ServerError
from bot.service.restore_listing import PAGE_SIZE, list_wanted, page_budget
from tests.fakes.fixtures import PINECONE_API_KEY, pinecone
from tests.fakes.pinecone_emulator import PineconeEmulator

__all__ = ["pinecone"]


@pytest_asyncio.fixture
async def client(pinecone: PineconeEmulator) -> AsyncIterator[PineconeClient]:
    async with httpx.AsyncClient(base_url=pinecone.base_url) as http:
        yield PineconeClient(http, PINECONE_API_KEY, read_attempts=1)


def start(pinecone: PineconeEmulator, count: int, prefix: str) -> list[str]:
    backup = pinecone.add_backup()
    return [pinecone.start_restore(backup["backup_id"], f"{prefix}-{n}")["restore_job_id"] for n in range(count)]


def list_calls(pinecone: PineconeEmulator) -> int:
    return len(pinecone.calls("GET", "/restore-jobs"))


@pytest.mark.parametrize("tracked", [1, 99, 100, 101, 250])
async def test_a_project_of_only_tracked_jobs_costs_one_page_per_hundred(
    pinecone: PineconeEmulator, client: PineconeClient, tracked: int
) -> None:
    wanted = start(pinecone, tracked, "tracked")
    listing = await list_wanted(client, wanted, max_pages=page_budget(len(wanted)))
    assert set(listing.found) == set(wanted)
    assert listing.error is None
    assert list_calls(pinecone) == listing.pages == math.ceil(tracked / PAGE_SIZE)
    assert not pinecone.calls("GET", "/restore-jobs/*"), "no job was described on its own"


async def test_old_jobs_behind_the_tracked_ones_are_never_read(
    pinecone: PineconeEmulator, client: PineconeClient
) -> None:
    start(pinecone, 700, "old")
    wanted = start(pinecone, 150, "tracked")
    listing = await list_wanted(client, wanted, max_pages=page_budget(len(wanted)))
    assert set(listing.found) == set(wanted)
    assert list_calls(pinecone) == 2


async def test_paging_stops_at_the_budget_when_tracked_jobs_are_far_down_the_list(
    pinecone: PineconeEmulator, client: PineconeClient
) -> None:
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
    first = start(pinecone, 50, "first")
    last = start(pinecone, 100, "last")  # newest: on the first page
    pinecone.inject("GET", "/restore-jobs", status=0)  # faults apply in order: the first page is answered
    pinecone.inject("GET", "/restore-jobs", status=503)
    listing = await list_wanted(client, first + last, max_pages=10)
    assert set(listing.found) == set(last)
    assert isinstance(listing.error, ServerError)
    assert listing.pages == 1
