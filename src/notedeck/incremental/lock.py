"""The lock file: what the last build gave Anki, so the next build changes exactly what changed.

The lock is JSON with one block per note (its cards, one per line, sorted), so its diff
reads as the change and a rebuild can copy the blocks of untouched notes byte for byte:
an edit rewrites one block, whatever the size of the vault. A card's GUID is
`guid_for(key)` unless the card was renamed and kept an older GUID; those few are listed
once under "guids".

Format 3 writes a card's key without its note's path when it starts with it, and its
sketch in base 64 (a third smaller than the hex of format 2); formats 1 and 2 are read
and written anew as format 3.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import itertools
import json
import re
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, cast, overload

from notedeck.anki.files import FileRange, Staged, stage
from notedeck.anki.identity import fresh_guid, guid_for
from notedeck.errors import LockChanged, NotALock
from notedeck.incremental.lock_repair import MAX_MOD, damage_at, recover
from notedeck.incremental.lock_source import (
    CHUNK,
    InMemory,
    LockSource,
    OpenFile,
    read_head,
    scan_blocks,
)
from notedeck.model import Diagnostic, Level


# The lock comes before rendering and packaging (they read it; it reads neither): it names
# only what it reads of their values.
class RenderedCard(Protocol):
    """A card as rendered (render.RenderedCard), as far as the lock reads it."""

    @property
    def key(self) -> str: ...
    @property
    def guid(self) -> str: ...
    @property
    def cloze(self) -> bool: ...
    @property
    def fields(self) -> tuple[str, ...]: ...
    @property
    def content_hash(self) -> str: ...


class NotetypeShape(Protocol):
    """What Anki compares of a notetype (package.NotetypeShape), as the lock keeps it."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def schema(self) -> str: ...
    @property
    def templates(self) -> str: ...


LOCK_FORMAT = 3
# Two versions of a card are "nearly the same" when at least this share of their words and
# word pairs is common (estimated from the sketches the lock keeps).
RENAME_SIMILARITY = 0.6
_SKETCH = 8  # smallest feature hashes kept per card
_COMMON = 200  # a feature hash shared by more vanished cards than this is not searched


@dataclass(frozen=True, slots=True)
class CardStamp:
    """What the lock needs of a card built now; made beside the card, in the worker."""

    key: str
    hash: str  # RenderedCard.content_hash
    type: str  # "qa" or "cloze": the notetype, which a GUID can never change
    sketch: str  # a few word hashes of its body, to recognise it under a new key
    guid: str  # guid_for(key), worked out with the card (in a worker, not the planner)


@dataclass(frozen=True, slots=True)
class LockedCard:
    """One card as the last build wrote it."""

    key: str
    odd_guid: str  # its GUID when that is not guid_for(key) (a renamed card's), else ""
    hash: str
    mod: int  # the note mod Anki holds for it
    path: str  # the note it came from, under the notes folder
    type: str
    sketch: str

    @property
    def guid(self) -> str:
        return self.odd_guid or guid_for(self.key)


@dataclass(frozen=True, slots=True)
class LockedNotetype:
    id: int
    name: str
    schema: str
    templates: str
    mod: int


@dataclass(frozen=True, slots=True)
class CardChange:
    """A card this build adds, changes or renames."""

    key: str
    guid: str


class CardChanges(Sequence[CardChange]):
    """A list of added or changed cards, packed one JSON string per note: the first build
    of a large vault adds half a million cards, and the report keeps them all."""

    def __init__(self) -> None:
        self._notes: list[str] = []
        self._ends: list[int] = []  # cards up to and including each note

    def add_note(self, changes: Sequence[CardChange]) -> None:
        if changes:
            self._notes.append(json.dumps([[c.key, c.guid] for c in changes], ensure_ascii=False))
            self._ends.append(len(self) + len(changes))

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def __iter__(self) -> Iterator[CardChange]:
        for text in self._notes:
            for key, guid in json.loads(text):
                yield CardChange(key, guid)

    @overload
    def __getitem__(self, index: int) -> CardChange: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[CardChange]: ...
    def __getitem__(self, index: int | slice) -> CardChange | Sequence[CardChange]:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        note = bisect.bisect_right(self._ends, index)
        start = self._ends[note - 1] if note else 0
        key, guid = json.loads(self._notes[note])[index - start]
        return CardChange(key, guid)


_StampRow = tuple[str, str, str, str, str]  # a CardStamp's fields, in order


def stamp_rows(cards: Iterable[RenderedCard]) -> list[_StampRow]:
    """The lock's view of a note's cards just rendered (whose GUIDs are still
    guid_for(key)): each card's CardStamp fields."""
    return [_stamp_fields(card) for card in cards]


def pack_stamps(rows: Sequence[_StampRow]) -> str:
    """A note's stamp rows as one string: a large vault's half million cards stay small
    in memory until their note is planned. `unpack_stamps` gives their CardStamps back."""
    return _ENCODE(rows)


def _stamp_fields(card: RenderedCard) -> tuple[str, str, str, str, str]:
    """A card's CardStamp fields, in order."""
    kind = "cloze" if card.cloze else "qa"
    return (card.key, card.content_hash, kind, _sketch(_body(card)), card.guid)


