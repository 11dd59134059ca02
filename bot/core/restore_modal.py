"""The restore modal as data: the view, the backup picker's options, and reading a submission.

Pure: backups, form state and Slack view payloads in, Block Kit dicts and typed results out. The
Slack listeners that call these live in `handlers/modal.py`.

A submission is checked with the same rules as the slash command: the backup and the index name go
through `bot.core.request.field_rules`, and the tags field is read by the command parser itself (by parsing a
command made of a known-good backup ID, a known-good name and the tags text), so quoting, smart
quotes, duplicate keys and the tag limit behave exactly as they do in `/restore-index`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    ExternalDataSelectElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.ids import (
    MODAL_BACKUP_ACTION,
    MODAL_BACKUP_BLOCK,
    MODAL_BACKUP_INFO_BLOCK,
    MODAL_BACKUP_UNAVAILABLE,
    MODAL_INDEX_NAME_ACTION,
    MODAL_INDEX_NAME_BLOCK,
    MODAL_NOTICE_BLOCK,
    MODAL_PROTECTION_ACTION,
    MODAL_PROTECTION_BLOCK,
    MODAL_PROTECTION_ENABLED,
    MODAL_TAGS_ACTION,
    MODAL_TAGS_BLOCK,
    RESTORE_COMMAND,
    RESTORE_MODAL_CALLBACK,
)
from bot.core.render import escape
from bot.core.request.command_parser import HelpCommand, Rejected, RestoreCommand, parse_command
from bot.core.request.field_rules import (
    DELETION_PROTECTION_FLAG,
    EXAMPLE_BACKUP_ID,
    EXAMPLE_INDEX_NAME,
    INDEX_NAME_MAX_CHARS,
    MAX_TAGS,
    TAG_KEY_MAX_CHARS,
    TAG_VALUE_MAX_CHARS,
    Problem,
    RestoreRequest,
    clean_field,
    suggest_index_name,
    validate_backup_id,
    validate_index_name,
)
from bot.pinecone.models import Backup

__all__ = [
    "MAX_OPTIONS",
    "OPTION_TEXT_MAX",
    "TAGS_MAX_CHARS",
    "Invalid",
    "ModalForm",
    "ModalMetadata",
    "Submission",
    "backup_matches",
    "backup_option",
    "backup_options",
    "default_index_name",
    "inline_text",
    "modal_channel",
    "name_block_id",
    "parse_tags",
    "read_metadata",
    "read_submission",
    "restore_view",
    "unavailable_options",
    "view_after_choice",
]

#: Slack's limits for an external_select answer: at most 100 options, option text at most 75 characters.
MAX_OPTIONS = 100
OPTION_TEXT_MAX = 75
#: Slack's own cap on a plain_text_input.
TAGS_MAX_CHARS = 3000
#: Inline errors sit under a field; a wall of text there helps nobody.
ERROR_MAX_CHARS = 1500
_STATUS_MAX_CHARS = 20
_SEP = " · "

TITLE = "Restore an index"
SUBMIT = "Restore"
CLOSE = "Cancel"

_TAGS_RULE = "Tags are written key=value, one per line or separated by spaces; put quotes around a value with spaces."


# --- private_metadata -----------------------------------------------------------------------------


class ModalMetadata(BaseModel):
    """What the modal carries in `private_metadata` (JSON, at most 3,000 characters)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    channel_id: str = Field(min_length=1, max_length=64)
    #: The index name the bot pre-filled, so a later choice may replace it but never a name the user typed.
    suggested: str | None = Field(default=None, max_length=INDEX_NAME_MAX_CHARS)

    def dump(self) -> str:
        return self.model_dump_json(exclude_none=True)


def read_metadata(raw: object) -> ModalMetadata | None:
    if not isinstance(raw, str) or not raw:
        return None
    try:
        return ModalMetadata.model_validate_json(raw)
    except ValidationError:
        return None


