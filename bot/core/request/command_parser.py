"""Parse the text of ``/restore-index`` into a command, or into the reasons it is wrong.

Pure: text in, a :data:`ParsedCommand` out. ``parse_command`` never raises on a ``str``;
anything it cannot make sense of becomes a :class:`Rejected` that lists every problem
found (up to :data:`MAX_PROBLEMS`) plus a corrected command the user can copy.
"""

import difflib
import re
from dataclasses import dataclass, field
from typing import Annotated, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field

from bot.core.request.field_rules import (
    BEFORE_PREFIX,
    CANONICAL_EXAMPLE,
    DELETION_PROTECTION_FLAG,
    DRY_RUN_FLAG,
    EXAMPLE_BACKUP_ID,
    EXAMPLE_INDEX_NAME,
    FROM_PREFIX,
    INVISIBLE_CHARS,
    MAX_TAGS,
    Problem,
    RestoreIntent,
    RestoreRequest,
    duplicate_tag_key_problem,
    quote_for_humans,
    suggest_backup_id,
    suggest_index_name,
    suggest_tag_key,
    suggest_tag_value,
    too_many_tags_problem,
    validate_backup_id,
    validate_index_name,
    validate_tag_key,
    validate_tag_value,
)
from bot.core.request.moments import parse_when

__all__ = [
    "MAX_COMMAND_CHARS",
    "MAX_PROBLEMS",
    "AuditCommand",
    "HelpCommand",
    "IntentRestoreCommand",
    "ListCommand",
    "ParsedCommand",
    "Rejected",
    "RestoreCommand",
    "StatusCommand",
    "UsageCommand",
    "parse_command",
]

# Slack caps slash-command text at 4,000 characters. Longer text did not come from
# Slack as typed, and acting on part of a command is worse than refusing it.
MAX_COMMAND_CHARS = 4000
# A reply listing a hundred problems is unreadable; the first few are enough to act on.
MAX_PROBLEMS = 10

_HELP_WORDS = frozenset({"help", "-h", "--help"})
_HELP_FLAGS = frozenset({"-h", "--help"})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RestoreCommand(_Frozen):
    kind: Literal["restore"] = "restore"
    request: RestoreRequest
    #: Show the plan to the requester only, and do nothing else.
    dry_run: bool = False


class IntentRestoreCommand(_Frozen):
    """`from:<source-index> <new-name> [before:<when>]`: the backup is chosen by the service."""

    kind: Literal["restore_intent"] = "restore_intent"
    intent: RestoreIntent
    dry_run: bool = False


class HelpCommand(_Frozen):
    kind: Literal["help"] = "help"


class UsageCommand(_Frozen):
    """Empty command text: the user wants to know what the command does."""

    kind: Literal["usage"] = "usage"


class StatusCommand(_Frozen):
    kind: Literal["status"] = "status"
    index_name: str


class ListCommand(_Frozen):
    kind: Literal["list"] = "list"


class AuditCommand(_Frozen):
    """Who requested, approved, denied and cancelled what; optionally for one target name."""

    kind: Literal["audit"] = "audit"
    index_name: str | None = None


class Rejected(_Frozen):
    """The text could not be turned into a command.

    ``example`` is a command line (without the slash command) that parses cleanly: the
    user's own command with the bad parts fixed where a fix could be guessed.
    """

    kind: Literal["rejected"] = "rejected"
    problems: tuple[Problem, ...] = Field(min_length=1)
    example: str


ParsedCommand: TypeAlias = Annotated[
    RestoreCommand
    | IntentRestoreCommand
    | HelpCommand
    | UsageCommand
    | StatusCommand
    | ListCommand
    | AuditCommand
    | Rejected,
    Field(discriminator="kind"),
]


# --- normalising and tokenising ------------------------------------------------------

_SLACK_ENTITY_RE = re.compile(r"&(amp|lt|gt);")
_SLACK_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_WHITESPACE_RE = re.compile(r"\s")

