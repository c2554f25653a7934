"""The golden notes give exactly the cards reviewed by hand in tests/golden/expected/."""

from __future__ import annotations

import functools

import pytest

from golden import NOTES, cards_text, expected_path


@functools.cache
def _produced() -> dict[str, str]:
    return cards_text(NOTES)


@pytest.mark.parametrize(
    "note_path", sorted(p.relative_to(NOTES).as_posix() for p in NOTES.rglob("*.md"))
)
def test_golden_note_gives_its_reviewed_cards(note_path: str) -> None:
    expected = expected_path(note_path)
    if not expected.exists():
        pytest.fail(f"{expected} is missing: run tests/golden.py --update and review it")
    assert _produced()[note_path] == expected.read_text(encoding="utf-8"), (
        f"{note_path} gives other cards than reviewed; if intended, run "
        "tests/golden.py --update and review the diff"
    )
