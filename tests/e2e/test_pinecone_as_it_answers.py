"""The bot against Pinecone as it really answers (API 2026-07, the strict emulator): no progress figure, null
fields, no promised listing order, lagging counts, Cancelled jobs, 412, a plain-text 401, a malformed answer."""

from __future__ import annotations

import math
from typing import Any

import pytest

from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.fakes.pinecone_emulator import ListingOrder, PineconeEmulator, Realism
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents, response_posts
from tests.fakes.workspace import CHANNEL, INCIDENT_CHANNEL, USER


def text_of(message: dict[str, Any]) -> str:
    return str(message.get("text", "")) + repr(message.get("blocks", ""))


def reply_containing(slack: SlackStandIn, ts: str, fragment: str) -> dict[str, Any] | None:
    return next((m for m in slack.thread(CHANNEL, ts) if fragment in m.get("text", "")), None)


def job_of(bot: BotProcess, index_name: str) -> dict[str, Any] | None:
    return next((job for job in bot.jobs() if job["index_name"] == index_name), None)


async def status_answer(bot: BotProcess, slack: SlackStandIn, index_name: str) -> str:
    command = await bot.command(f"status {index_name}")
    [answer] = await slack.wait_for(lambda: response_posts(slack, command.response_url))
    return text_of(answer)


# -- no progress figure: what is known is shown, nothing is invented ----------------------------------------


async def test_a_pending_restore_shows_its_state_time_and_an_estimate_never_a_percent(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup(record_count=50_500_000)
    pinecone.set_restore_duration(backup["backup_id"], math.inf)
    await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    started = await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "Pinecone accepted"))
    assert "Pinecone reports no progress" in started["text"] and "%" not in started["text"]
    await slack.wait_for(lambda: (job := job_of(bot, "restored-index")) and job["pinecone_status"] == "Pending")

    answer = await status_answer(bot, slack, "restored-index")
    assert "Pinecone reports `Pending`" in answer and "running" in answer
    assert "about 2h 35m in all for 50,500,000 records" in answer and "an estimate" in answer
    parent_now = text_of(slack.message(CHANNEL, parent["ts"]))
    assert "accepted by Pinecone, running" in parent_now and "Estimate:" in parent_now
    for shown in (answer, parent_now):
        assert "%" not in shown and "░" not in shown
    assert bot.jobs()[0]["percent_complete"] is None, "no percent Pinecone did not report"

    # A status Pinecone may add later is shown as it came, and redraws the parent; nothing crashes.
    [job] = pinecone.restore_jobs()
    pinecone.set_restore_status(job["restore_job_id"], "Throttled")
    await slack.wait_for(lambda: "`Throttled`" in text_of(slack.message(CHANNEL, parent["ts"])))
    assert "`Throttled`" in await status_answer(bot, slack, "restored-index")
    assert bot.jobs()[0]["state"] == "restoring"


async def test_null_fields_are_read_as_not_known_yet(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    # created_at stays null, the host empty until Ready, the backup's counts unknown until it is Ready.
    pinecone.realism = Realism(created_at_null_for=math.inf, not_found_after_create=math.inf)
    backup = pinecone.add_backup(status="Initializing")
    pinecone.set_backup_status(backup["backup_id"], "Ready")
    pinecone.set_restore_duration(backup["backup_id"], 1.0)
    await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    ready = await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "is ready"), timeout=20)
    assert pinecone.restore_jobs()[0]["created_at"] is None
    assert pinecone.index("restored-index")["host"] in ready["text"]  # type: ignore[index]
    assert "records 120,000 ✓" in ready["text"] and "dimension 1,536 ✓" in ready["text"]


# -- reconcile without trusting order -------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["newest_first", "oldest_first", "shuffled"])
async def test_a_lost_create_answer_is_reconciled_whatever_the_listing_order(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn, order: ListingOrder
) -> None:
    pinecone.realism = Realism(listing_order=order)  # pages still overlap and sometimes end early
    others = pinecone.add_backup()
    pinecone.set_restore_duration(others["backup_id"], math.inf)
    for n in range(250):  # another tool's restores, before and after ours in the list
        pinecone.start_restore(others["backup_id"], f"other-{n}")
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.5)
    pinecone.inject("POST", "/backups/*/create-index", status=503, then_process=True)  # applied; answer lost
    command = await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL), timeout=20)
    await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "is ready"), timeout=30)
    assert len(pinecone.create_index_calls) == 1, "found, not created again"
    [answer] = response_posts(slack, command.response_url)
    assert "started" in answer["text"] and "already exists" not in answer["text"]
    [job] = bot.jobs()
    assert job["restore_job_id"] == pinecone.restore_jobs(backup["backup_id"])[0]["restore_job_id"]


