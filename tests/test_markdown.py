"""The reader's shortcuts give exactly what the slow, plain definitions give.

markdown.py reads common notes line by line and writes plain inline HTML itself;
inline.py skips nh3 and patterns where they would change nothing. Each is checked here
against markdown-it, nh3 and the original patterns on generated text shaped like notes
(benchmarks/reader_check.py checks the same on the 18k-note corpus).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import nh3
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it.token import Token

from notedeck import inline, markdown
from notedeck.markdown import Block, inline_html, parse_blocks

_MD = markdown._MD

_WORDS = ["alpha", "Beta", "two words", "**bold**", "**Term:**", "x*y", "a_b", "`c`", "$5", "&"]
_WORDS += ["<b>", "[[", "]]", "[x](y)", "\ue0000\ue001", "\ue0021\ue003", "1.", "#", "-", "+", "'"]
_TEXT = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=5).map(" ".join)
_LINE = st.one_of(
    _TEXT,
    st.tuples(st.sampled_from(["# ", "## ", "### ", "####### ", "#", "  ## "]), _TEXT).map("".join),
    st.tuples(
        st.sampled_from(["", " ", "  ", "   ", "    ", "      ", "        "]),
        st.sampled_from(["* ", "*   ", "- ", "+ ", "1. ", "2) ", "10. ", "*", "-     "]),
        _TEXT,
    ).map("".join),
    st.tuples(st.sampled_from(["  ", "    ", "     "]), _TEXT).map("".join),
    st.sampled_from(["", "", " ", "---", "***", "```", "| a |", "===", "  ", "$$", "~~~"]),
    st.tuples(
        st.sampled_from([">", "> ", ">  ", " > ", "> > ", "> - ", "> # ", "> [!info] ", "[", "`"]),
        st.sampled_from(["", "x", "$5", "[1] y", "a]: b", "c`", "Title", "1. z"]),
    ).map("".join),
    st.tuples(_TEXT, st.sampled_from(["  ", " ", " #", " ##  "])).map("".join),
)
_NOTE = st.lists(_LINE, max_size=14).map("\n".join)


def _shape(tokens: Sequence[Token | Block]) -> list[tuple[object, ...]]:
    """What the reader uses of block tokens: kinds, heading tags, lines, levels, text."""
    shape: list[tuple[object, ...]] = []
    for tok in tokens:
        if tok.type in ("heading_open", "paragraph_open", "inline") or tok.type.endswith(
            "_list_open"
        ):
            tag = tok.tag if tok.type == "heading_open" else ""
            line = tok.map[0] if tok.map else None
            content = tok.content if tok.type == "inline" else ""
            shape.append((tok.type, tag, line, tok.level, content))
        elif tok.type.endswith("_list_close"):
            shape.append((tok.type, tok.level))
    return shape


@settings(max_examples=1500, deadline=None)
@given(_NOTE)
def test_line_by_line_blocks_are_markdown_its(text: str) -> None:
    blocks = parse_blocks(text)
    if blocks.tokens and isinstance(blocks.tokens[0], Block):
        assert _shape(blocks.tokens) == _shape(_MD.parse(text))


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *_WORDS,
                "\n",
                "  \n",
                " \n",
                "\n  ",
                "*",
                "**",
                ",",
                ".",
                "$",
                "[",
                "]",
                "](",
                "*a*",
                "`",
                "``",
                "`x_y`",
                "_",
                " *",
                "* ",
                "***",
                "![",
                "(",
            ]
        ),
        max_size=12,
    ).map("".join)
)
def test_inline_html_is_markdown_its(content: str) -> None:
    content = content.strip(" \n")
    children = _MD.parseInline(content)[0].children or []
    assert inline_html(content, {}) == _MD.renderer.renderInline(children, _MD.options, {})


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
