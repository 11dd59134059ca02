"""The policy file: parsing and its error lines, merging with [defaults], and pure evaluation."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bot.app.cli import check_policy_main
from bot.core.policy.policy_loader import PolicyError, load_policy
from bot.core.policy.policy_model import ApprovalMatch, ChannelRules, Policy, policy_from_settings
from bot.core.policy.policy_rules import (
    PolicyPermission,
    PolicyRefusal,
    describe,
    evaluate,
    group_ids,
    may_approve,
    rules_for,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "policy.example.toml"

PROD = "C0PRODOPS1"
DATA = "C0DATAENG1"
OTHER = "C0RANDOM01"
ALICE = "U0ALICE01"
BOB = "U0BOB0001"
CAROL = "U0CAROL01"
MALLORY = "U0MALLORY1"
ONCALL = "S0ONCALL01"
DATA_GROUP = "S0DATAENG1"
ADMIN = "U0ADMIN001"

GOOD = f"""
incident_channel = "C0INCIDENT"
admins = ["{ADMIN}"]

[defaults]
requesters = ["{ONCALL}"]
approval = "always"
approvers = ["{ALICE}"]
approval_timeout_minutes = 30

[channels.{PROD}]
requesters = ["*"]
approval = "matching"
approvers = ["{ALICE}", "{ONCALL}"]
approval_timeout_minutes = 60

[channels.{PROD}.approval_match]
names = ["prod-*"]
tags = {{ env = "prod" }}

[channels.{DATA}]
requesters = ["{BOB}", "{DATA_GROUP}"]
approval = "always"
approvers = ["{CAROL}"]
approval_timeout_minutes = 7.5
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text)
    return path


def load_text(tmp_path: Path, text: str) -> Policy:
    return load_policy(write(tmp_path, text))


def errors(tmp_path: Path, text: str) -> list[str]:
    path = write(tmp_path, text)
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert str(raised.value) == "\n".join(raised.value.lines)
    for line in raised.value.lines:
        assert line.startswith(f"{path}: "), line
    return [line.removeprefix(f"{path}: ") for line in raised.value.lines]


def decide(
    policy: Policy,
    channel: str = PROD,
    requester: str = BOB,
    groups: frozenset[str] = frozenset(),
    index: str = "restored-index",
    tags: dict[str, str] | None = None,
) -> PolicyPermission | PolicyRefusal:
    return evaluate(
        policy,
        channel_id=channel,
        requester_id=requester,
        requester_groups=groups,
        index_name=index,
        tags=tags or {},
    )


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    return load_text(tmp_path, GOOD)


# --- parsing a good file ---------------------------------------------------------------------


def test_a_good_file_loads_every_key(policy: Policy) -> None:
    assert policy.incident_channel == "C0INCIDENT"
    assert policy.admins == (ADMIN,)
    assert policy.defaults == ChannelRules(
        requesters=(ONCALL,), approval="always", approvers=(ALICE,), approval_timeout_minutes=30
    )
    assert policy.channels[PROD] == ChannelRules(
        requesters=("*",),
        approval="matching",
        approvers=(ALICE, ONCALL),
        approval_timeout_minutes=60,
        approval_match=ApprovalMatch(names=("prod-*",), tags={"env": "prod"}),
    )
    assert list(policy.channels) == [PROD, DATA]


def test_a_fractional_timeout_is_kept(policy: Policy) -> None:
    assert policy.channels[DATA].approval_timeout_minutes == 7.5


def test_an_empty_file_is_a_policy_that_refuses_everywhere(tmp_path: Path) -> None:
    policy = load_text(tmp_path, "")
    assert policy == Policy()
    assert isinstance(decide(policy), PolicyRefusal)


