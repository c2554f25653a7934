"""Inline text: timestamps and wikilinks out of the source, sentences out of rendered HTML."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import nh3

from notedeck.model import Clock, Point, Term
from notedeck.reading.timestamps import parse_clock

# Placeholders stand in for timestamps and wikilinks while Markdown is parsed, so that
# neither the Markdown parser nor a table's `|` can misread them. They are private-use
# characters: no real note contains them, and markdown-it treats them as plain text.
CLOCK_OPEN, CLOCK_CLOSE = "\ue000", "\ue001"
LINK_OPEN, LINK_CLOSE = "\ue002", "\ue003"
MEDIA_OPEN, MEDIA_CLOSE = "\ue004", "\ue005"
PLACEHOLDERS = re.compile("[\ue000-\ue005]")

# Every shape of timestamp anchor seen in real notes: well formed, with brackets or a
# Markdown link around it, with an unclosed quote, a stray `>` instead of `</a>`, empty.
# Openings written askew (`< a class=`, a class split over two lines): made canonical so
# the anchor pattern below sees them; the line breaks they held move in front of them.
# An opening written exactly so is left as it is (the lookahead): most are.
_ANCHOR_START = re.compile(
    r"<(?!(?-i:a class=\"yt-timestamp\"))\s*a\s[^<>]*?class=[\"']?yt[\s-]*timestamp[\"']?",
    re.IGNORECASE,
)


def _canonical_start(m: re.Match[str]) -> str:
    return "\n" * m.group(0).count("\n") + '<a class="yt-timestamp"'


# An anchor from its `<`, found fast as the pattern opens with it; a bracket before it
# that belongs to it ("[", "(" or a Markdown link's "[12:34](") is found by _opening.
_ANCHOR = re.compile(
    r"<a\s+class=[\"']?yt-timestamp[\"']?\s+data-t=[\"']?(?P<value>[^\"'<>\n]*)[\"']?\s*>?"
    r"(?:(?P<shown>[^<>\n]{0,40})(?:</a>|>)|(?=[\s.,;:)\]]|$))"
    r"(?P<post>[\])])?",
    re.IGNORECASE,
)
# What is left of an anchor too broken to read: it names no moment and is not text.
# An anchor too garbled for the pattern above ('<a class="yt="00:12:22">') still names
# its moment; what is left after that is debris.
_LOOSE_ANCHOR = re.compile(
    r"<a\s+class=[\"']?yt[^<\n\d]{0,40}?(?P<value>\d{1,2}:\d{2}(?::\d{2})?)[^<>\n\d]*>"
    r"(?:[^<>\n]{0,40}</a>)?",
    re.IGNORECASE,
)
_ANCHOR_DEBRIS = re.compile(
    r"<a\b[^<>\n]*?(?:yt-timestamp|data-t)[^<>\n]*>?|\bdata-t=[\"']?", re.IGNORECASE
)
_BRACKET_TIMES = re.compile(
    r"\[\s*(\d{1,2}:\d{2}(?::\d{2}){0,2}(?:\s*[,;\-\u2013]\s*\d{1,2}:\d{2}(?::\d{2}){0,2})*)\s*\]"
    r"(?!\()"
)
_EMPHASIS = re.compile(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")
# A `!` just before makes an embed (`![[a.png]]`): prepare() looks at the character before.
_WIKILINK = re.compile(r"\[\[([^\[\]\n]{1,400})\]\]")
_IMAGE = re.compile(r"!\[([^\[\]\n]{0,200})\]\(\s*<?([^\s()<>]{1,400})>?(?:\s+\"[^\"\n]*\")?\s*\)")
_FROM_LINE = re.compile(r"^[ \t]*From:[ \t]*\[\[[^\]\n]*\]\].*$", re.MULTILINE)
# Zero-width and bidirectional controls: invisible, and able to make names look alike.
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


@dataclass(frozen=True, slots=True)
class MediaRef:
    """An image the note shows (`![[a.png]]`, `![alt](a.png)`) and its packaged name."""

    target: str  # as written, without size or heading suffix
    alt: str
    line: int
    name: str | None = None  # the Anki media file name once found; None: not shown


@dataclass(frozen=True, slots=True)
class Prepared:
    """A note body with timestamps, wikilinks and images replaced by placeholders."""

    text: str
    clocks: tuple[Clock, ...]
    links: tuple[tuple[str, str], ...]  # (target, shown text) per wikilink placeholder
    media: tuple[MediaRef, ...] = ()


def prepare(body: str, first_line: int) -> Prepared:
    """Replace timestamps and wikilinks by placeholders, keeping every line where it was."""
    clocks: list[Clock] = []
    links: list[tuple[str, str]] = []
    media: list[MediaRef] = []
    # Placeholder characters written in the note itself would be misread as ours.
    body = _FROM_LINE.sub("", body, count=1)
    if not body.isascii():
        body = PLACEHOLDERS.sub("", body)
    body = _ANCHOR_START.sub(_canonical_start, body)
    # Each pass below shortens the text but keeps every newline, so a position is turned
    # into a line with the line starts of the text that pass reads.
    lines = _Lines(body)

    def line_of(pos: int) -> int:
        return first_line + 1 + lines.index(pos)

    def clock(raw: str, pos: int) -> str:
        clocks.append(Clock(raw, line_of(pos), _clock_fields(raw)))
        return f"{CLOCK_OPEN}{len(clocks) - 1}{CLOCK_CLOSE}"

    def brackets(m: re.Match[str]) -> str:
        parts = re.split(r"\s*[,;\-\u2013]\s*", m.group(1))  # "[00:05:07 - 00:05:13]" too
        return ", ".join(clock(p, m.start()) for p in parts)

    text = _anchors_to_clocks(body, first_line, clocks)
    lines = _Lines(text)
    text = _LOOSE_ANCHOR.sub(lambda m: clock(m.group("value"), m.start()), text)
    if _may_contain(text, "data-t", "yt-timestamp"):
        text = _ANCHOR_DEBRIS.sub("", text)
    lines = _Lines(text)
    text = _BRACKET_TIMES.sub(brackets, text)
    lines = _Lines(text)

    def image(target: str, alt: str, pos: int) -> str:
        # A timestamp written inside an embed's text names no moment of the image.
        alt = PLACEHOLDERS.sub("", _CLOCK_REF.sub("", alt))
        target = PLACEHOLDERS.sub("", _CLOCK_REF.sub("", target))
        media.append(MediaRef(target.strip(), alt.strip(), line_of(pos)))
        return f"{MEDIA_OPEN}{len(media) - 1}{MEDIA_CLOSE}"

    text = _IMAGE.sub(lambda m: image(m.group(2), m.group(1), m.start()), text)
    lines = _Lines(text)

    def wikilink(m: re.Match[str], embed: bool) -> str:
        inner = m.group(1)
        if embed:  # an image is shown, a note embed is not text
            target, _, alt = inner.partition("|")
            target = target.split("#", 1)[0].strip()
            if "." in target.rsplit("/", 1)[-1] and not target.lower().endswith(".md"):
                return image(target, "" if alt.strip().isdigit() else alt, m.start() - 1)
            return ""
        target, _, shown = inner.partition("|")
        target, shown = target.strip(), shown.strip()
        if not shown:
            shown = target.split("#", 1)[-1] if target.startswith("#") else target.split("#")[0]
        # Emphasis inside the shown text ("[[t | **Term**]]") is markup, not text.
        if "*" in shown or "_" in shown:
            shown = _EMPHASIS.sub("", shown)
        links.append((target, shown.strip()))
        return f"{LINK_OPEN}{len(links) - 1}{LINK_CLOSE}"

    text = _sub_wikilinks(text, wikilink)
    return Prepared(text=text, clocks=tuple(clocks), links=tuple(links), media=tuple(media))


def _sub_wikilinks(text: str, repl: Callable[[re.Match[str], bool], str]) -> str:
    r"""`text` with each wikilink, or embed when a `!` stands before it, replaced by
    `repl(match, embed)`.

    `(!?)\[\[` as a pattern would be tried at every position of the note; `\[\[` is
    looked for fast, and the `!` before it cannot be the end of the wikilink before."""
    out: list[str] = []
    pos = 0
    for m in _WIKILINK.finditer(text):
        start = m.start()
        embed = text[start - 1 : start] == "!"
        out.append(text[pos : start - 1 if embed else start])
        out.append(repl(m, embed))
        pos = m.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


# Characters a case-insensitive pattern matches to an ASCII letter although lower() does
# not turn them into it: dotless i and dotted capital I (to "i"), long s (to "s").
_FOLDS_TO_ASCII = ("\u0131", "\u0130", "\u017f")


def _anchors_to_clocks(text: str, first_line: int, clocks: list[Clock]) -> str:
    """`text` with each timestamp anchor, and the brackets that belong to it, replaced by
    a clock placeholder; its clock appended to `clocks`. (One loop, no callback: a note
    holds dozens of anchors.)"""
    out: list[str] = []
    pos = 0  # where the last anchor ended
    line, counted = first_line + 1, 0  # the line of position `counted`
    for m in _ANCHOR.finditer(text):
        pre = _opening(text, m.start(), pos)
        start = m.start() - len(pre)
        line += text.count("\n", counted, start)
        counted = start
        raw, post = m.group("value", "post")
        clocks.append(Clock(raw, line, _clock_fields(raw)))
        placeholder = f"{CLOCK_OPEN}{len(clocks) - 1}{CLOCK_CLOSE}"
        out.append(text[pos:start])
        out.append(_bracketed(placeholder, pre, post or "") if pre or post else placeholder)
        pos = m.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


_LINK_TEXT_OPEN = re.compile(r"\[\s*\d{1,3}(?::\d{1,2}){0,3}\s*\]\(")


def _opening(text: str, start: int, after: int) -> str:
    """What stands right before the anchor at `start` and is read with it: a Markdown
    link's "[12:34](", else "[" or "(", else nothing; never anything before `after`.

    The pattern once began with these as optional alternatives (tried in this order),
    which made it run at every position; they are looked for here from the anchor back.
    A link's text holds no "[", so its "[" is the last one before the anchor."""
    if start <= after or text[start - 1] not in "[(":
        return ""
    if text[start - 2 : start] == "](":
        bracket = text.rfind("[", after, start)
        if bracket >= 0 and _LINK_TEXT_OPEN.fullmatch(text, bracket, start):
            return text[bracket:start]
    return text[start - 1]


