"""The whole pipeline on one screen: discover, read, resolve, derive, render, package, report."""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from notedeck import cache
from notedeck.config import Config
from notedeck.lock import (
    CardChange,
    LockedCard,
    LockFile,
    LockText,
    NotePlan,
    Planner,
    load_lock,
    lock_text,
    plan_notetypes,
    removal_search,
    save_lock,
    unpack_stamps,
)
from notedeck.model import Card, Diagnostic, Level, Moment, Note
from notedeck.package import NotetypeShape, notetype_shapes
from notedeck.parallel import Workers
from notedeck.render import RenderedCard, load_templates
from notedeck.timestamps import seconds_alone
from notedeck.work import (
    Context,
    NoteResult,
    PackageJob,
    ShardJob,
    build_note,
    build_shard,
    card_style,
    deck_name,
    read_one,
    ready_tools,
    resolve_note,
    write_package,
)

__all__ = ["BuildReport", "DeckFile", "build", "card_style", "deck_name", "discover"]


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
) -> BuildReport:
    """Build every deck of the notes folder; one bad note never stops the others.

    Notes unchanged since the last build (same bytes, same settings and templates) are
    taken from the cache, and only the packages whose cards changed are written again.
    `collect` puts every card in the report; `on_progress(done, total)` follows the notes.
    """
    try:
        return _build(config, dry_run, collect, on_progress, use_cache=True)
    except cache.CacheLost:  # part of the cache is gone or broken: it is an empty cache
        return _build(config, dry_run, collect, on_progress, use_cache=False)


def _build(
    config: Config,
    dry_run: bool,
    collect: bool,
    on_progress: Callable[[int, int], None] | None,
    *,
    use_cache: bool,
) -> BuildReport:
    templates = load_templates(config.templates_dir)
    key = cache.build_key(config, templates)
    context = Context(config, key, templates.digest)
    shapes = notetype_shapes(templates)
    rels = note_files(config.notes_dir)
    had_packages = config.out_dir.is_dir() and any(config.out_dir.glob("*.apkg"))
    index = cache.load_index(config, key) if use_cache else cache.Index()
    if index.lock_signature != cache.file_signature(config.lock_file):
        index = cache.Index()  # a lock this cache did not write: trust nothing it says
    known = index.lock_spans if index.lock_signature is not None else None
    lock, lock_diagnostics = load_lock(config.lock_file, had_packages=had_packages, known=known)
    diagnostics: list[Diagnostic] = []
    old = index.records

    with Workers(config.jobs) as workers:
        stale, records = unchanged_records(rels, config.notes_dir, old)
        if stale:
            ready_tools(context, templates)
        details = cache.Details(config, key, records)  # sees the records as refresh fills them
        made = refresh(
            stale, records, old, details, context, workers, dry_run, collect, on_progress
        )
        excluded = duplicate_notes(records, diagnostics)
        for rel in excluded.symmetric_difference(r for r in old if old[r].excluded):
            if rel in records:
                records[rel] = replace(records[rel], excluded=rel in excluded)
        plan = plan_cards(records, old, made, lock, excluded, shapes, context, details)
        decks = write_decks(plan, records, old, context, workers, dry_run)
    diagnostics[:0] = [d for r in records.values() for d in read_diagnostics(r)]
    diagnostics += [d for r in records.values() for d in r.time_diagnostics]
    diagnostics += [*lock_diagnostics, *plan.diagnostics]
    if not dry_run:  # only once every package is written: a crash leaves the old lock
        if plan.lock_changed or not config.lock_file.is_file():
            save_lock(config.lock_file, plan.lock_text)
        packages = list(index.packages)
        diagnostics += drop_old_packages(index, decks)
        signature = cache.file_signature(config.lock_file)
        moved = packages != index.packages or signature != index.lock_signature
        if moved or records != index.records:  # an unchanged vault writes nothing at all
            index.records = records
            index.lock_signature = signature
            index.lock_spans = plan.lock_text.spans
            cache.save_index(config, key, index)
    kept = [r for r in records.values() if r.readable and r.rel not in excluded]
    cards, rendered = collect_cards(kept, made, plan, context, details) if collect else ((), ())
    kinds: Counter[str] = Counter()
    for r in kept:
        kinds.update(dict(r.kinds))
    return BuildReport(
        notes=len(kept),
        card_count=sum(kinds.values()),
        kinds=dict(sorted(kinds.items())),
        decks=decks,
        diagnostics=tuple(d for d in diagnostics if d.code not in config.silence),
        added=plan.planner.added,
        changed=plan.planner.changed,
        renamed=tuple(plan.planner.renamed),
        removed=tuple({"guid": c.guid, "key": c.key, "path": c.path} for c in plan.removed),
        extra={"removed_search": removal_search(plan.removed, shapes)},
        cards=cards,
        rendered=rendered,
    )


