import pytest

from bot.core.request.command_parser import (
    MAX_COMMAND_CHARS,
    MAX_PROBLEMS,
    HelpCommand,
    ListCommand,
    ParsedCommand,
    Rejected,
    RestoreCommand,
    StatusCommand,
    UsageCommand,
    parse_command,
)
from bot.core.request.field_rules import CANONICAL_EXAMPLE, RestoreRequest

UUID = "a65ff585-d987-4da5-a622-72e19a6ed5f4"
OTHER_UUID = "670e8400-e29b-41d4-a716-446655440000"


def restore(text: str) -> RestoreRequest:
    parsed = parse_command(text)
    assert isinstance(parsed, RestoreCommand), parsed
    return parsed.request


def rejected(text: str) -> Rejected:
    parsed = parse_command(text)
    assert isinstance(parsed, Rejected), parsed
    return parsed


def parts(text: str) -> list[str]:
    return [p.part for p in rejected(text).problems]


# --- subcommands -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", UsageCommand()),
        ("   ", UsageCommand()),
        ("\u00a0\u2003\t\n", UsageCommand()),
        ("\u200b", UsageCommand()),
        ("help", HelpCommand()),
        ("HELP", HelpCommand()),
        ("Help me please", HelpCommand()),
        ("-h", HelpCommand()),
        ("--help", HelpCommand()),
        ("--HELP", HelpCommand()),
        ("\u2014help", HelpCommand()),  # "--help" after smart-dash autocorrect
        (f"{UUID} prod --help", HelpCommand()),
        ("status -h", HelpCommand()),
        ("list", ListCommand()),
        ("LIST", ListCommand()),
        ("  List  ", ListCommand()),
        ("status my-index", StatusCommand(index_name="my-index")),
        ("Status my-index", StatusCommand(index_name="my-index")),
        ("STATUS\u00a0my-index", StatusCommand(index_name="my-index")),
        ('status "my-index"', StatusCommand(index_name="my-index")),
    ],
)
def test_subcommands(text: str, expected: ParsedCommand) -> None:
    assert parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "problem_parts", "example"),
    [
        ("status", ["index name"], "status restored-index"),
        ("status Prod_Index", ['index name "Prod_Index"'], "status prod-index"),
        ("status a b", ['extra word "b"'], "status a"),
        ("status env=prod", ["index name", 'extra word "env=prod"'], "status restored-index"),
        ("status a --deletion-protection", ['extra word "--deletion-protection"'], "status a"),
        ('status "a', ['unclosed quote (") before "a"'], "status a"),
        ("list x", ['extra word "x"'], "list"),
        ("list x y", ['extra word "x"', 'extra word "y"'], "list"),
    ],
)
def test_subcommand_problems(text: str, problem_parts: list[str], example: str) -> None:
    result = rejected(text)
    assert [p.part for p in result.problems] == problem_parts
    assert result.example == example
    assert not isinstance(parse_command(result.example), Rejected)


# --- restore: the happy paths ------------------------------------------------------


def test_example_from_the_brief() -> None:
    request = restore(f'{UUID} restored-index env=prod team="search infra" --deletion-protection')
    assert request == RestoreRequest(
        backup_id=UUID,
        index_name="restored-index",
        tags={"env": "prod", "team": "search infra"},
        deletion_protection=True,
    )


@pytest.mark.parametrize(
    "text",
    [
        f'{UUID} restored-index team="search infra"',
        f"{UUID} restored-index team='search infra'",
        f"{UUID} restored-index team=\u201csearch infra\u201d",  # “...”
        f"{UUID} restored-index team=\u201esearch infra\u201c",  # „...“
        f"{UUID} restored-index team=\u2018search infra\u2019",  # ‘...’
        f"{UUID} restored-index team=\u00absearch infra\u00bb",  # «...»
        f'{UUID} restored-index "team"="search infra"',
        f'{UUID} restored-index "team=search infra"',
        f"{UUID} restored-index 'team=search infra'",
        f'{UUID} restored-index team=search" "infra',
        f'{UUID} restored-index team="search\u00a0infra"',  # NBSP inside quotes
        f'{UUID} restored-index team=" search infra "',  # outer spaces are trimmed
        f'{UUID} "restored-index" team="search infra"',
        f'"{UUID}" restored-index team="search infra"',
    ],
)
def test_quoting_styles(text: str) -> None:
    request = restore(text)
    assert request.tags == {"team": "search infra"}
    assert request.index_name == "restored-index"


