"""The command line: the only place that prints and picks exit codes."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from notedeck import __version__
from notedeck.cli.controls import json_escaped, printable

# Everything heavy (the pipeline, rich, watchfiles) is imported inside the commands, so
# `notedeck --help` and a one-note rebuild start fast.
if TYPE_CHECKING:
    from notedeck.build import BuildReport
    from notedeck.config import Config
    from notedeck.model import Diagnostic

EXIT_OK, EXIT_NOTE_ERRORS, EXIT_USAGE, EXIT_BUILD_AGAIN = 0, 1, 2, 3
F = TypeVar("F", bound=Callable[..., Any])


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="notedeck")
def main() -> None:
    """Turn a folder of Markdown notes into Anki decks that update in place.

    Settings come from [tool.notedeck] in pyproject.toml or from notedeck.toml (in the
    current folder or above); flags override them.

    \b
    Exit codes:
      0  fine
      1  a note has errors (or warnings, with --strict)
      2  the command line, the configuration or a template is broken
      3  the lock file changed while the build read it: nothing was written, build again

    \b
    Examples:
      notedeck build                 # notes/ -> decks/*.apkg
      notedeck build vault --out out --json
      notedeck check                 # validate only; for pre-commit and CI
      notedeck cards notes/topic/a_note.md
      notedeck preview && open preview/index.html
      notedeck watch                 # rebuild on every save
      notedeck removed --since ORIG_HEAD   # after a pull: what to delete in Anki
    """


def config_option(func: F) -> F:
    return click.option(
        "--config",
        "config_file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Read settings from this file instead of the nearest notedeck.toml/pyproject.toml.",
    )(func)


def load_settings(
    notes: Path | None = None,
    out: Path | None = None,
    *,
    config_file: Path | None = None,
    require_notes: bool = True,
    **flags: Any,
) -> Config:
    """The configuration with the command's flags on top; exit 2 if it is invalid."""
    from notedeck.config import load_config
    from notedeck.errors import ConfigError

    overrides: dict[str, Any] = {"notes_dir": notes, "out_dir": out, **flags}
    try:
        config = load_config(Path.cwd(), overrides, file=config_file)
    except ConfigError as exc:
        fail_usage(str(exc))
    if require_notes and not config.notes_dir.is_dir():
        fail_usage(
            f"{config.notes_dir}: no such folder; pass the folder of your notes "
            "(default: notes/, or `notes` in the configuration)."
        )
    if require_notes and config.notes_dir.parent == config.notes_dir:
        fail_usage(
            f"{config.notes_dir}: this is the root of the file system, not a notes folder; "
            "pass the folder of your notes."
        )
    if config.out_dir.exists() and not config.out_dir.is_dir():
        fail_usage(f"{config.out_dir}: not a folder; --out takes the folder for the .apkg files.")
    if config.lock_file.is_dir():
        fail_usage(
            f"{config.lock_file}: a folder where the lock file goes; remove it or pass --lock FILE."
        )
    return config


def echo(message: str = "", *, err: bool = False) -> None:
    """Print one line. Notes, file names and messages may hold terminal escapes (window
    titles, clipboard writes, hyperlinks): every control character is shown, never sent."""
    click.echo(printable(message), err=err)


def fail_usage(message: str) -> NoReturn:
    echo(f"notedeck: {message}", err=True)
    sys.exit(EXIT_USAGE)


def run_build(
    config: Config,
    *,
    dry_run: bool,
    debug: bool = False,
    progress: bool = False,
    collect: bool = False,
) -> BuildReport:
    """Run the pipeline; a broken template or configuration exits 2, a lock file that
    changed under the build 3 (nothing written: the same command again is the fix)."""
    from notedeck.build import build
    from notedeck.errors import ConfigError, LockChanged, NotedeckError, TemplateError

    try:
        with _progress(enabled=progress) as on_progress:
            return build(
                config,
                dry_run=dry_run,
                collect=collect,
                on_progress=on_progress,
                on_wait=_say_waiting,
            )
    except (ConfigError, TemplateError) as exc:
        fail_usage(str(exc))
    except LockChanged as exc:
        if debug:
            raise
        click.echo(f"notedeck: {exc}", err=True)
        sys.exit(EXIT_BUILD_AGAIN)
    except NotedeckError as exc:
        if debug:
            raise
        fail_usage(str(exc))
    except OSError as exc:  # a disk full, a folder where a package goes, no permission
        if debug:
            raise
        fail_usage(
            f"{exc.filename2 or exc.filename or 'a file'}: {exc.strerror or exc}; the build "
            "stopped and the lock file is as it was: fix this and build again (--debug "
            "shows where it happened)."
        )