def modal_channel(view: Mapping[str, Any]) -> str | None:
    """The channel the modal was opened from, or None if the payload does not say."""
    metadata = read_metadata(view.get("private_metadata"))
    return metadata.channel_id if metadata else None


# --- the backup picker ----------------------------------------------------------------------------


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def _created(backup: Backup) -> datetime | None:
    if not backup.created_at:
        return None
    try:
        return datetime.fromisoformat(backup.created_at)
    except ValueError:
        return None


def _compact_count(count: int) -> str:
    for limit, unit in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if count >= limit:
            shown = f"{count / limit:.1f}".removesuffix(".0")
            return f"{shown}{unit}"
    return str(count)


def _head(source: str, name: str | None, budget: int) -> str:
    """ "source / name" in at most `budget` characters, shortening the longer part first."""
    if not name:
        return _clip(source, budget)
    full = f"{source} / {name}"
    if len(full) <= budget:
        return full
    room = budget - 3
    source_room = max(room // 2, room - len(name))
    shown_source = _clip(source, source_room)
    return f"{shown_source} / {_clip(name, room - len(shown_source))}"


def backup_option(backup: Backup) -> dict[str, Any]:
    """One picker option: source index, backup name, creation date, record count, and "NOT READY" if so.

    Plain text, so nothing needs escaping; Pinecone's strings are still cleaned of control characters
    and line breaks. Always at most 75 characters; the value is the backup ID.
    """
    source = clean_field(backup.source_index_name) or "?"
    name = clean_field(backup.name) if backup.name else None
    tail: list[str] = []
    created = _created(backup)
    if created is not None:
        tail.append(f"{created:%Y-%m-%d}")
    if backup.record_count is not None:
        tail.append(f"{_compact_count(backup.record_count)} records")
    lead = "" if backup.ready else f"NOT READY ({_clip(clean_field(backup.status) or '?', _STATUS_MAX_CHARS)}){_SEP}"
    tail_text = (_SEP + _SEP.join(tail)) if tail else ""
    head = _head(source, name, OPTION_TEXT_MAX - len(lead) - len(tail_text))
    text = _clip(f"{lead}{head}{tail_text}", OPTION_TEXT_MAX)
    return Option(value=backup.backup_id, text=PlainTextObject(text=text)).to_dict()


def backup_matches(backup: Backup, query: str) -> bool:
    """Every word of the query appears (case-insensitively) in the source index, the backup name or its ID."""
    words = clean_field(query).casefold().split()
    haystack = " ".join([backup.source_index_name, backup.name or "", backup.backup_id]).casefold()
    return all(word in haystack for word in words)


def backup_options(backups: Iterable[Backup], query: str) -> list[dict[str, Any]]:
    """The options for `query`: matching backups, newest first, each once, at most 100."""
    seen: set[str] = set()
    matching: list[Backup] = []
    for backup in backups:
        if backup.backup_id not in seen and backup_matches(backup, query):
            seen.add(backup.backup_id)
            matching.append(backup)
    # Newest first; backups without a readable date go last, in the order Pinecone listed them.
    dated = sorted((b for b in matching if _created(b)), key=lambda b: _created(b) or datetime.min, reverse=True)
    undated = [b for b in matching if not _created(b)]
    return [backup_option(b) for b in [*dated, *undated][:MAX_OPTIONS]]


def unavailable_options() -> list[dict[str, Any]]:
    """Slack shows options only, so a listing failure is said by one option that cannot be submitted."""
    text = "⚠ Pinecone did not answer. Type again to retry."
    return [Option(value=MODAL_BACKUP_UNAVAILABLE, text=PlainTextObject(text=text)).to_dict()]


def default_index_name(source_index_name: str, when: date) -> str | None:
    """`<source_index>-restore-<MMDD>`, at most 45 characters, a valid index name; None if none can be made.

    The source part is shortened rather than the suffix, so the name still says it is a restore.
    """
    suffix = f"-restore-{when:%m%d}"
    base = (suggest_index_name(source_index_name) or "")[: INDEX_NAME_MAX_CHARS - len(suffix)].rstrip("-")
    name = suggest_index_name(f"{base}{suffix}")
    return name if name is not None and isinstance(validate_index_name(name), str) else None


def _backup_day(backup: Backup, today: date) -> date:
    created = _created(backup)
    return created.date() if created else today


def _backup_summary(backup: Backup) -> str:
    created = _created(backup)
    first = f"*Source index:* `{escape(clean_field(backup.source_index_name))}`"
    if backup.name:
        first += f"{_SEP}*Backup:* {escape(clean_field(backup.name))}"
    details = [f"*ID:* `{escape(backup.backup_id)}`"]
    if created is not None:
        details.append(f"*Created:* {created:%Y-%m-%d %H:%M} UTC")
    if backup.record_count is not None:
        details.append(f"*Records:* {backup.record_count:,}")
    details.append(f"*Status:* {escape(clean_field(backup.status))}")
    text = f"{first}\n{_SEP.join(details)}"
    if not backup.ready:
        text += (
            f"\n:warning: This backup is not ready (status {escape(_clip(clean_field(backup.status), 40))}). "
            "Pinecone only restores Ready backups: choose another, or wait until it is Ready."
        )
    return text


# --- the view -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModalForm:
    """What the restore modal shows; `restore_view` draws it."""

    channel_id: str
    #: mrkdwn, already escaped: why a restore from this channel would be refused right now.
    notice: str | None = None
    #: The chosen backup, once the user has picked one.
    backup: Backup | None = None
    #: The name the bot pre-filled (kept in private_metadata).
    suggested_name: str | None = None
    name_block_id: str = MODAL_INDEX_NAME_BLOCK
    index_name: str | None = None
    tags_text: str | None = None
    deletion_protection: bool = False


def name_block_id(backup_id: str) -> str:
    """A name block id that differs for each backup, so Slack shows a newly pre-filled name."""
    return f"{MODAL_INDEX_NAME_BLOCK}.{backup_id}"


_PROTECTION_OPTION = Option(
    value=MODAL_PROTECTION_ENABLED,
    text=PlainTextObject(text="Enable deletion protection"),
    description=PlainTextObject(text="The new index cannot be deleted until protection is turned off."),
)


def restore_view(form: ModalForm) -> dict[str, Any]:
    """The modal as a `views.open` / `views.update` view."""
    blocks: list[Block] = []
    if form.notice:
        blocks.append(SectionBlock(block_id=MODAL_NOTICE_BLOCK, text=MarkdownTextObject(text=_clip(form.notice, 3000))))
    picker = ExternalDataSelectElement(
        action_id=MODAL_BACKUP_ACTION,
        placeholder="Type a source index or backup name",
        # 0: the newest backups are listed as soon as the menu opens, before anything is typed.
        min_query_length=0,
        initial_option=_option_object(form.backup) if form.backup is not None else None,
    )
    blocks.append(
        InputBlock(
            block_id=MODAL_BACKUP_BLOCK,
            label="Backup",
            element=picker,
            dispatch_action=True,  # a choice comes back as block_actions, to pre-fill the name
            hint="Newest first. Type to filter by source index or backup name.",
        )
    )
    if form.backup is not None:
        blocks.append(
            ContextBlock(
                block_id=MODAL_BACKUP_INFO_BLOCK,
                elements=[MarkdownTextObject(text=_clip(_backup_summary(form.backup), 3000))],
            )
        )
    blocks.append(
        InputBlock(
            block_id=form.name_block_id,
            label="New index name",
            element=PlainTextInputElement(
                action_id=MODAL_INDEX_NAME_ACTION,
                placeholder=f"e.g. {EXAMPLE_INDEX_NAME}",
                initial_value=form.index_name or None,
                max_length=INDEX_NAME_MAX_CHARS,
            ),
            hint=(
                f"1-{INDEX_NAME_MAX_CHARS} lower-case letters, digits or '-', starting and ending with a letter "
                "or digit. The name must not be taken."
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=MODAL_TAGS_BLOCK,
            label="Tags",
            optional=True,
            element=PlainTextInputElement(
                action_id=MODAL_TAGS_ACTION,
                placeholder='env=prod team="search infra"',
                initial_value=form.tags_text or None,
                multiline=True,
                max_length=TAGS_MAX_CHARS,
            ),
            hint=(
                f"key=value, one per line or separated by spaces; quote values with spaces. Keys: up to "
                f"{TAG_KEY_MAX_CHARS} letters, digits, _ or -. Values: up to {TAG_VALUE_MAX_CHARS} letters, digits, "
                f"spaces or ; @ _ - . +. At most {MAX_TAGS} tags."
            ),
        )
    )
    blocks.append(
        InputBlock(
            block_id=MODAL_PROTECTION_BLOCK,
            label="Deletion protection",
            optional=True,
            element=CheckboxesElement(
                action_id=MODAL_PROTECTION_ACTION,
                options=[_PROTECTION_OPTION],
                initial_options=[_PROTECTION_OPTION] if form.deletion_protection else None,
            ),
        )
    )
    metadata = ModalMetadata(channel_id=form.channel_id, suggested=form.suggested_name)
    view = View(
        type="modal",
        callback_id=RESTORE_MODAL_CALLBACK,
        title=TITLE,
        submit=SUBMIT,
        close=CLOSE,
        private_metadata=metadata.dump(),
        blocks=blocks,
    )
    result: dict[str, Any] = view.to_dict()
    return result


def _option_object(backup: Backup) -> Option:
    option = backup_option(backup)
    return Option(value=option["value"], text=PlainTextObject(text=option["text"]["text"]))


# --- reading a view payload -----------------------------------------------------------------------


def _values(view: Mapping[str, Any]) -> Mapping[str, Any]:
    state = view.get("state")
    values = state.get("values") if isinstance(state, Mapping) else None
    return values if isinstance(values, Mapping) else {}


def _element(values: Mapping[str, Any], block_id: str, action_id: str) -> Mapping[str, Any]:
    block = values.get(block_id)
    element = block.get(action_id) if isinstance(block, Mapping) else None
    return element if isinstance(element, Mapping) else {}


def _current_name_block(view: Mapping[str, Any]) -> str:
    """The block id the name input has in this view (it changes when the bot pre-fills a name)."""
    blocks = view.get("blocks")
    for block in blocks if isinstance(blocks, list) else []:
        block_id = block.get("block_id") if isinstance(block, Mapping) else None
        if isinstance(block_id, str) and _is_name_block(block_id):
            return block_id
    for block_id in _values(view):
        if isinstance(block_id, str) and _is_name_block(block_id):
            return block_id
    return MODAL_INDEX_NAME_BLOCK


def _is_name_block(block_id: str) -> bool:
    return block_id == MODAL_INDEX_NAME_BLOCK or block_id.startswith(MODAL_INDEX_NAME_BLOCK + ".")


def _text(values: Mapping[str, Any], block_id: str, action_id: str) -> str | None:
    value = _element(values, block_id, action_id).get("value")
    return value if isinstance(value, str) else None


def _selected_backup(values: Mapping[str, Any]) -> str | None:
    option = _element(values, MODAL_BACKUP_BLOCK, MODAL_BACKUP_ACTION).get("selected_option")
    value = option.get("value") if isinstance(option, Mapping) else None
    return value if isinstance(value, str) else None


def _protection(values: Mapping[str, Any]) -> bool:
    selected = _element(values, MODAL_PROTECTION_BLOCK, MODAL_PROTECTION_ACTION).get("selected_options")
    return isinstance(selected, list) and any(
        isinstance(option, Mapping) and option.get("value") == MODAL_PROTECTION_ENABLED for option in selected
    )


def view_after_choice(
    view: Mapping[str, Any], backup: Backup, *, today: date, notice: str | None = None
) -> dict[str, Any] | None:
    """The modal redrawn after the user picked `backup`: its details shown, the name pre-filled.

    The name is replaced only while it is empty or still the bot's own earlier suggestion; a name the
    user typed is kept. Tags and deletion protection keep their block and action ids, so Slack keeps
    what was entered; they are also passed as initial values so the redrawn view says the same.
    None if the view does not carry the modal's metadata.
    """
    metadata = read_metadata(view.get("private_metadata"))
    if metadata is None:
        return None
    values = _values(view)
    current_block = _current_name_block(view)
    current_name = _text(values, current_block, MODAL_INDEX_NAME_ACTION)
    suggestion = default_index_name(backup.source_index_name, _backup_day(backup, today))
    ours = not (current_name or "").strip() or current_name == metadata.suggested
    name: str | None
    suggested: str | None
    if ours and suggestion is not None:
        name, block_id, suggested = suggestion, name_block_id(backup.backup_id), suggestion
    else:
        name, block_id, suggested = current_name, current_block, metadata.suggested
    return restore_view(
        ModalForm(
            channel_id=metadata.channel_id,
            notice=notice,
            backup=backup,
            suggested_name=suggested,
            name_block_id=block_id,
            index_name=name,
            tags_text=_text(values, MODAL_TAGS_BLOCK, MODAL_TAGS_ACTION),
            deletion_protection=_protection(values),
        )
    )


# --- a submission ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """A valid submission: the request, and the channel the modal was opened from."""

    channel_id: str
    request: RestoreRequest


@dataclass(frozen=True)
class Invalid:
    """What to show inline: block_id -> message (for `response_action: errors`)."""

    errors: dict[str, str]


def _message(problems: Sequence[Problem]) -> str:
    if len(problems) == 1:
        return _clip(problems[0].describe(), ERROR_MAX_CHARS)
    listed = " • ".join(p.describe() for p in problems)
    return _clip(f"{len(problems)} problems: • {listed}", ERROR_MAX_CHARS)


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
    values = _values(view)

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

    name_block = _current_name_block(view)
    raw_name = _text(values, name_block, MODAL_INDEX_NAME_ACTION) or ""
    index_name: str | None = None
    name = validate_index_name(raw_name)
    if isinstance(name, Problem):
        if clean_field(raw_name):
            errors[name_block] = _message([name])
        else:
            errors[name_block] = f"Give the new index a name. {name.rule}"
    else:
        index_name = name

    tags = parse_tags(_text(values, MODAL_TAGS_BLOCK, MODAL_TAGS_ACTION) or "")
    if isinstance(tags, tuple):
        errors[MODAL_TAGS_BLOCK] = _message(tags)

    if errors or metadata is None or backup_id is None or index_name is None or isinstance(tags, tuple):
        return Invalid(errors=errors)
    request = RestoreRequest(
        backup_id=backup_id, index_name=index_name, tags=tags, deletion_protection=_protection(values)
    )
    return Submission(channel_id=metadata.channel_id, request=request)


# --- mrkdwn to an inline error ------------------------------------------------------------------

_EMOJI_RE = re.compile(r"(?<!\S):[a-z0-9_+'-]+:(?!\S) ?")
_ANGLE_RE = re.compile(r"<([^<>]*)>")


def _angle(match: re.Match[str]) -> str:
    inner = match.group(1)
    target, _, label = inner.partition("|")
    if target.startswith(("#", "@")):
        return f"{target[0]}{label}" if label else target
    if target.startswith("!"):
        return label or target[1:]
    return label or target


def inline_text(mrkdwn: str) -> str:
    """A message written for mrkdwn, as plain text for an inline error (which Slack does not format)."""
    text = _EMOJI_RE.sub("", mrkdwn)
    text = _ANGLE_RE.sub(_angle, text).replace("`", "").replace("*", "")
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return _clip(" ".join(text.split()), ERROR_MAX_CHARS)
