"""The stages that work note by note: find the notes that changed, read them, work out
every note's timestamps with the other notes of its video, and make cards, each once."""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence, Set, Sized
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from notedeck.config import Config
from notedeck.incremental import cache
from notedeck.incremental.parallel import Workers
from notedeck.incremental.workers import (
    Context,
    DeriveJob,
    Moments,
    NoteRead,
    NoteResult,
    ReadJob,
    derive_shard,
    internal_error,
    note_bytes,
    read_shard,
    reraise_when_debugging,
    resolve_note,
)
from notedeck.model import Card, Diagnostic, Level, Note
from notedeck.reading.timestamps import Evidence, seconds_alone

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
        if record is None or any(d.code == "note.internal" for d in record.diagnostics):
            stale.append(rel)  # a note notedeck failed on is tried again (--debug shows why)
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
                same = hashlib.sha256(note_bytes(path)[0]).hexdigest() == record.sha
            except OSError:
                same = False
            if same:
                racy = now_ns - st.st_mtime_ns < _RACY_NS  # see _take
                records[rel] = replace(record, mtime_ns=0 if racy else st.st_mtime_ns)
                continue
        stale.append(rel)
    return stale, records


@dataclass
class NewCards:
    """The cards this build made, note by note: which notes, their lock stamps (sent
    back on a dry run, which stores nothing), their digests, and their cards when the
    build collects them (rendered and before rendering)."""

    notes: set[str] = field(default_factory=set)
    stamps: dict[str, str] = field(default_factory=dict)  # lock.pack_stamps, on a dry run
    digests: dict[str, bytes] = field(default_factory=dict)  # lock.stamps_digest
    cards: dict[str, tuple[Card, ...]] = field(default_factory=dict)
    rendered: dict[str, cache.NoteCards] = field(default_factory=dict)


class Progress:
    """`on_progress(done, total)` over both stages that work note by note (reading the
    notes that changed, making cards): the total is a guess until the notes are read."""

    def __init__(self, reads: int, on_progress: Callable[[int, int], None] | None) -> None:
        self.done, self.total, self.reads, self.report = 0, 2 * reads, reads, on_progress

    def derives(self, count: int) -> None:
        self.total = self.reads + count

    def tick(self, results: Sized) -> None:
        self.done += len(results)
        if self.report:
            self.report(self.done, self.total)


# ------------------------------------------------------------------------ stage: read


def read_changed(
    stale: Sequence[str],
    records: dict[str, cache.NoteRecord],
    old: Mapping[str, cache.NoteRecord],
    context: Context,
    workers: Workers,
    spill: Path,
    progress: Progress,
) -> dict[str, NoteRead]:
    """Read the notes that changed (in the workers, shard by shard), put their records
    in `records` (in discovery order), and return what each is for the next stages. A
    note's record is complete once its cards are made (`take_cards`)."""
    read: dict[str, NoteRead] = {}
    jobs = [
        ReadJob(shard, tuple(rels), str(spill))
        for shard, rels in _by_shard(stale, size_first=True).items()
    ]
    for results in workers.map(partial(read_shard, context), jobs, progress.tick):
        for result in results:
            read[result.record.rel] = result
            records[result.record.rel] = result.record
    hold_unreadable(records, old, read)
    ordered = dict(sorted(records.items()))
    records.clear()
    records.update(ordered)
    return read


def hold_unreadable(
    records: dict[str, cache.NoteRecord],
    old: Mapping[str, cache.NoteRecord],
    read: dict[str, NoteRead],
) -> None:
    """A note that could be read before and cannot be now (its permissions, a disk
    error) keeps its record, so its cards stay in their package and the lock, never
    taken as deleted; the read error is reported. Its record's signature is spoilt so
    that the next build reads it again. It goes no further down the pipeline."""
    for rel in sorted(read):
        record, prior = records[rel], old.get(rel)
        if not read[rel].unreadable:
            continue
        del read[rel]
        if prior is None or not prior.readable:
            continue
        records[rel] = replace(
            prior, mtime_ns=0, size=-1, diagnostics=(*prior.diagnostics, *record.diagnostics)
        )


def unread(record: cache.NoteRecord) -> bool:
    """Whether the note's file could not be read (rather than read and found broken)."""
    return not record.readable and any(d.code == "note.unreadable" for d in record.diagnostics)


# ------------------------------------------------------------------ stage: timestamps


