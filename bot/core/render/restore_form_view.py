"""The restore modal as Block Kit: the view, the backup picker's options, and inline error text.

Pure: backups and form state in, Block Kit dicts out. The values a view sends back are read by
`bot.core.request.restore_form`; the picker's look-ups live in `bot.service.backup_picker`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

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
    RadioButtonsElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.backup_choice import Chosen, NoneQualifies, age_text, taken_at, when_text
from bot.core.backup_facts import BackupFacts
from bot.core.ids import (
    MODAL_BACKUP_ACTION,
    MODAL_BACKUP_BLOCK,
    MODAL_BACKUP_INFO_BLOCK,
    MODAL_BACKUP_UNAVAILABLE,
    MODAL_BEFORE_ACTION,
    MODAL_BEFORE_BLOCK,
    MODAL_CHOICE_BLOCK,
    MODAL_INDEX_NAME_ACTION,
    MODAL_INDEX_NAME_BLOCK,
    MODAL_INDEXES_UNAVAILABLE,
    MODAL_MODE_ACTION,
    MODAL_MODE_BACKUP,
    MODAL_MODE_BLOCK,
    MODAL_MODE_SOURCE,
    MODAL_NOTICE_BLOCK,
    MODAL_PROTECTION_ACTION,
    MODAL_PROTECTION_BLOCK,
    MODAL_PROTECTION_ENABLED,
    MODAL_SOURCE_ACTION,
    MODAL_SOURCE_BLOCK,
    MODAL_TAGS_ACTION,
    MODAL_TAGS_BLOCK,
    RESTORE_MODAL_CALLBACK,
)
from bot.core.render.blocks import escape
from bot.core.request.field_rules import (
    EXAMPLE_INDEX_NAME,
    INDEX_NAME_MAX_CHARS,
    MAX_TAGS,
    TAG_KEY_MAX_CHARS,
    TAG_VALUE_MAX_CHARS,
    clean_field,
    suggest_index_name,
    validate_index_name,
)
from bot.core.request.moments import MAX_WHEN_CHARS
from bot.core.request.restore_form import (
    ERROR_MAX_CHARS,
    TAGS_MAX_CHARS,
    ModalMetadata,
    before_text,
    clip,
    current_name_block,
    form_text,
    form_values,
    protection_checked,
    read_metadata,
    selected_source,
)

#: Slack's limits for an external_select answer: at most 100 options, option text at most 75 characters.
MAX_OPTIONS = 100
OPTION_TEXT_MAX = 75
_STATUS_MAX_CHARS = 20
_SEP = " · "

TITLE = "Restore an index"
SUBMIT = "Restore"
CLOSE = "Cancel"


# --- the backup picker ----------------------------------------------------------------------------


def _created(backup: BackupFacts) -> datetime | None:
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
        return clip(source, budget)
    full = f"{source} / {name}"
    if len(full) <= budget:
        return full
    room = budget - 3
    source_room = max(room // 2, room - len(name))
    shown_source = clip(source, source_room)
    return f"{shown_source} / {clip(name, room - len(shown_source))}"


def backup_option(backup: BackupFacts) -> dict[str, Any]:
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
    lead = "" if backup.ready else f"NOT READY ({clip(clean_field(backup.status) or '?', _STATUS_MAX_CHARS)}){_SEP}"
    tail_text = (_SEP + _SEP.join(tail)) if tail else ""
    head = _head(source, name, OPTION_TEXT_MAX - len(lead) - len(tail_text))
    text = clip(f"{lead}{head}{tail_text}", OPTION_TEXT_MAX)
    return Option(value=backup.backup_id, text=PlainTextObject(text=text)).to_dict()


def backup_matches(backup: BackupFacts, query: str) -> bool:
    """Every word of the query appears (case-insensitively) in the source index, the backup name or its ID."""
    words = clean_field(query).casefold().split()
    haystack = " ".join([backup.source_index_name, backup.name or "", backup.backup_id]).casefold()
    return all(word in haystack for word in words)


def backup_options(backups: Iterable[BackupFacts], query: str) -> list[dict[str, Any]]:
    """The options for `query`: matching backups, newest first, each once, at most 100."""
    seen: set[str] = set()
    matching: list[BackupFacts] = []
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


def _backup_day(backup: BackupFacts, today: date) -> date:
    created = _created(backup)
    return created.date() if created else today


def _backup_summary(backup: BackupFacts) -> str:
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
            f"\n:warning: This backup is not ready (status {escape(clip(clean_field(backup.status), 40))}). "
            "Pinecone only restores Ready backups: choose another, or wait until it is Ready."
        )
    return text


# --- the view -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModalForm:
    """What the restore modal shows; `restore_view` draws it."""

    channel_id: str
    #: "backup": pick a backup; "source": the newest Ready backup of an index (before a moment), as `from:`.
    mode: str = MODAL_MODE_BACKUP
    #: The "source index" path: the index chosen, the moment typed, and which backup that would restore
    #: (mrkdwn, already escaped; None until an index is chosen).
    source_index: str | None = None
    before: str | None = None
    preview: str | None = None
    #: mrkdwn, already escaped: why a restore from this channel would be refused right now.
    notice: str | None = None
    #: The chosen backup, once the user has picked one.
    backup: BackupFacts | None = None
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
        blocks.append(SectionBlock(block_id=MODAL_NOTICE_BLOCK, text=MarkdownTextObject(text=clip(form.notice, 3000))))
    source = form.mode == MODAL_MODE_SOURCE
    blocks.append(_mode_block(source))
    if source:
        blocks.extend(_source_blocks(form))
    else:
        blocks.extend(_backup_blocks(form))
    blocks.extend(_target_blocks(form))
    metadata = ModalMetadata(
        channel_id=form.channel_id, suggested=form.suggested_name, mode=MODAL_MODE_SOURCE if source else None
    )
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


_MODE_OPTIONS = {
    MODAL_MODE_BACKUP: Option(value=MODAL_MODE_BACKUP, text=PlainTextObject(text="A backup I pick")),
    MODAL_MODE_SOURCE: Option(
        value=MODAL_MODE_SOURCE,
        text=PlainTextObject(text="The newest backup of an index"),
        description=PlainTextObject(text="Optionally the newest taken before a moment, e.g. before the incident"),
    ),
}


def _mode_block(source: bool) -> InputBlock:
    return InputBlock(
        block_id=MODAL_MODE_BLOCK,
        label="Restore from",
        element=RadioButtonsElement(
            action_id=MODAL_MODE_ACTION,
            options=list(_MODE_OPTIONS.values()),
            initial_option=_MODE_OPTIONS[MODAL_MODE_SOURCE if source else MODAL_MODE_BACKUP],
        ),
        dispatch_action=True,  # a change comes back as block_actions: the form is redrawn for that path
    )


def _source_blocks(form: ModalForm) -> list[Block]:
    chosen = (
        Option(value=form.source_index, text=PlainTextObject(text=form.source_index)) if form.source_index else None
    )
    preview = form.preview or "Choose an index to see which backup would be restored."
    return [
        InputBlock(
            block_id=MODAL_SOURCE_BLOCK,
            label="Source index",
            element=ExternalDataSelectElement(
                action_id=MODAL_SOURCE_ACTION,
                placeholder="Type an index name",
                min_query_length=0,
                initial_option=chosen,
            ),
            dispatch_action=True,  # a choice comes back as block_actions, to show the backup that would be used
            hint="The project's indexes; type the name of a deleted one to restore from its backups.",
        ),
        InputBlock(
            block_id=MODAL_BEFORE_BLOCK,
            label="Before (optional)",
            optional=True,
            element=PlainTextInputElement(
                action_id=MODAL_BEFORE_ACTION,
                placeholder="14:00, yesterday 14:00, 2h, 2026-11-30T14:00Z",
                initial_value=form.before or None,
                max_length=MAX_WHEN_CHARS,
                dispatch_action_config={"trigger_actions_on": ["on_enter_pressed"]},
            ),
            dispatch_action=True,
            hint=(
                "The newest Ready backup taken before this moment; times of day are in your Slack time zone. "
                "Press Enter to see which backup that is."
            ),
        ),
        ContextBlock(block_id=MODAL_CHOICE_BLOCK, elements=[MarkdownTextObject(text=clip(preview, 3000))]),
    ]


def _backup_blocks(form: ModalForm) -> list[Block]:
    blocks: list[Block] = []
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
                elements=[MarkdownTextObject(text=clip(_backup_summary(form.backup), 3000))],
            )
        )
    return blocks


def _target_blocks(form: ModalForm) -> list[Block]:
    blocks: list[Block] = []
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
    return blocks


def _option_object(backup: BackupFacts) -> Option:
    option = backup_option(backup)
    return Option(value=option["value"], text=PlainTextObject(text=option["text"]["text"]))


def view_after_choice(
    view: Mapping[str, Any], backup: BackupFacts, *, today: date, notice: str | None = None
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
    values = form_values(view)
    current_block = current_name_block(view)
    current_name = form_text(values, current_block, MODAL_INDEX_NAME_ACTION)
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
            tags_text=form_text(values, MODAL_TAGS_BLOCK, MODAL_TAGS_ACTION),
            deletion_protection=protection_checked(values),
        )
    )


# --- the "source index" path ---------------------------------------------------------------------


def index_options(names: Iterable[str], query: str) -> list[dict[str, Any]]:
    """The source picker's options: the indexes whose name contains every typed word, sorted; then the typed
    text itself when it is a valid index name that is not one of them (a deleted index still has backups)."""
    words = clean_field(query).casefold().split()
    matching = sorted({name for name in names if all(word in name.casefold() for word in words)})
    options = [_index_option(name, name) for name in matching]
    typed = clean_field(query)
    if typed and typed not in matching and isinstance(validate_index_name(typed), str):
        # Last, and always there: a name being typed is most often the start of a listed one.
        text = f"{typed} (no such index now: its backups are searched)"
        return [*options[: MAX_OPTIONS - 1], _index_option(typed, text)]
    return options[:MAX_OPTIONS]


def _index_option(name: str, text: str) -> dict[str, Any]:
    return Option(value=name, text=PlainTextObject(text=clip(text, OPTION_TEXT_MAX))).to_dict()


def indexes_unavailable_options(typed: str) -> list[dict[str, Any]]:
    """Pinecone did not list the indexes: one warning option, and the typed name if it is a valid one."""
    text = "⚠ Pinecone did not answer. Type again to retry."
    options = [Option(value=MODAL_INDEXES_UNAVAILABLE, text=PlainTextObject(text=text)).to_dict()]
    name = clean_field(typed)
    if name and isinstance(validate_index_name(name), str):
        options.append(_index_option(name, name))
    return options


def preview_text(result: Chosen | NoneQualifies, now: datetime) -> str:
    """Which backup the "source index" path would restore, and why; or why none would be (mrkdwn, escaped)."""
    if isinstance(result, NoneQualifies):
        return f":warning: {escape(result.reason)}"
    backup = result.backup
    parts = [f"`{escape(clean_field(backup.backup_id))}`"]
    if backup.name:
        parts.append(f"“{escape(clean_field(backup.name))}”")
    taken = taken_at(backup)
    if taken is not None:
        before = result.before_moment
        ages = [f"{age_text(before)} before that moment"] if before is not None else []
        ages.append(f"{age_text(now - taken)} ago")
        parts.append(f"taken {when_text(taken)} ({', '.join(ages)})")
    if backup.record_count is not None:
        parts.append(f"{backup.record_count:,} records")
    return f"*Would restore:* {_SEP.join(parts)}\n{escape(result.why)}"


def preview_unavailable(source_index: str, trouble: str) -> str:
    return (
        f":warning: I could not tell just now which backup of `{escape(source_index)}` that is ({escape(trouble)}). "
        "Submitting still works: the backup is chosen then, and you are told which."
    )


def view_for_mode(view: Mapping[str, Any], mode: str, *, notice: str | None = None) -> dict[str, Any] | None:
    """The modal redrawn for the other path (a backup picked, or the newest backup of an index); the name,
    tags and deletion protection are kept. None if the view does not carry the modal's metadata."""
    metadata = read_metadata(view.get("private_metadata"))
    if metadata is None or mode not in (MODAL_MODE_BACKUP, MODAL_MODE_SOURCE):
        return None
    values = form_values(view)
    name_block = current_name_block(view)
    return restore_view(
        ModalForm(
            channel_id=metadata.channel_id,
            mode=mode,
            notice=notice,
            suggested_name=metadata.suggested,
            name_block_id=name_block,
            index_name=form_text(values, name_block, MODAL_INDEX_NAME_ACTION),
            tags_text=form_text(values, MODAL_TAGS_BLOCK, MODAL_TAGS_ACTION),
            deletion_protection=protection_checked(values),
        )
    )