_TYPOGRAPHY = str.maketrans(
    {
        # Smart quotes, as Slack and macOS/iOS autocorrect produce them, incl. German „…“
        # and French «…».
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        # The same "smart quotes and dashes" setting turns "--" into an em dash, which
        # would otherwise hide --deletion-protection.
        "\u2014": "--",
        **dict.fromkeys(INVISIBLE_CHARS),
    }
)
_QUOTES = frozenset({'"', "'"})
# An en dash is not what autocorrect makes of "--", but some keyboards produce one for a
# leading "-"; inside a word it is left alone so a pasted "my–index" gets a hint rather
# than silently becoming "my--index".
_LEADING_EN_DASH_RE = re.compile(r"(?<!\S)\u2013")


def _unescape_slack(text: str) -> str:
    # One pass, so "&amp;lt;" (a literal "&lt;" typed by the user) stays "&lt;".
    return _SLACK_ENTITY_RE.sub(lambda m: _SLACK_ENTITIES[m.group(1)], text)


def _normalise(text: str) -> str:
    # Every Unicode space becomes ' ' here, inside quotes too: tag values allow only ' '.
    return _LEADING_EN_DASH_RE.sub("--", _WHITESPACE_RE.sub(" ", text.translate(_TYPOGRAPHY)))


@dataclass(frozen=True, slots=True)
class _Token:
    text: str  # quotes removed
    flag_like: bool  # starts with a '-' outside quotes

    @property
    def equals_at(self) -> int | None:
        # Quoting does not hide '=': no valid key or value contains one, so
        # "team=search infra" quoted whole can only mean the tag.
        at = self.text.find("=")
        return None if at == -1 else at


def _tokenize(text: str) -> tuple[list[_Token], Problem | None]:
    """Split on spaces, honouring "..." and '...' anywhere in a word, shell-style.

    No backslash escapes: no valid value contains a quote or a backslash. An unclosed
    quote runs to the end of the text, which is what a forgotten closing quote meant.
    """
    if '"' not in text and "'" not in text:
        # Nothing quoted, as in nearly every command: the words are what lies between the spaces. The
        # character walk costs about 20 us a command, on the ack's path.
        return [_Token(word, word[0] == "-") for word in text.split(" ") if word], None
    return _tokenize_quoted(text)


def _tokenize_quoted(text: str) -> tuple[list[_Token], Problem | None]:
    tokens: list[_Token] = []
    problem: Problem | None = None
    i, n = 0, len(text)
    while i < n:
        if text[i] == " ":
            i += 1
            continue
        flag_like = text[i] == "-"
        pieces: list[str] = []
        while i < n and text[i] != " ":
            ch = text[i]
            if ch in _QUOTES:
                close = text.find(ch, i + 1)
                if close == -1:
                    problem = _unclosed_quote_problem(ch, text[i + 1 :])
                    close = n
                pieces.append(text[i + 1 : close])
                i = close + 1
            else:
                pieces.append(ch)
                i += 1
        tokens.append(_Token("".join(pieces), flag_like))
    return tokens, problem


def _unclosed_quote_problem(quote: str, after: str) -> Problem:
    where = f"before {quote_for_humans(after)}" if after.strip() else "at the end"
    return Problem(
        part=f"unclosed quote ({quote}) {where}",
        rule="Every opening quote needs a closing quote.",
        hint="Add the closing quote; tag values cannot contain quote characters",
    )


# --- entry point ---------------------------------------------------------------------


def parse_command(text: str) -> ParsedCommand:
    """Turn slash-command text, as Slack delivers it, into a command."""
    # Unescaping shrinks text at most 5:1 ("&amp;" -> "&"), so anything longer than
    # this cannot fit the limit; checking first bounds the work on absurd input.
    if len(text) > MAX_COMMAND_CHARS * 5:
        return _too_long(len(text))
    text = _unescape_slack(text)
    # Measured after unescaping, so the count matches what the user typed.
    if len(text) > MAX_COMMAND_CHARS:
        return _too_long(len(text))
    tokens, quote_problem = _tokenize(_normalise(text))
    if not tokens:
        return UsageCommand()
    first = tokens[0].text.lower()
    if first in _HELP_WORDS or any(t.flag_like and t.text.lower() in _HELP_FLAGS for t in tokens):
        return HelpCommand()
    if first == "status":
        return _parse_status(tokens[1:], quote_problem)
    if first == "list":
        return _parse_list(tokens[1:], quote_problem)
    if first == "audit":
        if len(tokens) == 1 and quote_problem is None:
            return AuditCommand()
        parsed = _parse_status(tokens[1:], quote_problem, verb="audit")
        return AuditCommand(index_name=parsed.index_name) if isinstance(parsed, StatusCommand) else parsed
    return _parse_restore(tokens, quote_problem)


