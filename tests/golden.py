"""Golden cards: each note in tests/golden/ beside the cards it must give, as reviewable text.

Regenerate after an intended change with one explicit command, then review the diff:

    .venv/bin/python tests/golden.py --update && git diff tests/golden
"""

from __future__ import annotations

import re
import sys
import tempfile
from html import unescape
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTES = HERE / "golden" / "notes"
EXPECTED = HERE / "golden" / "expected"


def cards_text(notes: Path) -> dict[str, str]:
    """Every note's cards as plain text: kind, key, question, answer lines with moments."""
    from notedeck.build import build
    from notedeck.config import Config

    with tempfile.TemporaryDirectory() as out:
        report = build(Config(notes_dir=notes, out_dir=Path(out)), dry_run=True)
    by_note: dict[str, list[str]] = {
        p.relative_to(notes).as_posix(): [] for p in sorted(notes.rglob("*.md"))
    }
    for card in report.cards:
        lines = [f"## {card.kind.value}  {card.key}", f"Q: {_text(card.question)}"]
        if card.section:
            lines.insert(1, f"in: {card.section}")
        for line in card.answer:
            moments = " ".join(m.label for m in line.moments)
            shown = _text(line.html)
            lines.append(f"A: {shown}" + (f"  [{moments}]" if moments else ""))
        lines.append(f"why: {card.why}")
        by_note.setdefault(card.note_path, []).append("\n".join(lines))
    return {
        path: ("\n\n".join(blocks) if blocks else "(no cards)") + "\n"
        for path, blocks in by_note.items()
    }


def _text(fragment: str) -> str:
    return unescape(re.sub(r"<[^>]+>", "", fragment))


def expected_path(note_path: str) -> Path:
    return EXPECTED / (note_path.removesuffix(".md") + ".cards.txt")


def update() -> None:
    for path, text in cards_text(NOTES).items():
        target = expected_path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"wrote {target.relative_to(HERE.parent)}")


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent / "src"))
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: tests/golden.py --update   (then review: git diff tests/golden)")
    update()
