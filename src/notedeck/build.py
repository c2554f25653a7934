"""The whole pipeline on one screen: discover, read, resolve, derive, render, package, report."""

from __future__ import annotations

import hashlib
import os
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from notedeck import cache
from notedeck.config import Config
from notedeck.derive import Style, derive_cards
from notedeck.errors import NoteError
from notedeck.lock import Update, load_lock, plan_update, removal_search, save_lock
from notedeck.model import Card, Diagnostic, Level, Moment, Note
from notedeck.package import (
    NotetypeShape,
    media_names,
    notetype_shapes,
    package_bytes,
    write_atomically,
)
from notedeck.parallel import map_in_order
from notedeck.questions import QuestionPattern, load_patterns
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


def build(
    config: Config, *, dry_run: bool = False, on_progress: Callable[[int, int], None] | None = None
) -> BuildReport:
    """Build every deck of the notes folder; one bad note never stops the others.

    Notes unchanged since the last build (same bytes, same settings and templates) are
    taken from the cache; `on_progress(done, total)` follows the notes being worked on.
    """
    templates = load_templates(config.templates_dir)
    patterns = load_patterns(config.questions_file or templates.questions)
    style = card_style(config, templates, patterns)
    key = cache.build_key(config, templates)
    paths = discover(config.notes_dir)
    old = cache.load(config, key)
    records = refresh(paths, config, old, templates, style, on_progress)
    if not dry_run:  # a dry run (and `check`) writes nothing, not even the cache
        cache.save(config, key, records, changed_shards(old, records))
    diagnostics = [d for r in records.values() for d in read_diagnostics(r)]
    diagnostics += [d for r in records.values() for d in r.time_diagnostics]
    kept_records = _unique_note_keys(records, diagnostics)
    notes = [r.note for r in kept_records if r.note is not None]
    cards = [card for r in kept_records for card in r.cards]
    rendered = [card for r in kept_records for card in r.rendered]
    media = {name: Path(source) for note in notes for name, source in note.media}
    unread = {p.relative_to(config.notes_dir).as_posix() for p in paths} - {n.path for n in notes}
    shapes = notetype_shapes(templates)
    update = compare_with_lock(cards, rendered, shapes, config, unread, diagnostics)
    decks = write_decks(
        update.cards,
        templates,
        config,
        dry_run=dry_run,
        update=update,
        media=media,
        cache_key=key,
    )
    if not dry_run:  # only once every package is written: a crash leaves the old lock
        save_lock(config.lock_file, update.lock)
    kept = tuple(d for d in diagnostics if d.code not in config.silence)
    removed = tuple(
        {"guid": c.guid, "key": c.key, "path": c.path, "title": c.title} for c in update.removed
    )
    search = removal_search(update.removed, shapes)
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


def _unique_note_keys(
    records: Mapping[str, cache.NoteRecord], diagnostics: list[Diagnostic]
) -> list[cache.NoteRecord]:
    """The records whose note key no earlier note has: two notes with one frontmatter `id`
    would share every card identity, so the second one is an error and gives no cards."""
    owner: dict[str, str] = {}
    kept = []
    for record in records.values():
        note = record.note
        if note is not None and note.key in owner:
            diagnostics.append(
                Diagnostic(
                    Level.ERROR,
                    "note.duplicate-id",
                    note.path,
                    1,
                    f"the id '{note.key}' is also the id of {owner[note.key]}; "
                    "give each note its own `id:` in the frontmatter.",
                )
            )
            continue
        if note is not None:
            owner[note.key] = note.path
        kept.append(record)
    return kept


def compare_with_lock(
    cards: Sequence[Card],
    rendered: Sequence[RenderedCard],
    shapes: tuple[NotetypeShape, ...],
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
        shapes,
        lock,
        build_time(),
        unread=unread,
        where=str(config.lock_file),
    )
    diagnostics += [*lock_diagnostics, *update.diagnostics]
    return update


_RACY_NS = 2_000_000_000