def _too_long(length: int) -> Rejected:
    return Rejected(
        problems=(
            Problem(
                part=f"command text ({length:,} characters)",
                rule=f"Slack sends at most {MAX_COMMAND_CHARS:,} characters of command text.",
                hint="Shorten the command: fewer or shorter tags",
            ),
        ),
        example=CANONICAL_EXAMPLE,
    )


def _cap(problems: list[Problem]) -> tuple[Problem, ...]:
    if len(problems) <= MAX_PROBLEMS:
        return tuple(problems)
    kept = problems[: MAX_PROBLEMS - 1]
    rest = len(problems) - len(kept)
    return (
        *kept,
        Problem(
            part=f"{rest} more problems",
            rule=f"Only the first {len(kept)} problems are listed.",
            hint="Fix these and send the command again to see the rest",
        ),
    )


def _reject(quote_problem: Problem | None, problems: list[Problem], example: str) -> Rejected:
    head = [quote_problem] if quote_problem is not None else []
    return Rejected(problems=_cap(head + problems), example=example)


# --- status and list -----------------------------------------------------------------


def _parse_status(args: list[_Token], quote_problem: Problem | None, verb: str = "status") -> StatusCommand | Rejected:
    rule = f"{verb} takes just the name of the index to check."
    problems: list[Problem] = []
    name_seen = False
    name: str | None = None
    example_name: str | None = None
    for token in args:
        if token.flag_like or token.equals_at is not None or name_seen:
            problems.append(Problem(part=f"extra word {quote_for_humans(token.text)}", rule=rule, hint="Remove it"))
            continue
        name_seen = True
        result = validate_index_name(token.text)
        if isinstance(result, Problem):
            problems.append(result)
            example_name = suggest_index_name(token.text)
        else:
            name = example_name = result
    if not name_seen:
        problems.insert(
            0, Problem(part="index name", rule=rule, hint=f"Add the index name, e.g. {verb} {EXAMPLE_INDEX_NAME}")
        )
    if name is not None and not problems and quote_problem is None:
        return StatusCommand(index_name=name)
    return _reject(quote_problem, problems, f"{verb} {example_name or EXAMPLE_INDEX_NAME}")


def _parse_list(args: list[_Token], quote_problem: Problem | None) -> ListCommand | Rejected:
    problems = [
        Problem(part=f"extra word {quote_for_humans(t.text)}", rule="list takes nothing after it.", hint="Remove it")
        for t in args
    ]
    if not problems and quote_problem is None:
        return ListCommand()
    return _reject(quote_problem, problems, "list")


# --- restore -------------------------------------------------------------------------

_RESTORE_SHAPE_RULE = (
    "A restore takes two plain words, the backup ID and then the new index name (or from:<source-index> and "
    f"the new name); everything else must be a key=value tag, before:<when>, {DELETION_PROTECTION_FLAG} "
    f"or {DRY_RUN_FLAG}."
)
_FLAGS = (DELETION_PROTECTION_FLAG, DRY_RUN_FLAG)
_ISO_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK_WORD_RE = re.compile(r"\d{1,2}:\d{2}(?::\d{2})?(?:[zZ]|[+-]\d{2}:?\d{2})?")


@dataclass(slots=True)
class _IntentWords:
    """from:<index> and before:<when> in a restore, found before the positional words are counted."""

    source: tuple[int, str] | None = None
    before: tuple[int, str] | None = None
    #: Positions of the words these took (a `before:` value may take the next word too).
    taken: set[int] = field(default_factory=set)
    problems: list[tuple[int, Problem]] = field(default_factory=list)


