"""The restore policy as data: who may request a restore in which channel, and when it needs approval.

The policy comes from a TOML file (path in ``RESTORE_BOT_POLICY``, read by `policy_loader`) or,
without one, from the two simple settings ``RESTORE_BOT_ALLOWED_CHANNELS`` and
``RESTORE_BOT_INCIDENT_CHANNEL`` (:func:`policy_from_settings`). The models refuse anything that could
quietly make a policy weaker: an ID of the wrong kind, a rule that could never fire.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, model_validator

from bot.core.ids import CHANNEL_ID_RE, GROUP_ID_RE, USER_ID_RE
from bot.core.request.field_rules import Problem, quote_for_humans, validate_tag_key, validate_tag_value

POLICY_ENV = "RESTORE_BOT_POLICY"

EVERYONE = "*"

# Characters a glob may use beyond those of an index name (lower-case letters, digits, '-').
_GLOB_SYNTAX = frozenset("*?[]!")
_INDEX_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-")

_ID_HINT = "use the Slack ID (profile → ⋮ → Copy member ID), not a name or @mention"


# --- field validators ------------------------------------------------------------------------


def _channel_id(value: str) -> str:
    if CHANNEL_ID_RE.fullmatch(value):
        return value
    hint = "; use the channel ID from View channel details, not its #name" if value.startswith("#") else ""
    raise ValueError(f"expected a channel ID like C0123ABCD, got {quote_for_humans(value)}{hint}")


def _principal(value: str) -> str:
    if USER_ID_RE.fullmatch(value) or GROUP_ID_RE.fullmatch(value):
        return value
    if value == EVERYONE:
        raise ValueError('"*" is only allowed in requesters: here it would let anyone in the workspace decide')
    hint = f"; {_ID_HINT}" if value.startswith(("@", "<")) else ""
    raise ValueError(f"expected a user ID (U…/W…) or user-group ID (S…), got {quote_for_humans(value)}{hint}")


def _requester(value: str) -> str:
    if value == EVERYONE or USER_ID_RE.fullmatch(value) or GROUP_ID_RE.fullmatch(value):
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


class PolicyModel(BaseModel):
    """Frozen, and every key it does not know is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --- the policy ------------------------------------------------------------------------------


class ApprovalMatch(PolicyModel):
    """With approval "matching": approval is needed when any name pattern or any tag matches."""

    names: tuple[GlobPattern, ...] = ()
    tags: dict[TagKey, TagValue] = Field(default_factory=dict)

    def is_empty(self) -> bool:
        return not self.names and not self.tags


class ChannelRules(PolicyModel):
    """The effective rules for one channel (for a file, [defaults] already applied)."""

    requesters: Requesters = (EVERYONE,)
    approval: ApprovalMode = "never"
    approvers: tuple[PrincipalId, ...] = ()
    approval_timeout_minutes: Minutes = 60.0
    approval_match: ApprovalMatch | None = None

    @model_validator(mode="after")
    def _coherent(self) -> Self:
        problems = coherence_problems(self.approval, self.approvers, self.approval_match)
        if problems:
            raise ValueError("; ".join(f"{key}: {message}" for key, _, message in problems))
        return self


class Policy(PolicyModel):
    incident_channel: ChannelId | None = None
    admins: tuple[PrincipalId, ...] = ()
    defaults: ChannelRules | None = None
    """Rules for channels not in ``channels``; None means those channels are refused."""
    channels: dict[ChannelId, ChannelRules] = Field(default_factory=dict)


def coherence_problems(
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
