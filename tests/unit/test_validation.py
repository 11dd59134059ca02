import pytest
from pydantic import ValidationError

from bot.core.request.field_rules import (
    MAX_TAGS,
    Problem,
    RestoreRequest,
    quote_for_humans,
    suggest_backup_id,
    suggest_index_name,
    suggest_tag_key,
    suggest_tag_value,
    validate_backup_id,
    validate_index_name,
    validate_tag_key,
    validate_tag_value,
    validate_tags,
)

UUID = "a65ff585-d987-4da5-a622-72e19a6ed5f4"


# --- backup ID ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (UUID, UUID),
        (UUID.upper(), UUID),
        ("A65ff585-D987-4da5-A622-72e19a6ED5f4", UUID),
        ("670e8400-e29b-41d4-a716-446655440000", "670e8400-e29b-41d4-a716-446655440000"),
        (f"  {UUID}\u00a0", UUID),
        (f"\u200b{UUID}", UUID),
    ],
)
def test_backup_id_accepted_and_lower_cased(raw: str, expected: str) -> None:
    assert validate_backup_id(raw) == expected


@pytest.mark.parametrize(
    ("raw", "suggestion"),
    [
        ("", None),
        ("bkp_123abc", None),
        ("backup_2024_03_15", None),
        (UUID[:-1], None),  # 35 characters
        (UUID + "0", None),  # 37 characters
        ("g" + UUID[1:], None),  # not hex
        ("a65ff585-d987-4da5-a622_72e19a6ed5f4", None),
        (UUID.replace("-", ""), UUID),  # dashes missing
        ("A65FF585D9874DA5A62272E19A6ED5F4", UUID),
        ("{" + UUID + "}", UUID),
        ("<" + UUID + ">", UUID),
        ("urn:uuid:" + UUID, UUID),
        ("a65ff585-d987-4da5-a622-72e19a6ed5f4f", None),  # longer hex run is not a UUID
        ("a65ff585-d987-4da5-a622-72e19a6ed5f\u0664", None),  # Arabic-Indic digit
        (UUID.replace("-", "\u2011"), None),  # non-breaking hyphen
    ],
)
def test_backup_id_rejected(raw: str, suggestion: str | None) -> None:
    problem = validate_backup_id(raw)
    assert isinstance(problem, Problem)
    assert problem.part.startswith("backup ID ")
    assert "UUID" in problem.rule
    assert suggest_backup_id(raw) == suggestion
    assert problem.hint is not None
    if suggestion is not None:
        assert f'"{suggestion}"' in problem.hint


# --- index name --------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["a", "0", "ab", "a-b", "a--b", "my-index-2", "a" * 45, "1" + "-" * 43 + "2", "restored-index"],
)
def test_index_name_accepted(name: str) -> None:
    assert validate_index_name(name) == name


def test_index_name_trims_surrounding_whitespace() -> None:
    assert validate_index_name("\u00a0 prod\t") == "prod"


@pytest.mark.parametrize(
    ("name", "hint_fragment", "suggestion"),
    [
        ("", "Give the index a name", None),
        ("a" * 46, "shorten it to 45 characters (it has 46)", "a" * 45),
        ("-a", "start and end with a letter or digit", "a"),
        ("a-", "start and end with a letter or digit", "a"),
        ("-", "start and end", None),
        ("A", "Use lower case", "a"),
        ("Prod_Index", 'Use lower case; replace "_"', "prod-index"),
        ("prod.index", 'replace "."', "prod-index"),
        ("prod index", 'replace " "', "prod-index"),
        ("café", 'replace "é"', "cafe"),
        ("\uff50rod", "replace", "prod"),  # full-width p
        ("a\x00b", 'replace "\\x00"', "a-b"),
        ("🙂", 'replace "🙂"', None),
    ],
)
def test_index_name_rejected(name: str, hint_fragment: str, suggestion: str | None) -> None:
    problem = validate_index_name(name)
    assert isinstance(problem, Problem)
    assert problem.part == f"index name {quote_for_humans(name)}"
    assert problem.hint is not None and hint_fragment.lower() in problem.hint.lower()
    assert suggest_index_name(name) == suggestion
    if suggestion is not None:
        assert problem.hint.endswith(f'try "{suggestion}"')