@pytest.mark.parametrize("separator", [" ", "   ", "\t", "\n", "\u00a0", "\u2003", "\u202f", "\u3000", " \u200b "])
def test_unicode_whitespace_separates_words(separator: str) -> None:
    text = separator.join([UUID, "restored-index", "env=prod", "--deletion-protection"])
    assert restore(separator + text + separator) == RestoreRequest(
        backup_id=UUID, index_name="restored-index", tags={"env": "prod"}, deletion_protection=True
    )


def test_tags_and_flag_may_come_anywhere() -> None:
    assert restore(f"--deletion-protection env=prod {UUID} team=x restored-index") == RestoreRequest(
        backup_id=UUID,
        index_name="restored-index",
        tags={"env": "prod", "team": "x"},
        deletion_protection=True,
    )


@pytest.mark.parametrize("backup_id", [UUID.upper(), "A65ff585-D987-4dA5-a622-72E19A6ed5F4"])
def test_backup_id_any_case(backup_id: str) -> None:
    assert restore(f"{backup_id} prod").backup_id == UUID


@pytest.mark.parametrize(
    "flag", ["--deletion-protection", "--Deletion-Protection", "\u2014deletion-protection", "\u2013deletion-protection"]
)
def test_deletion_protection_flag_spellings(flag: str) -> None:
    assert restore(f"{UUID} prod {flag}").deletion_protection is True


def test_en_dash_inside_a_name_is_not_silently_rewritten() -> None:
    result = rejected(f"{UUID} my\u2013index")
    assert [p.part for p in result.problems] == ['index name "my\u2013index"']
    assert result.example == f"{UUID} my-index"


def test_em_dash_is_read_as_double_hyphen() -> None:
    # macOS/iOS "smart dashes" turn a typed "--" into an em dash.
    assert restore(f"{UUID} my\u2014index").index_name == "my--index"


def test_deletion_protection_defaults_off() -> None:
    assert restore(f"{UUID} prod").deletion_protection is False


def test_html_escaped_text_is_unescaped_once() -> None:
    # Slack escapes & < > in command text; the user typed "team=a&b" and "&lt;".
    assert parts(f"{UUID} prod team=a&amp;b k=&amp;lt;") == [
        'value "a&b" of tag "team"',
        'value "&lt;" of tag "k"',
    ]


def test_html_escaped_angle_brackets_around_backup_id() -> None:
    result = rejected(f"&lt;{UUID}&gt; prod")
    assert [p.part for p in result.problems] == [f'backup ID "<{UUID}>"']
    assert result.problems[0].hint == f'Try "{UUID}"'
    assert result.example == f"{UUID} prod"


@pytest.mark.parametrize(
    ("key", "value"),
    [("k" * 80, "v" * 120), ("a", "a;b@c_d-e.f+g"), ("_-", "+"), ("K", "x y  z")],
)
def test_tag_boundaries_accepted(key: str, value: str) -> None:
    assert restore(f'{UUID} prod {key}="{value}"').tags == {key: value}


def test_twenty_tags_accepted() -> None:
    tags = " ".join(f"k{i}=v" for i in range(20))
    assert len(restore(f"{UUID} prod {tags}").tags) == 20


@pytest.mark.parametrize("name", ["a", "a" * 45, "0-0", "a--b"])
def test_index_name_boundaries_accepted(name: str) -> None:
    assert restore(f"{UUID} {name}").index_name == name


