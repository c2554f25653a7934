"""Write rendered cards as an .apkg: same cards and mod times, same bytes; written atomically."""

from __future__ import annotations

import hashlib
import html
import io
import itertools
import json
import os
import re
import sqlite3
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from notedeck.identity import CLOZE_MODEL_ID, QA_MODEL_ID, deck_id
from notedeck.render import CLOZE_FIELDS, QA_FIELDS, RenderedCard, Templates

if TYPE_CHECKING:
    import genanki

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
# Deflate level 1: 2.5x faster than the default 6 on a deck's database, for files
# about a fifth larger (measured on the largest deck of the 18k-note corpus).
_LEVEL = 1


def notetype(templates: Templates, *, cloze: bool) -> genanki.Model:
    """One of notedeck's two notetypes; ids, names, fields and card types never change."""
    import genanki  # slow to import: only when a package is built

    front, back = (
        (templates.cloze_front, templates.cloze_back)
        if cloze
        else (templates.qa_front, templates.qa_back)
    )
    return genanki.Model(
        CLOZE_MODEL_ID if cloze else QA_MODEL_ID,
        "notedeck Cloze" if cloze else "notedeck Q&A",
        fields=[{"name": f} for f in (CLOZE_FIELDS if cloze else QA_FIELDS)],
        templates=[{"name": "Cloze" if cloze else "Card 1", "qfmt": front, "afmt": back}],
        css=templates.css,
        model_type=genanki.Model.CLOZE if cloze else genanki.Model.FRONT_BACK,
        sort_field_index=0,
    )


@dataclass(frozen=True, slots=True)
class NotetypeShape:
    """What Anki compares when a package brings a notetype it already has."""

    id: int
    name: str
    schema: str  # fields and card types: a change here makes Anki split the notetype
    templates: str  # front, back and CSS: a change here applies with a newer mod


def notetype_shapes(templates: Templates) -> tuple[NotetypeShape, ...]:
    shapes = []
    for model in (notetype(templates, cloze=False), notetype(templates, cloze=True)):
        schema = [
            model.model_id,
            model.model_type,
            [f["name"] for f in model.fields],
            [t["name"] for t in model.templates],
        ]
        looks = [model.name, model.css, [[t["qfmt"], t["afmt"]] for t in model.templates]]
        shapes.append(NotetypeShape(model.model_id, model.name, _digest(schema), _digest(looks)))
    return tuple(shapes)


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:16]


def package_bytes(
    cards: Sequence[RenderedCard],
    templates: Templates,
    note_mods: Mapping[str, int],
    model_mod: int | Mapping[int, int],
    media: Mapping[str, bytes] | None = None,
) -> bytes:
    """The .apkg bytes for `cards`; `note_mods` gives each card's mod time by GUID and
    `model_mod` the notetypes' mod time (one for all, or by notetype id).

    `media` maps Anki media file names (as the cards' `<img src>` use them) to their bytes.
    """
    if isinstance(model_mod, Mapping):
        model_mods, default_mod = dict(model_mod), max(model_mod.values(), default=0)
    else:
        model_mods, default_mod = {}, model_mod
    ordered = sorted(cards, key=lambda c: (c.deck, c.key))
    newest = max([default_mod, *(note_mods.get(c.guid, default_mod) for c in ordered)])
    conn = sqlite3.connect(":memory:")
    try:
        decks = sorted({c.deck for c in ordered})
        _write_skeleton(conn, templates, decks, model_mods, default_mod, newest)
        # Ids only need to be unique within the package; tying them to the newest mod keeps
        # them stable from one build to the next while nothing changes.
        notes, card_rows = _rows(ordered, note_mods, default_mod, newest * 1000)
        # Rows first, indexes after: one sort per index instead of an update per row.
        indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type='index'").fetchall()
        for name, _sql in indexes:
            conn.execute(f'DROP INDEX "{name}"')
        conn.executemany("INSERT INTO notes VALUES(?,?,?,?,-1,?,?,?,0,0,'')", notes)
        conn.executemany(
            "INSERT INTO cards VALUES(?,?,?,?,?,-1,0,0,0,0,0,0,0,0,0,0,0,'')", card_rows
        )
        for _name, sql in indexes:
            conn.execute(sql)
        conn.commit()
        database = conn.serialize()
    finally:
        conn.close()
    # Anki reads zip entries "0", "1", ... and the "media" map from entry to file name;
    # sorted names keep the bytes the same from one build to the next.
    names = sorted(media or {})
    entries = {"collection.anki2": database}
    entries.update({str(n): (media or {})[name] for n, name in enumerate(names)})
    entries["media"] = json.dumps({str(n): name for n, name in enumerate(names)}).encode()
    return _zip(entries)