def test_the_example_file_loads_and_uses_every_key() -> None:
    policy = load_policy(EXAMPLE)
    assert policy.incident_channel is not None
    assert policy.admins
    assert policy.defaults is not None
    modes = {rules.approval for rules in policy.channels.values()}
    assert modes == {"never", "always", "matching"}
    assert any(
        rules.approval_match and rules.approval_match.names and rules.approval_match.tags
        for rules in policy.channels.values()
    )
    assert any(ident.startswith("S") for rules in policy.channels.values() for ident in rules.requesters)
    assert any(rules.approval_timeout_minutes % 1 for rules in policy.channels.values())


def test_a_path_may_be_given_as_a_string(tmp_path: Path) -> None:
    assert load_policy(str(write(tmp_path, GOOD))).channels[PROD].approval == "matching"


# --- parsing bad files: one line per problem, with the key path --------------------------------


def test_toml_syntax_errors_name_the_line(tmp_path: Path) -> None:
    assert errors(tmp_path, f"admins = []\n[channels.{PROD}]\napproval = \n") == [
        "line 3, column 12: invalid TOML: Invalid value"
    ]


def test_a_table_declared_twice_is_a_syntax_error_with_its_line(tmp_path: Path) -> None:
    [line] = errors(tmp_path, f'[channels.{PROD}]\napproval = "never"\n[channels.{PROD}]\n')
    assert line.startswith("line 3, ") and "invalid TOML" in line