def test_index_name_problem_matches_the_example_in_the_brief() -> None:
    problem = validate_index_name("Prod_Index")
    assert isinstance(problem, Problem)
    assert problem.part == 'index name "Prod_Index"'
    assert problem.hint is not None and 'try "prod-index"' in problem.hint


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Prod_Index", "prod-index"),
        ("--x--", "x"),
        ("Café Staging", "cafe-staging"),
        ("prod - index", "prod-index"),
        ("a--b", "a--b"),
        ("a" * 50, "a" * 45),
        ("a" * 44 + "-b", "a" * 44),  # the cut would leave a trailing '-'
        ("naïve", "naive"),
        ("___", None),
        ("", None),
        ("🙂🙂", None),
        ("שלום", None),
        ("\ud800", None),
    ],
)
def test_suggest_index_name(raw: str, expected: str | None) -> None:
    assert suggest_index_name(raw) == expected
    if expected is not None:
        assert validate_index_name(expected) == expected


# --- tag keys and values -----------------------------------------------------------


@pytest.mark.parametrize("key", ["a", "k" * 80, "team_name", "Team-Name", "-x", "_", "A1_b-2"])
def test_tag_key_accepted(key: str) -> None:
    assert validate_tag_key(key) == key


@pytest.mark.parametrize(
    ("key", "suggestion"),
    [
        ("", None),
        ("k" * 81, "k" * 80),
        ("team.name", "team_name"),
        ("team name", "team_name"),
        ("ключ", None),
        ("équipe", "equipe"),
        ("a=b", "a_b"),
    ],
)
def test_tag_key_rejected(key: str, suggestion: str | None) -> None:
    problem = validate_tag_key(key)
    assert isinstance(problem, Problem)
    assert problem.part.startswith("tag key ")
    assert suggest_tag_key(key) == suggestion


@pytest.mark.parametrize(
    "value",
    ["v", "v" * 120, "search infra", "a  b", "a;b@c_d-e.f+g h", ";", "@", "_", "-", ".", "+", "bob@example.com"],
)
def test_tag_value_accepted(value: str) -> None:
    assert validate_tag_value(value) == value


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  search infra  ", "search infra"),
        ("search\u00a0infra", "search infra"),
        ("search\tinfra", "search infra"),
        ("\u3000x\u3000", "x"),
    ],
)
def test_tag_value_whitespace_is_normalised_and_trimmed(raw: str, expected: str) -> None:
    assert validate_tag_value(raw) == expected


@pytest.mark.parametrize(
    ("value", "suggestion"),
    [
        ("v" * 121, "v" * 120),
        ("a/b", "a-b"),
        ("a,b", "a-b"),
        ("O'Brien", "O-Brien"),
        ('a"b', "a-b"),
        ("a=b", "a-b"),
        ("a&b", "a-b"),
        ("<x>", "x"),
        ("équipe", "equipe"),
        ("🙂", None),
        ("a\x00", "a"),
    ],
)
def test_tag_value_rejected(value: str, suggestion: str | None) -> None:
    problem = validate_tag_value(value, key="team")
    assert isinstance(problem, Problem)
    assert problem.part == f'value {quote_for_humans(value)} of tag "team"'
    assert suggest_tag_value(value) == suggestion
    if suggestion is not None:
        assert problem.hint is not None and f'try "{suggestion}"' in problem.hint
        assert validate_tag_value(suggestion) == suggestion


@pytest.mark.parametrize("value", ["", " ", "\u00a0\u00a0"])
def test_empty_tag_value_is_refused(value: str) -> None:
    problem = validate_tag_value(value, key="env")
    assert isinstance(problem, Problem)
    assert "empty" in problem.rule
    assert problem.part == 'value "" of tag "env"'


def test_tag_value_without_key_context() -> None:
    problem = validate_tag_value("a/b")
    assert isinstance(problem, Problem)
    assert problem.part == 'tag value "a/b"'


