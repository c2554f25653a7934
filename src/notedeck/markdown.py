"""Markdown to block tokens and inline HTML: a fast path for plain notes, markdown-it for the rest.

Most notes are ATX headings, paragraphs, simple lists and block quotes. For those,
`parse_blocks` walks the lines itself, following markdown-it's own block rules step by
step (the same line numbers, the same paragraph text, the same nesting), and
`inline_html` writes the HTML of text with simple emphasis directly. Anything else -
tables, code, HTML, math, setext headings, links, escapes - goes to markdown-it, so the
result is always what markdown-it gives; the fast paths only skip its cost
(tests/test_markdown.py and benchmarks/reader_check.py check that they agree).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from markdown_it import MarkdownIt
from markdown_it.common.utils import isMdAsciiPunct, isPunctChar, isWhiteSpace, mdTrim
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}, renderer_cls=RendererHTML).enable("table")
    md.use(dollarmath_plugin, allow_space=True, allow_digits=False, double_inline=True)
    md.add_render_rule("math_inline", lambda self, t, i, o, e: math_html(t[i].content, False))
    md.add_render_rule("math_inline_double", lambda self, t, i, o, e: math_html(t[i].content, True))
    return md


def math_html(content: str, display: bool) -> str:
    """TeX as Anki's MathJax reads it: \\( \\) or \\[ \\], the content escaped as text."""
    body = html.escape(content.strip(), quote=False)
    return f"\\[{body}\\]" if display else f"\\({body}\\)"


_MD = _markdown()
_RENDERER = cast(RendererHTML, _MD.renderer)
# Block structure only: each inline token is rendered from its text by `inline_html`,
# which skips markdown-it's inline parser for plain text.
_MD_BLOCKS = _markdown().disable("inline")


@dataclass(slots=True)
class Block:
    """A block token as the fast path makes it: the fields the reader uses of a Token."""

    type: str
    tag: str = ""
    map: list[int] | None = None
    level: int = 0
    content: str = ""
    children: None = None


@dataclass(frozen=True, slots=True)
class Blocks:
    """A note body's block tokens, and the link references its inline text may use."""

    tokens: list[Token] | list[Block]
    env: dict[str, Any]


def parse_blocks(text: str) -> Blocks:
    """The block tokens of `text`: markdown-it's, or the same shapes made line by line."""
    blocks = _LineParser.parse(text)
    if blocks is not None:
        return Blocks(blocks, {})
    env: dict[str, Any] = {}
    return Blocks(_MD_BLOCKS.parse(text, env), env)


# Of the characters inline_html looks for, what surely starts an inline rule outside code
# spans (escapes, underscores, entities, HTML, autolinks); brackets and dollars are
# looked at in `_only_text`.
_INLINE_SPECIAL = re.compile(r"[\\_]|&#?[A-Za-z0-9]+;|<[A-Za-z/!?]")
# Code spans are read here only in text with few backtick runs (finding a span's end
# looks at each later run).
_MAX_BACKTICK_RUNS = 16

CodeSpan = tuple[int, int, str]  # start, end and HTML of a code span in inline text


def _only_text(content: str, env: dict[str, Any], spans: list[CodeSpan]) -> bool:
    """Whether markdown-it finds nothing in `content` but text, breaks, emphasis and the
    code `spans`."""
    pos = 0
    for start, end, _ in [*spans, (len(content), len(content), "")]:
        if _INLINE_SPECIAL.search(content, pos, start):
            return False
        pos = end
    # A bracket is text unless a link follows it: `](` or a reference the note defines.
    if "[" in content and ("](" in content or "references" in env):
        return False
    return content.count("$") < 2  # math needs a closing dollar


def _code_spans(content: str) -> list[CodeSpan] | None:
    """The code spans of inline text as markdown-it's backtick rule finds them: a run of
    backticks opens one that the next run of the same length closes; a run that nothing
    closes is text. None when there are too many runs to look at."""
    runs = [m.span() for m in _BACKTICKS.finditer(content)]
    if len(runs) > _MAX_BACKTICK_RUNS:
        return None
    spans: list[CodeSpan] = []
    k = 0
    while k < len(runs):
        start, after = runs[k]
        size = after - start
        close = next((j for j in range(k + 1, len(runs)) if runs[j][1] - runs[j][0] == size), 0)
        if not close:
            k += 1  # an opener nothing closes is text; the next run may open a span
            continue
        code = content[after : runs[close][0]].replace("\n", " ")
        if code.startswith(" ") and code.endswith(" ") and code.strip(" "):
            code = code[1:-1]
        spans.append((start, runs[close][1], f"<code>{_escape(code)}</code>"))
        k = close + 1
    return spans