def test_a_syntax_error_at_the_end_names_the_last_line(tmp_path: Path) -> None:
    assert errors(tmp_path, 'admins = []\nincident_channel = "C0INC') == [
        "line 2 (end of file): invalid TOML: Unterminated string"
    ]


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert raised.value.lines == [f"{path}: cannot read: No such file or directory"]


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_bytes(b'admins = []\nincident_channel = "\xff"\n')
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert raised.value.lines == [f"{path}: line 2: not UTF-8 text (TOML files must be UTF-8)"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f'[channels.{PROD}]\naproval = "never"', f"channels.{PROD}.aproval: unknown key (did you mean approval?)"),
        ('[defaults]\nrequester = ["*"]', "defaults.requester: unknown key (did you mean requesters?)"),
        (
            '[channels.C0PRODOPS1.approval_match]\nname = ["x"]',
            f"channels.{PROD}.approval_match.name: unknown key (did you mean names?)",
        ),
        ('admin = ["U0ADMIN001"]', "admin: unknown key (did you mean admins?)"),
        (
            'approval = "always"',
            "approval: unknown key here (channel rules go in [defaults] or [channels.<channel ID>])",
        ),
        (f"[{PROD}]", f"{PROD}: unknown key (did you mean [channels.{PROD}]?)"),
        (
            "allowed_channels = []",
            "allowed_channels: unknown key (give each allowed channel a [channels.<channel ID>] table)",
        ),
        ("colour = 1", "colour: unknown key"),
    ],
)
def test_unknown_keys_are_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert errors(tmp_path, text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[channels.c0prodops1]\napproval = "never"',
            'channels.c0prodops1: expected a channel ID like C0123ABCD, got "c0prodops1"',
        ),
        ("[channels.C0SHORT]", 'channels.C0SHORT: expected a channel ID like C0123ABCD, got "C0SHORT"'),
        ("[channels.U0ALICE01]", 'channels.U0ALICE01: expected a channel ID like C0123ABCD, got "U0ALICE01"'),
        (
            'incident_channel = "#incidents"',
            'incident_channel: expected a channel ID like C0123ABCD, got "#incidents"; '
            "use the channel ID from View channel details, not its #name",
        ),
        (
            f'[channels.{PROD}]\nrequesters = ["alice"]',
            f'channels.{PROD}.requesters[0]: expected a user ID (U…/W…), user-group ID (S…) or "*", got "alice"',
        ),
        (
            f'[channels.{PROD}]\nrequesters = ["{ALICE}", "{PROD}"]',
            f'channels.{PROD}.requesters[1]: expected a user ID (U…/W…), user-group ID (S…) or "*", got "{PROD}"',
        ),
        (
            f'[channels.{PROD}]\napproval = "always"\napprovers = ["*"]',
            f'channels.{PROD}.approvers[0]: "*" is only allowed in requesters: '
            "here it would let anyone in the workspace decide",
        ),
        (
            'admins = ["*"]',
            'admins[0]: "*" is only allowed in requesters: here it would let anyone in the workspace decide',
        ),
        (
            'admins = ["@bob"]',
            'admins[0]: expected a user ID (U…/W…) or user-group ID (S…), got "@bob"; '
            "use the Slack ID (profile → ⋮ → Copy member ID), not a name or @mention",
        ),
        (
            f"[channels.{PROD}]\nrequesters = []",
            f'channels.{PROD}.requesters: is empty, so nobody could request a restore; use ["*"] for everyone, '
            "or leave the channel out",
        ),
        (
            f'[channels.{PROD}]\napprovers = "{ALICE}"',
            f'channels.{PROD}.approvers: expected an array of strings, got a string; write ["{ALICE}"]',
        ),
        (
            f'[channels.{PROD}]\napproval = "sometimes"',
            f'channels.{PROD}.approval: expected "never", "always" or "matching", got "sometimes"',
        ),
        (
            "[defaults]\napproval_timeout_minutes = 0",
            "defaults.approval_timeout_minutes: must be greater than 0, got 0",
        ),
        (
            "[defaults]\napproval_timeout_minutes = -1.5",
            "defaults.approval_timeout_minutes: must be greater than 0, got -1.5",
        ),
        ("[defaults]\napproval_timeout_minutes = inf", "defaults.approval_timeout_minutes: must be a finite number"),
        (
            '[defaults]\napproval_timeout_minutes = "60"',
            "defaults.approval_timeout_minutes: expected a number of minutes, got a string",
        ),
        (
            "[defaults]\napproval_timeout_minutes = true",
            "defaults.approval_timeout_minutes: expected a number of minutes, got a boolean",
        ),
        ('defaults = "strict"', "defaults: expected a table, got a string"),
        (f'[channels]\n{PROD} = "yes"', f"channels.{PROD}: expected a table, got a string"),
        (
            f'[channels.{PROD}]\napproval = "matching"\napprovers = ["{ALICE}"]\napproval_match = {{ names = [""] }}',
            f"channels.{PROD}.approval_match.names[0]: a name pattern cannot be empty",
        ),
        (
            f'[channels.{PROD}]\napproval = "matching"\napprovers = ["{ALICE}"]\n'
            'approval_match = { names = ["Prod-*"] }',
            f'channels.{PROD}.approval_match.names[0]: "Prod-*" can never match: index names use only lower-case '
            "letters, digits and '-' (found \"P\")",
        ),
        (
            f'[channels.{PROD}]\napproval = "matching"\napprovers = ["{ALICE}"]\n'
            "approval_match = { tags = { env = 3 } }",
            f"channels.{PROD}.approval_match.tags.env: expected a string, got an integer",
        ),
        (
            f'[channels.{PROD}]\napproval = "matching"\napprovers = ["{ALICE}"]\n'
            'approval_match = { tags = { env = "prod " } }',
            f'channels.{PROD}.approval_match.tags.env: "prod " has spaces or invisible characters at the ends, '
            "which requests never carry, so it could never match",
        ),
    ],
)
def test_each_bad_value_names_its_key_path(tmp_path: Path, text: str, expected: str) -> None:
    assert errors(tmp_path, text) == [expected]


def test_a_tag_key_no_request_can_carry_is_refused_with_a_quoted_key_path(tmp_path: Path) -> None:
    [line] = errors(
        tmp_path,
        f'[channels.{PROD}]\napproval = "matching"\napprovers = ["{ALICE}"]\n'
        'approval_match = { tags = { "env name" = "prod" } }',
    )
    assert line.startswith(f'channels.{PROD}.approval_match.tags."env name": no request can carry this tag: ')


