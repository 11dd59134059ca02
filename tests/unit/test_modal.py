"""The restore modal as data: valid Block Kit, picker options within Slack's limits, and submissions
checked with the command's rules, each problem on its own field."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core import render
from bot.core.ids import (
    MODAL_BACKUP_ACTION,
    MODAL_BACKUP_BLOCK,
    MODAL_BACKUP_INFO_BLOCK,
    MODAL_BACKUP_UNAVAILABLE,
    MODAL_INDEX_NAME_ACTION,
    MODAL_INDEX_NAME_BLOCK,
    MODAL_MODE_BACKUP,
    MODAL_MODE_BLOCK,
    MODAL_NOTICE_BLOCK,
    MODAL_PROTECTION_ACTION,
    MODAL_PROTECTION_BLOCK,
    MODAL_PROTECTION_ENABLED,
    MODAL_TAGS_ACTION,
    MODAL_TAGS_BLOCK,
    RESTORE_MODAL_CALLBACK,
)
from bot.core.render.restore_form_view import (
    MAX_OPTIONS,
    OPTION_TEXT_MAX,
    ModalForm,
    backup_matches,
    backup_option,
    backup_options,
    default_index_name,
    inline_text,
    name_block_id,
    restore_view,
    unavailable_options,
    view_after_choice,
)
from bot.core.request.command_parser import RestoreCommand, parse_command
from bot.core.request.field_rules import INDEX_NAME_MAX_CHARS, RestoreRequest, validate_index_name
from bot.core.request.restore_form import Invalid, Submission, modal_channel, parse_tags, read_submission
from bot.pinecone import PineconeClient
from bot.pinecone.models import Backup
from bot.service.backup_picker import BackupCache, find_backup_options
from tests.fakes.slack_blocks import validate_view

CHANNEL = "C0RESTORE1"
BACKUP_ID = "a65ff585-d987-4da5-a622-72e19a6ed5f4"
OTHER_ID = "670e8400-e29b-41d4-a716-446655440000"
CREATED = datetime(2026, 1, 31, 14, 2, tzinfo=UTC)
TODAY = date(2026, 3, 5)


def backup(**changes: Any) -> Backup:
    fields: dict[str, Any] = {
        "backup_id": BACKUP_ID,
        "source_index_name": "prod-search",
        "source_index_id": "idx-1",
        "name": "nightly",
        "status": "Ready",
        "cloud": "aws",
        "region": "us-east-1",
        "record_count": 120_000,
        "created_at": CREATED.isoformat().replace("+00:00", "Z"),
    }
    fields.update(changes)
    return Backup.model_validate(fields)


def assert_valid_view(view: dict[str, Any]) -> None:
    assert validate_view(view) == []


def block_ids(view: dict[str, Any]) -> list[str]:
    return [block["block_id"] for block in view["blocks"]]


def block(view: dict[str, Any], block_id: str) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b["block_id"] == block_id)


def name_block(view: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b["block_id"].startswith(MODAL_INDEX_NAME_BLOCK))


def submitted(
    view: dict[str, Any],
    *,
    backup_id: str | None = BACKUP_ID,
    name: str | None = "restored-index",
    tags: str | None = None,
    protection: bool = False,
) -> dict[str, Any]:
    """`view` as a view_submission (or block_actions) payload carries it, with the user's entries."""
    option = {"text": {"type": "plain_text", "text": "prod-search / nightly"}, "value": backup_id}
    checkbox = {"text": {"type": "plain_text", "text": "Enable deletion protection"}, "value": MODAL_PROTECTION_ENABLED}
    values = {
        MODAL_BACKUP_BLOCK: {
            MODAL_BACKUP_ACTION: {"type": "external_select", "selected_option": option if backup_id else None}
        },
        name_block(view)["block_id"]: {MODAL_INDEX_NAME_ACTION: {"type": "plain_text_input", "value": name}},
        MODAL_TAGS_BLOCK: {MODAL_TAGS_ACTION: {"type": "plain_text_input", "value": tags}},
        MODAL_PROTECTION_BLOCK: {
            MODAL_PROTECTION_ACTION: {"type": "checkboxes", "selected_options": [checkbox] if protection else []}
        },
    }
    return {**view, "id": "V0MODAL001", "hash": "1700000000.abc", "state": {"values": values}}