@dataclass(frozen=True, slots=True)
class Timing:
    """A note's timestamps worked out with every other note of its video known: the
    moments its cards open (None: those it was read with on its own evidence), what it
    saw of the others (the `siblings` of its record), what was repaired, and whether
    its cards are to be made (again)."""

    moments: Moments | None
    siblings: tuple[str, ...]
    diagnostics: tuple[Diagnostic, ...]
    make: bool


def resolve_timestamps(
    records: Mapping[str, cache.NoteRecord],
    read: Mapping[str, NoteRead],
    old: Mapping[str, cache.NoteRecord],
    config: Config,
    details: cache.Details,
) -> dict[str, Timing]:
    """The timing of every note read now, and of every note whose video's evidence
    changed (a sibling's clocks are evidence for garbled ones). A note read now has its
    cards made with it; one unchanged has them made again only if its moments moved.
    The notes not in the result keep what they had."""
    timings: dict[str, Timing] = {}
    for rel, new in read.items():
        if not new.record.video_id:  # alone, or broken (its record says why)
            timings[rel] = Timing(None, (), new.alone_diagnostics, make=True)
    by_video: dict[str, list[str]] = defaultdict(list)
    for rel, r in records.items():
        if r.readable and r.video_id:
            by_video[r.video_id].append(rel)
    for group in by_video.values():
        if not _untouched(group, records, old, read.keys()):
            timings.update(_resolve_video(group, records, read, old, config, details))
    return timings


def _resolve_video(
    group: Sequence[str],
    records: Mapping[str, cache.NoteRecord],
    read: Mapping[str, NoteRead],
    old: Mapping[str, cache.NoteRecord],
    config: Config,
    details: cache.Details,
) -> dict[str, Timing]:
    """The timing of the notes of one video, each against all the others."""
    # Decoded once per note, and for this video only: a vault's worth is big.
    decoded: dict[str, tuple[Note | None, Moments]] = {}
    alone: dict[tuple[str, int | None], frozenset[int]] = {}

    def decode(rel: str) -> tuple[Note | None, Moments]:
        if rel not in decoded:  # a note read now: the moments it was read with alone
            decoded[rel] = details.decode(rel)
        return decoded[rel]

    def seconds_of(rel: str, duration: int | None) -> frozenset[int]:
        # What a sibling's clocks name read on their own, with this note's duration. A
        # note read just now was read on its own, with its own duration: reuse that.
        if (rel, duration) not in alone:
            sibling, moments = decode(rel)
            assert sibling is not None
            if rel in read and sibling.duration == duration:
                alone[rel, duration] = frozenset(m.seconds for m in moments if m is not None)
            else:
                alone[rel, duration] = seconds_alone(
                    sibling.clocks, duration, config.max_video_seconds
                )
        return alone[rel, duration]

    # What every note of the video shares, worked out once (each note's list of the
    # others would make this quadratic in the notes of one video): the sum of their
    # evidence digests, the largest durations, and per duration how many notes name
    # each second.
    total = sum(map(_evidence_hash, (records[s].evidence for s in group))) % _HASH_SPACE
    present = [(s, n) for s in group if (n := decode(s)[0])]
    longest_two = sorted(((n.duration, s) for s, n in present if n.duration))[:-3:-1]
    by_duration: dict[int | None, tuple[Counter[int], list[int]]] = {}

    def evidence_of(duration: int | None) -> tuple[Counter[int], list[int]]:
        if duration not in by_duration:
            counts: Counter[int] = Counter()
            for s, _note in present:
                counts.update(seconds_of(s, duration))
            by_duration[duration] = (counts, sorted(counts, reverse=True))
        return by_duration[duration]

    timings: dict[str, Timing] = {}
    for rel in group:
        r = records[rel]
        mine = (total - _evidence_hash(r.evidence)) % _HASH_SPACE
        siblings = (str(len(group) - 1), f"{mine:032x}")
        new = read.get(rel)
        if new is None and old.get(rel) is not None and siblings == r.siblings:
            continue
        note, before = decode(rel)
        assert note is not None
        if new is not None and len(present) == 1:  # read just now, and alone: done
            timings[rel] = Timing(None, siblings, new.alone_diagnostics, make=True)
            continue
        longest = [d for d, s in longest_two if s != rel][:1]
        duration = note.duration or (longest[0] if longest else None)
        counts, descending = evidence_of(duration)
        evidence = Evidence(counts, seconds_of(rel, duration), descending)
        try:
            moments, found = resolve_note(note, [], longest, config, evidence)
        except Exception as exc:  # a bug on one note must not stop the vault
            reraise_when_debugging()
            moments = before
            found = [internal_error(rel, 1, "check the timestamps of", exc)]
        make = new is not None or moments != before
        timings[rel] = Timing(moments, siblings, tuple(found), make)
    return timings