# ---------------------------------------------------------------------------- notes


_RACY_NS = 2_000_000_000


def unchanged_records(
    rels: Sequence[str], root: Path, old: Mapping[str, cache.NoteRecord]
) -> tuple[list[str], dict[str, cache.NoteRecord]]:
    """The notes to build again, and the records of all others (in discovery order).

    A note whose size and mtime are as recorded is unchanged; one whose stat changed but
    whose bytes did not (a checkout, a touch) keeps its record under its new stat."""
    stale: list[str] = []
    records: dict[str, cache.NoteRecord] = {}
    now_ns = time.time_ns()
    folder = str(root)
    for rel in rels:
        record = old.get(rel)
        if record is None:
            stale.append(rel)
            continue
        path = os.path.join(folder, rel)
        try:
            st = os.stat(path)
        except OSError:
            stale.append(rel)
            continue
        if (record.mtime_ns, record.size) == (st.st_mtime_ns, st.st_size):
            records[rel] = record
            continue
        if record.size == st.st_size and record.readable:
            try:
                with open(path, "rb") as handle:
                    same = hashlib.sha256(handle.read()).hexdigest() == record.sha
            except OSError:
                same = False
            if same:
                racy = now_ns - st.st_mtime_ns < _RACY_NS  # see _take
                records[rel] = replace(record, mtime_ns=0 if racy else st.st_mtime_ns)
                continue
        stale.append(rel)
    return stale, records


@dataclass
class Made:
    """What this build made of the notes it built: lock stamps, and the cards if kept."""

    built: set[str] = field(default_factory=set)
    stamps: dict[str, str] = field(default_factory=dict)  # lock.pack_stamps, on a dry run
    cards: dict[str, tuple[Card, ...]] = field(default_factory=dict)
    rendered: dict[str, cache.NoteCards] = field(default_factory=dict)


def refresh(
    stale: Sequence[str],
    records: dict[str, cache.NoteRecord],
    old: Mapping[str, cache.NoteRecord],
    details: cache.Details,
    context: Context,
    workers: Workers,
    dry_run: bool,
    collect: bool,
    on_progress: Callable[[int, int], None] | None,
) -> Made:
    """Build the stale notes (filling `records` in discovery order), then check every
    note's timestamps against the other notes of its video and build again those whose
    moments that changes (a sibling's clocks are evidence for garbled ones)."""
    made = Made()
    order = {rel: n for n, rel in enumerate(sorted({*records, *stale}))}
    gone = [rel for rel in old if rel not in order]
    total = [len(stale)]
    done = [0]

    def tick(results: list[NoteResult]) -> None:
        done[0] += len(results)
        if on_progress:
            on_progress(done[0], total[0])

    jobs = shard_jobs({rel: None for rel in stale}, gone, dry_run, collect)
    for results in workers.map(partial(build_shard, context), jobs, tick):
        for result in results:
            _take(result, records, made)
    ordered = {rel: records[rel] for rel in sorted(records, key=order.__getitem__)}
    records.clear()
    records.update(ordered)

    again = check_moments(records, old, set(stale), context.config, details)
    if again:
        total[0] += len(again)
        jobs = shard_jobs(again, [], dry_run, collect)
        for results in workers.map(partial(build_shard, context), jobs, tick):
            for result in results:
                before = records[result.record.rel]
                _take(result, records, made)
                records[result.record.rel] = replace(
                    records[result.record.rel],
                    siblings=before.siblings,
                    time_diagnostics=before.time_diagnostics,
                )
    return made


