"""A lock git merged or someone broke, read line by line: both sides of a merge kept,
the newer version of each card winning, and what cannot be read said where it is.

notedeck writes one thing per line (a card, a note's first line, a renamed card's GUID,
a notetype), so a line says what it is without its neighbours: a union merge
(`merge=union`, `git merge-file --union`), a conflict left with its markers, or a lock
merged by hand reads back whole. Only a line inside a conflict that is none of those
stops the build: guessing there could give a card the other side's identity."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from notedeck.errors import LockConflict
from notedeck.incremental.lock_source import CHUNK, LockSource
from notedeck.model import Diagnostic, Level

# A mod Anki can hold (SQLite's integers are 64-bit); anything larger is a broken line.
MAX_MOD = 2**53
_MARKERS = (b"<<<<<<<", b"|||||||", b"=======", b">>>>>>>")
_STRUCTURE = {
    "",
    "{",
    "}",
    "[",
    "]",
    '"notetypes": [',
    '"notetypes": []',
    '"guids": {',
    '"guids": {}',
    '"retired": {',
    '"retired": {}',
    '"notes": {',
    '"notes": {}',
}
_VERSION = re.compile(r'"notedeck_lock": (\d{1,3})')
# Signs of a merge or damage in a lock that otherwise reads as notedeck wrote it: conflict
# markers, two card lines without the comma a union merge drops between them, a mod too
# large for Anki.
_SIGNS = (b"\n<<<<<<<", b"\n>>>>>>>", b"\n=======\n", b"\n|||||||", b"]\n      [")
_HUGE_MOD = re.compile(rb'", -?[0-9]{16}')


def damage_at(source: LockSource, start: int) -> int:
    """The offset of the first sign of a merge or damage after `start`, or -1; read
    CHUNK bytes at a time."""
    overlap = 24  # longer than any sign
    at = start
    while at < source.size:
        chunk = source.read(at, at + CHUNK + overlap)
        hits = [i for i in (chunk.find(sign) for sign in _SIGNS) if i >= 0]
        huge = _HUGE_MOD.search(chunk)
        if huge:
            hits.append(huge.start())
        if hits:
            return at + min(hits)
        at += CHUNK
    return -1


Row = tuple[str, str, int, str, str]  # key (whole), hash, mod, type, sketch


@dataclass
class Recovered:
    """What a lock's lines held, every duplicate resolved."""

    version: int | None = None
    notetypes: dict[int, dict[str, Any]] = field(default_factory=dict)
    guids: dict[str, str] = field(default_factory=dict)
    retired: dict[str, str] = field(default_factory=dict)
    rows: dict[str, dict[str, Row]] = field(default_factory=lambda: defaultdict(dict))
    diagnostics: list[Diagnostic] = field(default_factory=list)
    damaged: bool = False  # some line was dropped: keep a backup of the file as it was
    twice: bool = False  # a card or a note came twice (both sides of a merge)

    @property
    def empty(self) -> bool:
        return not self.rows and not self.guids and not self.notetypes


