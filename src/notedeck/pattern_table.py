"""Find the first question pattern a heading matches in one regex pass, not one per pattern.

The pattern table (card_templates/questions.toml) is tried in order and most headings
match none of its 78 patterns, so a heading used to cost 78 `fullmatch` calls. Joined
as one alternation `(?:...)(?P<_0>)|(?:...)(?P<_1>)|...`, the regex engine tries the
patterns in the same order and stops at the same first one, in a single call; the empty
group after a pattern, set only once that pattern has matched, names it. (A group around
each pattern would name it too, but an open group makes the engine save and restore the
groups set so far at every repetition it backtracks into: a third of the time.) Each
pattern's own groups become non-capturing in the joined regex (Python forbids one group
name twice); the pattern that won is then matched alone for its groups.

A table the join cannot keep exact (backreferences, conditionals, inline global flags,
verbose patterns, patterns compiled with different flags) is matched pattern by pattern
as before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol, TypeVar


class _Pattern(Protocol):
    @property
    def regex(self) -> re.Pattern[str]: ...


P = TypeVar("P", bound=_Pattern)


def joined(regexes: Sequence[re.Pattern[str]]) -> re.Pattern[str] | None:
    """All of `regexes` as one alternation, or None when the join might not be exact."""
    if not regexes or len({r.flags for r in regexes}) != 1:
        return None
    if regexes[0].flags & re.VERBOSE:
        return None  # comments and spaces would need a real parse to rename groups in
    parts = []
    for n, regex in enumerate(regexes):
        plain = _without_named_groups(regex.pattern)
        if plain is None:
            return None
        parts.append(f"(?:{plain})(?P<_{n}>)")
    try:
        return re.compile("|".join(parts), regexes[0].flags)
    except (re.error, OverflowError, RecursionError):
        return None  # e.g. a pattern's own (?x) must open the whole regex; or far too many


def first_match(
    text: str, patterns: Sequence[P], joined: re.Pattern[str] | None
) -> tuple[P, re.Match[str]] | None:
    """The first of `patterns` whose regex matches the whole of `text`, and its match."""
    if joined is not None:
        hit = joined.fullmatch(text)
        if hit is None:
            return None
        # The empty group that ends the alternative that matched is the last group set.
        pattern = patterns[int((hit.lastgroup or "_0")[1:])]
        own = pattern.regex.fullmatch(text)
        if own is not None:
            return pattern, own
    for pattern in patterns:
        m = pattern.regex.fullmatch(text)
        if m is not None:
            return pattern, m
    return None


def _without_named_groups(pattern: str) -> str | None:
    """`pattern` with each `(?P<name>` made `(?:`, or None if it refers back to a group
    (`\\1`, `(?P=name)`, `(?(1)...)`), whose number or name would change in the join."""
    out = []
    i, n = 0, len(pattern)
    in_class, class_start = False, 0
    while i < n:
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1 : i + 2]
            if not in_class and nxt.isdigit() and nxt != "0":
                return None  # a numbered backreference
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            # A "]" straight after "[" or "[^" is a literal, not the end of the class.
            if c == "]" and i > class_start:
                in_class = False
            out.append(c)
            i += 1
            continue
        if c == "[":
            in_class = True
            class_start = i + 2 if pattern[i + 1 : i + 2] == "^" else i + 1
            out.append(c)
            i += 1
            continue
        if pattern.startswith(("(?P=", "(?("), i):
            return None
        if pattern.startswith("(?P<", i):
            end = pattern.find(">", i)
            if end < 0:
                return None
            out.append("(?:")
            i = end + 1
            continue
        out.append(c)
        i += 1
    return "".join(out)
