"""Derive cards from a note: one fact per card, short answers, questions that stand alone."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from notedeck.identity import card_key, item_slug
from notedeck.model import Card, CardKind, Line, Moment, Note, Point, Section
from notedeck.questions import Question, QuestionPattern, overview_question, phrase_question


@dataclass(frozen=True, slots=True)
class Style:
    """What shapes the cards, taken from the configuration and card_templates/."""

    patterns: tuple[QuestionPattern, ...]
    fillers: tuple[str, ...] = ()  # openings that carry no fact ("It is crucial to note that")
    kinds: frozenset[CardKind] = frozenset(CardKind)
    answer_words: int = 40
    cloze_per_section: int = 3
    extra_tags: tuple[str, ...] = ()


def derive_cards(note: Note, moments: Sequence[Moment | None], style: Style) -> tuple[Card, ...]:
    """All cards of one note, in reading order."""
    made = _Cards(note, moments, style)
    lines_of = made.lines_of
    if any(not p.label for p in note.overview):
        prose = [p for p in note.overview if not p.label]
        q = overview_question(note.subject)
        for n, (chunk, total) in enumerate(_chunks(lines_of(prose), style.answer_words)):
            made.add(
                CardKind.OVERVIEW,
                ("_overview",),
                "",
                _part(n),
                prose[0].line,
                _numbered(q, n, total),
                chunk,
                "overview",
            )
        made.clozes((), "", note.overview)

    for path, trail, section, parent in _walk(note.sections, (), (), None):
        subject = _section_subject(note, section, parent, made.ask)
        question = made.ask(section.heading, subject)
        prose = [p for p in section.points if not p.label]
        labelled = [p for p in section.points if p.label]
        lines = lines_of(prose)
        lowered = [_lower(p.label or "", note) for p in labelled]
        top_labels = [low for p, low in zip(labelled, lowered, strict=True) if p.depth == 0]
        if top_labels:
            lines = _with_labels(lines, prose, top_labels)
        for n, (chunk, total) in enumerate(_chunks(lines, style.answer_words)):
            made.add(
                CardKind.QA,
                path,
                trail,
                _part(n),
                section.line,
                _numbered(question.text, n, total),
                chunk,
                question.pattern,
            )
        topic = question.topic
        for p, low in zip(labelled, lowered, strict=True):
            label = p.label or ""
            if p.depth == 0:
                topic = question.topic
            q = f"{_capital(subject)}, {topic}: {low}?"
            if p.depth == 0:
                # Items nested under this one are asked about within it.
                topic = low
            body = p.html if p.text else html.escape(label)
            made.add(
                CardKind.LABEL,
                path,
                trail,
                item_slug(label),
                p.line,
                q,
                (Line(_condense(body, style.fillers), made.moments_of(p)),),
                question.pattern,
            )
        made.clozes(path, trail, section.points)
    return tuple(made.cards)


class _Cards:
    """The cards of one note as they are made: keys kept distinct, each term hidden once."""

    def __init__(self, note: Note, moments: Sequence[Moment | None], style: Style) -> None:
        self.note, self.moments, self.style = note, moments, style
        self.cards: list[Card] = []
        self.seen: dict[str, int] = {}
        self.clozed: set[str] = set()
        self.base_tags = _base_tags(note, style)
        self.asked: dict[tuple[str, str], Question] = {}
        self.tags: dict[str, tuple[str, ...]] = {}  # by question pattern

    def ask(self, heading: str, subject: str) -> Question:
        """The question for a heading, phrased once: every subsection under a heading
        asks about that heading again to find its own subject."""
        question = self.asked.get((heading, subject))
        if question is None:
            question = phrase_question(heading, subject, self.style.patterns, self.note.vocabulary)
            self.asked[heading, subject] = question
        return question

    def add(
        self,
        kind: CardKind,
        path: tuple[str, ...],
        trail: str,
        item: str,
        line: int,
        question: str,
        answer: tuple[Line, ...],
        pattern: str,
    ) -> None:
        if kind not in self.style.kinds:
            return
        note = self.note
        # A CardKind is a str (StrEnum): its text is its value.
        key = card_key(note.key, path, kind, item)
        # Two items with one label in one section ("Calculation:" twice) must still be two
        # cards: the second and later take their place in the section as a suffix.
        self.seen[key] = self.seen.get(key, 0) + 1
        if self.seen[key] > 1:
            key = card_key(note.key, path, kind, f"{item}~{self.seen[key]}")
        if len(answer) == 1 and len(answer[0].moments) < 2:
            cited = answer[0].moments  # nothing to merge or repeat
        else:
            cited = tuple(dict.fromkeys(m for ln in answer for m in ln.moments))
        tags = self.tags.get(pattern)
        if tags is None:
            tags = self.tags[pattern] = self.base_tags + (
                (f"notedeck::{pattern}",) if pattern else ()
            )
        self.cards.append(
            Card(
                key=key,
                kind=kind,
                note_key=note.key,
                note_path=note.path,
                note_title=note.title,
                section=trail,
                line=line,
                question=question,
                answer=answer,
                deck=note.deck,
                tags=tags,
                video_id=note.video_id,
                moments=cited,
                pattern=pattern,
            )
        )

    def moments_of(self, point: Point) -> tuple[Moment, ...]:
        if not point.clocks:
            return ()  # most sentences cite no moment
        moments = self.moments
        if len(point.clocks) == 1:
            i = point.clocks[0]
            m = moments[i] if i < len(moments) else None
            return () if m is None else (m,)
        found = (moments[i] for i in point.clocks if i < len(moments))
        return tuple(dict.fromkeys(m for m in found if m is not None))

    def lines_of(self, points: Sequence[Point]) -> list[Line]:
        fillers = self.style.fillers
        return [Line(_condense(p.html, fillers), self.moments_of(p)) for p in points]

    def clozes(self, path: tuple[str, ...], trail: str, points: Sequence[Point]) -> None:
        """Up to `cloze_per_section` cloze cards, one key term hidden in a short sentence."""
        made = 0
        for p in points:
            if made >= self.style.cloze_per_section:
                return
            if not p.terms:
                continue  # nothing to hide: no need to count its words
            words = len(p.text.split())
            if words > _MAX_CLOZE_WORDS or words < 5:
                continue
            for term in p.terms:
                k = term.text.casefold()
                too_big = len(term.text.split()) * 2 > words
                if k in self.clozed or too_big or not _worth_hiding(term.text):
                    continue
                text = _cloze(p.html, term.html)
                if text is None:
                    continue
                self.clozed.add(k)
                made += 1
                self.add(
                    CardKind.CLOZE,
                    path or ("_overview",),
                    trail,
                    item_slug(term.text),
                    p.line,
                    _condense(text, self.style.fillers),
                    (Line("", self.moments_of(p)),),
                    "cloze",
                )
                break


def _with_labels(lines: list[Line], prose: Sequence[Point], labels: list[str]) -> list[Line]:
    """Name the labelled items of a section in its answer: after the sentence that
    introduces them ("... several risks:") when there is one, else as a line of their own."""
    names = ", ".join(html.escape(label) for label in labels)
    for i, point in enumerate(prose):
        if point.text.rstrip().endswith(":"):
            line = lines[i]
            lines[i] = Line(f"{line.html.rstrip()} {names}.", line.moments)
            return lines
    return [*lines, Line(names[:1].upper() + names[1:] + ".", ())]


def _lower(text: str, note: Note) -> str:
    """Lower-case a Title Case label, keeping acronyms and the names the note capitalises."""
    out = []
    for word in text.split():
        plain = word[:1].isupper() and word[1:].islower()
        keep = not plain or (word in note.names and word.lower() not in note.vocabulary)
        out.append(word if keep else word.lower())
    return " ".join(out)


def _walk(
    sections: Sequence[Section],
    path: tuple[str, ...],
    trail: tuple[str, ...],
    parent: Section | None,
) -> Iterator[tuple[tuple[str, ...], str, Section, Section | None]]:
    for s in sections:
        p, t = (*path, s.slug), (*trail, s.heading)
        if s.points:
            yield p, " › ".join(t), s, parent
        yield from _walk(s.children, p, t, s)


def _section_subject(
    note: Note, section: Section, parent: Section | None, ask: Callable[[str, str], Question]
) -> str:
    """What a section's question is about: the note's subject, or for a subsection under
    a topic heading ("Z-statistic" > "Formula"), that topic."""
    if parent is None or len(parent.heading.split()) > 4:
        return note.subject
    if parent.heading.casefold() in section.heading.casefold():
        return note.subject  # "Interrogation" > "Interrogation (third)": nothing to add
    asked = ask(parent.heading, note.subject)
    if asked.pattern != "fallback":
        return note.subject
    return _lower(parent.heading.rstrip(":"), note)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _chunks(lines: list[Line], words: int) -> list[tuple[tuple[Line, ...], int]]:
    """Split an answer into parts of about `words` words; each part tagged with the count."""
    parts: list[list[Line]] = []
    count = 0
    for line in lines:
        text = _TAG.sub("", line.html) if "<" in line.html else line.html
        n = len(text.split())
        if parts and count + n <= words:
            parts[-1].append(line)
            count += n
        else:
            parts.append([line])
            count = n
    return [(tuple(p), len(parts)) for p in parts]


def _numbered(question: str, n: int, total: int) -> str:
    return question if total == 1 else f"{question} ({n + 1}/{total})"


def _part(n: int) -> str:
    # The first part keeps the plain key, so a section that grows a second part keeps
    # its card (and its reviews).
    return "" if n == 0 else f"part{n + 1}"


_TAG = re.compile(r"<[^>]*>")
_MAX_CLOZE_WORDS = 45


def _worth_hiding(term: str) -> bool:
    """A single short everyday word ("growth", "mean") makes a guessing game, not a card."""
    if len(term.split()) > 1 or not term.islower():
        return True
    return len(term) >= 7


def _cloze(sentence: str, term_html: str) -> str | None:
    for wrapped in (f'<span class="wikilink">{term_html}</span>', f"<strong>{term_html}</strong>"):
        at = sentence.find(wrapped)
        if at >= 0:
            hidden = "{{c1::" + term_html.replace("}}", "} }") + "}}"
            return sentence[:at] + hidden + sentence[at + len(wrapped) :]
    return None


def _condense(fragment: str, fillers: Sequence[str]) -> str:
    """Drop an opening that carries no fact, so the answer starts with the fact."""
    low = fragment.lower()
    if not low.startswith(tuple(fillers)):
        return fragment  # most sentences open with no filler: one test, not one per filler
    for filler in fillers:
        if low.startswith(filler) and len(fragment) > len(filler) + 3:
            rest = fragment[len(filler) :].lstrip(" ,")
            if rest[:1].isalpha():
                return rest[:1].upper() + rest[1:]
    return fragment


def _base_tags(note: Note, style: Style) -> tuple[str, ...]:
    tags = [*note.tags, *style.extra_tags]
    if note.deck:
        tags.append(re.sub(r"\s+", "_", "::".join(note.deck)))
    return tuple(dict.fromkeys(tags))