def fresh_view(**form: Any) -> dict[str, Any]:
    return restore_view(ModalForm(channel_id=CHANNEL, **form))


# --- the view ---------------------------------------------------------------------------------------


def test_the_fresh_modal_is_valid_block_kit_with_every_field() -> None:
    view = fresh_view()
    assert_valid_view(view)
    assert view["type"] == "modal" and view["callback_id"] == RESTORE_MODAL_CALLBACK
    assert block_ids(view) == [
        MODAL_MODE_BLOCK,
        MODAL_BACKUP_BLOCK,
        MODAL_INDEX_NAME_BLOCK,
        MODAL_TAGS_BLOCK,
        MODAL_PROTECTION_BLOCK,
    ]
    mode = block(view, MODAL_MODE_BLOCK)
    assert mode["dispatch_action"] is True and mode["element"]["initial_option"]["value"] == MODAL_MODE_BACKUP
    picker = block(view, MODAL_BACKUP_BLOCK)
    assert picker["dispatch_action"] is True
    assert picker["element"]["type"] == "external_select"
    assert picker["element"]["action_id"] == MODAL_BACKUP_ACTION
    assert picker["element"]["min_query_length"] == 0
    tags = block(view, MODAL_TAGS_BLOCK)
    assert tags["optional"] is True and tags["element"]["multiline"] is True
    protection = block(view, MODAL_PROTECTION_BLOCK)
    assert protection["element"]["type"] == "checkboxes" and protection["optional"] is True
    assert "initial_options" not in protection["element"]
    assert json.loads(view["private_metadata"]) == {"channel_id": CHANNEL}
    assert modal_channel(view) == CHANNEL


def test_a_notice_is_shown_on_top_as_mrkdwn() -> None:
    notice = render.channel_not_allowed([CHANNEL]).text
    view = fresh_view(notice=notice)
    assert_valid_view(view)
    assert view["blocks"][0]["block_id"] == MODAL_NOTICE_BLOCK
    assert view["blocks"][0]["text"] == {"type": "mrkdwn", "text": notice}


def test_a_chosen_backup_is_described_escaped_and_preselected() -> None:
    hostile = backup(source_index_name="prod-search", name="<!channel> & <@U0EVIL>", status="Pending")
    view = fresh_view(backup=hostile, index_name="prod-search-restore-0131", deletion_protection=True, tags_text="a=b")
    assert_valid_view(view)
    assert block(view, MODAL_BACKUP_BLOCK)["element"]["initial_option"] == backup_option(hostile)
    info = block(view, MODAL_BACKUP_INFO_BLOCK)["elements"][0]["text"]
    assert "&lt;!channel&gt; &amp; &lt;@U0EVIL&gt;" in info and "<!channel>" not in info
    assert "not ready" in info and "Pending" in info
    assert "120,000" in info and "2026-01-31" in info
    assert name_block(view)["element"]["initial_value"] == "prod-search-restore-0131"
    assert block(view, MODAL_TAGS_BLOCK)["element"]["initial_value"] == "a=b"
    assert block(view, MODAL_PROTECTION_BLOCK)["element"]["initial_options"][0]["value"] == MODAL_PROTECTION_ENABLED


def test_the_view_stays_within_limits_whatever_pinecone_says() -> None:
    huge = backup(source_index_name="s" * 500, name="n" * 2000, status="S" * 500, record_count=10**15)
    view = fresh_view(backup=huge, notice="x" * 5000)
    assert_valid_view(view)
    assert len(view["private_metadata"]) <= 3000


# --- picker options ---------------------------------------------------------------------------------


