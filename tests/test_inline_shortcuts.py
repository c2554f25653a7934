"""inline.py's shortcuts give exactly what the slow, plain definitions give.

inline.py skips patterns where they would change nothing. Each is checked here
against the original patterns on generated text shaped like notes
(benchmarks/reader_check.py checks the same on the 18k-note corpus).
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from notedeck.reading import inline


def _tidy_by_patterns(fragment: str) -> str:
    """tidy() as first written: one pattern after another."""

    def kept(m: re.Match[str]) -> str:
        return m.group(1) or m.group(2)

    fragment = re.sub(r"\s+", " ", fragment)
    fragment = re.sub(r"\s+([.,;:!?)])|(?<!\])\s+(\])", kept, fragment)
    fragment = re.sub(r"(\()\s+|(\[)\s+(?!\[)", kept, fragment)
    fragment = re.sub(r"\(\s*\)|\[\s*\]", "", fragment)
    fragment = re.sub(r"([,:])(?=[.!?])", "", fragment)
    fragment = re.sub(r"^[\s,;:.]+", "", fragment)
    return fragment.strip()


_HTML_BITS = ["a", " ", "  ", ".", ",", ":", ";", "!", "?", "(", ")", "[", "]", "\n", "\xa0"]
_HTML_BITS += ["<strong>", "</strong>", "<em>", "</em>", "<code>", "</code>", "<b>", "&amp;"]
_HTML_BITS += ["&quot;", "&lt;", "&", "<", ">", "\x01", "\ufeff", "&nbsp;", '"', "é", "\u2003"]
_FRAGMENT = st.lists(st.sampled_from(_HTML_BITS), max_size=14).map("".join)


@settings(max_examples=3000, deadline=None)
@given(_FRAGMENT)
def test_tidy_is_the_pattern_sequence(fragment: str) -> None:
    assert inline.tidy(fragment) == _tidy_by_patterns(fragment)