def refresh(
    paths: Sequence[Path],
    config: Config,
    old: Mapping[str, cache.NoteRecord],
    templates: Templates,
    style: Style,
    on_progress: Callable[[int, int], None] | None = None,
) -> dict[str, cache.NoteRecord]:
    """A record per note, in discovery order: reused from `old` when nothing it depends on
    changed (its bytes, and the timestamps of the other notes of its video), else rebuilt."""
    root = config.notes_dir
    kept: dict[str, cache.NoteRecord] = {}
    to_read: list[Path] = []
    for path in paths:
        rel = path.relative_to(root).as_posix()
        record = old.get(rel)
        try:
            st = path.stat()
        except OSError:
            record = None
        else:
            if record is not None and (record.mtime_ns, record.size) == (
                st.st_mtime_ns,
                st.st_size,
            ):
                kept[rel] = record
                continue
        to_read.append(path)
    done = [0]
    total = len(to_read)

    def tick(n: int) -> None:
        done[0] += n
        if on_progress:
            on_progress(done[0], total)

    fresh = map_in_order(partial(read_one, root), to_read, config.jobs, tick)
    now_ns = time.time_ns()
    for rel, mtime_ns, size, sha, note, error in fresh:
        # A file read within a moment of its last change may change again with the same
        # size inside the file system's timestamp granularity: don't vouch for it by its
        # stat next time, compare its bytes (git's "racily clean" rule).
        if now_ns - mtime_ns < _RACY_NS:
            mtime_ns = 0
        previous = old.get(rel)
        if previous is not None and previous.sha == sha:
            kept[rel] = replace(previous, mtime_ns=mtime_ns, size=size, note=note)
        else:
            kept[rel] = cache.NoteRecord(
                rel, mtime_ns, size, sha, note, error, cache.evidence_of(note), (), (), (), (), ()
            )
    order = [p.relative_to(root).as_posix() for p in paths]
    records = {rel: kept[rel] for rel in order if rel in kept}

    by_video: dict[str, list[str]] = defaultdict(list)
    for rel, r in records.items():
        if r.note is not None and r.note.video_id:
            by_video[r.note.video_id].append(rel)
    stale: list[str] = []
    for rel, r in records.items():
        if r.note is None:
            continue
        group = by_video.get(r.note.video_id or "", [])
        siblings = tuple(sorted(records[s].evidence for s in group if s != rel))
        if siblings != r.siblings or rel not in old or old[rel].sha != r.sha:
            records[rel] = replace(r, siblings=siblings)
            stale.append(rel)
    if not stale:
        return _without_bodies(records)
    # The cache keeps notes without their body: a cached note whose cards are derived
    # again (a sibling's timestamps changed) is read again.
    read_now = {entry[0] for entry in fresh}
    again = [root / rel for rel in stale if rel not in read_now and records[rel].note is not None]
    for rel, _mtime_ns, _size, _sha, note, error in map(partial(read_one, root), again):
        records[rel] = replace(records[rel], note=note, error=error)
    stale = [rel for rel in stale if records[rel].note is not None]
    stale_notes = [n for n in (records[rel].note for rel in stale) if n is not None]
    if not stale_notes:
        return _without_bodies(records)
    notes = [r.note for r in records.values() if r.note is not None]
    moments, time_diagnostics = resolve_moments(notes, config, only={n.key for n in stale_notes})
    jobs = [(note, moments[note.key]) for note in stale_notes]
    total += len(jobs)
    _TOOLS[_tools_key(config, templates)] = (templates, style)
    made = map_in_order(
        partial(derive_one, _tools_key(config, templates), config), jobs, config.jobs, tick
    )
    for rel, note, (cards, rendered) in zip(stale, stale_notes, made, strict=True):
        records[rel] = replace(
            records[rel],
            moments=moments[note.key],
            cards=cards,
            rendered=rendered,
            time_diagnostics=tuple(time_diagnostics.get(note.key, ())),
        )
    return _without_bodies(records)


def _without_bodies(records: dict[str, cache.NoteRecord]) -> dict[str, cache.NoteRecord]:
    """Let go of the notes' sections once their cards are made: the rest of the build
    needs only their paths, media and diagnostics, and a large vault's sections are big."""
    for rel, record in records.items():
        slim = cache.without_body(record.note)
        if slim is not record.note:
            records[rel] = replace(record, note=slim)
    return records


def read_diagnostics(record: cache.NoteRecord) -> tuple[Diagnostic, ...]:
    if record.error is not None:
        return (record.error,)
    return record.note.diagnostics if record.note is not None else ()


def read_one(root: Path, path: Path) -> tuple[str, int, int, str, Note | None, Diagnostic | None]:
    """Read one note for the cache: its signature, the Note, or why it cannot be read."""
    rel = path.relative_to(root).as_posix()
    try:
        st = path.stat()
        data: bytes | None = path.read_bytes()
        mtime_ns, size = st.st_mtime_ns, st.st_size
    except OSError:
        data, mtime_ns, size = None, 0, 0  # read_note says why, with the note's path
    sha = hashlib.sha256(data or b"").hexdigest()
    try:
        return rel, mtime_ns, size, sha, read_note(path, root, data), None
    except NoteError as exc:
        error = Diagnostic(Level.ERROR, exc.code, exc.path, exc.line, exc.message)
    except Exception as exc:  # a notedeck bug on one note must not stop the whole vault
        error = Diagnostic(
            Level.ERROR,
            "note.internal",
            rel,
            1,
            f"notedeck could not read this note ({type(exc).__name__}: {exc}); "
            "please report it with the note attached.",
        )
    return rel, mtime_ns, size, sha, None, error


# The templates and card style of this process, by (configuration, templates digest):
# the main process fills it; a worker started by fork inherits it, any other loads them.
_TOOLS: dict[tuple[Config, str], tuple[Templates, Style]] = {}


