"""Properties of parse_command over arbitrary and generated input.

The spec rules are restated here as independent regexes on purpose: checking results
with the validators under test would only prove they agree with themselves.
"""

import re
from typing import TypeVar

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core.request.command_parser import (
    MAX_COMMAND_CHARS,
    MAX_PROBLEMS,
    AuditCommand,
    HelpCommand,
    IntentRestoreCommand,
    ListCommand,
    Rejected,
    RestoreCommand,
    StatusCommand,
    UsageCommand,
    _tokenize,
    _tokenize_quoted,
    parse_command,
)
from bot.core.request.field_rules import (
    RestoreRequest,
    suggest_backup_id,
    suggest_index_name,
    suggest_tag_key,
    suggest_tag_value,
)

T = TypeVar("T")

PROPERTY_SETTINGS = settings(max_examples=300, deadline=None)

# Straight from CreateIndexFromBackupRequest / IndexTags in the Pinecone OpenAPI spec.
INDEX_NAME = re.compile(r"\A[a-z0-9]([a-z0-9-]*[a-z0-9])?\Z")
TAG_KEY = re.compile(r"\A[A-Za-z0-9_-]+\Z")
TAG_VALUE = re.compile(r"\A[A-Za-z0-9;@_\-.+ ]+\Z")
LOWER_UUID = re.compile(r"\A[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")

UUID = "a65ff585-d987-4da5-a622-72e19a6ed5f4"

# Every code point, lone surrogates included: Slack will not send those, but a caller
# passing a str must still get an answer.
any_char = st.characters(exclude_categories=())

# Fragments that steer generated text towards the interesting paths of the parser.
fragments = st.sampled_from(
    [
        UUID,
        UUID.upper(),
        UUID.replace("-", ""),
        "restored-index",
        "Prod_Index",
        "help",
        "status",
        "list",
        "--deletion-protection",
        "\u2014deletion-protection",
        "--foo",
        "-h",
        "env=prod",
        "env=",
        "=prod",
        "=",
        'team="search infra"',
        "team=\u201csearch infra\u201d",
        "team='search",
        '"',
        "'",
        "\u201c",
        "&amp;",
        "&lt;",
        "&gt;",
        "\u00a0",
        "\u200b",
        "\x00",
        "\ud800",
        "🙂",
        "שלום",
        "k" * 81,
        "v" * 121,
        "a" * 46,
    ]
)
separators = st.sampled_from([" ", "  ", "\t", "\n", "\u00a0", "\u3000", ""])
word = st.one_of(fragments, st.text(any_char, max_size=8))
command_like = st.lists(st.tuples(word, separators), max_size=30).map(lambda pairs: "".join(w + s for w, s in pairs))
index_names = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,43}[a-z0-9])?", fullmatch=True)
ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
# st.text over a fixed alphabet is much cheaper to generate than st.from_regex.
tag_keys = st.text(ALNUM + "_-", min_size=1, max_size=80)
tag_values = st.text(ALNUM + ";@_-.+ ", min_size=1, max_size=120).map(lambda v: v.strip(" ")).filter(bool)
backup_ids = st.builds(
    lambda u, upper: str(u).upper() if upper else str(u),
    st.uuids(),
    st.booleans(),
)
# Almost-valid commands, so that accepted commands are common enough for the spec checks
# below to mean something: names, keys and values drawn from alphabets slightly wider
# than the rules allow.
near_alphabet = st.sampled_from("abcxyz019-_ .;@+AZ\u00e9\u00a0\u0660=/'\"\u201c\u201d\x00")
near_word = st.text(near_alphabet, min_size=0, max_size=50)


