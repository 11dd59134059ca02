"""A channel where every restore needs a second person: Bob, or anyone in the on-call user group."""

from __future__ import annotations

from bot.core.jobs import Job, JobState
from bot.core.outcomes import AwaitingApproval
from bot.core.policy.policy_model import ChannelRules, Policy
from tests.fakes.workspace import CHANNEL, INCIDENT_CHANNEL, USER
from tests.service.rig import Rig

ALICE, BOB, CAROL, DAVE = USER, "U0BOB0001", "U0CAROL01", "U0DAVE001"
ONCALL = "S0ONCALL01"
TIMEOUT_MINUTES = 60.0

APPROVAL_POLICY = Policy(
    incident_channel=INCIDENT_CHANNEL,
    channels={
        CHANNEL: ChannelRules(approval="always", approvers=(BOB, ONCALL), approval_timeout_minutes=TIMEOUT_MINUTES)
    },
)


async def plan_card(rig: Rig, name: str = "prod-search", user: str = ALICE) -> Job:
    """`user` asks for a restore; it waits for approval on a plan card in the channel."""
    backup = rig.emulator.add_backup(source_index_name="prod-search", record_count=120_000)
    outcome = await rig.submit(backup["backup_id"], name, user=user)
    assert isinstance(outcome, AwaitingApproval) and outcome.thread_link is not None, outcome
    job = await rig.job(outcome.job.id)
    assert job.state is JobState.AWAITING_APPROVAL
    assert job.approvers == tuple(a for a in (BOB, ONCALL) if a != user), "the requester is not their own approver"
    assert job.message_ts is not None and "Approve" in rig.parent_text(job)
    return job


def has_buttons(rig: Rig, job: Job) -> bool:
    """Whether the plan card still offers Approve / Deny / Cancel."""
    assert job.message_ts is not None
    return any(block["type"] == "actions" for block in rig.slack.message(CHANNEL, job.message_ts).get("blocks", []))
