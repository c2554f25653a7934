"""Write a section's cards: many candidates from its heading, sentences and labels, the best
few kept, each with the reason it was made (and each sentence left out, with why).

The writer is one part behind a small interface (`CardWriter.write`: a section in, drafts
and skips out). Identity, the lock and packaging never see how a card was phrased, so
another writer can take this one's place.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from notedeck.anki.identity import item_slug
from notedeck.cards.casing import (
    common_words,
    countable,
    generic_words,
    lowered,
    lowered_title,
    lowered_words,
    says_something,
)
from notedeck.cards.questions import Question
from notedeck.cards.sentences import (
    GENERIC_ACRONYMS,
    IMPERATIVES,
    Claim,
    claim,
    fit_subject,
    framed,
    has_pronoun,
    is_meta,
    leans,
    loose,
    negated,
    plural,
    points_back,
    predicate_start,
    split_sentences,
    unsaid,
    words,
)
from notedeck.model import CardKind, Line, Moment, Note, Point


@dataclass(frozen=True, slots=True)
class SectionText:
    """What a writer gets: one section of a note (or its overview) and what frames it."""

    note: Note
    heading: str  # "" for the overview
    points: tuple[Point, ...]
    moments: tuple[tuple[Moment, ...], ...]  # per point: its own, else the nearest before
    question: Question  # the heading's question and topic, as the pattern table phrased it
    asks: bool  # whether that question fits (a pattern that asks, not a fallback)
    subject: str  # what the section is about (the note's subject, or a parent topic)
    context: str  # the context line shown on every card of the section
    note_points: tuple[Point, ...] = ()  # every point of the note, to tell its recurring terms


@dataclass(frozen=True, slots=True)
class Draft:
    """A card a writer proposes: what it asks, what it answers, and why."""

    kind: CardKind
    item: str  # the card's place in its section, part of its key ("" for the heading's)
    line: int
    question: str  # plain text; for a cloze, safe HTML with {{c1::...}}
    answer: tuple[Line, ...]
    why: str
    score: float
    rule: str


@dataclass(frozen=True, slots=True)
class Skipped:
    """A sentence no card was made from, and why: for the note's author to fix."""

    line: int
    text: str
    why: str


@dataclass(frozen=True, slots=True)
class Written:
    drafts: tuple[Draft, ...]
    skipped: tuple[Skipped, ...]


class CardWriter(Protocol):
    def write(self, section: SectionText) -> Written: ...


ANSWER_WORDS = 40  # about as much as one card's back holds
_MIN_CLOZE, _MAX_CLOZE = 6, 40
_PREPOSITIONS = frozenset("of to for from with in on at by about into than as".split())
# A label's text that says what the label is: "A statically typed language ...".
_A_THING = re.compile(r"^(?:an?|one of the)\s+\w+", re.IGNORECASE)
_PLATITUDE = re.compile(
    r"\b(?:crucial|essential|important|vital|significant|profound|various|numerous|"
    r"fundamental|inherent|opportunity|journey|useful|intricate|foundation|key component|"
    r"complex process|highly|powerful tool|notable|popular|renowned|prominent|well-known|"
    r"convenient|common practice|world leader|rapidly (?:evolving|advancing|growing|changing)|"
    r"maturing|transformative|revolutionary|groundbreaking|cutting-edge|game-?changer|"
    r"pivotal|paramount|invaluable|indispensable|remarkable|holistic|seamless(?:ly)?|"
    r"dramatic|fascinating|powerful|highlights?|underscores?|showcases?|plays? a (?:key|major|"
    r"crucial|significant|vital) role|key (?:role|factor|aspect)|discussed|explored)\b",
    re.IGNORECASE,
)
# What each heading question wants to hear: a sentence with more of these answers better.
# Advice a precautions section gives ("only under a physician's prescription"): a cue the
# heading's answer may use, weighed below a harm named.
_ADVICE_WORDS = (
    r"should only|must only|only (?:be )?(?:used|taken) under|supervision|prescri\w*|"
    r"physician|consult\w*"
)
_ADVICE = re.compile(rf"\b(?:{_ADVICE_WORDS})\b", re.IGNORECASE)
_CUES = {
    "mechanism": re.compile(
        r"\b(?:by|through|via|action|mechanism|works?|function\w*|shut\w*|block\w*|bind\w*|"
        r"activat\w*|deactivat\w*|inhibit\w*|trigger\w*|receptors?|signal\w*|convert\w*|"
        r"releas\w*|caus\w*|enabl\w*|process\w*)\b",
        re.IGNORECASE,
    ),
    "onset": re.compile(
        r"\b(?:seconds?|minutes?|hours?|days?|weeks?|months?|years?|immediately|instantly|"
        r"quick\w*|fast\w*|rapid\w*|slow\w*|onset|within)\b",
        re.IGNORECASE,
    ),
    "precautions": re.compile(
        r"\b(?:risks?|avoid\w*|never|danger\w*|abuse|caution\w*|adverse|warn\w*|"
        r"not recommended|harm\w*|side effects?|overdose|addict\w*|toxic\w*|misuse|PTSD|"
        rf"psychosis|dependen\w*|withdrawal|seizures?|fatal|death|{_ADVICE_WORDS})\b",
        re.IGNORECASE,
    ),
    "side effects": re.compile(
        r"\b(?:side effects?|adverse|nausea|risks?|symptoms?|harm\w*|damag\w*|caus\w*)\b",
        re.IGNORECASE,
    ),
    "causes": re.compile(
        r"\b(?:because|due to|caus\w*|driv\w*|lead\w*|led|result\w*|trigger\w*|factors?|"
        r"stem\w*)\b",
        re.IGNORECASE,
    ),
    "definition": re.compile(r"\b(?:is|are|refers? to|means?|defined|describes?)\b", re.I),
}
_RISKS = frozenset({"precautions", "side effects"})
# "Therefore, ketamine should only be used under the guidance of a physician."
_ONLY_UNDER = re.compile(
    r"^(?:(?:therefore|thus|so|hence),?\s+)?(?P<s>[\w' -]{2,40}?)\s+should only be\s+"
    r"(?P<rest>(?:used|taken|given|administered)\s+(?:under|by|with|in)\b[^.;:]{3,80}?)\.?$",
    re.IGNORECASE,
)
_EXAMPLE = re.compile(
    r"^(?:for (?:example|instance)|e\.g\.|an example|one example|as an example)\b", re.I
)
# Headings that name a set (types, steps, features ...): their card lists at most three.
_SETS = frozenset(
    "steps types features benefits challenges advice solutions causes prerequisites "
    "ingredients examples resources".split()
) | {"side effects"}
_GLUED_LABEL = re.compile(r"^\s*<strong>(?P<label>[^<]{2,80})</strong>\s*:?\s*")
_TAGS = re.compile(r"<[^>]*>")
_INTRODUCES = re.compile(
    r"\b(?:called|known as|termed|dubbed|referred to as|named|coined)\s*[\"'\u201c]?$",
    re.IGNORECASE,
)


