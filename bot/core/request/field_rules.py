"""Rules for the fields of a restore-from-backup request.

The limits mirror Pinecone's OpenAPI spec (``CreateIndexFromBackupRequest`` and
``IndexTags``) so that a request the bot accepts is never refused by the API for its
shape. Both the slash-command parser and the (future) modal form use these functions,
which is why each field validator stands alone: a form validates one field at a time.

Every validator returns either the cleaned value or a :class:`Problem`; none raises.
"""

import re
import unicodedata
from collections.abc import Iterable

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "CANONICAL_EXAMPLE",
    "DELETION_PROTECTION_FLAG",
    "EXAMPLE_BACKUP_ID",
    "EXAMPLE_INDEX_NAME",
    "INDEX_NAME_MAX_CHARS",
    "MAX_QUOTED_CHARS",
    "MAX_TAGS",
    "TAG_KEY_MAX_CHARS",
    "TAG_VALUE_MAX_CHARS",
    "Problem",
    "RestoreRequest",
    "clean_field",
    "duplicate_tag_key_problem",
    "quote_for_humans",
    "suggest_backup_id",
    "suggest_index_name",
    "suggest_tag_key",
    "suggest_tag_value",
    "too_many_tags_problem",
    "validate_backup_id",
    "validate_index_name",
    "validate_tag_key",
    "validate_tag_value",
    "validate_tags",
]

INDEX_NAME_MAX_CHARS = 45
TAG_KEY_MAX_CHARS = 80
TAG_VALUE_MAX_CHARS = 120
# Bot policy, not an API limit: the spec puts no bound on the number of tags. Twenty
# keeps the confirmation message readable and a fully tagged command within Slack's
# 4,000-character command text in all but extreme cases.
MAX_TAGS = 20
# Long user input echoed back in an error would bury the message that explains it.
MAX_QUOTED_CHARS = 60

DELETION_PROTECTION_FLAG = "--deletion-protection"
DRY_RUN_FLAG = "--dry-run"
FROM_PREFIX = "from:"
BEFORE_PREFIX = "before:"
EXAMPLE_BACKUP_ID = "a65ff585-d987-4da5-a622-72e19a6ed5f4"
EXAMPLE_INDEX_NAME = "restored-index"
CANONICAL_EXAMPLE = f"{EXAMPLE_BACKUP_ID} {EXAMPLE_INDEX_NAME} env=prod"

INDEX_NAME_RULE = (
    "Index names use only lower-case letters, digits and '-', start and end with a letter or digit, "
    f"and are 1-{INDEX_NAME_MAX_CHARS} characters long."
)
TAG_KEY_RULE = f"Tag keys use only ASCII letters, digits, '_' and '-' (1-{TAG_KEY_MAX_CHARS} characters)."
TAG_VALUE_RULE = (
    f"Tag values use only ASCII letters, digits, spaces and ; @ _ - . + (1-{TAG_VALUE_MAX_CHARS} characters)."
)
EMPTY_TAG_VALUE_RULE = (
    "Tag values cannot be empty: Pinecone reads an empty value as 'remove this tag', "
    "which means nothing on a new index."
)
BACKUP_ID_RULE = f"Backup IDs are UUIDs: 32 hex digits grouped 8-4-4-4-12, like {EXAMPLE_BACKUP_ID}."

# Explicit character classes rather than \d or str.isalnum(): those accept non-ASCII
# digits and letters, which the API refuses.
_HEX = "[0-9a-fA-F]"
_BACKUP_ID_RE = re.compile(f"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}")
_EMBEDDED_UUID_RE = re.compile(
    f"(?<![0-9a-fA-F])({_HEX}{{8}})-?({_HEX}{{4}})-?({_HEX}{{4}})-?({_HEX}{{4}})-?({_HEX}{{12}})(?![0-9a-fA-F])"
)
_INDEX_NAME_RE = re.compile(f"[a-z0-9](?:[a-z0-9-]{{0,{INDEX_NAME_MAX_CHARS - 2}}}[a-z0-9])?")
_TAG_KEY_RE = re.compile(f"[A-Za-z0-9_-]{{1,{TAG_KEY_MAX_CHARS}}}")
_TAG_VALUE_RE = re.compile(f"[A-Za-z0-9;@_.+ -]{{1,{TAG_VALUE_MAX_CHARS}}}")

_ASCII_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_ASCII_LOWER_DIGITS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")
_INDEX_NAME_CHARS = _ASCII_LOWER_DIGITS | {"-"}
_TAG_KEY_CHARS = _ASCII_LOWER_DIGITS | _ASCII_UPPER | {"_", "-"}
_TAG_VALUE_CHARS = _ASCII_LOWER_DIGITS | _ASCII_UPPER | set(";@_-.+ ")

