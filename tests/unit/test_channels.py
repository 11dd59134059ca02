"""Where the bot can speak (bot/core/channels.py) and which user groups a verdict depends on."""

from __future__ import annotations

from bot.core.channels import INVITE, Blocker, ChannelFacts, lost, problem_line, reach_of
from bot.core.policy.policy_model import ChannelRules, Policy
from bot.core.policy.policy_rules import groups_to_resolve
from bot.core.render import cannot_post


def facts(*, private: bool = False, member: bool = True, archived: bool = False) -> ChannelFacts:
    return ChannelFacts(is_private=private, is_member=member, is_archived=archived)


def test_a_public_channel_takes_posts_with_or_without_the_bot_in_it() -> None:
    assert reach_of("C1", facts()).can_post and reach_of("C1", facts()).member
    outside = reach_of("C1", facts(member=False))
    assert outside.can_post and not outside.member


def test_a_private_channel_the_bot_is_not_in_or_no_channel_at_all_cannot_be_posted_in() -> None:
    for reach in (reach_of("C1", None), reach_of("C1", facts(private=True, member=False))):
        assert not reach.can_post and reach.blocker is Blocker.NOT_VISIBLE
        line = problem_line(reach)
        assert line.startswith("channel C1: ") and line.endswith(f"fix: {INVITE} in that channel")
        assert INVITE in cannot_post(reach).text
    assert reach_of("C1", facts(private=True)).can_post


def test_an_archived_channel_cannot_be_posted_in() -> None:
    reach = reach_of("C1", facts(archived=True))
    assert not reach.can_post and reach.blocker is Blocker.ARCHIVED
    assert "archived" in problem_line(reach) and "archived" in cannot_post(reach).text
    assert lost("C1", "is_archived").blocker is Blocker.ARCHIVED
    assert lost("C1", "missing_scope").error == "missing_scope"


def test_only_the_groups_that_can_change_the_verdict_are_looked_up() -> None:
    policy = Policy(
        admins=("S0ADMINS01",),
        channels={
            "C0OPEN0001": ChannelRules(),
            "C0ONCALL01": ChannelRules(requesters=("S0ONCALL01", "U0ALICE01")),
            "C0APPROVE1": ChannelRules(approval="always", approvers=("S0LEADS001",)),
        },
    )
    assert groups_to_resolve(policy, "C0OPEN0001", "U0DAVE001") == frozenset()
    assert groups_to_resolve(policy, "C0ONCALL01", "U0DAVE001") == frozenset({"S0ONCALL01"})
    assert groups_to_resolve(policy, "C0ONCALL01", "U0ALICE01") == frozenset(), "named directly"
    assert groups_to_resolve(policy, "C0APPROVE1", "U0DAVE001") == frozenset(), "approvers matter only at the click"
    assert groups_to_resolve(policy, "C0ELSEWHER", "U0DAVE001") == frozenset()
