"""Find the notes to build again, build them shard by shard, and check their timestamps."""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from notedeck import cache
from notedeck.config import Config
from notedeck.model import Card, Diagnostic, Level, Moment, Note
from notedeck.parallel import Workers
from notedeck.timestamps import Evidence, seconds_alone
from notedeck.work import (
    Context,
    NoteResult,
    ShardJob,
    build_shard,
    internal_error,
    note_bytes,
    reraise_when_debugging,
    resolve_note,
)

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
class Made:
    """What this build made of the notes it built: lock stamps, and the cards if kept."""

    built: set[str] = field(default_factory=set)
    stamps: dict[str, str] = field(default_factory=dict)  # lock.pack_stamps, on a dry run
    digests: dict[str, bytes] = field(default_factory=dict)  # lock.stamps_digest
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
    hold_unreadable(records, old, made)
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
    if result.digest:
        made.digests[rel] = result.digest
    if result.cards is not None:
        made.cards[rel] = result.cards
    if result.made is not None:
        made.rendered[rel] = result.made


def hold_unreadable(
    records: dict[str, cache.NoteRecord], old: Mapping[str, cache.NoteRecord], made: Made
) -> None:
    """A note that could be read before and cannot be now (its permissions, a disk
    error) keeps its record, so its cards stay in their package and the lock, never
    taken as deleted; the read error is reported. Its record's signature is spoilt so
    that the next build reads it again."""
    for rel in sorted(made.built):
        record, prior = records[rel], old.get(rel)
        if record.readable or prior is None or not prior.readable or not unread(record):
            continue
        records[rel] = replace(
            prior, mtime_ns=0, size=-1, diagnostics=(*prior.diagnostics, *record.diagnostics)
        )
        made.built.discard(rel)
        for kept in (made.stamps, made.digests, made.cards, made.rendered):
            kept.pop(rel, None)


def unread(record: cache.NoteRecord) -> bool:
    """Whether the note's file could not be read (rather than read and found broken)."""
    return not record.readable and any(d.code == "note.unreadable" for d in record.diagnostics)


def shard_jobs(
    notes: Mapping[str, tuple[Moment | None, ...] | None],
    gone: Iterable[str],
    dry_run: bool,
    collect: bool,
) -> list[ShardJob]:
    """One job per shard with notes to build or to drop, in a fixed order: the largest
    first, so that no large shard is left to one worker at the end while the others wait."""
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
        for shard in sorted(
            by_shard.keys() | dropped.keys(), key=lambda shard: (-len(by_shard[shard]), shard)
        )
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
        if _untouched(group, records, old, built):
            continue
        # Decoded once per note, and for this video only: a vault's worth is big.
        decoded: dict[str, tuple[Note | None, tuple[Moment | None, ...]]] = {}
        alone: dict[tuple[str, int | None], frozenset[int]] = {}

        def note_of(rel: str, decoded: dict[str, Any] = decoded) -> Note | None:
            if rel not in decoded:
                decoded[rel] = details.decode(rel)
            note: Note | None = decoded[rel][0]
            return note

        def moments_of(rel: str, decoded: dict[str, Any] = decoded) -> tuple[Moment | None, ...]:
            note_of(rel)
            moments: tuple[Moment | None, ...] = decoded[rel][1]
            return moments

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
                    moments = moments_of(rel)
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
        shared: dict[str, Any] = {}
        by_duration: dict[int | None, tuple[Counter[int], list[int]]] = {}

        def present(shared: dict[str, Any] = shared, group: list[str] = group) -> list[str]:
            if "present" not in shared:
                notes = [(s, n) for s in group if (n := note_of(s))]
                shared["present"] = [s for s, _ in notes]
                shared["longest"] = sorted(((n.duration, s) for s, n in notes if n.duration))[
                    :-3:-1
                ]
            found: list[str] = shared["present"]
            return found

        def evidence_of(
            duration: int | None,
            by_duration: dict[int | None, tuple[Counter[int], list[int]]] = by_duration,
        ) -> tuple[Counter[int], list[int]]:
            if duration not in by_duration:
                counts: Counter[int] = Counter()
                for s in present():
                    counts.update(seconds_of(s, duration))
                by_duration[duration] = (counts, sorted(counts, reverse=True))
            return by_duration[duration]

        for rel in group:
            r = records[rel]
            mine = (total - _evidence_hash(r.evidence)) % _HASH_SPACE
            siblings = (str(len(group) - 1), f"{mine:032x}")
            if rel not in built and old.get(rel) is not None and siblings == r.siblings:
                continue
            note = note_of(rel)
            assert note is not None
            has_others = len(present()) > 1
            # A note just built alone was read on its own evidence already.
            if has_others or rel not in built:
                longest = [d for d, s in shared["longest"] if s != rel][:1]
                duration = note.duration or (longest[0] if longest else None)
                counts, descending = evidence_of(duration)
                evidence = Evidence(counts, seconds_of(rel, duration), descending)
                try:
                    moments, found = resolve_note(note, [], longest, config, evidence)
                except Exception as exc:  # a bug on one note must not stop the vault
                    reraise_when_debugging()
                    moments = moments_of(rel)
                    found = [internal_error(rel, 1, "check the timestamps of", exc)]
                r = replace(r, time_diagnostics=tuple(found))
                if moments != moments_of(rel):
                    again[rel] = moments
            records[rel] = replace(r, siblings=siblings)
    return again


def _untouched(
    group: Sequence[str],
    records: Mapping[str, cache.NoteRecord],
    old: Mapping[str, cache.NoteRecord],
    built: set[str],
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