# One encoder for every note (json.dumps with an option makes a new one per call).
_ENCODE = json.JSONEncoder(ensure_ascii=False).encode


def unpack_stamps(text: str) -> tuple[CardStamp, ...]:
    return tuple(CardStamp(*row) for row in json.loads(text)) if text else ()


# ---------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class Kept:
    """A note's block left as it is in the lock as read (bytes start..stop): it is copied
    from there when the new lock is written, never read into memory."""

    start: int
    stop: int

    def __len__(self) -> int:
        return self.stop - self.start


@dataclass(frozen=True)
class LockFile:
    """A lock as read: the header parsed, each note's block left in `source` (the open
    file, or memory for a converted lock) until asked for. Close it when done (`with`)."""

    source: LockSource = field(default_factory=InMemory)
    notetypes: tuple[LockedNotetype, ...] = ()
    guids: Mapping[str, str] = field(default_factory=dict)  # key -> GUID, where not natural
    spans: Mapping[str, tuple[int, int]] = field(default_factory=dict)  # path -> block bytes
    where: str = "notedeck.lock"
    exact: bool = True  # `source` is the file's bytes (not a lock of another layout, converted)
    glued: bool = True  # every block is followed by ",\n" and then the next one
    # GUIDs of renamed cards that left the notes, by key: a note restored gets them back.
    retired: Mapping[str, str] = field(default_factory=dict)
    backup: bool = False  # part of the file could not be read: keep a copy before replacing it

    def __enter__(self) -> LockFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.source.close()

    def block(self, path: str) -> bytes:
        """The note's block as written (empty when the lock has none)."""
        span = self.spans.get(path)
        return self.source.read(*span) if span else b""

    def check(self) -> None:
        """LockChanged when the file read is no longer what is on disk."""
        self.source.check()

    def kept(self, path: str) -> Kept | None:
        """The note's block, to be copied from here into the next lock."""
        span = self.spans.get(path)
        return Kept(*span) if span else None

    def header(self) -> bytes:
        first = min((start for start, _ in self.spans.values()), default=None)
        if first is None:  # no blocks: a small file, or a broken one read whole anyway
            data = self.source.read(0, self.source.size)
            return data[: data.find(b"\n  }\n}") + 1]
        return self.source.read(0, first)

    def line_at(self, offset: int) -> int:
        """The line of the byte at `offset` (for a broken entry: read the file that far)."""
        return 1 + sum(
            self.source.read(at, min(at + CHUNK, offset)).count(b"\n")
            for at in range(0, offset, CHUNK)
        )

    def cards_of(self, path: str) -> tuple[tuple[LockedCard, ...], Diagnostic | None]:
        """The cards the lock holds for the note at `path`; a broken block gives none and
        says where it is."""
        span = self.spans.get(path)
        if span is None:
            return (), None
        try:
            _, rows = read_block(self.source.read(*span))
            cards = newest(
                LockedCard(key, self.guids.get(key, ""), digest, mod, path, kind, sketch)
                for key, digest, mod, kind, sketch in rows
                if isinstance(key, str) and isinstance(mod, int) and 0 <= mod < MAX_MOD
            )
        except (ValueError, TypeError, RecursionError):
            line = self.line_at(span[0])
            return (), _corrupt(self.where, line, f"the entry of {path} is broken")
        return cards, None


def newest(cards: Iterable[LockedCard]) -> tuple[LockedCard, ...]:
    """One card per key: of the lines a merge left for one card (both sides' versions),
    the one with the newest mod (Anki has the newest one of the two people who imported),
    then the greatest line, so that any order of the lines gives the same card."""
    by_key: dict[str, LockedCard] = {}
    for card in cards:
        prior = by_key.get(card.key)
        if prior is None or (card.mod, card.hash, card.type, card.sketch) > (
            prior.mod,
            prior.hash,
            prior.type,
            prior.sketch,
        ):
            by_key[card.key] = card
    return tuple(by_key.values())


def load_lock(
    path: Path,
    *,
    had_packages: bool = False,
    known: Mapping[str, tuple[int, int]] | None = None,
) -> tuple[LockFile, list[Diagnostic]]:
    """Read the lock; a missing or broken one gives an empty lock and a warning, never a crash.
    The file stays open, to read blocks from as they are needed: close the lock when done.

    `known` gives where each note's block lies when the caller wrote this very file: then
    only the header is read here."""
    where = str(path)
    try:
        source = OpenFile.open(path)
    except FileNotFoundError:
        level = Level.WARNING if had_packages else Level.INFO
        return LockFile(where=where), [
            Diagnostic(
                level,
                "lock.missing",
                where,
                1,
                "no lock file yet: every card counts as new; it is written "
                "now (commit it with your notes).",
            )
        ]
    except OSError as exc:
        return LockFile(where=where), [_corrupt(where, 1, f"cannot read it ({exc})")]
    try:
        lock, diagnostics = _read_lock(source, where, known)
    except OSError as exc:
        source.close()
        return LockFile(where=where), [_corrupt(where, 1, f"cannot read it ({exc})")]
    except BaseException:
        source.close()
        raise
    if lock.source is not source:  # converted into memory: the file is done with
        source.close()
    return lock, diagnostics


