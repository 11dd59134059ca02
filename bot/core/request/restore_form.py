"""Reading the restore modal: its private metadata, the values Slack sends back, and a submission.

A submission is checked with the same rules as the slash command: the backup and the index name go
through `bot.core.request.field_rules`, and the tags field is read by the command parser itself (by
parsing a command made of a known-good backup ID, a known-good name and the tags text), so quoting,
smart quotes, duplicate keys and the tag limit behave exactly as they do in `/restore-index`.
The view itself is drawn by `bot.core.render.restore_form_view`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.core.ids import (
    MODAL_BACKUP_ACTION,
    MODAL_BACKUP_BLOCK,
    MODAL_BACKUP_UNAVAILABLE,
    MODAL_BEFORE_ACTION,
    MODAL_BEFORE_BLOCK,
    MODAL_INDEX_NAME_ACTION,
    MODAL_INDEX_NAME_BLOCK,
    MODAL_INDEXES_UNAVAILABLE,
    MODAL_MODE_SOURCE,
    MODAL_PROTECTION_ACTION,
    MODAL_PROTECTION_BLOCK,
    MODAL_PROTECTION_ENABLED,
    MODAL_SOURCE_ACTION,
    MODAL_SOURCE_BLOCK,
    MODAL_TAGS_ACTION,
    MODAL_TAGS_BLOCK,
    RESTORE_COMMAND,
)
from bot.core.request.command_parser import HelpCommand, Rejected, RestoreCommand, parse_command
from bot.core.request.field_rules import (
    DELETION_PROTECTION_FLAG,
    EXAMPLE_BACKUP_ID,
    EXAMPLE_INDEX_NAME,
    INDEX_NAME_MAX_CHARS,
    Problem,
    RestoreIntent,
    RestoreRequest,
    clean_field,
    validate_backup_id,
    validate_index_name,
)
from bot.core.request.moments import parse_when

#: Slack's own cap on a plain_text_input.
TAGS_MAX_CHARS = 3000
#: Inline errors sit under a field; a wall of text there helps nobody.
ERROR_MAX_CHARS = 1500

_TAGS_RULE = "Tags are written key=value, one per line or separated by spaces; put quotes around a value with spaces."


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


# --- private_metadata -----------------------------------------------------------------------------


class ModalMetadata(BaseModel):
    """What the modal carries in `private_metadata` (JSON, at most 3,000 characters)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    channel_id: str = Field(min_length=1, max_length=64)
    #: The index name the bot pre-filled, so a later choice may replace it but never a name the user typed.
    suggested: str | None = Field(default=None, max_length=INDEX_NAME_MAX_CHARS)
    #: "source": the form restores the newest Ready backup of an index (`from:`); absent: a backup picked.
    mode: Literal["source"] | None = None

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)


def read_metadata(raw: object) -> ModalMetadata | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return ModalMetadata.model_validate_json(raw)
    except ValidationError:
        return None


def first_field(view: Mapping[str, Any]) -> str:
    """The block a refusal of the whole form is shown under: the first field of the path the form shows."""
    metadata = read_metadata(view.get("private_metadata"))
    return MODAL_SOURCE_BLOCK if metadata is not None and metadata.mode == MODAL_MODE_SOURCE else MODAL_BACKUP_BLOCK


def modal_channel(view: Mapping[str, Any]) -> str | None:
    """The channel the modal was opened from, or None if the payload does not say."""
    metadata = read_metadata(view.get("private_metadata"))
    return metadata.channel_id if metadata else None


# --- reading a view payload -----------------------------------------------------------------------


def form_values(view: Mapping[str, Any]) -> Mapping[str, Any]:
    state = view.get("state")
    values = state.get("values") if isinstance(state, Mapping) else None
    return values if isinstance(values, Mapping) else {}


def form_element(values: Mapping[str, Any], block_id: str, action_id: str) -> Mapping[str, Any]:
    block = values.get(block_id)
    element = block.get(action_id) if isinstance(block, Mapping) else None
    return element if isinstance(element, Mapping) else {}


def current_name_block(view: Mapping[str, Any]) -> str:
    """The block id the name input has in this view (it changes when the bot pre-fills a name)."""
    blocks = view.get("blocks")
    for block in blocks if isinstance(blocks, list) else []:
        block_id = block.get("block_id") if isinstance(block, Mapping) else None
        if isinstance(block_id, str) and _is_name_block(block_id):
            return block_id
    for block_id in form_values(view):
        if isinstance(block_id, str) and _is_name_block(block_id):
            return block_id
    return MODAL_INDEX_NAME_BLOCK


