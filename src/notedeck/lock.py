"""The lock file: what the last build gave Anki, so the next build changes exactly what changed."""

from __future__ import annotations

import html
import itertools
import json
import re
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, fields, replace
from pathlib import Path

from notedeck.identity import fresh_guid
from notedeck.model import Card, Diagnostic, Level
from notedeck.package import NotetypeShape, write_atomically
from notedeck.render import RenderedCard

LOCK_FORMAT = 1
# Two versions of a card are "nearly the same" when at least this share of their words and
# word pairs is common (estimated from the sketches the lock keeps).
RENAME_SIMILARITY = 0.6
_SKETCH = 8  # smallest feature hashes kept per card
_COMMON = 200  # a feature hash shared by more vanished cards than this is not searched


@dataclass(frozen=True, slots=True)
class LockedCard:
    """One card as the last build wrote it."""

    key: str
    guid: str
    hash: str  # RenderedCard.content_hash
    mod: int  # the note mod Anki holds for it
    path: str  # the note it came from, under the notes folder
    type: str  # "qa" or "cloze": the notetype, which a GUID can never change
    sketch: str  # a few word hashes of its body, to recognise it under a new key
    title: str  # what the user knows it by (its question)


@dataclass(frozen=True, slots=True)
class LockedNotetype:
    id: int
    name: str
    schema: str
    templates: str
    mod: int


@dataclass(frozen=True, slots=True)
class Lock:
    cards: tuple[LockedCard, ...] = ()
    notetypes: tuple[LockedNotetype, ...] = ()


@dataclass(frozen=True, slots=True)
class Update:
    """What this build gives Anki, measured against the lock."""

    cards: tuple[RenderedCard, ...]  # with the GUIDs the lock says they have
    note_mods: dict[str, int]  # by GUID
    model_mods: dict[int, int]  # by notetype id
    lock: Lock  # the lock to write once every package is written
    added: tuple[RenderedCard, ...]
    changed: tuple[RenderedCard, ...]
    renamed: tuple[tuple[str, RenderedCard], ...]  # (old key, card)
    removed: tuple[LockedCard, ...]
    diagnostics: tuple[Diagnostic, ...]


def load_lock(path: Path, *, had_packages: bool = False) -> tuple[Lock, list[Diagnostic]]:
    """Read the lock; a missing or broken one gives an empty lock and a warning, never a crash."""
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        level = Level.WARNING if had_packages else Level.INFO
        return Lock(), [
            Diagnostic(
                level,
                "lock.missing",
                where,
                1,
                "no lock file yet: every card counts as new; it is written "
                "now (commit it with your notes).",
            )
        ]
    except (OSError, UnicodeDecodeError) as exc:
        return Lock(), [_corrupt(where, 1, f"cannot read it ({exc})")]
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return Lock(), [_corrupt(where, exc.lineno, exc.msg)]
    if not isinstance(data, dict) or data.get("notedeck_lock") != LOCK_FORMAT:
        return Lock(), [_corrupt(where, 1, "not a notedeck lock of this version")]
    lines = text.splitlines()
    index: dict[str, int] = {}  # filled on the first broken entry
    diagnostics: list[Diagnostic] = []
    cards: dict[str, LockedCard] = {}
    card_names = [f.name for f in fields(LockedCard)]
    for raw in data.get("cards") or []:
        try:
            card = LockedCard(**{name: raw[name] for name in card_names})
            if not isinstance(card.mod, int) or card.key in cards:
                raise TypeError
        except (TypeError, KeyError):
            diagnostics.append(
                _corrupt(where, _line_of(lines, raw, index), "a card entry is broken")
            )
            continue
        cards[card.key] = card
    notetypes = []
    for raw in data.get("notetypes") or []:
        try:
            notetypes.append(
                LockedNotetype(**{f.name: raw[f.name] for f in fields(LockedNotetype)})
            )
        except (TypeError, KeyError):
            diagnostics.append(
                _corrupt(where, _line_of(lines, raw, index), "a notetype entry is broken")
            )
    return Lock(tuple(cards.values()), tuple(notetypes)), diagnostics