def test_every_problem_is_reported_one_per_line(tmp_path: Path) -> None:
    lines = errors(
        tmp_path,
        f'admins = ["*"]\n[defaults]\napproval = "often"\n[channels.{PROD}]\napprovers = ["nobody"]\ncolour = 1\n',
    )
    assert [line.split(":")[0] for line in lines] == [
        "admins[0]",
        "defaults.approval",
        f"channels.{PROD}.approvers[0]",
        f"channels.{PROD}.colour",
    ]


@pytest.mark.parametrize("mode", ["always", "matching"])
def test_approval_without_approvers_is_an_error(tmp_path: Path, mode: str) -> None:
    lines = errors(
        tmp_path,
        f'[channels.{PROD}]\napproval = "{mode}"\napproval_match = {{ names = ["prod-*"] }}\n'
        if mode == "matching"
        else f'[channels.{PROD}]\napproval = "{mode}"\n',
    )
    assert lines == [
        f'channels.{PROD}.approval: "{mode}" needs at least one approver, but approvers is empty: '
        "nobody could ever approve"
    ]


def test_an_explicitly_empty_approvers_list_is_blamed_when_approval_is_inherited(tmp_path: Path) -> None:
    lines = errors(
        tmp_path,
        f'[defaults]\napproval = "always"\napprovers = ["{ALICE}"]\n[channels.{PROD}]\napprovers = []\n',
    )
    assert lines == [
        f'channels.{PROD}.approvers: "always" needs at least one approver, but approvers is empty: '
        "nobody could ever approve (approval from [defaults])"
    ]


def test_a_problem_wholly_inherited_from_defaults_is_reported_once_at_defaults(tmp_path: Path) -> None:
    lines = errors(tmp_path, f'[defaults]\napproval = "always"\n[channels.{PROD}]\n[channels.{DATA}]\n')
    assert lines == [
        'defaults.approval: "always" needs at least one approver, but approvers is empty: nobody could ever approve'
    ]


def test_matching_needs_a_non_empty_approval_match(tmp_path: Path) -> None:
    no_table = errors(tmp_path, f'[channels.{PROD}]\napproval = "matching"\napprovers = ["{ALICE}"]\n')
    empty_table = errors(
        tmp_path,
        f'[channels.{PROD}]\napproval = "matching"\napprovers = ["{ALICE}"]\n'
        "approval_match = { names = [], tags = {} }\n",
    )
    expected = (
        f'channels.{PROD}.approval: "matching" needs an approval_match table with at least one name pattern or tag'
    )
    assert no_table == empty_table == [expected]


def test_approval_match_that_would_be_ignored_is_an_error(tmp_path: Path) -> None:
    lines = errors(tmp_path, f'[channels.{PROD}]\napproval = "never"\napproval_match = {{ names = ["prod-*"] }}\n')
    assert lines == [
        f'channels.{PROD}.approval_match: has no effect with approval = "never"; remove it or set approval = "matching"'
    ]


# --- merging with [defaults] -------------------------------------------------------------------


def test_a_channel_inherits_the_keys_it_leaves_out_from_defaults(tmp_path: Path) -> None:
    policy = load_text(
        tmp_path,
        f"""
        [defaults]
        requesters = ["{ONCALL}"]
        approval = "matching"
        approvers = ["{ALICE}"]
        approval_timeout_minutes = 15
        approval_match = {{ names = ["prod-*"] }}

        [channels.{PROD}]
        approvers = ["{CAROL}"]

        [channels.{DATA}]
        approval = "always"
        """,
    )
    assert policy.channels[PROD] == ChannelRules(
        requesters=(ONCALL,),
        approval="matching",
        approvers=(CAROL,),
        approval_timeout_minutes=15,
        approval_match=ApprovalMatch(names=("prod-*",)),
    )
    # An inherited approval_match only applies to channels that are "matching".
    assert policy.channels[DATA] == ChannelRules(
        requesters=(ONCALL,), approval="always", approvers=(ALICE,), approval_timeout_minutes=15
    )


