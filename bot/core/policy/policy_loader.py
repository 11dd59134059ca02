"""Reading a policy file: TOML in, a checked `Policy` out, or every problem at once.

The loader is deliberately strict. A typo in a policy file must never quietly make it weaker, so an
unknown key, an ID of the wrong kind, or a rule that could never fire (a name pattern no index name
can match, a tag no request can carry, approval nobody could give) is an error, reported as one line
per problem naming the file and the key. Only `load_policy` touches the file system.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from bot.core.ids import CHANNEL_ID_RE
from bot.core.policy.policy_model import (
    ApprovalMatch,
    ApprovalMode,
    ChannelId,
    ChannelRules,
    Minutes,
    Policy,
    PolicyModel,
    PrincipalId,
    Requesters,
    coherence_problems,
)
from bot.core.request.field_rules import quote_for_humans


class PolicyError(Exception):
    """A policy file that cannot be used; ``lines`` has one line per problem, each naming the file."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class _RulesTable(PolicyModel):
    """A [defaults] or [channels.ID] table as written: absent keys are None, to be inherited."""

    requesters: Requesters | None = None
    approval: ApprovalMode | None = None
    approvers: tuple[PrincipalId, ...] | None = None
    approval_timeout_minutes: Minutes | None = None
    approval_match: ApprovalMatch | None = None


class _PolicyFile(PolicyModel):
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
    for key, involved, message in coherence_problems(values["approval"], values["approvers"], values["approval_match"]):
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
    elif parent == () and CHANNEL_ID_RE.fullmatch(key):
        text += f" (did you mean [channels.{key}]?)"
    return text


def _dedupe(lines: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(lines))