def test_an_option_shows_source_name_date_and_records_with_the_backup_id_as_value() -> None:
    option = backup_option(backup())
    assert option == {
        "text": {"type": "plain_text", "text": "prod-search / nightly · 2026-01-31 · 120k records"},
        "value": BACKUP_ID,
    }


@pytest.mark.parametrize(
    ("status", "marked"), [("Ready", False), ("ready", False), ("Pending", True), ("Initializing", True)]
)
def test_not_ready_backups_say_so_first(status: str, marked: bool) -> None:
    text = backup_option(backup(status=status))["text"]["text"]
    assert text.startswith(f"NOT READY ({status})") is marked
    assert "NOT READY" in text if marked else "NOT READY" not in text


@pytest.mark.parametrize(
    "changes",
    [
        {"source_index_name": "s" * 45, "name": "n" * 200},
        {"source_index_name": "s" * 45, "name": "n" * 200, "status": "Initializing-for-a-very-long-time"},
        {"source_index_name": "s" * 300, "name": None},
        {"name": "x" * 75, "record_count": 987_654_321_000},
        {"name": "line\nbreak\ttab\u200bzero-width", "status": "Pending"},
        {"created_at": None, "record_count": None, "name": "n" * 100},
        {"created_at": "not a date"},
    ],
)
def test_option_text_is_at_most_75_characters_and_keeps_the_essentials(changes: dict[str, Any]) -> None:
    subject = backup(**changes)
    option = backup_option(subject)
    text = option["text"]["text"]
    assert 0 < len(text) <= OPTION_TEXT_MAX
    assert "\n" not in text and "\t" not in text and "\u200b" not in text
    assert option["value"] == subject.backup_id
    assert text.startswith("NOT READY") is (not subject.ready)
    if subject.record_count is not None:
        assert text.endswith("records")
    assert text.startswith(("NOT READY", subject.source_index_name[:5]))


@given(
    source=st.text(min_size=1, max_size=100),
    name=st.one_of(st.none(), st.text(max_size=300)),
    status=st.text(min_size=1, max_size=60),
    records=st.one_of(st.none(), st.integers(min_value=0, max_value=10**18)),
)
def test_any_backup_gives_a_valid_option(source: str, name: str | None, status: str, records: int | None) -> None:
    option = backup_option(backup(source_index_name=source, name=name, status=status, record_count=records))
    errors = validate_view(
        {
            "type": "modal",
            "title": {"type": "plain_text", "text": "t"},
            "blocks": [
                {
                    "type": "section",
                    "text": {"type": "mrkdwn", "text": "x"},
                    "accessory": {"type": "static_select", "action_id": "a", "options": [option]},
                }
            ],
        }
    )
    assert errors == []


def listing() -> list[Backup]:
    return [
        backup(backup_id=BACKUP_ID, source_index_name="prod-search", name="nightly"),
        backup(
            backup_id=OTHER_ID,
            source_index_name="Staging-Search",
            name="weekly",
            created_at=(CREATED + timedelta(days=1)).isoformat(),
        ),
        backup(
            backup_id="11111111-2222-3333-4444-555555555555",
            source_index_name="analytics",
            name="PROD snapshot",
            status="Pending",
            created_at=(CREATED - timedelta(days=3)).isoformat(),
        ),
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [OTHER_ID, BACKUP_ID, "11111111-2222-3333-4444-555555555555"]),
        ("prod", [BACKUP_ID, "11111111-2222-3333-4444-555555555555"]),  # source index or backup name
        ("PROD", [BACKUP_ID, "11111111-2222-3333-4444-555555555555"]),
        ("staging", [OTHER_ID]),  # case-insensitive on the source index
        ("WEEK", [OTHER_ID]),  # and on the backup name
        ("prod nightly", [BACKUP_ID]),  # every word must match
        ("670e8400", [OTHER_ID]),  # a pasted ID
        ("  prod-search\u200b ", [BACKUP_ID]),
        ("nothing-like-it", []),
    ],
)
def test_options_filter_case_insensitively_newest_first(query: str, expected: list[str]) -> None:
    assert [o["value"] for o in backup_options(listing(), query)] == expected


