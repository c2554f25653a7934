"""The cards of a few notes, built on their own: what `notedeck cards NOTE` shows.

A build reads every note of the vault; showing one note's cards needs only that note and
the other notes of its video (their timestamps are the evidence that repairs a garbled
one). Those are found by the `videoId` line of each note's frontmatter, read from the
first few kilobytes of each file, so a vault of 18,000 notes answers in well under a
second.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from notedeck.anki.files import read_capped
from notedeck.anki.render import load_templates
from notedeck.build import scan_notes
from notedeck.cards.derive import explain_cards
from notedeck.cards.questions import load_patterns
from notedeck.cards.writer import Skipped
from notedeck.config import Config
from notedeck.errors import NoteError
from notedeck.incremental.workers import card_style, resolve_note
from notedeck.model import Card, Diagnostic, Level, Note
from notedeck.reading.read import read_note

_HEAD_BYTES = 4096  # frontmatter sits at the top of a note
_VIDEO_ID = re.compile(rb"^video_?[Ii]d:\s*[\"']?([\w-]{11})\b", re.MULTILINE)


def cards_of_notes(
    config: Config, rels: Iterable[str]
) -> tuple[list[Card], list[Diagnostic], dict[str, tuple[Skipped, ...]]]:
    """The cards of the notes at `rels` (paths under the notes folder), their diagnostics,
    and the sentences each left out: the cards a build would make of them."""
    templates = load_templates(config.templates_dir)
    style = card_style(
        config, templates, load_patterns(config.questions_file or templates.questions)
    )
    notes: list[Note] = []
    diagnostics: list[Diagnostic] = []
    for rel in sorted(rels):
        try:
            note = read_note(config.notes_dir / rel, config.notes_dir)
        except NoteError as exc:
            diagnostics.append(Diagnostic(Level.ERROR, exc.code, exc.path, exc.line, exc.message))
            continue
        notes.append(note)
        diagnostics.extend(note.diagnostics)
    siblings = _siblings(config.notes_dir, {n.video_id for n in notes if n.video_id}, notes)
    cards: list[Card] = []
    skipped: dict[str, tuple[Skipped, ...]] = {}
    for note in notes:
        others = [s for s in siblings.get(note.video_id or "", ()) if s.path != note.path]
        durations = [s.duration for s in others if s.duration]
        moments, found = resolve_note(note, others, durations, config)
        diagnostics.extend(found)
        made, left = explain_cards(note, moments, style)
        cards.extend(made)
        skipped[note.path] = left
    return cards, diagnostics, skipped


def _siblings(root: Path, videos: set[str], known: Sequence[Note]) -> dict[str, list[Note]]:
    """Every note of the vault whose video is one of `videos`, read whole."""
    found: dict[str, list[Note]] = {}
    if not videos:
        return found
    by_path = {n.path: n for n in known}
    wanted = {v.encode() for v in videos}
    for rel in scan_notes(root).rels:
        note = by_path.get(rel)
        if note is None:
            try:
                head, _stat, _more = read_capped(root / rel, _HEAD_BYTES)
            except OSError:
                continue
            m = _VIDEO_ID.search(head)
            if m is None or m.group(1) not in wanted:
                continue
            try:
                note = read_note(root / rel, root)
            except NoteError:
                continue
        if note.video_id in videos:
            found.setdefault(note.video_id, []).append(note)
    return found