def _intent_words(tokens: list[_Token]) -> _IntentWords:
    found = _IntentWords()
    for position, token in enumerate(tokens):
        if position in found.taken or token.flag_like or token.equals_at is not None:
            continue
        lowered = token.text.lower()
        for prefix in (FROM_PREFIX, BEFORE_PREFIX):
            if not lowered.startswith(prefix):
                continue
            found.taken.add(position)
            value = token.text[len(prefix) :]
            if prefix == BEFORE_PREFIX:
                value = _join_when(value, tokens, position, found.taken)
            word = (position, value)
            if (found.source if prefix == FROM_PREFIX else found.before) is not None:
                found.problems.append(
                    (
                        position,
                        Problem(
                            part=f"{prefix}{quote_for_humans(value)}",
                            rule=f"A restore takes {prefix} once.",
                            hint="Keep one of them",
                        ),
                    )
                )
            elif prefix == FROM_PREFIX:
                found.source = word
            else:
                found.before = word
    return found


def _join_when(value: str, tokens: list[_Token], position: int, taken: set[int]) -> str:
    """`before:yesterday 14:00`, `before:2h ago`, `before:2026-11-30 14:00`: the words that belong together."""
    following = tokens[position + 1] if position + 1 < len(tokens) else None
    if following is None or following.flag_like or following.equals_at is not None:
        return value
    word = following.text
    lowered = value.lower()
    joins = (
        (lowered in ("yesterday", "today") and _CLOCK_WORD_RE.fullmatch(word) is not None)
        or (_ISO_DATE_RE.fullmatch(value) is not None and _CLOCK_WORD_RE.fullmatch(word) is not None)
        or word.lower() == "ago"
    )
    if not joins:
        return value
    taken.add(position + 1)
    return f"{value} {word}"


@dataclass(slots=True)
class _TagWord:
    position: int
    key: str
    value: str
    # Unquoted words that followed this tag once both positionals were taken: most
    # likely the rest of a value with spaces that the user forgot to quote.
    spill: list[str] = field(default_factory=list)
    spill_position: int = 0


@dataclass(slots=True)
class _Salvage:
    """The parts of a bad command that can still go into the corrected example."""

    backup_id: str | None = None
    index_name: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    before: str | None = None