def _bracketed(placeholder: str, pre: str, post: str) -> str:
    """A clock's placeholder with what stood before (`pre`) and after (`post`) its anchor."""
    # A bracket or parenthesis belongs to the timestamp only when it is closed around it.
    if pre in ("[", "(") and post != {"[": "]", "(": ")"}[pre]:
        return pre + placeholder + post
    if pre.startswith("[") and pre.endswith("(") and post != ")":
        return placeholder + post
    if not pre and post:
        return placeholder + post
    return placeholder


def _may_contain(text: str, *words: str) -> bool:
    """Whether a case-insensitive pattern could find one of the lower-case `words` in `text`."""
    lowered = text.lower()
    return any(w in lowered for w in words) or any(c in text for c in _FOLDS_TO_ASCII)


@lru_cache(maxsize=4096)
def _clock_fields(raw: str) -> tuple[int, ...] | None:
    """What parse_clock reads from `raw` (a note repeats the same few clocks often)."""
    return parse_clock(raw, 0).fields


class _Lines:
    """The line of a position in a text. A pass asks for positions in order, so the
    newlines are counted on from the last position asked (most passes ask for none)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 0

    def index(self, pos: int) -> int:
        if pos < self.pos:
            self.pos = self.line = 0
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


_CLOCK_REF = re.compile(f"{CLOCK_OPEN}(\\d+){CLOCK_CLOSE}")
_LINK_REF = re.compile(f"{LINK_OPEN}(\\d+){LINK_CLOSE}")
_MEDIA_REF = re.compile(f"{MEDIA_OPEN}(\\d+){MEDIA_CLOSE}")
# What a sentence of a note may keep of the HTML markdown-it makes or the note itself
# carries: inline formatting and web links. Scripts, handlers, frames, styles and
# foreign URL schemes go here, before any card is made; render.sanitise checks again.
INLINE_TAGS = {
    "a",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "s",
    "del",
    "mark",
    "code",
    "sub",
    "sup",
    "br",
    "span",
}
_INLINE_ATTRIBUTES = {"a": {"href"}, "span": {"class"}}


# Markup the parser left as text because it was never closed (`**bold`, `[[link`); code
# keeps its characters.
_STRAY_MARKUP = re.compile(r"(<code>.*?</code>)|\*\*+|\[\[+|\]\]+", re.DOTALL)


def _drop_stray_markup(text: str) -> str:
    # Dropping the "**" of "[**[" leaves "[[": drop again until nothing changes (each
    # round that changes anything makes the text shorter).
    while True:
        done = _STRAY_MARKUP.sub(r"\1", text)
        if done == text:
            return done
        text = done


# One cleaner for the whole run: nh3.clean builds its allow-lists again on every call.
_INLINE_CLEANER = nh3.Cleaner(
    tags=INLINE_TAGS,
    attributes=_INLINE_ATTRIBUTES,
    url_schemes={"http", "https"},
    link_rel=None,
    strip_comments=True,
)


def clean_inline(fragment: str) -> str:
    """Inline HTML with everything but formatting and http(s) links taken out."""
    return str(_INLINE_CLEANER.clean(fragment))


# A run of timestamps with the punctuation that joins them: it leaves the text whole.
_CLOCK_CORE = re.compile(
    f"{CLOCK_OPEN}\\d+{CLOCK_CLOSE}(?:[\\s,;]*{CLOCK_OPEN}\\d+{CLOCK_CLOSE})*[\\s)\\]]*"
)


def _drop_clock_runs(fragment: str) -> str:
    """Each run of timestamps, with the blanks and brackets before it, as one space.

    A regex with a leading `[\\s(\\[]*` retries it at every position of a long run of
    spaces (quadratic: one wide table took seconds); each run is walked back once instead.
    """
    if CLOCK_OPEN not in fragment:
        return fragment
    out: list[str] = []
    pos = 0
    for m in _CLOCK_CORE.finditer(fragment):
        kept = fragment[pos : m.start()]
        while True:  # blanks and opening brackets, in any order, off the end
            trimmed = kept.rstrip().rstrip("([")
            if trimmed == kept:
                break
            kept = trimmed
        out.append(kept)
        out.append(" ")
        pos = m.end()
    out.append(fragment[pos:])
    return "".join(out)


_STRONG = re.compile(r"<strong>(.*?)</strong>", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_LABEL = re.compile(
    r"^\s*<strong>([^<]{1,80}?)\s*:\s*</strong>\s*:?\s*|^\s*<strong>([^<]{1,80}?)</strong>\s*:\s*"
)
_ABBREVIATIONS = frozenset(
    "e.g i.e vs etc dr mr mrs ms st prof jr sr inc ltd no fig approx al u.s u.k".split()
)
_CLOCKS_AFTER = f"(?:\\s*{CLOCK_OPEN}\\d+{CLOCK_CLOSE}(?:[\\s,;]*{CLOCK_OPEN}\\d+{CLOCK_CLOSE})*)?"
# One class of every full stop first, so that the pattern is only tried at one; the
# lookbehinds then tell which kind of full stop it is.
_SENTENCE_END = re.compile(
    f"[.!?。！？](?:(?<=[.!?])[\"'”’)]*{_CLOCKS_AFTER}"
    f'(?=\\s+[A-Z0-9"“‘(\\[{LINK_OPEN}{CLOCK_OPEN}{MEDIA_OPEN}<\\\\]|\\s*$)'
    # Chinese and Japanese full stops end a sentence with no space after them.
    f"|(?<=[。！？])[」』”’）)]*{_CLOCKS_AFTER}(?=\\s*\\S))"
)


def split_sentences(fragment: str) -> list[str]:
    """Split rendered inline HTML into sentences, never inside a tag or an abbreviation."""
    out: list[str] = []
    start = 0
    for m in _SENTENCE_END.finditer(fragment):
        end = m.end()
        piece = fragment[start:end]
        words = fragment[start : m.start()].rsplit(None, 1)
        last = words[-1].lower().lstrip("(") if words else ""
        if last in _ABBREVIATIONS or (len(last) == 1 and last.isascii() and last.isalpha()):
            continue
        if piece.count("<") - piece.count("</") * 2 > 0 and _unbalanced(piece):
            continue
        out.append(piece)
        start = end
    if fragment[start:].strip():
        out.append(fragment[start:])
    return [s.strip() for s in out if s.strip()]


def _unbalanced(piece: str) -> bool:
    opened = re.findall(r"<(strong|em|code|a|span|sub|sup|s|del|mark)\b", piece)
    closed = re.findall(r"</(strong|em|code|a|span|sub|sup|s|del|mark)>", piece)
    return len(opened) != len(closed)


def make_point(
    fragment: str,
    prepared: Prepared,
    line: int,
    *,
    item: bool = False,
    depth: int = 0,
    find_label: bool = False,
) -> Point | None:
    """Turn one sentence or list item of rendered HTML into a Point, or None if empty."""
    fragment = clean_inline(fragment)
    clocks = tuple(map(int, _CLOCK_REF.findall(fragment))) if CLOCK_OPEN in fragment else ()
    label = None
    if find_label and "<strong>" in fragment:
        m = _LABEL.match(fragment)
        if m:
            raw_label = _LINK_REF.sub(
                lambda r: prepared.links[int(r.group(1))][1], m.group(1) or m.group(2)
            )
            label = INVISIBLE.sub("", plain(raw_label)) or None
            if label is not None:
                fragment = fragment[m.end() :]
    body = fragment.replace("&quot;", '"')
    if clocks:
        body = _drop_clock_runs(body)
    terms: list[Term] = []

    # Each pattern below runs only when the text holds what it looks for.
    if "**" in body or "[[" in body or "]]" in body:
        body = _drop_stray_markup(body)
    if LINK_OPEN in body:

        def link(m: re.Match[str]) -> str:
            _target, shown = prepared.links[int(m.group(1))]
            shown_html = html.escape(_CLOCK_REF.sub("", shown).strip(), quote=False)
            if shown_html:
                terms.append(Term(text=html.unescape(shown_html), html=shown_html))
            return f'<span class="wikilink">{shown_html}</span>' if shown_html else ""

        body = _LINK_REF.sub(link, body)
    if MEDIA_OPEN in body:
        body = _MEDIA_REF.sub(lambda m: _image_html(prepared.media[int(m.group(1))]), body)
    if "<strong>" in body:
        for m in _STRONG.finditer(body):
            inner = m.group(1).strip()
            if inner and "<" not in inner:
                terms.append(Term(text=html.unescape(inner), html=inner))
    body = tidy(body)
    text = plain(body)
    if not (label or text[:1].isalnum() or any(ch.isalnum() for ch in text) or "<img " in body):
        return None
    if clocks:
        line = prepared.clocks[clocks[0]].line
    if "{{" in body or "}}" in body:
        body = unclozed(body)
        terms = [Term(t.text, unclozed(t.html)) for t in terms]
    terms_ = _unique_terms(terms) if terms else ()
    # Positional: a Point is made per sentence, and keywords cost a third more.
    return Point(body, text, line, clocks, terms_, label, item, depth)


# Between two braces: invisible, kept by the sanitiser, and no cloze marker to Anki.
_WORD_JOINER = "\u2060"


# TeX as math_html writes it, which MathJax reads: its braces are left as they are.
_MATH = re.compile(r"(\\\(.*?\\\)|\\\[.*?\\\])", re.DOTALL)


def unclozed(fragment: str) -> str:
    """`fragment` with every `{{` and `}}` written by the note split by a word joiner: a
    `{{c2::...}}` in a sentence would otherwise be a cloze deletion of its own in Anki (a
    card notedeck does not know of). Looks as written; only notedeck's own clozes count.
    Math is left alone (`\\frac{a}{b}}` must reach MathJax as written)."""
    parts = _MATH.split(fragment) if "\\" in fragment else [fragment]
    for i in range(0, len(parts), 2):  # the parts between the math
        parts[i] = parts[i].replace("{{", "{" + _WORD_JOINER + "{")
        parts[i] = parts[i].replace("}}", "}" + _WORD_JOINER + "}")
    return "".join(parts)


def _image_html(ref: MediaRef) -> str:
    alt = html.escape(ref.alt)
    if ref.name is None:
        return alt
    return f'<img src="{html.escape(ref.name)}" alt="{alt}">'


def _unique_terms(terms: list[Term]) -> tuple[Term, ...]:
    seen: set[str] = set()
    out = []
    for t in terms:
        k = t.text.casefold()
        if k not in seen and t.text.strip():
            seen.add(k)
            out.append(t)
    return tuple(out)


# tidy() runs once per sentence and list item: its patterns are compiled once.
_SPACES = re.compile(r"\s+")
# Gaps closed before punctuation and after an opening bracket, but never so that two
# brackets meet: "[" + "[" or "]" + "]" would read as a wikilink. Once white space is
# folded, a gap is one " " (so these are pairs of characters, not `\s+` patterns).
_GAPS_BEFORE = (" .", " ,", " ;", " :", " !", " ?", " )")
_GAP_BEFORE_BRACKET = re.compile(r"(?<!\]) \]")
_GAP_AFTER_BRACKET = re.compile(r"\[ (?!\[)")
_EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
# A comma or colon left right before the end of a sentence.
_LEFT_BEFORE_END = re.compile(r"([,:])(?=[.!?])")
_LEADING_PUNCTUATION = re.compile(r"^[\s,;:.]+")
_LEADING = (" ", ",", ";", ":", ".")
# What tidy() acts on but a " ." gap: a double blank, a gap before other punctuation or
# after an opening bracket, an empty bracket (some pairs found are none: harmless); a
# comma or colon before the end, with or without a gap. One class first, so that the
# pattern is only tried at those characters; the lookbehinds tell which one it is.
_UNTIDY = re.compile(r"[ (\[,:](?:(?<=[ (\[])[ ,;:!?)\]]|(?<=[,:]) ?[.!?])")


def tidy(fragment: str) -> str:
    """Fold white space and the gaps that removed timestamps leave before punctuation."""
    # Most sentences need only their " ." gaps closed: no other blank, gap, empty bracket
    # or comma before the end, and no punctuation to drop in front (each step below
    # then changes nothing, and closing " ." makes no new work for them).
    if fragment.isprintable() and fragment[:1] not in _LEADING and _UNTIDY.search(fragment) is None:
        return fragment.replace(" .", ".").strip()
    # Each step runs only when the text holds what it acts on. White space other than
    # " " is never printable.
    if "  " in fragment or not fragment.isprintable():
        fragment = _SPACES.sub(" ", fragment)
    # From here each gap is one " ", and closing one makes no new one.
    for gap in _GAPS_BEFORE:
        if gap in fragment:
            fragment = fragment.replace(gap, gap[1])
    if " ]" in fragment:
        fragment = _GAP_BEFORE_BRACKET.sub("]", fragment)
    if "( " in fragment:
        fragment = fragment.replace("( ", "(")
    if "[ " in fragment:
        fragment = _GAP_AFTER_BRACKET.sub("[", fragment)
    if "(" in fragment or "[" in fragment:
        fragment = _EMPTY_BRACKETS.sub("", fragment)
    if "," in fragment or ":" in fragment:
        fragment = _LEFT_BEFORE_END.sub("", fragment)
    if fragment[:1] in _LEADING:
        fragment = _LEADING_PUNCTUATION.sub("", fragment)
    return fragment.strip()


def plain(fragment: str) -> str:
    """The visible text of an inline HTML fragment."""
    text = _TAG.sub("", fragment) if "<" in fragment else fragment
    if not text.isascii() and PLACEHOLDERS.search(text):
        text = _CLOCK_REF.sub("", text)
        text = PLACEHOLDERS.sub("", _LINK_REF.sub("", _MEDIA_REF.sub("", text)))
    if "&" in text:
        text = html.unescape(text)
    # `\s` and str.split agree on what white space is.
    return " ".join(text.split())


def heading_text(inline_html: str, prepared: Prepared) -> tuple[str, tuple[int, ...]]:
    """A heading's plain text, and the timestamps written in it."""
    clocks = tuple(int(i) for i in _CLOCK_REF.findall(inline_html))

    def link(m: re.Match[str]) -> str:
        return html.escape(prepared.links[int(m.group(1))][1])

    without = _drop_clock_runs(inline_html)
    if LINK_OPEN in without:
        without = _LINK_REF.sub(link, without)
    if "**" in without or "[[" in without or "]]" in without:
        without = _drop_stray_markup(without)
    text = plain(tidy(without))
    return (text if text.isascii() else INVISIBLE.sub("", text)), clocks
