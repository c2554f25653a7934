"""Phrase a self-contained question for a section from its heading and the note's subject."""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from notedeck.errors import TemplateError


@dataclass(frozen=True, slots=True)
class QuestionPattern:
    name: str
    regex: re.Pattern[str]
    question: str
    topic: str
    line: int
    ask: bool = True  # False: the pattern names a topic, its sections give no heading card


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    pattern: str
    topic: str


class PatternError(TemplateError):
    """The pattern table cannot be used; the message names path:line and the fix."""


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_KEYS = ("name", "regex", "question", "topic")
# Placeholders every template may use besides the regex's own named groups.
_BUILTINS = frozenset({"subject", "Subject", "heading", "be", "was", "does", "has"})
_PLACEHOLDER = re.compile(r"\{(\w*)\}")
_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")

_FUNCTION_WORDS = _words(
    "a an the and or but nor of in on at to for from by with without into onto over "
    "under about above below between among across through during before after behind "
    "beyond within versus vs via as is are was were be been its it their his her our "
    "your my this that these those what why how when where who which whose other others "
    "another such some any all each every both more most less least new not no vs. than "
    "then so up out off against toward towards upon per"
)
_PREPOSITIONS = _words(
    "of in on for to with between behind within across among about from into through "
    "under over against during without beyond toward towards versus vs via at by"
)
_DETERMINERS = _words(
    "the a an this these those its their his her our your my some any each every no all both"
)
_PLURAL_WORDS = _words(
    "people children criteria phenomena media men women dynamics characteristics metrics "
    "tactics topics basics specifics mechanics lyrics graphics fundamentals"
)
_SINGULAR_S = _words(
    "news series species analysis basis crisis thesis diagnosis status bias chaos lens "
    "gas this its is was has does"
)
_WORD = re.compile(r"[A-Za-z][\w'\u2019-]*")

# Leftover markup a heading may carry: timestamp anchors, wikilinks, links, emphasis.
_HTML = re.compile(r"<[^>]*>")
_STAMP = re.compile(r"\[\s*\d{1,2}(?::\d{2}){1,2}\s*\]|\(\s*\d{1,2}(?::\d{2}){1,2}\s*\)")
_WIKILINK = re.compile(r"\[\[(?:[^\]|]*\|)?\s*([^\]]*?)\s*\]\]")
_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_NUMBERING = re.compile(
    r"^(?:(?:step|part|phase|stage|chapter|section|tip|lesson|rule|day|week)\s*#?\d+\b|"
    r"#?\d+(?:\.\d+)*\b|[ivx]+(?=[.)])|[a-z](?=\))|\(\d+\))\s*[.):\-\u2013\u2014]?\s*",
    re.IGNORECASE,
)


# Compiled once here: a pattern string given to re.sub is looked up in re's cache on
# every call, which costs as much as the substitution on a short heading.
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2060\ufeff]")
_MARKS = re.compile(r"[*_`#{}]+")
_SPACES = re.compile(r"\s+")
# A repeat follows a whole word (the space after it is no word character), so the word is
# taken whole, never shortened and tried again (++).
_REPEATED_WORD = re.compile(r"\b(\w++)(?: \1\b)+", re.IGNORECASE)
_SPACE_BEFORE_MARK = re.compile(r"\s+([?,])")
_AFTER_PREPOSITION = re.compile(r"\s(?:" + "|".join(_PREPOSITIONS) + r")\s")
_LIST = re.compile(r"\s(?:and|&)\s|,")
_PARTICIPLE = re.compile(r"\s\w+(?:ing|ed)\b")


def _normalise(text: str) -> str:
    # Most headings are plain words: each pattern is tried only on a heading holding the
    # one character it cannot match without.
    text = _INVISIBLE.sub("", text)
    if "<" in text:
        text = _HTML.sub(" ", text)
    if "[" in text:
        text = _WIKILINK.sub(r"\1", _LINK.sub(r"\1", text))
    if "[" in text or "(" in text:
        text = _STAMP.sub(" ", text)
    # Each run of blanks one space, each run of marks nothing. No mark is a blank, so the
    # runs of one kind are the same whether those of the other are replaced first.
    text = _MARKS.sub("", _single_spaced(text))
    text = text.strip(" \t:;,.-\u2013\u2014|>")
    stripped = _NUMBERING.sub("", text, count=1).strip(" :;,.-\u2013\u2014")
    # A heading that is only a number ("Step 2") keeps its words rather than vanishing.
    return stripped or text