def parse_lock(
    data: bytes, where: str, known: Mapping[str, tuple[int, int]] | None = None
) -> tuple[LockFile, list[Diagnostic]]:
    """A lock from its bytes (see _read_lock)."""
    return _read_lock(InMemory(data), where, known)


_NOTES_MARKER = b'\n  "notes": {\n'


def _read_lock(
    source: LockSource, where: str, known: Mapping[str, tuple[int, int]] | None
) -> tuple[LockFile, list[Diagnostic]]:
    """Read a lock as notedeck writes it, without parsing each note's entry yet (nor
    reading it, from a file: only the header, and when `known` is not given, a pass
    over the file a few MB at a time to find the blocks). One of format 2 is rewritten
    block by block first, and one laid out otherwise (reformatted, or of format 1) is
    read whole first."""
    head = read_head(source, _NOTES_MARKER)
    cut = len(head) - len(_NOTES_MARKER) if head.endswith(_NOTES_MARKER) else -1
    try:
        header = json.loads(head + b"}}") if cut >= 0 else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        header = None
    version = header.get("notedeck_lock") if isinstance(header, dict) else None
    if not isinstance(header, dict) or version not in (2, LOCK_FORMAT):
        return _from_document(source.read(0, source.size), where)
    diagnostics: list[Diagnostic] = []
    notetypes = _read_notetypes(header.get("notetypes"), where, diagnostics)
    guids = _names(header.get("guids"), where, "its list of GUIDs is broken", diagnostics)
    retired = _names(header.get("retired", {}), where, "its retired GUIDs are broken", diagnostics)
    if known is not None and version == LOCK_FORMAT:  # from the build that wrote this file
        lock = LockFile(source, tuple(notetypes), guids, dict(known), where, retired=retired)
        return lock, diagnostics
    body = len(head)
    scan = scan_blocks(source, body, head.count(b"\n", 0, body - 1))
    end = scan.end
    starts = [s for s in scan.starts if s.at - 1 < end]
    names = [_note_name(block.name) for block in starts]
    if (
        diagnostics
        or end < cut
        or source.size != end + len(_END)  # something after the end
        or None in names
        or len(set(names)) != len(names)  # a note twice: both sides of a merge
        or damage_at(source, body - 1) >= 0
    ):
        return _repaired(source.read(0, source.size), where)
    spans: dict[str, tuple[int, int]] = {}
    stops = [*(s.at for s in starts[1:]), end + 2] if starts else []  # a lock of no notes
    for block, stop, note in zip(starts, stops, names, strict=True):
        spans[cast(str, note)] = (block.at, stop - 2)  # without the ",\n" between blocks
    glued = all(s.after_comma for s in starts[1:])
    lock = LockFile(source, tuple(notetypes), guids, spans, where, glued=glued, retired=retired)
    return _from_second_format(lock, diagnostics) if version == 2 else (lock, diagnostics)


_END = b"\n  }\n}\n"


def _note_name(name: bytes) -> str | None:
    try:
        note = json.loads(name)
    except (ValueError, UnicodeDecodeError):
        return None
    return note if isinstance(note, str) else None


def _names(raw: object, where: str, problem: str, diagnostics: list[Diagnostic]) -> dict[str, str]:
    """A key -> GUID table of the header; a broken one is none, and said."""
    if isinstance(raw, dict) and all(isinstance(g, str) and g for g in raw.values()):
        return raw
    diagnostics.append(_corrupt(where, 1, problem))
    return {}


def _repaired(data: bytes, where: str) -> tuple[LockFile, list[Diagnostic]]:
    """A lock that is not as notedeck writes it (merged, cut short, broken), read line by
    line (lock_repair); LockConflict when a conflict in it cannot be resolved."""
    found = recover(
        data, where, lambda key, path: _full_key(key, _note_prefix(path)), _sketch_from_hex
    )
    if found.empty:
        return LockFile(where=where, backup=bool(data.strip())), [
            _corrupt(where, 1, "notedeck cannot read any of it")
        ]
    blocks = {path: note_block(path, rows.values()) for path, rows in found.rows.items() if rows}
    notetypes = [LockedNotetype(**raw) for _, raw in sorted(found.notetypes.items())]
    text = lock_text(notetypes, found.guids, blocks, retired=found.retired)
    lock, more = parse_lock(bytes(text), where)
    return replace(lock, exact=False, backup=found.damaged), found.diagnostics + more


def _from_second_format(
    lock: LockFile, diagnostics: list[Diagnostic]
) -> tuple[LockFile, list[Diagnostic]]:
    """A lock of format 2 as notedeck wrote it, as the lock of format 3 it stands for.
    Block by block: a large lock read whole, as _from_document does, takes three times
    the memory of a build (1 GB for 544,656 cards)."""
    blocks: dict[str, bytes] = {}
    seen: set[str] = set()
    for path, (start, _) in lock.spans.items():
        try:
            (rows,) = json.loads(b"{" + lock.block(path) + b"}").values()
            if not isinstance(rows, list):
                raise TypeError
        except (ValueError, TypeError):
            line = lock.line_at(start)
            diagnostics.append(_corrupt(lock.where, line, f"the entry of {path} is broken"))
            continue
        cards = []
        for row in rows:
            try:
                card = _card_of(2, path, row, lock.guids, seen)
            except (TypeError, KeyError, ValueError):
                diagnostics.append(_corrupt(lock.where, 1, "a card entry is broken"))
                continue
            seen.add(card.key)
            cards.append((card.key, card.hash, card.mod, card.type, card.sketch))
        if cards:
            blocks[path] = note_block(path, cards)
    rewritten, more = parse_lock(bytes(lock_text(lock.notetypes, lock.guids, blocks)), lock.where)
    return replace(rewritten, exact=False, backup=bool(diagnostics)), diagnostics + more


