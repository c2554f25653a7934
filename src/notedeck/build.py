"""The whole pipeline on one screen: discover, read, resolve, derive, render, package, report."""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from notedeck.config import Config
from notedeck.derive import Style, derive_cards
from notedeck.errors import NoteError
from notedeck.lock import Update, load_lock, plan_update, removal_search, save_lock
from notedeck.model import Card, Diagnostic, Level, Moment, Note
from notedeck.package import media_names, notetype_shapes, package_bytes, write_atomically
from notedeck.questions import load_patterns
from notedeck.read import read_note
from notedeck.render import RenderedCard, Templates, load_templates, render_card
from notedeck.timestamps import resolve


@dataclass(frozen=True, slots=True)
class DeckFile:
    """One written (or, on a dry run, planned) package."""

    name: str
    path: Path
    cards: int


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build read, made and wrote, and every problem it met."""

    notes: int
    cards: tuple[Card, ...]
    rendered: tuple[RenderedCard, ...]
    decks: tuple[DeckFile, ...]
    diagnostics: tuple[Diagnostic, ...]
    added: tuple[RenderedCard, ...] = ()
    changed: tuple[RenderedCard, ...] = ()
    renamed: tuple[tuple[str, RenderedCard], ...] = ()  # (old key, card)
    removed: tuple[dict[str, str], ...] = ()
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.level is Level.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.level is Level.WARNING)


def build(config: Config, *, dry_run: bool = False) -> BuildReport:
    """Build every deck of the notes folder; one bad note never stops the others."""
    templates = load_templates(config.templates_dir)
    patterns = load_patterns(config.questions_file or templates.questions)
    style = Style(
        patterns=patterns,
        fillers=templates.fillers,
        kinds=config.card_kinds,
        answer_words=config.answer_words,
        cloze_per_section=config.cloze_per_section,
        extra_tags=config.extra_tags,
    )
    paths = discover(config.notes_dir)
    notes, diagnostics = read_notes(paths, config.notes_dir)
    moments, time_diagnostics = resolve_moments(notes, config)
    diagnostics += time_diagnostics
    cards = [card for note in notes for card in derive_cards(note, moments[note.key], style)]
    rendered = [render_card(c, deck_name(c, config), templates, config.vault) for c in cards]
    media = {name: Path(source) for note in notes for name, source in note.media}
    unread = {p.relative_to(config.notes_dir).as_posix() for p in paths} - {n.path for n in notes}
    update = compare_with_lock(cards, rendered, templates, config, unread, diagnostics)
    decks = write_decks(
        update.cards, templates, config, dry_run=dry_run, update=update, media=media
    )
    if not dry_run:  # only once every package is written: a crash leaves the old lock
        save_lock(config.lock_file, update.lock)
    kept = tuple(d for d in diagnostics if d.code not in config.silence)
    removed = tuple(
        {"guid": c.guid, "key": c.key, "path": c.path, "title": c.title} for c in update.removed
    )
    search = removal_search(update.removed, notetype_shapes(templates))
    return BuildReport(
        notes=len(notes),
        cards=tuple(cards),
        rendered=update.cards,
        decks=decks,
        diagnostics=kept,
        added=update.added,
        changed=update.changed,
        renamed=update.renamed,
        removed=removed,
        extra={"removed_search": search},
    )


def compare_with_lock(
    cards: Sequence[Card],
    rendered: Sequence[RenderedCard],
    templates: Templates,
    config: Config,
    unread: set[str],
    diagnostics: list[Diagnostic],
) -> Update:
    """GUIDs, mod times and changes since the lock (see lock.py)."""
    had_packages = config.out_dir.is_dir() and any(config.out_dir.glob("*.apkg"))
    lock, lock_diagnostics = load_lock(config.lock_file, had_packages=had_packages)
    update = plan_update(
        cards,
        rendered,
        notetype_shapes(templates),
        lock,
        build_time(),
        unread=unread,
        where=str(config.lock_file),
    )
    diagnostics += [*lock_diagnostics, *update.diagnostics]
    return update


def discover(root: Path) -> list[Path]:
    """Every Markdown note under `root`, in a stable order; hidden folders are skipped."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(folder) / f for f in files if f.endswith(".md") and not f.startswith("."))
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def read_notes(paths: Sequence[Path], root: Path) -> tuple[list[Note], list[Diagnostic]]:
    notes: list[Note] = []
    diagnostics: list[Diagnostic] = []
    for path in paths:
        try:
            note = read_note(path, root)
        except NoteError as exc:
            diagnostics.append(Diagnostic(Level.ERROR, exc.code, exc.path, exc.line, exc.message))
            continue
        notes.append(note)
        diagnostics.extend(note.diagnostics)
    return notes, diagnostics


def resolve_moments(
    notes: Sequence[Note], config: Config
) -> tuple[dict[str, tuple[Moment | None, ...]], list[Diagnostic]]:
    """Read every note's timestamps, using the other notes of the same video as evidence."""
    by_video: dict[str, list[Note]] = defaultdict(list)
    for note in notes:
        if note.video_id:
            by_video[note.video_id].append(note)
    out: dict[str, tuple[Moment | None, ...]] = {}
    diagnostics: list[Diagnostic] = []
    for note in notes:
        siblings = [n.clocks for n in by_video.get(note.video_id or "", []) if n is not note]
        durations = [n.duration for n in by_video.get(note.video_id or "", []) if n.duration]
        result = resolve(
            note.clocks,
            duration=note.duration or (max(durations) if durations else None),
            siblings=siblings,
            max_seconds=config.max_video_seconds,
        )
        out[note.key] = result.moments
        if result.repaired and note.clocks:
            diagnostics.append(
                Diagnostic(
                    Level.WARNING,
                    "timestamp.garbled",
                    note.path,
                    note.clocks[0].line,
                    result.reason,
                )
            )
    return out, diagnostics


def deck_name(card: Card, config: Config) -> str:
    if config.deck_naming == "single":
        return config.deck_name
    parts = card.deck or (config.root_deck_name,)
    return "::".join(parts)


def build_time() -> int:
    """Seconds since the epoch for new mod times: SOURCE_DATE_EPOCH when set (CI)."""
    import time

    env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if env.isdigit():
        return min(int(env), int(time.time()))
    return int(time.time())


def write_decks(
    rendered: Sequence[RenderedCard],
    templates: Templates,
    config: Config,
    *,
    dry_run: bool,
    update: Update,
    media: Mapping[str, Path] | None = None,
) -> tuple[DeckFile, ...]:
    """One .apkg per top-level deck, with the mod times `update` gives each card."""
    by_top: dict[str, list[RenderedCard]] = defaultdict(list)
    for card in rendered:
        by_top[card.deck.split("::", 1)[0]].append(card)
    files = []
    for top in sorted(by_top):
        cards = sorted(by_top[top], key=lambda c: c.key)
        path = config.out_dir / f"{package_file_name(top)}.apkg"
        if not dry_run:
            have = media or {}
            shown = {n: have[n].read_bytes() for n in media_names(cards) if n in have}
            mods = {c.guid: update.note_mods[c.guid] for c in cards}
            data = package_bytes(cards, templates, mods, update.model_mods, media=shown)
            write_atomically(path, data)
        files.append(DeckFile(top, path, len(cards)))
    return tuple(files)


def package_file_name(deck: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in deck).strip("._")
    return safe or "deck"