class RuleWriter:
    """The shipped writer: rules over each sentence's parts, candidates ranked by score."""

    def __init__(
        self,
        cloze_per_section: int = 3,
        answer_words: int = ANSWER_WORDS,
        fillers: Sequence[str] = (),
    ) -> None:
        self.cloze_per_section = cloze_per_section
        self.answer_words = answer_words
        self.fillers = fillers  # openings that carry no fact (fillers.txt), longest first
        # (id, the points themselves, kept alive so the id is not reused, their count)
        self._counted: tuple[int, tuple[Point, ...], frozenset[str]] | None = None

    def _names_of_note(self, section: SectionText) -> frozenset[str]:
        # One note's sections share their note's points: counted once per note.
        key = id(section.note_points)
        if self._counted is None or self._counted[0] != key:
            self._counted = (key, section.note_points, _recurring(section))
        return self._counted[2]

    def write(self, section: SectionText) -> Written:
        drafts: list[Draft] = []
        skipped: list[Skipped] = []
        used: set[int] = set()  # points whose facts a card already asks for
        case = _caser(section.note)
        named = frozenset(w.lower() for w in words(section.context))
        title_words = named | self._names_of_note(section)
        heading = self._heading_card(section, used)
        if heading is not None:
            drafts.append(heading)
        for i, point in enumerate(section.points):
            if _only_link(point):
                skipped.append(Skipped(point.line, _short(point.text), "only a link"))
                continue
            label, _body, body_text = _label_of(point)
            if i in used:
                continue  # the heading's answer already holds this item
            if label is not None:
                made = self._label_card(section, point, label, body_text, section.moments[i])
                if made is not None:
                    drafts.append(made)
                    continue
            text = body_text if label is not None else point.text
            sentences = split_sentences(text) if point.item else [text]
            if label is not None and sentences:
                # "**Cloud Functions:** Act as a gateway ...": the label is the subject.
                sentences[0] = _with_subject(lowered_title(label, section.note), sentences[0])
            for sentence in sentences:
                made_one, why = self._sentence_card(
                    section, point, sentence, section.moments[i], title_words, case
                )
                if made_one is None:
                    if i not in used:
                        skipped.append(Skipped(point.line, _short(sentence), why))
                else:
                    if i in used:
                        continue  # the heading's answer already holds this fact
                    drafts.append(made_one)
                    used.add(i)
        return Written(tuple(drafts), tuple(skipped))

    # -- the heading's own question -------------------------------------------------------

    def _heading_card(self, section: SectionText, used: set[int]) -> Draft | None:
        question = section.question
        if not section.asks:
            return None
        points = section.points
        labels = [(i, p) for i, p in enumerate(points) if _label_of(p)[0] is not None]
        items = sum(1 for p in points if p.item and p.depth == 0)
        if question.pattern in _SETS and items > 3:
            return None  # a set of more than three: one card per item, never one list
        subject = section.subject
        # Every sentence that could answer, then the one that answers best (the most of
        # the words the question asks for), with the sentence after it if that one also
        # answers: one or two sentences, never the section read out.
        fits: dict[int, str] = {}
        risks = question.pattern in _RISKS
        for i, point in enumerate(points):
            label, _, body = _label_of(point)
            if (label is not None and not risks) or _only_link(point):
                continue
            # A risk's labelled item ("**Adverse Effects:** Misuse can ... lead to PTSD")
            # says the risk itself: its text answers "What precautions apply?".
            text, who = unsaid(loose(body if label is not None else point.text, self.fillers))
            if who or is_meta(text) or point.text.rstrip().endswith("?") or _EXAMPLE.match(text):
                continue
            if text.split() and text.split()[0].lower() in IMPERATIVES:
                continue
            if _PLATITUDE.search(text) and not any(c.isdigit() for c in text):
                continue  # "X plays a crucial role": says nothing to recall
            if text.rstrip().endswith(":") and not 0 < len(labels) <= 3:
                continue  # a lead-in to a list the card cannot hold
            if len(text.split()) > 30:
                continue
            first = text.split()[0].lower() if text.split() else ""
            if first in {"it", "its"}:
                text = _resolve_it(text, subject)  # "It" is what the question names
            fits[i] = text
        cue = _CUES.get(question.pattern)

        def hits(text: str) -> float:
            if cue is None:
                return 0
            # "Use it only under a physician's guidance" is advice readers call a
            # platitude; a harm named ("misuse can lead to PTSD") answers better.
            return len(cue.findall(text)) - 0.5 * len(_ADVICE.findall(text)) * risks

        def stands(i: int) -> bool:
            text = fits[i]
            first = text.split()[0].lower() if text.split() else ""
            return first in {"other", "another"} or not (leans(text) or not _own_pronouns(text))

        starts = [i for i in fits if stands(i)]
        if not starts:
            return None
        best = max(
            starts,
            key=lambda i: (
                hits(fits[i]),
                not fits[i].rstrip().endswith(":"),  # a statement before a lead-in to a list
                '"' not in fits[i],
                -len(fits[i].split()),
                -i,
            ),
        )
        if cue is not None and not hits(fits[best]):
            return None  # no sentence of the section answers what the heading asks

        def short_answers(most: int) -> list[int]:
            """Other sentences that answer too in `most` words, not a lead-in to a list."""
            return [
                j
                for j in starts
                if j != best
                and hits(fits[j])
                and len(fits[j].split()) <= most
                and not fits[j].rstrip().endswith(":")
            ]

        chosen = [best]
        after = best + 1
        # A second sentence only where the first is short: one fact a card.
        short = after in fits and len(fits[best].split()) < 10
        short = short and len((fits[best] + " " + fits[after]).split()) <= 35
        asked = question.text
        scope = _purpose(section.note, subject)
        if question.pattern == "mechanism" and scope and asked.endswith(" work?"):
            # "How does ketamine work?" has many right answers (blind readers: "NMDA
            # blockade?"); the note's title says which: "... as a treatment for depression".
            asked = f"{asked[:-1]} {scope}?"
        advice = [j for j in starts if risks and _ADVICE.search(fits[j])]
        only = [m for j in advice if (m := _ONLY_UNDER.match(fits[j])) is not None]
        if advice and best not in advice and only and _names(subject, only[0]["s"]):
            # The advice asks, the harm answers: "Why should ketamine only be used under a
            # physician's prescription?" -> "Misuse can ... lead to PTSD." Blind readers
            # dropped "What precautions apply?" answered by the advice as a platitude, by
            # the harm as "risks, not precautions", by both as a vague front.
            who = _caser(section.note)(only[0]["s"])
            asked = f"Why should {who} only be {only[0]['rest']}?"
            more = [j for j in short_answers(10) if j not in advice]
            if more:
                chosen = sorted([best, max(more, key=lambda j: (hits(fits[j]), -j))])
        elif short and (cue is None or hits(fits[after]) or fits[best].rstrip().endswith(":")):
            chosen.append(after)
        elif cue is not None:
            # Another short sentence that answers too ("Ketamine is a substance of abuse."
            # beside "... only under a physician's prescription."): both, in reading order.
            more = short_answers(min(30 - len(fits[best].split()), 10))
            if more:
                chosen = sorted([best, max(more, key=lambda j: (hits(fits[j]), -abs(j - best)))])
        count = sum(len(fits[i].split()) for i in chosen)
        lines = [Line(_fragment(points[i], fits[i]), section.moments[i]) for i in chosen]
        if len(lines) == 2 and count <= 30 and not _TAGS.sub("", lines[0].html).endswith(":"):
            # Two short sentences read as one answer, their moments after both.
            both = tuple(sorted(set(lines[0].moments + lines[1].moments), key=lambda m: m.seconds))
            lines = [Line(f"{lines[0].html} {lines[1].html}", both)]
        if 0 < len(labels) <= 3 and count < self.answer_words:
            # "... due to several risks:" names its items on the card.
            names = ", ".join(
                html.escape(lowered_title(lbl, section.note)) for lbl in _labels(labels)
            )
            for n, line in enumerate(lines):
                if _TAGS.sub("", line.html).rstrip().endswith(":"):
                    lines[n] = Line(f"{line.html.rstrip()} {names}.", line.moments)
                    break
        if not lines:
            return None
        if cue is None and not self._answers(section, question, [points[i] for i in chosen]):
            return None  # (a heading with cue words was answered by one of them already)
        if question.pattern == "mechanism" and not _names(question.topic, fits[chosen[0]]):
            # "How does the scam work?" -> "The scam typically begins with ...": a step of
            # it, not how it works (blind reads kept 4 of 21 such cards, mostly those whose
            # answer says "X works by ..." or "X allows ...").
            return None
        used.update(chosen)
        return Draft(
            CardKind.QA,
            "",
            section.points[chosen[0]].line if chosen else section.points[0].line,
            asked,
            tuple(lines),
            f"the heading asks '{question.pattern}'; answered by the section's key points",
            10.0,
            question.pattern,
        )

    # -- a labelled item ("**Purity:** there is no purity guarantee") ------------------------

    def _label_card(
        self,
        section: SectionText,
        point: Point,
        label: str,
        body: str,
        moments: tuple[Moment, ...],
    ) -> Draft | None:
        """A card for a labelled item whose text defines its label ("**POST:** Used to
        create a resource"); any other item is read sentence by sentence instead."""
        sentences = split_sentences(loose(body, self.fillers))
        if not sentences or label.endswith("?") or len(label.split()) > 5:
            return None
        if len(label.split()) == 1 and lowered(label, section.note) == label.lower():
            return None  # "Process", "Spike": a common word is no term on its own
        answer = sentences[0]
        n = len(answer.split())
        if n < 5 or n > 25 or not _A_THING.match(answer) or not _own_pronouns(answer):
            return None
        if _PLATITUDE.search(answer) or _given_away(label, answer):
            return None
        if fit_subject(label, frozenset()) is not None and not label[:1].isupper():
            return None
        if answer.rstrip().endswith(":") or is_meta(answer):
            return None
        low = lowered_title(label, section.note)
        label_words = {w.lower() for w in words(label)}
        if label_words <= {w.lower() for w in words(answer)[:4]}:
            return None  # the answer only says the label again
        if " vs" in low or "/" in low or low.split()[0].lower() in IMPERATIVES:
            return None
        if low.split()[0].endswith("ing") or low.casefold() in section.context.casefold():
            return None
        be = "are" if plural(low) else "is"
        asked = f"{_indefinite(low)} {low}" if _bare_countable(low) else low
        # The label and its text read as one definition, held to a definition's bar: no
        # names (a person's or a company's background), no vague kinds, no praise.
        stated = f"{low[:1].upper()}{low[1:]} {be} {answer[:1].lower()}{answer[1:]}"
        found, _why = claim(stated.rstrip("."), frozenset(words(section.context)), _same_case)
        if found is None or found.relation != "definition":
            return None
        return Draft(
            CardKind.LABEL,
            item_slug(label),
            point.line,
            f"What {be} {asked}?",
            (Line(html.escape(_answer(answer)), moments),),
            f"labelled item '{label}' defined by its text",
            3.5 + (0.4 if moments else 0),
            "label",
        )

    def _answers(self, section: SectionText, question: Question, chosen: list[Point]) -> bool:
        """Whether the chosen sentences answer a heading's question that has no cue words
        (a pattern a user made ask): they name what it asks about, not only follow it."""
        text = " ".join(p.text for p in chosen).casefold()
        asked = _stems(question.text) - _stems("what how why which does do is are the of")
        if question.pattern == "comparison":
            return len(_stems(text) & asked) >= 2  # both sides named
        subject = section.subject.casefold()
        return subject in text or bool(_stems(text) & asked) or text.startswith("it")

    # -- a sentence: a question from its claim, or a cloze on its term ---------------------

    def _sentence_card(
        self,
        section: SectionText,
        point: Point,
        sentence: str,
        moments: tuple[Moment, ...],
        title_words: frozenset[str],
        case: Callable[[str], str],
    ) -> tuple[Draft | None, str]:
        text, _who = unsaid(loose(sentence, self.fillers))
        if is_meta(text):
            return None, "about the video, not the topic"
        if leans(text):
            return None, f"leans on the sentence before ('{text.split()[0]}')"
        n = len(text.split())
        if n < 5:
            return None, "too short to carry a fact"
        frame, core = framed(text)
        found, why = claim(core, title_words, case)
        if (
            found is not None
            and found.relation == "definition"
            and section.heading
            and found.subject.casefold().removeprefix("the ") == section.note.subject.casefold()
            and (section.question.pattern != "definition")
        ):
            return None, "a definition of the note's subject outside its opening"
        if (
            found is not None
            and found.relation not in {"definition", "ranking"}
            and not _established(found.subject, section)
        ):
            return None, f"'{found.subject}' is named nowhere else in the note (which one?)"
        if found is not None and frame and any(c.isdigit() for c in frame):
            return None, "a dated detail (an example's set-up?)"
        if found is not None and frame and re.search(r"(?i)^unlike\b|\bexample\b", frame):
            return None, "the frame is a comparison or an example the card cannot hold"
        if found is not None and points_back(found.question):
            return None, "the question leans on a name it never gives ('the city')"
        if found is not None and frame:
            found = replace(found, question=f"{frame}, {_uncapital(found.question)}")
        if (
            found is not None
            and found.answer.split()[:1]
            and found.answer.split()[0].lower()
            in (_PREPOSITIONS | {"when", "if", "while", "because", "although", "that"})
        ):
            return None, "the question split the sentence in the wrong place"
        if found is not None and found.relation in _MAKES:
            # "X causes individuals to blame themselves": ask what X makes them do.
            made = re.match(r"(?P<who>(?:\w+\s+){0,2}\w+)\s+to\s+(?P<do>[a-z]+\b.*)$", found.answer)
            who = made.group("who").split()[-1] if made is not None else ""
            if made is not None and not has_pronoun(made.group("who")) and who not in _NOT_WHO:
                verb = found.question.rsplit(" ", 1)[-1].rstrip("?")
                question = f"{found.question.rsplit(' ', 1)[0]} {verb} {made.group('who')} to do?"
                found = replace(found, question=question, answer=made.group("do"))
        if found is not None:
            lead_in = _ANSWER_LEADS.get(found.relation, "")
            answer = _answer(lead_in + found.answer)
            a_words = len(answer.split())
            if a_words < 2 and found.relation != "ranking":
                return None, "the answer is a single word"
            answer = _trim(answer)
            if _ENDS_OPEN.search(answer):
                # "The sources of revenue, categorized into:": the list it leads into is
                # not on the card; the answer ends before that last clause, or there is none.
                head, comma, _tail = answer.rpartition(", ")
                if not comma or len(head.split()) < 3 or _ENDS_OPEN.search(head + "."):
                    return None, "the answer leads into a list the card cannot hold"
                answer = head + "."
            a_words = len(answer.split())
            if a_words > 32:
                answer = _cut(answer)
                a_words = len(answer.split())
                if a_words > 32:
                    return None, "the answer is too long for one card"
            if answer.split()[0].lower() in {"their", "its", "it", "it's", "they"}:
                return None, "the answer opens on a pronoun for something the card does not name"
            if found.question.startswith("Who ") and answer.split()[0].endswith("ing"):
                return None, "a 'who' question answered by no one ('Taking over ...')"
            if has_pronoun(answer) and not _own_pronouns(answer):
                return None, "the answer refers to something the card does not name"
            if re.search(r"[\"\u201c][^\"\u201d]*\s[^\"\u201d]*\s[^\"\u201d]*[\"\u201d]", answer):
                return None, "the answer quotes an opinion"
            if _answer_lists(answer):
                return None, "the answer is a list of more than three items"
            # A ranking's answer is its subject, a name: the question shows its scope.
            ranking = found.relation == "ranking"
            if not ranking and found.subject.casefold() in answer.casefold():
                return None, "the answer repeats the question"
            head = re.split(r"[,;(]|\s+(?:which|that|who)\s+", answer, maxsplit=1)[0]
            asked = found.question if ranking else found.subject
            if _given_away(head, asked, most=True, exact=ranking) and len(head.split()) <= 6:
                return None, "the question holds its answer"
            first = answer.split()[0].lower()
            if first in {"is", "are", "was", "were", "has", "have", "had", "and", "or", "but"}:
                return None, "the question split the sentence in the wrong place"
            if found.relation in _MAKES and re.match(r"^\w+\s+to\s+\w", answer):
                return None, "the question split the sentence in the wrong place"
            if found.relation == "definition" and re.search(r"\b(?:their|they|them)\b", answer):
                return None, "the answer refers to something the card does not name"
            if (a_words <= 6 and _VAGUE.search(answer)) or not says_something(answer):
                return None, "the answer is too vague to recall"
            if _COUNT_ONLY.match(answer):
                return None, "the answer only counts ('three main levers'), it names none"
            shown = answer if ranking else found.subject + " " + answer
            if _given_away(shown, section.context, most=not ranking, exact=ranking):
                return None, "the context line gives the answer away"
            if _PLATITUDE.search(answer):
                answer = _cut(answer)  # "..., which can lead to various ..." loses its tail
                if _PLATITUDE.search(answer):
                    return None, "the answer is a platitude"
            found = _with_article(found, section)
            score = found.weight + _sharpness(found.subject, point, section)
            score += 0.4 if moments else 0
            score -= 0.05 * max(0, a_words - 18)
            return (
                Draft(
                    CardKind.QA,
                    "s-" + item_slug(f"{found.relation} {found.subject}"),
                    point.line,
                    found.question,
                    (Line(html.escape(answer), moments),),
                    _why_claim(found.subject, found.relation),
                    score,
                    f"claim:{found.relation}",
                ),
                "",
            )
        cloze = self._cloze(section, point, text, moments)
        if cloze is not None:
            return cloze, ""
        if negated(text):
            return None, "a negative statement makes an ambiguous cue"
        return None, why

    def _cloze(
        self, section: SectionText, point: Point, text: str, moments: tuple[Moment, ...]
    ) -> Draft | None:
        if not point.terms:
            return None  # nothing marked to hide
        n = len(text.split())
        if not (_MIN_CLOZE <= n <= _MAX_CLOZE) or "{{" in text or "}}" in text:
            return None
        if has_pronoun(text.replace(" its ", " ").replace(" it ", " ")):
            return None
        context = section.context.casefold()
        for term in point.terms:
            t = term.text.strip()
            k = t.casefold()
            at = text.find(t)
            rest_of = text[:at] + " " + text[at + len(t) :] if at >= 0 else text
            if len(t) < 4 or k in context or len(t.split()) > 4 or _given_away(t, context):
                continue
            if _given_away(t, rest_of):
                continue
            if at < 0 or text.find(t, at + 1) >= 0:
                continue
            before = text[:at].strip()
            # Only a term the sentence introduces: a sentence's subject hidden reads as a
            # guess (blind reads kept 1 cloze of 27 that hid one).
            if not _INTRODUCES.search(before):
                continue
            after = text[at + len(t) :]
            hidden = html.escape(text[:at]) + "{{c1::" + html.escape(t) + "}}" + html.escape(after)
            return Draft(
                CardKind.CLOZE,
                item_slug(t),
                point.line,
                hidden,
                (Line("", moments),),
                f"'{t}' is the term the sentence introduces",
                4.0 + (0.4 if moments else 0.0),
                "cloze:term",
            )
        return None


