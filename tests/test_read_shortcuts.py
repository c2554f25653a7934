"""The reader's fast passes find exactly what the patterns first written for them find.

read.py and inline.py look for anchors, wikilinks, names, sentence ends and generation
loops in ways that skip most of a note: each is checked here against the plain pattern
it replaced, on generated text made of the pieces real notes hold
(benchmarks/reader_check.py checks the same on the 18k-note corpus).
"""

from __future__ import annotations

import re
import zlib
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from notedeck.model import Clock
from notedeck.reading import inline, read

_ANCHOR = '<a class="yt-timestamp" data-t="01:02:03">[01:02:03]</a>'
_ANCHOR_BITS = [_ANCHOR, "<a class=yt-timestamp data-t=5>", "<A CLASS='YT-TIMESTAMP' DATA-T='7'>"]
_ANCHOR_BITS += ['<a class="yt-timestamp" data-t="">', "<a  class = yt-timestamp", "</a>", ">"]
_ANCHOR_BITS += ["[", "]", "(", ")", "[12:34](", "[ 1:2 ](", "](", "[1", " ", "\n", "x", "."]
_ANCHOR_TEXT = st.lists(st.sampled_from(_ANCHOR_BITS), max_size=12).map("".join)

# The anchor pattern as first written: the brackets before an anchor as optional
# alternatives in front of it.
_OLD_ANCHOR = re.compile(
    r"(?P<pre>\[\s*\d{1,3}(?::\d{1,2}){0,3}\s*\]\(|\[|\()?"
    r"<a\s+class=[\"']?yt-timestamp[\"']?\s+data-t=[\"']?(?P<value>[^\"'<>\n]*)[\"']?\s*>?"
    r"(?:(?P<shown>[^<>\n]{0,40})(?:</a>|>)|(?=[\s.,;:)\]]|$))"
    r"(?P<post>[\])])?",
    re.IGNORECASE,
)


@settings(max_examples=3000, deadline=None)
@given(_ANCHOR_TEXT)
def test_anchors_are_read_as_the_first_pattern_reads_them(text: str) -> None:
    expected: list[Clock] = []

    def anchor(m: re.Match[str]) -> str:
        line = 3 + text.count("\n", 0, m.start())
        expected.append(Clock(m.group("value"), line, inline._clock_fields(m.group("value"))))
        placeholder = f"{inline.CLOCK_OPEN}{len(expected) - 1}{inline.CLOCK_CLOSE}"
        pre, post = m.group("pre") or "", m.group("post") or ""
        return inline._bracketed(placeholder, pre, post) if pre or post else placeholder

    clocks: list[Clock] = []
    assert inline._anchors_to_clocks(text, 2, clocks) == _OLD_ANCHOR.sub(anchor, text)
    assert clocks == expected


_OLD_ANCHOR_START = re.compile(r"<\s*a\s[^<>]*?class=[\"']?yt[\s-]*timestamp[\"']?", re.IGNORECASE)


@settings(max_examples=2000, deadline=None)
@given(_ANCHOR_TEXT)
def test_anchor_openings_are_made_canonical_as_before(text: str) -> None:
    new = inline._ANCHOR_START.sub(inline._canonical_start, text)
    assert new == _OLD_ANCHOR_START.sub(inline._canonical_start, text)


_LINK_BITS = ["[[", "]]", "![[", "!", "[", "]", "a.png", "note", "|", "x y", "\n", " ", "#h"]
_OLD_WIKILINK = re.compile(r"(!?)\[\[([^\[\]\n]{1,400}?)\]\]")


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_LINK_BITS), max_size=14).map("".join))
def test_wikilinks_are_found_as_the_first_pattern_finds_them(text: str) -> None:
    def new(m: re.Match[str], embed: bool) -> str:
        return f"<{'!' if embed else ''}{m.group(1)}>"

    def old(m: re.Match[str]) -> str:
        return f"<{m.group(1)}{m.group(2)}>"

    assert inline._sub_wikilinks(text, new) == _OLD_WIKILINK.sub(old, text)


_NAME_BITS = ["like", " ", "Reddit", "and", ",", ".", "Bob's", "X-ray", "the", "A", "\n", "'"]


