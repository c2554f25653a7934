"""Write the packages whose cards changed, and delete those of decks that are gone."""

from __future__ import annotations

import hashlib
import os
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from notedeck.incremental import cache
from notedeck.incremental.identify import CardPlan
from notedeck.incremental.parallel import Workers
from notedeck.incremental.workers import Context, PackageJob, write_package
from notedeck.model import Diagnostic, Level


@dataclass(frozen=True, slots=True)
class DeckFile:
    """One written (or, on a dry run, planned) package."""

    name: str
    path: Path
    cards: int
    written: bool = True  # False: its cards did not change and the file was left as it was


def deck_jobs(
    plan: CardPlan,
    records: Mapping[str, cache.NoteRecord],
    old: Mapping[str, cache.NoteRecord],
    context: Context,
) -> tuple[tuple[DeckFile, ...], list[PackageJob], list[Diagnostic]]:
    """One .apkg per top-level deck, and a job for each package whose cards changed (or
    that is missing); and a warning for each deck whose file name another deck has."""
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
    stems, diagnostics = package_stems(by_top)
    for top in sorted(by_top):
        path = config.out_dir / f"{stems[top]}.apkg"
        rels = by_top[top]
        count = sum(records[rel].cards for rel in rels)
        unchanged = top not in dirty and path.is_file()
        files.append(DeckFile(top, path, count, written=not unchanged))
        if unchanged:
            continue
        media = sorted(
            {name: source for rel in rels for name, source in records[rel].media}.items()
        )
        notes = tuple((rel, records[rel].sha, _block_of(plan, rel)) for rel in rels)
        jobs.append(PackageJob(top, path, notes, plan.guids, plan.model_mods, tuple(media)))
    # The largest packages first: the last ones to finish are then small.
    return tuple(files), sorted(jobs, key=lambda job: (-len(job.notes), job.top)), diagnostics


def write_packages(
    jobs: Sequence[PackageJob],
    context: Context,
    workers: Workers,
    meanwhile: Callable[[], None],
) -> None:
    """Write every package beside its place, then move them all in; `meanwhile` runs in
    this process while the workers write (the build stages its lock and cache then)."""
    temps: list[str] = []
    try:
        for temp, _count in workers.map(partial(write_package, context), jobs, None, meanwhile):
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


def old_packages(previous: Sequence[str], decks: Sequence[DeckFile]) -> list[Path]:
    """The packages an earlier build wrote (into the same folder) for decks that no longer
    have cards."""
    current = {str(d.path) for d in decks}
    folders = {str(d.path.parent) for d in decks}
    return [
        Path(old)
        for old in sorted(set(previous) - current)
        if str(Path(old).parent) in folders and Path(old).is_file()
    ]


def drop_packages(paths: Sequence[Path]) -> list[Diagnostic]:
    """Delete old packages, so that no one imports cards from notes that are gone."""
    notes = []
    for path in paths:
        path.unlink(missing_ok=True)
        notes.append(
            Diagnostic(
                Level.INFO,
                "package.removed",
                str(path),
                1,
                "deleted: its deck has no cards any more. Anki keeps the cards you "
                "imported from it: delete them there with the removal search this "
                "build prints.",
            )
        )
    return notes


def _block_of(plan: CardPlan, rel: str) -> bytes:
    made = plan.plans.get(rel)
    if made is not None:
        return made.block
    return plan.planner.lock.block(rel)


def package_stems(by_top: Mapping[str, Sequence[str]]) -> tuple[dict[str, str], list[Diagnostic]]:
    """The package file name (without .apkg) of each top-level deck, and a warning for
    each deck that had to be given another name. Decks whose names differ only in the
    characters a file name cannot hold ("my deck", "my_deck") would share one file: the
    one named as its file keeps it, any other gets its name's digest added, so that a
    deck's file never depends on which other decks exist."""
    by_stem: dict[str, list[str]] = defaultdict(list)
    for top in sorted(by_top):
        by_stem[package_file_name(top)].append(top)
    stems: dict[str, str] = {}
    diagnostics = []
    for stem, tops in by_stem.items():
        for top in tops:
            if len(tops) == 1 or top == stem:
                stems[top] = stem
                continue
            digest = hashlib.blake2b(top.encode(), digest_size=4).hexdigest()
            stems[top] = f"{stem}-{digest}"
            others = ", ".join(f"'{t}'" for t in tops if t != top)
            diagnostics.append(
                Diagnostic(
                    Level.WARNING,
                    "deck.file-name",
                    by_top[top][0],
                    1,
                    f"the deck '{top}' and the deck {others} would both be written to "
                    f"{stem}.apkg; '{top}' is written to {stems[top]}.apkg. Rename one of "
                    "the folders (or its notes' `deck:`) to choose the names.",
                )
            )
    return stems, diagnostics


def package_file_name(deck: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in deck).strip("._")
    return safe or "deck"