def _say_waiting(holder: str) -> None:
    click.echo(
        f"notedeck: another build of these notes is running ({holder}); waiting for it "
        "to finish (Ctrl-C to stop).",
        err=True,
    )


# Fewer notes than this to work on finish too soon for a progress bar to help.
_PROGRESS_FROM = 500


@contextmanager
def _progress(enabled: bool) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar on stderr for long builds, only in a terminal and never in CI."""
    if not enabled or os.environ.get("CI") or not sys.stdout.isatty() or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(stderr=True), transient=True) as bar:
        task = None

        def advance(done: int, total: int) -> None:
            nonlocal task
            if total < _PROGRESS_FROM:
                return
            if task is None:
                task = bar.add_task("Building", total=total)
            bar.update(task, completed=done, total=total)

        yield advance


def all_diagnostics(config: Config, report: BuildReport) -> list[Diagnostic]:
    """The configuration's own diagnostics, then the build's; silenced codes left out."""
    own = [d for d in config.diagnostics if not config.silenced(d.code)]
    return [*own, *report.diagnostics]


def shown_diagnostics(config: Config, diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics with their paths as every command shows them: from here."""
    from notedeck.cli.report import shown_diagnostic

    return [shown_diagnostic(d, config.notes_dir) for d in diagnostics]


def failed(diagnostics: Sequence[Diagnostic], strict: bool) -> bool:
    from notedeck.model import Level

    levels = {d.level for d in diagnostics}
    return Level.ERROR in levels or (strict and Level.WARNING in levels)


# Where the packages go: the same option for every command that writes them.
decks_out_option = click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="Where the .apkg files go (default: decks/).",
)


@main.command("build")
@click.argument("notes_dir", required=False, type=click.Path(path_type=Path))
@decks_out_option
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object instead of the summary."
)
@click.option("--strict", is_flag=True, default=None, help="Fail (exit 1) on warnings too.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--debug", is_flag=True, help="Show a traceback on unexpected errors.")
@click.option(
    "--lock",
    "lock_path",
    type=click.Path(path_type=Path),
    help="The lock file (default: notedeck.lock beside the notes folder).",
)
@config_option
def build_command(
    notes_dir: Path | None,
    out_dir: Path | None,
    as_json: bool,
    strict: bool | None,
    dry_run: bool,
    debug: bool,
    lock_path: Path | None,
    config_file: Path | None,
) -> None:
    """Build decks from NOTES_DIR (default: notes/).

    \b
    Examples:
      notedeck build
      notedeck build ~/vault --out ~/decks
      notedeck build --dry-run
      SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) notedeck build --json
    """
    if debug:  # a note notedeck fails on shows its traceback instead of a diagnostic
        os.environ["NOTEDECK_DEBUG"] = "1"
    config = load_settings(
        notes_dir, out_dir, config_file=config_file, strict=strict or None, lock_path=lock_path
    )
    report = run_build(config, dry_run=dry_run, debug=debug, progress=not as_json)
    diagnostics = shown_diagnostics(config, all_diagnostics(config, report))
    if as_json:
        data = report_json(report, dry_run)
        data["diagnostics"] = (diagnostic_json(d) for d in diagnostics)
        echo_json(data)
    else:
        _print_summary(report, diagnostics, dry_run)
    sys.exit(EXIT_NOTE_ERRORS if failed(diagnostics, config.strict) else EXIT_OK)


def diagnostic_json(d: Diagnostic) -> dict[str, Any]:
    return {
        "level": d.level.value,
        "code": d.code,
        "path": d.path,
        "line": d.line,
        "message": d.message,
    }