def _from_document(data: bytes, where: str) -> tuple[LockFile, list[Diagnostic]]:
    """Read a lock of another layout or of an earlier format whole, as the lock notedeck
    would have written: format 1 has one JSON object per card, formats 1 and 2 write every
    key whole and sketches in hex."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return _repaired(data, where)
    version = doc.get("notedeck_lock") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or version not in (1, 2, LOCK_FORMAT):
        found = _repaired(data, where)
        if found[0].spans:
            return found
        problem = "not a notedeck lock of this version"
        return LockFile(where=where, backup=True), [_corrupt(where, 1, problem)]
    if version != 1 and not isinstance(doc.get("notes"), dict):
        return _repaired(data, where)
    diagnostics: list[Diagnostic] = []
    by_path: dict[str, list[LockedCard]] = defaultdict(list)
    seen: set[str] = set()
    named = doc.get("guids")
    guids: dict[str, str] = named if isinstance(named, dict) else {}
    for path, raw in _card_entries(doc):
        try:
            card = _card_of(version, path, raw, guids, seen)
        except (TypeError, KeyError, ValueError):
            diagnostics.append(_corrupt(where, 1, "a card entry is broken"))
            continue
        seen.add(card.key)
        by_path[card.path].append(card)
    notetypes = _read_notetypes(doc.get("notetypes"), where, diagnostics)
    blocks = {
        path: note_block(path, [(c.key, c.hash, c.mod, c.type, c.sketch) for c in cards])
        for path, cards in by_path.items()
    }
    odd = {c.key: c.odd_guid for cs in by_path.values() for c in cs if c.odd_guid}
    lock, more = parse_lock(bytes(lock_text(notetypes, odd, blocks)), where)
    return replace(lock, exact=False, backup=bool(diagnostics)), diagnostics + more


def _card_of(
    version: int, path: str, raw: object, guids: Mapping[str, str], seen: Set[str]
) -> LockedCard:
    """A card of a lock of this or an earlier format, read whole; TypeError, KeyError or
    ValueError when it is broken or its key was seen already."""
    if isinstance(raw, dict):  # the first format: an object per card
        key, digest, mod, kind, sketch = (raw[f] for f in _FIRST_FIELDS)
        path = raw["path"]
        odd = raw["guid"] if raw["guid"] != guid_for(key) else ""
    else:
        key, digest, mod, kind, sketch = cast(list[Any], raw)
        if version == LOCK_FORMAT:
            key = _full_key(key, _note_prefix(path))
        odd = guids.get(key, "")
    if version != LOCK_FORMAT:
        sketch = _sketch_from_hex(sketch)
    texts = (key, digest, path, kind, sketch, odd)
    if not isinstance(mod, int) or not all(isinstance(t, str) for t in texts):
        raise TypeError
    if not 0 <= mod < MAX_MOD:
        raise ValueError
    if key in seen:
        raise ValueError
    return LockedCard(key, odd, digest, mod, path, kind, sketch)


_FIRST_FIELDS = ("key", "hash", "mod", "type", "sketch")  # a card of format 1, as in a row


def _read_notetypes(
    raws: object, where: str, diagnostics: list[Diagnostic]
) -> list[LockedNotetype]:
    notetypes = []
    fields = {"id": int, "mod": int, "name": str, "schema": str, "templates": str}
    for raw in raws if isinstance(raws, list) else []:
        if (
            isinstance(raw, dict)
            and set(raw) == set(fields)
            and all(type(raw[k]) is t for k, t in fields.items())
            and 0 <= raw["mod"] < MAX_MOD
        ):
            notetypes.append(LockedNotetype(**raw))
        else:
            diagnostics.append(_corrupt(where, 1, "a notetype entry is broken"))
    return notetypes


def _card_entries(doc: dict[str, object]) -> list[tuple[str, object]]:
    cards = doc.get("cards")
    if isinstance(cards, list):
        return [(c.get("path", "") if isinstance(c, dict) else "", c) for c in cards]
    notes = doc.get("notes")
    if isinstance(notes, dict):
        return [(p, row) for p, rows in notes.items() if isinstance(rows, list) for row in rows]
    return []


# ---------------------------------------------------------------------------- writing


def note_block(path: str, cards: Iterable[tuple[str, str, int, str, str]]) -> bytes:
    """One note's entry: its cards (key, hash, mod, type, sketch) sorted by key, one a line
    (what json.dumps(row, ensure_ascii=False) writes, without its per-call overhead), each
    key as `_short_key` writes it.

    The indentation and the ", " between fields are format 2's: dropping them would save
    8 more bytes a card (5% of the lock), for a diff much harder to read."""
    prefix = _note_prefix(path)
    rows = ",\n".join(
        f"      [{_json_str(_short_key(k, prefix))}, {_json_str(h)}, {int(m)}, "
        f"{_json_str(t)}, {_json_str(s)}]"
        for k, h, m, t, s in sorted(cards)
    )
    return f"    {_json_str(path)}: [\n{rows}\n    ]".encode()


def read_block(block: bytes | memoryview) -> tuple[str, list[tuple[Any, ...]]]:
    """A note's path and its cards' rows (key, hash, mod, type, sketch) from its block as
    written, every key whole; the values are not checked. ValueError or TypeError when
    the block is broken."""
    ((path, rows),) = json.loads(b"{" + bytes(block) + b"}").items()
    prefix = _note_prefix(path)
    return path, [(_full_key(key, prefix), *rest) for key, *rest in rows]


def _note_prefix(path: str) -> str:
    """How the keys of a note's cards start when the note has no id of its own (see
    read.py: its key is then its path without ".md")."""
    return path.removesuffix(".md") + "#"


# In its note's block a card key that starts with the note's prefix is written from that
# prefix's "#" on: nearly every key, and in format 2 the note's path written again on every
# line was a quarter of the lock. Any other key (the cards of a note with an `id`, which
# keep their keys when the note moves) is written whole, behind "=" when it starts with
# "#" or "=" itself, so that every written key reads back as exactly one key.
def _short_key(key: str, prefix: str) -> str:
    if key.startswith(prefix):
        return key[len(prefix) - 1 :]
    return "=" + key if key[:1] in ("#", "=") else key


def _full_key(written: str, prefix: str) -> str:
    if written[:1] == "#":
        return prefix[:-1] + written
    return written[1:] if written[:1] == "=" else written


_json_str: Callable[[str], str] = json.encoder.encode_basestring

# The mod of each card line: after the key and the hash, before the type. Inside a JSON
# string every quote is escaped, so `, "` starts this pattern only between fields.
_MOD_FIELD = re.compile(rb'(, "[0-9a-f]*", )(?:0|[1-9][0-9]*)(?=, ")')


def unmodded_digest(block: bytes | memoryview) -> bytes:
    """A digest of a note's block with every mod written as 0: equal for two blocks that
    differ at most in their mods."""
    return hashlib.blake2b(_MOD_FIELD.sub(rb"\g<1>0", bytes(block)), digest_size=16).digest()


def stamps_digest(path: str, rows: Sequence[_StampRow]) -> bytes:
    """unmodded_digest of the block the lock has for `path` when none of these cards
    changed: the planner then keeps that block as it is, without reading it."""
    if not rows:
        return b""
    block = note_block(
        path, [(key, digest, 0, kind, sketch) for key, digest, kind, sketch, _ in rows]
    )
    return hashlib.blake2b(block, digest_size=16).digest()


@dataclass(frozen=True)
class LockText:
    """A lock file to write, as pieces: the blocks of untouched notes are runs of the lock
    as read (`old`), copied from it file to file, so a large lock is never held in memory."""

    parts: tuple[bytes | Kept, ...]
    spans: dict[str, tuple[int, int]]  # where each note's block lies in the file
    old: LockFile | None = None  # the lock the Kept parts lie in

    def pieces(self) -> Iterator[bytes | memoryview | FileRange]:
        """The parts as files.stage writes them: kept runs as pieces of the old lock."""
        source = self._source()
        for part in self.parts:
            yield source.piece(part.start, part.stop) if isinstance(part, Kept) else part

    def __bytes__(self) -> bytes:
        source = self._source()
        return b"".join(
            source.read(part.start, part.stop) if isinstance(part, Kept) else part
            for part in self.parts
        )

    def _source(self) -> LockSource:
        return self.old.source if self.old is not None else InMemory()  # lock_text checks


def lock_text(
    notetypes: Sequence[LockedNotetype],
    guids: Mapping[str, str],
    blocks: Mapping[str, bytes | Kept],
    old: LockFile | None = None,
    retired: Mapping[str, str] | None = None,
) -> LockText:
    """The lock file from its header and the notes' blocks; Kept ones lie in `old`.
    "retired" is written only when it holds a GUID (a lock without one reads as before)."""
    types = ",\n".join(
        "    " + json.dumps(_notetype_json(n), ensure_ascii=False, sort_keys=True)
        for n in sorted(notetypes, key=lambda n: n.id)
    )
    renamed = ",\n".join(
        f"    {json.dumps(k, ensure_ascii=False)}: {json.dumps(guids[k])}" for k in sorted(guids)
    )
    guids_json = f"{{\n{renamed}\n  }}" if renamed else "{}"
    retired_json = ""
    if retired:
        lines = ",\n".join(
            f"    {json.dumps(k, ensure_ascii=False)}: {json.dumps(retired[k])}"
            for k in sorted(retired)
        )
        retired_json = f'  "retired": {{\n{lines}\n  }},\n'
    head = (
        f'{{\n  "notedeck_lock": {LOCK_FORMAT},\n'
        f'  "notetypes": [\n{types}\n  ],\n'
        f'  "guids": {guids_json},\n'
        f"{retired_json}"
        f'  "notes": {{\n'
    ).encode()
    parts: list[bytes | Kept] = [head]
    spans: dict[str, tuple[int, int]] = {}
    at = len(head)
    glued = old is not None and old.glued
    for n, path in enumerate(sorted(blocks)):
        block = blocks[path]
        if isinstance(block, Kept):
            if old is None:
                raise ValueError("a kept block needs the lock it lies in")
            size = block.stop - block.start
            last = parts[-1]
            if glued and n and isinstance(last, Kept) and last.stop + 2 == block.start:
                # The next block of the old lock, behind the same ",\n": one run to copy.
                # Untouched notes sort the same in both locks: most of a lock is a few runs.
                parts[-1] = Kept(last.start, block.stop)
                spans[path] = (at + 2, at + 2 + size)
                at += 2 + size
                continue
        else:
            size = len(block)
        if n:
            parts.append(b",\n")
            at += 2
        parts.append(block)
        spans[path] = (at, at + size)
        at += size
    parts.append(b"\n  }\n}\n")
    return LockText(tuple(parts), spans, old)


def check_lock_target(path: Path) -> None:
    """NotALock when `path` is a file that a lock written there would destroy: anything
    but a notedeck lock (of any format, broken or conflicted as it may be), an empty file,
    or a file named notedeck.lock (a broken lock is replaced, as README says). A `lock =`
    setting could name README.md, poetry.lock or ~/.bashrc."""
    if path.name == "notedeck.lock":
        return
    try:
        with open(path, "rb") as handle:
            head = handle.read(1 << 16)
    except FileNotFoundError:
        return
    except OSError:
        return  # a folder, or unreadable: load_lock says what is wrong with it
    if head.strip() and b'"notedeck_lock"' not in head:
        raise NotALock(str(path))


def stage_lock(path: Path, text: LockText) -> Staged:
    """Write the lock beside its place (files.stage). LockChanged, and nothing written,
    when the lock its kept blocks come from changed on disk since it was read: a lock of
    two files would give wrong GUIDs without a word."""
    source = text._source()
    source.check()
    try:
        staged = stage(path, text.pieces())
    except EOFError:
        raise LockChanged(str(path)) from None
    try:
        source.check()  # not changed while it was copied either
    except BaseException:
        staged.discard()
        raise
    return staged


def _notetype_json(n: LockedNotetype) -> dict[str, object]:
    return {"id": n.id, "mod": n.mod, "name": n.name, "schema": n.schema, "templates": n.templates}


# ---------------------------------------------------------------------------- planning


@dataclass(frozen=True, slots=True)
class NotePlan:
    """One note's cards as this build gives them to Anki, and its new lock entry."""

    block: bytes  # b"" for a note without cards
    odd_guids: Mapping[str, str]  # key -> GUID for the cards that kept an older GUID


