"""Work after the acks: a turn waits while Slack requests are being answered, never forever, a few at a time."""

from __future__ import annotations

import asyncio

from bot.service.ack_priority import AckPriority, Turns


async def enter(turns: Turns, entered: asyncio.Event, leave: asyncio.Event) -> None:
    async with turns.turn():
        entered.set()
        await leave.wait()


async def let_others_run() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_with_no_ack_being_answered_a_turn_starts_at_once() -> None:
    acks = AckPriority(max_wait=60, quiet_after=60)
    entered, leave = asyncio.Event(), asyncio.Event()
    leave.set()
    async with asyncio.timeout(5):
        await enter(acks.turns(1), entered, leave)
    assert entered.is_set() and acks.quiet


async def test_a_turn_waits_while_acks_are_answered_and_starts_once_they_stop() -> None:
    acks = AckPriority(max_wait=60, quiet_after=0.01)
    entered, leave = asyncio.Event(), asyncio.Event()
    leave.set()
    with acks.answering():
        waiter = asyncio.create_task(enter(acks.turns(1), entered, leave))
        await let_others_run()
        assert not entered.is_set(), "the turn started while an ack was being answered"
    assert not acks.quiet, "quiet only after quiet_after without answers"
    async with asyncio.timeout(5):
        await waiter
    assert entered.is_set() and acks.quiet


async def test_a_steady_stream_of_acks_delays_a_turn_by_at_most_max_wait() -> None:
    acks = AckPriority(max_wait=0.05, quiet_after=60)
    entered, leave = asyncio.Event(), asyncio.Event()
    leave.set()
    with acks.answering():  # never quiet while this lasts
        async with asyncio.timeout(5):
            await enter(acks.turns(1), entered, leave)
        assert entered.is_set() and not acks.quiet


async def test_turns_of_one_kind_run_at_most_slots_at_a_time_in_arrival_order() -> None:
    acks = AckPriority()
    turns = acks.turns(2)
    entered = [asyncio.Event() for _ in range(3)]
    leave = [asyncio.Event() for _ in range(3)]
    tasks = []
    for i in range(3):
        tasks.append(asyncio.create_task(enter(turns, entered[i], leave[i])))
        await let_others_run()
    assert [e.is_set() for e in entered] == [True, True, False]
    leave[1].set()
    async with asyncio.timeout(5):
        await entered[2].wait()
    assert not tasks[0].done(), "the first is still in its turn"
    leave[0].set()
    leave[2].set()
    async with asyncio.timeout(5):
        await asyncio.gather(*tasks)


async def test_kinds_of_work_have_their_own_slots() -> None:
    acks = AckPriority()
    recording, submitting = acks.turns(1), acks.turns(1)
    held, leave = asyncio.Event(), asyncio.Event()
    holder = asyncio.create_task(enter(submitting, held, leave))
    await held.wait()
    entered, go = asyncio.Event(), asyncio.Event()
    go.set()
    async with asyncio.timeout(5):
        await enter(recording, entered, go)  # not behind the submitting slot
    leave.set()
    await holder