def test_a_channel_key_replaces_the_default_rather_than_adding_to_it(tmp_path: Path) -> None:
    policy = load_text(tmp_path, f'[defaults]\nrequesters = ["{ONCALL}"]\n[channels.{PROD}]\nrequesters = ["{BOB}"]\n')
    assert policy.channels[PROD].requesters == (BOB,)


def test_without_defaults_a_channel_gets_the_built_in_defaults(tmp_path: Path) -> None:
    policy = load_text(tmp_path, f"[channels.{PROD}]\n")
    assert policy.defaults is None
    assert policy.channels[PROD] == ChannelRules(
        requesters=("*",), approval="never", approvers=(), approval_timeout_minutes=60, approval_match=None
    )


def test_defaults_missing_keys_come_from_the_built_in_defaults(tmp_path: Path) -> None:
    policy = load_text(tmp_path, f'[defaults]\napprovers = ["{ALICE}"]\n')
    assert policy.defaults == ChannelRules(approvers=(ALICE,))


def test_rules_for_a_listed_channel_an_unlisted_channel_and_no_defaults(policy: Policy, tmp_path: Path) -> None:
    assert rules_for(policy, PROD) == policy.channels[PROD]
    assert rules_for(policy, OTHER) == policy.defaults
    assert rules_for(load_text(tmp_path, f"[channels.{PROD}]\n"), OTHER) is None


# --- evaluation: refusals ----------------------------------------------------------------------


def test_a_channel_outside_the_policy_without_defaults_is_refused_and_admins_are_asked(tmp_path: Path) -> None:
    policy = load_text(tmp_path, f'admins = ["{ADMIN}"]\n[channels.{PROD}]\n')
    assert decide(policy, channel=OTHER) == PolicyRefusal(
        rule=f"channel {OTHER} is not in the policy and there is no [defaults]",
        message="Restores can't be requested in this channel.",
        ask=(ADMIN,),
    )


def test_a_requester_not_listed_is_refused_and_the_approvers_are_asked(policy: Policy) -> None:
    decision = decide(policy, channel=DATA, requester=MALLORY)
    assert decision == PolicyRefusal(
        rule=f"channels.{DATA}.requesters",
        message="You aren't one of the people who may request restores in this channel.",
        ask=(CAROL,),
    )


def test_a_requester_refused_by_defaults_names_the_defaults_rule(policy: Policy) -> None:
    decision = decide(policy, channel=OTHER, requester=MALLORY)
    assert isinstance(decision, PolicyRefusal)
    assert decision.rule == "defaults.requesters"
    assert decision.ask == (ALICE,)


def test_a_requester_refused_where_nobody_approves_is_told_to_ask_the_admins(tmp_path: Path) -> None:
    policy = load_text(tmp_path, f'admins = ["{ADMIN}"]\n[channels.{PROD}]\nrequesters = ["{BOB}"]\n')
    decision = decide(policy, requester=MALLORY)
    assert isinstance(decision, PolicyRefusal)
    assert decision.rule == f"channels.{PROD}.requesters"
    assert decision.ask == (ADMIN,)


def test_a_requester_who_is_the_only_approver_is_refused_rather_than_left_waiting(tmp_path: Path) -> None:
    policy = load_text(
        tmp_path, f'admins = ["{ADMIN}"]\n[channels.{PROD}]\napproval = "always"\napprovers = ["{BOB}"]\n'
    )
    decision = decide(policy, requester=BOB)
    assert isinstance(decision, PolicyRefusal)
    assert decision.rule == f"channels.{PROD}.approvers"
    assert decision.ask == (ADMIN,)
    assert "only approver" in decision.message


def test_refusal_messages_are_one_sentence(policy: Policy) -> None:
    for decision in (decide(Policy(), channel=OTHER), decide(policy, channel=DATA, requester=MALLORY)):
        assert isinstance(decision, PolicyRefusal)
        assert decision.message.endswith(".") and decision.message.count(". ") == 0