def _parse_restore(
    tokens: list[_Token], quote_problem: Problem | None
) -> RestoreCommand | IntentRestoreCommand | Rejected:
    # Problems carry the position of the word they are about, so the reply lists them
    # in the order the user wrote them; -1 puts problems about the whole command first.
    located: list[tuple[int, Problem]] = []
    positionals: list[tuple[int, str]] = []
    tag_words: list[_TagWord] = []
    deletion_protection = False
    last_tag: _TagWord | None = None

    intent = _intent_words(tokens)
    located += intent.problems
    dry_run = False
    wanted = 1 if intent.source is not None else 2  # from: takes the backup ID's place
    plain = [i for i, t in enumerate(tokens) if not t.flag_like and t.equals_at is None and i not in intent.taken]
    if len(plain) < wanted:
        # No valid flag has a single dash, so with a word missing "-prod" is far more
        # likely a bad index name than a flag, and deserves the index-name hint.
        plain += [i for i, t in enumerate(tokens) if _single_dash_word(t)]
        plain.sort()
    stray: int | None = None
    if (
        wanted == 2
        and len(plain) >= 3
        and isinstance(validate_backup_id(tokens[plain[0]].text), Problem)
        and isinstance(validate_backup_id(tokens[plain[1]].text), str)
    ):
        # "/restore-index restore <id> <name>": a leading verb, not a bad backup ID.
        stray = plain.pop(0)
    if intent.source is not None:
        # With from:, a backup ID is a mistake of its own (named below), never the new index's name.
        plain.sort(key=lambda i: isinstance(validate_backup_id(tokens[i].text), str))
    positional_at = set(plain[:wanted])

    for position, token in enumerate(tokens):
        if position in intent.taken:
            last_tag = None
        elif position in positional_at:
            positionals.append((position, token.text))
            last_tag = None
        elif token.flag_like:
            last_tag = None
            if token.text.lower() == DELETION_PROTECTION_FLAG:
                deletion_protection = True
            elif token.text.lower() == DRY_RUN_FLAG:
                dry_run = True
            else:
                located.append((position, _unknown_flag_problem(token.text)))
        elif token.equals_at is not None:
            last_tag = _TagWord(position, token.text[: token.equals_at], token.text[token.equals_at + 1 :])
            tag_words.append(last_tag)
        elif position == stray:
            last_tag = None
            located.append(
                (
                    position,
                    Problem(
                        part=f"extra word {quote_for_humans(token.text)}",
                        rule=_RESTORE_SHAPE_RULE,
                        hint="Remove it: the command starts with the backup ID",
                    ),
                )
            )
        elif intent.source is not None and isinstance(validate_backup_id(token.text), str):
            last_tag = None
            located.append(
                (
                    position,
                    Problem(
                        part=f"backup ID {quote_for_humans(token.text)}",
                        rule="A restore names its backup either by ID or with from:<source-index>, not both.",
                        hint="Keep the backup ID and drop from:, or keep from: and drop the ID",
                    ),
                )
            )
        elif last_tag is not None:
            if not last_tag.spill:
                last_tag.spill_position = position
            last_tag.spill.append(token.text)
        else:
            located.append(
                (
                    position,
                    Problem(
                        part=f"extra word {quote_for_humans(token.text)}",
                        rule=_RESTORE_SHAPE_RULE,
                        hint="Remove it, or write it as key=value",
                    ),
                )
            )

    salvage = _Salvage()
    if intent.source is not None:
        located += _check_intent(intent, positionals, salvage)
    else:
        located += _check_positionals(positionals, salvage)
        if intent.before is not None:
            position, when = intent.before
            located.append(
                (
                    position,
                    Problem(
                        part=f"{BEFORE_PREFIX}{quote_for_humans(when)}",
                        rule="before: picks among the backups of one index, so it needs from:<source-index>.",
                        hint="Add from:<source-index> and give the new name, e.g. "
                        f"from:prod-search prod-search-restored before:{quote_for_humans(when)}",
                    ),
                )
            )
    valid_tags, tag_problems = _check_tags(tag_words, salvage)
    located += tag_problems
    too_many = too_many_tags_problem(len(tag_words))
    if too_many is not None:
        located.append((-1, too_many))

    if not located and quote_problem is None:
        index_name = salvage.index_name
        if salvage.source is not None:
            assert index_name is not None  # no problems means both were valid
            intent_ = RestoreIntent(
                source_index=salvage.source,
                before=salvage.before,
                index_name=index_name,
                tags=valid_tags,
                deletion_protection=deletion_protection,
            )
            return IntentRestoreCommand(intent=intent_, dry_run=dry_run)
        backup_id = salvage.backup_id
        assert backup_id is not None and index_name is not None  # no problems means both were valid
        request = RestoreRequest(
            backup_id=backup_id, index_name=index_name, tags=valid_tags, deletion_protection=deletion_protection
        )
        return RestoreCommand(request=request, dry_run=dry_run)
    located.sort(key=lambda item: item[0])
    example = _restore_example(salvage, deletion_protection, dry_run, by_intent=intent.source is not None)
    return _reject(quote_problem, [p for _, p in located], example)


def _single_dash_word(token: _Token) -> bool:
    return (
        token.flag_like
        and token.equals_at is None
        and not token.text.startswith("--")
        and token.text.lower() not in _HELP_FLAGS
    )