class Planner:
    """Gives every card its GUID and mod, note by note, and keeps count of what changed.

    An unchanged card keeps the mod the lock recorded; a changed or renamed one gets `now`,
    and always more than its recorded mod, since Anki updates a note only if it is newer.
    A card that appears under a new key continues a vanished card of the same note (or of
    a note that moved away) when its body is nearly the same: it keeps that GUID."""

    def __init__(self, lock: LockFile, now: int, moved_from: Set[str]) -> None:
        self.lock = lock
        self.now = now
        self.diagnostics: list[Diagnostic] = []
        self.added = CardChanges()
        self.changed = CardChanges()
        self.renamed: list[tuple[str, CardChange]] = []
        self.removed: list[LockedCard] = []
        self.given: set[str] = set()  # the GUID of every card planned
        self.revived: set[str] = set()  # keys that took their retired GUID back
        # The renamed cards (those with a GUID in lock.guids) of the blocks this plan read:
        # their GUIDs are planned again, the others' are kept.
        self.parsed_keys: set[str] = set()
        self.taken: set[str] = set(lock.guids.values())
        # Cards of notes whose path is gone: a moved note's cards live on under its new path.
        self.pool: dict[str, LockedCard] = {}
        for path in sorted(moved_from):
            for card in self._old(path):
                self.pool[card.key] = card

    def _old(self, path: str) -> tuple[LockedCard, ...]:
        cards, problem = self.lock.cards_of(path)
        if problem is not None:
            self.diagnostics.append(problem)
        self.parsed_keys.update(c.key for c in cards if c.odd_guid)
        return cards

    def plan(self, path: str, stamps: Sequence[CardStamp]) -> NotePlan:
        old = {c.key: c for c in self._old(path)}
        here = {s.key for s in stamps}
        before: list[LockedCard | None] = []
        for s in stamps:
            prior = old.get(s.key) or self.pool.pop(s.key, None)
            before.append(prior)
        gone = [c for k, c in old.items() if k not in here]
        fresh = [i for i, b in enumerate(before) if b is None]
        if fresh and (gone or self.pool):
            renames = _match_renames([*gone, *self.pool.values()], [stamps[i] for i in fresh])
            for i in fresh:
                continued = renames.get(stamps[i].key)
                if continued is not None:
                    before[i] = continued
                    if continued.key in self.pool:
                        del self.pool[continued.key]
            matched = {b.key for b in before if b is not None}
            gone = [c for c in gone if c.key not in matched]
        self.removed.extend(gone)
        entries = []
        odd: dict[str, str] = {}
        here_guids = {s.guid for s in stamps}
        added: list[CardChange] = []
        changed: list[CardChange] = []
        for s, prior in zip(stamps, before, strict=True):
            back = self.lock.retired.get(s.key, "") if prior is None else ""
            if (
                back
                and back not in self.taken
                and back not in self.given
                and back not in here_guids
            ):
                # A renamed card whose note left and came back: its GUID, not a new card.
                guid, mod = back, self.now
                self.revived.add(s.key)
                added.append(CardChange(s.key, guid))
                if guid != s.guid:
                    odd[s.key] = guid
            elif prior is None:
                guid = s.guid if s.guid not in self.taken else fresh_guid(s.key, self.taken)
                mod = self.now
                added.append(CardChange(s.key, guid))
                if guid != s.guid:
                    odd[s.key] = guid
            elif prior.hash == s.hash and prior.key == s.key:
                mod = prior.mod
                if prior.odd_guid:
                    odd[s.key] = prior.odd_guid
            else:
                guid, mod = prior.guid, max(self.now, prior.mod + 1)
                if prior.key == s.key:
                    changed.append(CardChange(s.key, guid))
                else:
                    self.renamed.append((prior.key, CardChange(s.key, guid)))
                if guid != s.guid:
                    odd[s.key] = guid
            self.given.add(odd.get(s.key, s.guid))
            sketch = prior.sketch if prior is not None and prior.hash == s.hash else s.sketch
            entries.append((s.key, s.hash, mod, s.type, sketch))
        self.taken.update(odd.values())
        self.added.add_note(added)
        self.changed.add_note(changed)
        block = note_block(path, entries) if entries else b""
        return NotePlan(block, odd)

    def finish(self, live: Set[str] = frozenset()) -> list[LockedCard]:
        """Every card that left the notes, sorted by key; never one whose GUID a card of
        this build has (in `live`, or planned here): a lock merged by hand can hold a
        card under its old key beside its renamed self, and the search to delete the old
        key would then delete the live note in a collection that has not imported since."""
        self.removed.extend(self.pool.values())
        self.pool.clear()
        self.removed[:] = sorted(
            (c for c in self.removed if c.guid not in self.given and c.guid not in live),
            key=lambda c: c.key,
        )
        return self.removed