def lock_text(lock: Lock) -> str:
    """The lock as sorted JSON with one card per line, so that its diff reads as the change."""

    def rows(items: Iterable[LockedCard | LockedNotetype], kind: type) -> str:
        # Every value is a str or an int: a shallow dict is what asdict() would make.
        names = [f.name for f in fields(kind)]
        return ",\n".join(
            "    "
            + json.dumps({n: getattr(i, n) for n in names}, ensure_ascii=False, sort_keys=True)
            for i in items
        )

    types = sorted(lock.notetypes, key=lambda n: n.id)
    cards = sorted(lock.cards, key=lambda c: c.key)
    return (
        f'{{\n  "notedeck_lock": {LOCK_FORMAT},\n'
        f'  "notetypes": [\n{rows(types, LockedNotetype)}\n  ],\n'
        f'  "cards": [\n{rows(cards, LockedCard)}\n  ]\n}}\n'
    )


def save_lock(path: Path, lock: Lock) -> None:
    write_atomically(path, lock_text(lock).encode())


def plan_update(
    cards: Sequence[Card],
    rendered: Sequence[RenderedCard],
    notetypes: Sequence[NotetypeShape],
    lock: Lock,
    now: int,
    *,
    unread: Set[str] = frozenset(),
    where: str = "notedeck.lock",
) -> Update:
    """Give every card its GUID and mod, and say what changed since the lock.

    An unchanged card keeps the mod the lock recorded; a changed or renamed one gets `now`,
    and always more than its recorded mod, since Anki updates a note only if it is newer.
    Cards of notes that could not be read this time (`unread` paths) stay in the lock."""
    old = {c.key: c for c in lock.cards}
    paths = {c.note_path for c in cards}
    new_keys = {r.key for r in rendered}
    gone = [c for c in lock.cards if c.key not in new_keys and c.path not in unread]
    kept_over = [c for c in lock.cards if c.key not in new_keys and c.path in unread]
    fresh = [(c, r) for c, r in zip(cards, rendered, strict=True) if r.key not in old]
    renames = _match_renames(gone, fresh, paths)

    taken = {c.guid for c in kept_over} | {old[r.key].guid for r in rendered if r.key in old}
    taken |= {o.guid for o in renames.values()}
    out: list[RenderedCard] = []
    entries: list[LockedCard] = list(kept_over)
    mods: dict[str, int] = {}
    added, changed, renamed = [], [], []
    for card, r in zip(cards, rendered, strict=True):
        before = old.get(r.key) or renames.get(r.key)
        if before is None:
            guid, mod = fresh_guid(r.key, taken), now
            taken.add(guid)
            added.append(replace(r, guid=guid))
        elif before.hash == r.content_hash and before.key == r.key:
            guid, mod = before.guid, before.mod
        else:
            guid, mod = before.guid, max(now, before.mod + 1)
            if before.key == r.key:
                changed.append(replace(r, guid=guid))
            else:
                renamed.append((before.key, replace(r, guid=guid)))
        if r.guid != guid:
            r = replace(r, guid=guid)
        out.append(r)
        mods[guid] = mod
        entries.append(
            LockedCard(
                r.key,
                guid,
                r.content_hash,
                mod,
                card.note_path,
                "cloze" if r.cloze else "qa",
                # the body has not changed when the hash has not: no need to hash it again
                before.sketch if before and before.hash == r.content_hash else _sketch(_body(r)),
                _title(card),
            )
        )

    continued = {o.key for o in renames.values()}
    removed = [c for c in gone if c.key not in continued]
    model_mods, types, diagnostics = _notetypes(notetypes, lock, now, where)
    return Update(
        tuple(out),
        mods,
        model_mods,
        Lock(tuple(entries), types),
        tuple(added),
        tuple(changed),
        tuple(renamed),
        tuple(sorted(removed, key=lambda c: c.key)),
        tuple(diagnostics),
    )


