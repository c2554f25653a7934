"""Read one note: frontmatter, overview and nested sections, with line numbers."""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import frontmatter
import yaml
from markdown_it.token import Token

from notedeck.anki import identity
from notedeck.cards.questions import subject_of
from notedeck.errors import NoteError
from notedeck.model import Diagnostic, Level, Note, Point, Section
from notedeck.reading.inline import (
    INVISIBLE,
    MediaRef,
    Prepared,
    heading_text,
    make_point,
    prepare,
    split_sentences,
)
from notedeck.reading.markdown import inline_html, math_html, parse_blocks

_FRONTMATTER = re.compile(r"\A(?:\ufeff)?---[ \t]*\r?\n(.*?\r?\n)?---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_EXPLICIT_ID = re.compile(r"\s*(?:\{#([A-Za-z0-9_-]+)\}|\^([A-Za-z0-9_-]+))\s*$")
_VIDEO_ID = re.compile(r"[A-Za-z0-9_-]{11}")
# `\b[a-z][a-z'-]+\b`, with the first boundary checked after the first letter: a pattern
# that opens with a letter is only tried where there is one.
_WORD = re.compile(r"[a-z](?<!\w[a-z])[a-z'-]+\b")
# A capitalised word written after a lower-case word or a comma, as in "platforms like
# Reddit and", may be a name; followed by a lower-case word (the second group), it is
# one. Found from the space before it (`(?<=[a-z,] )[A-Z][\w'-]+` would be tried at every
# position); what follows holds no space before a capital, so no name starts inside it.
_NAME_PLACE = re.compile(r" (?<=[a-z,] )([A-Z][\w'-]+)([ ,.][ ]?[a-z0-9])?")
_TITLED = re.compile(r"^[ \t]*#.*$|\*\*[^*\n]{1,80}\*\*", re.MULTILINE)
_CALLOUT = re.compile(r"^\s*\[!([A-Za-z-]+)\][+-]?\s*")
# Anything past this many characters of one note is not read: a note that long is a
# generation loop or padding, never study material, and it must not stall the build.
MAX_NOTE_CHARS = 400_000
# The most bytes of one file read as a note: the characters above at up to four bytes
# each, and room for a long frontmatter. A larger file (or a link to /dev/zero) is cut.
MAX_NOTE_BYTES = 4 * MAX_NOTE_CHARS + (1 << 16)
# Padding: a run of blanks this long carries nothing (real indentation is far shorter).
_BLANK_RUN = re.compile(r"[ \t]{64,}")
# A generation loop: one piece of text written ten or more times in a row.
_LOOP = re.compile(r"(\S.{7,299}?)\1{9,}")
_LOOP_LINE_REPEATS = 10
# Images Anki can show; SVG is left out because it can carry scripts.
IMAGE_TYPES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".avif"})
MediaFinder = Callable[[MediaRef], str | None]


@dataclass
class _Open:
    """A section while its heading's content is still being read."""

    heading: str
    level: int
    line: int
    slug: str
    explicit: bool
    points: list[Point] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)
    used: dict[str, int] = field(default_factory=dict)

    def freeze(self) -> Section:
        return Section(
            heading=self.heading,
            level=self.level,
            line=self.line,
            slug=self.slug,
            points=tuple(self.points),
            children=distinct_slugs(self.children),
            explicit_id=self.explicit,
        )