# ------------------------------------------------------------------------ stage: cards


def make_all_cards(
    timings: Mapping[str, Timing],
    records: dict[str, cache.NoteRecord],
    old: Mapping[str, cache.NoteRecord],
    context: Context,
    workers: Workers,
    spill: Path,
    write: bool,
    collect: bool,
    progress: Progress,
) -> NewCards:
    """Make the cards of every note whose timing says so (in the workers, shard by
    shard: derive, render, stamp), each once; complete the records with them and with
    every timing."""
    new = NewCards()
    make = {rel: t.moments for rel, t in timings.items() if t.make}
    gone = [rel for rel in old if rel not in records]
    progress.derives(len(make))
    by_shard = _by_shard(make, size_first=True)
    dropped = _by_shard(gone, size_first=False)
    jobs = [
        DeriveJob(
            shard,
            tuple((rel, make[rel]) for rel in by_shard.get(shard, ())),
            tuple(dropped.get(shard, ())),
            write=write,
            collect=collect,
            spill=str(spill),
        )
        for shard in [*by_shard, *(s for s in dropped if s not in by_shard)]
    ]
    for results in workers.map(partial(derive_shard, context), jobs, progress.tick):
        for result in results:
            take_cards(result, records, new)
    for rel, timing in timings.items():
        if rel in records and records[rel].readable:
            records[rel] = replace(
                records[rel], siblings=timing.siblings, time_diagnostics=timing.diagnostics
            )
    return new


def take_cards(result: NoteResult, records: dict[str, cache.NoteRecord], new: NewCards) -> None:
    """Put a note's cards made now in `records` and `new`."""
    rel, record = result.record.rel, result.record
    if time.time_ns() - record.mtime_ns < _RACY_NS:
        # A file read within a moment of its last change may change again with the same
        # size inside the file system's timestamp granularity: don't vouch for it by its
        # stat next time, compare its bytes (git's "racily clean" rule).
        record = replace(record, mtime_ns=0)
    if unread(record):  # an unchanged note that can no longer be read keeps its record
        prior = records[rel]
        records[rel] = replace(
            prior, mtime_ns=0, size=-1, diagnostics=(*prior.diagnostics, *record.diagnostics)
        )
        return
    records[rel] = record
    new.notes.add(rel)
    if result.stamps:
        new.stamps[rel] = result.stamps
    if result.digest:
        new.digests[rel] = result.digest
    if result.cards is not None:
        new.cards[rel] = result.cards
    if result.rendered is not None:
        new.rendered[rel] = result.rendered


def _by_shard(rels: Iterable[str], *, size_first: bool) -> dict[str, list[str]]:
    """The notes by shard, each shard's sorted; the shards in a fixed order, the largest
    first when `size_first`, so that no large shard is left to one worker at the end
    while the others wait."""
    found: dict[str, list[str]] = defaultdict(list)
    for rel in rels:
        found[cache.shard_of(rel)].append(rel)
    order = sorted(found, key=lambda shard: (-len(found[shard]) if size_first else 0, shard))
    return {shard: sorted(found[shard]) for shard in order}


def _untouched(
    group: Sequence[str],
    records: Mapping[str, cache.NoteRecord],
    old: Mapping[str, cache.NoteRecord],
    built: Set[str],
) -> bool:
    """Whether no note of a video was built, and none left it, since the last build: each
    note then has the siblings it had, and keeps what it had (an edit checks one video,
    not every video of the vault). A note that joins a video is built; one that leaves
    makes the others' lists of siblings shorter."""
    count = str(len(group) - 1)
    return all(
        rel not in built and rel in old and records[rel].siblings[:1] == (count,) for rel in group
    )


_HASH_SPACE = 1 << 128


def _evidence_hash(evidence: str) -> int:
    """A note's evidence digest as a number: the others' digests of a note are the sum of
    every note's less its own, a value that does not depend on their order."""
    return int.from_bytes(hashlib.blake2b(evidence.encode(), digest_size=16).digest(), "big")


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
