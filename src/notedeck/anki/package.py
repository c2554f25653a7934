"""Write rendered cards as an .apkg: same cards and mod times, same bytes; written atomically."""

from __future__ import annotations

import hashlib
import html
import itertools
import json
import re
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from notedeck.anki.identity import CLOZE_MODEL_ID, QA_MODEL_ID, deck_id
from notedeck.anki.render import CLOZE_FIELDS, FIELD_HELP, QA_FIELDS, RenderedCard, Templates

if TYPE_CHECKING:
    import genanki


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
        fields=[
            {"name": f, "description": FIELD_HELP[f][0], "collapsed": FIELD_HELP[f][1]}
            for f in (CLOZE_FIELDS if cloze else QA_FIELDS)
        ],
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
        looks.append([[f["description"], f["collapsed"]] for f in model.fields])
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
    newest = max([default_mod, *(note_mods.get(c.guid, default_mod) for c in cards)])
    with tempfile.TemporaryDirectory(prefix="notedeck-") as folder:
        path = Path(folder) / "deck.apkg"
        writer = PackageWriter(path, templates, newest, model_mods, default_mod)
        try:
            writer.add(sorted(cards, key=lambda c: (c.deck, c.key)), note_mods)
            writer.finish(media or {})
        finally:
            writer.discard()
        return path.read_bytes()


class PackageWriter:
    """One .apkg written a few notes at a time: the rows go into an SQLite file beside the
    package, and the zip is written from that file, so memory grows with the deck only by
    the cards table's few numbers a card (held until the last note is in).

    The same cards added in the same order give the same bytes. Ids only need to be unique
    within the package; counting them up from the newest mod keeps them stable from one
    build to the next while nothing changes."""

    def __init__(
        self,
        path: Path,
        templates: Templates,
        newest: int,
        model_mods: Mapping[int, int],
        default_mod: int,
        *,
        database: Path | None = None,
        previous: Path | None = None,
    ) -> None:
        """`newest` is the newest mod of all (ids count up from it), `model_mods` the
        notetypes' mods by id and `default_mod` the mod of a card `add` is given none for.
        The rows go into `database` (default: beside the package); `previous` is the
        database of an earlier package whose rows `copy` may take."""
        self.path = path
        self.templates = templates
        self.newest = newest
        self.model_mods = dict(model_mods)
        self.default_mod = default_mod
        self.decks: set[str] = set()
        self.cards = 0
        self._next_id = newest * 1000
        self._database = database or path.with_name(f"{path.name}.db")
        self._database.unlink(missing_ok=True)
        self._kept = False
        # Notes go into the database as they come, but cards only after the last note: one
        # table, then the other, so that a copied note and a note written again leave the
        # same pages. What is waiting: a copy (start, end, id shift) or rows to insert.
        self._notes_to_copy: tuple[int, int, int] | None = None
        self._card_parts: list[tuple[int, int, int] | list[tuple[object, ...]]] = []
        self._conn = sqlite3.connect(self._database, isolation_level=None)
        if previous is not None:  # before BEGIN: SQLite attaches outside transactions
            self._conn.execute("ATTACH DATABASE ? AS previous", (str(previous),))
        self._conn.execute("PRAGMA journal_mode = OFF")
        self._conn.execute("PRAGMA synchronous = OFF")
        self._conn.execute("BEGIN")
        _create_tables(self._conn)
        # Rows first, indexes at the end: one sort per index instead of an update per row.
        self._indexes = self._conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name"
        ).fetchall()
        for name, _sql in self._indexes:
            self._conn.execute(f'DROP INDEX "{name}"')

    def add(self, cards: Sequence[RenderedCard], note_mods: Mapping[str, int]) -> None:
        """Add notes (one per card) with their mod times by GUID."""
        notes, rows = _rows(cards, note_mods, self.default_mod, self._next_id)
        self._copy_notes()
        self._conn.executemany("INSERT INTO notes VALUES(?,?,?,?,-1,?,?,?,0,0,'')", notes)
        self._card_parts.append(rows)
        self._next_id += len(notes) + len(rows)
        self.decks.update(c.deck for c in cards)
        self.cards += len(cards)

    @property
    def next_id(self) -> int:
        return self._next_id

    def copy(self, start: int, end: int, cards: int, decks: Iterable[str]) -> None:
        """Add the notes the previous database holds under ids start..end-1 (one note's
        cards, added there by one `add`): the rows `add` would write for the same cards,
        under this package's ids, copied by SQLite without passing through Python.

        Copies that follow on from each other in both databases are made as one: an edit
        in a large deck copies its thousands of notes in a few statements."""
        shift = self._next_id - start
        if self._notes_to_copy and self._notes_to_copy[1] == start:  # and so the same shift
            self._notes_to_copy = (self._notes_to_copy[0], end, shift)
        else:
            self._copy_notes()
            self._notes_to_copy = (start, end, shift)
        last = self._card_parts[-1] if self._card_parts else None
        if isinstance(last, tuple) and last[1] == start:
            self._card_parts[-1] = (last[0], end, shift)
        else:
            self._card_parts.append((start, end, shift))
        self._next_id += end - start
        self.decks.update(decks)
        self.cards += cards

    def _copy_notes(self) -> None:
        if self._notes_to_copy:
            start, end, shift = self._notes_to_copy
            self._conn.execute(_COPY_NOTES, (shift, start, end))
            self._notes_to_copy = None

    def _insert_cards(self) -> None:
        """The cards table, after every note: its rows go in in the order of their ids
        whichever notes were copied, so the file's pages are the same either way."""
        for part in self._card_parts:
            if isinstance(part, tuple):
                start, end, shift = part
                self._conn.execute(_COPY_CARDS, (shift, shift, start, end))
            else:
                self._conn.executemany(
                    "INSERT INTO cards VALUES(?,?,?,?,?,-1,0,0,0,0,0,0,0,0,0,0,0,'')", part
                )
        self._card_parts.clear()

    def finish(self, media: Mapping[str, bytes]) -> None:
        """The cards, the collection row, the indexes, and the zip at `path`."""
        self._copy_notes()
        self._insert_cards()
        _write_collection(
            self._conn,
            self.templates,
            sorted(self.decks),
            self.model_mods,
            self.default_mod,
            self.newest,
        )
        for _name, sql in self._indexes:
            self._conn.execute(sql)
        self._conn.execute("COMMIT")
        self._conn.close()
        # Anki reads zip entries "0", "1", ... and the "media" map from entry to file name;
        # sorted names keep the bytes the same from one build to the next.
        names = sorted(media)
        index = json.dumps({str(n): name for n, name in enumerate(names)}).encode()
        members: list[tuple[str, Path | bytes]] = [
            ("collection.anki2", self._database),
            *((str(n), media[name]) for n, name in enumerate(names)),
            ("media", index),
        ]
        _write_zip(self.path, members)

    def keep(self) -> Path:
        """The finished database, which `discard` then leaves in place."""
        self._kept = True
        return self._database

    def discard(self) -> None:
        """Remove the database file (after finish, unless kept, or after a failure)."""
        try:
            self._conn.close()
        finally:
            if not self._kept:
                self._database.unlink(missing_ok=True)