# --- evaluation: who may request ---------------------------------------------------------------


def test_star_lets_anyone_in_the_channel_request(policy: Policy) -> None:
    assert isinstance(decide(policy, channel=PROD, requester=MALLORY), PolicyPermission)


def test_a_requester_named_directly_is_allowed(policy: Policy) -> None:
    assert isinstance(decide(policy, channel=DATA, requester=BOB), PolicyPermission)


def test_a_requester_in_a_listed_group_is_allowed(policy: Policy) -> None:
    assert isinstance(decide(policy, channel=DATA, requester=MALLORY, groups=frozenset({DATA_GROUP})), PolicyPermission)
    assert isinstance(decide(policy, channel=OTHER, requester=MALLORY, groups=frozenset({ONCALL})), PolicyPermission)


def test_membership_of_an_unlisted_group_does_not_help(policy: Policy) -> None:
    assert isinstance(decide(policy, channel=DATA, requester=MALLORY, groups=frozenset({ONCALL})), PolicyRefusal)


# --- evaluation: when approval is needed -------------------------------------------------------


def test_a_name_matching_a_glob_needs_approval(policy: Policy) -> None:
    assert decide(policy, index="prod-search") == PolicyPermission(
        needs_approval=True, approvers=(ALICE, ONCALL), timeout_minutes=60, reason="target name matches prod-*"
    )


def test_a_matching_tag_needs_approval(policy: Policy) -> None:
    decision = decide(policy, index="scratch", tags={"env": "prod", "team": "search"})
    assert isinstance(decision, PolicyPermission)
    assert decision.needs_approval
    assert decision.reason == "tag env=prod"


def test_every_trigger_that_holds_is_in_the_reason(policy: Policy) -> None:
    decision = decide(policy, index="prod-search", tags={"env": "prod"})
    assert isinstance(decision, PolicyPermission)
    assert decision.reason == "target name matches prod-*, tag env=prod"


def test_tags_match_on_exact_key_and_value(policy: Policy) -> None:
    for tags in ({"env": "Prod"}, {"ENV": "prod"}, {"env": "prod-like"}, {"environment": "prod"}):
        decision = decide(policy, index="scratch", tags=tags)
        assert isinstance(decision, PolicyPermission)
        assert not decision.needs_approval, tags


def test_name_globs_are_case_sensitive_and_whole_name(policy: Policy) -> None:
    for index in ("preprod-search", "my-prod-x", "prod"):
        decision = decide(policy, index=index)
        assert isinstance(decision, PolicyPermission)
        assert not decision.needs_approval, index


def test_matching_but_not_matched_needs_no_approval_and_says_why(policy: Policy) -> None:
    assert decide(policy, index="staging-search", tags={"env": "staging"}) == PolicyPermission(
        needs_approval=False,
        approvers=(),
        timeout_minutes=60,
        reason="target name matches none of prod-* and no tag matches env=prod",
    )


def test_always_needs_approval_whatever_the_target(policy: Policy) -> None:
    assert decide(policy, channel=DATA, requester=BOB, index="scratch") == PolicyPermission(
        needs_approval=True, approvers=(CAROL,), timeout_minutes=7.5, reason='approval is "always" in this channel'
    )


def test_never_needs_no_approval_even_for_prod(tmp_path: Path) -> None:
    policy = load_text(tmp_path, f"[channels.{PROD}]\n")
    assert decide(policy, index="prod-search", tags={"env": "prod"}) == PolicyPermission(
        needs_approval=False, approvers=(), timeout_minutes=60, reason='approval is "never" in this channel'
    )


def test_the_requester_is_not_among_the_approvers_to_ask(policy: Policy) -> None:
    decision = decide(policy, requester=ALICE, index="prod-search")
    assert isinstance(decision, PolicyPermission)
    assert decision.approvers == (ONCALL,)