def _check_intent(
    intent: _IntentWords, positionals: list[tuple[int, str]], salvage: _Salvage
) -> list[tuple[int, Problem]]:
    """from:<source-index>, the new name, and before:<when> if given."""
    problems: list[tuple[int, Problem]] = []
    assert intent.source is not None
    position, source = intent.source
    checked = validate_index_name(source)
    if isinstance(checked, Problem):
        shown = quote_for_humans(source)
        problems.append((position, checked.model_copy(update={"part": f"source index {FROM_PREFIX}{shown}"})))
        salvage.source = suggest_index_name(source)
    else:
        salvage.source = checked
    if intent.before is not None:
        when_at, when = intent.before
        spec = parse_when(when)
        if isinstance(spec, Problem):
            problems.append((when_at, spec))
        else:
            salvage.before = spec.text
    if not positionals:
        problems.append(
            (
                -1,
                Problem(
                    part="index name",
                    rule="A restore needs a name for the new index after from:<source-index>.",
                    hint=f"Add one, e.g. {FROM_PREFIX}{salvage.source or 'prod-search'} {EXAMPLE_INDEX_NAME}",
                ),
            )
        )
        return problems
    [(name_at, name)] = positionals
    index_name = validate_index_name(name)
    if isinstance(index_name, Problem):
        problems.append((name_at, index_name))
        salvage.index_name = suggest_index_name(name)
    else:
        salvage.index_name = index_name
    return problems


def _check_positionals(positionals: list[tuple[int, str]], salvage: _Salvage) -> list[tuple[int, Problem]]:
    if not positionals:
        return [
            (
                -1,
                Problem(
                    part="backup ID and index name",
                    rule="A restore needs a backup ID and then a name for the new index.",
                    hint=f"Start with them, e.g. {EXAMPLE_BACKUP_ID} {EXAMPLE_INDEX_NAME}",
                ),
            )
        ]
    if len(positionals) == 1:
        position, word = positionals[0]
        backup_id = validate_backup_id(word)
        if isinstance(backup_id, str):
            salvage.backup_id = backup_id
            return [
                (
                    -1,
                    Problem(
                        part="index name",
                        rule="A restore needs a name for the new index after the backup ID.",
                        hint=f"Add one after the backup ID, e.g. {backup_id} {EXAMPLE_INDEX_NAME}",
                    ),
                )
            ]
        as_name = validate_index_name(word)
        if isinstance(as_name, str):
            # A lone valid index name: the user most likely forgot the backup ID.
            salvage.index_name = as_name
            return [
                (
                    -1,
                    Problem(
                        part="backup ID",
                        rule="A restore needs a backup ID before the new index name.",
                        hint=f"Put the backup ID first, e.g. {EXAMPLE_BACKUP_ID} {as_name}",
                    ),
                )
            ]
        salvage.backup_id = suggest_backup_id(word)
        return [
            (position, backup_id),
            (-1, Problem(part="index name", rule="A restore needs a name for the new index after the backup ID.")),
        ]

    (id_position, id_word), (name_position, name_word) = positionals
    backup_id = validate_backup_id(id_word)
    index_name = validate_index_name(name_word)
    if isinstance(backup_id, Problem):
        # A UUID is also a valid index name, so only the backup ID decides a swap.
        swapped_id = validate_backup_id(name_word)
        swapped_name = validate_index_name(id_word)
        if isinstance(swapped_id, str) and isinstance(swapped_name, str):
            salvage.backup_id, salvage.index_name = swapped_id, swapped_name
            return [
                (
                    id_position,
                    Problem(
                        part=f"backup ID {quote_for_humans(id_word)}",
                        rule="The backup ID comes first, then the new index name.",
                        hint=f"Swap them: {swapped_id} {swapped_name}",
                    ),
                )
            ]
    problems: list[tuple[int, Problem]] = []
    if isinstance(backup_id, Problem):
        problems.append((id_position, backup_id))
        salvage.backup_id = suggest_backup_id(id_word)
    else:
        salvage.backup_id = backup_id
    if isinstance(index_name, Problem):
        problems.append((name_position, index_name))
        salvage.index_name = suggest_index_name(name_word)
    else:
        salvage.index_name = index_name
    return problems