def _tools_key(config: Config, templates: Templates) -> tuple[Config, str]:
    return (config, templates.digest)


def card_style(
    config: Config, templates: Templates, patterns: tuple[QuestionPattern, ...]
) -> Style:
    """What shapes the cards, from the settings and the templates folder."""
    return Style(
        patterns=patterns,
        fillers=templates.fillers,
        kinds=config.card_kinds,
        answer_words=config.answer_words,
        cloze_per_section=config.cloze_per_section,
        extra_tags=config.extra_tags,
    )


def derive_one(
    tools_key: tuple[Config, str], config: Config, job: tuple[Note, tuple[Moment | None, ...]]
) -> tuple[tuple[Card, ...], tuple[RenderedCard, ...]]:
    """Derive and render the cards of one note."""
    tools = _TOOLS.get(tools_key)
    if tools is None:
        templates = load_templates(config.templates_dir)
        patterns = load_patterns(config.questions_file or templates.questions)
        style = card_style(config, templates, patterns)
        tools = _TOOLS[tools_key] = (templates, style)
    templates, style = tools
    note, moments = job
    cards = derive_cards(note, moments, style)
    rendered = tuple(render_card(c, deck_name(c, config), templates, config.vault) for c in cards)
    return cards, rendered


def changed_shards(
    old: Mapping[str, cache.NoteRecord], new: Mapping[str, cache.NoteRecord]
) -> set[str]:
    """The cache files to rewrite: those with a note added, removed or rebuilt."""
    out = set()
    for rel in old.keys() | new.keys():
        if old.get(rel) is not new.get(rel):
            out.add(cache.shard_of(rel))
    return out


def discover(root: Path) -> list[Path]:
    """Every Markdown note under `root`, in a stable order; hidden folders are skipped."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(folder) / f for f in files if f.endswith(".md") and not f.startswith("."))
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def read_notes(paths: Sequence[Path], root: Path) -> tuple[list[Note], list[Diagnostic]]:
    """Every note that can be read, and the problems of all of them (no cache)."""
    notes: list[Note] = []
    diagnostics: list[Diagnostic] = []
    for _rel, _mtime, _size, _sha, note, error in map(partial(read_one, root), paths):
        if note is not None:
            notes.append(note)
            diagnostics.extend(note.diagnostics)
        if error is not None:
            diagnostics.append(error)
    return notes, diagnostics


def resolve_moments(
    notes: Sequence[Note], config: Config, only: set[str] | None = None
) -> tuple[dict[str, tuple[Moment | None, ...]], dict[str, list[Diagnostic]]]:
    """Read every note's timestamps (or those of the notes keyed in `only`), using the
    other notes of the same video as evidence."""
    by_video: dict[str, list[Note]] = defaultdict(list)
    for note in notes:
        if note.video_id:
            by_video[note.video_id].append(note)
    out: dict[str, tuple[Moment | None, ...]] = {}
    diagnostics: dict[str, list[Diagnostic]] = defaultdict(list)
    for note in notes:
        if only is not None and note.key not in only:
            continue
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
            diagnostics[note.key].append(
                Diagnostic(
                    Level.WARNING,
                    "timestamp.garbled",
                    note.path,
                    note.clocks[0].line,
                    f"{result.reason} Write the times as H:MM:SS from the start of the "
                    "video (e.g. 0:04:31) to silence this.",
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
    cache_key: str = "",
) -> tuple[DeckFile, ...]:
    """One .apkg per top-level deck, with the mod times `update` gives each card; a
    package whose content is all as last written (and still on disk) is not built again."""
    by_top: dict[str, list[RenderedCard]] = defaultdict(list)
    for card in rendered:
        by_top[card.deck.split("::", 1)[0]].append(card)
    written = cache.load_deck_signatures(config, cache_key) if cache_key else {}
    signatures: dict[str, str] = {}
    files = []
    for top in sorted(by_top):
        cards = sorted(by_top[top], key=lambda c: c.key)
        path = config.out_dir / f"{package_file_name(top)}.apkg"
        if not dry_run:
            have = media or {}
            shown = {n: have[n].read_bytes() for n in media_names(cards) if n in have}
            mods = {c.guid: update.note_mods[c.guid] for c in cards}
            signature = cache.deck_signature(cards, templates, shown, mods, update.model_mods)
            if written.get(str(path)) != signature or not path.is_file():
                data = package_bytes(cards, templates, mods, update.model_mods, media=shown)
                write_atomically(path, data)
            signatures[str(path)] = signature
        files.append(DeckFile(top, path, len(cards)))
    if cache_key and not dry_run:
        cache.save_deck_signatures(config, cache_key, signatures)
    return tuple(files)


def package_file_name(deck: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in deck).strip("._")
    return safe or "deck"
