"""Every identity notedeck gives Anki: card keys, GUIDs, deck ids and notetype ids."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Set

# Notetype ids are fixed forever: Anki matches notetypes by id, and a new id would make
# every existing note "conflicting" on the next import.
QA_MODEL_ID = 1_733_090_401
CLOZE_MODEL_ID = 1_733_090_402

_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)
# Every two-digit base-91 number, so a GUID takes 5 divisions instead of 10 (91**10 > 2**64).
_BASE91_PAIRS = tuple(a + b for a in _BASE91 for b in _BASE91)
_PAIR = len(_BASE91_PAIRS)


_NOT_WORD = re.compile(r"[^\w]+")


def item_slug(text: str) -> str:
    """The part of a card key that names an item (a label or a cloze term)."""
    slug = _NOT_WORD.sub("-", text.casefold()).strip("-")
    return slug[:60] or "item"


def note_key(name: str) -> str:
    """A note's part of its card keys, from its path without ".md" or its `id`.

    "#" separates the parts of a card key, and no section, kind or item ever holds one:
    a name without "#" (nearly every note) is its key as it is. In a name with "#", each
    "#" is doubled, so that `d/p#sec.md` cannot give the keys of `d/p.md`'s section "Sec"
    ("d/p#sec#qa"): a key without "#" never holds "##", and a doubled one never stands
    for the "#" that ends the note's part, since a section never starts with "#"."""
    return name.replace("#", "##") if "#" in name else name


def card_key(note_key: str, section_path: tuple[str, ...], kind: str, item: str = "") -> str:
    """The identity of a card: note, section trail, kind and item; never its text."""
    parts = [note_key, "/".join(section_path) or "_", kind]
    if item:
        parts.append(item)
    return "#".join(parts)


def guid_for(key: str) -> str:
    """A GUID from a card key, in Anki's own base-91 alphabet (10 characters, 64 bits)."""
    number = int.from_bytes(hashlib.sha256(("notedeck:" + key).encode()).digest()[:8], "big")
    return _base91(number)


def _base91(number: int) -> str:
    """A number below 2**64 in base 91, most significant digit first, without leading
    zeros ("a"); zero is "a"."""
    number, e = divmod(number, _PAIR)
    number, d = divmod(number, _PAIR)
    number, c = divmod(number, _PAIR)
    a, b = divmod(number, _PAIR)
    pairs = _BASE91_PAIRS
    return (pairs[a] + pairs[b] + pairs[c] + pairs[d] + pairs[e]).lstrip("a") or "a"


def deck_id(name: str) -> int:
    """A deck id from the deck's full name (Anki matches decks by name; the id just has to
    be stable and unique)."""
    digest = hashlib.sha256(("notedeck-deck:" + name).encode()).digest()
    return (int.from_bytes(digest[:8], "big") >> 12) | (1 << 40)


def fresh_guid(key: str, taken: Set[str]) -> str:
    """The GUID for a card the lock does not know yet.

    Usually `guid_for(key)`; but a renamed card keeps its old GUID under its new key, so
    when a later card reuses the old key its natural GUID may already belong to someone
    else, and it then takes the next free one (still derived from the key alone)."""
    guid = guid_for(key)
    n = 1
    while guid in taken:
        n += 1
        guid = guid_for(f"{key}\x00{n}")
    return guid