def _take(result: NoteResult, records: dict[str, cache.NoteRecord], made: Made) -> None:
    rel, record = result.record.rel, result.record
    if time.time_ns() - record.mtime_ns < _RACY_NS:
        # A file read within a moment of its last change may change again with the same
        # size inside the file system's timestamp granularity: don't vouch for it by its
        # stat next time, compare its bytes (git's "racily clean" rule).
        record = replace(record, mtime_ns=0)
    records[rel] = record
    made.built.add(rel)
    if result.stamps:
        made.stamps[rel] = result.stamps
    if result.cards is not None:
        made.cards[rel] = result.cards
    if result.made is not None:
        made.rendered[rel] = result.made


def shard_jobs(
    notes: Mapping[str, tuple[Moment | None, ...] | None],
    gone: Iterable[str],
    dry_run: bool,
    collect: bool,
) -> list[ShardJob]:
    """One job per shard with notes to build or to drop, in a fixed order."""
    by_shard: dict[str, list[str]] = defaultdict(list)
    dropped: dict[str, list[str]] = defaultdict(list)
    for rel in notes:
        by_shard[cache.shard_of(rel)].append(rel)
    for rel in gone:
        dropped[cache.shard_of(rel)].append(rel)
    return [
        ShardJob(
            shard,
            tuple((rel, notes[rel]) for rel in sorted(by_shard.get(shard, ()))),
            tuple(sorted(dropped.get(shard, ()))),
            write=not dry_run,
            collect=collect,
        )
        for shard in sorted(by_shard.keys() | dropped.keys())
    ]


def check_moments(
    records: dict[str, cache.NoteRecord],
    old: Mapping[str, cache.NoteRecord],
    built: set[str],
    config: Config,
    details: cache.Details,
) -> dict[str, tuple[Moment | None, ...]]:
    """Give every note whose video's evidence changed the moments its siblings imply;
    return the notes whose cards were made with other moments (to build again)."""
    by_video: dict[str, list[str]] = defaultdict(list)
    for rel, r in records.items():
        if r.readable and r.video_id:
            by_video[r.video_id].append(rel)
    again: dict[str, tuple[Moment | None, ...]] = {}
    for group in by_video.values():
        notes: dict[str, Note | None] = {}  # decoded for this video only: a vault's worth is big
        alone: dict[tuple[str, int | None], frozenset[int]] = {}

        def note_of(rel: str, notes: dict[str, Note | None] = notes) -> Note | None:
            if rel not in notes:
                notes[rel] = details.note(rel)
            return notes[rel]

        def seconds_of(
            rel: str,
            duration: int | None,
            alone: dict[tuple[str, int | None], frozenset[int]] = alone,
        ) -> frozenset[int]:
            # What a sibling's clocks name read on their own, with this note's duration. A
            # note built just now was read on its own, with its own duration: reuse that.
            if (rel, duration) not in alone:
                sibling = note_of(rel)
                assert sibling is not None
                if rel in built and sibling.duration == duration:
                    moments = details.moments(rel) or ()
                    alone[rel, duration] = frozenset(m.seconds for m in moments if m is not None)
                else:
                    alone[rel, duration] = seconds_alone(
                        sibling.clocks, duration, config.max_video_seconds
                    )
            return alone[rel, duration]

        for rel in group:
            r = records[rel]
            siblings = tuple(sorted(records[s].evidence for s in group if s != rel))
            if rel not in built and old.get(rel) is not None and siblings == r.siblings:
                continue
            note = note_of(rel)
            assert note is not None
            others: list[Note] = [n for s in group if s != rel if (n := note_of(s))]
            # A note just built alone was read on its own evidence already.
            if others or rel not in built:
                durations = [n.duration for n in others if n.duration]
                duration = note.duration or (max(durations) if durations else None)
                evidence = frozenset[int]().union(
                    *(seconds_of(s, duration) for s in group if s != rel and note_of(s))
                )
                moments, found = resolve_note(note, others, durations, config, evidence)
                r = replace(r, time_diagnostics=tuple(found))
                if moments != details.moments(rel):
                    again[rel] = moments
            records[rel] = replace(r, siblings=siblings)
    return again