def _single_spaced(text: str) -> str:
    """`text` with each run of blanks one space, as `\\s+` -> " " (most text already is)."""
    if "  " not in text and text.isprintable():
        return text  # a printable text holds no blank but " "
    return _SPACES.sub(" ", text)


def _cased(text: str, vocabulary: frozenset[str], also: frozenset[str] = frozenset()) -> str:
    """Lower-case Title Case words the note itself writes in lower case (or `also` has:
    looked up apart, as merging them into a note's thousands of words cost more)."""

    def fix(m: re.Match[str]) -> str:
        word = m.group()
        if not (word[0].isupper() and word[1:] == word[1:].lower()):
            return word  # acronyms (DMN, SSRIs) and mixed case (iPhone) keep their case
        lower = word.lower()
        base = lower[:-2] if lower.endswith(("'s", "\u2019s")) else lower
        known = base in vocabulary or base in also
        if not known:
            parts = base.split("-") if "-" in base else (base,)
            known = all(p in vocabulary or p in also or p in _FUNCTION_WORDS for p in parts)
        # Title Case capitalises a heading's first word; a leading gerund is no proper noun.
        gerund = m.start() == 0 and len(base) > 5 and base.endswith("ing")
        return lower if known or gerund or base in _FUNCTION_WORDS else word

    return _WORD.sub(fix, text)


def _plural(phrase: str) -> bool:
    head = _AFTER_PREPOSITION.split(f" {phrase} ", maxsplit=1)[0]
    if _LIST.search(head):
        return True
    # The head noun stops before a participle: "treatments affecting the DMN".
    words = _PARTICIPLE.split(head, maxsplit=1)[0].split()
    if not words:
        return False
    word = words[-1].strip("'\u2019\"()")
    lower = word.lower()
    if lower in _PLURAL_WORDS:
        return True
    if lower in _SINGULAR_S or lower.endswith(("ss", "us", "is", "ics", "'s", "\u2019s")):
        return False
    return word.endswith("s") and len(word) > 2


def _mentions(heading: str, subject: str) -> bool:
    """Whether `subject` stands in `heading` as whole words, as `\bsubject\b` would find
    it; without a regex, since each note's subject would be compiled anew."""
    text, word = heading.lower(), subject.lower()
    if not word:
        return re.search(r"\b\b", text) is not None
    at = text.find(word)
    while at >= 0:
        end = at + len(word)
        if _boundary(text, at) and _boundary(text, end):
            return True
        at = text.find(word, at + 1)
    return False


def _boundary(text: str, at: int) -> bool:
    """Whether `\b` matches at `at`: a word character on exactly one side."""
    before = at > 0 and _is_word(text[at - 1])
    after = at < len(text) and _is_word(text[at])
    return before != after


def _is_word(char: str) -> bool:
    # What `\w` matches in a str pattern: alphanumerics (str.isalnum) and the underscore.
    return char.isalnum() or char == "_"


def _anchored(phrase: str) -> bool:
    """Whether a phrase already says what it is about ("challenges in scaling")."""
    return any(w.lower() in _PREPOSITIONS for w in phrase.split())


def load_patterns(path: Path) -> tuple[QuestionPattern, ...]:
    raw = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(raw)
    except tomllib.TOMLDecodeError as err:
        m = re.search(r"line (\d+)", str(err))
        raise PatternError(f"{path}:{m.group(1) if m else 1}: invalid TOML: {err}") from err
    tables = data.get("pattern")
    if not isinstance(tables, list):
        raise PatternError(f"{path}:1: no [[pattern]] tables; add at least one")
    # tomllib keeps no positions, so find each [[pattern]] header in the raw text.
    lines = [i for i, t in enumerate(raw.splitlines(), 1) if t.strip() == "[[pattern]]"]
    patterns = []
    for table, line in zip(tables, lines, strict=False):
        where = f"{path}:{line}"
        for key in _KEYS:
            if not isinstance(table.get(key), str) or not table[key]:
                raise PatternError(f"{where}: pattern needs a non-empty string '{key}'")
        unknown = sorted(set(table) - set(_KEYS) - {"ask"})
        ask = table.get("ask", True)
        if not isinstance(ask, bool):
            raise PatternError(f"{where}: 'ask' must be true or false")
        if unknown:
            raise PatternError(f"{where}: unknown key(s) {', '.join(unknown)}; use {_KEYS}")
        try:
            regex = re.compile(table["regex"], re.IGNORECASE)
        except re.error as err:
            raise PatternError(f"{where}: bad regex in '{table['name']}': {err}") from err
        allowed = _BUILTINS | set(regex.groupindex)
        for key in ("question", "topic"):
            for name in _PLACEHOLDER.findall(table[key]):
                if name not in allowed:
                    raise PatternError(
                        f"{where}: unknown placeholder {{{name}}} in {key} of "
                        f"'{table['name']}'; use one of {sorted(allowed)}"
                    )
        patterns.append(
            QuestionPattern(table["name"], regex, table["question"], table["topic"], line, ask)
        )
    return tuple(patterns)