def _purpose(note: Note, subject: str) -> str:
    """What the note's title says its subject is for: "as a treatment for depression" in
    "Ketamine as a treatment for depression" ("" when the title says nothing of it)."""
    bare = _no_article(subject)
    m = re.match(
        rf"(?i){re.escape(bare)}\s+(?P<how>as|for)\s+(?P<rest>[^:;,()]{{3,60}})$", note.title
    )
    if m is None or not bare:
        return ""
    return f"{m['how'].lower()} {lowered_words(m['rest'], note)}"


def _no_article(phrase: str) -> str:
    return re.sub(r"^(?:the|a|an)\s+", "", phrase, flags=re.IGNORECASE)


def _names(subject: str, text: str) -> bool:
    """Whether `text` names `subject` (a stem of it will do: "Ketamine's key action")."""
    bare = _no_article(subject).casefold()
    return bare in text.casefold() or bool(_stems(bare) & _stems(text))


def _stems(text: str) -> set[str]:
    """Crude stems ("gaming" and "games" meet at "gam"): enough to tell a give-away."""
    out = set()
    for w in words(text):
        if len(w) <= 3 and not (w.isupper() and len(w) > 1):
            continue
        low = w.lower()
        for end in ("ing", "es", "s", "ed", "er", "ion", "al", "ly"):
            if low.endswith(end) and len(low) - len(end) >= 3:
                low = low[: -len(end)]
                break
        out.add(low[:5])
    return out


