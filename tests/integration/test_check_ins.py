"""A long restore, followed by the tracker on a clock the test moves: Pinecone says Pending for hours, and the
thread hears "still restoring" at 30 min, 1 h, 2 h and 4 h, then that it is ready; never a percent."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from bot.app.wiring import Services
from bot.core.jobs import JobState, utcnow
from bot.core.outcomes import Started
from bot.core.request.field_rules import RestoreRequest
from bot.service.tracker import Tracker
from tests.fakes.pinecone_emulator import PineconeEmulator, Realism
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents
from tests.fakes.workspace import CHANNEL, USER


class Clock:
    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now


async def test_a_five_hour_restore_checks_in_four_times_and_never_shows_a_percent(
    services: Services, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    pinecone.realism = Realism(count_lag=0.0)
    backup = pinecone.add_backup(record_count=100_000_000)
    pinecone.set_restore_duration(backup["backup_id"], math.inf)
    request = RestoreRequest(backup_id=backup["backup_id"], index_name="restored-index")
    outcome = await services.restores.request(request, requester_id=USER, channel_id=CHANNEL)
    assert isinstance(outcome, Started)
    clock = Clock()
    tracker = Tracker(
        services.store,
        services.pinecone.without_retries(),
        services.restores,
        services.delivery,
        poll_interval=10.0,
        restore_timeout=8 * 3600.0,
        incident_channel=None,
        data_plane_url=pinecone.data_plane_url,
        clock=clock,
    )
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    pinecone.advance(5.0)  # past the 404 a job just created may get

    def replies() -> list[str]:
        return [m["text"] for m in slack.thread(CHANNEL, parent["ts"])]

    started = clock.now
    check_ins = 0
    for minutes in (1, 20, 31, 45, 61, 119, 121, 239, 241, 299):
        clock.now = started + timedelta(minutes=minutes)
        await tracker.cycle()
        if minutes in (31, 61, 121, 241):
            check_ins += 1
            await slack.wait_for(lambda n=check_ins: len(replies()) == 1 + n, timeout=10)
            await slack.wait_for(lambda n=check_ins: len(slack.message_history(CHANNEL, parent["ts"])) == 1 + n)
    job = await services.store.latest_for_index("restored-index")
    assert job is not None and job.pinecone_status == "Pending" and job.check_ins == 4
    said = replies()[1:]
    assert [text.split(" after ")[1].split(" ")[0] for text in said] == ["30m", "1h", "2h", "4h"]
    assert all("Pinecone: `Pending`" in text and "an estimate" in text for text in said)
    # The parent is redrawn at each check-in (its "running ... as of" moves on), never at a poll in between.
    versions = slack.message_history(CHANNEL, parent["ts"])
    assert len(versions) == 5 and all("Pinecone reports `Pending`" in repr(v["blocks"]) for v in versions[1:])
    assert all("%" not in repr(version) for version in versions)

    [job_model] = pinecone.restore_jobs()
    pinecone.set_restore_status(job_model["restore_job_id"], "Completed")
    clock.now = started + timedelta(minutes=301)
    await tracker.cycle()
    job = await services.store.latest_for_index("restored-index")
    assert job is not None and job.state is JobState.READY and job.percent_complete == 100
    await slack.wait_for(lambda: any("is ready" in text for text in replies()), timeout=10)