def _check_tags(tag_words: list[_TagWord], salvage: _Salvage) -> tuple[dict[str, str], list[tuple[int, Problem]]]:
    valid: dict[str, str] = {}
    seen_keys: set[str] = set()
    reported_duplicates: set[str] = set()
    problems: list[tuple[int, Problem]] = []
    for word in tag_words:
        at = word.position
        key: str | Problem | None
        if word.key.strip(" "):
            key = validate_tag_key(word.key)
            example_key = suggest_tag_key(word.key) if isinstance(key, Problem) else key
        else:
            key = example_key = None
            shown = f"e.g. env={word.value}" if isinstance(validate_tag_value(word.value), str) else "e.g. env=prod"
            problems.append(
                (
                    at,
                    Problem(
                        part=f"tag {quote_for_humans(word.key + '=' + word.value)}",
                        rule="A tag needs a key before the '='.",
                        hint=f"Write it as key=value, {shown}",
                    ),
                )
            )
        if isinstance(key, Problem):
            problems.append((at, key))

        value: str | Problem | None = None
        if key is not None or word.value:
            value = validate_tag_value(word.value, key=word.key if key is not None else None)
            if isinstance(value, Problem):
                problems.append((at, value))
        example_value = value if isinstance(value, str) else suggest_tag_value(word.value)

        if word.spill:
            joined = " ".join([word.value, *word.spill])
            joined_value = validate_tag_value(joined)
            shown_key = example_key or "key"
            if isinstance(joined_value, str):
                example_value = joined_value
                hint = f'To put spaces in a tag value, quote it: {shown_key}="{joined_value}"'
            else:
                hint = "Remove them, or quote the whole tag value if they belong to it"
            many = len(word.spill) > 1
            problems.append(
                (
                    word.spill_position,
                    Problem(
                        part=f"extra word{'s' if many else ''} {quote_for_humans(' '.join(word.spill))}",
                        rule=_RESTORE_SHAPE_RULE,
                        hint=hint,
                    ),
                )
            )

        if isinstance(key, str):
            if key not in seen_keys:
                seen_keys.add(key)
                if isinstance(value, str):
                    valid[key] = value
            elif key not in reported_duplicates:
                reported_duplicates.add(key)
                problems.append((at, duplicate_tag_key_problem(key)))
        # The example keeps the first usable spelling of each key.
        if example_key is not None and example_value is not None and example_key not in salvage.tags:
            salvage.tags[example_key] = example_value
    return valid, problems


def _unknown_flag_problem(flag: str) -> Problem:
    lowered = flag.lower()
    if lowered.startswith(DELETION_PROTECTION_FLAG + "="):
        hint = f"{DELETION_PROTECTION_FLAG} takes no value: add it on its own to turn protection on"
    elif lowered in {"--no-deletion-protection", "--no-protection"}:
        hint = f"Protection is off unless you add {DELETION_PROTECTION_FLAG}, so just leave it out"
    elif close := difflib.get_close_matches(lowered, _FLAGS, n=1, cutoff=0.6):
        hint = f"Did you mean {close[0]}?"
    else:
        hint = f"Remove it; the only flags are {' and '.join(_FLAGS)}, and tags are written key=value"
    return Problem(
        part=f"flag {quote_for_humans(flag)}",
        rule=f"A restore accepts two flags, {' and '.join(_FLAGS)}.",
        hint=hint,
    )


def _restore_example(salvage: _Salvage, deletion_protection: bool, dry_run: bool, *, by_intent: bool) -> str:
    if not by_intent and salvage.backup_id is None and salvage.index_name is None and not salvage.tags:
        return CANONICAL_EXAMPLE + (f" {DRY_RUN_FLAG}" if dry_run else "")
    tags = dict(list(salvage.tags.items())[:MAX_TAGS])
    while True:
        example = (
            RestoreIntent(
                source_index=salvage.source or "prod-search",
                before=salvage.before,
                index_name=salvage.index_name or EXAMPLE_INDEX_NAME,
                tags=tags,
                deletion_protection=deletion_protection,
            ).as_command()
            if by_intent
            else RestoreRequest(
                backup_id=salvage.backup_id or EXAMPLE_BACKUP_ID,
                index_name=salvage.index_name or EXAMPLE_INDEX_NAME,
                tags=tags,
                deletion_protection=deletion_protection,
            ).as_command()
        ) + (f" {DRY_RUN_FLAG}" if dry_run else "")
        # The example must itself be a command Slack can send.
        if len(example) <= MAX_COMMAND_CHARS or not tags:
            return example
        tags.popitem()