def _given_away(hidden: str, shown: str, most: bool = False, exact: bool = False) -> bool:
    """Whether the words shown (a context line, the rest of a sentence) hold the hidden
    words, or words of the same stem ("gaming" for "video games"): any of them, or with
    `most`, at least half. With `exact`, only the words themselves count: a name shares
    a stem with what it is named for ("Streptococcus pneumoniae", "pneumonia")."""
    if exact:
        shown_words = {w.lower() for w in words(shown)}
        return any(w.lower() in shown_words for w in words(hidden) if len(w) > 3)
    hid = _stems(hidden) - _FUNCTION_STEMS
    if not most:
        return bool(hid & _stems(shown))
    return bool(hid) and len(hid & _stems(shown)) * 2 >= len(hid)


_FUNCTION_STEMS = frozenset({"with", "from", "that", "this", "their", "which", "about", "into"})


def _with_subject(label: str, body: str) -> str:
    """A label's text as a sentence with the label as its subject, where it reads so."""
    starts = predicate_start(body)
    if starts is None or not label or label.endswith("?") or len(label.split()) > 5:
        return body
    subject = label[:1].upper() + label[1:]
    if label == label.lower() and not plural(label):
        subject = f"The {label}"  # "speech processor converts ..." needs its article
    rest = body[:1].lower() + body[1:]
    if starts == "state":
        return f"{subject} {'are' if plural(label) else 'is'} {rest}"
    return f"{subject} {rest}"