async def test_a_409_that_is_our_own_restore_is_adopted_never_called_taken(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    # Pinecone takes the create but the answer is lost, lists the new job only much later, and does not
    # show the new index at first either: the bot sends again, and hears 409 for its own restore.
    pinecone.realism = Realism(unlisted_after_create=math.inf)
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 1.0)
    pinecone.inject("POST", "/backups/*/create-index", status=503, then_process=True)
    pinecone.inject("GET", "/indexes/restored-index", status=404, code="NOT_FOUND", message="Index not found.")
    command = await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL), timeout=20)
    started = await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "Pinecone accepted"))
    assert "Pinecone did not list the restore job" in started["text"]
    await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "is ready"), timeout=30)
    assert [call.status for call in pinecone.create_index_calls] == [503, 409]
    [answer] = response_posts(slack, command.response_url)
    assert "started" in answer["text"] and "already exists" not in answer["text"]
    assert len(pinecone.indexes()) == 1 and [job["state"] for job in bot.jobs()] == ["ready"]


async def test_a_restore_job_another_job_holds_is_never_adopted(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    await bot.command(f"{backup['backup_id']} restored-index")
    await slack.wait_for(lambda: [job["state"] for job in bot.jobs()] == ["ready"], timeout=20)
    # The same request again: the first attempt's answer is lost (not applied), then the name is taken by the
    # index the first job restored, whose restore job (same backup, same name, same requester) that job holds.
    pinecone.inject("POST", "/backups/*/create-index", status=503)
    command = await bot.command(f"{backup['backup_id']} restored-index")
    [answer] = await slack.wait_for(lambda: response_posts(slack, command.response_url), timeout=20)
    assert "`restored-index` already exists" in answer["text"]
    first, second = bot.jobs()
    assert first["state"] == "ready" and second["state"] == "rejected" and second["restore_job_id"] is None


async def test_an_index_someone_else_restored_into_the_name_is_still_taken(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.add_index("restored-index", source_backup_id=backup["backup_id"], tags={"restored-by": "U0BOB0001"})
    pinecone.inject("POST", "/backups/*/create-index", status=503)  # an earlier attempt whose outcome is unknown
    command = await bot.command(f"{backup['backup_id']} restored-index")
    [answer] = await slack.wait_for(lambda: response_posts(slack, command.response_url), timeout=20)
    assert "`restored-index` already exists" in answer["text"]
    assert [job["state"] for job in bot.jobs()] == ["rejected"] and parents(slack, CHANNEL) == []


# -- verify patiently ---------------------------------------------------------------------------------------


async def test_a_count_that_lags_behind_ready_is_verified_not_called_a_mismatch(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    pinecone.realism = Realism(count_lag=3.0)
    backup = pinecone.add_backup(record_count=120_000)
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    async with start_bot(RESTORE_BOT_VERIFY_TIMEOUT="60") as bot:
        await bot.command(f"{backup['backup_id']} restored-index")
        [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
        await slack.wait_for(
            lambda: any("Verifying" in text_of(v) for v in slack.message_history(CHANNEL, parent["ts"])), timeout=20
        )
        ready = await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "is ready"), timeout=30)
        assert "records 120,000 ✓" in ready["text"] and "re-checked for" in ready["text"]
        assert "Does not match" not in ready["text"]
        assert slack.messages_in(INCIDENT_CHANNEL) == []
        [job] = bot.jobs()
        assert job["state"] == "ready" and job["verified"] == 1
    counts = pinecone.calls("POST", "/data/*/describe_index_stats")
    assert len(counts) >= 2, "counted again, with back-off, until it matched"


# -- Pinecone's refusals and endings ---------------------------------------------------------------------------


@pytest.mark.parametrize("delete_index", [False, True], ids=["index-kept", "index-deleted-job-unlisted"])
async def test_a_cancelled_restore_job_is_a_failure_in_the_thread_and_the_incident_channel(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn, delete_index: bool
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], math.inf)
    await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    await slack.wait_for(lambda: (job := job_of(bot, "restored-index")) and job["pinecone_status"] == "Pending")
    [job] = pinecone.restore_jobs()
    pinecone.cancel_restore(job["restore_job_id"], delete_index=delete_index)
    failed = await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "Cancelled"), timeout=20)
    assert f"<@{USER}>" in failed["text"] and "Pinecone reports the restore job as Cancelled" in failed["text"]
    [notice] = await slack.wait_for(lambda: slack.messages_in(INCIDENT_CHANNEL))
    assert "Cancelled" in notice["text"]
    [stored] = bot.jobs()
    assert stored["state"] == "failed" and stored["pinecone_status"] == "Cancelled"