def mostly(valid: st.SearchStrategy[T], invalid: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """Draw mostly from ``valid``; small integers are Hypothesis's favourites, so they pick it."""
    return st.integers(1, 5).flatmap(lambda n: invalid if n == 5 else valid)


near_tag = st.tuples(mostly(tag_keys, near_word), mostly(tag_values, near_word), st.booleans()).map(
    lambda t: f'{t[0]}="{t[1]}"' if t[2] or " " in t[1] else f"{t[0]}={t[1]}"
)
near_valid = st.builds(
    lambda bid, name, tags, flag, sep: sep.join([bid, name, *tags, *flag]),
    mostly(st.sampled_from([UUID, UUID.upper(), " " + UUID]), st.sampled_from([UUID[:-1], "{" + UUID + "}"])),
    mostly(index_names, near_word),
    st.lists(near_tag, max_size=3) | st.lists(near_tag, min_size=19, max_size=22),
    mostly(st.sampled_from([[], ["--deletion-protection"]]), st.just(["--deletion_protection"])),
    separators.filter(bool),
)
any_text = st.one_of(st.text(any_char, max_size=300), command_like, near_valid)

restore_requests = st.builds(
    RestoreRequest,
    backup_id=backup_ids,
    index_name=index_names,
    tags=st.dictionaries(tag_keys, tag_values, max_size=20),
    deletion_protection=st.booleans(),
)

COMMAND_TYPES = (RestoreCommand, HelpCommand, UsageCommand, StatusCommand, ListCommand, AuditCommand, Rejected)


def assert_request_follows_the_spec(request: RestoreRequest) -> None:
    assert LOWER_UUID.match(request.backup_id)
    assert INDEX_NAME.match(request.index_name) and len(request.index_name) <= 45
    assert len(request.tags) <= 20
    for key, value in request.tags.items():
        assert TAG_KEY.match(key) and len(key) <= 80
        assert TAG_VALUE.match(value) and len(value) <= 120
        assert value == value.strip(" ")


@PROPERTY_SETTINGS
@given(any_text)
def test_any_text_parses_to_a_command(text: str) -> None:
    parsed = parse_command(text)
    assert isinstance(parsed, COMMAND_TYPES)
    if isinstance(parsed, RestoreCommand):
        assert_request_follows_the_spec(parsed.request)
    if isinstance(parsed, StatusCommand):
        assert INDEX_NAME.match(parsed.index_name) and len(parsed.index_name) <= 45


@PROPERTY_SETTINGS
@given(near_valid)
def test_accepted_near_misses_follow_the_spec(text: str) -> None:
    parsed = parse_command(text)
    assert isinstance(parsed, RestoreCommand | Rejected)
    if isinstance(parsed, RestoreCommand):
        assert_request_follows_the_spec(parsed.request)


@PROPERTY_SETTINGS
@given(any_text)
def test_rejections_are_short_sendable_and_come_with_a_working_example(text: str) -> None:
    parsed = parse_command(text)
    if not isinstance(parsed, Rejected):
        return
    assert 1 <= len(parsed.problems) <= MAX_PROBLEMS
    for problem in parsed.problems:
        # Quoted user input is capped at 60 characters; the label around it is short.
        assert len(problem.part) <= 160
    # Lone surrogates in the input must not leak into a reply Slack has to encode.
    parsed.model_dump_json().encode("utf-8")
    assert len(parsed.example) <= MAX_COMMAND_CHARS
    assert isinstance(
        parse_command(parsed.example), RestoreCommand | IntentRestoreCommand | StatusCommand | ListCommand
    )


@PROPERTY_SETTINGS
@given(restore_requests)
def test_canonical_command_round_trips(request: RestoreRequest) -> None:
    command = request.as_command()
    parsed = parse_command(command)
    if len(command) > MAX_COMMAND_CHARS:
        # Twenty maximal tags do not fit in a Slack command; the modal can still send them.
        assert isinstance(parsed, Rejected)
        return
    assert isinstance(parsed, RestoreCommand)
    assert parsed.request == request
    assert_request_follows_the_spec(parsed.request)


quote_styles = st.sampled_from(
    [('"', '"'), ("'", "'"), ("\u201c", "\u201d"), ("\u201e", "\u201c"), ("\u2018", "\u2019")]
)


@st.composite
def typed_by_a_person(draw: st.DrawFn) -> tuple[RestoreRequest, str]:
    """A request, written the way people type it: any order of tags and flag, any
    quoting style, any Unicode spacing, the backup ID in any case."""
    request = draw(restore_requests)
    backup_id = request.backup_id.upper() if draw(st.booleans()) else request.backup_id
    extras: list[str] = []
    for key, value in request.tags.items():
        open_q, close_q = draw(quote_styles)
        must_quote_value = " " in value
        shown_key = f"{open_q}{key}{close_q}" if key.startswith("-") or draw(st.booleans()) else key
        shown_value = f"{open_q}{value}{close_q}" if must_quote_value or draw(st.booleans()) else value
        extras.append(f"{shown_key}={shown_value}")
    if request.deletion_protection:
        extras.append(
            draw(st.sampled_from(["--deletion-protection", "--Deletion-Protection", "\u2014deletion-protection"]))
        )
    # Tags and the flag may go anywhere; the backup ID stays ahead of the index name.
    words = draw(st.permutations(extras))
    first = draw(st.integers(0, len(words)))
    second = draw(st.integers(first, len(words)))
    words = [*words[:first], backup_id, *words[first:second], request.index_name, *words[second:]]
    text = ""
    for w in words:
        text += draw(st.sampled_from([" ", "\u00a0", "\t", "\u2003", "  "])) + w
    return request, text


@PROPERTY_SETTINGS
@given(typed_by_a_person())
def test_human_spellings_parse_to_the_same_request(case: tuple[RestoreRequest, str]) -> None:
    request, text = case
    parsed = parse_command(text)
    if len(text) > MAX_COMMAND_CHARS:
        assert isinstance(parsed, Rejected)
        return
    assert isinstance(parsed, RestoreCommand), parsed
    assert parsed.request == request


@PROPERTY_SETTINGS
@given(st.one_of(st.text(any_char, max_size=200), near_word))
def test_suggestions_are_valid_or_absent(raw: str) -> None:
    name = suggest_index_name(raw)
    assert name is None or (INDEX_NAME.match(name) and len(name) <= 45)
    key = suggest_tag_key(raw)
    assert key is None or (TAG_KEY.match(key) and len(key) <= 80)
    value = suggest_tag_value(raw)
    assert value is None or (TAG_VALUE.match(value) and len(value) <= 120 and value == value.strip(" "))
    backup_id = suggest_backup_id(raw)
    assert backup_id is None or LOWER_UUID.match(backup_id)


@PROPERTY_SETTINGS
@given(any_text)
def test_unquoted_text_splits_as_the_quote_aware_walk_splits_it(text: str) -> None:
    # The tokenizer's shortcut for text without quotes must cut exactly the words the full walk cuts.
    unquoted = text.replace('"', "").replace("'", "")
    assert _tokenize(unquoted) == _tokenize_quoted(unquoted)
    assert _tokenize(unquoted)[1] is None