_WHITESPACE_RE = re.compile(r"\s")  # str patterns: matches exactly what str.isspace() accepts
# Invisible characters that clients and copy-paste slip into text. Left in, they make
# a correct-looking name fail with an error the user cannot see the reason for.
INVISIBLE_CHARS = "\u00ad\u200b\u200c\u200d\u200e\u200f\u2060\ufeff"
_DROP_INVISIBLE = str.maketrans(dict.fromkeys(INVISIBLE_CHARS))


class Problem(BaseModel):
    """One thing wrong with the user's input, phrased for a chat reply."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    part: str
    rule: str
    hint: str | None = None

    def describe(self) -> str:
        text = f"{self.part}: {self.rule}"
        if not self.hint:
            return text
        return f"{text} {self.hint}" + ("" if self.hint.endswith((".", "?", "!")) else ".")


def quote_for_humans(text: str, limit: int = MAX_QUOTED_CHARS) -> str:
    """Quote user input for an error message: short, and safe to send back to Slack.

    Non-printable characters (NUL, bidi overrides, lone surrogates) are shown as
    escapes: a lone surrogate cannot be encoded as UTF-8 at all, and a bidi override
    would scramble the rest of the reply.
    """
    pieces: list[str] = []
    used = 0
    for ch in text:
        piece = ch if ch.isprintable() else _escape_char(ch)
        if used + len(piece) > limit:
            # Leave room for the ellipsis inside the limit.
            while pieces and used + 1 > limit:
                used -= len(pieces.pop())
            pieces.append("…")
            break
        pieces.append(piece)
        used += len(piece)
    return '"' + "".join(pieces) + '"'


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def clean_field(raw: str) -> str:
    """Normalise one form field: drop invisible characters, read any Unicode space as ' ', trim."""
    return _WHITESPACE_RE.sub(" ", raw.translate(_DROP_INVISIBLE)).strip(" ")


def _describe_chars(chars: Iterable[str], limit: int = 5) -> str:
    distinct: list[str] = []
    for ch in chars:
        if ch not in distinct:
            distinct.append(ch)
    shown = ", ".join(quote_for_humans(ch) for ch in distinct[:limit])
    return shown + (" and others" if len(distinct) > limit else "")


def _hint(fixes: list[str], suggestion: str | None) -> str | None:
    text = "; ".join(fixes)
    if suggestion is not None:
        text = f'{text} — try "{suggestion}"' if text else f'try "{suggestion}"'
    return (text[:1].upper() + text[1:]) or None


def _ascii_fold(raw: str) -> str:
    # NFKD splits accents off their letters and maps full-width and other compatibility
    # forms to ASCII, so "Café" suggests "cafe" rather than "caf".
    decomposed = unicodedata.normalize("NFKD", raw)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# --- backup ID ---------------------------------------------------------------------


def validate_backup_id(raw: str) -> str | Problem:
    """Return the backup ID in lower case, or the Problem with it."""
    value = clean_field(raw)
    if _BACKUP_ID_RE.fullmatch(value):
        return value.lower()
    suggestion = suggest_backup_id(value)
    if suggestion is not None:
        hint = f'Try "{suggestion}"'
    elif not value:
        hint = f"Paste the backup's ID, e.g. {EXAMPLE_BACKUP_ID}"
    else:
        hint = "Copy the backup ID (not the backup's name) from the Pinecone console"
    return Problem(part=f"backup ID {quote_for_humans(value)}", rule=BACKUP_ID_RULE, hint=hint)


def suggest_backup_id(raw: str) -> str | None:
    """Find a UUID inside pasted text (braces, angle brackets, URLs, missing dashes)."""
    match = _EMBEDDED_UUID_RE.search(raw)
    if match is None:
        return None
    return "-".join(match.groups()).lower()


# --- index name --------------------------------------------------------------------


def validate_index_name(raw: str) -> str | Problem:
    """Return the index name, or the Problem with it. Names are never lower-cased silently:
    Pinecone would create an index under a different name than the one the user typed."""
    name = clean_field(raw)
    if _INDEX_NAME_RE.fullmatch(name):
        return name
    fixes: list[str] = []
    if not name:
        fixes.append("give the index a name")
    if len(name) > INDEX_NAME_MAX_CHARS:
        fixes.append(f"shorten it to {INDEX_NAME_MAX_CHARS} characters (it has {len(name)})")
    if any(ch in _ASCII_UPPER for ch in name):
        fixes.append("use lower case")
    invalid = [ch for ch in name if ch not in _INDEX_NAME_CHARS and ch not in _ASCII_UPPER]
    if invalid:
        fixes.append(f"replace {_describe_chars(invalid)}")
    if name.startswith("-") or name.endswith("-"):
        fixes.append("start and end with a letter or digit")
    return Problem(
        part=f"index name {quote_for_humans(name)}",
        rule=INDEX_NAME_RULE,
        hint=_hint(fixes, suggest_index_name(name)),
    )


_NON_ALNUM_RUN_RE = re.compile(r"[^a-z0-9]+")


def suggest_index_name(raw: str) -> str | None:
    """Best-effort valid index name derived from ``raw``; None if nothing usable remains."""
    folded = _ascii_fold(raw).lower()

    def dash(match: re.Match[str]) -> str:
        # A run that is already all dashes is the user's own spelling ("a--b"); keep it.
        run = match.group(0)
        return run if set(run) == {"-"} else "-"

    name = _NON_ALNUM_RUN_RE.sub(dash, folded).strip("-")
    name = name[:INDEX_NAME_MAX_CHARS].rstrip("-")
    return name or None


# --- tags --------------------------------------------------------------------------


def validate_tag_key(raw: str) -> str | Problem:
    """Return the tag key (case kept: keys are case-sensitive), or the Problem with it."""
    key = clean_field(raw)
    if _TAG_KEY_RE.fullmatch(key):
        return key
    fixes: list[str] = []
    if not key:
        fixes.append("give the tag a key, e.g. env=prod")
    if len(key) > TAG_KEY_MAX_CHARS:
        fixes.append(f"shorten it to {TAG_KEY_MAX_CHARS} characters (it has {len(key)})")
    invalid = [ch for ch in key if ch not in _TAG_KEY_CHARS]
    if invalid:
        fixes.append(f"replace {_describe_chars(invalid)}")
    return Problem(
        part=f"tag key {quote_for_humans(key)}",
        rule=TAG_KEY_RULE,
        hint=_hint(fixes, suggest_tag_key(key)),
    )


def validate_tag_value(raw: str, key: str | None = None) -> str | Problem:
    """Return the tag value, or the Problem with it.

    Leading and trailing spaces are trimmed rather than refused: the spec allows spaces,
    but spaces at the ends are invisible in the Pinecone console and are nearly always a
    copy-paste accident. Inner spaces are kept as typed.
    """
    value = clean_field(raw)
    if _TAG_VALUE_RE.fullmatch(value):
        return value
    of_key = f" of tag {quote_for_humans(clean_field(key))}" if key is not None else ""
    part = f"value {quote_for_humans(value)}{of_key}" if key is not None else f"tag value {quote_for_humans(value)}"
    if not value:
        return Problem(part=part, rule=EMPTY_TAG_VALUE_RULE, hint="Give it a value, or leave the tag out")
    fixes: list[str] = []
    if len(value) > TAG_VALUE_MAX_CHARS:
        fixes.append(f"shorten it to {TAG_VALUE_MAX_CHARS} characters (it has {len(value)})")
    invalid = [ch for ch in value if ch not in _TAG_VALUE_CHARS]
    if invalid:
        fixes.append(f"replace {_describe_chars(invalid)}")
    return Problem(part=part, rule=TAG_VALUE_RULE, hint=_hint(fixes, suggest_tag_value(value)))


_TAG_KEY_EDGES_RE = re.compile(r"\A[^A-Za-z0-9_-]+|[^A-Za-z0-9_-]+\Z")
_TAG_KEY_INVALID_RUN_RE = re.compile(r"[^A-Za-z0-9_-]+")
_TAG_VALUE_EDGES_RE = re.compile(r"\A[^A-Za-z0-9;@_.+-]+|[^A-Za-z0-9;@_.+-]+\Z")
_TAG_VALUE_INVALID_RUN_RE = re.compile(r"[^A-Za-z0-9;@_.+ -]+")


def suggest_tag_key(raw: str) -> str | None:
    """Best-effort valid tag key; None if nothing usable remains."""
    key = _TAG_KEY_EDGES_RE.sub("", _ascii_fold(raw))
    key = _TAG_KEY_INVALID_RUN_RE.sub("_", key)[:TAG_KEY_MAX_CHARS]
    return key or None


def suggest_tag_value(raw: str) -> str | None:
    """Best-effort valid tag value; None if nothing usable remains."""
    value = _TAG_VALUE_EDGES_RE.sub("", _ascii_fold(clean_field(raw)))
    value = _TAG_VALUE_INVALID_RUN_RE.sub("-", value)[:TAG_VALUE_MAX_CHARS].strip(" ")
    return value or None


def duplicate_tag_key_problem(key: str) -> Problem:
    return Problem(
        part=f"tag key {quote_for_humans(key)}",
        rule="Each tag key can appear only once.",
        hint=f"Keep one {key}=... tag and remove the others",
    )


def too_many_tags_problem(count: int) -> Problem | None:
    if count <= MAX_TAGS:
        return None
    extra = count - MAX_TAGS
    return Problem(
        part=f"tags ({count:,} given)",
        rule=f"A restore can set at most {MAX_TAGS} tags.",
        hint=f"Remove {extra} tag{'s' if extra != 1 else ''}; more can be added in the Pinecone console later",
    )


def validate_tags(pairs: Iterable[tuple[str, str]]) -> dict[str, str] | tuple[Problem, ...]:
    """Validate a whole tag set: every key and value, duplicate keys, and the tag count."""
    tags: dict[str, str] = {}
    seen: set[str] = set()
    problems: list[Problem] = []
    count = 0
    for raw_key, raw_value in pairs:
        count += 1
        key = validate_tag_key(raw_key)
        value = validate_tag_value(raw_value, key=raw_key)
        if isinstance(key, Problem):
            problems.append(key)
        if isinstance(value, Problem):
            problems.append(value)
        if isinstance(key, str):
            if key in seen:
                problems.append(duplicate_tag_key_problem(key))
            elif isinstance(value, str):
                tags[key] = value
            seen.add(key)
    too_many = too_many_tags_problem(count)
    if too_many is not None:
        problems.append(too_many)
    return tuple(problems) if problems else tags


# --- the request -------------------------------------------------------------------


def _accept(result: str | Problem) -> str:
    if isinstance(result, Problem):
        raise ValueError(result.describe())
    return result


def _accept_tags(tags: dict[str, str]) -> dict[str, str]:
    result = validate_tags(tags.items())
    if isinstance(result, tuple):
        raise ValueError("; ".join(problem.describe() for problem in result))
    return result


class RestoreRequest(BaseModel):
    """A restore that satisfies every rule above; constructing an invalid one raises.

    Values are normalised on construction (backup ID lower-cased, fields trimmed), so
    two requests for the same restore compare equal however they were typed.
    """

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    backup_id: str
    index_name: str
    tags: dict[str, str] = Field(default_factory=dict)
    deletion_protection: bool = False

    @field_validator("backup_id")
    @classmethod
    def _check_backup_id(cls, value: str) -> str:
        return _accept(validate_backup_id(value))

    @field_validator("index_name")
    @classmethod
    def _check_index_name(cls, value: str) -> str:
        return _accept(validate_index_name(value))

    @field_validator("tags")
    @classmethod
    def _check_tags(cls, value: dict[str, str]) -> dict[str, str]:
        return _accept_tags(value)

    def as_command(self) -> str:
        """Canonical slash-command text (without the ``/restore-index`` prefix)."""
        words = [self.backup_id, self.index_name, *tag_words(self.tags)]
        if self.deletion_protection:
            words.append(DELETION_PROTECTION_FLAG)
        return " ".join(words)


class RestoreIntent(BaseModel):
    """A restore of "the newest Ready backup of `source_index`" (created strictly before `before`, when given),
    before the backup is known. `before` is the requester's text, its shape already checked
    (bot/core/request/moments.py); the service places it in the requester's time zone."""

    model_config = ConfigDict(frozen=True, strict=True, extra="forbid")

    source_index: str
    before: str | None = None
    index_name: str
    tags: dict[str, str] = Field(default_factory=dict)
    deletion_protection: bool = False

    @field_validator("source_index", "index_name")
    @classmethod
    def _check_index_name(cls, value: str) -> str:
        return _accept(validate_index_name(value))

    @field_validator("tags")
    @classmethod
    def _check_tags(cls, value: dict[str, str]) -> dict[str, str]:
        return _accept_tags(value)

    def with_backup(self, backup_id: str) -> RestoreRequest:
        """The concrete request once the backup has been chosen."""
        return RestoreRequest(
            backup_id=backup_id,
            index_name=self.index_name,
            tags=dict(self.tags),
            deletion_protection=self.deletion_protection,
        )

    def as_command(self) -> str:
        """Canonical slash-command text (without the ``/restore-index`` prefix)."""
        words = [f"{FROM_PREFIX}{self.source_index}", self.index_name]
        if self.before is not None:
            words.append(f"{BEFORE_PREFIX}{_one_word(self.before)}")
        words.extend(tag_words(self.tags))
        if self.deletion_protection:
            words.append(DELETION_PROTECTION_FLAG)
        return " ".join(words)


def tag_words(tags: dict[str, str]) -> list[str]:
    """Tags as command words, quoted where they must be."""
    words = []
    for key, value in tags.items():
        # A bare key starting with '-' would be read as a flag.
        shown_key = f'"{key}"' if key.startswith("-") else key
        shown_value = f'"{value}"' if " " in value else value
        words.append(f"{shown_key}={shown_value}")
    return words


def _one_word(when: str) -> str:
    """`yesterday 14:00` written so it stays one word in a command: `yesterday-14:00`; other forms are quoted."""
    lowered = when.lower()
    if lowered.startswith(("yesterday ", "today ")):
        return when.replace(" ", "-", 1)
    return f'"{when}"' if " " in when else when
