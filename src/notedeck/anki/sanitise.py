"""Keep only the HTML a card needs: every field goes through nh3 (the Ammonia sanitiser)."""

from __future__ import annotations

import nh3

from notedeck.reading.inline import INLINE_TAGS

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
    return str(_CLEANER.clean(fragment))
