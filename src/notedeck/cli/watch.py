"""Rebuild the decks whenever a note, a template or the settings change."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from notedeck.cli.report import echo_changes, plural, problem_counts, shown_diagnostic, shown_path
from notedeck.config import Config
from notedeck.errors import NotedeckError

Echo = Callable[..., None]


def watch_notes(
    config: Config,
    reload: Callable[[], Config],
    echo: Echo,
    *,
    debounce_ms: int = 300,
    max_rebuilds: int | None = None,
    stop: threading.Event | None = None,
    on_idle: Callable[[], None] | None = None,
) -> int:
    """Build once, then rebuild after every batch of saves until Ctrl-C (or `stop`).

    `max_rebuilds` ends the watch after that many rebuilds (the tests use it); `on_idle`
    is called whenever the watcher is live and waiting for changes.
    """
    import watchfiles

    roots = watched_paths(config)
    echo(f"Watching {', '.join(shown_path(r) for r in roots)} (Ctrl-C to stop).")
    rebuild(config, echo)
    if max_rebuilds == 0:
        return 0

    def relevant(change: watchfiles.Change, path: str) -> bool:
        return is_input(config, Path(path))

    rebuilds = 0
    batches: Iterable[set[tuple[watchfiles.Change, str]]] = watchfiles.watch(
        *roots,
        watch_filter=relevant,
        debounce=debounce_ms,
        step=50,
        stop_event=stop,
        yield_on_timeout=True,
        rust_timeout=500,
        raise_interrupt=False,
    )
    for changes in batches:
        if not changes:
            if on_idle is not None:
                on_idle()
            continue
        for path in sorted({p for _, p in changes}):
            echo(f"Changed: {shown_path(path)}")
        if config.source is not None and any(Path(p) == config.source for _, p in changes):
            try:
                config = reload()
                echo("Reloaded the settings.")
            except NotedeckError as exc:
                echo(f"notedeck: {exc} (keeping the previous settings)", err=True)
        rebuild(config, echo)
        rebuilds += 1
        if max_rebuilds is not None and rebuilds >= max_rebuilds:
            break
    return 0


def watched_paths(config: Config) -> list[Path]:
    """The notes folder, the templates folder and the settings file, without overlaps."""
    candidates = [config.notes_dir, config.templates_dir, config.questions_file, config.source]
    roots: list[Path] = []
    for path in candidates:
        if path is None or not path.exists():
            continue
        if any(path.is_relative_to(r) for r in roots if r.is_dir()):
            continue
        roots.append(path)
    return roots


def is_input(config: Config, path: Path) -> bool:
    """Whether a change to `path` can change the decks (not the decks themselves)."""
    if path == config.source or path == config.questions_file:
        return True
    if config.templates_dir is not None and path.is_relative_to(config.templates_dir):
        return not path.name.startswith(".")
    if path.is_relative_to(config.out_dir):
        return False
    parts = (
        path.relative_to(config.notes_dir).parts if path.is_relative_to(config.notes_dir) else ()
    )
    return path.suffix == ".md" and bool(parts) and not any(p.startswith(".") for p in parts)


def rebuild(config: Config, echo: Echo) -> bool:
    """One build; a broken note, template or bug is reported and the watch goes on."""
    from notedeck.build import build

    started = time.perf_counter()
    try:
        report = build(config, collect=False)
    except NotedeckError as exc:
        echo(f"notedeck: {exc}", err=True)
        echo("Build failed; fix the file above and save again.", err=True)
        return False
    except Exception as exc:  # the watch must outlive any one bad save
        echo(f"notedeck: unexpected {type(exc).__name__}: {exc}", err=True)
        echo(
            "Build failed; still watching (run `notedeck build --debug` for a traceback).", err=True
        )
        return False
    diagnostics = [shown_diagnostic(d, config.notes_dir) for d in report.diagnostics]
    for d in diagnostics:
        echo(d.format(), err=True)
    seconds = time.perf_counter() - started
    decks = ", ".join(f"{d.name} ({d.cards})" for d in report.decks) or "no decks"
    echo(
        f"Built {plural(report.card_count, 'card')} from {plural(report.notes, 'note')} "
        f"in {seconds:.1f}s: {decks}; {problem_counts(diagnostics)}."
    )
    echo_changes(report, echo)
    return True