def report_json(report: BuildReport, dry_run: bool = False) -> dict[str, Any]:
    """The report as JSON values; the long lists as generators (see echo_json)."""
    from notedeck.cli.report import shown_path

    return {
        "notes": report.notes,
        "cards": report.card_count,
        "cards_by_kind": report.kinds,
        "dry_run": dry_run,
        "decks": [
            {"name": d.name, "path": shown_path(d.path), "cards": d.cards, "written": d.written}
            for d in report.decks
        ],
        "added": ({"guid": c.guid, "key": c.key} for c in report.added),
        "changed": ({"guid": c.guid, "key": c.key} for c in report.changed),
        "renamed": ({"guid": c.guid, "key": c.key, "old_key": old} for old, c in report.renamed),
        "removed": (dict(r) for r in report.removed),
        "diagnostics": (diagnostic_json(d) for d in report.diagnostics),
        **report.extra,
    }


def echo_json(data: Mapping[str, Any]) -> None:
    """Print `data` as json.dumps(data, sort_keys=True) would, one list item at a time: the
    first build of a large vault lists half a million added cards, too many to hold as
    dicts and one string at once."""
    encode = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode
    out = sys.stdout
    out.write("{")
    for n, key in enumerate(sorted(data)):
        value = data[key]
        out.write(f"{', ' if n else ''}{encode(key)}: ")
        if isinstance(value, Iterator):
            out.write("[")
            for i, item in enumerate(value):
                out.write(f"{', ' if i else ''}{json_escaped(encode(item))}")
            out.write("]")
        else:
            out.write(json_escaped(encode(value)))
    out.write("}\n")
    out.flush()


def _print_summary(report: BuildReport, diagnostics: Sequence[Diagnostic], dry_run: bool) -> None:
    from notedeck.cli.report import echo_changes, echo_packages, plural, problem_counts

    for problem in diagnostics:
        echo(problem.format(), err=True)
    by_kind = ", ".join(f"{n} {k}" for k, n in report.kinds.items())
    echo(
        f"Read {plural(report.notes, 'note')}: {plural(report.card_count, 'card')} "
        f"({by_kind or 'none'})."
    )
    echo_packages(report, echo, dry_run=dry_run)
    echo_changes(report, echo, dry_run=dry_run)
    if diagnostics:
        echo(f"{problem_counts(diagnostics)} (listed above).")


@main.command("check")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the diagnostics as one JSON object.")
@click.option("--strict", is_flag=True, default=None, help="Fail (exit 1) on warnings too.")
@click.option(
    "--fix",
    is_flag=True,
    help="Rewrite garbled timestamps in the notes as the H:MM:SS they were read as.",
)
@click.option(
    "--diff",
    is_flag=True,
    help="Show what --fix would change as a unified diff; write nothing.",
)
@config_option
def check_command(
    paths: tuple[Path, ...],
    as_json: bool,
    strict: bool | None,
    fix: bool,
    diff: bool,
    config_file: Path | None,
) -> None:
    """Validate notes, templates and settings without writing anything.

    PATHS are the notes folder (default: notes/) or notes inside it, whose problems
    alone are then reported. One `path:line: level code: message` line per problem;
    exit 1 if there are errors (or warnings, with --strict), 2 if the settings or a
    template are broken.

    --fix rewrites the timestamps a timestamp.garbled warning names, and nothing else,
    then checks; --diff shows that change first, and writes nothing.

    \b
    Examples:
      notedeck check
      notedeck check notes/psychology/flow.md --strict
      notedeck check --json | jq '.diagnostics[]'
      notedeck check --fix --diff
      notedeck check --fix
    """
    folders = [p for p in paths if p.is_dir()]
    files = [p for p in paths if not p.is_dir()]
    if len(folders) > 1:
        fail_usage("give one notes folder at most.")
    for f in files:
        if not f.is_file():
            fail_usage(f"{f}: no such note.")
    config = load_settings(
        folders[0] if folders else None, config_file=config_file, strict=strict or None
    )
    from notedeck.build import discover

    chosen = _relative_notes(config, files)
    if diff or fix:
        _fix_timestamps(config, chosen, write=not diff)
        if diff:
            return
    report = run_build(config, dry_run=True)
    diagnostics = [
        d
        for d in all_diagnostics(config, report)
        if chosen is None or d.path in chosen or not d.path.endswith(".md")
    ]
    shown = shown_diagnostics(config, diagnostics)
    notes = len(discover(config.notes_dir)) if chosen is None else len(chosen)
    if as_json:
        data = {
            "notes": notes,
            "cards": report.card_count,
            "errors": sum(1 for d in shown if d.level.value == "error"),
            "warnings": sum(1 for d in shown if d.level.value == "warning"),
            "diagnostics": [diagnostic_json(d) for d in shown],
        }
        click.echo(json_escaped(json.dumps(data, ensure_ascii=False, sort_keys=True)))
    else:
        for d in shown:
            echo(d.format())
        from notedeck.cli.report import plural, problem_counts

        echo(f"Checked {plural(notes, 'note')}: {problem_counts(shown)}.", err=True)
    sys.exit(EXIT_NOTE_ERRORS if failed(shown, config.strict) else EXIT_OK)