def test_unlisted_channels_follow_defaults(policy: Policy) -> None:
    decision = decide(policy, channel=OTHER, requester=BOB, groups=frozenset({ONCALL}))
    assert decision == PolicyPermission(
        needs_approval=True, approvers=(ALICE,), timeout_minutes=30, reason='approval is "always" in this channel'
    )


# --- may_approve -------------------------------------------------------------------------------


def test_a_listed_approver_may_approve(policy: Policy) -> None:
    assert may_approve(policy.channels[PROD], approver_id=ALICE, approver_groups=frozenset(), requester_id=BOB) is None


def test_an_approver_through_a_group_may_approve(policy: Policy) -> None:
    rules = policy.channels[PROD]
    assert may_approve(rules, approver_id=CAROL, approver_groups=frozenset({ONCALL}), requester_id=BOB) is None


def test_someone_who_is_not_an_approver_may_not(policy: Policy) -> None:
    refused = may_approve(
        policy.channels[PROD], approver_id=MALLORY, approver_groups=frozenset({DATA_GROUP}), requester_id=BOB
    )
    assert refused == PolicyRefusal(
        rule="approvers",
        message="Only this channel's approvers, named directly or through a user group, "
        "can approve or deny this restore.",
        ask=(ALICE, ONCALL),
    )


def test_a_requester_may_not_approve_their_own_request_even_as_an_approver(policy: Policy) -> None:
    refused = may_approve(policy.channels[PROD], approver_id=ALICE, approver_groups=frozenset(), requester_id=ALICE)
    assert refused == PolicyRefusal(
        rule="no self-approval",
        message="You can't approve or deny your own restore request; another approver has to.",
        ask=(ONCALL,),
    )
    via_group = may_approve(
        policy.channels[PROD], approver_id=BOB, approver_groups=frozenset({ONCALL}), requester_id=BOB
    )
    assert via_group is not None and via_group.rule == "no self-approval"


# --- policy_from_settings ----------------------------------------------------------------------


def test_policy_from_settings_is_the_simple_policy() -> None:
    policy = policy_from_settings([PROD, DATA], "C0INCIDENT")
    assert policy == Policy(
        incident_channel="C0INCIDENT",
        admins=(),
        defaults=None,
        channels={
            PROD: ChannelRules(requesters=("*",), approval="never", approvers=()),
            DATA: ChannelRules(requesters=("*",), approval="never", approvers=()),
        },
    )
    assert policy_from_settings([], None) == Policy()
    assert policy_from_settings([], "").incident_channel is None


def test_policy_from_settings_accepts_every_channel_id_the_settings_accept() -> None:
    # bot/app/settings.py accepts D… (direct message) IDs; switching to this module must not break such a deployment.
    assert "D0DIRECT01" in policy_from_settings(["D0DIRECT01", "G0PRIVATE1"], None).channels


def test_policy_from_settings_matches_the_file_it_describes(tmp_path: Path) -> None:
    from_file = load_text(tmp_path, f'incident_channel = "C0INCIDENT"\n[channels.{PROD}]\n[channels.{DATA}]\n')
    assert policy_from_settings([PROD, DATA], "C0INCIDENT") == from_file


channel_ids = st.from_regex(r"C[A-Z0-9]{8,10}", fullmatch=True)


@given(
    allowed=st.lists(channel_ids, max_size=4),
    channel=channel_ids,
    requester=st.from_regex(r"U[A-Z0-9]{8}", fullmatch=True),
    index=st.from_regex(r"[a-z0-9]{1,10}", fullmatch=True),
    tags=st.dictionaries(st.sampled_from(["env", "team"]), st.sampled_from(["prod", "dev"]), max_size=2),
)
def test_policy_from_settings_decides_as_the_allowed_channels_setting_did(
    allowed: list[str], channel: str, requester: str, index: str, tags: dict[str, str]
) -> None:
    decision = evaluate(
        policy_from_settings(allowed, None),
        channel_id=channel,
        requester_id=requester,
        requester_groups=frozenset(),
        index_name=index,
        tags=tags,
    )
    # The settings rule: any request in a listed channel goes ahead, any other is refused.
    if channel in allowed:
        assert isinstance(decision, PolicyPermission) and not decision.needs_approval
    else:
        assert isinstance(decision, PolicyRefusal)


