"""The removal log: every card that left the notes, kept beside the lock, so that whoever
builds or imports next (a teammate after a pull, CI) learns what to delete in Anki.

`notedeck.removed` holds one JSON object a line (key, note path, GUID, when it was
removed), sorted by key: two people who removed different cards add lines at different
places, and git's union merge (or both sides of a conflict, which this reader takes as
they are) gives a log that reads the same. The build that sees cards leave appends them;
a card whose GUID the notes give again (a note restored) leaves the log.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from notedeck.anki.files import Staged, stage
from notedeck.errors import NotedeckError
from notedeck.incremental.lock import LockedCard, LockFile, load_lock, removal_search, stage_backup
from notedeck.model import Diagnostic, Level

# A git conflict's marker lines: the lines between them are kept, from both sides.
_MARKER = re.compile(rb"^(<{7}|={7}|>{7}|\|{7})(?: |$)")
_FIELDS = ("key", "path", "guid", "removed_at")
_LATEST = 2**53  # any time written by a build fits; larger is not a time


@dataclass(frozen=True, slots=True, order=True)
class Removal:
    """One card that left the notes: its key, note and GUID, and the build time it left."""

    key: str
    path: str
    guid: str
    removed_at: int


@dataclass(frozen=True, slots=True)
class RemovalLog:
    """The log as read: its removals (one per GUID, the latest), the problems of its
    lines, and whether its bytes are those `log_bytes` would write for them."""

    removals: tuple[Removal, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()
    exact: bool = True
    exists: bool = False
    readable: bool = True


def log_path(lock_file: Path) -> Path:
    """The log beside the lock: `notedeck.lock` -> `notedeck.removed`."""
    name = lock_file.name
    stem = name[: -len(".lock")] if name.endswith(".lock") and name != ".lock" else name
    return lock_file.with_name(stem + ".removed")


def read_log(path: Path) -> RemovalLog:
    """The log at `path`; a missing one is empty. A line that is no removal is reported
    (path:line) and skipped; the lines of both sides of a git conflict are read."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return RemovalLog()
    except OSError as exc:
        problem = Diagnostic(
            Level.WARNING,
            "removed.unreadable",
            str(path),
            1,
            f"cannot read the removal log ({exc.strerror or exc}); it is left as it is, and "
            "cards that leave the notes are not logged until it can be read.",
        )
        return RemovalLog(diagnostics=(problem,), exact=False, exists=True, readable=False)
    return parse_log(data, path)


def parse_log(data: bytes, path: Path) -> RemovalLog:
    """The log from its bytes (see read_log)."""
    found: list[Removal] = []
    problems: list[Diagnostic] = []
    for number, line in enumerate(data.splitlines(), 1):
        if not line.strip() or _MARKER.match(line):
            continue
        removal = _removal(line)
        if removal is None:
            problems.append(_problem(path, number, "this line is not a removal notedeck wrote"))
        else:
            found.append(removal)
    removals = latest(found)
    exact = not problems and log_bytes(removals) == data
    return RemovalLog(removals, tuple(problems), exact, exists=True)


def _removal(line: bytes) -> Removal | None:
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or set(entry) != set(_FIELDS):
        return None
    key, path, guid, when = (entry[f] for f in _FIELDS)
    if not all(isinstance(v, str) and v for v in (key, path, guid)):
        return None
    if type(when) is not int or not 0 <= when < _LATEST:
        return None
    return Removal(key, path, guid, when)


def _problem(path: Path, line: int, what: str) -> Diagnostic:
    return Diagnostic(
        Level.WARNING,
        "removed.corrupt",
        str(path),
        line,
        f"{what}; it is left out, and the next build writes the log without it, keeping "
        f"the file as it was in {path.name}.bak. Restore the log from version control if "
        "you can.",
    )


def _not_own(path: Path) -> Diagnostic:
    return Diagnostic(
        Level.WARNING,
        "removed.not-own",
        str(path),
        1,
        "this file is not a removal log notedeck wrote, so it is left as it is, and cards "
        "that leave the notes are not logged; set `lock` to a file whose name ends in "
        "'.lock' beside no such file.",
    )


def latest(removals: Iterable[Removal]) -> tuple[Removal, ...]:
    """One removal per GUID (the latest: both sides of a merge may have removed a card),
    sorted by key: the order of the lines read never matters."""
    by_guid: dict[str, Removal] = {}
    for r in removals:
        prior = by_guid.get(r.guid)
        if prior is None or (r.removed_at, r) > (prior.removed_at, prior):
            by_guid[r.guid] = r
    return tuple(sorted(by_guid.values()))


def log_bytes(removals: Sequence[Removal]) -> bytes:
    """The log's text: one JSON object a line, in the order given (sorted by `latest`)."""
    return "".join(
        json.dumps(
            {"key": r.key, "path": r.path, "guid": r.guid, "removed_at": r.removed_at},
            ensure_ascii=False,
        )
        + "\n"
        for r in removals
    ).encode()


@dataclass(frozen=True, slots=True)
class StagedLog:
    """The files a build writes for the log (the log, and a backup of a broken one), and
    the problems of the log it read."""

    staged: list[Staged]
    diagnostics: tuple[Diagnostic, ...]


