"""A restore request is in the store as soon as it is acked, even while a burst of acks holds back its Pinecone calls.

Otherwise a crash during a burst (an incident: many people restoring at once) would lose requests their
requesters had already been told were being checked.
"""

from __future__ import annotations

import asyncio

from bot.app.wiring import Services
from bot.core.request.field_rules import RestoreRequest
from bot.service.ack_priority import AckPriority
from bot.service.restores import RestoreService, Started
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.workspace import CHANNEL, USER


async def test_a_request_is_recorded_while_acks_are_answered_and_sent_to_pinecone_after(
    services: Services, pinecone: PineconeEmulator
) -> None:
    backup = pinecone.add_backup()
    # A long max_wait: only the end of the burst may let the Pinecone calls go.
    acks = AckPriority(max_wait=60, quiet_after=0.01)
    restores = RestoreService(services.store, services.pinecone, services.delivery, acks=acks)
    request = RestoreRequest(backup_id=backup["backup_id"], index_name="restored-index")

    with acks.answering():  # a burst of acks is still being answered
        requested = asyncio.create_task(restores.request(request, requester_id=USER, channel_id=CHANNEL))
        async with asyncio.timeout(5):
            # The store has no change notification to await: it is polled, with the deadline above.
            while (job := await services.store.latest_for_index("restored-index")) is None:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        assert job.requester_id == USER
        assert pinecone.calls(path_glob="/backups*") == [], "Pinecone was called before the burst ended"

    async with asyncio.timeout(10):
        outcome = await requested
    assert isinstance(outcome, Started) and outcome.job.id == job.id and outcome.thread_link is not None
    assert len(pinecone.create_index_calls) == 1
