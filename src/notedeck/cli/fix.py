"""Rewrite garbled timestamps in notes as the H:MM:SS they were read as, and nothing else."""

from __future__ import annotations

import difflib
import os
import re
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from notedeck.anki.files import stage
from notedeck.build import discover, read_notes, resolve_moments
from notedeck.config import Config
from notedeck.model import Moment, Note
from notedeck.reading.timestamps import repairs, written_as

# Where a note writes a moment: a timestamp anchor (its data-t value and its shown text)
# or a bracketed time. Only values inside these are rewritten: the same digits in prose
# are not a timestamp.
_PLACES = re.compile(
    r"<\s*a\b[^<>\n]*?(?:yt|data-t)[^<>\n]*>?(?:[^<>\n]{0,40}</a>)?"
    r"|\[\s*[0-9:]+(?:\s*[,;]\s*[0-9:]+)*\s*\]",
    re.IGNORECASE,
)
_VALUE = re.compile(r"(?<![0-9:])[0-9]{1,6}(?::[0-9]{1,6}){2,3}(?![0-9:])")


@dataclass(frozen=True, slots=True)
class NoteFix:
    """One note's text before and after its garbled timestamps are written out."""

    path: Path
    rel: str
    before: str
    after: str
    values: int  # timestamps rewritten (a note may write one several times)

    def diff(self, shown: str) -> str:
        """A unified diff, as `git diff` shows it, of the note before and after."""
        lines = difflib.unified_diff(
            _lines(self.before), _lines(self.after), f"a/{shown}", f"b/{shown}"
        )
        return "".join(
            line if line.endswith("\n") else f"{line}\n\\ No newline at end of file\n"
            for line in lines
        )


def _lines(text: str) -> list[str]:
    """The lines as git counts them: only "\n" ends one (str.splitlines would also cut at
    form feeds and Unicode line separators)."""
    return re.findall(r"[^\n]*\n|[^\n]+$", text)


def timestamp_fixes(config: Config, only: Collection[str] | None = None) -> list[NoteFix]:
    """The fix of every note (or of the notes `only` names, relative to the notes folder)
    whose timestamps were read as other moments than they say. The other notes of the
    same video are read as the evidence the build uses."""
    root = config.notes_dir
    paths = discover(root)
    wanted = [p for p in paths if only is None or p.relative_to(root).as_posix() in only]
    notes, _problems = read_notes(wanted, root)
    videos = {n.video_id.encode() for n in notes if n.video_id}
    if not videos:
        return []
    # Siblings are the notes of the same videos: only a file that names the video can be one.
    chosen = set(wanted)
    siblings = [p for p in paths if p not in chosen and _names_any(p, videos)]
    others, _problems = read_notes(siblings, root)
    moments, _found = resolve_moments([*notes, *others], config)
    fixes = []
    for note in notes:
        fix = _fix_note(root / note.path, note, moments.get(note.key, ()))
        if fix is not None:
            fixes.append(fix)
    return fixes


def _names_any(path: Path, videos: Collection[bytes]) -> bool:
    try:
        data = path.read_bytes()
    except OSError:
        return False
    return any(video in data for video in videos)


def _fix_note(path: Path, note: Note, moments: Sequence[Moment | None]) -> NoteFix | None:
    found = repairs(note.clocks, moments)
    if not found:
        return None
    keys = {(clock.line, clock.fields) for clock, _moment in found}
    count = sum(1 for clock in note.clocks if (clock.line, clock.fields) in keys)
    by_line: dict[int, dict[tuple[int, ...], str]] = defaultdict(dict)
    for clock, moment in found:
        assert clock.fields is not None
        by_line[clock.line][clock.fields] = written_as(clock, moment)
    before = path.read_bytes().decode("utf-8")
    lines = before.split("\n")  # only "\n" ends a line for the reader: "\r" stays put
    for number, values in by_line.items():
        if 1 <= number <= len(lines):
            lines[number - 1] = _rewrite_line(lines[number - 1], values)
    after = "\n".join(lines)
    if after == before:
        return None
    return NoteFix(path, note.path, before, after, count)


def _rewrite_line(line: str, values: dict[tuple[int, ...], str]) -> str:
    """The line with each value of `values` rewritten where it stands as a timestamp."""

    def value(m: re.Match[str]) -> str:
        return values.get(tuple(int(f) for f in m.group(0).split(":")), m.group(0))

    def place(m: re.Match[str]) -> str:
        return _VALUE.sub(value, m.group(0))

    return _PLACES.sub(place, line)


def apply_fixes(fixes: Sequence[NoteFix]) -> None:
    """Write each fixed note whole beside itself, then move it in (keeping its mode): a
    reader sees the old note or the new one, never half of one."""
    for fix in fixes:
        mode = fix.path.stat().st_mode
        staged = stage(fix.path, fix.after.encode("utf-8"))
        try:
            os.chmod(staged.temp, mode & 0o7777)
            staged.commit()
        finally:
            staged.discard()