def read_note(path: Path, root: Path, data: bytes | None = None) -> Note:
    """Read the note at `path` (inside `root`), from `data` when the caller has its bytes
    already; raise NoteError if it cannot be read."""
    rel = path.relative_to(root).as_posix()
    if data is None:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise NoteError(
                rel,
                1,
                "note.unreadable",
                f"cannot read the file ({exc.strerror}); check that it exists and that "
                "you may read it.",
            ) from exc
    if b"\x00" in data[:8192]:
        raise NoteError(
            rel,
            1,
            "note.binary",
            "this is a binary file, not a Markdown note; move it out of the notes folder.",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise NoteError(
            rel, line, "note.encoding", "the file is not UTF-8; save it as UTF-8."
        ) from exc
    files = MediaFiles(root, path.parent)
    note = parse_note(text, rel, media=files.find)
    if not files.found and not files.problems:
        return note
    found = tuple(
        Diagnostic(Level.WARNING, code, rel, line, message)
        for code, line, message in files.problems
    )
    return replace(
        note, media=tuple(sorted(files.found.items())), diagnostics=note.diagnostics + found
    )


class MediaFiles:
    """Finds a note's images inside the notes folder and names them by their content."""

    def __init__(self, root: Path, folder: Path) -> None:
        self.notes_folder = root
        self.folder = folder
        self.found: dict[str, str] = {}  # Anki media name -> absolute source path
        self.problems: list[tuple[str, int, str]] = []  # (code, line, message)

    @cached_property
    def root(self) -> Path:
        """The notes folder resolved, once a note shows an image (most show none)."""
        return self.notes_folder.resolve()

    def find(self, ref: MediaRef) -> str | None:
        target = ref.target.replace("%20", " ")
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", target):
            return None  # a web address: Anki would fetch it at review time, so not shown
        if Path(target).suffix.lower() not in IMAGE_TYPES:
            self.problems.append(
                (
                    "media.type",
                    ref.line,
                    f"'{target[:80]}' is not an image Anki shows (png, jpg, gif, webp); "
                    "it is left out.",
                )
            )
            return None
        for base in (self.folder, self.root):
            candidate = (base / target).resolve()
            if not candidate.is_relative_to(self.root):
                self.problems.append(
                    (
                        "media.outside",
                        ref.line,
                        f"'{target[:80]}' is outside the notes folder; "
                        "copy it into the folder to show it.",
                    )
                )
                return None
            if candidate.is_file():
                try:
                    data = candidate.read_bytes()
                except OSError as exc:
                    self.problems.append(
                        (
                            "media.unreadable",
                            ref.line,
                            f"the image '{target[:80]}' cannot be read "
                            f"({exc.strerror or exc}); it is left out: check that you may "
                            "read it.",
                        )
                    )
                    return None
                name = f"nd-{hashlib.sha256(data).hexdigest()[:20]}{candidate.suffix.lower()}"
                self.found[name] = str(candidate)
                return name
        self.problems.append(
            (
                "media.missing",
                ref.line,
                f"the image '{target[:80]}' was not found; put it beside the note or fix the name.",
            )
        )
        return None


def parse_note(
    text: str, rel: str, key: str | None = None, media: MediaFinder | None = None
) -> Note:
    """Parse the text of a note whose path under the notes folder is `rel`.

    `media` names the Anki media file of each image the note shows (None: not shown).
    """
    diagnostics: list[Diagnostic] = []
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    meta, body, body_line = _split_frontmatter(text, rel)
    if "\t" in body or " " * 64 in body:  # the pattern is tried at every blank otherwise
        body = _BLANK_RUN.sub(" ", body)
    body, looped = _collapse_loops(body)
    if looped is not None:
        diagnostics.append(
            Diagnostic(
                Level.WARNING,
                "note.repetition",
                rel,
                body_line + looped + 1,
                "the same text repeats over and over here (a generation loop); it was "
                "read once. Regenerate or trim the note.",
            )
        )
    if len(body) > MAX_NOTE_CHARS:
        cut = body.rfind("\n", 0, MAX_NOTE_CHARS)
        body = body[: cut if cut > 0 else MAX_NOTE_CHARS]
        diagnostics.append(
            Diagnostic(
                Level.WARNING,
                "note.too-long",
                rel,
                body_line + body.count("\n"),
                f"only the first {MAX_NOTE_CHARS:,} characters were read; split the note.",
            )
        )
    body, body_line = _unwrap_fence(body, body_line)
    prepared = prepare(body, body_line)
    if prepared.media:
        find = media or (lambda ref: None)
        prepared = replace(prepared, media=tuple(replace(r, name=find(r)) for r in prepared.media))
    placeholders = [c for c in prepared.clocks if c.fields is None]
    if placeholders:
        diagnostics.append(
            Diagnostic(
                Level.WARNING,
                "timestamp.placeholder",
                rel,
                placeholders[0].line,
                f"{len(placeholders)} timestamp(s) name no moment (e.g. "
                f"'{placeholders[0].raw.strip()[:40]}') and get no link; write the time "
                "as HH:MM:SS or remove them.",
            )
        )
    blocks = parse_blocks(prepared.text)
    tokens, env = blocks.tokens, blocks.env

    title = _text(meta.get("title"))
    stem = rel.rsplit("/", 1)[-1].removesuffix(".md")
    overview: list[Point] = []
    stack: list[_Open] = []
    top: list[Section] = []
    top_used: dict[str, int] = {}
    first_h1_title = False

    def close_to(level: int) -> None:
        while stack and stack[-1].level >= level:
            done = stack.pop().freeze()
            (stack[-1].children if stack else top).append(done)

    def sink() -> list[Point]:
        return stack[-1].points if stack else overview

    # Timestamps written in a heading belong to the first point under it.
    pending: tuple[int, ...] = ()
    pending_in: list[Point] = overview

    def settle() -> None:
        nonlocal pending
        if pending and pending_in:
            first = pending_in[0]
            pending_in[0] = replace(first, clocks=tuple(dict.fromkeys(pending + first.clocks)))
            pending = ()

    i = 0
    while i < len(tokens):
        if pending:
            settle()
        tok = tokens[i]
        line = body_line + (tok.map[0] if tok.map else 0) + 1
        if tok.type == "heading_open":
            inline = tokens[i + 1]
            heading, clocks = heading_text(inline_html(inline.content, env), prepared)
            pending += clocks
            level = int(tok.tag[1])
            if (
                level == 1
                and not stack
                and not top
                and not first_h1_title
                and (not title or _same(heading, title))
            ):
                title = title or heading
                first_h1_title = True
                pending_in = sink()
                i += 3
                continue
            m = _EXPLICIT_ID.search(heading) if "{#" in heading or "^" in heading else None
            explicit = bool(m)
            if m:
                heading = heading[: m.start()].strip()
                slug = m.group(1) or m.group(2)
            else:
                slug = slugify(heading) or f"section-{line}"
            close_to(level)
            used = stack[-1].used if stack else top_used
            n = used.get(slug, 0) + 1
            used[slug] = n
            if n > 1 and explicit:
                diagnostics.append(
                    Diagnostic(
                        Level.WARNING,
                        "section.duplicate-id",
                        rel,
                        line,
                        f"the id '{slug}' is used twice; give each section its own id.",
                    )
                )
            # The slug stays as it is until all its siblings are read: distinct_slugs.
            stack.append(
                _Open(
                    heading=heading or "Untitled",
                    level=level,
                    line=line,
                    slug=slug,
                    explicit=explicit,
                )
            )
            pending_in = stack[-1].points
            i += 3
            continue
        if tok.type == "paragraph_open" and tok.level == 0:
            inline = tokens[i + 1]
            rendered = inline_html(inline.content, env)
            _add_prose(sink(), rendered, prepared, line)
            i += 3
            continue
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            i = _read_list(tokens, i, prepared, body_line, sink(), env)
            continue
        if tok.type == "blockquote_open":
            i = _read_quote(tokens, i, prepared, body_line, sink(), env)
            continue
        if tok.type == "table_open":
            i = _read_table(tokens, i, prepared, body_line, sink(), env)
            continue
        if tok.type == "math_block":
            point = make_point(math_html(tok.content, True), prepared, line)
            if point:
                sink().append(point)
        i += 1
    settle()
    close_to(0)

    if not title:
        title = stem.replace("_", " ").replace("-", " ").strip().capitalize() or "Untitled"
    title = INVISIBLE.sub("", title).strip()
    after_lower, names = _capitalised(body)
    vocabulary = _vocabulary(body, top, after_lower)
    video_id = _text(meta.get("videoId") or meta.get("video_id")).strip() or None
    if video_id and not _VIDEO_ID.fullmatch(video_id):
        diagnostics.append(
            Diagnostic(
                Level.WARNING,
                "frontmatter.video-id",
                rel,
                2,
                f"videoId '{video_id[:40]}' is not an 11-character YouTube id; "
                "cards get no video links.",
            )
        )
        video_id = None
    subject = _text(meta.get("subject")).strip() or subject_of(title, vocabulary)
    folder = rel.rsplit("/", 1)[0] if "/" in rel else ""
    deck_meta = _text(meta.get("deck")).strip()
    parts = deck_meta.split("::") if deck_meta else folder.split("/")
    deck = tuple(name for p in parts if (name := INVISIBLE.sub("", p).strip()))
    note_key = key or identity.note_key(_text(meta.get("id")).strip() or rel.removesuffix(".md"))
    return Note(
        path=rel,
        key=note_key,
        title=title,
        subject=subject,
        video_id=video_id,
        deck=deck,
        tags=_tags(meta.get("tags")),
        aliases=tuple(INVISIBLE.sub("", _text(a)) for a in _list(meta.get("aliases"))),
        duration=_duration(meta.get("duration")),
        overview=tuple(overview),
        sections=distinct_slugs(top),
        clocks=prepared.clocks,
        diagnostics=tuple(diagnostics),
        vocabulary=vocabulary,
        names=names,
    )


def _capitalised(body: str) -> tuple[set[str], frozenset[str]]:
    """The capitalised words written after a lower-case word or a comma (where a name
    would stand), and those of them followed by a lower-case word (names)."""
    # Headings and bold labels are Title Case: a capital there says nothing of a name.
    prose = _TITLED.sub(" ", body)
    found = _NAME_PLACE.findall(prose)
    return {word for word, _ in found}, frozenset(word for word, follows in found if follows)


def _vocabulary(body: str, sections: list[Section], named: set[str]) -> frozenset[str]:
    """Words the note writes in lower case, so questions can undo a heading's Title Case.

    A capitalised heading word that the body never writes after a lower-case word (where a
    name would stand) counts as an ordinary word too: "Treatments Affecting the DMN"."""
    words = set(_WORD.findall(body))
    stack = list(sections)
    while stack:
        section = stack.pop()
        stack.extend(section.children)
        for word in section.heading.split():
            if word[:1].isupper() and word[1:].islower() and word not in named:
                words.add(word.lower())
    return frozenset(words)


def _split_frontmatter(text: str, rel: str) -> tuple[dict[str, Any], str, int]:
    m = _FRONTMATTER.match(text)
    if not m:
        return {}, text, 0
    try:
        post = frontmatter.loads(m.group(0) + "\n")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = (mark.line + 2) if mark is not None else 1
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise NoteError(
            rel,
            line,
            "frontmatter.invalid",
            f"the frontmatter is not valid YAML ({problem}); fix it or remove it.",
        ) from exc
    except Exception as exc:  # python-frontmatter wraps other parse problems
        line, problem = 1, f"the frontmatter cannot be read ({exc}); fix it or remove it."
        if isinstance(exc, ValueError) and "digits" in str(exc):
            # An integer longer than Python converts (sys.get_int_max_str_digits).
            long = re.search(r"\d{1000}", m.group(0))
            line = m.group(0).count("\n", 0, long.start()) + 1 if long else 1
            problem = "this number is thousands of digits long; quote it (as text) or remove it."
        raise NoteError(rel, line, "frontmatter.invalid", problem) from exc
    meta = post.metadata if isinstance(post.metadata, dict) else {}
    return meta, text[m.end() :], m.group(0).count("\n")


def _unwrap_fence(body: str, body_line: int) -> tuple[str, int]:
    """Generated notes sometimes wrap the whole body in a ```markdown fence: read inside it."""
    m = re.match(r"\A((?:\s*From:[^\n]*\n)?\s*)```(?:markdown|md)?[ \t]*\n", body, re.IGNORECASE)
    if not m:
        return body, body_line
    rest = body[m.end() :]
    end = rest.rfind("\n```")
    inner = rest[:end] if end >= 0 and not rest[end + 4 :].strip() else rest
    if "\n#" not in inner and "\n## " not in inner and len(inner) < 0.8 * len(body):
        return body, body_line
    return m.group(1) + inner, body_line + body[: m.end()].count("\n") - m.group(1).count("\n")


def _collapse_loops(body: str) -> tuple[str, int | None]:
    """Text a generation loop wrote over and over, kept once; and the loop's first line."""
    lines = body.split("\n")
    changed: list[int] = []  # the lines changed
    counts = Counter(map(str.strip, lines))
    looped = {s for s, n in counts.items() if n >= _LOOP_LINE_REPEATS and len(s) >= 20}
    if looped:
        kept: set[str] = set()
        for i, line in enumerate(lines):
            stripped = line.strip()
            if stripped in looped:
                if stripped in kept:
                    lines[i] = ""  # keep the line count, so later line numbers stay right
                    changed.append(i)
                else:
                    kept.add(stripped)
    for i, size in enumerate(map(len, lines)):
        # The loop pattern is costly on ordinary prose, so only lines that compress
        # unusually well (a sure sign of repetition) are searched.
        if size >= 600:
            line = lines[i]
            if len(zlib.compress(line.encode(), 1)) * 6 < size and _may_loop(line):
                collapsed = _LOOP.sub(r"\1", line)
                if len(collapsed) < size:
                    lines[i] = collapsed
                    changed.append(i)
    return ("\n".join(lines), min(changed)) if changed else (body, None)


def _may_loop(line: str) -> bool:
    """Whether _LOOP can find a loop in `line`, told without trying it at every position.

    A loop is a unit of 8 to 300 characters written ten or more times in a row. The 64
    characters from the first multiple of 8 inside it (at most 7 in) are written again a
    unit later, still inside the loop (7 + 64 <= 9 units): such a piece recurs within
    300 characters, and the pattern is tried only on lines where one does."""
    for start in range(0, len(line) - 63, 8):
        if line.find(line[start : start + 64], start + 1, start + 364) >= 0:
            return True
    return False


def _add_prose(points: list[Point], rendered: str, prepared: Prepared, line: int) -> None:
    for sentence in split_sentences(rendered):
        point = make_point(sentence, prepared, line)
        if point:
            points.append(point)


def _read_list(
    tokens: Sequence[Token],
    i: int,
    prepared: Prepared,
    body_line: int,
    points: list[Point],
    env: dict[str, Any],
) -> int:
    depth = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif tok.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
            if depth == 0:
                return i + 1
        elif tok.type == "inline" and tokens[i - 1].type == "paragraph_open":
            line = body_line + (tok.map[0] if tok.map else 0) + 1
            # A callout quoted inside a list item keeps its text, not its `[!type]` marker.
            rendered = inline_html(tok.content, env)
            if "[!" in rendered:
                rendered = _CALLOUT.sub("", rendered, count=1)
            point = make_point(
                rendered, prepared, line, item=True, depth=depth - 1, find_label=True
            )
            if point:
                points.append(point)
        i += 1
    return i


def _read_quote(
    tokens: Sequence[Token],
    i: int,
    prepared: Prepared,
    body_line: int,
    points: list[Point],
    env: dict[str, Any],
) -> int:
    depth = 0
    title: str | None = None  # a callout's title (HTML); None while the quote is a plain quote
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "blockquote_open":
            depth += 1
        elif tok.type == "blockquote_close":
            depth -= 1
            if depth == 0:
                if title:  # a callout with a title and no body: the title is the point
                    _add_callout(points, "", title, prepared, body_line + 1)
                return i + 1
        elif tok.type == "inline":
            line = body_line + (tok.map[0] if tok.map else 0) + 1
            rendered = inline_html(tok.content, env)
            m = _CALLOUT.match(rendered) if title is None else None
            if m:
                # `> [!info] Title` opens a callout: the title heads its body, not a sentence.
                first, _, rendered = rendered[m.end() :].partition("\n")
                title = first.strip()
            if title is not None:
                if rendered.strip():
                    _add_callout(points, rendered, title, prepared, line)
                    title = ""
            else:
                _add_prose(points, rendered, prepared, line)
        i += 1
    return i


def _add_callout(
    points: list[Point], rendered: str, title: str, prepared: Prepared, line: int
) -> None:
    """One paragraph of a callout as one point, boxed as a callout in the answer."""
    head = make_point(title, prepared, line) if title else None
    body = make_point(rendered, prepared, line) if rendered.strip() else None
    point = body or head
    if point is None:
        return
    shown = f'<span class="nd-callout-title">{head.html}</span> ' if head and body else ""
    clocks = (head.clocks if head and body else ()) + point.clocks
    html_ = f'<div class="nd-callout">{shown}{point.html}</div>'
    points.append(replace(point, html=html_, clocks=clocks))


def _read_table(
    tokens: Sequence[Token],
    i: int,
    prepared: Prepared,
    body_line: int,
    points: list[Point],
    env: dict[str, Any],
) -> int:
    header: list[str] = []
    row: list[str] = []
    in_head = False
    line = body_line + 1
    while i < len(tokens):
        tok = tokens[i]
        if tok.type == "table_close":
            return i + 1
        if tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            row = []
            line = body_line + (tok.map[0] if tok.map else 0) + 1
        elif tok.type == "inline":
            row.append(inline_html(tok.content, env))
        elif tok.type == "tr_close":
            if in_head:
                header = row
            elif row:
                cells = [
                    f"<strong>{header[k]}</strong>: {c}"
                    if k < len(header) and header[k].strip()
                    else c
                    for k, c in enumerate(row)
                    if c.strip()
                ]
                point = make_point("; ".join(cells), prepared, line, item=True, find_label=False)
                if point:
                    points.append(point)
        i += 1
    return i


def slugify(text: str) -> str:
    """A heading's identity within its note: lower case words joined by hyphens."""
    if not text.isascii():
        text = INVISIBLE.sub("", text)
    text = _NOT_IN_SLUG.sub("", text.casefold())
    return _SLUG_GAPS.sub("-", text).strip("-")[:80]


_NOT_IN_SLUG = re.compile(r"[^\w\s-]")


def distinct_slugs(sections: Sequence[Section]) -> tuple[Section, ...]:
    """Sibling sections, each with a slug of its own (read gives each its bare slug).

    Headings that slug alike but read differently ("C++" and "C#" are both "c") get
    their slug spelled out ("c-2b-2b", "c-23"), whatever their order: numbering them in
    order would swap their cards' identities when the sections are reordered. A heading
    that slugs alone, or says exactly what its slug says ("C" beside "C++"), keeps its
    slug; repeated headings and ids are numbered in order ("-2", "-3"), the only thing
    that tells them apart."""
    bases = Counter(s.slug for s in sections)
    spelled: dict[str, set[str]] = {}
    for s in sections:
        if bases[s.slug] > 1 and not s.explicit_id:
            spelled.setdefault(s.slug, set()).add(_spelled(s.heading))
    used: dict[str, int] = {}
    out = []
    for s in sections:
        name = s.slug
        if not s.explicit_id and len(spelled.get(name, ())) > 1:
            name = _spelled(s.heading) or name
        used[name] = n = used.get(name, 0) + 1
        if n > 1:
            name = f"{name}-{n}"
        out.append(s if name == s.slug else replace(s, slug=name))
    return tuple(out)


def _spelled(heading: str) -> str:
    """A heading's slug with every sign that slugify drops written as its code point."""
    text = INVISIBLE.sub("", heading).casefold()
    text = _NOT_IN_SLUG.sub(lambda m: f"-{ord(m.group()):x}-", text)
    return _SLUG_GAPS.sub("-", text).strip("-")


_SLUG_GAPS = re.compile(r"[\s_-]+")


def _same(a: str, b: str) -> bool:
    return slugify(a) == slugify(b)


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value) if isinstance(value, (str, int, float)) else ""


def _list(value: object) -> list[object]:
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [v for v in re.split(r"[,\s]+", value) if v]
    return []


def _tags(value: object) -> tuple[str, ...]:
    tags = []
    for raw in _list(value):
        tag = re.sub(r"\s+", "_", INVISIBLE.sub("", _text(raw)).strip().lstrip("#"))
        if tag:
            tags.append(tag)
    return tuple(dict.fromkeys(tags))


def _duration(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}(:\d{1,2}){1,2}", value.strip()):
        total = 0
        for part in value.strip().split(":"):
            total = total * 60 + int(part)
        return total or None
    return None