def stage_log(path: Path, removed: Sequence[LockedCard], given: Set[str], now: int) -> StagedLog:
    """The log with this build's removals added (at `now`) and the cards it gives again
    (their GUID in `given`) taken out, written beside its place; nothing when it would
    not change. A log with lines that could not be read is kept as a backup first."""
    log = read_log(path)
    if not log.readable:  # never replace what could not be read
        return StagedLog([], log.diagnostics)
    if log.diagnostics and not log.removals and path.name != "notedeck.removed":
        # Nothing in it reads as a removal: a file of the user's that a `lock =` setting
        # put beside the log's name. Never written over.
        return StagedLog([], (_not_own(path),))
    kept = [r for r in log.removals if r.guid not in given]
    removals = latest([*kept, *(Removal(c.key, c.path, c.guid, now) for c in removed)])
    if log.exact and removals == log.removals:
        return StagedLog([], log.diagnostics)
    staged = []
    if log.diagnostics:
        backup = stage_backup(path)
        if backup is not None:
            staged.append(backup)
    try:
        staged.append(stage(path, log_bytes(removals)))
    except BaseException:
        for file in staged:
            file.discard()
        raise
    return StagedLog(staged, log.diagnostics)


def since_removals(log: RemovalLog, before: RemovalLog | None, after: int | None) -> list[Removal]:
    """The removals not in `before` (the log at an earlier commit) and at or after `after`
    (seconds since the epoch)."""
    seen = {(r.guid, r.removed_at) for r in before.removals} if before else set()
    return [
        r
        for r in log.removals
        if (r.guid, r.removed_at) not in seen and (after is None or r.removed_at >= after)
    ]


def live_cards(lock: LockFile) -> tuple[set[str], set[str], list[Diagnostic]]:
    """Every GUID and key the lock gives a card. A card the notes give again is not
    removed, and neither is one whose key a card has again: the search selects notes by
    their Key field, and would select that card too."""
    guids: set[str] = set(lock.guids.values())
    keys: set[str] = set()
    diagnostics: list[Diagnostic] = []
    for path in sorted(lock.spans):
        cards, problem = lock.cards_of(path)
        if problem is not None:
            diagnostics.append(problem)
        guids.update(c.guid for c in cards)
        keys.update(c.key for c in cards)
    return guids, keys, diagnostics


# The names of notedeck's notetypes (package.notetype), for a lock that lists none.
_NOTETYPES = ("notedeck Q&A", "notedeck Cloze")


class _Name(NamedTuple):
    name: str


class RemovalError(NotedeckError):
    """The removals cannot be told: `--since` is neither a time nor a git revision of the
    log's repository, or there is no lock (or a broken one) to tell which cards are live."""


@dataclass(frozen=True, slots=True)
class Pending:
    """The cards that left the notes (since a revision or time) and that no card of the
    lock has again, with the Anki search that selects exactly their notes."""

    removals: tuple[Removal, ...]
    search: str
    since: str | None
    log: Path
    diagnostics: tuple[Diagnostic, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "count": len(self.removals),
            "removed": [
                {"key": r.key, "path": r.path, "guid": r.guid, "removed_at": r.removed_at}
                for r in self.removals
            ],
            "search": self.search,
            "since": self.since,
        }


def pending_removals(lock_file: Path, since: str | None = None) -> Pending:
    """What the removal log beside `lock_file` lists (since `since`: a git revision, or a
    time as seconds since the epoch or an ISO date), less every card the lock gives again.
    RemovalError for a `since` that is neither; LockConflict for a lock that cannot be read."""
    path = log_path(lock_file)
    log = read_log(path)
    before, after = _since(since, path)
    candidates = since_removals(log, before, after)
    diagnostics = list(log.diagnostics)
    removals: list[Removal] = []
    names: Sequence[Any] = [_Name(n) for n in _NOTETYPES]
    if candidates:
        lock, lock_diagnostics = load_lock(lock_file)
        with lock:
            guids, keys, broken = live_cards(lock)
            if lock.notetypes:
                names = sorted(lock.notetypes, key=lambda n: n.id)
        # Without the whole lock, a listed card could be one the notes still give.
        unsure = [d for d in [*lock_diagnostics, *broken] if d.level is not Level.INFO]
        if unsure or not lock_file.is_file():
            where = f"{unsure[0].path}:{unsure[0].line}" if unsure else str(lock_file)
            raise RemovalError(
                f"{where}: the lock is missing or broken, so it cannot tell which of the "
                f"{len(candidates)} logged cards the notes still give; run `notedeck build` "
                "(it writes the lock anew), then this command again."
            )
        diagnostics += lock_diagnostics
        removals = [r for r in candidates if r.guid not in guids and r.key not in keys]
    return Pending(
        tuple(removals), removal_search(removals, names), since, path, tuple(diagnostics)
    )


def _since(since: str | None, path: Path) -> tuple[RemovalLog | None, int | None]:
    """The log at the revision `since`, or the time it names (one of the two)."""
    if since is None:
        return None, None
    text = since.strip()
    if text.isdigit():
        return None, int(text)
    try:
        return None, int(datetime.fromisoformat(text).timestamp())
    except (ValueError, OverflowError, OSError):
        pass
    return _log_at(text, path), None


def _log_at(rev: str, path: Path) -> RemovalLog:
    """The log as the commit `rev` of its git repository holds it (empty if it had none)."""
    problem = RemovalError(
        f"--since {rev}: neither a time (seconds since the epoch, or an ISO date like "
        f"2025-06-01T12:00) nor a revision of a git repository holding {path.parent}."
    )
    git = shutil.which("git")
    if git is None or not rev or rev.startswith("-"):
        raise problem
    folder = path.parent if path.parent.is_dir() else Path.cwd()
    found = subprocess.run(
        [git, "-C", str(folder), "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
        capture_output=True,
        check=False,
    )
    if found.returncode != 0:
        raise problem
    commit = found.stdout.decode().strip()
    shown = subprocess.run(
        [git, "-C", str(folder), "show", f"{commit}:./{path.name}"],
        capture_output=True,
        check=False,
    )
    return parse_log(shown.stdout, path) if shown.returncode == 0 else RemovalLog()