_BACKTICKS = re.compile(r"`+")


def inline_html(content: str, env: dict[str, Any]) -> str:
    """Inline Markdown as HTML, exactly as markdown-it renders it; `env` holds the
    note's link references."""
    # Characters that may start an inline rule other than text, newline and emphasis,
    # looked for one by one (a character class is tried at every character: slower).
    if not (
        "[" in content
        or "<" in content
        or "&" in content
        or "_" in content
        or "`" in content
        or "\\" in content
        or "$" in content
    ):
        return _plain_inline(content, []) or _parsed_inline(content, env)
    spans = _code_spans(content) if "`" in content else []
    if spans is not None and _only_text(content, env, spans):
        fast = _plain_inline(content, spans)
        if fast is not None:
            return fast
    return _parsed_inline(content, env)


def _parsed_inline(content: str, env: dict[str, Any]) -> str:
    """Inline Markdown as HTML by markdown-it: the steps it runs on each inline token of a
    whole document."""
    tokens = _MD.parseInline(content, env)
    return _RENDERER.renderInline(tokens[0].children or [], _MD.options, {})


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _plain_inline(content: str, spans: list[CodeSpan]) -> str | None:
    """Text, line breaks, code `spans` and simple emphasis as HTML; None for other
    emphasis."""
    if "*" in content:
        content_html = _emphasis(content, spans)
        if content_html is None:
            return None
    else:
        content_html = _text_html(content, 0, len(content), spans)
    if "\n" not in content_html:
        return content_html
    lines = content_html.split("\n")
    out = []
    last = len(lines) - 1
    for k, line in enumerate(lines):
        if k:
            line = line.lstrip(" \t")  # a line's leading blanks are not text
        if k == last:
            out.append(line)
        elif line.endswith("  "):
            out.append(line.rstrip(" ") + "<br />\n")  # two or more spaces: a hard break
        elif line.endswith(" "):
            out.append(line[:-1] + "\n")
        else:
            out.append(line + "\n")
    return "".join(out)


# A run of stars (`\*+`, written so that the pattern is only tried where a star is).
_STARS = re.compile(r"\*\**")


@lru_cache(maxsize=1024)
def _kind(ch: str) -> tuple[bool, bool]:
    """Whether markdown-it counts `ch` as white space, and as punctuation, beside `*`."""
    return isWhiteSpace(ord(ch)), isMdAsciiPunct(ord(ch)) or isPunctChar(ch)


def _text_html(content: str, start: int, end: int, spans: list[CodeSpan]) -> str:
    """The HTML of `content[start:end]`: its code spans, and the rest escaped."""
    if not spans:
        return _escape(content[start:end])
    out = []
    pos = start
    for span_start, span_end, code in spans:
        if start <= span_start and span_end <= end:
            out.append(_escape(content[pos:span_start]))
            out.append(code)
            pos = span_end
    out.append(_escape(content[pos:end]))
    return "".join(out)


def _emphasis(content: str, spans: list[CodeSpan]) -> str | None:
    """Escaped text with `*em*` and `**strong**` as HTML, when each `*` run is one or two
    stars that can only open or only close (or neither: then it is text) and they nest
    properly; otherwise None, and markdown-it decides."""
    out: list[str] = []
    pos = 0
    opened: list[int] = []  # lengths of the runs still open
    for m in _STARS.finditer(content):
        start, end = m.span()
        if spans and any(s <= start < e for s, e, _ in spans):
            continue  # stars in code are code
        size = end - start
        if size > 2:
            return None
        last_space, last_punct = _kind(content[start - 1] if start > 0 else " ")
        next_space, next_punct = _kind(content[end] if end < len(content) else " ")
        left = not (next_space or (next_punct and not (last_space or last_punct)))
        right = not (last_space or (last_punct and not (next_space or next_punct)))
        if left and right:
            return None
        if not left and not right:
            continue  # a star that neither opens nor closes is text
        out.append(_text_html(content, pos, start, spans))
        tag = "strong" if size == 2 else "em"
        if left:
            opened.append(size)
            out.append(f"<{tag}>")
        elif opened and opened[-1] == size:
            opened.pop()
            out.append(f"</{tag}>")
        else:
            return None
        pos = end
    if opened:
        return None
    out.append(_text_html(content, pos, len(content), spans))
    return "".join(out)


