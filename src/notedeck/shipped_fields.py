"""notedeck's own field templates written out in Python: the strings Jinja2 renders, faster.

A Jinja2 render costs tens of microseconds however small the template (a new context,
name lookups, Markup objects), and a vault renders three per card. These functions give
exactly what card_templates/{context,source,answer}.html.j2 give (same escaping, same
whitespace), and render.py uses one only when the template it would render is, byte for
byte, the text it was written from (`TEXT_SHA256`). A templates folder with its own
version of a file, or an edit to the shipped file, goes through Jinja2 as before; the
tests render the real corpus both ways and fail if the two ever differ.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Protocol

from notedeck.model import Card, CardKind, Line, Moment


class VideoUrl(Protocol):
    """The URL opening a moment of the card's video (`video_url` in the templates)."""

    def __call__(self, moment: Moment) -> str: ...

    def escaped(self, moment: Moment) -> str:
        """The same URL escaped for HTML."""
        ...


def context_html(card: Card, note_url: str, video_url: VideoUrl) -> str:
    """context.html.j2: the note's title and the card's section trail."""
    title = f'<span class="nd-title">{escape(card.note_title)}</span>'
    if not card.section:
        return title
    section = f'<span class="nd-section">{escape(card.section)}</span>'
    return f'{title} <span class="nd-sep">›</span> {section}'


def source_html(card: Card, note_url: str, video_url: VideoUrl) -> str:
    """source.html.j2: links to the moments the card cites (or the video) and the note."""
    parts = ['<div class="nd-source">']
    video_id, moments = card.video_id, card.moments
    if video_id and moments and card.kind is CardKind.CLOZE:
        # A label is digits and colons: escaping leaves it as it is.
        links = (f'<a class="nd-t" href="{video_url.escaped(m)}">{m.label}</a>' for m in moments)
        parts.append(f'<span class="nd-moments">▶ {" · ".join(links)}</span>')
    elif video_id and not moments:
        parts.append(
            '<span class="nd-moments">▶ <a class="nd-t" '
            f'href="https://www.youtube.com/watch?v={escape(video_id)}">video</a></span>'
        )
    # The title is on the card already (the context line): the link says what it does.
    parts.append(
        f'\n<span class="nd-note"><a href="{escape(note_url)}">'
        "Open the note in Obsidian</a></span>\n</div>"
    )
    return "".join(parts)


def answer_html(card: Card, note_url: str, video_url: VideoUrl) -> str:
    """answer.html.j2: one line per key point, each followed by the moments it cites."""
    lines = card.answer
    video = card.video_id
    if len(lines) == 1:
        return f'<div class="nd-answer">{_line(lines[0], video, video_url)}</div>'
    items = "".join(f"\n<li>{_line(line, video, video_url)}</li>" for line in lines)
    return f'<ul class="nd-answer">{items}\n</ul>'


def _line(line: Line, video: str | None, video_url: VideoUrl) -> str:
    if not video or not line.moments:
        return line.html  # |safe: the line is already safe HTML
    links = "".join(
        f' <a class="nd-t" href="{video_url.escaped(m)}">{m.label}</a>' for m in line.moments
    )
    return line.html + links


def escape(text: str) -> str:
    """What Jinja2's autoescape makes of a str ({{ value }}): markupsafe.escape's five
    replacements, without building a Markup object for every value."""
    return (
        text.replace("&", "&amp;")
        .replace(">", "&gt;")
        .replace("<", "&lt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


# The sha256 of the template text each function above was written from.
TEXT_SHA256 = {
    "context.html.j2": "56d4c4d4706e906bd3a9b0dffe4c820e36774c93693f5e937c0d2d69da06ff94",
    "source.html.j2": "8fd1693053300bb37269e510984ea153e3d968d7ebb8e044618cea00ec8b0f13",
    "answer.html.j2": "dab09399f87fa23e84a03035869ece3ddf1b4394f3e6bc7d0476447a756b6bd1",
}
FIELDS = {
    "context.html.j2": context_html,
    "source.html.j2": source_html,
    "answer.html.j2": answer_html,
}


def _context_reads(card: Card) -> Hashable:
    return card.note_title, card.section


def _source_reads(card: Card) -> Hashable:
    # The note's URL comes from its path, the video's links from the video id.
    cloze = card.kind is CardKind.CLOZE
    cited = card.moments if cloze else bool(card.moments)
    return card.note_path, card.video_id, cloze, cited


# All a field function reads of a card, given as a key: two cards of a note with one key
# get one field, so the many cards of a section or a note make theirs once. (Answers are
# seldom alike, and their lines cost more to compare than to write out.)
READS: dict[Callable[[Card, str, VideoUrl], str], Callable[[Card], Hashable]] = {
    context_html: _context_reads,
    source_html: _source_reads,
}