def test_at_most_100_options_and_each_backup_once() -> None:
    many = [
        backup(backup_id=f"00000000-0000-0000-0000-{i:012d}", created_at=(CREATED + timedelta(minutes=i)).isoformat())
        for i in range(250)
    ]
    options = backup_options([*many, *many[:10]], "prod")
    assert len(options) == MAX_OPTIONS
    assert len({o["value"] for o in options}) == MAX_OPTIONS
    assert options[0]["value"].endswith(f"{249:012d}")  # the newest


def test_backup_matches_the_id_too() -> None:
    assert backup_matches(backup(), BACKUP_ID.upper())


def test_the_unavailable_option_is_one_short_option_that_cannot_be_submitted() -> None:
    [option] = unavailable_options()
    assert len(option["text"]["text"]) <= OPTION_TEXT_MAX
    assert "Pinecone" in option["text"]["text"]
    view = submitted(fresh_view(), backup_id=option["value"])
    result = read_submission(view)
    assert isinstance(result, Invalid)
    assert "Pinecone did not answer" in result.errors[MODAL_BACKUP_BLOCK]
    assert option["value"] == MODAL_BACKUP_UNAVAILABLE


# --- default names ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "when", "expected"),
    [
        ("prod-search", date(2026, 1, 31), "prod-search-restore-0131"),
        ("Prod_Search!!", date(2026, 12, 1), "prod-search-restore-1201"),
        ("a" * 45, date(2026, 1, 31), "a" * 32 + "-restore-0131"),
        ("a" * 31 + "-" + "b" * 13, date(2026, 1, 31), "a" * 31 + "-restore-0131"),
        ("Café", date(2026, 7, 4), "cafe-restore-0704"),
        ("___", date(2026, 7, 4), "restore-0704"),
    ],
)
def test_default_name_is_source_restore_mmdd_cut_to_45(source: str, when: date, expected: str) -> None:
    assert default_index_name(source, when) == expected


@given(st.text(max_size=200), st.dates())
def test_default_names_are_always_valid_index_names(source: str, when: date) -> None:
    name = default_index_name(source, when)
    assert name is not None
    assert validate_index_name(name) == name
    assert len(name) <= INDEX_NAME_MAX_CHARS
    assert name.endswith(f"restore-{when:%m%d}")


# --- after a backup is chosen -----------------------------------------------------------------------


def test_choosing_a_backup_prefills_the_name_under_a_new_block_id() -> None:
    payload = submitted(fresh_view(), name=None, tags="env=prod", protection=True)
    redrawn = view_after_choice(payload, backup(), today=TODAY)
    assert redrawn is not None
    assert_valid_view(redrawn)
    name = name_block(redrawn)
    assert name["block_id"] == name_block_id(BACKUP_ID) != MODAL_INDEX_NAME_BLOCK
    assert name["element"]["initial_value"] == "prod-search-restore-0131"  # the backup's date
    assert json.loads(redrawn["private_metadata"]) == {"channel_id": CHANNEL, "suggested": "prod-search-restore-0131"}
    # Tags and protection keep their ids (so Slack keeps what was typed) and are drawn as they were.
    assert block(redrawn, MODAL_TAGS_BLOCK)["element"]["initial_value"] == "env=prod"
    assert block(redrawn, MODAL_PROTECTION_BLOCK)["element"]["initial_options"]
    assert block(redrawn, MODAL_BACKUP_BLOCK)["element"]["initial_option"]["value"] == BACKUP_ID


def test_a_backup_without_a_date_uses_today() -> None:
    redrawn = view_after_choice(submitted(fresh_view(), name=None), backup(created_at=None), today=TODAY)
    assert redrawn is not None
    assert name_block(redrawn)["element"]["initial_value"] == "prod-search-restore-0305"


