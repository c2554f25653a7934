"""The whole pipeline on one screen: find, read, timestamps, cards, identify, package, report."""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from notedeck.anki.decks import (
    DeckFile,
    deck_jobs,
    drop_packages,
    old_packages,
    package_file_name,
    write_packages,
)
from notedeck.anki.files import Staged
from notedeck.anki.package import NotetypeShape, notetype_shapes
from notedeck.anki.render import RenderedCard, load_templates
from notedeck.config import Config
from notedeck.incremental import cache
from notedeck.incremental.identify import CardPlan, build_time, plan_cards
from notedeck.incremental.lock import (
    CardChange,
    LockFile,
    check_lock_target,
    load_lock,
    removal_search,
    stage_backup,
    stage_lock,
)
from notedeck.incremental.one_build import one_build_at_a_time
from notedeck.incremental.parallel import Workers
from notedeck.incremental.refresh import (
    NewCards,
    Progress,
    Timing,
    duplicate_notes,
    make_all_cards,
    read_changed,
    resolve_timestamps,
    unchanged_records,
)
from notedeck.incremental.removals import log_path, stage_log
from notedeck.incremental.workers import (
    Context,
    card_style,
    deck_name,
    read_one,
    ready_tools,
    resolve_note,
)
from notedeck.model import Card, Diagnostic, Level, Moment, Note

