"""The frozen data that flows between notedeck's stages."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from enum import StrEnum
from typing import Any, TypeVar

T = TypeVar("T")


def pickled_by_fields(cls: type[T]) -> type[T]:
    """Pickle a frozen dataclass as its constructor call: loading runs its __init__
    instead of the generic slots __setstate__, which looks the fields up per object
    (the cache and the process pool move hundreds of thousands of these)."""
    names = tuple(f.name for f in fields(cls))  # type: ignore[arg-type]
    get: Callable[[Any], Any] = operator.attrgetter(*names)

    def reduce(self: T) -> tuple[type[T], tuple[Any, ...]]:
        return cls, get(self) if len(names) > 1 else (get(self),)

    setattr(cls, "__reduce__", reduce)  # noqa: B010  (a method set on a finished class)
    return cls


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in the input, with where it is and what to do."""

    level: Level
    code: str
    path: str
    line: int
    message: str

    def format(self) -> str:
        return f"{self.path}:{self.line}: {self.level.value} {self.code}: {self.message}"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Clock:
    """A moment in the video as the note wrote it (before any repair)."""

    raw: str
    line: int
    # The numeric fields as written, e.g. (4, 31, 33) for "04:31:33"; a single field for
    # integer seconds; None for a placeholder that names no moment ("HH:MM:SS", a URL).
    fields: tuple[int, ...] | None


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Term:
    """A key term of a sentence (bold text or a wikilink's shown text)."""

    text: str
    html: str


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Point:
    """One sentence or list item: the smallest unit a card is made from."""

    html: str  # safe inline HTML, wikilinks resolved, timestamps taken out
    text: str  # the same as plain text
    line: int
    clocks: tuple[int, ...] = ()  # indexes into Note.clocks, in the order written
    terms: tuple[Term, ...] = ()
    label: str | None = None  # "Purity" for a "**Purity:** ..." item
    item: bool = False  # a list item rather than prose
    depth: int = 0  # nesting depth of a list item


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Section:
    """A heading and what stands under it up to the next heading of its level or above."""

    heading: str  # plain text
    level: int
    line: int
    slug: str  # identity of the section within its parent: explicit id or heading slug
    points: tuple[Point, ...]
    children: tuple[Section, ...] = ()
    explicit_id: bool = False


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Note:
    """A note as read from disk: metadata, overview and sections."""

    path: str  # posix path relative to the notes folder
    key: str  # identity: frontmatter id, else path without extension
    title: str
    subject: str
    video_id: str | None
    deck: tuple[str, ...]  # deck path, e.g. ("healthygamergg",)
    tags: tuple[str, ...]
    aliases: tuple[str, ...]
    duration: int | None  # the video's length in seconds, when the note says it
    overview: tuple[Point, ...]
    sections: tuple[Section, ...]
    clocks: tuple[Clock, ...]
    diagnostics: tuple[Diagnostic, ...] = ()
    vocabulary: frozenset[str] = field(default_factory=frozenset)  # words seen lower-case
    names: frozenset[str] = field(default_factory=frozenset)  # words capitalised mid-sentence
    media: tuple[tuple[str, str], ...] = ()  # (Anki media file name, source path) of its images


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Moment:
    """A resolved timestamp: the second it opens the video at."""

    seconds: int

    @property
    def label(self) -> str:
        h, rest = divmod(self.seconds, 3600)
        m, s = divmod(rest, 60)
        return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class CardKind(StrEnum):
    OVERVIEW = "overview"
    QA = "qa"
    LABEL = "label"
    CLOZE = "cloze"


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Line:
    """One line of an answer: safe HTML and the moments it came from."""

    html: str
    moments: tuple[Moment, ...] = ()


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Card:
    """A card derived from a note, before identity and rendering."""

    key: str  # identity: note key / section path / kind / item
    kind: CardKind
    note_key: str
    note_path: str
    note_title: str
    section: str  # heading trail shown as context, "" for the overview
    line: int  # where the card's content starts in the note
    question: str  # plain text; for a cloze card, the cloze text as safe HTML
    answer: tuple[Line, ...]
    deck: tuple[str, ...]
    tags: tuple[str, ...]
    video_id: str | None
    moments: tuple[Moment, ...]  # every moment the card's content cites
    pattern: str = ""  # the rule that made the card ("mechanism", "claim:leads to", ...)
    why: str = ""  # why the card was made, for `notedeck cards`