# A table's delimiter row (`|---|:--|`, `---`): the note goes to markdown-it.
_DELIMITER_ROW = re.compile(r"^[ |:-]*-[ |:-]*$", re.MULTILINE)
# The same row on a later line: found from its newline, not tried at every character.
_LATER_DELIMITER_ROW = re.compile(r"\n[ |:-]*-[ |:-]*$", re.MULTILINE)
# First characters of a line that may start a block the line parser leaves to
# markdown-it (code fences, HTML, math, setext underlines, rules) or reads only in the
# simple case (block quotes).
_OTHER_BLOCK_START = frozenset("`~><$=_")
_FENCE_OR_MATH = frozenset("`~$")
# First characters of anything but a paragraph's text (the rest start paragraphs); `[`
# may start a link reference definition.
_BLOCK_START = _OTHER_BLOCK_START | frozenset("#*-+0123456789[")


class _Fallback(Exception):
    """The note has a block the line parser does not read: markdown-it reads it."""


class _LineParser:
    """markdown-it's block parser for headings, paragraphs, lists and quotes, line by line.

    The methods follow markdown-it's `tokenize`, `paragraph`, `heading`, `list_block`
    and `blockquote` (same names for the same state: `tshift` and `scount` are its
    per-line text offset and indent; notes with tabs go to markdown-it, so the two are
    equal except on a list item's first line, which starts after its marker). Where a
    rule this parser does not follow might apply, it raises _Fallback."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.tshift = [len(line) - len(line.lstrip(" ")) for line in lines]
        self.scount = list(self.tshift)
        self.tokens: list[Block] = []
        self.level = 0
        self.list_indent = -1
        self.in_quote = False

    @classmethod
    def parse(cls, text: str) -> list[Block] | None:
        if "\t" in text or "\0" in text:
            return None
        if _DELIMITER_ROW.match(text) or _LATER_DELIMITER_ROW.search(text):
            return None
        lines = text.split("\n")
        # markdown-it gives a last line no line when it is empty or all blanks.
        if lines and not lines[-1].strip(" "):
            lines.pop()
        parser = cls(lines)
        try:
            parser.tokenize(0, len(lines), 0)
        except _Fallback:
            return None
        return parser.tokens

    def is_empty(self, line: int) -> bool:
        return self.tshift[line] >= len(self.lines[line])

    def first(self, line: int) -> str:
        return self.lines[line][self.tshift[line] : self.tshift[line] + 1]

    def tokenize(self, line: int, end: int, blk: int) -> int:
        """Blocks from `line` until a line indented less than `blk`; the line it stops at."""
        lines, tshift = self.lines, self.tshift  # is_empty() inlined: it runs on every line
        while line < end:
            while line < end and tshift[line] >= len(lines[line]):
                line += 1
            if line >= end or self.scount[line] < blk:
                break
            if self.level >= 18:  # markdown-it stops nesting at 20 levels
                raise _Fallback
            line = self.block(line, end, blk)
            if line < end and tshift[line] >= len(lines[line]):
                line += 1
        return line

    def block(self, line: int, end: int, blk: int) -> int:
        if self.scount[line] - blk >= 4:
            raise _Fallback  # an indented code block
        pos = self.tshift[line]
        ch = self.lines[line][pos : pos + 1]
        if ch not in _BLOCK_START:
            return self.paragraph(line, end, blk)
        if ch == ">":
            return self.blockquote(line, end, blk)
        if ch in _FENCE_OR_MATH and not self.opens_fence_or_math(line):
            return self.paragraph(line, end, blk)  # inline code or a dollar amount
        if ch in _OTHER_BLOCK_START or self.is_rule(line):
            raise _Fallback
        if ch == "[" and self.may_be_reference(line):
            raise _Fallback
        marker = self.list_marker(line)
        if marker is not None:
            return self.list_block(line, end, blk, marker)
        if ch == "#" and self.heading_level(line):
            if blk:
                raise _Fallback  # a heading inside a list item
            return self.heading(line)
        return self.paragraph(line, end, blk)

    def opens_fence_or_math(self, line: int) -> bool:
        """Whether `line` may open a code fence (three backticks or tildes) or a math block
        (two dollars); one or two backticks are inline code, one dollar is text."""
        text = self.lines[line][self.tshift[line] :]
        return text.startswith(("```", "~~~", "$$"))

    def may_be_reference(self, line: int) -> bool:
        """Whether `line` may open a link reference definition (`[label]: url`): its label
        ends at the first `]`, unless escaped or on a later line."""
        text = self.lines[line][self.tshift[line] :]
        close = text.find("]")
        return "\\" in text or close < 0 or text[close + 1 : close + 2] == ":"

    def blockquote(self, start: int, end: int, blk: int) -> int:
        """A block quote whose every line starts with `>` and that a blank line (or an
        empty `>` line and any line) ends; others, and quotes in lists or quotes, are
        left to markdown-it. Its lines are read from after `>` and one space."""
        if blk or self.in_quote:
            raise _Fallback
        line = start
        last_empty = False
        while line < end:
            if self.is_empty(line):
                break
            if self.first(line) != ">":
                if last_empty:
                    break
                raise _Fallback  # a lazy continuation line, or a block ending the quote
            line += 1
            pos = self.tshift[line - 1] + 1
            last_empty = not self.lines[line - 1][pos:].strip(" ")
        saved = self.lines[start:line], self.tshift[start:line], self.scount[start:line]
        for k in range(start, line):
            src = self.lines[k]
            pos = self.tshift[k] + 1
            if src[pos : pos + 1] == " ":
                pos += 1
            inner = src[pos:]
            if _DELIMITER_ROW.fullmatch(inner):
                raise _Fallback  # a setext underline or table row, as at the top level
            self.lines[k] = inner
            self.tshift[k] = self.scount[k] = len(inner) - len(inner.lstrip(" "))
        self.tokens.append(Block("blockquote_open", "blockquote", [start, line], self.level))
        self.level += 1
        self.in_quote = True
        self.tokenize(start, line, 0)
        self.in_quote = False
        self.level -= 1
        self.tokens.append(Block("blockquote_close", "blockquote", None, self.level))
        self.lines[start:line], self.tshift[start:line], self.scount[start:line] = saved
        return line

    def is_rule(self, line: int) -> bool:
        """A thematic break (`* * *`, `___`), which markdown-it reads as <hr>."""
        text = self.lines[line][self.tshift[line] :]
        ch = text[:1]
        if ch not in ("*", "-", "_") or text.rstrip(" ")[-1] != ch:
            return False  # a rule is its marker (three or more) and spaces
        return text.count(ch) >= 3 and not text.strip(ch + " ")

    def heading_level(self, line: int) -> int:
        text = self.lines[line][self.tshift[line] :]
        hashes = len(text) - len(text.lstrip("#"))
        if hashes > 6 or (hashes < len(text) and text[hashes] not in " \t"):
            return 0
        return hashes

    def heading(self, line: int) -> int:
        level = self.heading_level(line)
        src = self.lines[line]
        pos = self.tshift[line] + level
        end = len(src.rstrip(" \t"))
        end = max(end, pos)
        tmp = end
        while tmp > pos and src[tmp - 1] == "#":
            tmp -= 1
        if tmp > pos and src[tmp - 1] in " \t":
            end = tmp
        tag = f"h{level}"
        where = [line, line + 1]
        self.tokens.append(Block("heading_open", tag, where, self.level))
        self.tokens.append(Block("inline", "", where, self.level + 1, mdTrim(src[pos:end])))
        self.tokens.append(Block("heading_close", tag, None, self.level))
        return line + 1

    def list_marker(self, line: int) -> tuple[int, str, int] | None:
        """(position after the marker, marker character, number) of a list item line."""
        src = self.lines[line]
        pos = self.tshift[line]
        ch = src[pos : pos + 1]
        if ch in ("*", "-", "+"):
            after = pos + 1
            if after < len(src) and src[after] not in " \t":
                return None
            return after, ch, -1
        digits = pos
        while digits < len(src) and "0" <= src[digits] <= "9":
            digits += 1
        if digits == pos or digits - pos > 9 or digits >= len(src) or src[digits] not in ".)":
            return None
        after = digits + 1
        if after < len(src) and src[after] not in " \t":
            return None
        return after, src[digits], int(src[pos:digits])

    def interrupts_paragraph(self, line: int, blk: int) -> bool:
        """Whether a block starting at `line` ends the paragraph above it."""
        ch = self.first(line)
        if ch not in _BLOCK_START:
            return False
        if ch == ">":
            return True
        if ch in _FENCE_OR_MATH and not self.opens_fence_or_math(line):
            return False
        if ch in _OTHER_BLOCK_START or self.is_rule(line):
            raise _Fallback
        if ch == "#" and self.heading_level(line):
            return True
        marker = self.list_marker(line)
        if marker is None:
            return False
        if 0 <= self.list_indent <= self.scount[line] - 4 and self.scount[line] < blk:
            return False  # indented too far for a sibling, too little for a child
        if self.scount[line] >= blk:  # markdown-it's "isTerminatingParagraph"
            after, _, number = marker
            if number not in (-1, 1):
                return False
            if not self.lines[line][after:].strip(" \t"):
                return False
        return True

    def paragraph(self, start: int, end: int, blk: int) -> int:
        line = start + 1
        while line < end:
            if self.tshift[line] >= len(self.lines[line]):  # an empty line
                break
            if self.scount[line] - blk > 3:
                line += 1
                continue
            if self.interrupts_paragraph(line, blk):
                break
            line += 1
        if line == start + 1:  # most paragraphs are one line
            content = mdTrim(self.lines[start][min(blk, self.tshift[start]) :])
            return self.push_paragraph(start, line, content)
        parts = []
        for k in range(start, line):
            src = self.lines[k]
            cut = min(blk, self.tshift[k])  # the list item's indent is not text
            parts.append(src[cut:] if k == line - 1 else src[cut:] + "\n")
        return self.push_paragraph(start, line, mdTrim("".join(parts)))

    def push_paragraph(self, start: int, end: int, content: str) -> int:
        where = [start, end]
        self.tokens.append(Block("paragraph_open", "p", where, self.level))
        self.tokens.append(Block("inline", "", where, self.level + 1, content))
        self.tokens.append(Block("paragraph_close", "p", None, self.level))
        return end

    def list_block(self, start: int, end: int, blk: int, marker: tuple[int, str, int]) -> int:
        after, char, number = marker
        kind = "bullet_list" if number < 0 else "ordered_list"
        self.tokens.append(Block(f"{kind}_open", "", [start, 0], self.level))
        self.level += 1
        item = start
        while item < end:
            src = self.lines[item]
            initial = self.scount[item] + after - self.tshift[item]
            content = after
            while content < len(src) and src[content] == " ":
                content += 1
            if content >= len(src):
                raise _Fallback  # an empty item
            if content - after > 4:
                raise _Fallback  # the item starts with indented code
            indent = initial + (content - after)
            # The item's first line is read from after its marker, as markdown-it does.
            saved = self.tshift[item], self.scount[item], self.list_indent
            self.tshift[item], self.scount[item], self.list_indent = content, indent, blk
            self.level += 1
            after_item = self.tokenize(item, end, indent)
            self.level -= 1
            self.tshift[item], self.scount[item], self.list_indent = saved
            item = after_item
            if item >= end or self.scount[item] < blk or self.scount[item] - blk >= 4:
                break
            # Only an item continues the list; a thematic break ends it though it may look
            # like one (`* * *`), and the other blocks that end lists are no items.
            if self.is_rule(item):
                break
            following = self.list_marker(item)
            if following is None or (following[2] < 0) != (number < 0) or following[1] != char:
                break  # not an item, or another kind of list
            after = following[0]
        self.level -= 1
        self.tokens.append(Block(f"{kind}_close", "", None, self.level))
        return item