__all__ = [
    "BuildReport",
    "DeckFile",
    "build",
    "build_time",
    "card_style",
    "deck_name",
    "discover",
    "package_file_name",
]


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build read, made and wrote, and every problem it met."""

    notes: int
    card_count: int
    kinds: dict[str, int]
    decks: tuple[DeckFile, ...]
    diagnostics: tuple[Diagnostic, ...]
    added: Sequence[CardChange] = ()
    changed: Sequence[CardChange] = ()
    renamed: tuple[tuple[str, CardChange], ...] = ()  # (old key, card)
    removed: tuple[dict[str, str], ...] = ()
    extra: dict[str, object] = field(default_factory=dict)
    # Every card, when the build was asked to collect them (tests, `cards`, `preview`).
    cards: tuple[Card, ...] = ()
    rendered: tuple[RenderedCard, ...] = ()

    @property
    def errors(self) -> int:
        return sum(1 for d in self.diagnostics if d.level is Level.ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for d in self.diagnostics if d.level is Level.WARNING)


def build(
    config: Config,
    *,
    dry_run: bool = False,
    collect: bool = True,
    on_progress: Callable[[int, int], None] | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> BuildReport:
    """Build every deck of the notes folder; one bad note never stops the others.

    Notes unchanged since the last build (same bytes, same settings and templates) are
    taken from the cache, and only the packages whose cards changed are written again.
    `collect` puts every card in the report; `on_progress(done, total)` follows the notes.
    A build that writes waits for any other build of the project to finish, after
    calling `on_wait(who)`; a dry run reads only and never waits.
    """
    if not dry_run:
        check_lock_target(config.lock_file)  # never written over a file of the user's
    # Only a folder notedeck made is its cache: anything else is neither read nor written.
    not_own = None if dry_run else cache.claim_folder(config)
    held: AbstractContextManager[None] = (
        nullcontext() if dry_run else one_build_at_a_time(cache.build_lock(config), on_wait)
    )
    run = partial(pipeline, dry_run=dry_run, collect=collect, on_progress=on_progress)
    with _fewer_collections(), held:
        if dry_run or cache.owns(cache.cache_folder(config)):
            try:
                return run(config, not_own, use_cache=True)
            except cache.CacheLost:  # part of the cache is gone or broken: an empty cache
                pass
            try:
                return run(config, not_own, use_cache=False)
            except cache.CacheLost:  # the cache folder takes nothing more (a full disk)
                pass
        # A cache that cannot be written: one of this build's own, deleted when it ends.
        with _private_cache(config) as private:
            return run(private, not_own, use_cache=False)


@contextmanager
def _private_cache(config: Config) -> Iterator[Config]:
    folder = Path(tempfile.mkdtemp(prefix="notedeck-cache-"))
    try:
        private = replace(config, cache_dir=folder)
        cache.claim_folder(private)
        yield private
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Collect garbage less often while building (workers forked meanwhile inherit it).
    A build makes millions of short-lived objects beside large long-lived ones (records,
    loaded shards) that every collection walks again; at Python's default of one young
    collection per 700 allocations that was 5% of a build, measured on 1,000 notes."""
    before = gc.get_threshold()
    gc.set_threshold(50_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def pipeline(
    config: Config,
    not_own: Diagnostic | None,
    *,
    dry_run: bool,
    collect: bool,
    on_progress: Callable[[int, int], None] | None,
    use_cache: bool,
) -> BuildReport:
    """The stages of a build, in order, each a function of what the ones before gave:
    find the notes (and those changed since the last build), read those, work out their
    timestamps with every other note of their video known, make their cards (derive,
    render, stamp), identify every card against the lock, write the packages, report.
    A note goes through read, timestamps and cards once; one unchanged since the last
    build skips them (its record and cards come from the cache), unless a sibling's
    edit moves its moments."""
    templates = load_templates(config.templates_dir)
    context = Context(config, cache.build_key(config, templates), templates.digest)
    found = scan_notes(config.notes_dir)
    last = _last_build(config, context.key, use_cache and not_own is None)
    stale, records = changed_notes(found, last, config)
    with _spill_folder() as spill, Workers(config.jobs) as workers:
        if stale:
            ready_tools(context, templates)
        progress = Progress(len(stale), on_progress)
        read = read_changed(stale, records, last.records, context, workers, spill, progress)
        details = cache.Details(config, context.key, records)  # sees records as they fill
        timings = resolve_timestamps(records, read, last.records, config, details)
        del read  # a vault's worth of records as read: held no longer than needed
        kept_cards: dict[str, tuple[Card, ...]] = {}
        if collect:  # what the report shows: the cards the cache lacks are made too
            kept_cards, missing = cards_to_report(records, timings, context, details)
            timings = {**timings, **missing}
        new = make_all_cards(
            timings, records, last.records, context, workers, spill, not dry_run, collect, progress
        )
        identified = identify(records, new, last, found, notetype_shapes(templates), context)
        written = package(records, identified, last, context, workers, dry_run)
    return report(records, new, kept_cards, found, not_own, identified, written, context, collect)


@contextmanager
def _spill_folder() -> Iterator[Path]:
    """Where the notes read wait for the cards stage: a private folder of this build's."""
    folder = Path(tempfile.mkdtemp(prefix="notedeck-read-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _last_build(config: Config, key: str, use_cache: bool) -> cache.Index:
    """What the last build left in the cache (empty without one)."""
    index = cache.load_index(config, key) if use_cache else cache.Index()
    if index.lock_signature != cache.file_signature(config.lock_file):
        return cache.Index()  # a lock this cache did not write: trust nothing it says
    return index


def changed_notes(
    found: Found, last: cache.Index, config: Config
) -> tuple[list[str], dict[str, cache.NoteRecord]]:
    """The notes to read (new or changed since the last build), and the records of all
    others. The notes of a folder that cannot be listed are still there, unread: never
    deleted."""
    rels = sorted({*found.rels, *_under(last.records, found.unlisted)})
    return unchanged_records(rels, config.notes_dir, last.records)


@dataclass(frozen=True, slots=True)
class Identified:
    """Every card's identity against the lock (held open until the new one is written),
    and the notes left out for an id another note has."""

    plan: CardPlan
    lock: LockFile
    excluded: set[str]
    duplicates: tuple[Diagnostic, ...]
    lock_diagnostics: tuple[Diagnostic, ...]
    shapes: tuple[NotetypeShape, ...]


def identify(
    records: dict[str, cache.NoteRecord],
    new: NewCards,
    last: cache.Index,
    found: Found,
    shapes: tuple[NotetypeShape, ...],
    context: Context,
) -> Identified:
    """Stage identify: the notes whose id another note has are left out; every card of
    the others gets its GUID and mod from the lock (read only now: workers forked
    earlier would each hold a large lock's pages)."""
    config = context.config
    had_packages = config.out_dir.is_dir() and any(config.out_dir.glob("*.apkg"))
    known = last.lock_spans if last.lock_signature is not None else None
    lock, lock_diagnostics = load_lock(config.lock_file, had_packages=had_packages, known=known)
    _keep_unlisted(records, lock.spans, found.unlisted)
    diagnostics: list[Diagnostic] = []
    excluded = duplicate_notes(records, diagnostics)
    for rel in excluded.symmetric_difference(r for r in last.records if last.records[r].excluded):
        if rel in records:
            records[rel] = replace(records[rel], excluded=rel in excluded)
    try:
        plan = plan_cards(records, last.records, new, lock, excluded, shapes, context)
    except BaseException:
        lock.source.close()
        raise
    return Identified(plan, lock, excluded, tuple(diagnostics), tuple(lock_diagnostics), shapes)


@dataclass(frozen=True, slots=True)
class Written:
    """The packages of the build (written, or planned on a dry run), the old ones
    deleted, and what writing them said."""

    decks: tuple[DeckFile, ...]
    log_diagnostics: tuple[Diagnostic, ...]  # from the removal log
    deck_diagnostics: tuple[Diagnostic, ...]  # two decks, one file name; old packages


def package(
    records: dict[str, cache.NoteRecord],
    identified: Identified,
    last: cache.Index,
    context: Context,
    workers: Workers,
    dry_run: bool,
) -> Written:
    """Stage package: one package per deck whose cards changed, written beside its place
    by the workers while the new lock, removal log and cache index are staged; all moved
    in only once every package is (a crash leaves the old lock). Old packages of decks
    that are gone are deleted."""
    config, plan, lock = context.config, identified.plan, identified.lock
    staged: list[Staged] = []
    log_diagnostics: list[Diagnostic] = []
    try:
        # The lock file stays open until the new one is written, and is closed before
        # it is moved in (Windows cannot replace a file that is open).
        with lock:
            decks, jobs, deck_diagnostics = deck_jobs(plan, records, last.records, context)
            gone_packages = [] if dry_run else old_packages(last.packages, decks)
            if not dry_run:

                def stage_outputs() -> None:  # runs while the workers write the packages
                    staged.extend(
                        _stage_outputs(
                            config, context.key, last, records, plan, decks, log_diagnostics
                        )
                    )

                write_packages(jobs, context, workers, stage_outputs)
        for file in staged:
            file.commit()
    finally:
        for file in staged:
            file.discard()
    deck_diagnostics += drop_packages(gone_packages)
    return Written(decks, tuple(log_diagnostics), tuple(deck_diagnostics))


def report(
    records: Mapping[str, cache.NoteRecord],
    new: NewCards,
    kept_cards: Mapping[str, tuple[Card, ...]],
    found: Found,
    not_own: Diagnostic | None,
    identified: Identified,
    written: Written,
    context: Context,
    collect: bool,
) -> BuildReport:
    """Stage report: what the build read, made and wrote, and every problem it met
    (those the settings silence left out)."""
    config, plan = context.config, identified.plan
    diagnostics = [
        *found.diagnostics,
        *(d for r in records.values() for d in r.diagnostics),
        *([not_own] if not_own is not None else []),
        *identified.duplicates,
        *written.log_diagnostics,
        *(d for r in records.values() for d in r.time_diagnostics),
        *identified.lock_diagnostics,
        *plan.diagnostics,
        *written.deck_diagnostics,
    ]
    kept = [r for r in records.values() if r.readable and r.rel not in identified.excluded]
    cards, rendered = collect_cards(kept, new, kept_cards, plan, context) if collect else ((), ())
    kinds: Counter[str] = Counter()
    for r in kept:
        for kind, count in r.kinds:
            kinds[kind] += count
    return BuildReport(
        notes=len(kept),
        card_count=sum(kinds.values()),
        kinds=dict(sorted(kinds.items())),
        decks=written.decks,
        diagnostics=tuple(d for d in diagnostics if not config.silenced(d.code)),
        added=plan.planner.added,
        changed=plan.planner.changed,
        renamed=tuple(plan.planner.renamed),
        removed=tuple({"guid": c.guid, "key": c.key, "path": c.path} for c in plan.removed),
        extra={"removed_search": removal_search(plan.removed, identified.shapes)},
        cards=cards,
        rendered=rendered,
    )


def _under(rels: Iterable[str], folders: Sequence[str]) -> list[str]:
    """The notes of `rels` inside one of `folders` ("" is the notes folder itself)."""
    return [r for r in rels for f in folders if not f or r.startswith(f"{f}/")]


def _keep_unlisted(
    records: dict[str, cache.NoteRecord], locked: Iterable[str], folders: Sequence[str]
) -> None:
    """Notes the lock holds in a folder that cannot be listed, and that no record knows
    (the cache is gone): kept as unreadable, so that the lock keeps their cards and no
    removal is reported for them."""
    missing = [rel for rel in _under(locked, folders) if rel not in records]
    if not missing:
        return
    for rel in missing:
        records[rel] = cache.note_record(rel, (0, -1, ""), None, None, (), ())
    ordered = sorted(records.items())
    records.clear()
    records.update(ordered)


def _stage_outputs(
    config: Config,
    key: str,
    index: cache.Index,
    records: dict[str, cache.NoteRecord],
    plan: CardPlan,
    decks: Sequence[DeckFile],
    diagnostics: list[Diagnostic],
) -> list[Staged]:
    """The removal log, the new lock and the cache index (each when it changed), written
    beside their places. An unchanged vault writes none of them."""
    staged = []
    if plan.lock_changed or not config.lock_file.is_file():
        staged.append(stage_lock(config.lock_file, plan.lock_text))
        backup = stage_backup(config.lock_file) if plan.planner.lock.backup else None
        if backup is not None:
            staged.append(backup)
    else:  # the index below says where the blocks of the file on disk lie: still this one
        plan.planner.lock.check()
    # Moving a file in keeps its size, mtime and inode: the signature of the lock to be.
    signature = cache.file_signature(staged[0].temp if staged else config.lock_file)
    packages = sorted(str(d.path) for d in decks)
    if packages != index.packages or signature != index.lock_signature or records != index.records:
        new = cache.Index(records, signature, packages, plan.lock_text.spans)
        staged_index = cache.stage_index(config, key, new)
        if staged_index is not None:
            staged.append(staged_index)
    # The log goes in first: a build that stops after it and before the lock sees the same
    # cards leave again, and logs them once more (one line a card), never none.
    log = stage_log(log_path(config.lock_file), plan.removed, plan.planner.given, plan.planner.now)
    staged[:0] = log.staged
    diagnostics += log.diagnostics
    return staged


def cards_to_report(
    records: Mapping[str, cache.NoteRecord],
    timings: Mapping[str, Timing],
    context: Context,
    details: cache.Details,
) -> tuple[dict[str, tuple[Card, ...]], dict[str, Timing]]:
    """For a build that reports every card: the cards the cache holds of the notes whose
    cards are not made now, and a timing that makes them for each note whose cards it
    lacks (the last build did not keep them), with its moments as they are."""
    config, key = context.config, context.key
    found: dict[str, tuple[Card, ...]] = {}
    missing: dict[str, Timing] = {}
    by_shard: dict[str, list[str]] = defaultdict(list)
    for rel, record in records.items():
        timing = timings.get(rel)
        if record.readable and (timing is None or not timing.make):
            by_shard[cache.shard_of(rel)].append(rel)
    for shard, rels in sorted(by_shard.items()):
        derived = cache.load_derived(cache.derived_path(config, shard), key)
        rendered = cache.load_shard(cache.shard_path(config, shard), key)
        for rel in rels:
            record = records[rel]
            timing = timings.get(rel)
            moments = timing.moments if timing and timing.moments is not None else None
            if moments is None:
                moments = details.moments(rel)
            stored = derived.get(rel)
            if stored and (stored.sha, stored.moments) == (record.sha, moments) and rel in rendered:
                found[rel] = stored.cards
                continue
            missing[rel] = Timing(
                moments,
                timing.siblings if timing else record.siblings,
                timing.diagnostics if timing else record.time_diagnostics,
                make=True,
            )
    return found, missing


def collect_cards(
    kept: Sequence[cache.NoteRecord],
    new: NewCards,
    kept_cards: Mapping[str, tuple[Card, ...]],
    plan: CardPlan,
    context: Context,
) -> tuple[tuple[Card, ...], tuple[RenderedCard, ...]]:
    """Every card of the kept notes, with the GUIDs this build gives them: those made
    now as they came, the others from the cache (`cards_to_report` made sure it holds
    them)."""
    config, key = context.config, context.key
    shards: dict[str, cache.Stored[cache.NoteCards]] = {}
    cards: list[Card] = []
    rendered: list[RenderedCard] = []
    for record in kept:
        rel = record.rel
        note_cards = new.cards[rel] if rel in new.cards else kept_cards.get(rel)
        note_rendered = new.rendered.get(rel)
        if note_rendered is None:
            shard = cache.shard_of(rel)
            if shard not in shards:
                shards[shard] = cache.load_shard(cache.shard_path(config, shard), key)
            note_rendered = shards[shard].get(rel)
        if note_cards is None or note_rendered is None:
            raise cache.CacheLost(rel)  # gone since it was checked: start again without it
        cards.extend(note_cards)
        for r in note_rendered.rendered:
            guid = plan.guids.get(r.key)
            rendered.append(replace(r, guid=guid) if guid and guid != r.guid else r)
    return tuple(cards), tuple(rendered)


def discover(root: Path) -> list[Path]:
    """Every Markdown note under `root`, in a stable order; hidden folders are skipped."""
    return [root / rel for rel in note_files(root)]


def note_files(root: Path) -> list[str]:
    """The POSIX paths under `root` of every Markdown note, sorted."""
    return scan_notes(root).rels


@dataclass(frozen=True, slots=True)
class Found:
    """The notes of a folder, what was left out and why, and the folders that could not
    be listed (POSIX paths under the notes folder, "" for itself)."""

    rels: list[str]
    diagnostics: list[Diagnostic]
    unlisted: list[str]


def scan_notes(root: Path) -> Found:
    """Every Markdown note under `root`, sorted (os.scandir, not pathlib: this runs before
    every build, over every note of the vault). Hidden entries are skipped, and so are,
    with a diagnostic: a name that is not UTF-8, a link to a file outside the folder (as
    images are), and anything that is not a regular file (a pipe would hang the build)."""
    found: list[str] = []
    diagnostics: list[Diagnostic] = []
    unlisted: list[str] = []
    real_root: list[str] = []  # the folder with its links resolved, once one is met

    def skip(level: Level, code: str, rel: str, message: str) -> None:
        diagnostics.append(Diagnostic(level, code, rel, 1, message))

    def walk(folder: str, prefix: str) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError as exc:
            unlisted.append(prefix.rstrip("/"))
            skip(
                Level.ERROR,
                "folder.unreadable",
                prefix.rstrip("/") or ".",
                f"cannot list this folder ({exc.strerror or exc}); its notes keep their "
                "cards, packages and lock entries as they were: check that you may read it.",
            )
            return
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                name.encode("utf-8")
            except UnicodeEncodeError:
                skip(
                    Level.ERROR,
                    "note.file-name",
                    prefix + printable_name(name),
                    "this name is not valid UTF-8, so it cannot be named in a deck; "
                    "rename it (it is not read until then).",
                )
                continue
            try:
                is_dir = entry.is_dir(follow_symlinks=False)
            except OSError:
                is_dir = False
            if is_dir:
                walk(entry.path, f"{prefix}{name}/")
            elif name.endswith(".md"):
                problem = _not_a_note(entry, real_root, root)
                if problem is None:
                    found.append(prefix + name)
                else:
                    skip(Level.WARNING, problem[0], prefix + name, problem[1])

    walk(str(root), "")
    return Found(sorted(found), diagnostics, unlisted)


def _not_a_note(
    entry: os.DirEntry[str], real_root: list[str], root: Path
) -> tuple[str, str] | None:
    """Why a `.md` entry is not read as a note (code, message), or None. One that cannot
    be looked at is read, and the read says why it fails."""
    try:
        if entry.is_symlink():
            if not real_root:
                real_root.append(os.path.realpath(root))
            target = os.path.realpath(entry.path)
            if os.path.commonpath([real_root[0], target]) != real_root[0]:
                return (
                    "note.outside",
                    f"this is a link to '{printable_name(target)[:120]}', outside the notes "
                    "folder; it is not read: copy the note into the folder instead.",
                )
        if entry.is_file():
            return None
        os.stat(entry.path)  # a broken link: let the read say so
    except (OSError, ValueError):
        return None
    return (
        "note.not-a-file",
        "this is not a regular file (a pipe, a device or a folder); it is not read: "
        "move it out of the notes folder.",
    )


def printable_name(name: str) -> str:
    """A file name as it can be shown: bytes that are not UTF-8 as U+FFFD."""
    return os.fsencode(name).decode("utf-8", "replace")


def read_notes(paths: Sequence[Path], root: Path) -> tuple[list[Note], list[Diagnostic]]:
    """Every note that can be read, and the problems of all of them (no cache)."""
    notes: list[Note] = []
    diagnostics: list[Diagnostic] = []
    for file in map(partial(read_one, root), paths):
        if file.note is not None:
            notes.append(file.note)
            diagnostics.extend(file.note.diagnostics)
        if file.error is not None:
            diagnostics.append(file.error)
    return notes, diagnostics


def resolve_moments(
    notes: Sequence[Note], config: Config
) -> tuple[dict[str, tuple[Moment | None, ...]], dict[str, list[Diagnostic]]]:
    """Every note's moments, with the other notes of its video as evidence (no cache)."""
    by_video: dict[str, list[Note]] = defaultdict(list)
    for note in notes:
        if note.video_id:
            by_video[note.video_id].append(note)
    out: dict[str, tuple[Moment | None, ...]] = {}
    diagnostics: dict[str, list[Diagnostic]] = {}
    for note in notes:
        others = [n for n in by_video.get(note.video_id or "", []) if n is not note]
        durations = [n.duration for n in others if n.duration]
        out[note.key], diagnostics[note.key] = resolve_note(note, others, durations, config)
    return out, diagnostics