def _with_article(found: Claim, section: SectionText) -> Claim:
    """ "What is router agent?" -> "What is a router agent?": a bare singular noun that
    notes write as a countable thing takes an article in the question: "a" in a
    definition, "the" elsewhere where the note itself writes "the router agent"."""
    subject = found.subject
    stray = re.fullmatch(r"(?i:the)\s+([a-z]+)", subject)
    if stray is not None and stray.group(1).endswith(_ABSTRACT) and not countable(stray.group(1)):
        # "How is the voyeurism defined?": an abstract noun the note wrote with "the".
        bare = stray.group(1)
        question = re.sub(rf"\b[Tt]he {bare}\b", bare, found.question, count=1)
        return replace(found, subject=bare, question=question)
    if subject not in found.question or not _bare_countable(subject):
        return found  # "the stratified sampling", "the rose water": a mass goes without
    if found.relation == "definition":
        if _written_bare(subject, section):
            return found  # "dark matter is ...", "of dark matter": the note's own usage
        article = _indefinite(subject)  # notes write "an agent", never "agent" bare
    else:
        # The phrase must end there ("the router agent is ..."), not go on into a longer
        # name ("the agentic RAG system", "a factor investing strategy").
        said = re.compile(
            rf"\b(?:a|an|the)\s+{re.escape(subject)}(?:[.,;:!?)]|\s+(?:is|are|was|were|"
            r"can|could|will|would|has|have|had|and|or|that|which)\b)",
            re.IGNORECASE,
        )
        if not any(said.search(p.text) for p in section.note_points):
            return found
        article = "the"
    return replace(found, question=found.question.replace(subject, f"{article} {subject}", 1))