def _is_name_block(block_id: str) -> bool:
    return block_id == MODAL_INDEX_NAME_BLOCK or block_id.startswith(MODAL_INDEX_NAME_BLOCK + ".")


def form_text(values: Mapping[str, Any], block_id: str, action_id: str) -> str | None:
    value = form_element(values, block_id, action_id).get("value")
    return value if isinstance(value, str) else None


def _selected_backup(values: Mapping[str, Any]) -> str | None:
    return _selected(values, MODAL_BACKUP_BLOCK, MODAL_BACKUP_ACTION)


def selected_source(values: Mapping[str, Any]) -> str | None:
    """The source index chosen in the "source index" path (an option's value: the index name)."""
    return _selected(values, MODAL_SOURCE_BLOCK, MODAL_SOURCE_ACTION)


def before_text(values: Mapping[str, Any]) -> str | None:
    """What was typed as the moment in the "source index" path, if anything."""
    text = form_text(values, MODAL_BEFORE_BLOCK, MODAL_BEFORE_ACTION)
    return clean_field(text) or None if text is not None else None


def _selected(values: Mapping[str, Any], block_id: str, action_id: str) -> str | None:
    option = form_element(values, block_id, action_id).get("selected_option")
    value = option.get("value") if isinstance(option, Mapping) else None
    return value if isinstance(value, str) else None


def protection_checked(values: Mapping[str, Any]) -> bool:
    selected = form_element(values, MODAL_PROTECTION_BLOCK, MODAL_PROTECTION_ACTION).get("selected_options")
    return isinstance(selected, list) and any(
        isinstance(option, Mapping) and option.get("value") == MODAL_PROTECTION_ENABLED for option in selected
    )


# --- a submission ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """A valid submission: the request (by backup, or by intent from the "source index" path), and the
    channel the modal was opened from."""

    channel_id: str
    request: RestoreRequest | RestoreIntent


@dataclass(frozen=True)
class Invalid:
    """What to show inline: block_id -> message (for `response_action: errors`)."""

    errors: dict[str, str]


def _message(problems: Sequence[Problem]) -> str:
    if len(problems) == 1:
        return clip(problems[0].describe(), ERROR_MAX_CHARS)
    listed = " • ".join(p.describe() for p in problems)
    return clip(f"{len(problems)} problems: • {listed}", ERROR_MAX_CHARS)


def parse_tags(text: str) -> dict[str, str] | tuple[Problem, ...]:
    """The tags field, read by the command parser: the same tokenising, quoting and rules as `/restore-index`."""
    if len(text) > TAGS_MAX_CHARS:
        return (
            Problem(
                part=f"tags ({len(text):,} characters)",
                rule=f"The tags field takes at most {TAGS_MAX_CHARS:,} characters.",
                hint="Remove some tags",
            ),
        )
    if not clean_field(text):
        return {}
    parsed = parse_command(f"{EXAMPLE_BACKUP_ID} {EXAMPLE_INDEX_NAME} {text}")
    match parsed:
        case RestoreCommand(request=request):
            if request.deletion_protection:
                return (_flag_problem(DELETION_PROTECTION_FLAG),)
            return dict(request.tags)
        case Rejected(problems=problems, example=example):
            return _for_the_tags_field(problems, example)
        case HelpCommand():
            return (_flag_problem("--help"),)
        case _:  # not reachable with two positionals in front, but never let an odd parse through
            return (Problem(part="tags", rule=_TAGS_RULE),)


def _flag_problem(flag: str) -> Problem:
    hint = "Tick Enable deletion protection below instead" if flag.lower().startswith("--deletion") else "Remove it"
    return Problem(
        part=f"flag {flag}", rule="Flags don't go in the tags field; it takes only key=value tags.", hint=hint
    )


def _for_the_tags_field(problems: Iterable[Problem], example: str) -> tuple[Problem, ...]:
    """The parser speaks about a whole command; say the same about the tags field."""
    result: list[Problem] = []
    for problem in problems:
        if problem.part.startswith("extra word"):
            result.append(problem.model_copy(update={"rule": _TAGS_RULE}))
        elif problem.part.startswith("flag "):
            flag = problem.part.removeprefix("flag ").strip('"')
            result.append(_flag_problem(flag))
        else:
            result.append(problem)
    words = example.split(" ", 2)
    corrected = words[2] if len(words) == 3 else ""
    corrected = " ".join(w for w in corrected.split(" ") if w != DELETION_PROTECTION_FLAG)
    if corrected and result:
        last = result[-1]
        hint = f"{last.hint.rstrip('.')}. " if last.hint else ""
        result[-1] = last.model_copy(update={"hint": f"{hint}For example: {corrected}"})
    return tuple(result)


def read_submission(view: Mapping[str, Any]) -> Submission | Invalid:
    """Check every field with the command's rules; every problem lands on its own field."""
    errors: dict[str, str] = {}
    metadata = read_metadata(view.get("private_metadata"))
    values = form_values(view)
    if metadata is not None and metadata.mode == MODAL_MODE_SOURCE:
        return _read_intent(view, metadata)

    backup_id: str | None = None
    raw_backup = _selected_backup(values)
    if metadata is None:
        errors[MODAL_BACKUP_BLOCK] = (
            f"This form lost track of the channel it was opened from. Close it and run {RESTORE_COMMAND} again."
        )
    elif raw_backup is None:
        errors[MODAL_BACKUP_BLOCK] = "Choose the backup to restore."
    elif raw_backup == MODAL_BACKUP_UNAVAILABLE:
        errors[MODAL_BACKUP_BLOCK] = (
            "Pinecone did not answer when the backups were listed. Open the list again to retry, then choose a backup."
        )
    else:
        checked = validate_backup_id(raw_backup)
        if isinstance(checked, Problem):
            errors[MODAL_BACKUP_BLOCK] = _message([checked])
        else:
            backup_id = checked

    name_block = current_name_block(view)
    raw_name = form_text(values, name_block, MODAL_INDEX_NAME_ACTION) or ""
    index_name: str | None = None
    name = validate_index_name(raw_name)
    if isinstance(name, Problem):
        if clean_field(raw_name):
            errors[name_block] = _message([name])
        else:
            errors[name_block] = f"Give the new index a name. {name.rule}"
    else:
        index_name = name

    tags = parse_tags(form_text(values, MODAL_TAGS_BLOCK, MODAL_TAGS_ACTION) or "")
    if isinstance(tags, tuple):
        errors[MODAL_TAGS_BLOCK] = _message(tags)

    if errors or metadata is None or backup_id is None or index_name is None or isinstance(tags, tuple):
        return Invalid(errors=errors)
    request = RestoreRequest(
        backup_id=backup_id, index_name=index_name, tags=tags, deletion_protection=protection_checked(values)
    )
    return Submission(channel_id=metadata.channel_id, request=request)


