"""Policy evaluation, pure: a policy and a request in, a verdict out.

Slack user-group membership is resolved by the caller and passed in, so that evaluation never
waits on Slack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Annotated, Literal

from pydantic import Field

from bot.core.ids import GROUP_ID_RE
from bot.core.policy.policy_model import EVERYONE, ApprovalMatch, ChannelRules, Policy, PolicyModel


def rules_for(policy: Policy, channel_id: str) -> ChannelRules | None:
    """The rules that apply in a channel; None when restores may not be requested there."""
    return policy.channels.get(channel_id, policy.defaults)


def group_ids(policy: Policy) -> frozenset[str]:
    """Every user-group ID the policy mentions: the groups whose members the caller must resolve."""
    mentioned: list[str] = list(policy.admins)
    for rules in (policy.defaults, *policy.channels.values()):
        if rules is not None:
            mentioned.extend(rules.requesters)
            mentioned.extend(rules.approvers)
    return frozenset(ident for ident in mentioned if GROUP_ID_RE.fullmatch(ident))


def groups_to_resolve(policy: Policy, channel_id: str, requester_id: str) -> frozenset[str]:
    """The user groups whose members can change `evaluate`'s verdict for this requester in this channel:
    the groups among the channel's requesters, unless everyone or the requester by name is listed.
    Empty: the verdict needs no look-up in Slack."""
    rules = rules_for(policy, channel_id)
    if rules is None or EVERYONE in rules.requesters or requester_id in rules.requesters:
        return frozenset()
    return frozenset(ident for ident in rules.requesters if GROUP_ID_RE.fullmatch(ident))


# --- decisions -------------------------------------------------------------------------------


class PolicyRefusal(PolicyModel):
    kind: Literal["refused"] = "refused"
    rule: str
    """The rule that refused, e.g. a key path such as ``channels.C0PRODOPS1.requesters``."""
    message: str
    """One sentence for the person refused."""
    ask: tuple[str, ...]
    """User and group IDs who can help: approvers, or admins when there is nobody else."""


class PolicyPermission(PolicyModel):
    kind: Literal["allowed"] = "allowed"
    needs_approval: bool
    approvers: tuple[str, ...]
    """Who may approve, without the requester; empty when no approval is needed."""
    timeout_minutes: float
    reason: str
    """Why approval is or is not needed, e.g. ``target name matches prod-*``."""


PolicyVerdict = Annotated[PolicyRefusal | PolicyPermission, Field(discriminator="kind")]


def evaluate(
    policy: Policy,
    *,
    channel_id: str,
    requester_id: str,
    requester_groups: frozenset[str],
    index_name: str,
    tags: Mapping[str, str],
) -> PolicyVerdict:
    """Decide a restore request: refused, allowed outright, or allowed once approved."""
    rules = rules_for(policy, channel_id)
    if rules is None:
        return PolicyRefusal(
            rule=f"channel {channel_id} is not in the policy and there is no [defaults]",
            message="Restores can't be requested in this channel.",
            ask=policy.admins,
        )
    where = f"channels.{channel_id}" if channel_id in policy.channels else "defaults"
    if not _listed(rules.requesters, requester_id, requester_groups):
        return PolicyRefusal(
            rule=f"{where}.requesters",
            message="You aren't one of the people who may request restores in this channel.",
            ask=_without(rules.approvers, requester_id) or policy.admins,
        )
    needs_approval, reason = _approval_needed(rules, index_name, tags)
    if not needs_approval:
        return PolicyPermission(
            needs_approval=False, approvers=(), timeout_minutes=rules.approval_timeout_minutes, reason=reason
        )
    approvers = _without(rules.approvers, requester_id)
    if not approvers:
        # Only detectable when the requester is named directly: a group's other members are not
        # known here. Refusing now beats a request that can only time out.
        return PolicyRefusal(
            rule=f"{where}.approvers",
            message=f"This restore needs approval ({reason}), but you are its only approver "
            "and nobody may approve their own request.",
            ask=policy.admins,
        )
    return PolicyPermission(
        needs_approval=True, approvers=approvers, timeout_minutes=rules.approval_timeout_minutes, reason=reason
    )


def may_approve(
    rules: ChannelRules, *, approver_id: str, approver_groups: frozenset[str], requester_id: str
) -> PolicyRefusal | None:
    """None when this person may approve or deny the request, else why not."""
    others = tuple(ident for ident in _without(rules.approvers, requester_id) if ident != approver_id)
    if approver_id == requester_id:
        return PolicyRefusal(
            rule="no self-approval",
            message="You can't approve or deny your own restore request; another approver has to.",
            ask=others,
        )
    if not _listed(rules.approvers, approver_id, approver_groups):
        return PolicyRefusal(
            rule="approvers",
            message="Only this channel's approvers, named directly or through a user group, "
            "can approve or deny this restore.",
            ask=others,
        )
    return None


def _listed(idents: Iterable[str], user_id: str, user_groups: frozenset[str]) -> bool:
    idents = frozenset(idents)
    return EVERYONE in idents or user_id in idents or not user_groups.isdisjoint(idents)


def _without(idents: Iterable[str], user_id: str) -> tuple[str, ...]:
    return tuple(ident for ident in idents if ident != user_id)


def _approval_needed(rules: ChannelRules, index_name: str, tags: Mapping[str, str]) -> tuple[bool, str]:
    if rules.approval == "never":
        return False, 'approval is "never" in this channel'
    if rules.approval == "always":
        return True, 'approval is "always" in this channel'
    match = rules.approval_match or ApprovalMatch()
    triggers: list[str] = []
    pattern = next((pattern for pattern in match.names if fnmatchcase(index_name, pattern)), None)
    if pattern is not None:
        triggers.append(f"target name matches {pattern}")
    triggers.extend(f"tag {key}={value}" for key, value in match.tags.items() if tags.get(key) == value)
    if triggers:
        return True, ", ".join(triggers)
    missed: list[str] = []
    if match.names:
        missed.append(f"target name matches none of {', '.join(match.names)}")
    if match.tags:
        missed.append(f"no tag matches {_tags_text(match.tags)}")
    return False, " and ".join(missed)


def _tags_text(tags: Mapping[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in tags.items())


# --- describing ------------------------------------------------------------------------------


def describe(policy: Policy) -> list[str]:
    """A human summary: the incident channel, the admins, then one line per channel."""
    lines = [
        f"incident channel: {policy.incident_channel or 'none'}",
        f"admins: {', '.join(policy.admins) or 'none'}",
    ]
    lines.extend(f"{channel_id}: {_describe_rules(rules)}" for channel_id, rules in policy.channels.items())
    if policy.defaults is not None:
        lines.append(f"any other channel: {_describe_rules(policy.defaults)}")
    elif policy.channels:
        lines.append("any other channel: refused (no [defaults])")
    else:
        lines.append("every channel: refused (no channels and no [defaults])")
    return lines


def _describe_rules(rules: ChannelRules) -> str:
    who = "anyone in the channel" if EVERYONE in rules.requesters else ", ".join(rules.requesters)
    if rules.approval == "never":
        return f"requested by {who}; no approval"
    if rules.approval == "always" or rules.approval_match is None:
        when = "always"
    else:
        conditions = (
            [f"target name matches {' or '.join(rules.approval_match.names)}"] if rules.approval_match.names else []
        )
        conditions.extend(f"tag {key}={value}" for key, value in rules.approval_match.tags.items())
        when = "when " + " or ".join(conditions)
    approvers = ", ".join(rules.approvers)
    return f"requested by {who}; approval {when}, by {approvers}, within {rules.approval_timeout_minutes:g} min"


def auditors(policy: Policy) -> frozenset[str]:
    """Who may read the audit trail: policy admins and every approver named anywhere (users and groups)."""
    named: list[str] = list(policy.admins)
    for rules in (policy.defaults, *policy.channels.values()):
        if rules is not None:
            named.extend(rules.approvers)
    return frozenset(named)