_DETERMINERS = frozenset("the this that these those its their his her our your my".split())


def _written_bare(phrase: str, section: SectionText) -> bool:
    """Whether the note writes `phrase` without an article and never with "a"/"an"."""
    low = phrase.casefold()
    bare = with_a = 0
    for point in section.note_points:
        text = point.text.casefold()
        for m in re.finditer(rf"(\w+\s+)?\b{re.escape(low)}\b", text):
            before = (m.group(1) or "").strip()
            if before in {"a", "an"}:
                with_a += 1
            elif before and before not in _DETERMINERS:
                bare += 1  # "of dark matter" (a sentence's first words say nothing)
    return bare > 0 and with_a == 0


def _head(phrase: str) -> str:
    """The noun a phrase is about: "need for foundational approach" -> "need"."""
    before = re.split(r"\s+(?:of|for|to|in|on|with|from|about)\s+", phrase, maxsplit=1)[0]
    return before.split()[-1] if before.split() else ""


def _indefinite(phrase: str) -> str:
    low = phrase.lower()
    vowel = low[:1] in "aeio" or (
        low.startswith("u") and not low.startswith(("uni", "use", "usu", "uti"))
    )
    return "an" if vowel else "a"


def _bare_countable(phrase: str) -> bool:
    """A lower-case singular phrase with no article whose noun notes count ("router
    agent"): a question names it with "a"."""
    first = phrase.split()[0] if phrase.split() else ""
    if not first.islower() or first in {"the", "a", "an"} or plural(phrase):
        return False
    if first.endswith(("'s", "\u2019s", "ly")):
        return False  # "community's desire", "consistently poor ..."
    head = _head(phrase)
    return not head.endswith(_ABSTRACT) and bool(countable(head))