def plan_notetypes(
    shapes: Sequence[NotetypeShape], lock: LockFile, now: int
) -> tuple[dict[int, int], tuple[LockedNotetype, ...], list[Diagnostic]]:
    before = {n.id: n for n in lock.notetypes}
    mods: dict[int, int] = {}
    diagnostics: list[Diagnostic] = []
    for shape in shapes:
        prior = before.get(shape.id)
        if prior is None:
            mods[shape.id] = now
            continue
        if prior.schema != shape.schema:
            diagnostics.append(
                Diagnostic(
                    Level.WARNING,
                    "notetype.split",
                    lock.where,
                    1,
                    f"the fields or card types of the notetype '{shape.name}' changed since the "
                    f"last build. When you import, tick 'Merge note types' in Anki's import dialog "
                    f"(Anki then asks for a one-way full sync); otherwise Anki adds a copy "
                    f"'{shape.name}+' and skips every card you already have.",
                )
            )
        same = prior.schema == shape.schema and prior.templates == shape.templates
        mods[shape.id] = prior.mod if same else max(now, prior.mod + 1)
    types = tuple(LockedNotetype(s.id, s.name, s.schema, s.templates, mods[s.id]) for s in shapes)
    return mods, types, diagnostics


class _Keyed(Protocol):
    @property
    def key(self) -> str: ...