def duplicate_notes(
    records: Mapping[str, cache.NoteRecord], diagnostics: list[Diagnostic]
) -> set[str]:
    """The notes whose key an earlier note has: two notes with one frontmatter `id` would
    share every card identity, so the second one is an error and gives no cards."""
    owner: dict[str, str] = {}
    excluded: set[str] = set()
    for rel, record in records.items():
        if not record.readable:
            continue
        if record.key in owner:
            diagnostics.append(
                Diagnostic(
                    Level.ERROR,
                    "note.duplicate-id",
                    rel,
                    1,
                    f"the id '{record.key}' is also the id of {owner[record.key]}; "
                    "give each note its own `id:` in the frontmatter.",
                )
            )
            excluded.add(rel)
        else:
            owner[record.key] = rel
    return excluded


def read_diagnostics(record: cache.NoteRecord) -> tuple[Diagnostic, ...]:
    return record.diagnostics


# ---------------------------------------------------------------------------- identity


@dataclass
class CardPlan:
    """GUIDs and mods for the cards of the notes planned again, and the lock to write."""

    planner: Planner
    plans: dict[str, NotePlan]
    lock_text: LockText
    lock_changed: bool
    guids: dict[str, str]
    model_mods: dict[int, int]
    removed: list[LockedCard]
    diagnostics: list[Diagnostic]
    changed: set[str]  # notes whose lock entry this build changes


def plan_cards(
    records: Mapping[str, cache.NoteRecord],
    old: Mapping[str, cache.NoteRecord],
    made: Made,
    lock: LockFile,
    excluded: set[str],
    shapes: Sequence[NotetypeShape],
    context: Context,
    details: cache.Details,
) -> CardPlan:
    """Plan every note built again (or whose exclusion changed) against the lock; every
    other note keeps its lock entry byte for byte."""
    now = build_time()
    moved_from = set(lock.spans) - set(records)
    planner = Planner(lock, now, moved_from)
    blocks: dict[str, bytes | memoryview] = {}
    plans: dict[str, NotePlan] = {}
    replan = []
    for rel, record in records.items():
        was_excluded = old[rel].excluded if rel in old else False
        # A note unreadable now keeps its cards in the lock as they were.
        if record.readable and (rel in made.built or record.excluded != was_excluded):
            replan.append(rel)
        elif lock.block(rel):
            blocks[rel] = lock.block(rel)
    # Shard by shard, so that only one shard's stamps are read at a time.
    loaded: tuple[str, dict[str, tuple[str, bytes]]] = ("", {})
    for rel in sorted(replan, key=lambda r: (cache.shard_of(r), r)):
        stamps = made.stamps.pop(rel, None)
        if stamps is None:
            shard = cache.shard_of(rel)
            if loaded[0] != shard:
                loaded = (
                    shard,
                    cache.load_meta(cache.meta_path(context.config, shard), context.key),
                )
            stamps = loaded[1].get(rel, (None, b""))[0]
        if stamps is None:  # the cache could not be written: make the cards again
            stamps = build_note(context, rel, details.moments(rel)).stamps
        plans[rel] = plan = planner.plan(rel, () if rel in excluded else unpack_stamps(stamps))
        if plan.block:
            blocks[rel] = plan.block
    removed = planner.finish()
    guids = {k: g for k, g in lock.guids.items() if k not in planner.parsed_keys}
    for plan in plans.values():
        guids.update(plan.odd_guids)
    model_mods, types, diagnostics = plan_notetypes(shapes, lock, now)
    text = lock_text(types, guids, blocks)
    changed = {rel for rel, p in plans.items() if p.block != lock.block(rel)}
    # The same header and the same notes, none of whose blocks changed: the same bytes.
    same = lock.exact and text.parts[0] == lock.header() and text.spans.keys() == lock.spans.keys()
    return CardPlan(
        planner,
        plans,
        text,
        not (same and not changed),
        guids,
        model_mods,
        removed,
        [*planner.diagnostics, *diagnostics],
        changed,
    )


def build_time() -> int:
    """Seconds since the epoch for new mod times: SOURCE_DATE_EPOCH when set (CI)."""
    env = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if env.isdigit():
        return min(int(env), int(time.time()))
    return int(time.time())


