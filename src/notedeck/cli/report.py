"""How every command words what it tells the user: paths from here, counts, changes."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from notedeck.model import Diagnostic, Level

if TYPE_CHECKING:
    from notedeck.build import BuildReport
    from notedeck.incremental.removals import Pending

Echo = Callable[[str], None]

# A dry run names at most this many added (and changed) cards; --json lists them all.
_NAMED = 50


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 error`, `2 errors`; `many` for a word whose plural is not word + s."""
    return f"{n} {word}" if n == 1 else f"{n} {many or word + 's'}"


def shown_path(path: Path | str, notes_dir: Path | None = None) -> str:
    """A path as the user would type it here: relative to the current folder when it lies
    inside it, so that an editor's terminal can open `path:line` on a click. A relative
    path is taken as relative to the notes folder (where notes' diagnostics point)."""
    full = Path(path)
    if not full.is_absolute():
        full = (notes_dir or Path.cwd()) / full
    try:
        return full.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return full.as_posix()


def shown_diagnostic(d: Diagnostic, notes_dir: Path) -> Diagnostic:
    """The diagnostic with its path as shown_path gives it."""
    return replace(d, path=shown_path(d.path, notes_dir))


def problem_counts(diagnostics: Sequence[Diagnostic]) -> str:
    """`1 error, 2 warnings`."""
    errors = sum(1 for d in diagnostics if d.level is Level.ERROR)
    warnings = sum(1 for d in diagnostics if d.level is Level.WARNING)
    return f"{plural(errors, 'error')}, {plural(warnings, 'warning')}"


def echo_changes(report: BuildReport, echo: Echo, *, dry_run: bool = False) -> None:
    """What changed since the last build: the counts, then every card by name."""
    counts = (
        f"{len(report.added)} added, {len(report.changed)} changed, "
        f"{len(report.renamed)} renamed, {len(report.removed)} removed"
    )
    echo(f"Since the last build: {counts}.")
    if dry_run:
        # A dry run is asked for to see what a build would do: name the cards it would
        # add and change too (a first build adds every card: those only up to a point).
        for verb, cards in (("added", report.added), ("changed", report.changed)):
            for card in cards[:_NAMED]:
                echo(f"  {verb} {card.key}")
            if len(cards) > _NAMED:
                echo(f"  ... and {len(cards) - _NAMED} more {verb} (all of them with --json)")
    for old, card in report.renamed:
        echo(f"  renamed {old} -> {card.key}")
    if report.removed:
        left = [(r["key"], r["path"]) for r in report.removed]
        _echo_deletion(left, str(report.extra.get("removed_search", "")), echo)


def _echo_deletion(
    cards: Sequence[tuple[str, str]], search: str, echo: Echo, when: str = ""
) -> None:
    """The cards (key, note) that left the notes, and the search that deletes them in Anki."""
    echo(
        f"{plural(len(cards), 'card')} left your notes{when}; "
        "Anki keeps them until you delete them:"
    )
    for key, path in cards:
        echo(f"  - {key} ({path})")
    echo(
        "To delete them: in Anki open Browse, paste this search, select all "
        "(Ctrl+A / Cmd+A), then Notes > Delete:"
    )
    echo(f"  {search}")


def echo_removed(pending: Pending, echo: Echo) -> None:
    """What `notedeck removed` says: the cards the log lists, and the search."""
    when = f" since {pending.since}" if pending.since else ""
    if not pending.removals:
        echo(f"No card left your notes{when} ({shown_path(pending.log)}).")
        return
    cards = [(r.key, r.path) for r in pending.removals]
    _echo_deletion(cards, pending.search, echo, when)


def echo_packages(report: BuildReport, echo: Echo, *, dry_run: bool = False) -> None:
    """One line per package, saying whether it was written, then how many of each."""
    written = [d for d in report.decks if d.written]
    for deck in report.decks:
        verb = ("Would write" if dry_run else "Wrote") if deck.written else "Unchanged:"
        cards = plural(deck.cards, "card")
        echo(f"{verb} {shown_path(deck.path)} ({cards}, deck '{deck.name}').")
    if report.decks:
        done = "would be written" if dry_run else "written"
        unchanged = len(report.decks) - len(written)
        echo(f"Packages: {len(written)} {done}, {unchanged} unchanged.")