# --- models built in code are held to the same rules -----------------------------------------


def test_channel_rules_built_in_code_are_validated() -> None:
    with pytest.raises(ValidationError, match="needs at least one approver"):
        ChannelRules(approval="always")
    with pytest.raises(ValidationError, match="needs an approval_match"):
        ChannelRules(approval="matching", approvers=(ALICE,))
    with pytest.raises(ValidationError, match="has no effect"):
        ChannelRules(approval_match=ApprovalMatch(names=("prod-*",)))
    with pytest.raises(ValidationError):
        ChannelRules(requesters=("nobody",))
    with pytest.raises(ValidationError):
        Policy(channels={"#prod": ChannelRules()})


def test_models_are_frozen(policy: Policy) -> None:
    with pytest.raises(ValidationError):
        policy.channels[PROD].approval = "never"  # type: ignore[misc]


# --- group_ids and describe --------------------------------------------------------------------


def test_group_ids_lists_every_group_mentioned(tmp_path: Path) -> None:
    policy = load_text(tmp_path, GOOD.replace(f'admins = ["{ADMIN}"]', 'admins = ["S0ADMINS01"]'))
    assert group_ids(policy) == frozenset({"S0ADMINS01", ONCALL, DATA_GROUP})
    assert group_ids(Policy()) == frozenset()


def test_describe_has_one_line_per_channel(policy: Policy) -> None:
    assert describe(policy) == [
        "incident channel: C0INCIDENT",
        f"admins: {ADMIN}",
        f"{PROD}: requested by anyone in the channel; approval when target name matches prod-* or tag env=prod, "
        f"by {ALICE}, {ONCALL}, within 60 min",
        f"{DATA}: requested by {BOB}, {DATA_GROUP}; approval always, by {CAROL}, within 7.5 min",
        f"any other channel: requested by {ONCALL}; approval always, by {ALICE}, within 30 min",
    ]


def test_describe_says_what_happens_elsewhere_without_defaults() -> None:
    assert describe(policy_from_settings([PROD], None)) == [
        "incident channel: none",
        "admins: none",
        f"{PROD}: requested by anyone in the channel; no approval",
        "any other channel: refused (no [defaults])",
    ]
    assert describe(Policy())[-1] == "every channel: refused (no channels and no [defaults])"


# --- check-policy ------------------------------------------------------------------------------


def test_check_policy_prints_a_summary_and_returns_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD)
    assert check_policy_main([str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert lines[0] == f"policy OK: {path}"
    assert lines[1:] == [f"  {line}" for line in describe(load_policy(path))]


def test_check_policy_prints_each_problem_to_stderr_and_returns_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, f'[channels.{PROD}]\napproval = "always"\ncolour = "red"\n')
    assert check_policy_main([str(path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"{path}: channels.{PROD}.colour: unknown key",
    ]


def test_check_policy_reports_syntax_errors_and_missing_files_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "admins = [\n")
    assert check_policy_main([str(path)]) == 1
    assert check_policy_main([str(tmp_path / "missing.toml")]) == 1
    assert check_policy_main([str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "Traceback" not in err
    assert len(err.splitlines()) == 3
    assert "invalid TOML" in err and "cannot read" in err


def test_check_policy_needs_exactly_one_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_policy_main([]) == 2
    assert check_policy_main(["a.toml", "b.toml"]) == 2
    assert capsys.readouterr().err.splitlines() == ["usage: python -m bot check-policy FILE"] * 2


def test_check_policy_passes_the_example(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_policy_main([str(EXAMPLE)]) == 0
    assert capsys.readouterr().out.startswith("policy OK: ")
