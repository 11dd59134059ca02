"""Restores by intent over real HTTP: `from:<source-index> <new-name> [before:<when>]` and `--dry-run`.

The emulator holds backups of several indexes across many days and pages (listed in no promised order,
with overlapping pages); the Slack stand-in gives each person their time zone through `users.info`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.core import ids
from tests.e2e.conftest import StartBot
from tests.e2e.harness import BotProcess
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents, response_posts
from tests.fakes.workspace import CHANNEL, INCIDENT_CHANNEL, USER

PARIS = ZoneInfo("Europe/Paris")


def text_of(message: dict[str, Any]) -> str:
    return str(message.get("text", "")) + repr(message.get("blocks", ""))


async def answer(bot: BotProcess, slack: SlackStandIn, text: str, *, user: str = USER) -> str:
    """The one private answer to a command, once the bot has sent it through the command's response_url."""
    command = await bot.command(text, user=user)
    assert command.response.status_code == 200
    [reply] = await slack.wait_for(lambda: response_posts(slack, command.response_url), timeout=20)
    return text_of(reply)


def created_from(pinecone: PineconeEmulator) -> list[str]:
    """The backup each create-index call restored, in order."""
    return [call.path.split("/")[2] for call in pinecone.create_index_calls]


def seed_prod_search(pinecone: PineconeEmulator, *, newest: datetime) -> list[dict[str, Any]]:
    """prod-search with 250 nightly backups (three pages), prod-recs with its own, and the two newest
    of prod-search not Ready."""
    pinecone.add_index("prod-search")
    pinecone.add_index("prod-recs")
    nightly = pinecone.add_backups("prod-search", count=250, newest=newest)
    pinecone.add_backups("prod-recs", count=40, newest=newest + timedelta(hours=1))
    pinecone.set_backup_status(nightly[0]["backup_id"], "Initializing")
    pinecone.set_backup_status(nightly[1]["backup_id"], "InitializationFailed")
    return nightly