def test_a_name_the_user_typed_is_never_replaced() -> None:
    payload = submitted(fresh_view(), name="my-own-name")
    redrawn = view_after_choice(payload, backup(), today=TODAY)
    assert redrawn is not None
    assert name_block(redrawn)["block_id"] == MODAL_INDEX_NAME_BLOCK
    assert name_block(redrawn)["element"]["initial_value"] == "my-own-name"
    assert "suggested" not in json.loads(redrawn["private_metadata"])


def test_the_bots_own_suggestion_is_replaced_when_another_backup_is_chosen() -> None:
    first = view_after_choice(submitted(fresh_view(), name=None), backup(), today=TODAY)
    assert first is not None
    payload = submitted(first, backup_id=OTHER_ID, name="prod-search-restore-0131")
    other = backup(backup_id=OTHER_ID, source_index_name="staging-search", created_at="2026-02-02T00:00:00Z")
    second = view_after_choice(payload, other, today=TODAY)
    assert second is not None
    assert name_block(second)["block_id"] == name_block_id(OTHER_ID)
    assert name_block(second)["element"]["initial_value"] == "staging-search-restore-0202"


def test_a_redraw_keeps_the_notice_and_needs_the_metadata() -> None:
    payload = submitted(fresh_view(), name=None)
    redrawn = view_after_choice(payload, backup(), today=TODAY, notice=":no_entry: not here")
    assert redrawn is not None and redrawn["blocks"][0]["block_id"] == MODAL_NOTICE_BLOCK
    assert view_after_choice({**payload, "private_metadata": "not json"}, backup(), today=TODAY) is None


# --- submissions ------------------------------------------------------------------------------------


def test_a_valid_submission_is_the_request_the_command_would_make() -> None:
    payload = submitted(fresh_view(), tags='env=prod\nteam="search infra"', protection=True)
    result = read_submission(payload)
    assert result == Submission(
        channel_id=CHANNEL,
        request=RestoreRequest(
            backup_id=BACKUP_ID,
            index_name="restored-index",
            tags={"env": "prod", "team": "search infra"},
            deletion_protection=True,
        ),
    )
    command = parse_command(f'{BACKUP_ID} restored-index env=prod team="search infra" --deletion-protection')
    assert isinstance(command, RestoreCommand) and isinstance(result, Submission)
    assert result.request == command.request


def test_a_submission_under_a_prefilled_name_block_reads_that_block() -> None:
    redrawn = view_after_choice(submitted(fresh_view(), name=None), backup(), today=TODAY)
    assert redrawn is not None
    result = read_submission(submitted(redrawn, name="prod-search-restore-0131"))
    assert isinstance(result, Submission)
    assert result.request.index_name == "prod-search-restore-0131"
    assert result.request.tags == {} and result.request.deletion_protection is False

    bad = read_submission(submitted(redrawn, name="Prod_Search"))
    assert isinstance(bad, Invalid)
    assert list(bad.errors) == [name_block_id(BACKUP_ID)]