# --- tag sets ----------------------------------------------------------------------


def test_validate_tags_returns_clean_dict() -> None:
    assert validate_tags([("env", " prod "), ("team", "search infra")]) == {"env": "prod", "team": "search infra"}


@pytest.mark.parametrize(("count", "ok"), [(0, True), (MAX_TAGS, True), (MAX_TAGS + 1, False)])
def test_tag_count_limit(count: int, ok: bool) -> None:
    result = validate_tags((f"k{i}", "v") for i in range(count))
    if ok:
        assert isinstance(result, dict) and len(result) == count
    else:
        assert isinstance(result, tuple)
        assert [p.part for p in result] == [f"tags ({count} given)"]


def test_duplicate_keys_are_refused() -> None:
    result = validate_tags([("env", "a"), ("env", "b")])
    assert isinstance(result, tuple)
    assert [p.part for p in result] == ['tag key "env"']


def test_tag_keys_are_case_sensitive() -> None:
    assert validate_tags([("env", "a"), ("Env", "b")]) == {"env": "a", "Env": "b"}


def test_validate_tags_reports_every_problem() -> None:
    result = validate_tags([("bad key", "ok"), ("ok", "bad/value"), ("k", "")])
    assert isinstance(result, tuple)
    assert len(result) == 3


# --- quoting user input ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("abc", '"abc"'),
        ("a\x00b", '"a\\x00b"'),
        ("\ud800", '"\\ud800"'),
        ("a\u202eb", '"a\\u202eb"'),
        ("x" * 60, '"' + "x" * 60 + '"'),
        ("x" * 61, '"' + "x" * 59 + '…"'),
        ("\x00" * 30, '"' + "\\x00" * 14 + '…"'),
    ],
)
def test_quote_for_humans(raw: str, expected: str) -> None:
    assert quote_for_humans(raw) == expected


def test_quoted_text_is_always_utf8_encodable() -> None:
    quote_for_humans("\ud800\udfff\x00").encode("utf-8")


# --- RestoreRequest ----------------------------------------------------------------


def test_restore_request_normalises_fields() -> None:
    request = RestoreRequest(backup_id=UUID.upper(), index_name=" prod ", tags={"env": " a b "})
    assert request.backup_id == UUID
    assert request.index_name == "prod"
    assert request.tags == {"env": "a b"}
    assert request.deletion_protection is False


@pytest.mark.parametrize(
    "fields",
    [
        {"backup_id": "nope", "index_name": "ok"},
        {"backup_id": UUID, "index_name": "Not_Ok"},
        {"backup_id": UUID, "index_name": "ok", "tags": {"env": ""}},
        {"backup_id": UUID, "index_name": "ok", "tags": {f"k{i}": "v" for i in range(MAX_TAGS + 1)}},
        {"backup_id": UUID, "index_name": "ok", "extra": 1},
    ],
)
def test_restore_request_refuses_invalid_fields(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RestoreRequest.model_validate(fields)


def test_restore_request_is_frozen() -> None:
    request = RestoreRequest(backup_id=UUID, index_name="prod")
    with pytest.raises(ValidationError):
        request.index_name = "other"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("request_", "command"),
    [
        (RestoreRequest(backup_id=UUID, index_name="prod"), f"{UUID} prod"),
        (
            RestoreRequest(
                backup_id=UUID,
                index_name="restored-index",
                tags={"env": "prod", "team": "search infra"},
                deletion_protection=True,
            ),
            f'{UUID} restored-index env=prod team="search infra" --deletion-protection',
        ),
        (RestoreRequest(backup_id=UUID, index_name="x", tags={"-k": "-v"}), f'{UUID} x "-k"=-v'),
    ],
)
def test_as_command(request_: RestoreRequest, command: str) -> None:
    assert request_.as_command() == command


def test_problem_describe() -> None:
    assert Problem(part="p", rule="R.", hint="fix it").describe() == "p: R. fix it."
    assert Problem(part="p", rule="R.", hint="Did you mean x?").describe() == "p: R. Did you mean x?"
    assert Problem(part="p", rule="R.").describe() == "p: R."
