"""The joined pattern regex finds the pattern trying them one by one would find."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SHARED
from notedeck.pattern_table import first_match, joined
from notedeck.questions import _mentions, _normalise, load_patterns

ROOT = Path(__file__).resolve().parents[1]
PATTERNS = load_patterns(ROOT / "card_templates" / "questions.toml")
JOINED = joined([p.regex for p in PATTERNS])
HEADINGS = SHARED / "corpus" / "HEADINGS.md"


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]


def one_by_one(text: str, patterns: list[Pattern]) -> tuple[int, dict[str, str | None]] | None:
    for n, pattern in enumerate(patterns):
        m = pattern.regex.fullmatch(text)
        if m is not None:
            return n, m.groupdict()
    return None


def found(text: str, patterns: list[Pattern], regex: re.Pattern[str] | None) -> object:
    hit = first_match(text, patterns, regex)
    return None if hit is None else (patterns.index(hit[0]), hit[1].groupdict())


def headings() -> list[str]:
    """The corpus headings listed in HEADINGS.md and a few built to hit many patterns."""
    listed = []
    if HEADINGS.is_file():
        for row in HEADINGS.read_text(encoding="utf-8").splitlines():
            if row.startswith("| ") and not row.startswith(("| heading", "|---")):
                listed.append(row.split("|")[1].strip())
    made = [
        f"{a} {b}"
        for a in ("Benefits of", "The Role of", "What Is", "How to", "Key", "Why")
        for b in ("Sleep", "the Brain and its Limits", "Scaling vs. Cost", "Steps to Success")
    ]
    return listed + made


def test_the_shipped_table_joins() -> None:
    assert JOINED is not None


def test_joined_table_finds_the_same_pattern_on_headings() -> None:
    patterns = [Pattern(p.regex) for p in PATTERNS]
    texts = [_normalise(h) for h in headings()]
    assert len(texts) > 20
    hits = 0
    for text in texts:
        expected = one_by_one(text, patterns)
        hits += expected is not None
        assert found(text, patterns, JOINED) == expected, text
    assert hits > 10


@given(st.text(alphabet="abcdefghinorstuvw ()-:'?", max_size=40))
def test_joined_table_finds_the_same_pattern_on_any_text(text: str) -> None:
    patterns = [Pattern(p.regex) for p in PATTERNS]
    assert found(text, patterns, JOINED) == one_by_one(text, patterns)


TRICKY = [
    r"[(?P<]+x",  # a class holding what looks like a group
    r"[]a(]+ (?P<x>b)",  # a "]" first in a class is a literal
    r"\(?P<y>z",  # an escaped parenthesis, not a group
    r"(a)(?P<n>b+)",
    r"(?P<x>a|ab)(?:c|bcd)",
    r"(?P<x>a)?b(?P<y>c)?",  # groups that take part in no match: None, as alone
    r"(?P<o>x(?P<i>[a-z])?)*z",  # a group inside a repeat keeps its last capture
    r"(?:(?P<x>a)|b)+c",
]


@settings(max_examples=1000)
@given(st.text(alphabet="abcdxz()[]<>?P ", max_size=12))
def test_tricky_regexes_join_exactly(text: str) -> None:
    patterns = [Pattern(re.compile(r, re.IGNORECASE)) for r in TRICKY]
    regex = joined([p.regex for p in patterns])
    assert regex is not None
    assert found(text, patterns, regex) == one_by_one(text, patterns)


def test_a_table_that_cannot_join_exactly_is_not_joined() -> None:
    for own in (r"(a)\1", r"(?P<x>a)(?P=x)", r"(a)?(?(1)b|c)", r"(?x) a b"):
        regexes = [re.compile(r"alpha"), re.compile(own)]
        assert joined(regexes) is None, own
    assert joined([re.compile("a"), re.compile("b", re.IGNORECASE)]) is None
    assert joined([re.compile("a # [", re.VERBOSE), re.compile("(?P<x>b)", re.VERBOSE)]) is None
    patterns = [Pattern(re.compile(r"(a)\1")), Pattern(re.compile(r"aa"))]
    assert found("aa", patterns, None) == (0, {})


words = st.text(alphabet="ab_ é1-.", max_size=12)


@given(words, words)
def test_mentions_is_a_whole_word_search(heading: str, subject: str) -> None:
    pattern = rf"\b{re.escape(subject.lower())}\b"
    assert _mentions(heading, subject) == (re.search(pattern, heading.lower()) is not None)