@pytest.mark.parametrize(
    ("entries", "block_id", "must_say"),
    [
        ({"backup_id": None}, MODAL_BACKUP_BLOCK, "Choose the backup"),
        ({"backup_id": "not-a-uuid"}, MODAL_BACKUP_BLOCK, "Backup IDs are UUIDs"),
        ({"name": None}, MODAL_INDEX_NAME_BLOCK, "Give the new index a name"),
        ({"name": "   "}, MODAL_INDEX_NAME_BLOCK, "Give the new index a name"),
        ({"name": "Prod_Index"}, MODAL_INDEX_NAME_BLOCK, 'try "prod-index"'),
        ({"name": "-leading"}, MODAL_INDEX_NAME_BLOCK, "start and end with a letter or digit"),
        ({"name": "a" * 46}, MODAL_INDEX_NAME_BLOCK, "45"),
        ({"tags": "bad$key=x"}, MODAL_TAGS_BLOCK, 'tag key "bad$key"'),
        ({"tags": "env=pr/od"}, MODAL_TAGS_BLOCK, '"pr/od"'),
        ({"tags": f"env={'v' * 121}"}, MODAL_TAGS_BLOCK, "120"),
        ({"tags": "env=a env=b"}, MODAL_TAGS_BLOCK, "only once"),
        ({"tags": "env="}, MODAL_TAGS_BLOCK, "cannot be empty"),
        ({"tags": 'team="search infra'}, MODAL_TAGS_BLOCK, "closing quote"),
        ({"tags": "team=search infra"}, MODAL_TAGS_BLOCK, 'team="search infra"'),
        ({"tags": "prod"}, MODAL_TAGS_BLOCK, "key=value"),
        ({"tags": " ".join(f"k{i}=v" for i in range(21))}, MODAL_TAGS_BLOCK, "at most 20 tags"),
        ({"tags": "--deletion-protection"}, MODAL_TAGS_BLOCK, "Tick Enable deletion protection"),
        ({"tags": "env=prod --force"}, MODAL_TAGS_BLOCK, "Flags don't go in the tags field"),
        ({"tags": "--help"}, MODAL_TAGS_BLOCK, "Flags don't go in the tags field"),
        ({"tags": "x" * 3001}, MODAL_TAGS_BLOCK, "at most 3,000 characters"),
    ],
)
def test_each_field_error_lands_on_its_block(entries: dict[str, Any], block_id: str, must_say: str) -> None:
    result = read_submission(submitted(fresh_view(), **entries))
    assert isinstance(result, Invalid)
    assert list(result.errors) == [block_id]
    assert must_say in result.errors[block_id]
    assert len(result.errors[block_id]) <= 1500


def test_every_problem_is_reported_at_once_each_on_its_field() -> None:
    result = read_submission(submitted(fresh_view(), backup_id=None, name="Bad Name", tags="bad$key=x env=pr/od"))
    assert isinstance(result, Invalid)
    assert set(result.errors) == {MODAL_BACKUP_BLOCK, MODAL_INDEX_NAME_BLOCK, MODAL_TAGS_BLOCK}
    assert result.errors[MODAL_TAGS_BLOCK].startswith("2 problems")
    assert '"bad$key"' in result.errors[MODAL_TAGS_BLOCK] and '"pr/od"' in result.errors[MODAL_TAGS_BLOCK]


def test_a_submission_without_its_channel_is_refused_on_the_backup_field() -> None:
    payload = submitted(fresh_view())
    for metadata in ("", "{}", "not json", json.dumps({"channel_id": ""})):
        result = read_submission({**payload, "private_metadata": metadata})
        assert isinstance(result, Invalid)
        assert "lost track of the channel" in result.errors[MODAL_BACKUP_BLOCK]


@pytest.mark.parametrize(
    "payload", [{}, {"state": None}, {"state": {"values": []}}, {"state": {"values": {MODAL_TAGS_BLOCK: "x"}}}]
)
def test_malformed_payloads_are_invalid_not_a_crash(payload: dict[str, Any]) -> None:
    result = read_submission(payload)
    assert isinstance(result, Invalid) and result.errors


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("", {}),
        ("   \n  ", {}),
        ("env=prod", {"env": "prod"}),
        ("env=prod\nteam=infra", {"env": "prod", "team": "infra"}),
        ("“team”=“search infra”", {"team": "search infra"}),
        ("team='search infra' owner=a@b.c", {"team": "search infra", "owner": "a@b.c"}),
    ],
)
def test_tags_read_like_the_command(text: str, tags: dict[str, str]) -> None:
    assert parse_tags(text) == tags


# --- refusals as inline text ------------------------------------------------------------------------


def test_refusals_become_plain_inline_text() -> None:
    assert inline_text(render.channel_not_allowed(["C0RESTORE1", "C0OTHER"]).text) == (
        "Restores can't be requested in this channel. Please ask in #C0RESTORE1, #C0OTHER."
    )
    assert inline_text(render.plain(render.RESTARTING).text) == (
        "The bot is restarting right now. Try again in a minute."
    )
    assert inline_text("*See* <https://x.example/a|the thread> for `a&amp;b` <#C1|ops> <@U1> 14:02:") == (
        "See the thread for a&b #ops @U1 14:02:"
    )
    assert len(inline_text("x" * 5000)) <= 1500