async def test_a_backup_pinecone_says_is_not_ready_412_is_refused_plainly(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    message = f"Backup {backup['backup_id']} is not completed"
    pinecone.inject("POST", "/backups/*/create-index", status=412, code="FAILED_PRECONDITION", message=message)
    command = await bot.command(f"{backup['backup_id']} restored-index")
    [answer] = await slack.wait_for(lambda: response_posts(slack, command.response_url))
    assert "is not ready to restore yet" in answer["text"] and "is not completed" in answer["text"]
    assert [job["state"] for job in bot.jobs()] == ["rejected"] and parents(slack, CHANNEL) == []


async def test_a_plain_text_401_while_tracking_is_said_once_as_a_rejected_key_not_a_crash(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], math.inf)
    await bot.command(f"{backup['backup_id']} restored-index")
    [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL))
    await slack.wait_for(lambda: (job := job_of(bot, "restored-index")) and job["pinecone_status"] == "Pending")
    real_key, pinecone.api_key = pinecone.api_key, "pc-rotated-key"  # the bot's key stops working
    await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "rejects the bot's API key"), timeout=20)
    assert any(call.status == 401 for call in pinecone.calls("GET", "/restore-jobs"))
    assert not reply_containing(slack, parent["ts"], "has not answered since"), "a refusal, not an outage"
    pinecone.api_key = real_key
    [job] = pinecone.restore_jobs()
    pinecone.set_restore_status(job["restore_job_id"], "Completed")
    await slack.wait_for(lambda: reply_containing(slack, parent["ts"], "is ready"), timeout=30)
    assert reply_containing(slack, parent["ts"], "answering again")
    assert real_key not in bot.log and "pc-rotated-key" not in bot.log


# -- one bad answer never stops the others ------------------------------------------------------------------


async def test_a_malformed_job_among_healthy_ones_is_logged_backed_off_and_timed_out_on_time(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    broken_backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 1.0)
    pinecone.set_restore_duration(broken_backup["backup_id"], math.inf)
    async with start_bot(RESTORE_BOT_RESTORE_TIMEOUT="15") as bot:
        await bot.command(f"{broken_backup['backup_id']} broken-index")
        await slack.wait_for(lambda: (job := job_of(bot, "broken-index")) and job["state"] == "restoring")
        [broken] = pinecone.restore_jobs(broken_backup["backup_id"])
        pinecone.malform_restore_job(broken["restore_job_id"], created_at="yesterday", status=7)
        for name in ("healthy-one", "healthy-two"):
            await bot.command(f"{backup['backup_id']} {name}")
        await slack.wait_for(
            lambda: (
                {job["index_name"]: job["state"] for job in bot.jobs()}
                == {"broken-index": "restoring", "healthy-one": "ready", "healthy-two": "ready"}
            ),
            timeout=30,
        )
        line = await bot.wait_for_log(
            f"restore job {broken['restore_job_id']}: Pinecone's answer does not match its spec"
        )
        assert job_of(bot, "broken-index")["id"] in line  # type: ignore[index]
        await slack.wait_for(lambda: job_of(bot, "broken-index")["state"] == "timed_out", timeout=45)  # type: ignore[index]
        assert len([line for line in bot.log_lines if "does not match its spec" in line]) < 40, "backed off"