_ASPECTS = (
    r"understanding|introduction to|an introduction to|overview of|details on|"
    r"(?:(?:the )?(?:concept|basics|fundamentals|history|role|roles|impact|importance|influence|"
    r"significance|evolution|future|rise|power|nature|science|effects?|benefits|challenges|"
    r"dynamics|criticism|origins?|development|ethics|applications?|use)"
    r"(?:(?:,| and| &) (?!of\b)\w+)*) of"
)


def subject_of(title: str, vocabulary: frozenset[str]) -> str:
    text = _normalise(title)
    subject = re.sub(rf"^(?:{_ASPECTS})\s+", "", text, flags=re.IGNORECASE)
    trimmed = subject != text
    tail = r"\s+as (?:an?|the)\s+|\s+and (?:its|their|his|her)\s+"
    subject = re.split(tail, subject, maxsplit=1)[0]
    # "Impact of X on Y", "Role of X in Y", "DMN in the brain": X is what the note is about.
    cut = r"\s+(?:on|in|within|for)\s+" if trimmed else r"\s+(?:in|within)\s+(?=the\b)"
    subject = re.split(cut, subject, maxsplit=1, flags=re.IGNORECASE)[0]
    subject = _cased(subject.strip(" :;,.-"), vocabulary)
    return subject or _cased(text, vocabulary) or title.strip() or "this topic"


def overview_question(subject: str) -> str:
    subject = subject.strip() or "this topic"
    first = subject.split()[0].lower()
    if first in {"how", "why", "what", "when", "where", "who", "whether"}:
        return f"Can you explain {subject}, and why it matters?"
    if first.endswith("ing") and len(first) > 4:
        return f"What does {subject} involve, and why does it matter?"
    if _plural(subject):
        return f"What are {subject}, and why do they matter?"
    return f"What is {subject}, and why does it matter?"


_VERBS = frozenset({"be", "was", "does", "has"})  # the placeholders _agreement fills


@functools.lru_cache(maxsize=1024)
def _placeholders(*templates: str) -> frozenset[str]:
    """The placeholder names `templates` use, [optional] parts included."""
    return frozenset(name for template in templates for name in _PLACEHOLDER.findall(template))


def _agreement(phrase: str) -> dict[str, str]:
    many = _plural(phrase)
    return {
        "be": "are" if many else "is",
        "was": "were" if many else "was",
        "does": "do" if many else "does",
        "has": "have" if many else "has",
    }


def _render(template: str, values: Mapping[str, str], drop_optional: bool) -> str:
    text = "".join(
        [part + values.get(name, "") for part, name in _template_parts(template, drop_optional)]
    )
    text = _single_spaced(text).strip()
    # "the the", "of of": a group may repeat the template's own word.
    text = _REPEATED_WORD.sub(_first_group, text)
    # After the line above every space is a plain " ", so this finds what \s+ would.
    if " ?" in text or " ," in text:
        text = _SPACE_BEFORE_MARK.sub(_first_group, text)
    return text


@functools.lru_cache(maxsize=1024)
def _template_parts(template: str, drop_optional: bool) -> tuple[tuple[str, str], ...]:
    """A template as (text, placeholder name) pairs, its [optional] parts kept or dropped,
    the last name "": split once rather than searched for placeholders on every heading."""
    if "[" in template:
        template = _OPTIONAL.sub("" if drop_optional else r"\1", template)
    parts = _PLACEHOLDER.split(template)  # text, name, text, name, ..., text
    return tuple(zip(parts[0::2], [*parts[1::2], ""], strict=True))


def _first_group(m: re.Match[str]) -> str:
    # As the replacement r"\1", but a function: for a template string re runs Python
    # code to look the template up on every call, even one that replaces nothing.
    return m.group(1)