# --- restore: problems -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "problem_parts", "example"),
    [
        (f"{UUID} {'a' * 46}", [f'index name "{"a" * 46}"'], f"{UUID} {'a' * 45}"),
        (f"{UUID} -prod", ['index name "-prod"'], f"{UUID} prod"),
        (f"{UUID} prod -x", ['flag "-x"'], f"{UUID} prod"),
        (f"{UUID} prod-", ['index name "prod-"'], f"{UUID} prod"),
        (f"{UUID} Prod_Index", ['index name "Prod_Index"'], f"{UUID} prod-index"),
        (f"{UUID} prod {'k' * 81}=v", [f'tag key "{"k" * 59}…"'], f"{UUID} prod {'k' * 80}=v"),
        (f"{UUID} prod k={'v' * 121}", [f'value "{"v" * 59}…" of tag "k"'], f"{UUID} prod k={'v' * 120}"),
        (f"{UUID} prod team=a/b", ['value "a/b" of tag "team"'], f"{UUID} prod team=a-b"),
        (f"{UUID} prod env=", ['value "" of tag "env"'], f"{UUID} prod"),
        (f'{UUID} prod env=""', ['value "" of tag "env"'], f"{UUID} prod"),
        (f"{UUID} prod =prod", ['tag "=prod"'], f"{UUID} prod"),
        (f"{UUID} prod =", ['tag "="'], f"{UUID} prod"),
        (f"{UUID} prod env=a env=b", ['tag key "env"'], f"{UUID} prod env=a"),
        (f"{UUID} prod --foo", ['flag "--foo"'], f"{UUID} prod"),
        (f"{UUID} prod extra", ['extra word "extra"'], f"{UUID} prod"),
        (
            f"{UUID} prod team=search infra",
            ['extra word "infra"'],
            f'{UUID} prod team="search infra"',
        ),
        (f"{UUID}", ["index name"], f"{UUID} restored-index"),
        ("prod", ["backup ID"], f"{UUID} prod"),
        ("env=prod", ["backup ID and index name"], f"{UUID} restored-index env=prod"),
        (f"prod {OTHER_UUID}", ['backup ID "prod"'], f"{OTHER_UUID} prod"),
        (f"restore {OTHER_UUID} prod", ['extra word "restore"'], f"{OTHER_UUID} prod"),
        ("bkp_123abc prod", ['backup ID "bkp_123abc"'], f"{UUID} prod"),
        (f"{UUID.replace('-', '')} prod", [f'backup ID "{UUID.replace("-", "")}"'], f"{UUID} prod"),
        ("--foo", ['flag "--foo"', "backup ID and index name"], CANONICAL_EXAMPLE),
        ("x! y!", ['backup ID "x!"', 'index name "y!"'], f"{UUID} y"),
        ("!!! ???", ['backup ID "!!!"', 'index name "???"'], CANONICAL_EXAMPLE),
    ],
)
def test_restore_problems(text: str, problem_parts: list[str], example: str) -> None:
    result = rejected(text)
    assert sorted(p.part for p in result.problems) == sorted(problem_parts)
    assert result.example == example
    assert isinstance(parse_command(result.example), RestoreCommand)


def test_too_many_tags() -> None:
    tags = " ".join(f"k{i}=v" for i in range(21))
    result = rejected(f"{UUID} prod {tags}")
    assert [p.part for p in result.problems] == ["tags (21 given)"]
    assert result.problems[0].hint is not None and "Remove 1 tag;" in result.problems[0].hint
    assert len(restore(result.example).tags) == 20


def test_all_problems_are_reported_at_once() -> None:
    result = rejected("NOT-A-UUID Prod_Index team=x/y --foo bad.key=v")
    assert [p.part for p in result.problems] == [
        'backup ID "NOT-A-UUID"',
        'index name "Prod_Index"',
        'value "x/y" of tag "team"',
        'flag "--foo"',
        'tag key "bad.key"',
    ]
    assert result.example == f"{UUID} prod-index team=x-y bad_key=v"


def test_problems_about_the_whole_command_come_first() -> None:
    result = rejected('--foo "x')
    assert [p.part for p in result.problems] == [
        'unclosed quote (") before "x"',
        "backup ID",
        'flag "--foo"',
    ]


@pytest.mark.parametrize(
    ("text", "quote"),
    [
        (f'{UUID} prod team="search infra', '"'),
        (f"{UUID} prod team='search infra", "'"),
        (f"{UUID} prod team=\u201csearch infra", '"'),
        (f"{UUID} prod team=\u201csearch infra'", '"'),
    ],
)
def test_unbalanced_quote(text: str, quote: str) -> None:
    result = rejected(text)
    assert result.problems[0].part.startswith(f"unclosed quote ({quote})")
    # The quote is taken to run to the end, which is what a forgotten closing quote meant.
    assert restore(result.example).tags == {"team": "search infra"}


def test_apostrophe_in_value_is_an_unclosed_quote() -> None:
    result = rejected(f"{UUID} prod owner=O'Brien")
    assert result.problems[0].part == 'unclosed quote (\') before "Brien"'
    assert restore(result.example).tags == {"owner": "OBrien"}


