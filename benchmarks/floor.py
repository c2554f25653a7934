"""Yardstick: the least any notes-to-Anki tool must do, timed on a vault of Markdown notes."""

# For every note (sorted): load frontmatter, split the body at `##`/`###` headings, render
# each section with Python-Markdown, make one front/back note per section (heading ->
# rendered HTML), one deck per top-level folder, and write everything as one .apkg.
# No link resolution, no timestamp repair, no caching, no validation: a floor, not a tool.
#
#     python benchmarks/floor.py VAULT OUT.apkg

from __future__ import annotations

import argparse
import hashlib
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import frontmatter
import genanki
import markdown

# Fixed ids so repeated runs produce comparable packages; the values mean nothing.
MODEL_ID = 1_607_392_319
MODEL = genanki.Model(
    MODEL_ID,
    "floor basic",
    fields=[{"name": "Front"}, {"name": "Back"}],
    templates=[
        {
            "name": "Card 1",
            "qfmt": "{{Front}}",
            "afmt": '{{FrontSide}}<hr id="answer">{{Back}}',
        }
    ],
)
FENCES = ("```", "~~~")
# Note and card ids count up from this; a constant keeps the output free of the clock.
FIXED_TIMESTAMP = 1_700_000_000.0


def note_paths(vault: Path) -> list[Path]:
    """Every `*.md` under `vault`, in the order of their relative POSIX paths."""
    return sorted(vault.rglob("*.md"), key=lambda p: p.relative_to(vault).as_posix())


def split_sections(body: str) -> Iterator[tuple[str, str]]:
    """Yield (heading, text) for each `##`/`###` section; text before the first is dropped.

    Fence-aware, because a `## ` line inside a code block is code, not a heading.
    """
    heading: str | None = None
    lines: list[str] = []
    in_fence = False
    for line in body.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(FENCES):
            in_fence = not in_fence
        elif not in_fence and (line.startswith("## ") or line.startswith("### ")):
            if heading is not None:
                yield heading, "\n".join(lines)
            heading = line.lstrip("#").strip()
            lines = []
            continue
        lines.append(line)
    if heading is not None:
        yield heading, "\n".join(lines)


def stable_id(text: str) -> int:
    """A deck id derived from a name, so the same folder gets the same deck every run."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:6], "big") | (1 << 30)


def build_decks(vault: Path) -> tuple[list[genanki.Deck], int]:
    """One deck per top-level folder (notes at the root go to a deck named after the vault)."""
    decks: dict[str, genanki.Deck] = {}
    md = markdown.Markdown()
    skipped = 0
    for path in note_paths(vault):
        rel = path.relative_to(vault)
        deck_name = rel.parts[0] if len(rel.parts) > 1 else vault.name
        try:
            post = frontmatter.load(path)
        except Exception:  # a broken note is skipped, never fatal: one bad note is normal
            skipped += 1
            continue
        deck = decks.get(deck_name)
        if deck is None:
            deck = decks[deck_name] = genanki.Deck(stable_id(deck_name), deck_name)
        for index, (heading, text) in enumerate(split_sections(post.content)):
            html = md.reset().convert(text)
            deck.add_note(
                genanki.Note(
                    model=MODEL,
                    fields=[heading, html],
                    guid=genanki.guid_for(rel.as_posix(), index),
                )
            )
    return list(decks.values()), skipped


def main() -> None:
    """Build the floor package for VAULT into OUT.apkg and print notes, cards and seconds."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("vault", type=Path)
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    if not args.vault.is_dir():
        parser.error(f"{args.vault} is not a folder")

    # genanki warns per field about HTML it cannot parse; real notes have plenty.
    warnings.filterwarnings("ignore", category=UserWarning, module="genanki")
    start = time.perf_counter()
    # genanki's write_to_file leaves its SQLite file in the temp dir; keep it in ours.
    private_tmp = tempfile.mkdtemp(prefix="floor-")
    saved_tempdir = tempfile.tempdir
    tempfile.tempdir = private_tmp
    try:
        decks, skipped = build_decks(args.vault)
        genanki.Package(decks).write_to_file(str(args.out), timestamp=FIXED_TIMESTAMP)
    finally:
        tempfile.tempdir = saved_tempdir
        shutil.rmtree(private_tmp, ignore_errors=True)
    seconds = time.perf_counter() - start

    notes = sum(len(deck.notes) for deck in decks)
    cards = sum(len(note.cards) for deck in decks for note in deck.notes)
    print(f"notes {notes}  cards {cards}  seconds {seconds:.2f}  decks {len(decks)}", end="")
    print(f"  skipped {skipped}" if skipped else "")


if __name__ == "__main__":
    main()
