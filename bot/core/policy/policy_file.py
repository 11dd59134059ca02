"""The restore policy: who may request a restore in which channel, and when it needs approval.

The policy comes from a TOML file (path in ``RESTORE_BOT_POLICY``) or, without one, from the two
simple settings ``RESTORE_BOT_ALLOWED_CHANNELS`` and ``RESTORE_BOT_INCIDENT_CHANNEL``
(:func:`policy_from_settings`). Only :func:`load_policy` touches the file system; everything else
is pure: a policy and a request in, a decision out. Slack user-group membership is resolved by the
caller and passed in, so that evaluation never waits on Slack.

The loader is deliberately strict. A typo in a policy file must never quietly make it weaker, so an
unknown key, an ID of the wrong kind, or a rule that could never fire (a name pattern no index name
can match, a tag no request can carry, approval nobody could give) is an error, reported as one line
per problem naming the file and the key.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import sys
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from bot.core.request.field_rules import Problem, quote_for_humans, validate_tag_key, validate_tag_value

__all__ = [
    "POLICY_ENV",
    "Allowed",
    "ApprovalMatch",
    "ChannelRules",
    "Decision",
    "Policy",
    "PolicyError",
    "Refused",
    "check_policy_main",
    "describe",
    "evaluate",
    "group_ids",
    "load_policy",
    "may_approve",
    "policy_from_settings",
    "rules_for",
]

POLICY_ENV = "RESTORE_BOT_POLICY"

# D (direct-message) channels are accepted because bot/app/settings.py accepts them in
# RESTORE_BOT_ALLOWED_CHANNELS: policy_from_settings must never reject a deployment that works today.
_CHANNEL_ID_RE = re.compile(r"[CGD][A-Z0-9]{8,}")
_USER_ID_RE = re.compile(r"[UW][A-Z0-9]{8,}")
_GROUP_ID_RE = re.compile(r"S[A-Z0-9]{8,}")
EVERYONE = "*"

# Characters a glob may use beyond those of an index name (lower-case letters, digits, '-').
_GLOB_SYNTAX = frozenset("*?[]!")
_INDEX_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")

_ID_HINT = "use the Slack ID (profile → ⋮ → Copy member ID), not a name or @mention"


# --- field validators ------------------------------------------------------------------------


def _channel_id(value: str) -> str:
    if _CHANNEL_ID_RE.fullmatch(value):
        return value
    hint = "; use the channel ID from View channel details, not its #name" if value.startswith("#") else ""
    raise ValueError(f"expected a channel ID like C0123ABCD, got {quote_for_humans(value)}{hint}")


def _principal(value: str) -> str:
    if _USER_ID_RE.fullmatch(value) or _GROUP_ID_RE.fullmatch(value):
        return value
    if value == EVERYONE:
        raise ValueError('"*" is only allowed in requesters: here it would let anyone in the workspace decide')
    hint = f"; {_ID_HINT}" if value.startswith(("@", "<")) else ""
    raise ValueError(f"expected a user ID (U…/W…) or user-group ID (S…), got {quote_for_humans(value)}{hint}")


def _requester(value: str) -> str:
    if value == EVERYONE or _USER_ID_RE.fullmatch(value) or _GROUP_ID_RE.fullmatch(value):
        return value
    hint = f"; {_ID_HINT}" if value.startswith(("@", "<")) else ""
    raise ValueError(f'expected a user ID (U…/W…), user-group ID (S…) or "*", got {quote_for_humans(value)}{hint}')


def _some_requester(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value:
        raise ValueError(
            'is empty, so nobody could request a restore; use ["*"] for everyone, or leave the channel out'
        )
    return value


def _glob(value: str) -> str:
    if not value.strip():
        raise ValueError("a name pattern cannot be empty")
    stray = sorted({ch for ch in value if ch not in _GLOB_SYNTAX and ch not in _INDEX_NAME_CHARS})
    if stray:
        # fnmatchcase is case-sensitive and index names are lower-case: such a pattern would
        # silently never require approval.
        shown = ", ".join(quote_for_humans(ch) for ch in stray)
        raise ValueError(
            f"{quote_for_humans(value)} can never match: index names use only lower-case letters, "
            f"digits and '-' (found {shown})"
        )
    return value


def _tag_key(value: str) -> str:
    return _exact_tag_part(value, validate_tag_key(value))


def _tag_value(value: str) -> str:
    return _exact_tag_part(value, validate_tag_value(value))


def _exact_tag_part(value: str, checked: str | Problem) -> str:
    # A key or value that no request can carry would make the match silently never fire.
    if isinstance(checked, Problem):
        raise ValueError(f"no request can carry this tag: {checked.describe()}")
    if checked != value:
        raise ValueError(
            f"{quote_for_humans(value)} has spaces or invisible characters at the ends, "
            "which requests never carry, so it could never match"
        )
    return value


ChannelId = Annotated[str, AfterValidator(_channel_id)]
PrincipalId = Annotated[str, AfterValidator(_principal)]
RequesterId = Annotated[str, AfterValidator(_requester)]
Requesters = Annotated[tuple[RequesterId, ...], AfterValidator(_some_requester)]
GlobPattern = Annotated[str, AfterValidator(_glob)]
TagKey = Annotated[str, AfterValidator(_tag_key)]
TagValue = Annotated[str, AfterValidator(_tag_value)]
ApprovalMode = Literal["never", "always", "matching"]
# Strict so that TOML booleans and quoted numbers are refused rather than read as 1.0 or 60.0.
Minutes = Annotated[float, Strict(), Field(gt=0, allow_inf_nan=False)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- the policy ------------------------------------------------------------------------------


class ApprovalMatch(_Frozen):
    """With approval "matching": approval is needed when any name pattern or any tag matches."""

    names: tuple[GlobPattern, ...] = ()
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)

    def is_empty(self) -> bool:
        return not self.names and not self.tags


class ChannelRules(_Frozen):
    """The effective rules for one channel (for a file, [defaults] already applied)."""

    requesters: Requesters = (EVERYONE,)
    approval: ApprovalMode = "never"
    approvers: tuple[PrincipalId, ...] = ()
    approval_timeout_minutes: Minutes = 60.0
    approval_match: ApprovalMatch | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        problems = _coherence_problems(self.approval, self.approvers, self.approval_match)
        if problems:
            raise ValueError("; ".join(f"{key}: {message}" for key, _, message in problems))
        return self


class Policy(_Frozen):
    incident_channel: ChannelId | None = None
    admins: tuple[PrincipalId, ...] = ()
    defaults: ChannelRules | None = None
    """Rules for channels not in ``channels``; None means those channels are refused."""
    channels: dict[ChannelId, ChannelRules] = Field(default_factory=dict)


def _coherence_problems(
    approval: str, approvers: Sequence[str], approval_match: ApprovalMatch | None
) -> list[tuple[str, tuple[str, ...], str]]:
    """Rules that hold between keys, as (key to blame, keys involved, message).

    Shared by the model and the loader; the loader needs the keys involved to blame the one a
    table actually wrote, since the others may have come from [defaults].
    """
    problems: list[tuple[str, tuple[str, ...], str]] = []
    if approval in ("always", "matching") and not approvers:
        problems.append(
            (
                "approval",
                ("approval", "approvers"),
                f'"{approval}" needs at least one approver, but approvers is empty: nobody could ever approve',
            )
        )
    if approval == "matching" and (approval_match is None or approval_match.is_empty()):
        problems.append(
            (
                "approval",
                ("approval", "approval_match"),
                '"matching" needs an approval_match table with at least one name pattern or tag',
            )
        )
    if approval != "matching" and approval_match is not None:
        problems.append(
            (
                "approval_match",
                ("approval_match",),
                f'has no effect with approval = "{approval}"; remove it or set approval = "matching"',
            )
        )
    return problems


def policy_from_settings(allowed_channels: Sequence[str], incident_channel: str | None) -> Policy:
    """The policy equivalent to RESTORE_BOT_ALLOWED_CHANNELS and RESTORE_BOT_INCIDENT_CHANNEL."""
    return Policy(
        incident_channel=incident_channel or None,
        channels=dict.fromkeys(allowed_channels, ChannelRules()),
    )


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
    return frozenset(ident for ident in mentioned if _GROUP_ID_RE.fullmatch(ident))


# --- decisions -------------------------------------------------------------------------------


class Refused(_Frozen):
    kind: Literal["refused"] = "refused"
    rule: str
    """The rule that refused, e.g. a key path such as ``channels.C0PRODOPS1.requesters``."""
    message: str
    """One sentence for the person refused."""
    ask: tuple[str, ...]
    """User and group IDs who can help: approvers, or admins when there is nobody else."""


class Allowed(_Frozen):
    kind: Literal["allowed"] = "allowed"
    needs_approval: bool
    approvers: tuple[str, ...]
    """Who may approve, without the requester; empty when no approval is needed."""
    timeout_minutes: float
    reason: str
    """Why approval is or is not needed, e.g. ``target name matches prod-*``."""


Decision = Annotated[Refused | Allowed, Field(discriminator="kind")]


def evaluate(
    policy: Policy,
    *,
    channel_id: str,
    requester_id: str,
    requester_groups: frozenset[str],
    index_name: str,
    tags: Mapping[str, str],
) -> Decision:
    """Decide a restore request: refused, allowed outright, or allowed once approved."""
    rules = rules_for(policy, channel_id)
    if rules is None:
        return Refused(
            rule=f"channel {channel_id} is not in the policy and there is no [defaults]",
            message="Restores can't be requested in this channel.",
            ask=policy.admins,
        )
    where = f"channels.{channel_id}" if channel_id in policy.channels else "defaults"
    if not _listed(rules.requesters, requester_id, requester_groups):
        return Refused(
            rule=f"{where}.requesters",
            message="You aren't one of the people who may request restores in this channel.",
            ask=_without(rules.approvers, requester_id) or policy.admins,
        )
    needs_approval, reason = _approval_needed(rules, index_name, tags)
    if not needs_approval:
        return Allowed(
            needs_approval=False, approvers=(), timeout_minutes=rules.approval_timeout_minutes, reason=reason
        )
    approvers = _without(rules.approvers, requester_id)
    if not approvers:
        # Only detectable when the requester is named directly: a group's other members are not
        # known here. Refusing now beats a request that can only time out.
        return Refused(
            rule=f"{where}.approvers",
            message=f"This restore needs approval ({reason}), but you are its only approver "
            "and nobody may approve their own request.",
            ask=policy.admins,
        )
    return Allowed(
        needs_approval=True, approvers=approvers, timeout_minutes=rules.approval_timeout_minutes, reason=reason
    )


def may_approve(
    rules: ChannelRules, *, approver_id: str, approver_groups: frozenset[str], requester_id: str
) -> Refused | None:
    """None when this person may approve or deny the request, else why not."""
    others = tuple(ident for ident in _without(rules.approvers, requester_id) if ident != approver_id)
    if approver_id == requester_id:
        return Refused(
            rule="no self-approval",
            message="You can't approve or deny your own restore request; another approver has to.",
            ask=others,
        )
    if not _listed(rules.approvers, approver_id, approver_groups):
        return Refused(
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


# --- loading ---------------------------------------------------------------------------------


class PolicyError(Exception):
    """A policy file that cannot be used; ``lines`` has one line per problem, each naming the file."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class _RulesTable(_Frozen):
    """A [defaults] or [channels.ID] table as written: absent keys are None, to be inherited."""

    requesters: Requesters | None = None
    approval: ApprovalMode | None = None
    approvers: tuple[PrincipalId, ...] | None = None
    approval_timeout_minutes: Minutes | None = None
    approval_match: ApprovalMatch | None = None