def _fix_timestamps(config: Config, chosen: set[str] | None, *, write: bool) -> None:
    """Rewrite (or, not `write`, show as a diff and exit) the notes' garbled timestamps."""
    from notedeck.cli.fix import apply_fixes, timestamp_fixes
    from notedeck.cli.report import plural, shown_path

    fixes = timestamp_fixes(config, chosen)
    values = plural(sum(f.values for f in fixes), "timestamp")
    notes = plural(len(fixes), "note")
    if not write:
        for f in fixes:
            click.echo(printable(f.diff(shown_path(f.path))).replace("\ufffd\n", "\n"), nl=False)
        click.echo(f"Would fix {values} in {notes}; `notedeck check --fix` writes it.", err=True)
        sys.exit(EXIT_OK)
    apply_fixes(fixes)
    click.echo(f"Fixed {values} in {notes}.", err=True)


def _relative_notes(config: Config, files: Sequence[Path]) -> set[str] | None:
    """The notes folder's names for `files`; None when no file was given (check them all)."""
    if not files:
        return None
    names = set()
    for f in files:
        try:
            names.add(f.resolve().relative_to(config.notes_dir).as_posix())
        except ValueError:
            fail_usage(f"{f}: not inside the notes folder {config.notes_dir}.")
    return names


@main.command("cards")
@click.argument(
    "notes", nargs=-1, required=True, type=click.Path(path_type=Path, exists=True, dir_okay=False)
)
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["overview", "qa", "label", "cloze"]),
    help="Show only cards of this kind (repeatable).",
)
@click.option(
    "--skipped",
    is_flag=True,
    help="Also list the sentences no card was made from, with why (to fix the note).",
)
@config_option
def cards_command(
    notes: tuple[Path, ...], kinds: tuple[str, ...], skipped: bool, config_file: Path | None
) -> None:
    """Show the cards that NOTES make: question, answer, links, kind and why each was made.

    \b
    Examples:
      notedeck cards notes/psychology/flow.md
      notedeck cards notes/a.md notes/b.md --kind qa
      notedeck cards notes/psychology/flow.md --skipped
    """
    from notedeck.cli.terminal import show_cards, show_skipped

    config, wanted = _relative_notes_or_root(
        load_settings(None, config_file=config_file, require_notes=False), notes
    )
    from notedeck.cards.note_cards import cards_of_notes

    # Only these notes and the other notes of their videos are read, not the vault.
    made, found, left = cards_of_notes(config, wanted)
    own = [d for d in config.diagnostics if not config.silenced(d.code)]
    diagnostics = own + [d for d in found if d.path in wanted and not config.silenced(d.code)]
    diagnostics = shown_diagnostics(config, diagnostics)
    cards = [c for c in made if not kinds or c.kind.value in kinds]
    show_cards(cards, diagnostics, config)
    if skipped:
        show_skipped(config, left)
    sys.exit(EXIT_NOTE_ERRORS if failed(diagnostics, False) else EXIT_OK)


def _relative_notes_or_root(config: Config, notes: Sequence[Path]) -> tuple[Config, set[str]]:
    """Notes outside the configured folder are read with their own folder as the root."""
    from dataclasses import replace

    full = [n.resolve() for n in notes]
    if all(f.is_relative_to(config.notes_dir) for f in full):
        return config, {f.relative_to(config.notes_dir).as_posix() for f in full}
    parents = {f.parent for f in full}
    if len(parents) > 1:
        fail_usage("notes outside the notes folder must all be in one folder.")
    root = parents.pop()
    return replace(config, notes_dir=root), {f.relative_to(root).as_posix() for f in full}


