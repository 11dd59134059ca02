"""Several replicas: two `python -m bot` processes on one PostgreSQL database, behind the same Slack stand-in and
Pinecone emulator, as two replicas behind a load balancer.

Requests alternate between the replicas; the one that leads the background work (the tracker, the Slack
sender) is killed with SIGKILL at each moment that matters (before, during and after create-index, while a
Slack message is being posted, while an approval is decided), landed there with the fakes' faults and delays;
then the other takes over: no job lost, no second create-index, no duplicate message, the same thread. Also a
Slack retry that reaches the other replica, the same restore asked of both at once, both started at once on an
empty database, and the database restarted mid-restore.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from bot.core import ids
from storage.postgres.postgres_migrations import MIGRATIONS
from tests.e2e.harness import BotProcess, new_bot
from tests.e2e.test_approvals import ALICE, BOB, POLICY, job_id_of, plan_card, reason
from tests.e2e.test_reliability import ready_in_one_thread, replies_with
from tests.fakes.pinecone_emulator import PineconeEmulator
from tests.fakes.postgres_server import PostgresServer
from tests.fakes.slack_api import SlackStandIn
from tests.fakes.slack_requests import parents, response_posts
from tests.fakes.workspace import CHANNEL
from tests.integration.test_postgres_store import until_waiting_on_locks

LEADS = "leads the background work now"


class Replicas:
    """Bot processes on one PostgreSQL database; all stopped (and their database looks closed) at the end."""

    def __init__(self, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path, database_url: str) -> None:
        self.pinecone = pinecone
        self.slack = slack
        self.tmp_path = tmp_path
        self.database_url = database_url
        self.started: list[BotProcess] = []

    def new(self, **overrides: str | None) -> BotProcess:
        bot = new_bot(self.pinecone, self.slack, self.tmp_path, database_url=self.database_url, **overrides)
        self.started.append(bot)
        return bot

    async def start(self, **overrides: str | None) -> BotProcess:
        bot = self.new(**overrides)
        await bot.start()
        return bot

    async def leader_and_standby(self, **overrides: str | None) -> tuple[BotProcess, BotProcess]:
        """Two replicas: the first started leads (it takes the lock before saying it is ready)."""
        leader = await self.start(**overrides)
        standby = await self.start(**overrides)
        assert await role(leader) == "leader" and await role(standby) == "standby"
        return leader, standby

    async def close(self) -> None:
        for bot in self.started:
            if bot.process is not None:
                await bot.stop()
            if bot.peek is not None:
                bot.peek.close()


@pytest_asyncio.fixture
async def replicas(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path, postgres_url: str
) -> AsyncIterator[Replicas]:
    started = Replicas(pinecone, slack, tmp_path, postgres_url)
    try:
        yield started
    finally:
        await started.close()


async def role(bot: BotProcess) -> str:
    async with httpx.AsyncClient(base_url=bot.url, timeout=10) as client:
        answer = (await client.get("/healthz")).json()
    return str(answer["role"])


async def metric(bot: BotProcess, name: str, **labels: str) -> float | None:
    async with httpx.AsyncClient(base_url=bot.url, timeout=10) as client:
        text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return None


def the_only_parent(slack: SlackStandIn) -> dict[str, Any]:
    [parent] = parents(slack, CHANNEL)
    return parent


def thread_texts(slack: SlackStandIn, parent: dict[str, Any]) -> list[str]:
    return [str(m.get("text", "")) for m in slack.thread(CHANNEL, parent["ts"])]


# -- serving from either replica --------------------------------------------------------------------------


async def test_requests_alternating_between_two_replicas_each_restore_once_in_their_own_thread(
    replicas: Replicas, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    leader, standby = await replicas.leader_and_standby()
    names = [f"restored-{n}" for n in range(4)]
    commands = []
    for n, name in enumerate(names):
        bot = leader if n % 2 == 0 else standby
        commands.append(await bot.command(f"{backup['backup_id']} {name}"))
    answers = [
        (await slack.wait_for(lambda c=c: response_posts(slack, c.response_url), timeout=20))[-1]["text"]
        for c in commands
    ]
    # Each requester is linked to the thread, whichever replica took the request (the leader posts the parents).
    assert all("started" in a and "Follow it in the thread" in a for a in answers), answers

    def all_ready() -> bool:
        jobs = leader.jobs()
        return len(jobs) == len(names) and all(job["state"] == "ready" for job in jobs)

    await slack.wait_for(all_ready, timeout=30)
    posted = parents(slack, CHANNEL)
    assert len(posted) == len(names) and len(pinecone.create_index_calls) == len(names)
    for parent in posted:
        await slack.wait_for(lambda p=parent: replies_with(slack, p["ts"], "is ready"), timeout=20)
        assert len(replies_with(slack, parent["ts"], "Pinecone accepted")) == 1
        assert len(replies_with(slack, parent["ts"], "is ready")) == 1
    assert await metric(leader, "restore_bot_leader") == 1.0 and await metric(standby, "restore_bot_leader") == 0.0
    assert await metric(standby, "restore_bot_tracker_cycles_total") == 0.0, "the standby never tracked"


async def test_a_slack_retry_that_reaches_the_other_replica_does_nothing_twice(
    replicas: Replicas, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    leader, standby = await replicas.leader_and_standby()
    body, response_url = leader.command_body(f"{backup['backup_id']} restored-index")
    first = await standby.post(body, content_type="application/x-www-form-urlencoded")
    again = await leader.post(body, content_type="application/x-www-form-urlencoded")  # the same trigger_id
    assert first.status_code == again.status_code == 200
    await ready_in_one_thread(slack, pinecone, leader)
    answers = response_posts(slack, response_url)
    assert len(answers) == 1 and "started" in answers[0]["text"], "one of them did the work and answered"
    assert len(pinecone.create_index_calls) == 1 and len(leader.jobs()) == 1
    assert "handled by another process" in leader.log + standby.log


async def test_the_same_restore_asked_on_both_replicas_at_once_starts_one(
    replicas: Replicas, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.5)
    leader, standby = await replicas.leader_and_standby()
    commands = await asyncio.gather(
        *(
            bot.command(f"{backup['backup_id']} restored-index", user=user)
            for bot, user in ((leader, "U0ALICE01"), (standby, "U0BOB0001"), (leader, "U0CAROL01"))
        )
    )
    answers = [
        (await slack.wait_for(lambda c=c: response_posts(slack, c.response_url), timeout=20))[-1]["text"]
        for c in commands
    ]
    assert sorted("started" in a for a in answers) == [False, False, True], answers
    assert sum("already running" in a for a in answers) == 2
    await ready_in_one_thread(slack, pinecone, leader)
    assert len(pinecone.create_index_calls) == 1


async def test_both_replicas_started_at_once_on_an_empty_database_migrate_once_and_one_leads(
    replicas: Replicas, postgres_url: str
) -> None:
    one, two = replicas.new(), replicas.new()
    await asyncio.gather(one.start(), two.start())
    roles = sorted([await role(one), await role(two)])
    assert roles == ["leader", "standby"]
    connection = await asyncpg.connect(postgres_url)
    try:
        versions = [row[0] for row in await connection.fetch("SELECT version FROM schema_migrations ORDER BY 1")]
        leadership = await connection.fetch("SELECT epoch FROM leadership")
    finally:
        await connection.close()
    assert versions == list(range(1, len(MIGRATIONS) + 1)), "each migration applied once"
    assert [row["epoch"] for row in leadership] == [1], "one leadership, never contested twice"


# -- kill -9 of the leader ----------------------------------------------------------------------------------


async def test_kill_9_of_the_leader_before_create_index_another_replica_restores_once(
    replicas: Replicas, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    pinecone.inject("GET", "/backups/*", status=0, delay=30.0)  # the leader dies while checking the backup
    leader, standby = await replicas.leader_and_standby()
    await leader.command(f"{backup['backup_id']} restored-index")
    await pinecone.wait_for(lambda: pinecone.calls("GET", "/backups/*"))
    await leader.kill()
    assert [job["state"] for job in leader.jobs()] == ["requested"] and pinecone.create_index_calls == []
    await standby.wait_for_log(LEADS)
    await ready_in_one_thread(slack, pinecone, standby)
    assert len(pinecone.create_index_calls) == 1


async def test_kill_9_of_the_leader_during_create_index_is_reconciled_not_repeated(
    replicas: Replicas, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    # Pinecone applies the request at once; the leader dies before the answer arrives.
    pinecone.inject("POST", "/backups/*/create-index", status=503, then_process=True, delay=30.0)
    leader, standby = await replicas.leader_and_standby()
    await leader.command(f"{backup['backup_id']} restored-index")
    await pinecone.wait_for(lambda: pinecone.restore_jobs())
    await leader.kill()
    assert [job["state"] for job in leader.jobs()] == ["submitting"]
    await ready_in_one_thread(slack, pinecone, standby)
    assert len(pinecone.create_index_calls) == 1


async def test_kill_9_of_a_standby_driving_a_request_the_leader_takes_it_up_once(
    replicas: Replicas, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    pinecone.inject("POST", "/backups/*/create-index", status=503, then_process=True, delay=30.0)
    leader, standby = await replicas.leader_and_standby()
    await standby.command(f"{backup['backup_id']} restored-index")
    await pinecone.wait_for(lambda: pinecone.restore_jobs())
    await standby.kill()
    [job] = leader.jobs()
    assert job["state"] == "submitting" and job["driver_id"] is not None, "leased to the dead replica"
    await ready_in_one_thread(slack, pinecone, leader)
    assert len(pinecone.create_index_calls) == 1


async def test_kill_9_of_the_leader_while_tracking_another_replica_finishes_in_the_same_thread(
    replicas: Replicas, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 3.0)
    leader, standby = await replicas.leader_and_standby()
    await standby.command(f"{backup['backup_id']} restored-index")
    parent = await slack.wait_for(lambda: parents(slack, CHANNEL) and parents(slack, CHANNEL)[0], timeout=20)
    await slack.wait_for(lambda: replies_with(slack, parent["ts"], "Pinecone accepted"), timeout=20)
    await leader.kill()
    await standby.wait_for_log(LEADS)
    await ready_in_one_thread(slack, pinecone, standby)
    assert the_only_parent(slack)["ts"] == parent["ts"]
    assert len(pinecone.create_index_calls) == 1


async def test_kill_9_of_the_leader_after_slack_took_the_parent_does_not_post_a_second_one(
    replicas: Replicas, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 1.0)
    # Slack stores the parent, but the leader dies before hearing its ts.
    slack.inject("chat.postMessage", status=503, then_process=True, delay=30.0)
    leader, standby = await replicas.leader_and_standby()
    await standby.command(f"{backup['backup_id']} restored-index")
    await slack.wait_for(lambda: parents(slack, CHANNEL), timeout=20)
    await leader.kill()
    [job] = standby.jobs()
    assert job["state"] == "restoring" and job["message_ts"] is None and job["parent_posting_since"] is not None
    await ready_in_one_thread(slack, pinecone, standby)
    assert len(slack.calls_to("chat.postMessage")) == len(thread_texts(slack, the_only_parent(slack))) + 1


async def test_kill_9_of_the_leader_while_a_reply_is_posted_and_not_taken_posts_it_once(
    replicas: Replicas, pinecone: PineconeEmulator, slack: SlackStandIn
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 1.0)
    leader, standby = await replicas.leader_and_standby()
    command = await leader.command(f"{backup['backup_id']} restored-index")
    parent = await slack.wait_for(lambda: parents(slack, CHANNEL) and parents(slack, CHANNEL)[0], timeout=20)
    await slack.wait_for(lambda: response_posts(slack, command.response_url), timeout=20)
    # The next post (a thread reply) hangs and is not taken; the leader dies meanwhile.
    hang = slack.inject("chat.postMessage", status=503, delay=30.0)
    await slack.wait_for(lambda: hang.hits == 1, timeout=20)
    assert slack.calls_to("chat.postMessage")[-1].args.get("thread_ts") == parent["ts"]
    await leader.kill()
    await ready_in_one_thread(slack, pinecone, standby)
    assert the_only_parent(slack)["ts"] == parent["ts"]


async def test_kill_9_of_the_leader_while_an_approval_is_decided_restores_once_in_the_plan_cards_thread(
    replicas: Replicas, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path
) -> None:
    backup = pinecone.add_backup(source_index_name="prod-search")
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY.format(timeout=60))
    settings = {"RESTORE_BOT_POLICY": str(policy), "RESTORE_BOT_ALLOWED_CHANNELS": None}
    leader, standby = await replicas.leader_and_standby(**settings, RESTORE_BOT_INCIDENT_CHANNEL=None)
    card = await plan_card(standby, slack, backup["backup_id"])
    # The approval is recorded, then the leader dies while taking the approved request to Pinecone.
    pinecone.inject("GET", "/backups/*", status=0, delay=30.0)
    submitted = await leader.submit_view(ids.APPROVE_VIEW, job_id_of(card), reason("incident 4711"), user=BOB)
    assert submitted.status_code == 200 and not submitted.content
    await pinecone.wait_for(lambda: pinecone.calls("GET", "/backups/*")[-1].status is None)
    await leader.kill()
    [job] = standby.jobs()
    assert job["state"] == "requested" and job["decided_by"] == BOB
    await standby.wait_for_log(LEADS)
    await slack.wait_for(lambda: replies_with(slack, card["ts"], "is ready"), timeout=30)
    assert [p["ts"] for p in parents(slack, CHANNEL)] == [card["ts"]], "the plan card is the restore's thread"
    assert len(replies_with(slack, card["ts"], "Approved by")) == 1
    assert len(replies_with(slack, card["ts"], "is ready")) == 1
    assert len(pinecone.create_index_calls) == 1
    assert [(d["decision"], d["by_user"]) for d in standby.decisions()] == [("approved", BOB)]
    assert job["requester_id"] == ALICE


async def test_an_approval_submitted_to_a_replica_that_dies_before_answering_can_be_made_again_on_the_other(
    replicas: Replicas, pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path, postgres_url: str
) -> None:
    backup = pinecone.add_backup(source_index_name="prod-search")
    pinecone.set_restore_duration(backup["backup_id"], 0.3)
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY.format(timeout=60))
    settings = {"RESTORE_BOT_POLICY": str(policy), "RESTORE_BOT_ALLOWED_CHANNELS": None}
    leader, standby = await replicas.leader_and_standby(**settings, RESTORE_BOT_INCIDENT_CHANNEL=None)
    card = await plan_card(leader, slack, backup["backup_id"])
    job_id = job_id_of(card)
    # Hold the job's row: the leader's decision waits on it inside its transaction, and it dies there.
    blocker = await asyncpg.connect(postgres_url)
    try:
        transaction = blocker.transaction()
        await transaction.start()
        await blocker.execute("SELECT 1 FROM jobs WHERE id = $1 FOR UPDATE", job_id)
        deciding = asyncio.create_task(leader.submit_view(ids.APPROVE_VIEW, job_id, reason("incident 4711"), user=BOB))
        await until_waiting_on_locks(postgres_url, 1)
        await leader.kill()
        await transaction.rollback()
    finally:
        await blocker.close()
    try:
        await deciding
    except httpx.HTTPError:
        pass  # Slack shows the approver an error: nothing was answered
    else:
        raise AssertionError("the killed replica answered the submission")
    assert [job["state"] for job in standby.jobs()] == ["awaiting_approval"], "the decision died with it"
    again = await standby.submit_view(ids.APPROVE_VIEW, job_id, reason("incident 4711"), user=BOB)
    assert again.status_code == 200 and not again.content
    await standby.wait_for_log(LEADS)
    await slack.wait_for(lambda: replies_with(slack, card["ts"], "is ready"), timeout=30)
    assert len(replies_with(slack, card["ts"], "Approved by")) == 1
    assert len(pinecone.create_index_calls) == 1


# -- the database restarted ----------------------------------------------------------------------------------


async def test_the_database_restarted_mid_restore_the_replicas_recover_and_nothing_is_lost(
    pinecone: PineconeEmulator, slack: SlackStandIn, tmp_path: Path, own_postgres_server: PostgresServer
) -> None:
    backup = pinecone.add_backup()
    pinecone.set_restore_duration(backup["backup_id"], 3.0)
    url = own_postgres_server.url(await own_postgres_server.create_database())
    replicas = Replicas(pinecone, slack, tmp_path, url)
    try:
        leader, standby = await replicas.leader_and_standby()
        await standby.command(f"{backup['backup_id']} restored-index")
        parent = await slack.wait_for(lambda: parents(slack, CHANNEL) and parents(slack, CHANNEL)[0], timeout=20)
        await own_postgres_server.restart_async()
        await ready_in_one_thread(slack, pinecone, standby)
        assert the_only_parent(slack)["ts"] == parent["ts"]
        # Both serve again, and one of them leads.
        second = await leader.command(f"{backup['backup_id']} another-index")
        [answer] = await slack.wait_for(lambda: response_posts(slack, second.response_url), timeout=20)
        assert "started" in answer["text"]
        roles = sorted([await role(leader), await role(standby)])
        assert roles == ["leader", "standby"]
        assert len(pinecone.create_index_calls) == 2
    finally:
        await replicas.close()