_CLOZE_NUMBER = re.compile(r"{{c(\d+)::.+?}}", re.DOTALL)


def _rows(
    cards: Sequence[RenderedCard], note_mods: Mapping[str, int], default_mod: int, first_id: int
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The notes and cards table rows of `cards`, with ids counted up from `first_id`.

    A Q&A note has one card; a cloze note one per cloze number its text uses (what
    Anki itself would generate)."""
    notes: list[tuple[object, ...]] = []
    rows: list[tuple[object, ...]] = []
    next_id = first_id
    decks: dict[str, int] = {}
    for card in cards:
        mod = note_mods.get(card.guid, default_mod)
        note_id = next_id
        next_id += 1
        tags = f" {' '.join(card.tags)} "
        mid = CLOZE_MODEL_ID if card.cloze else QA_MODEL_ID
        notes.append((note_id, card.guid, mid, mod, tags, "\x1f".join(card.fields), card.fields[0]))
        did = decks.get(card.deck)
        if did is None:
            did = decks[card.deck] = deck_id(card.deck)
        if card.cloze:
            ords = sorted({int(n) - 1 for n in _CLOZE_NUMBER.findall(card.fields[0]) if int(n)})
        else:
            ords = [0] if card.fields[0] else []
        for ord_ in ords:
            rows.append((next_id, note_id, did, ord_, mod))
            next_id += 1
    return notes, rows


def _write_skeleton(
    conn: sqlite3.Connection,
    templates: Templates,
    decks: Sequence[str],
    model_mods: Mapping[int, int],
    default_mod: int,
    newest: int,
) -> None:
    """The tables, and the collection row with the decks and both notetypes."""
    import genanki  # slow to import: only when a package is built

    models = [notetype(templates, cloze=False), notetype(templates, cloze=True)]
    package = genanki.Package([genanki.Deck(deck_id(name), name) for name in decks])
    for deck in package.decks:
        for model in models:
            deck.add_model(model)
    cursor = conn.cursor()
    package.write_to_db(cursor, default_mod, itertools.count())
    (models_json,) = cursor.execute("SELECT models FROM col").fetchone()
    stored = json.loads(models_json)
    for model_json in stored.values():
        model_json["mod"] = model_mods.get(int(model_json["id"]), default_mod)
    cursor.execute(
        "UPDATE col SET models = ?, mod = ?", (json.dumps(stored, sort_keys=True), newest)
    )


_IMG_SRC = re.compile(r'<img\b[^>]*?\ssrc="([^"]+)"')


def media_names(cards: Sequence[RenderedCard]) -> set[str]:
    """The media file names the cards' fields show."""
    return {html.unescape(m) for c in cards for f in c.fields for m in _IMG_SRC.findall(f)}


def _zip(entries: Mapping[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o644 << 16
            archive.writestr(info, entries[name], compresslevel=_LEVEL)
    return buffer.getvalue()


def write_atomically(path: Path, data: bytes | Iterable[bytes | memoryview]) -> None:
    """Write `data` (bytes, or pieces of it) to `path` so that a reader sees the old file or
    the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:
                handle.writelines(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