@pytest.mark.parametrize(
    ("flag", "hint"),
    [
        ("--foo", "Remove it; the only flags are --deletion-protection and --dry-run, and tags are written key=value"),
        ("--deletion_protection", "Did you mean --deletion-protection?"),
        ("--deletion-protect", "Did you mean --deletion-protection?"),
        ("--deletion-protection=true", "--deletion-protection takes no value"),
        ("--no-deletion-protection", "Protection is off unless you add --deletion-protection"),
        ("-", "the only flags are --deletion-protection and --dry-run"),
    ],
)
def test_unknown_flags(flag: str, hint: str) -> None:
    result = rejected(f"{UUID} prod {flag}")
    assert [p.part for p in result.problems] == [f'flag "{flag}"']
    assert result.problems[0].hint is not None and hint in result.problems[0].hint
    assert "--deletion-protection" in result.problems[0].hint


def test_quoted_dash_key_is_a_tag_not_a_flag() -> None:
    assert restore(f'{UUID} prod "-k"=v').tags == {"-k": "v"}


def test_tag_spill_hint_suggests_quoting() -> None:
    result = rejected(f"{UUID} prod team=search infra group env=x")
    (problem,) = result.problems
    assert problem.part == 'extra words "infra group"'
    assert problem.hint == 'To put spaces in a tag value, quote it: team="search infra group"'
    assert restore(result.example).tags == {"team": "search infra group", "env": "x"}


def test_duplicate_key_reported_once() -> None:
    assert parts(f"{UUID} prod env=a env=b env=c") == ['tag key "env"']


# --- limits and hostile input ------------------------------------------------------


def test_text_at_the_length_limit_is_parsed() -> None:
    text = f"{UUID} prod".ljust(MAX_COMMAND_CHARS)
    assert len(text) == MAX_COMMAND_CHARS
    assert isinstance(parse_command(text), RestoreCommand)


@pytest.mark.parametrize("length", [MAX_COMMAND_CHARS + 1, 10_000, 1_000_000])
def test_text_over_the_length_limit_is_rejected(length: int) -> None:
    result = rejected(f"{UUID} prod".ljust(length))
    assert [p.part for p in result.problems] == [f"command text ({length:,} characters)"]
    assert "4,000" in result.problems[0].rule
    assert result.example == CANONICAL_EXAMPLE


def test_length_is_measured_after_unescaping() -> None:
    # 4,000 characters as typed, 4,800 as Slack delivers them.
    text = f"{UUID} prod k=" + "&amp;" * 200
    text = text + " " * (MAX_COMMAND_CHARS - len(text.replace("&amp;", "&")))
    result = rejected(text)
    assert "command text" not in result.problems[0].part


def test_problem_list_is_capped() -> None:
    # A thousand bad tags still fit in Slack's 4,000 characters.
    result = rejected(" ".join(["="] * 1000))
    assert len(result.problems) == MAX_PROBLEMS
    assert [p.part for p in result.problems[:3]] == ["backup ID and index name", "tags (1,000 given)", 'tag "="']
    assert result.problems[-1].part == f"{2 + 1000 - (MAX_PROBLEMS - 1)} more problems"
    assert parse_command(result.example) == parse_command(CANONICAL_EXAMPLE)


def test_long_parts_are_shortened() -> None:
    result = rejected(f"{UUID} {'x_' * 500}")
    (problem,) = result.problems
    assert problem.part.endswith('…"')
    assert len(problem.part) <= len('index name ""') + 60


@pytest.mark.parametrize(
    "text",
    [
        "\x00",
        f"{UUID} a\x00b",
        f"{UUID} prod k=\x00",
        "\ud800",
        f"{UUID} \udfff env=\ud83d",
        "🙂 🙂🙂 env=🙂",
        "שלום עולם",
        "\u202eedoc\u202c",
        "\x1b[31mred",
        '"',
        "'",
        '""',
        "= = =",
        "--",
        "&amp;&lt;&gt;&quot;",
        "&amp;amp;",
        "\r\n\r\n",
        "a" * 4000,
        " ".join(["k=v"] * 1000),
        "x=" * 2000,
    ],
)
def test_hostile_input_never_raises(text: str) -> None:
    parsed = parse_command(text)
    if isinstance(parsed, Rejected):
        assert 1 <= len(parsed.problems) <= MAX_PROBLEMS
        # The reply must be sendable: lone surrogates cannot be encoded.
        parsed.model_dump_json().encode("utf-8")
        assert not isinstance(parse_command(parsed.example), Rejected)


def test_control_characters_are_shown_escaped() -> None:
    assert parts(f"{UUID} a\x00b") == ['index name "a\\x00b"']