@main.command("preview")
@click.argument("notes_dir", required=False, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("preview"),
    show_default=True,
    help="Where index.html is written.",
)
@config_option
def preview_command(notes_dir: Path | None, out_dir: Path, config_file: Path | None) -> None:
    """Write a static HTML page showing every card's front and back.

    The cards are rendered with the same templates and CSS as in Anki, grouped by note
    and section, with a search box; click a card to flip it. No server needed.

    \b
    Examples:
      notedeck preview
      notedeck preview ~/vault --out /tmp/cards && xdg-open /tmp/cards/index.html
    """
    from notedeck.cli.preview import write_preview

    config = load_settings(notes_dir, config_file=config_file)
    report = run_build(config, dry_run=True, collect=True)
    diagnostics = shown_diagnostics(config, all_diagnostics(config, report))
    for d in diagnostics:
        echo(d.format(), err=True)
    from notedeck.anki.render import load_templates

    page = write_preview(
        report, load_templates(config.templates_dir), out_dir.resolve(), title=config.root_deck_name
    )
    from notedeck.cli.report import plural, shown_path

    echo(
        f"Wrote {shown_path(page)} ({plural(len(report.rendered), 'card')} "
        f"from {plural(report.notes, 'note')})."
    )
    sys.exit(EXIT_NOTE_ERRORS if failed(diagnostics, config.strict) else EXIT_OK)


@main.command("removed")
@click.option(
    "--since",
    metavar="REV-OR-TIME",
    help="Only cards removed since this git revision (ORIG_HEAD, a commit) or time "
    "(seconds since the epoch, or an ISO date like 2025-06-01T12:00).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead.")
@click.option(
    "--lock",
    "lock_path",
    type=click.Path(path_type=Path),
    help="The lock file, beside which the log lies (default: notedeck.lock beside the notes).",
)
@config_option
def removed_command(
    since: str | None, as_json: bool, lock_path: Path | None, config_file: Path | None
) -> None:
    """Print the Anki search that deletes the cards that left the notes.

    Every build that sees cards leave the notes logs them in notedeck.removed, beside
    the lock; commit it with the lock. After a pull, this tells you (and CI) what your
    teammates removed: paste the search in Anki's Browse, select all, delete the notes.
    A card the notes give again is never listed.

    \b
    Examples:
      notedeck removed
      git pull && notedeck build && notedeck removed --since ORIG_HEAD
      notedeck removed --since 2025-06-01 --json
    """
    from notedeck.cli.report import echo_removed
    from notedeck.errors import NotedeckError
    from notedeck.incremental.removals import pending_removals

    config = load_settings(config_file=config_file, require_notes=False, lock_path=lock_path)
    try:
        pending = pending_removals(config.lock_file, since)
    except NotedeckError as exc:
        fail_usage(str(exc))
    diagnostics = shown_diagnostics(config, pending.diagnostics)
    if as_json:
        data = pending.as_json()
        data["diagnostics"] = [diagnostic_json(d) for d in diagnostics]
        click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True))
    else:
        for d in diagnostics:
            click.echo(d.format(), err=True)
        echo_removed(pending, click.echo)
    sys.exit(EXIT_OK)


@main.command("watch")
@click.argument("notes_dir", required=False, type=click.Path(path_type=Path))
@decks_out_option
@click.option(
    "--debounce",
    default=300,
    show_default=True,
    type=click.IntRange(10, 10_000),
    help="Milliseconds to wait for more saves before rebuilding.",
)
@click.option("--max-rebuilds", type=int, default=None, hidden=True)
@config_option
def watch_command(
    notes_dir: Path | None,
    out_dir: Path | None,
    debounce: int,
    max_rebuilds: int | None,
    config_file: Path | None,
) -> None:
    """Rebuild the decks whenever a note, template or the settings change.

    A broken note or template is reported and the watch goes on. Ctrl-C stops it.

    \b
    Examples:
      notedeck watch
      notedeck watch ~/vault --out ~/decks --debounce 1000
    """
    from notedeck.cli.watch import watch_notes
    from notedeck.config import load_config

    first = load_settings(notes_dir, out_dir, config_file=config_file)

    def load() -> Config:
        # A reload raises ConfigError instead of exiting: the watch reports it and goes on.
        overrides = {"notes_dir": first.notes_dir, "out_dir": out_dir}
        return load_config(Path.cwd(), overrides, file=config_file)

    code = watch_notes(first, load, echo, debounce_ms=debounce, max_rebuilds=max_rebuilds)
    sys.exit(code)