# ---------------------------------------------------------------------------- packages


def write_decks(
    plan: CardPlan,
    records: Mapping[str, cache.NoteRecord],
    old: Mapping[str, cache.NoteRecord],
    context: Context,
    workers: Workers,
    dry_run: bool,
) -> tuple[DeckFile, ...]:
    """One .apkg per top-level deck; only the packages whose cards changed (or that are
    missing) are written, all of them first beside their place and then moved in."""
    config = context.config
    by_top: dict[str, list[str]] = defaultdict(list)
    for rel, r in records.items():
        if r.readable and not r.excluded and r.top:
            by_top[r.top].append(rel)
    # A package changes when a note's lock entry does (its cards' content, GUIDs, mods),
    # or when a note joins or leaves it.
    moved = {
        rel
        for rel in old.keys() | records.keys()
        if rel not in old
        or rel not in records
        or (old[rel].top, old[rel].readable) != (records[rel].top, records[rel].readable)
    }
    dirty = {r.top for rel in plan.changed | moved for r in (old.get(rel), records.get(rel)) if r}
    files = []
    jobs = []
    for top in sorted(by_top):
        path = config.out_dir / f"{package_file_name(top)}.apkg"
        rels = by_top[top]
        count = sum(records[rel].cards for rel in rels)
        files.append(DeckFile(top, path, count))
        if top not in dirty and path.is_file():
            continue
        media = sorted(
            {name: source for rel in rels for name, source in records[rel].media}.items()
        )
        notes = tuple((rel, records[rel].detail, _block_of(plan, rel)) for rel in rels)
        jobs.append(PackageJob(top, path, notes, plan.guids, plan.model_mods, tuple(media)))
    if dry_run or not jobs:
        return tuple(files)
    temps: list[str] = []
    try:
        for temp, _count in workers.map(partial(write_package, context), jobs):
            temps.append(temp)
        for job, temp in zip(jobs, temps, strict=True):
            os.replace(temp, job.path)
    except BaseException:
        workers.stop()  # let the other packages finish (or never start) before cleaning up
        raise
    finally:
        # After a failure, other workers may have finished packages nobody will move in.
        for job in jobs:
            for temp_path in job.path.parent.glob(f".{job.path.name}.*.tmp"):
                temp_path.unlink(missing_ok=True)
    return tuple(files)


def drop_old_packages(index: cache.Index, decks: Sequence[DeckFile]) -> list[Diagnostic]:
    """Delete the packages an earlier build wrote (into the same folder) for decks that no
    longer have cards, so that no one imports cards from notes that are gone."""
    current = sorted(str(d.path) for d in decks)
    folders = {str(d.path.parent) for d in decks}
    notes = []
    for old in sorted(set(index.packages) - set(current)):
        path = Path(old)
        if str(path.parent) in folders and path.is_file():
            path.unlink()
            notes.append(
                Diagnostic(
                    Level.INFO,
                    "package.removed",
                    old,
                    1,
                    "deleted: its deck has no cards any more (Anki keeps the cards you "
                    "imported from it until you delete them).",
                )
            )
    index.packages = current
    return notes


def _block_of(plan: CardPlan, rel: str) -> bytes:
    made = plan.plans.get(rel)
    if made is not None:
        return made.block
    return bytes(plan.planner.lock.block(rel))


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
    shards: dict[str, dict[str, cache.NoteCards]] = {}
    derived: dict[str, dict[str, cache.Derived]] = {}
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
    """The POSIX paths under `root` of every Markdown note, sorted (os.scandir, not
    pathlib: this runs before every build, over every note of the vault)."""
    found: list[str] = []

    def walk(folder: str, prefix: str) -> None:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if entry.name.startswith("."):
                continue
            if entry.is_dir():
                if not entry.is_symlink():  # as os.walk: a linked folder is not entered
                    walk(entry.path, f"{prefix}{entry.name}/")
            elif entry.name.endswith(".md"):
                found.append(prefix + entry.name)

    walk(str(root), "")
    return sorted(found)


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


def package_file_name(deck: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in deck).strip("._")
    return safe or "deck"