# Endings of abstract nouns a definition names bare ("What is market capitalization?").
_ABSTRACT = ("tion", "sion", "ness", "ism", "ity", "ing", "ics", "sis", "ogy", "ance", "ence")


def _established(subject: str, section: SectionText) -> bool:
    """Whether a subject such as "the nitrogen bubbles" stands on its own: a name or term,
    or a phrase the note's title or headings use, or one the note comes back to."""
    first, _, bare = subject.partition(" ")
    if first.lower() not in {"the", "a", "an"}:
        return True
    if " " not in bare and (bare.lower() in generic_words() or bare in GENERIC_ACRONYMS):
        return False  # "the agent", "the AI": every note of its kind has one
    if any(w[:1].isupper() or (w.isupper() and len(w) > 1) for w in bare.split()):
        return True
    low = bare.casefold()
    if low in section.context.casefold():
        return True
    return sum(p.text.casefold().count(low) for p in section.note_points) >= 2


def _recurring(section: SectionText) -> frozenset[str]:
    """Capitalised words the note comes back to (three times or more): its topics, names a
    card may use on their own ("U-Net"), unlike a name met once in an example."""
    counts: dict[str, int] = {}
    for point in section.note_points:
        for word in words(point.text):
            if word[:1].isupper():
                counts[word.lower()] = counts.get(word.lower(), 0) + 1
    return frozenset(w for w, n in counts.items() if n >= 3)


def _only_link(point: Point) -> bool:
    """A list item that is only a link ("[[physics_of_flywheels | Physics of flywheels]]")."""
    text = point.text.strip().rstrip(".")
    return any(t.text.strip() == text for t in point.terms)


def _label_of(point: Point) -> tuple[str | None, str, str]:
    """A list item's label, its body as HTML and as text; (None, html, text) for none."""
    if point.label:
        return point.label.rstrip(":").strip(), point.html, point.text
    if point.item:
        m = _GLUED_LABEL.match(point.html)
        if m is not None:
            label = html.unescape(m.group("label")).strip().rstrip(":")
            text = point.text
            if text.startswith(label):
                text = text[len(label) :].lstrip(" :")
            if len(label.split()) <= 8:
                return label, point.html[m.end() :], text
    return None, point.html, point.text


def _labels(labelled: Sequence[tuple[int, Point]]) -> list[str]:
    return [lbl for _, p in labelled if (lbl := _label_of(p)[0]) is not None]


def _fragment(point: Point, text: str) -> str:
    """The point's HTML with the same opening cut as its text."""
    if text == point.text:
        return point.html
    return html.escape(text)


def _resolve_it(text: str, subject: str) -> str:
    first, _, rest = text.partition(" ")
    subject = _capital(subject)
    if first.lower() == "its":
        return f"{subject}'s {rest}"
    return f"{subject} {rest}"


def _answer(rest: str) -> str:
    rest = rest.strip().rstrip(" ,;:")
    if rest.count('"') % 2:  # a quote the sentence opened before the answer began
        rest = rest[:-1] if rest.endswith('"') else rest.replace('"', "", 1)
    rest = rest.strip().rstrip(" ,;:")
    quote = len(rest) - len(rest.lstrip("\"'\u201c\u2018"))  # '"slippages" in ...'
    rest = rest[:quote] + rest[quote : quote + 1].upper() + rest[quote + 1 :]
    ends = (".", "!", "?", '."', '!"', '?"', ".\u201d", "?\u201d")
    return rest if rest.endswith(ends) else rest + "."


def _why_claim(subject: str, relation: str) -> str:
    if relation == "definition":
        return f"the sentence says what {subject} is"
    if relation == "ranking":
        return f"the sentence singles out {subject}: asked the other way round"
    if relation in {"how", "why"}:
        return f"the sentence says {relation} {subject} ..."
    return f"the sentence says what {subject} {relation.split()[0]} ..."


_MAKES = frozenset({"causes", "enables", "leads to"})
# "... lead to bowler fatigue due to less rest": "due to" is no one made to do something.
_NOT_WHO = frozenset("due owing prior close next up according thanks".split())
_ANSWER_LEADS = {
    "found in": "in ",
    "located in": "in ",
    "shows that": "that ",
    "reveals that": "that ",
    "illustrates how": "how ",
    "used to": "to ",
    "works by": "by ",
    "occurs when": "when ",
    "happens when": "when ",
}
_COUNT_ONLY = re.compile(
    r"^(?:two|three|four|five|six|seven|eight|nine|ten|several|many|multiple|various|\d+)"
    r"(?:\s+[\w-]+){1,2}\.?$",
    re.IGNORECASE,
)
_VAGUE = re.compile(
    r"\b(?:specific|certain|various|different|modern|key|important|many|several|unique|"
    r"particular|general|overall|good|great|better|efficiency|clarity|things?|stuff)\b",
    re.IGNORECASE,
)


