"""The whole pipeline on one screen: discover, read, resolve, derive, render, package, report."""

from __future__ import annotations

import gc
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from notedeck import cache
from notedeck.config import Config
from notedeck.decks import (
    DeckFile,
    deck_jobs,
    drop_packages,
    old_packages,
    package_file_name,
    write_packages,
)
from notedeck.files import Staged
from notedeck.identify import CardPlan, build_time, plan_cards
from notedeck.lock import (
    CardChange,
    check_lock_target,
    load_lock,
    removal_search,
    stage_backup,
    stage_lock,
)
from notedeck.model import Card, Diagnostic, Level, Moment, Note
from notedeck.one_build import one_build_at_a_time
from notedeck.package import notetype_shapes
from notedeck.parallel import Workers
from notedeck.refresh import (
    Made,
    duplicate_notes,
    read_diagnostics,
    refresh,
    unchanged_records,
)
from notedeck.removals import log_path, stage_log
from notedeck.render import RenderedCard, load_templates
from notedeck.work import (
    Context,
    build_note,
    card_style,
    deck_name,
    read_one,
    ready_tools,
    resolve_note,
)

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
    with _fewer_collections(), held:
        try:
            return _build(config, dry_run, collect, on_progress, not_own, use_cache=True)
        except cache.CacheLost:  # part of the cache is gone or broken: it is an empty cache
            return _build(config, dry_run, collect, on_progress, not_own, use_cache=False)


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


def _build(
    config: Config,
    dry_run: bool,
    collect: bool,
    on_progress: Callable[[int, int], None] | None,
    not_own: Diagnostic | None,
    *,
    use_cache: bool,
) -> BuildReport:
    templates = load_templates(config.templates_dir)
    key = cache.build_key(config, templates)
    context = Context(config, key, templates.digest)
    shapes = notetype_shapes(templates)
    found = scan_notes(config.notes_dir)
    had_packages = config.out_dir.is_dir() and any(config.out_dir.glob("*.apkg"))
    diagnostics: list[Diagnostic] = []
    if not_own is not None:
        diagnostics.append(not_own)
        use_cache = False
    index = cache.load_index(config, key) if use_cache else cache.Index()
    if index.lock_signature != cache.file_signature(config.lock_file):
        index = cache.Index()  # a lock this cache did not write: trust nothing it says
    # The notes of a folder that cannot be listed are still there, unread: never deleted.
    rels = sorted({*found.rels, *_under(index.records, found.unlisted)})
    old = index.records

    with Workers(config.jobs) as workers:
        stale, records = unchanged_records(rels, config.notes_dir, old)
        if stale:
            ready_tools(context, templates)
        details = cache.Details(config, key, records)  # sees the records as refresh fills them
        made = refresh(
            stale, records, old, details, context, workers, dry_run, collect, on_progress
        )
        # Read only now: workers forked earlier would each hold a large lock's pages.
        known = index.lock_spans if index.lock_signature is not None else None
        lock, lock_diagnostics = load_lock(config.lock_file, had_packages=had_packages, known=known)
        _keep_unlisted(records, lock.spans, found.unlisted)
        staged: list[Staged] = []
        try:
            # The lock file stays open until the new one is written, and is closed before
            # it is moved in (Windows cannot replace a file that is open).
            with lock:
                excluded = duplicate_notes(records, diagnostics)
                for rel in excluded.symmetric_difference(r for r in old if old[r].excluded):
                    if rel in records:
                        records[rel] = replace(records[rel], excluded=rel in excluded)
                plan = plan_cards(records, old, made, lock, excluded, shapes, context, details)
                decks, jobs, deck_diagnostics = deck_jobs(plan, records, old, context)
                gone_packages = [] if dry_run else old_packages(index.packages, decks)
                if not dry_run:

                    def stage_outputs() -> None:  # runs while the workers write the packages
                        staged.extend(
                            _stage_outputs(config, key, index, records, plan, decks, diagnostics)
                        )

                    write_packages(jobs, context, workers, stage_outputs)
            # Moved in only once every package is: a crash leaves the old lock.
            for file in staged:
                file.commit()
        finally:
            for file in staged:
                file.discard()
    diagnostics[:0] = [
        *found.diagnostics,
        *(d for r in records.values() for d in read_diagnostics(r)),
    ]
    diagnostics += [d for r in records.values() for d in r.time_diagnostics]
    diagnostics += [*lock_diagnostics, *plan.diagnostics, *deck_diagnostics]
    diagnostics += drop_packages(gone_packages)
    kept = [r for r in records.values() if r.readable and r.rel not in excluded]
    cards, rendered = collect_cards(kept, made, plan, context, details) if collect else ((), ())
    kinds: Counter[str] = Counter()
    for r in kept:
        for kind, count in r.kinds:
            kinds[kind] += count
    return BuildReport(
        notes=len(kept),
        card_count=sum(kinds.values()),
        kinds=dict(sorted(kinds.items())),
        decks=decks,
        diagnostics=tuple(d for d in diagnostics if not config.silenced(d.code)),
        added=plan.planner.added,
        changed=plan.planner.changed,
        renamed=tuple(plan.planner.renamed),
        removed=tuple({"guid": c.guid, "key": c.key, "path": c.path} for c in plan.removed),
        extra={"removed_search": removal_search(plan.removed, shapes)},
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


def collect_cards(
    kept: Sequence[cache.NoteRecord],
    made: Made,
    plan: CardPlan,
    context: Context,
    details: cache.Details,
) -> tuple[tuple[Card, ...], tuple[RenderedCard, ...]]:
    """Every card of the kept notes, with the GUIDs this build gives them: those built
    now as they came, the others from the cache (or derived again if it lacks them)."""
    config, key = context.config, context.key
    shards: dict[str, cache.Stored[cache.NoteCards]] = {}
    derived: dict[str, cache.Stored[cache.Derived]] = {}
    cards: list[Card] = []
    rendered: list[RenderedCard] = []
    for record in kept:
        rel = record.rel
        shard = cache.shard_of(rel)
        if shard not in shards:
            shards[shard] = cache.load_shard(cache.shard_path(config, shard), key)
            derived[shard] = cache.load_derived(cache.derived_path(config, shard), key)
        note_cards = made.cards.get(rel)
        stored = derived[shard].get(rel)
        if (
            note_cards is None
            and stored
            and (stored.sha, stored.moments) == (record.sha, details.moments(rel))
        ):
            note_cards = stored.cards
        made_now = made.rendered.get(rel) or shards[shard].get(rel)
        if note_cards is None or made_now is None:
            again = build_note(context, rel, details.moments(rel))
            note_cards, made_now = again.cards, again.made
        if note_cards is None or made_now is None:
            continue
        cards.extend(note_cards)
        for r in made_now.rendered:
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
    for _rel, _mtime, _size, _sha, note, error in map(partial(read_one, root), paths):
        if note is not None:
            notes.append(note)
            diagnostics.extend(note.diagnostics)
        if error is not None:
            diagnostics.append(error)
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