class _Named(Protocol):
    @property
    def name(self) -> str: ...


def removal_search(removed: Sequence[_Keyed], notetypes: Sequence[_Named]) -> str:
    """An Anki browser search that selects exactly the notes of `removed` (by their Key
    field) among those of `notetypes` (shapes, or the lock's notetypes)."""
    if not removed:
        return ""
    types = " OR ".join(f'"note:{_escape(n.name)}"' for n in notetypes)
    keys = " OR ".join(f'"Key:{_escape(html.escape(c.key))}"' for c in removed)
    return f"({types}) ({keys})"


def _escape(text: str) -> str:
    # Inside a quoted Anki search term, \ and " are escaped, and * and _ are wildcards.
    return re.sub(r'([\\"*_])', r"\\\1", text)


def _match_renames(gone: Sequence[LockedCard], fresh: Sequence[CardStamp]) -> dict[str, LockedCard]:
    """New key -> the vanished card it continues: same notetype and nearly the same body.
    Best pairs first."""
    by_hash: dict[str, list[LockedCard]] = defaultdict(list)
    for c in gone:
        for h in _split(c.sketch):
            by_hash[h].append(c)
    pairs: list[tuple[float, str, str, LockedCard]] = []
    for s in fresh:
        sketch = _split(s.sketch)
        seen: set[str] = set()
        for h in sketch:
            bucket = by_hash.get(h, ())
            if len(bucket) > _COMMON:  # a word in every card says nothing about this one
                continue
            for c in bucket:
                if c.key in seen or c.type != s.type:
                    continue
                seen.add(c.key)
                score = _similarity(sketch, _split(c.sketch))
                if score >= RENAME_SIMILARITY:
                    pairs.append((-score, c.key, s.key, c))
    matched: dict[str, LockedCard] = {}
    used: set[str] = set()
    for _, old_key, new_key, c in sorted(pairs, key=lambda p: p[:3]):
        if old_key not in used and new_key not in matched:
            used.add(old_key)
            matched[new_key] = c
    return matched


