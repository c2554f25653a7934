"""Derive cards from a note: one fact per card, short answers, questions that stand alone."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from notedeck.anki.identity import card_key
from notedeck.cards.casing import common_words, lowered_title
from notedeck.cards.questions import Question, QuestionPattern, overview_question, phrase_question
from notedeck.cards.writer import Draft, RuleWriter, SectionText, Skipped
from notedeck.model import Card, CardKind, Moment, Note, Point, Section


@dataclass(frozen=True, slots=True)
class Style:
    """What shapes the cards, taken from the configuration and card_templates/."""

    patterns: tuple[QuestionPattern, ...]
    fillers: tuple[str, ...] = ()  # openings that carry no fact ("It is crucial to note that")
    kinds: frozenset[CardKind] = frozenset(CardKind)
    answer_words: int = 40
    cloze_per_section: int = 3
    extra_tags: tuple[str, ...] = ()
    # Patterns that name a section's topic without asking a question a short answer can
    # meet ("Conclusion", "Future Outlook"): their sections give no heading card.
    topic_only: frozenset[str] = frozenset()


def derive_cards(note: Note, moments: Sequence[Moment | None], style: Style) -> tuple[Card, ...]:
    """All cards of one note, in reading order."""
    return explain_cards(note, moments, style)[0]


def explain_cards(
    note: Note, moments: Sequence[Moment | None], style: Style
) -> tuple[tuple[Card, ...], tuple[Skipped, ...]]:
    """A note's cards, and the sentences left out with why (`notedeck cards --skipped`)."""
    made = _Cards(note, moments, style)
    writer = RuleWriter(style.cloze_per_section, style.answer_words, style.fillers)
    skipped: list[Skipped] = []
    chosen: list[tuple[tuple[str, ...], str, Draft]] = []
    every = (
        *note.overview,
        *(p for _, _, s, _ in _walk(note.sections, (), (), None) for p in s.points),
    )
    if note.overview:
        asks = False  # "What is X, and why does it matter?" asks two things at once
        subject = note.subject
        opening = note.overview[0].text
        if opening.lower().startswith(f"the {subject.lower()}"):
            subject = opening[4 : 4 + len(subject)]
            subject = f"the {subject}"
        question = Question(overview_question(subject), "overview", "overview")
        written = writer.write(
            SectionText(
                note=note,
                heading="",
                points=note.overview,
                moments=made.points_moments(note.overview),
                question=question,
                asks=asks,
                subject=note.subject,
                context=note.title,
                note_points=every,
            )
        )
        skipped.extend(written.skipped)
        chosen.extend((("_overview",), "", d) for d in _best(written.drafts, style))
    for path, trail, section, parent in _walk(note.sections, (), (), None):
        subject = _section_subject(note, section, parent, made.ask)
        question = made.ask(section.heading, subject)
        written = writer.write(
            SectionText(
                note=note,
                heading=section.heading,
                points=section.points,
                moments=made.points_moments(section.points),
                question=question,
                # "Core Philosophy: Product-Minded Builders" names two things: no question.
                asks=question.pattern not in style.topic_only
                and ":" not in section.heading.rstrip(" :"),
                subject=subject,
                context=f"{note.title} \u203a {trail}",
                note_points=every,
            )
        )
        skipped.extend(written.skipped)
        chosen.extend((path, trail, d) for d in _best(written.drafts, style))
    kept = _note_best(chosen)
    for path, trail, draft in chosen:
        if id(draft) not in kept:
            skipped.append(
                Skipped(draft.line, _plain(draft.question), "ranked below the note's best cards")
            )
            continue
        overview = path == ("_overview",) and draft.item == "" and draft.kind is CardKind.QA
        kind = CardKind.OVERVIEW if overview else draft.kind
        made.add(kind, path, trail, draft, style)
    return tuple(made.cards), tuple(sorted(skipped, key=lambda s: s.line))


# At most this many cards a section beside its heading's own, and a note in all.
SECTION_CARDS = 3
NOTE_CARDS = 14


def _best(drafts: Sequence[Draft], style: Style) -> list[Draft]:
    """A section's heading card, then its best few others (by score, clozes capped)."""
    heading = [d for d in drafts if d.item == ""]
    others = sorted((d for d in drafts if d.item != ""), key=lambda d: -d.score)
    kept: list[Draft] = []
    clozes = 0
    for d in others:
        if d.kind is CardKind.CLOZE:
            if clozes >= style.cloze_per_section:
                continue
            clozes += 1
        kept.append(d)
        if len(kept) >= SECTION_CARDS:
            break
    return heading + sorted(kept, key=lambda d: d.line)


def _note_best(chosen: Sequence[tuple[tuple[str, ...], str, Draft]]) -> set[int]:
    """The drafts a note keeps: every heading's card, then the best others up to the cap;
    a question (or a hidden term) asked twice is kept once."""
    keep: set[int] = set()
    asked: set[str] = set()
    ranked = sorted((d for _, _, d in chosen), key=lambda d: (d.item != "", -d.score, d.line))
    for d in ranked:
        k = _hidden(d.question) if d.kind is CardKind.CLOZE else _plain(d.question).casefold()
        if k in asked or (d.item != "" and len(keep) >= NOTE_CARDS):
            continue
        asked.add(k)
        keep.add(id(d))
    return keep