_COPY_NOTES = (
    "INSERT INTO notes SELECT id + ?, guid, mid, mod, usn, tags, flds, sfld, csum, flags, data"
    " FROM previous.notes WHERE id >= ? AND id < ? ORDER BY id"
)
_COPY_CARDS = (
    "INSERT INTO cards SELECT id + ?, nid + ?, did, ord, mod, usn, type, queue, due, ivl,"
    " factor, reps, lapses, left, odue, odid, flags, data"
    " FROM previous.cards WHERE id >= ? AND id < ? ORDER BY id"
)


# Level 1 deflates a deck's database 2.5 times faster than the default 6, for a file about
# a fifth larger.
_ZIP_LEVEL = 1


def _write_zip(path: Path, members: Sequence[tuple[str, Path | bytes]]) -> None:
    """The archive of `members` (name, file or bytes) in that order, the same bytes every
    time: fixed entry times and attributes (zipfile writes ZIP64 where a member needs it)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, source in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info._compresslevel = _ZIP_LEVEL  # type: ignore[attr-defined]
            info.create_system = 3  # Unix, so that the permissions are read
            info.external_attr = 0o100644 << 16
            if isinstance(source, bytes):
                archive.writestr(info, source)
                continue
            info.file_size = source.stat().st_size
            with open(source, "rb") as data, archive.open(info, "w") as target:
                shutil.copyfileobj(data, target, 1 << 20)


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


def _create_tables(conn: sqlite3.Connection) -> None:
    from genanki.apkg_schema import APKG_SCHEMA  # slow to import: only when packaging

    for statement in APKG_SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


def _write_collection(
    conn: sqlite3.Connection,
    templates: Templates,
    decks: Sequence[str],
    model_mods: Mapping[int, int],
    default_mod: int,
    newest: int,
) -> None:
    """The collection row, with the decks and both notetypes (genanki's JSON for them)."""
    import genanki
    from genanki.apkg_col import APKG_COL

    models = [notetype(templates, cloze=False), notetype(templates, cloze=True)]
    cursor = conn.cursor()
    cursor.execute(APKG_COL)
    for name in decks:
        deck = genanki.Deck(deck_id(name), name)
        for model in models:
            deck.add_model(model)
        deck.write_to_db(cursor, default_mod, itertools.count())
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
