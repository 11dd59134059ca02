"""The vendored Pinecone spec must be the shared one, byte for byte.

The emulator is only as faithful as the spec it is built from.  When the organisation-wide copy
(``../shared/pinecone`` next to the repository) is available, a silent local edit or a stale
vendored copy is caught here; where it is not mounted (e.g. a plain CI checkout) the test skips.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
VENDORED = REPO_ROOT / "tests" / "pinecone_spec"
SHARED = REPO_ROOT.parent / "shared" / "pinecone"
SPEC_FILES = ("db_control_2026-07.oas.yaml", "db_data_2026-07.oas.yaml")


@pytest.mark.parametrize("name", SPEC_FILES)
def test_vendored_spec_matches_shared_copy(name: str) -> None:
    if not SHARED.is_dir():
        pytest.skip(f"no shared Pinecone spec directory at {SHARED}; cannot check the vendored copy for drift")
    shared = SHARED / name
    assert shared.is_file(), f"{shared} is missing from the shared spec directory"
    vendored = VENDORED / name
    assert vendored.is_file(), f"{vendored} is missing; vendor it from {shared}"
    assert vendored.read_bytes() == shared.read_bytes(), (
        f"{vendored} differs from {shared}; re-vendor the shared spec (and re-run tests/contract)"
    )


def test_no_unexpected_vendored_files() -> None:
    """Every vendored spec file is one this suite checks, so a new file cannot drift unnoticed."""
    assert sorted(p.name for p in VENDORED.glob("*.yaml")) == sorted(SPEC_FILES)