def recover(
    data: bytes,
    where: str,
    full_key: Callable[[str, str], str],
    from_hex: Callable[[object], object],
) -> Recovered:
    """Every line of the lock that reads as one; LockConflict when a line inside a
    conflict does not. `full_key(written, path)` gives a card's whole key from its line
    (format 3), `from_hex` a sketch of format 2 in base 64."""
    out = Recovered()
    side: str | None = None  # in a conflict: "ours", "base" (diff3) or "theirs"
    merged_at = 0
    path: str | None = None
    names: dict[str, set[str]] = defaultdict(set)
    retired: dict[str, set[str]] = defaultdict(set)
    bad: list[int] = []
    lines = data.split(b"\n")
    versions = [
        int(m.group(1))
        for m in _VERSION.finditer(b"\n".join(lines[:10]).decode("utf-8", "replace"))
    ]
    out.version = versions[0] if versions else None
    fmt = out.version or 3
    section = ""
    for number, raw in enumerate(lines, 1):
        marker = next((m for m in _MARKERS if raw.startswith(m)), None)
        if marker is not None and (marker == b"<<<<<<<" or side is not None):
            merged_at = merged_at or number
            side = {b"<<<<<<<": "ours", b"|||||||": "base", b"=======": "theirs"}.get(marker)
            continue
        if side == "base":  # the common ancestor's lines: each side says what became of them
            continue
        try:
            text = raw.decode("utf-8")
            bare = text.strip()
            if bare.startswith('"') and bare.endswith(("{", "[")):
                section = bare.split('"')[1]
            guid_target = retired if section == "retired" else names
            kind = _read_line(text, out, fmt, path, guid_target, full_key, from_hex)
        except (ValueError, TypeError, KeyError, RecursionError):
            kind = None
        if kind is None:
            if side is not None:
                raise LockConflict(
                    where,
                    number,
                    "a git merge conflict in the lock cannot be resolved here (this line is "
                    "not one notedeck wrote). Resolve it: take one side (`git checkout --ours "
                    "notedeck.lock` or `--theirs`) and build again, or set up the lock's merge "
                    "as README says (Teams: the lock on git). The lock was left as it is.",
                )
            bad.append(number)
        elif kind.startswith("path:"):
            path = kind[5:]
            if path in out.rows and not merged_at:
                merged_at = number  # the note's lines come a second time
    if out.twice and not merged_at:
        merged_at = 1
    if merged_at:
        out.diagnostics.append(
            Diagnostic(
                Level.INFO,
                "lock.merged",
                where,
                merged_at,
                "the lock holds both sides of a git merge: both were read (each card's "
                "newer version kept) and the lock is written resolved. Commit it "
                "(`git add` it to finish the merge).",
            )
        )
    for key, guids in names.items():
        first, *others = sorted(guids)
        out.guids[key] = first
        for other in others:  # two sides renamed different cards into one: keep both
            retired[key].add(other)
    for key, guids in retired.items():
        if key not in out.guids:
            out.retired[key] = min(guids)
    if bad:
        out.damaged = True
        out.diagnostics.append(
            Diagnostic(
                Level.WARNING,
                "lock.corrupt",
                where,
                bad[0],
                f"the lock file is broken ({len(bad)} line(s) from here on are not what "
                "notedeck writes; the others were read); it is written anew, with a copy of "
                f"it as it was in {where}.bak. Restore it from version control if you can: "
                "cards renamed in earlier builds whose lines were lost lose their old "
                "identity (Anki adds them as new cards).",
            )
        )
    return out


def _read_line(
    text: str,
    out: Recovered,
    fmt: int,
    path: str | None,
    names: dict[str, set[str]],
    full_key: Callable[[str, str], str],
    from_hex: Callable[[object], object],
) -> str | None:
    """What one line is ("card", "path:<note>", ...), its content added to `out`; None
    when it is not a line notedeck writes."""
    bare = text.strip()
    bare = bare[:-1] if bare.endswith(",") else bare
    if bare in _STRUCTURE or bare in ("],", "},"):
        return "structure"
    if _VERSION.fullmatch(bare):
        return "version"
    if text.startswith("      [") and path is not None:
        row = json.loads(bare)
        if not isinstance(row, list) or len(row) != 5:
            return None
        key, digest, mod, kind, sketch = row
        if fmt != 3:
            sketch = from_hex(sketch)
        else:
            key = full_key(key, path) if isinstance(key, str) else key
        if not (
            all(isinstance(v, str) for v in (key, digest, kind, sketch))
            and isinstance(mod, int)
            and 0 <= mod < MAX_MOD
            and kind in ("qa", "cloze")
        ):
            return None
        prior = out.rows[path].get(key)
        new = (key, digest, mod, kind, sketch)
        out.twice = out.twice or (prior is not None and prior != new)
        if prior is None or (mod, *new) > (prior[2], *prior):
            out.rows[path][key] = new
        return "card"
    if text.startswith('    "') and bare.endswith(": ["):
        note = json.loads(bare[:-3])
        return f"path:{note}" if isinstance(note, str) and note else None
    if text.startswith('    "') and bare.endswith('"') and '": "' in bare:
        ((key, guid),) = json.loads("{" + bare + "}").items()
        if not isinstance(guid, str) or not guid:
            return None
        names[key].add(guid)  # under "guids" or "retired", as the caller says
        return "guid"
    if text.startswith("    {"):
        raw = json.loads(bare)
        fields = {"id": int, "mod": int, "name": str, "schema": str, "templates": str}
        if not isinstance(raw, dict) or set(raw) != set(fields):
            return None
        if not all(type(raw[k]) is t for k, t in fields.items()) or not 0 <= raw["mod"] < MAX_MOD:
            return None
        same = out.notetypes.get(raw["id"])
        if same is None or (raw["mod"], json.dumps(raw)) > (same["mod"], json.dumps(same)):
            out.notetypes[raw["id"]] = raw
        return "notetype"
    return None
