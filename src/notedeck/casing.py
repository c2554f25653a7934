"""Undo the capital a word gets only from where it stands (a sentence's start, a Title
Case heading or label), keeping the capitals of names."""

from __future__ import annotations

import functools
from importlib import resources

from notedeck.model import Note


@functools.cache
def common_words() -> frozenset[str]:
    """Words real notes write in lower case (scripts/common_words.py counts them)."""
    text = resources.files("notedeck").joinpath("common_words.txt").read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def lowered(word: str, note: Note) -> str:
    """`word` in lower case where its capital comes only from its place: the note never
    writes it capitalised mid-sentence (a name), and it is a word notes write in lower
    case. Acronyms and mixed case ("DMN", "iPhone") stay as they are."""
    parts = word.split("-")
    if not all(p[:1].isupper() and p[1:] == p[1:].lower() for p in parts if p):
        return word
    if word in note.names and word.lower() not in note.vocabulary:
        return word
    base = word.lower()
    for end in ("'s", "\u2019s"):
        base = base.removesuffix(end)
    known = common_words()
    if all(p in known or p in note.vocabulary for p in base.split("-") if p):
        return word.lower()
    return word


def lowered_words(text: str, note: Note) -> str:
    """Each word of a Title Case phrase (a heading, a label) lowered as `lowered` says."""
    return " ".join(lowered(w, note) for w in text.split())