# --- listing backups for the picker (handlers.modal, against httpx.MockTransport) --------------------


def wire(backup_model: Backup) -> dict[str, Any]:
    return backup_model.model_dump(exclude_none=True)


def pinecone_answering(pages: list[httpx.Response | None]) -> tuple[PineconeClient, list[httpx.Request]]:
    """GET /backups answers page after page (None: no connection); GET /backups/{id} answers 404."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path != "/backups":
            return httpx.Response(404, json={"status": 404, "error": {"code": "NOT_FOUND", "message": "no"}})
        answer = pages[min(len([r for r in seen if r.url.path == "/backups"]), len(pages)) - 1]
        if answer is None:
            raise httpx.ConnectError("refused", request=request)
        return answer

    http = httpx.AsyncClient(base_url="https://pinecone.test", transport=httpx.MockTransport(handle))
    return PineconeClient(http, "pc-key", backoff_initial=0.001, backoff_max=0.002), seen


def page(backups: list[Backup], next_token: str | None) -> httpx.Response:
    body: dict[str, Any] = {"data": [wire(b) for b in backups]}
    if next_token:
        body["pagination"] = {"next": next_token}
    return httpx.Response(200, json=body)


def numbered(start: int, count: int, source: str = "prod-search") -> list[Backup]:
    return [
        backup(
            backup_id=f"00000000-0000-0000-0000-{i:012d}",
            source_index_name=source,
            created_at=(CREATED - timedelta(minutes=i)).isoformat(),
        )
        for i in range(start, start + count)
    ]


async def test_the_picker_reads_pages_of_100_and_at_most_two() -> None:
    client, seen = pinecone_answering(
        [page(numbered(0, 100, "other"), "t1"), page(numbered(100, 100, "other"), "t2"), page(numbered(200, 5), None)]
    )
    cache = BackupCache()
    assert await find_backup_options(client, "prod", cache) == []  # the matches are on the third page
    assert [dict(r.url.params) for r in seen] == [{"limit": "100"}, {"limit": "100", "paginationToken": "t1"}]
    assert cache.get("00000000-0000-0000-0000-000000000150") is not None  # what was listed is remembered


async def test_a_page_full_of_matches_is_enough() -> None:
    client, seen = pinecone_answering([page(numbered(0, 100), "t1"), page(numbered(100, 100), None)])
    options = await find_backup_options(client, "", BackupCache())
    assert len(options) == MAX_OPTIONS and len(seen) == 1


async def test_a_failing_second_page_keeps_the_first() -> None:
    client, seen = pinecone_answering([page(numbered(0, 3), "t1"), None])
    options = await find_backup_options(client, "prod", BackupCache())
    assert len(options) == 3
    assert len(seen) == 2  # tried once: the user's next keystroke is the retry


@pytest.mark.parametrize(
    "answer",
    [
        None,
        httpx.Response(503, json={"status": 503, "error": {"code": "UNAVAILABLE", "message": "down"}}),
        httpx.Response(401, json={"status": 401, "error": {"code": "UNAUTHENTICATED", "message": "bad key"}}),
        httpx.Response(200, text="not json"),
    ],
)
async def test_pinecone_trouble_is_one_warning_option(answer: httpx.Response | None) -> None:
    client, _ = pinecone_answering([answer])
    assert await find_backup_options(client, "prod", BackupCache()) == unavailable_options()


async def test_a_pasted_id_that_pinecone_does_not_know_finds_nothing() -> None:
    client, seen = pinecone_answering([])
    assert await find_backup_options(client, BACKUP_ID, BackupCache()) == []
    assert [r.url.path for r in seen] == [f"/backups/{BACKUP_ID}"]