def _plain(text: str) -> str:
    return html.unescape(_TAG.sub("", text))


def _hidden(cloze: str) -> str:
    m = re.search(r"\{\{c1::(.*?)\}\}", cloze)
    return "cloze:" + (m.group(1).casefold() if m else cloze)


class _Cards:
    """The cards of one note as they are made: keys kept distinct."""

    def __init__(self, note: Note, moments: Sequence[Moment | None], style: Style) -> None:
        self.note, self.moments, self.style = note, moments, style
        self.cards: list[Card] = []
        self.seen: dict[str, int] = {}
        self.base_tags = _base_tags(note, style)
        self.asked: dict[tuple[str, str], Question] = {}
        self.last_moment: tuple[Moment, ...] = ()  # the last a section before cited

    def ask(self, heading: str, subject: str) -> Question:
        """The question for a heading, phrased once: every subsection under a heading
        asks about that heading again to find its own subject."""
        question = self.asked.get((heading, subject))
        if question is None:
            # Words of the heading notes write in lower case, unless this note writes
            # them as a name: a Title Case heading's capitals come from its place.
            note = self.note
            common = common_words()
            plain = {
                w.lower()
                for w in re.findall(r"[A-Za-z][\w'-]*", heading)
                if w.lower() in common and w not in note.names
            }
            words = note.vocabulary | plain if plain else note.vocabulary
            question = phrase_question(heading, subject, self.style.patterns, words)
            self.asked[heading, subject] = question
        return question

    def add(
        self, kind: CardKind, path: tuple[str, ...], trail: str, draft: Draft, style: Style
    ) -> None:
        if kind not in style.kinds:
            return
        note = self.note
        key = card_key(note.key, path, kind, draft.item)
        # Two items with one label in one section ("Calculation:" twice) must still be two
        # cards: the second and later take their place in the section as a suffix.
        self.seen[key] = self.seen.get(key, 0) + 1
        if self.seen[key] > 1:
            key = card_key(note.key, path, kind, f"{draft.item}~{self.seen[key]}")
        cited = tuple(dict.fromkeys(m for ln in draft.answer for m in ln.moments))
        self.cards.append(
            Card(
                key=key,
                kind=kind,
                note_key=note.key,
                note_path=note.path,
                note_title=note.title,
                section=trail,
                line=draft.line,
                question=draft.question,
                answer=draft.answer,
                deck=note.deck,
                tags=self.base_tags,
                video_id=note.video_id,
                moments=cited,
                pattern=draft.rule,
                why=draft.why,
            )
        )

    def moments_of(self, point: Point) -> tuple[Moment, ...]:
        if not point.clocks:
            return ()
        moments = self.moments
        found = (moments[i] for i in point.clocks if i < len(moments))
        return tuple(dict.fromkeys(m for m in found if m is not None))

    def points_moments(self, points: Sequence[Point]) -> tuple[tuple[Moment, ...], ...]:
        """Each point's moments: its own, else the nearest before it in its section, else
        the nearest after (every card opens a moment of the video where the note has one)."""
        own = [self.moments_of(p) for p in points]
        out: list[tuple[Moment, ...]] = []
        last: tuple[Moment, ...] = ()
        for found in own:
            if found:
                last = found[-1:]
                out.append(found)
            else:
                out.append(last)
        ahead: tuple[Moment, ...] = ()
        for i in range(len(out) - 1, -1, -1):
            if own[i]:
                ahead = own[i][:1]
            elif not out[i]:
                out[i] = ahead
        if not any(own):
            # A section that cites no moment: the nearest the note cites before it, else
            # the first it cites at all.
            near = self.last_moment or self.first_moment()
            out = [near] * len(points)
        else:
            self.last_moment = next(m[-1:] for m in reversed(own) if m)
        return tuple(out)

    def first_moment(self) -> tuple[Moment, ...]:
        first = next((m for m in self.moments if m is not None), None)
        return () if first is None else (first,)


def _walk(
    sections: Sequence[Section],
    path: tuple[str, ...],
    trail: tuple[str, ...],
    parent: Section | None,
) -> Iterator[tuple[tuple[str, ...], str, Section, Section | None]]:
    for s in sections:
        p, t = (*path, s.slug), (*trail, s.heading.rstrip(" :"))
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
    return lowered_title(parent.heading.rstrip(":"), note)


_TAG = re.compile(r"<[^>]*>")


def _base_tags(note: Note, style: Style) -> tuple[str, ...]:
    tags = [*note.tags, *style.extra_tags]
    if note.deck:
        tags.append(re.sub(r"\s+", "_", "::".join(note.deck)))
    return tuple(dict.fromkeys(tags))
