"""Keep only the HTML a card needs; the fields the sanitiser would give back as they are skip it.

nh3 (the Ammonia sanitiser) parses a field as HTML5 and writes the tree out again, which
costs more than everything else of rendering a card. Nearly every field notedeck makes
comes back unchanged: its own templates' markup around text and the reader's already
sanitised sentences. `is_clean` recognises a narrow, canonical form of HTML for which
that is so, and only that form skips the sanitiser:

- text holding no character the parser or the serialiser would drop, replace or escape
  (`<`, `>`, `&`, NUL, CR and other controls, no-break space, BOM, surrogates,
  noncharacters), with `&amp;`, `&lt;` and `&gt;` the only character references (the
  serialiser writes `&#39;`, `&quot;`... back as the character itself);
- tags the sanitiser allows, written as its serialiser writes them: lower case, no
  spaces but one before each attribute, double-quoted values, only the attributes
  allowed on that tag (a link's address only in the two forms notedeck's templates
  write, since the sanitiser drops an address whose URL does not parse);
- every tag closed by the next end tag, in order, and none opened inside itself: HTML5's
  tree building moves nothing of such markup (no list item closes another, no link is
  split, no formatting is reopened), so the tree written out is the text read in.

tests/test_sanitise.py checks it against nh3 on generated fragments, and
benchmarks/cards_check.py on every card of the real corpus.
"""

from __future__ import annotations

import re

import nh3

from notedeck.inline import INLINE_TAGS

# Cards keep the inline formatting a sentence may carry, plus the blocks templates build.
_TAGS = INLINE_TAGS | {
    "pre", "div", "p", "ul", "ol", "li", "hr", "blockquote", "table", "thead", "tbody", "tr",
    "th", "td", "img",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "class"},
    "span": {"class"},
    "div": {"class"},
    "ul": {"class"},
    "li": {"class"},
    "img": {"src", "alt"},
    "td": {"align"},
    "th": {"align"},
}
_SCHEMES = {"http", "https", "obsidian"}

# One cleaner for the whole run: nh3.clean builds its allow-lists again on every call,
# which costs more than cleaning a card's field.
_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    attributes=_ATTRIBUTES,
    url_schemes=_SCHEMES,
    link_rel=None,
    strip_comments=True,
)


def sanitise(fragment: str) -> str:
    """Keep only the HTML a card needs: no scripts, handlers, frames or foreign URLs."""
    if is_clean(fragment):
        return fragment
    return str(_CLEANER.clean(fragment))


# What text may not hold (see the module's docstring); an attribute value neither, nor `"`.
_UNSAFE_CHARS = r"<>&\x00-\x08\x0b-\x1f\x7f-\x9f\xa0\ufeff\ud800-\udfff\ufdd0-\ufdef"
_UNSAFE = re.compile(f"[{_UNSAFE_CHARS}]")
_TEXT = f"[^{_UNSAFE_CHARS}]"
_VALUE = f'(?:[^"\\t\\n{_UNSAFE_CHARS}]++|&amp;)*+'
# The addresses shipped_fields writes: a moment of a video (`video_url`, escaped) or the
# video itself, and a note in Obsidian (`note_url`); `quote` leaves only these characters.
_HREF = (
    r"(?:https://www\.youtube\.com/watch\?v=[A-Za-z0-9_.~%/-]*+(?:&amp;t=[0-9]++s)?"
    r"|obsidian://open\?vault=[A-Za-z0-9_.~%-]*+&amp;file=[A-Za-z0-9_.~%-]*+)"
)
# Text, a character reference, a line break, or a link holding only text.
_FLAT = (
    f"{_TEXT}++|&(?:amp|lt|gt);|<br>"
    f'|<a(?: class="{_VALUE}")? href="{_HREF}">(?:{_TEXT}++|&(?:amp|lt|gt);)*+</a>'
)
# Elements that may hold any of these, and themselves; only span and div keep a class.
_ELEMENTS = "span|div|strong|em|code|b|i|u|s|del|mark|sub|sup"
_CLASS = f'(?:(?:(?<=span)|(?<=div)) class="{_VALUE}")?'
_DEPTH = 6


def _nested(depth: int, name: str) -> str:
    """Markup of _FLAT pieces and _ELEMENTS nested up to `depth` deep, each closed in turn
    (a backreference to the element's name; `name` keeps the groups of copies apart)."""
    if depth == 0:
        return f"(?:{_FLAT})*+"
    inner = _nested(depth - 1, name)
    group = f"{name}{depth}"
    return f"(?:{_FLAT}|<(?P<{group}>{_ELEMENTS}){_CLASS}>{inner}</(?P={group})>)*+"


# A list: items straight inside it, so that no item ever opens inside another.
_LIST = (
    f'<ul(?: class="{_VALUE}")?>'
    f'(?:{_TEXT}*+<li(?: class="{_VALUE}")?>{_nested(_DEPTH, "item")}</li>)*+{_TEXT}*+</ul>'
)
# Possessive (`*+`, `++`): a fragment is read one way or not at all, never backtracked
# into another reading (which could take exponential time on a long text).
_CLEAN = re.compile(f"(?:{_LIST}|{_nested(_DEPTH, 'top')})*+")


def is_clean(fragment: str) -> bool:
    """Whether the sanitiser would give `fragment` back exactly as it is (True only for
    the canonical HTML the module's docstring describes; False says nothing)."""
    if _UNSAFE.search(fragment) is None:
        return True  # plain text: one quick scan
    return _CLEAN.fullmatch(fragment) is not None