def _old_capitalised(body: str) -> tuple[set[str], frozenset[str]]:
    after_lower: set[str] = set()
    names: set[str] = set()
    for m in re.finditer(r" ([A-Z][\w'-]+)", body):
        if body[m.start() - 1 : m.start()] in frozenset("abcdefghijklmnopqrstuvwxyz,"):
            after_lower.add(m.group(1))
            if re.match(r"[ ,.][ ]?[a-z]", body[m.end() :]):
                names.add(m.group(1))
    return after_lower, frozenset(names)


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_NAME_BITS), max_size=16).map("".join))
def test_names_are_found_as_before(body: str) -> None:
    assert read._capitalised(body) == _old_capitalised(body)


_SENTENCE_BITS = ["a", "B", "1", ".", "!", "?", " ", "  ", '"', "”", ")", "(", "[", "<", "\\"]
_SENTENCE_BITS += ["。", "！", "」", "）", "\ue0001\ue001", ", ", "\ue0023\ue003", "\n"]
_CLOCKS_AFTER = inline._CLOCKS_AFTER
_OLD_SENTENCE_END = re.compile(
    f"[.!?][\"'”’)]*{_CLOCKS_AFTER}"
    f'(?=\\s+[A-Z0-9"“‘(\\[{inline.LINK_OPEN}{inline.CLOCK_OPEN}{inline.MEDIA_OPEN}<\\\\]|\\s*$)'
    f"|[。！？][」』”’）)]*{_CLOCKS_AFTER}(?=\\s*\\S)"
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_SENTENCE_BITS), max_size=16).map("".join))
def test_sentence_ends_are_found_as_before(text: str) -> None:
    new = [m.span() for m in inline._SENTENCE_END.finditer(text)]
    assert new == [m.span() for m in _OLD_SENTENCE_END.finditer(text)]


_UNIT = st.text(alphabet="ab c.", min_size=8, max_size=30)
_LOOP_LINE = st.tuples(
    st.text(alphabet="xyz ", max_size=20), _UNIT, st.integers(1, 12), st.text(max_size=10)
).map(lambda t: t[0] + t[1] * t[2] + t[3])


_LONG_UNIT_LOOP = st.tuples(
    st.text(alphabet="xyz ", max_size=20),
    st.integers(8, 300).flatmap(lambda n: st.text(alphabet="ab c.", min_size=n, max_size=n)),
    st.integers(9, 11),
    st.text(max_size=10),
).map(lambda t: t[0] + t[1] * t[2] + t[3])


@settings(max_examples=1000, deadline=None)
@given(st.one_of(_LOOP_LINE, _LONG_UNIT_LOOP, st.text(alphabet="ab .", max_size=400)))
def test_a_line_the_loop_pattern_changes_is_one_it_is_tried_on(line: str) -> None:
    if read._LOOP.search(line):
        assert read._may_loop(line)


def _old_collapse_loops(body: str) -> tuple[str, int | None]:
    """_collapse_loops as first written: one pass, every long line that compresses well
    searched."""
    lines = body.split("\n")
    first: int | None = None
    counts = Counter(map(str.strip, lines))
    looped = {s for s, n in counts.items() if n >= 10 and len(s) >= 20}
    if not looped and max(map(len, lines)) < 600:
        return body, None
    kept: set[str] = set()
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped in looped:
            if stripped in kept:
                lines[i] = ""
                first = i if first is None else first
                continue
            kept.add(stripped)
        if len(line) >= 600 and len(zlib.compress(line.encode(), 1)) * 6 < len(line):
            collapsed = read._LOOP.sub(r"\1", line)
            if len(collapsed) < len(line):
                lines[i] = collapsed
                first = i if first is None else first
    return ("\n".join(lines), first) if first is not None else (body, None)


_BODY_LINE = st.one_of(
    st.sampled_from(["", "  repeated line of twenty chars  ", "repeated line of twenty chars"]),
    _LOOP_LINE.map(lambda line: line * 30),
    st.text(alphabet="ab c", max_size=30),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_BODY_LINE, max_size=30).map("\n".join))
def test_loops_are_collapsed_as_before(body: str) -> None:
    assert read._collapse_loops(body) == _old_collapse_loops(body)


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet="Ab -_.,\u200bé!", max_size=30))
def test_slugs_are_made_as_before(text: str) -> None:
    old = re.sub(r"[^\w\s-]", "", inline.INVISIBLE.sub("", text).casefold())
    assert read.slugify(text) == re.sub(r"[\s_-]+", "-", old).strip("-")[:80]
