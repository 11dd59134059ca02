"""Whatever the parser accepts becomes a create-index body that Pinecone's spec accepts.

Hypothesis drives the real parser; the body is built by the same function the bot uses and is
checked against the vendored OpenAPI schema and the rules the spec states in prose (as the
emulator enforces them), independently of the bot's own validators.
"""

from __future__ import annotations

from hypothesis import given

from bot.core.request.command_parser import RestoreCommand, parse_command
from bot.service.restores import create_index_body
from tests.fakes.openapi import OpenApiSpec
from tests.fakes.pinecone_emulator import CONTROL_SPEC_PATH, PineconeEmulator
from tests.unit.test_parser_properties import PROPERTY_SETTINGS, any_text, near_valid

SPEC = OpenApiSpec.load(CONTROL_SPEC_PATH)
CREATE = SPEC.operation("create_index_from_backup_operation")


def assert_pinecone_would_accept(text: str) -> bool:
    parsed = parse_command(text)
    if not isinstance(parsed, RestoreCommand):
        return False
    request = parsed.request
    body = create_index_body(
        request.index_name,
        request.tags,
        deletion_protection=request.deletion_protection,
        requester_id="U0ALICE01",
        backup_id=request.backup_id,
    )
    wire = body.to_json()
    assert CREATE.request_body is not None
    assert SPEC.errors(CREATE.request_body, wire) == [], wire
    assert PineconeEmulator._prose_rule_violation(CREATE, wire) is None, wire
    path = CREATE.template.replace("{backup_id}", request.backup_id)
    assert SPEC.route("POST", path) is not None
    return True


@PROPERTY_SETTINGS
@given(any_text)
def test_accepted_commands_make_spec_valid_requests(text: str) -> None:
    assert_pinecone_would_accept(text)


@PROPERTY_SETTINGS
@given(near_valid)
def test_accepted_near_misses_make_spec_valid_requests(text: str) -> None:
    assert_pinecone_would_accept(text)


def test_the_property_is_not_vacuous() -> None:
    assert assert_pinecone_would_accept(
        'a65ff585-d987-4da5-a622-72e19a6ed5f4 restored-index env=prod team="search infra" --deletion-protection'
    )
