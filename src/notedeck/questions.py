"""Stand-in until the questions branch lands."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class QuestionPattern:
    name: str
    regex: re.Pattern[str]
    question: str
    topic: str
    line: int


@dataclass(frozen=True, slots=True)
class Question:
    text: str
    pattern: str
    topic: str


class PatternError(Exception):
    pass


def load_patterns(path: Path) -> tuple[QuestionPattern, ...]:
    return ()


def subject_of(title: str, vocabulary: frozenset[str]) -> str:
    first = re.split(r"\s+(?:as|in|for)\s+|:", title, maxsplit=1)[0].strip()
    return first.lower() if first.lower() in vocabulary else first


def phrase_question(
    heading: str, subject: str, patterns: Sequence[QuestionPattern], vocabulary: frozenset[str]
) -> Question:
    return Question(f"{subject}: {heading}?", "fallback", heading.lower())


def overview_question(subject: str) -> str:
    return f"What is {subject}, and why does it matter?"
