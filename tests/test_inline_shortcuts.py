"""inline.py's shortcuts give exactly what the slow, plain definitions give.

inline.py skips nh3 and patterns where they would change nothing. Each is checked here
against nh3 and the original patterns on generated text shaped like notes
(benchmarks/reader_check.py checks the same on the 18k-note corpus).
"""

from __future__ import annotations

import re

import nh3
from hypothesis import given, settings
from hypothesis import strategies as st

from notedeck import inline


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


@settings(max_examples=3000, deadline=None)
@given(_FRAGMENT)
def test_clean_inline_is_nh3s(fragment: str) -> None:
    by_nh3 = nh3.clean(
        fragment,
        tags=inline.INLINE_TAGS,
        attributes={"a": {"href"}, "span": {"class"}},
        url_schemes={"http", "https"},
        link_rel=None,
        strip_comments=True,
    )
    shortcut = inline.clean_inline(fragment)
    # The shortcut leaves `&quot;` for make_point to turn into `"`, as it does after nh3.
    assert shortcut.replace("&quot;", '"') == by_nh3.replace("&quot;", '"')