def _body(card: RenderedCard) -> str:
    # What the card teaches, without its question, context or links: the part that stays
    # the same when a heading is reworded or a note moves.
    return card.fields[0] if card.cloze else card.fields[1]


_TAG = re.compile(r"<[^>]*>")
_WORDS = re.compile(r"[^\W\d_]+")


# ASCII text (nearly all of it) is casefolded and split into letter runs by one
# bytes.translate: a letter maps to its lower case, anything else to a space.
_ASCII_WORD_BYTES = bytes(
    (ord(chr(c).lower()) if chr(c).isalpha() else 32) if c < 128 else c for c in range(256)
)
_MASK = 0xFFFFFF  # a sketch keeps the low 24 bits of each feature's CRC-32
# A sketch writes each 24-bit hash as 4 digits of base 64 (format 2 wrote 6 hex digits).
# The digits are base64url's in ASCII order, so that sketches compare as strings the way
# their hashes compare as numbers: _similarity's bottom-k union needs that order, and no
# hash is ever decoded.
_DIGITS = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_HALVES = tuple(a + b for a in _DIGITS for b in _DIGITS)  # every 12-bit number, 2 digits
_HASH_WIDTH = 4
_HEX_SKETCH = re.compile(rf"(?:[0-9a-f]{{6}}){{0,{_SKETCH}}}")


def _words(text: str) -> list[bytes]:
    """The runs of letters in `text` casefolded (what _WORDS finds), in UTF-8."""
    if text.isascii():  # casefold() of ASCII text is lower()
        return text.encode().translate(_ASCII_WORD_BYTES).split()
    # A run of letters holds no ASCII whitespace, and UTF-8 encodes a non-ASCII character
    # without ASCII bytes: the runs joined by spaces, encoded and split give each run's bytes.
    return " ".join(_WORDS.findall(text.casefold())).encode().split()


def _sketch(fragment: str) -> str:
    """The `_SKETCH` smallest hashes (the low 24 bits of the CRC-32 of their UTF-8) of the
    body's features, its words and pairs of adjacent words, in 4 base-64 digits each.

    Every occurrence is hashed and the hashes deduplicated: the same set as the hashes of
    the distinct features, with no set of strings built first."""
    words = _words(html.unescape(_TAG.sub(" ", fragment)))
    pairs = map(b" ".join, itertools.pairwise(words))
    crcs = itertools.chain(map(zlib.crc32, words), map(zlib.crc32, pairs))
    return _base64(sorted({h & _MASK for h in crcs})[:_SKETCH])


def _base64(hashes: Iterable[int]) -> str:
    return "".join([_HALVES[h >> 12] + _HALVES[h & 0xFFF] for h in hashes])


def _sketch_from_hex(sketch: object) -> object:
    """A sketch of formats 1 and 2 (6 hex digits a hash) in base 64. Anything else that is
    text is no sketch (the card is then never taken for a renamed one); what is not text
    is left for the caller to refuse."""
    if not isinstance(sketch, str):
        return sketch
    if not _HEX_SKETCH.fullmatch(sketch):
        return ""
    return _base64(int(sketch[i : i + 6], 16) for i in range(0, len(sketch), 6))


def _split(sketch: str) -> list[str]:
    return [sketch[i : i + _HASH_WIDTH] for i in range(0, len(sketch), _HASH_WIDTH)]


def _similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """Estimated Jaccard similarity of two bottom-k sketches."""
    union = sorted(set(a) | set(b))[:_SKETCH]
    if not union:
        return 0.0
    return sum(1 for h in union if h in a and h in b) / len(union)


def _corrupt(where: str, line: int, problem: str) -> Diagnostic:
    return Diagnostic(
        Level.WARNING,
        "lock.corrupt",
        where,
        line,
        f"the lock file is broken ({problem}); it is written anew, with a copy of it as it "
        f"was in {where}.bak. Restore it from version control if you can: cards renamed in "
        "earlier builds whose lines were lost lose their old identity (Anki adds them as "
        "new cards).",
    )


def stage_backup(path: Path) -> Staged | None:
    """A copy of the lock as it is, beside it (`notedeck.lock.bak`, or `.bak.2`... when an
    older backup is there): written before a lock that could not all be read is replaced."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    n = 1
    backup = path.with_name(path.name + ".bak")
    while backup.exists():
        if backup.is_file() and backup.read_bytes() == data:
            return None
        n += 1
        backup = path.with_name(f"{path.name}.bak.{n}")
    return stage(backup, data)