async def test_the_newest_ready_backup_of_an_index(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.add_user(USER, tz="Europe/Paris")
    nightly = seed_prod_search(pinecone, newest=datetime.now(UTC) - timedelta(minutes=30))
    newest_ready = nightly[2]["backup_id"]
    pinecone.set_restore_duration(newest_ready, 0.5)

    command = await bot.command("from:prod-search prod-search-restored env=prod")
    assert "newest Ready backup of `prod-search`" in command.ack_text
    [started] = await slack.wait_for(lambda: response_posts(slack, command.response_url), timeout=20)
    assert f"Restore of `{newest_ready}` (newest Ready backup of prod-search) into" in text_of(started)

    assert created_from(pinecone) == [newest_ready]
    [parent] = parents(slack, CHANNEL)
    for expected in (newest_ready, "*Chosen:* newest Ready backup of prod-search", "prod-search-restored"):
        assert expected in text_of(parent), expected
    await slack.wait_for(lambda: "Ready" in text_of(slack.message(CHANNEL, parent["ts"])), timeout=20)
    assert pinecone.index("prod-search-restored")["source_backup_id"] == newest_ready
    # Every page of the listing was read, with deleted indexes' backups included.
    listings = pinecone.calls("GET", "/indexes/prod-search/backups")
    assert len(listings) >= 3 and all(call.query.get("include_deleted") == "true" for call in listings)

    status = await answer(bot, slack, "status prod-search-restored")
    assert "newest Ready backup of prod-search" in status and newest_ready in status
    listed = await answer(bot, slack, "list")
    assert "(newest Ready backup of prod-search)" in listed


async def test_before_a_local_time_in_the_requesters_zone(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.add_user(USER, tz="Europe/Paris")
    day = (datetime.now(PARIS) - timedelta(days=3)).date()
    moment = datetime(day.year, day.month, day.day, 14, 0, tzinfo=PARIS)
    pinecone.add_index("prod-search")
    # Hourly backups at half past: none falls in the minute before the moment, whatever the time the test runs.
    half_past = datetime.now(UTC).replace(minute=30, second=0, microsecond=0) - timedelta(hours=1)
    pinecone.add_backups("prod-search", count=120, every=timedelta(hours=1), newest=half_past)
    before = pinecone.add_backup(source_index_name="prod-search", created_at=moment - timedelta(minutes=1))
    at_the_moment = pinecone.add_backup(source_index_name="prod-search", created_at=moment)
    pinecone.add_backup(source_index_name="prod-search", created_at=moment + timedelta(minutes=1))

    text = await answer(bot, slack, f"from:prod-search restored-before before:{day:%Y-%m-%d}T14:00")

    utc = moment.astimezone(UTC)
    assert f"Restore of `{before['backup_id']}`" in text
    assert f"{day:%Y-%m-%d} 14:00 Europe/Paris ({utc:%Y-%m-%d %H:%M} UTC)" in text, text
    assert created_from(pinecone) == [before["backup_id"]] != [at_the_moment["backup_id"]]


async def test_before_a_span_ago(bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn) -> None:
    slack.add_user(USER, tz="Asia/Tokyo")
    now = datetime.now(UTC)
    pinecone.add_index("prod-recs")
    three_hours = pinecone.add_backup(source_index_name="prod-recs", created_at=now - timedelta(hours=3))
    pinecone.add_backup(source_index_name="prod-recs", created_at=now - timedelta(hours=1))

    text = await answer(bot, slack, "from:prod-recs prod-recs-restored before:2h")

    assert f"Restore of `{three_hours['backup_id']}` (newest Ready backup of prod-recs before 2h ago: " in text
    assert "Asia/Tokyo" in text and "UTC)" in text
    assert created_from(pinecone) == [three_hours["backup_id"]]


async def test_nothing_before_the_moment_names_the_oldest(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.add_user(USER, tz="UTC")
    nightly = seed_prod_search(pinecone, newest=datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    oldest = nightly[-1]

    text = await answer(bot, slack, "from:prod-search restored before:2020-01-01T00:00Z")

    assert "No Ready backup of `prod-search` was taken before 2020-01-01 00:00 UTC" in text
    assert f"The oldest Ready one is `{oldest['backup_id']}` (nightly-" in text
    assert pinecone.create_index_calls == []
    assert parents(slack, CHANNEL) == [], "a refused request never reaches the channel"
    [job] = bot.jobs()
    assert (job["state"], job["intent_source"], job["backup_id"]) == ("rejected", "prod-search", "")


async def test_only_backups_that_are_not_ready(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.add_user(USER)
    pinecone.add_index("prod-search")
    first = pinecone.add_backup(source_index_name="prod-search", status="Initializing", name="tonight")
    second = pinecone.add_backup(
        source_index_name="prod-search", status="InitializationFailed", created_at="2026-11-29T02:00:00Z"
    )

    text = await answer(bot, slack, "from:prod-search restored")

    assert "None of the backups of `prod-search` is Ready" in text
    assert f"`{first['backup_id']}` (tonight) is Initializing" in text
    assert f"`{second['backup_id']}` (nightly) is InitializationFailed, taken 2026-11-29 02:00 UTC" in text
    assert pinecone.create_index_calls == [] and parents(slack, CHANNEL) == []


async def test_a_deleted_source_index_is_restored_from_its_backups(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.add_user(USER)
    pinecone.add_index("prod-search")
    nightly = pinecone.add_backups("prod-search", count=5, newest=datetime.now(UTC) - timedelta(hours=2))
    pinecone.remove_index("prod-search", at=datetime(2026, 11, 30, 13, 5, tzinfo=UTC))
    pinecone.set_restore_duration(nightly[0]["backup_id"], 0.3)

    text = await answer(bot, slack, "from:prod-search prod-search")

    assert f"Restore of `{nightly[0]['backup_id']}`" in text
    assert "that prod-search was deleted 2026-11-30 13:05 UTC, its backups outlive it" in text
    assert created_from(pinecone) == [nightly[0]["backup_id"]]

    missing = await answer(bot, slack, "from:prod-serch restored")
    assert "No index named `prod-serch` has ever existed" in missing


async def test_a_local_time_without_the_requesters_zone_is_refused_not_guessed(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.add_user(USER, tz="Europe/Paris")
    slack.revoke_scope("users:read")
    pinecone.add_index("prod-search")
    pinecone.add_backups("prod-search", count=3)

    text = await answer(bot, slack, "from:prod-search restored before:yesterday-14:00")

    assert "I could not read your time zone from Slack (missing_scope)" in text
    yesterday = (datetime.now(UTC) - timedelta(days=1)).date()
    assert "I don't guess" in text and "`before:2h`" in text
    assert (
        f"`before:{yesterday:%Y-%m-%d}T14:00Z` (UTC)" in text
        or f"`before:{yesterday - timedelta(days=1):%Y-%m-%d}" in text
    )
    assert pinecone.create_index_calls == []
    assert pinecone.calls("GET", "/indexes/*") == [], "nothing is listed for a moment that cannot be placed"

    # A moment that carries its zone needs none from Slack.
    span = await answer(bot, slack, "from:prod-search restored before:1m")
    assert "started" in span and "before 1m ago: " in span and "Europe/Paris" not in span, span


async def test_a_dry_run_by_id_shows_the_plan_and_does_nothing(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.add_user(USER)
    backup = pinecone.add_backup(
        source_index_name="prod-search", name="nightly-1129", created_at="2026-11-29T02:00:00Z"
    )
    pinecone.add_index("taken-name")

    command = await bot.command(f"{backup['backup_id']} restored-index env=prod --deletion-protection --dry-run")
    assert "Dry run" in command.ack_text
    [plan] = await slack.wait_for(lambda: response_posts(slack, command.response_url), timeout=20)
    text = text_of(plan)
    for expected in (
        "nothing was restored, recorded or posted",
        backup["backup_id"],
        "nightly-1129",
        "of `prod-search`",
        "taken 2026-11-29 02:00 UTC",
        "120,000 records",
        "10.0 MB",
        "status Ready",
        "`restored-index` (the name is free)",
        "`env=prod`",
        "*Deletion protection:* enabled",
        "*Approval:* not needed",
        f"without `--dry-run`: `/restore-index {backup['backup_id']} restored-index env=prod --deletion-protection`",
    ):
        assert expected in text, expected
    assert plan.get("response_type", "ephemeral") == "ephemeral"

    taken = await answer(bot, slack, f"{backup['backup_id']} taken-name --dry-run")
    assert "an index with this name exists, so the restore would be refused" in taken

    assert pinecone.create_index_calls == []
    assert slack.messages_in(CHANNEL) == [] and slack.messages_in(INCIDENT_CHANNEL) == []
    assert bot.jobs() == [], "a dry run records nothing"


async def test_a_dry_run_by_intent_shows_the_choice_and_does_nothing(
    bot: BotProcess, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.add_user(USER, tz="Europe/Paris")
    nightly = seed_prod_search(pinecone, newest=datetime(2026, 11, 30, 2, 0, tzinfo=UTC))

    text = await answer(bot, slack, "from:prod-search restored before:2026-11-29T12:00Z --dry-run")

    expected_backup = nightly[2]  # 11-28 02:00: 11-29's failed, 11-30's is not Ready (and after the moment)
    for expected in (
        f"`{expected_backup['backup_id']}`",
        "taken 2026-11-28 02:00 UTC (1d 10h before the moment asked for",
        "*Chosen:* newest Ready backup of prod-search before 2026-11-29 13:00 Europe/Paris (2026-11-29 12:00 UTC)",
        "`restored` (the name is free)",
        "`/restore-index from:prod-search restored before:2026-11-29T12:00Z`",
    ):
        assert expected in text, expected
    assert pinecone.create_index_calls == []
    assert slack.messages_in(CHANNEL) == [] and bot.jobs() == []

    refused = await answer(bot, slack, "from:prod-search restored before:2020-01-01T00:00Z --dry-run")
    assert "Dry run, nothing was done: the restore would be refused. No Ready backup" in refused


POLICY = f"""
incident_channel = "{INCIDENT_CHANNEL}"

[channels.{CHANNEL}]
approval = "always"
approvers = ["U0BOB0001"]
approval_timeout_minutes = 60
"""


async def test_an_approver_approves_the_backup_the_plan_card_shows(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    slack.add_user(USER, tz="Europe/Paris")
    pinecone.add_index("prod-search")
    now = datetime.now(UTC)
    shown = pinecone.add_backup(source_index_name="prod-search", created_at=now - timedelta(hours=2), name="shown")
    pinecone.set_restore_duration(shown["backup_id"], 0.3)
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY)
    async with start_bot(
        RESTORE_BOT_POLICY=str(policy), RESTORE_BOT_ALLOWED_CHANNELS=None, RESTORE_BOT_INCIDENT_CHANNEL=None
    ) as bot:
        text = await answer(bot, slack, "from:prod-search prod-search-restored")
        assert "needs approval" in text and f"The plan is to restore `{shown['backup_id']}`" in text
        [card] = parents(slack, CHANNEL)
        for expected in (
            "Restore plan",
            shown["backup_id"],
            "“shown”",
            "*Chosen:* newest Ready backup of prod-search",
            "(the name is free)",
        ):
            assert expected in text_of(card), expected
        assert pinecone.create_index_calls == []

        # A newer Ready backup appears while the request waits: the approval still restores the one shown.
        pinecone.add_backup(source_index_name="prod-search", created_at=now, name="newer")
        [actions] = [b for b in card["blocks"] if b["type"] == "actions"]
        job_id = actions["elements"][0]["value"]
        reason = {ids.DECISION_REASON_BLOCK: {ids.DECISION_REASON_INPUT: {"type": "plain_text_input", "value": "ok"}}}
        submitted = await bot.submit_view(ids.APPROVE_VIEW, job_id, reason, user="U0BOB0001")
        assert submitted.status_code == 200
        await slack.wait_for(
            lambda: [m for m in slack.thread(CHANNEL, card["ts"]) if "is ready" in m.get("text", "")], timeout=20
        )
        assert created_from(pinecone) == [shown["backup_id"]]
        assert "newest Ready backup of prod-search" in text_of(slack.message(CHANNEL, card["ts"]))
        audit = await answer(bot, slack, "audit", user="U0BOB0001")
        assert f"from `{shown['backup_id']}` (newest Ready backup of prod-search)" in audit


async def test_a_request_killed_while_its_backup_is_chosen_is_taken_up_after_a_restart(
    start_bot: StartBot, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    slack.add_user(USER)
    pinecone.add_index("prod-search")
    wanted = pinecone.add_backup(source_index_name="prod-search", created_at=datetime.now(UTC) - timedelta(hours=3))
    pinecone.set_restore_duration(wanted["backup_id"], 0.3)
    pinecone.inject("GET", "/indexes/prod-search/backups", status=0, delay=30.0)  # the bot dies meanwhile
    async with start_bot() as first:
        command = await first.command("from:prod-search prod-search-restored before:2h")
        assert "Choosing the newest Ready backup of `prod-search` taken before `2h`" in command.ack_text
        await pinecone.wait_for(lambda: pinecone.calls("GET", "/indexes/prod-search/backups"))
        await first.kill()
    [job] = first.jobs()
    assert (job["state"], job["backup_id"], job["intent_before"]) == ("checking", "", "2h"), "on record first"
    # A backup taken 2h before the restart but after 2h before the request: "2h" is counted from the request.
    pinecone.add_backup(source_index_name="prod-search", created_at=datetime.now(UTC) - timedelta(hours=2))
    pinecone.clear_faults()
    async with start_bot() as second:
        [parent] = await slack.wait_for(lambda: parents(slack, CHANNEL), timeout=20)
        assert "newest Ready backup of prod-search before 2h ago" in text_of(parent)
        await slack.wait_for(
            lambda: [m for m in slack.thread(CHANNEL, parent["ts"]) if "is ready" in m.get("text", "")], timeout=20
        )
        assert [row["state"] for row in second.jobs()] == ["ready"]
    assert created_from(pinecone) == [wanted["backup_id"]]
