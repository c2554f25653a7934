"""The golden notes give exactly the cards reviewed by hand in tests/golden/expected/."""

from __future__ import annotations

import pytest

from golden import NOTES, cards_text, expected_path


def test_golden_notes_give_their_reviewed_cards() -> None:
    produced = cards_text(NOTES)
    assert produced, "no golden notes"
    for note_path, text in sorted(produced.items()):
        expected = expected_path(note_path)
        if not expected.exists():
            pytest.fail(f"{expected} is missing: run tests/golden.py --update and review it")
        assert text == expected.read_text(encoding="utf-8"), (
            f"{note_path} gives other cards than reviewed; if intended, run "
            "tests/golden.py --update and review the diff"
        )