def _trim(answer: str) -> str:
    """An answer without a comment glued on (", emphasizing ...") or a second clause with
    its own subject (", and the ACC also ...")."""
    comment = re.search(
        r",\s+(?:emphasi[sz]ing|highlighting|underscoring|showcasing|illustrating|reflecting|"
        r"demonstrating|suggesting|showing)\b",
        answer,
    )
    if comment is not None and len(answer[: comment.start()].split()) >= 3:
        answer = answer[: comment.start()] + "."
    tail = _SECOND_PREDICATE.search(answer)
    if tail is not None and len(answer[: tail.start()].split()) >= 1:
        # "Organs and increase insulin resistance": the subject's second verb is a second
        # fact; "reasoning but has limitations" a qualification of the first.
        answer = answer[: tail.start()].rstrip(" ,") + "."
    glued = re.search(
        r",\s+(?:and|but|while)\s+(?:the|a|an|its|their|this|these)\s+[\w-]+(?:\s+[\w()-]+){0,3}"
        r"\s+(?:is|are|was|were|also|has|have|can|will|plays?|remains?)\b",
        answer,
    )
    if glued is not None and len(answer[: glued.start()].split()) >= 2:
        return answer[: glued.start()] + "."
    return answer


_SECOND_PREDICATE = re.compile(
    # "... and, more significantly, decreases ...", "... and fundamentally change ...":
    # an adverb or an aside may stand between "and" and the second verb.
    r"(?:,?\s+but\s+(?!also\b)|,?\s+and\b\s*(?=(?:also\s+|[a-z]+ly\s+|,\s*[^,]{3,30},\s*)?"
    r"(?:is|are|was|were|has|have|had|can|"
    r"may|might|will|would|could|should|must|presents?|increases?|decreases?|reduces?|"
    r"leads?|causes?|helps?|allows?|makes?|requires?|provides?|becomes?|remains?|"
    r"results?|affects?|improves?|prevents?|produces?|creates?|uses?|gives?|shifts?|"
    r"encourages?|democrati[sz]es?|changes?|drives?|enables?|ensures?|frees?|boosts?|"
    r"lowers?|raises?|strengthens?|weakens?|limits?|promotes?|fosters?|undermines?)\b))",
    re.IGNORECASE,
)


_ENDS_OPEN = re.compile(
    r"\b(?:into|of|to|for|with|by|as|in|on|from|include|includes|including|are|is|the|a|an|"
    r"and|or|such as|like|following)\.$",
    re.IGNORECASE,
)


def _cut(answer: str) -> str:
    """An answer up to its first clause break past a few words ("X, which ...")."""
    m = re.search(
        r",\s+(?:which|who|where|while|leading|making|allowing|as|and|but|"
        r"often|such as|including|especially|particularly|thereby)\b",
        answer,
    )
    if m is None or len(answer[: m.start()].split()) < 4:
        return answer
    return answer[: m.start()] + "."


def _answer_lists(answer: str) -> bool:
    return answer.count(",") >= 3


# Pronouns that point outside the card; "it", "its", "their" refer inside an answer.
_DANGLING = frozenset("this these those he she him his her they them we our you your i my".split())


def _own_pronouns(answer: str) -> bool:
    """Whether an answer's pronouns all refer inside it ("its", "their", "it")."""
    return _DANGLING.isdisjoint(w.lower() for w in words(answer))


def _sharpness(subject: str, point: Point, section: SectionText) -> float:
    """How specific a cue the subject gives: a marked term or a name beats a common word."""
    score = 0.0
    if any(t.text.casefold() in subject.casefold() for t in point.terms):
        score += 1.0
    content = [w for w in words(subject) if w.lower() not in {"the", "a", "an"}]
    if len(content) >= 2:
        score += 0.5
    if any(w[:1].isupper() for w in content[1:]):
        score += 0.3
    if subject.casefold() == section.subject.casefold():
        score -= 0.3  # many sentences of a note are about its subject: a blunter cue
    return score


def _caser(note: Note) -> Callable[[str], str]:

    def case(subject: str) -> str:
        """The subject's first word lowered unless it is a name (or starts one: "Deep
        Research")."""
        first, sep, rest = subject.partition(" ")
        gerund = first.endswith("ing") and first.lower() in common_words()
        named = [w for w in rest.split()[:1] if w[:1].isupper() and not _acronym(w)]
        if not gerund and named:
            return subject  # "Deep Research"; but "Reaching Area 51" is a verb's
        return lowered(first, note) + sep + rest

    return case


def _acronym(word: str) -> bool:
    """ "LLM", "LLM-to-patient": an acronym (or a compound led by one) names no phrase."""
    return word.split("-")[0].isupper()


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _same_case(text: str) -> str:
    return text


def _uncapital(question: str) -> str:
    first, _, rest = question.partition(" ")
    asks = {"What", "Who", "How", "When", "Why", "Where", "Which"}
    return f"{first.lower()} {rest}" if first in asks else question


def _short(text: str) -> str:
    return text if len(text) <= 100 else text[:97] + "..."