class _PolicyFile(_Frozen):
    incident_channel: ChannelId | None = None
    admins: tuple[PrincipalId, ...] = ()
    defaults: _RulesTable | None = None
    channels: dict[ChannelId, _RulesTable] = Field(default_factory=dict)


_BUILT_IN_RULES: dict[str, Any] = dict(ChannelRules())


def load_policy(path: str | os.PathLike[str]) -> Policy:
    """Read and check a policy file; raise PolicyError describing every problem found."""
    name = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise PolicyError([f"{name}: cannot read: {exc.strerror or exc}"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PolicyError([f"{name}: line {line}: not UTF-8 text (TOML files must be UTF-8)"]) from None
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError([f"{name}: {_syntax_error(str(exc), text)}"]) from None
    try:
        written = _PolicyFile.model_validate(document)
    except ValidationError as exc:
        raise PolicyError([f"{name}: {line}" for line in _dedupe(_validation_lines(exc))]) from None
    problems: list[str] = []
    defaults = None
    if written.defaults is not None:
        values = _inherit(written.defaults, _BUILT_IN_RULES)
        problems.extend(_table_problems("defaults", written.defaults, values, from_defaults=False))
        defaults = values
    channels: dict[str, dict[str, Any]] = {}
    for channel_id, table in written.channels.items():
        values = _inherit(table, defaults if defaults is not None else _BUILT_IN_RULES)
        problems.extend(
            _table_problems(f"channels.{channel_id}", table, values, from_defaults=written.defaults is not None)
        )
        channels[channel_id] = values
    if problems:
        raise PolicyError([f"{name}: {line}" for line in problems])
    try:
        return Policy.model_validate(
            {
                "incident_channel": written.incident_channel,
                "admins": written.admins,
                "defaults": defaults,
                "channels": channels,
            }
        )
    except ValidationError as exc:
        # The checks above should have caught everything; this keeps any gap a one-line report.
        raise PolicyError([f"{name}: {line}" for line in _dedupe(_validation_lines(exc))]) from None


def _inherit(table: _RulesTable, base: Mapping[str, Any]) -> dict[str, Any]:
    values = dict(base)
    values.update({key: getattr(table, key) for key in table.model_fields_set})
    if values["approval"] != "matching" and "approval_match" not in table.model_fields_set:
        # An inherited approval_match is a template for channels that say "matching"; others ignore it.
        values["approval_match"] = None
    return values


def _table_problems(where: str, table: _RulesTable, values: Mapping[str, Any], *, from_defaults: bool) -> list[str]:
    written = table.model_fields_set
    lines: list[str] = []
    for key, involved, message in _coherence_problems(
        values["approval"], values["approvers"], values["approval_match"]
    ):
        blamed = next((k for k in involved if k in written), None)
        if blamed is None and where != "defaults":
            # Everything involved was inherited, so [defaults] has (and reports) the same problem.
            continue
        inherited = [k for k in involved if k not in written]
        note = f" ({' and '.join(inherited)} from [defaults])" if inherited and from_defaults else ""
        lines.append(f"{where}.{blamed or key}: {message}{note}")
    return lines


_SYNTAX_AT_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")
_SYNTAX_AT_END_RE = re.compile(r"\s*\(at end of document\)$")


def _syntax_error(message: str, text: str) -> str:
    # tomllib in 3.11 puts the position only in the message text.
    if found := _SYNTAX_AT_RE.search(message):
        return f"line {found[1]}, column {found[2]}: invalid TOML: {message[: found.start()]}"
    if found := _SYNTAX_AT_END_RE.search(message):
        return f"line {text.count(chr(10)) + 1} (end of file): invalid TOML: {message[: found.start()]}"
    return f"invalid TOML: {message}"


def _validation_lines(error: ValidationError) -> list[str]:
    lines: list[str] = []
    for problem in error.errors(include_url=False):
        text = _problem_text(problem["type"], problem["loc"], problem["msg"], problem.get("input"))
        lines.append(f"{_key_path(problem['loc'])}: {text}")
    return lines


_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")


def _key_path(loc: tuple[int | str, ...]) -> str:
    path = ""
    for part in loc:
        if part == "[key]":
            continue
        if isinstance(part, int):
            path += f"[{part}]"
            continue
        segment = part if _BARE_KEY_RE.fullmatch(part) else json.dumps(part, ensure_ascii=False)
        path = f"{path}.{segment}" if path else segment
    return path or "(top level)"


_TOML_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (list, "an array"),
    (dict, "a table"),
)


def _toml_type(value: object) -> str:
    return next((name for kind, name in _TOML_TYPES if isinstance(value, kind)), "a date or time")


def _problem_text(kind: str, loc: tuple[int | str, ...], msg: str, value: object) -> str:
    if kind == "extra_forbidden":
        return _unknown_key(loc)
    if kind == "string_type":
        return f"expected a string, got {_toml_type(value)}"
    if kind in ("tuple_type", "list_type"):
        example = f"; write [{json.dumps(value)}]" if isinstance(value, str) else ""
        return f"expected an array of strings, got {_toml_type(value)}{example}"
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"expected a table, got {_toml_type(value)}"
    if kind == "float_type":
        return f"expected a number of minutes, got {_toml_type(value)}"
    if kind == "greater_than":
        return f"must be greater than 0, got {value}"
    if kind == "finite_number":
        return "must be a finite number"
    if kind == "literal_error":
        shown = quote_for_humans(value) if isinstance(value, str) else _toml_type(value)
        return f'expected "never", "always" or "matching", got {shown}'
    return msg.removeprefix("Value error, ")


def _unknown_key(loc: tuple[int | str, ...]) -> str:
    key, parent = str(loc[-1]), loc[:-1]
    if parent == ():
        known = list(_PolicyFile.model_fields)
    elif parent[-1] == "approval_match":
        known = list(ApprovalMatch.model_fields)
    else:
        known = list(_RulesTable.model_fields)
    text = "unknown key"
    close = difflib.get_close_matches(key, known, n=1)
    if parent == () and key == "allowed_channels":
        text += " (give each allowed channel a [channels.<channel ID>] table)"
    elif close:
        text += f" (did you mean {close[0]}?)"
    elif parent == () and key in _RulesTable.model_fields:
        text += " here (channel rules go in [defaults] or [channels.<channel ID>])"
    elif parent == () and _CHANNEL_ID_RE.fullmatch(key):
        text += f" (did you mean [channels.{key}]?)"
    return text


def _dedupe(lines: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(lines))


# --- python -m bot check-policy FILE ---------------------------------------------------------


def check_policy_main(argv: list[str]) -> int:
    """Check a policy file: print a summary and return 0, or print its problems to stderr and return 1."""
    if len(argv) != 1 or argv[0].startswith("-"):
        print("usage: python -m bot check-policy FILE", file=sys.stderr)
        return 2
    try:
        policy = load_policy(argv[0])
    except PolicyError as exc:
        for line in exc.lines:
            print(line, file=sys.stderr)
        return 1
    except Exception as exc:  # a checker must report, never crash with a traceback
        print(f"{argv[0]}: cannot check: {exc}", file=sys.stderr)
        return 1
    print(f"policy OK: {argv[0]}")
    for line in describe(policy):
        print(f"  {line}")
    return 0


def auditors(policy: Policy) -> frozenset[str]:
    """Who may read the audit trail: policy admins and every approver named anywhere (users and groups)."""
    named: list[str] = list(policy.admins)
    for rules in (policy.defaults, *policy.channels.values()):
        if rules is not None:
            named.extend(rules.approvers)
    return frozenset(named)