def view_with_preview(
    view: Mapping[str, Any],
    preview: str,
    *,
    chosen: BackupFacts | None,
    today: date,
    notice: str | None = None,
) -> dict[str, Any] | None:
    """The "source index" path redrawn with the backup it would restore (`preview`), and, as a picked backup
    does, the name pre-filled from it unless the user typed one. None without the modal's metadata."""
    metadata = read_metadata(view.get("private_metadata"))
    if metadata is None:
        return None
    values = form_values(view)
    current_block = current_name_block(view)
    current_name = form_text(values, current_block, MODAL_INDEX_NAME_ACTION)
    name, block_id, suggested = current_name, current_block, metadata.suggested
    if chosen is not None:
        suggestion = default_index_name(chosen.source_index_name, _backup_day(chosen, today))
        ours = not (current_name or "").strip() or current_name == metadata.suggested
        if ours and suggestion is not None:
            name, block_id, suggested = suggestion, name_block_id(chosen.backup_id), suggestion
    return restore_view(
        ModalForm(
            channel_id=metadata.channel_id,
            mode=MODAL_MODE_SOURCE,
            notice=notice,
            source_index=selected_source(values),
            before=before_text(values),
            preview=preview,
            suggested_name=suggested,
            name_block_id=block_id,
            index_name=name,
            tags_text=form_text(values, MODAL_TAGS_BLOCK, MODAL_TAGS_ACTION),
            deletion_protection=protection_checked(values),
        )
    )


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
    return clip(" ".join(text.split()), ERROR_MAX_CHARS)
