"""Undo the capital a word gets only from where it stands (a sentence's start, a Title
Case heading or label), keeping the capitals of names."""

from __future__ import annotations

import functools
from importlib import resources

from notedeck.model import Note


@functools.cache
def word_counts() -> dict[str, int]:
    """Words real notes write in lower case, and in how many of the 18,078 notes of the
    corpus (scripts/common_words.py counts them)."""
    return {word: notes for word, (notes, _) in _table().items()}


@functools.cache
def _table() -> dict[str, tuple[int, int]]:
    text = (
        resources.files("notedeck.cards").joinpath("common_words.txt").read_text(encoding="utf-8")
    )
    table = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            word, notes, counted = [*line.split("\t"), "0", "0"][:3]
            table[word] = (int(notes or 0), int(counted or 0))
    return table


# A noun notes write after "a"/"an" in this share of the notes that use it is a countable
# thing ("agent" 0.32, "tool" 0.48); below the lower share, a mass ("debt" 0.02, "data" 0).
_COUNTABLE, _MASS = 0.12, 0.04


def countable(noun: str) -> bool | None:
    """Whether notes write `noun` as a countable thing (True), as a mass (False), or
    either (None)."""
    notes, counted = _table().get(noun.lower(), (0, 0))
    if notes < 20:
        return None
    share = counted / notes
    return True if share >= _COUNTABLE else (False if share <= _MASS else None)


@functools.cache
def common_words() -> frozenset[str]:
    return frozenset(word_counts())


# A word in this many notes of 18,078 says little on its own ("important", "process").
_GENERIC_NOTES = 900


@functools.cache
def generic_words() -> frozenset[str]:
    return frozenset(w for w, n in word_counts().items() if n >= _GENERIC_NOTES)


def says_something(text: str) -> bool:
    """Whether a phrase holds a word that is not everyday note prose: a term, a name, a
    figure. "Coordination and strategy" says nothing a learner could not guess."""
    generic = generic_words()
    for word in text.replace("-", " ").split():
        bare = word.strip(".,;:!?()\"'\u201c\u201d\u2019")
        if not bare:
            continue
        if any(c.isdigit() for c in bare) or (bare[:1].isupper() and bare != text.split()[0]):
            return True
        if bare.lower() not in generic and len(bare) > 2:
            return True
    return False


def lowered(word: str, note: Note) -> str:
    """`word` in lower case where its capital comes only from its place: the note never
    writes it capitalised mid-sentence (a name), and it is a word notes write in lower
    case. Acronyms and mixed case ("DMN", "iPhone") stay as they are."""
    parts = word.split("-")
    if not parts[0][:1].isupper() or not all(p[1:] == p[1:].lower() for p in parts if p):
        return word  # "DMN", "iPhone"; but "Non-parametric" and "Self-Delusion" may lower
    if word in note.names:
        return word  # the note writes it capitalised mid-sentence: a name
    base = word.lower()
    for end in ("'s", "\u2019s"):
        base = base.removesuffix(end)
    if base in note.vocabulary:
        return word.lower()  # "Patchy infiltrates": the note writes "patchy" elsewhere
    known = common_words()
    if all(p in known or p.endswith(_ENDINGS) or _inflected(p) for p in base.split("-") if p):
        return word.lower()
    return word


# Endings of adjectives and abstract nouns rather than names ("Ectopic", "Hypertonic").
_ENDINGS = tuple("ic al ous ive tion sion ment ness ity ism ology ory ary".split())


def _inflected(word: str) -> bool:
    """ "Unmanaged", "Overlooking": a verb's form, never a name."""
    return len(word) > 6 and word.endswith(("ed", "ing")) and word[:-2].isalpha()


def lowered_words(text: str, note: Note) -> str:
    """Each word of a Title Case phrase (a heading, a label) lowered as `lowered` says."""
    return " ".join(lowered(w, note) for w in text.split())


def lowered_title(text: str, note: Note) -> str:
    """A Title Case label or heading in the note's own casing: all of it lowered where
    each word may be, else left whole ("3D Object Detection" is a name)."""
    out = lowered_words(text, note)
    kept = [w for w in out.split()[1:] if w[:1].isupper() and not w.isupper()]
    return text if kept else out