def _read_intent(view: Mapping[str, Any], metadata: ModalMetadata) -> Submission | Invalid:
    """The "source index" path: the index, the moment if one was typed, then the fields every restore has."""
    errors: dict[str, str] = {}
    values = form_values(view)
    source: str | None = None
    raw_source = selected_source(values)
    if raw_source is None:
        errors[MODAL_SOURCE_BLOCK] = "Choose the index whose newest Ready backup to restore."
    elif raw_source == MODAL_INDEXES_UNAVAILABLE:
        errors[MODAL_SOURCE_BLOCK] = (
            "Pinecone did not answer when the indexes were listed. Open the list again to retry, or type the "
            "index's name and choose it."
        )
    else:
        checked = validate_index_name(raw_source)
        if isinstance(checked, Problem):
            errors[MODAL_SOURCE_BLOCK] = _message([checked])
        else:
            source = checked

    before: str | None = None
    raw_before = before_text(values)
    if raw_before is not None:
        spec = parse_when(raw_before)
        if isinstance(spec, Problem):
            errors[MODAL_BEFORE_BLOCK] = _message([spec])
        else:
            before = spec.text

    name_block = current_name_block(view)
    raw_name = form_text(values, name_block, MODAL_INDEX_NAME_ACTION) or ""
    name = validate_index_name(raw_name)
    if isinstance(name, Problem):
        errors[name_block] = _message([name]) if clean_field(raw_name) else f"Give the new index a name. {name.rule}"
    tags = parse_tags(form_text(values, MODAL_TAGS_BLOCK, MODAL_TAGS_ACTION) or "")
    if isinstance(tags, tuple):
        errors[MODAL_TAGS_BLOCK] = _message(tags)

    if errors or source is None or isinstance(name, Problem) or isinstance(tags, tuple):
        return Invalid(errors=errors)
    intent = RestoreIntent(
        source_index=source,
        before=before,
        index_name=name,
        tags=tags,
        deletion_protection=protection_checked(values),
    )
    return Submission(channel_id=metadata.channel_id, request=intent)