def _finish(text: str) -> str:
    text = text.rstrip(" .!:;?") + "?"
    return text[0].upper() + text[1:]


def phrase_question(
    heading: str,
    subject: str,
    patterns: Sequence[QuestionPattern],
    vocabulary: frozenset[str],
) -> Question:
    subject = subject.strip() or "this topic"
    plain = _normalise(heading)
    if not plain:
        return Question(f"What more is there to know about {subject}?", "fallback", "")
    if plain.endswith("?"):
        cased = _cased(plain, vocabulary)
        return Question(_finish(cased), "question", cased.lower().rstrip("?"))
    table = _table(patterns)
    matched = _first_match(plain, patterns)
    if matched is None:
        cased = _cased(plain, vocabulary, table.words)
        return Question(_fallback(cased, subject), "fallback", cased.lower())
    pattern, m = matched
    named = m.groupdict()
    found = {k: _cased(v, vocabulary, table.words) for k, v in named.items() if v}
    # The template's own words ("role of") do not anchor; only what the heading adds.
    # (Casing leaves every letter's lower case as it was: the plain heading will do.)
    anchored = _mentions(plain, subject) or any(_anchored(v) for v in found.values())
    groups = {k: found.get(k, subject) for k in named}
    # The cased heading and the verbs' agreement are worked out only for a template
    # that uses them.
    used = _placeholders(pattern.question, pattern.topic)
    agree = groups.get("n") or groups.get("x")
    wants_case = "heading" in used or (not agree and not used.isdisjoint(_VERBS))
    cased = _cased(plain, vocabulary, table.words) if wants_case else ""
    values = {
        **(_agreement(agree or cased) if not used.isdisjoint(_VERBS) else {}),
        **groups,
        "heading": cased,
        "subject": subject,
        "Subject": subject[:1].upper() + subject[1:],
    }
    text = _render(pattern.question, values, anchored)
    topic = _render(pattern.topic, values, anchored).lower()
    return Question(_finish(text), pattern.name, topic)


def _first_match(
    heading: str, patterns: Sequence[QuestionPattern]
) -> tuple[QuestionPattern, re.Match[str]] | None:
    """The first pattern of the table that matches the whole heading, and its match."""
    for pattern in patterns:
        m = pattern.regex.fullmatch(heading)
        if m is not None:
            return pattern, m
    return None


@dataclass(frozen=True, slots=True)
class _Table:
    """What phrasing needs of a pattern table beyond its patterns, worked out once."""

    words: frozenset[str]


# By the identity of the (immutable) tuple a build passes for every heading: hashing
# 78 patterns per heading cost more than phrasing the question.
_TABLES: dict[int, tuple[tuple[QuestionPattern, ...], _Table]] = {}


def _table(patterns: Sequence[QuestionPattern]) -> _Table:
    if isinstance(patterns, tuple):
        got = _TABLES.get(id(patterns))
        if got is not None and got[0] is patterns:
            return got[1]
    frozen = tuple(patterns)
    table = _Table(_table_words(frozen))
    if isinstance(patterns, tuple):
        if len(_TABLES) >= 8:
            _TABLES.clear()
        _TABLES[id(patterns)] = (patterns, table)  # kept alive, so its id is not reused
    return table


@functools.lru_cache(maxsize=8)
def _table_words(patterns: tuple[QuestionPattern, ...]) -> frozenset[str]:
    """Words the pattern table spells out are common nouns, so a heading's "Tips" is "tips"."""
    found = re.findall(r"([a-z]{3,})(s\?)?", " ".join(p.regex.pattern for p in patterns))
    return frozenset(w for stem, plural in found for w in (stem, stem + "s" if plural else stem))


def _has_acronym(text: str) -> bool:
    return any(sum(map(str.isupper, w)) > 1 for w in text.split())


def _fallback(cased: str, subject: str) -> str:
    # A "Name: what it is" heading asks about the name; the rest is the answer's business.
    head = cased.split(": ", 1)[0].strip() or cased
    first = head.split()[0]
    # A proper noun, a possessive or a determiner already fixes what the heading names.
    named = not first.islower() or first.endswith(("'s", "\u2019s")) or first[:1].isdigit()
    article = "" if named or first.lower() in _DETERMINERS else "the "
    be = "are" if _plural(head) else "is"
    known = named or _has_acronym(head) or _mentions(cased, subject) or _anchored(head)
    context = "" if known else f" of {subject}"
    return _finish(f"What {be} {article}{head}{context}")
