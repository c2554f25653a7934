"""The sanitiser's shortcut gives exactly what nh3 gives, on markup made to probe it."""

from __future__ import annotations

from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from notedeck import sanitise as sanitise_module
from notedeck.sanitise import is_clean, sanitise

_YT = "https://www.youtube.com/watch?v=ab_C-9"
_NOTE = "obsidian://open?vault=My%20Vault&amp;file=a%2Fb"
# Pieces of the markup notedeck's fields hold, and of markup the shortcut must refuse:
# misnested or unclosed tags, items and links inside themselves, tags and attributes the
# sanitiser drops, addresses it drops, character references it rewrites, characters the
# parser or serialiser changes.
_BITS = [
    "a", " ", "x y", "\n", "\t", "›", "é", '"', "'", "=", "/", ";", ":", "#",
    "&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#34;", "&nbsp;", "&", "&amp", "<", ">",
    "\x00", "\r", "\x0c", "\x85", "\xa0", "\ufeff", "\u200b", "\ud800", "\ufdd0",
    "<span>", '<span class="wikilink">', '<span class="">', "</span>",
    '<div class="nd-answer">', "<div>", "</div>", '<ul class="nd-answer">', "<ul>", "</ul>",
    "<li>", '<li class="x">', "</li>", "<strong>", "</strong>", "<em>", "</em>", "<code>",
    "</code>", "<b>", "</b>", "<sub>", "</sub>", "<br>", "<br/>", "</br>", "<p>", "</p>",
    "<ol>", "</ol>", "<pre>", "</pre>", "<table>", "</table>", "<td>", "<script>",
    "</script>", "<!-- c -->", "<img>", '<strong class="x">', "<SPAN>", "<span  class=x>",
    f'<a class="nd-t" href="{_YT}&amp;t=12s">', f'<a href="{_YT}">', f'<a href="{_NOTE}">',
    '<a href="https://1.2.3.999/">', '<a href="javascript:alert(1)">', '<a href="#12:30">',
    '<a href="https://x.y/">', '<a onclick="x" href="https://x.y/">', "<a>", "</a>",
    '<span class="a&amp;b">', '<span class="a&quot;b">', '<span class="a&lt;b">',
    '<span class="a\xa0b">', '<span class="a\nb">', '<span title="t">', '<div id="i">',
]  # fmt: skip
_FRAGMENT = st.lists(st.sampled_from(_BITS), max_size=16).map("".join)

# Whole fields as notedeck's templates make them, to be combined and cut up.
_FIELDS = [
    '<span class="nd-title">Lowe&amp;s</span> <span class="nd-sep">›</span> '
    '<span class="nd-section">A › B</span>',
    f'<div class="nd-source"><span class="nd-moments">▶ <a class="nd-t" '
    f'href="{_YT}&amp;t=5s">0:05</a> · <a class="nd-t" href="{_YT}&amp;t=9s">0:09</a></span>'
    f'\n<span class="nd-note"><a href="{_NOTE}">Title</a></span>\n</div>',
    '<ul class="nd-answer">\n<li>One <strong>bold <em>claim</em></strong>.</li>\n'
    '<li><div class="nd-callout"><span class="nd-callout-title">Goal '
    '<span class="wikilink">x</span></span> y</div></li>\n</ul>',
    '<div class="nd-answer">Text with <code>a &lt; b</code> and<br>a break.</div>',
    "Plain {{c1::cloze}} text, with “quotes” and 3 &gt; 2.",
]


def _nh3(fragment: str) -> str:
    return str(sanitise_module._CLEANER.clean(fragment))


def _outcome(clean: Callable[[str], str], fragment: str) -> str:
    """What `clean` gives, or the error it raises (nh3 cannot take a lone surrogate)."""
    try:
        return clean(fragment)
    except UnicodeEncodeError:
        return "UnicodeEncodeError"


@settings(max_examples=3000, deadline=None)
@given(_FRAGMENT)
def test_a_fragment_called_clean_is_what_nh3_gives(fragment: str) -> None:
    if is_clean(fragment):
        assert _outcome(_nh3, fragment) == fragment
    assert _outcome(sanitise, fragment) == _outcome(_nh3, fragment)


@settings(max_examples=1000, deadline=None)
@given(st.lists(st.sampled_from(_FIELDS), min_size=1, max_size=4), st.data())
def test_cut_and_joined_fields_are_what_nh3_gives(fields: list[str], data: st.DataObject) -> None:
    joined = "".join(fields)
    start = data.draw(st.integers(0, len(joined)))
    end = data.draw(st.integers(start, len(joined)))
    for fragment in (joined, joined[start:end], joined[:start] + joined[end:]):
        assert _outcome(sanitise, fragment) == _outcome(_nh3, fragment)


def test_the_fields_notedeck_makes_skip_nh3() -> None:
    # Without this the tests above would pass with a shortcut that never fires.
    for field in _FIELDS:
        assert is_clean(field), field
    assert is_clean(_FIELDS[0] + _FIELDS[2])


def test_deep_nesting_and_long_text_are_quick_to_refuse() -> None:
    deep = "<span>" * 40 + "x" + "</span>" * 40
    assert sanitise(deep) == _nh3(deep)
    long = "<div>" + "word " * 20000 + "<"  # no backtracking into another reading
    assert not is_clean(long)
    assert sanitise(long) == _nh3(long)
