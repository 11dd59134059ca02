"""`from:<source-index> <new-name> [before:<when>]` and `--dry-run`: parsed, or refused with an example that works."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.request.command_parser import (
    IntentRestoreCommand,
    Rejected,
    RestoreCommand,
    parse_command,
)
from bot.core.request.field_rules import RestoreIntent

UUID = "a65ff585-d987-4da5-a622-72e19a6ed5f4"


def intent(text: str) -> IntentRestoreCommand:
    parsed = parse_command(text)
    assert isinstance(parsed, IntentRestoreCommand), parsed
    return parsed


def rejected(text: str) -> Rejected:
    parsed = parse_command(text)
    assert isinstance(parsed, Rejected), parsed
    example = parse_command(parsed.example)
    assert isinstance(example, RestoreCommand | IntentRestoreCommand), (parsed.example, example)
    return parsed


def test_the_newest_ready_backup_of_an_index() -> None:
    parsed = intent("from:prod-search prod-search-restored env=prod --deletion-protection")
    assert parsed.intent == RestoreIntent(
        source_index="prod-search",
        index_name="prod-search-restored",
        tags={"env": "prod"},
        deletion_protection=True,
    )
    assert not parsed.dry_run


@pytest.mark.parametrize(
    ("text", "before"),
    [
        ("before:14:00", "14:00"),
        ("before:yesterday 14:00", "yesterday 14:00"),  # the time is the next word
        ("before:yesterday-14:00", "yesterday 14:00"),
        ('before:"yesterday 14:00"', "yesterday 14:00"),
        ("before:2h", "2h"),
        ("before:2h ago", "2h ago"),
        ("before:2026-11-30 14:00", "2026-11-30 14:00"),
        ("before:2026-11-30T14:00Z", "2026-11-30T14:00Z"),
        ("BEFORE:90m", "90m"),
    ],
)
def test_before_a_moment_in_its_accepted_forms(text: str, before: str) -> None:
    parsed = intent(f"from:prod-search restored {text} team=search")
    assert parsed.intent.before == before
    assert parsed.intent.tags == {"team": "search"} and parsed.intent.index_name == "restored"


def test_words_may_come_in_any_order() -> None:
    parsed = intent("restored before:2h --dry-run from:prod-search")
    assert (parsed.intent.source_index, parsed.intent.index_name, parsed.intent.before) == (
        "prod-search",
        "restored",
        "2h",
    )
    assert parsed.dry_run


def test_a_dry_run_by_backup_id() -> None:
    parsed = parse_command(f"{UUID} restored --dry-run")
    assert isinstance(parsed, RestoreCommand) and parsed.dry_run
    assert parsed.request.backup_id == UUID


@pytest.mark.parametrize(
    ("text", "part", "says"),
    [
        ("from:Prod_Search restored", 'source index from:"Prod_Search"', "lower-case"),
        ("from:prod-search restored before:soon", 'before:"soon"', "Say when"),
        ("from:prod-search restored before:25:00", 'before:"25:00"', "Say when"),
        (f"{UUID} restored before:2h", 'before:"2h"', "needs from:"),
        (f"from:prod-search {UUID} restored", f'backup ID "{UUID}"', "not both"),
        ("from:prod-search from:other restored", 'from:"other"', "once"),
        ("from:prod-search", "index name", "after from:"),
        ("from:prod-search restored --dry-runn", 'flag "--dry-runn"', "--dry-run"),
    ],
)
def test_what_cannot_be_read_is_named_with_a_working_example(text: str, part: str, says: str) -> None:
    problems = rejected(text).problems
    assert any(problem.part == part and says in problem.describe() for problem in problems), problems


def test_the_example_keeps_the_intent_and_the_dry_run() -> None:
    parsed = rejected("from:prod-search Restored_Index before:yesterday-14:00 env=prod --dry-run")
    assert parsed.example == "from:prod-search restored-index before:yesterday-14:00 env=prod --dry-run"


names = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)
whens = st.sampled_from([None, "14:00", "yesterday 14:00", "2h", "90m ago", "2026-11-30 14:00", "2026-11-30T14:00Z"])
tags = st.dictionaries(
    st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_-]{0,10}", fullmatch=True),
    st.from_regex(r"[A-Za-z0-9;@_.+-]([A-Za-z0-9;@_.+ -]{0,10}[A-Za-z0-9;@_.+-])?", fullmatch=True),
    max_size=5,
)


@settings(max_examples=200, deadline=None)
@given(names, names, whens, tags, st.booleans())
def test_an_intent_round_trips_through_its_command(
    source: str, target: str, when: str | None, tag_map: dict[str, str], protect: bool
) -> None:
    written = RestoreIntent(
        source_index=source, index_name=target, before=when, tags=tag_map, deletion_protection=protect
    )
    assert intent(written.as_command()).intent == written