def removal_search(removed: Sequence[LockedCard], notetypes: Sequence[NotetypeShape]) -> str:
    """An Anki browser search that selects exactly the notes of `removed` (by their Key field)."""
    if not removed:
        return ""
    types = " OR ".join(f'"note:{_escape(n.name)}"' for n in notetypes)
    keys = " OR ".join(f'"Key:{_escape(html.escape(c.key))}"' for c in removed)
    return f"({types}) ({keys})"


def _escape(text: str) -> str:
    # Inside a quoted Anki search term, \ and " are escaped, and * and _ are wildcards.
    return re.sub(r'([\\"*_])', r"\\\1", text)


def _notetypes(
    shapes: Sequence[NotetypeShape], lock: Lock, now: int, where: str
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
                    where,
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


def _match_renames(
    gone: Sequence[LockedCard], fresh: Sequence[tuple[Card, RenderedCard]], paths: Set[str]
) -> dict[str, LockedCard]:
    """New key -> the vanished card it continues: same notetype, same note (or a note whose
    old path is gone, i.e. moved), and nearly the same body. Best pairs first."""
    if not gone:
        return {}
    by_hash: dict[str, list[LockedCard]] = defaultdict(list)
    for c in gone:
        for h in _split(c.sketch):
            by_hash[h].append(c)
    pairs: list[tuple[float, str, str, LockedCard]] = []
    for card, r in fresh:
        sketch = _split(_sketch(_body(r)))
        kind = "cloze" if r.cloze else "qa"
        seen: set[str] = set()
        for h in sketch:
            bucket = by_hash.get(h, ())
            if len(bucket) > _COMMON:  # a word in every card says nothing about this one
                continue
            for c in bucket:
                if c.key in seen or c.type != kind:
                    continue
                seen.add(c.key)
                if c.path != card.note_path and c.path in paths:
                    continue
                score = _similarity(sketch, _split(c.sketch))
                if score >= RENAME_SIMILARITY:
                    pairs.append((-score, c.key, r.key, c))
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


def _sketch(fragment: str) -> str:
    words = _WORDS.findall(html.unescape(_TAG.sub(" ", fragment)).casefold())
    features = {*words, *map(" ".join, itertools.pairwise(words))}
    hashes = sorted({zlib.crc32(f.encode()) & 0xFFFFFF for f in features})[:_SKETCH]
    return "".join(f"{h:06x}" for h in hashes)


def _split(sketch: str) -> list[str]:
    return [sketch[i : i + 6] for i in range(0, len(sketch), 6)]


def _similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """Estimated Jaccard similarity of two bottom-k sketches."""
    union = sorted(set(a) | set(b))[:_SKETCH]
    if not union:
        return 0.0
    return sum(1 for h in union if h in a and h in b) / len(union)


def _title(card: Card) -> str:
    text = html.unescape(_TAG.sub("", re.sub(r"\{\{c\d+::(.*?)\}\}", r"[\1]", card.question)))
    text = " ".join(text.split())
    where = f"{card.note_title} > {card.section}" if card.section else card.note_title
    return f"{where}: {text[:100]}"


def _line_of(lines: Sequence[str], raw: object, index: dict[str, int]) -> int:
    key = raw.get("key") if isinstance(raw, dict) else None
    if not key:
        return 1
    needle = json.dumps(key, ensure_ascii=False)
    # In JSON a quoted needle can only match a whole string of a line, so the first line
    # holding that string is the first line holding the needle: one pass over the lines
    # for every broken entry instead of one pass each. Other needles take the long way.
    if not index:
        for n, line in enumerate(lines, 1):
            for string in _JSON_STRING.findall(line):
                index.setdefault(string, n)
    if needle in index and not _PUNCTUATION.fullmatch(key):
        return index[needle]
    for n, line in enumerate(lines, 1):
        if needle in line:
            return n
    return 1


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_PUNCTUATION = re.compile(r"[\s:,{}\[\]]*")


def _corrupt(where: str, line: int, problem: str) -> Diagnostic:
    return Diagnostic(
        Level.WARNING,
        "lock.corrupt",
        where,
        line,
        f"the lock file is broken ({problem}); restore it from version control "
        "if you can. Otherwise it is rebuilt from this build, and cards renamed "
        "in earlier builds lose their old identity (Anki adds them as new cards).",
    )
