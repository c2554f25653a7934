"""The command line: the only place that prints and picks exit codes."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click

from notedeck import __version__
from notedeck.build import BuildReport, build
from notedeck.config import Config
from notedeck.errors import ConfigError, NotedeckError, TemplateError

EXIT_OK, EXIT_NOTE_ERRORS, EXIT_USAGE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="notedeck")
def main() -> None:
    """Turn a folder of Markdown notes into Anki decks that update in place.

    \b
    Examples:
      notedeck build                 # notes/ -> decks/*.apkg
      notedeck build vault --out out --json
    """


@main.command("build")
@click.argument("notes_dir", required=False, type=click.Path(path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(path_type=Path),
    help="Where the .apkg files go (default: decks/).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print one JSON object instead of the summary."
)
@click.option("--strict", is_flag=True, help="Fail (exit 1) on warnings too.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--debug", is_flag=True, help="Show a traceback on unexpected errors.")
@click.option(
    "--lock",
    "lock_path",
    type=click.Path(path_type=Path),
    help="The lock file (default: notedeck.lock beside the notes folder).",
)
def build_command(
    notes_dir: Path | None,
    out_dir: Path | None,
    as_json: bool,
    strict: bool,
    dry_run: bool,
    debug: bool,
    lock_path: Path | None,
) -> None:
    """Build decks from NOTES_DIR (default: notes/).

    \b
    Examples:
      notedeck build
      notedeck build ~/vault --out ~/decks
      notedeck build --dry-run
      SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) notedeck build --json
    """
    notes = (notes_dir or Path("notes")).resolve()
    if not notes.is_dir():
        _fail_usage(f"{notes}: no such folder; pass the folder of your notes (default: notes/).")
    config = Config(
        notes_dir=notes,
        out_dir=(out_dir or Path("decks")).resolve(),
        strict=strict,
        lock_path=lock_path.resolve() if lock_path else None,
    )
    try:
        report = build(config, dry_run=dry_run)
    except (ConfigError, TemplateError) as exc:
        _fail_usage(str(exc))
    except NotedeckError as exc:
        if debug:
            raise
        _fail_usage(str(exc))
    if as_json:
        click.echo(json.dumps(report_json(report, dry_run), ensure_ascii=False, sort_keys=True))
    else:
        _print_summary(report, dry_run)
    failed = report.errors > 0 or (strict and report.warnings > 0)
    sys.exit(EXIT_NOTE_ERRORS if failed else EXIT_OK)


def _fail_usage(message: str) -> None:
    click.echo(f"notedeck: {message}", err=True)
    sys.exit(EXIT_USAGE)


def report_json(report: BuildReport, dry_run: bool = False) -> dict[str, Any]:
    kinds = Counter(c.kind.value for c in report.cards)
    return {
        "notes": report.notes,
        "cards": len(report.rendered),
        "cards_by_kind": dict(sorted(kinds.items())),
        "dry_run": dry_run,
        "decks": [{"name": d.name, "path": str(d.path), "cards": d.cards} for d in report.decks],
        "added": [{"guid": c.guid, "key": c.key} for c in report.added],
        "changed": [{"guid": c.guid, "key": c.key} for c in report.changed],
        "renamed": [{"guid": c.guid, "key": c.key, "old_key": old} for old, c in report.renamed],
        "removed": [dict(r) for r in report.removed],
        "diagnostics": [
            {
                "level": d.level.value,
                "code": d.code,
                "path": d.path,
                "line": d.line,
                "message": d.message,
            }
            for d in report.diagnostics
        ],
        **report.extra,
    }


def _print_summary(report: BuildReport, dry_run: bool) -> None:
    for d in report.diagnostics:
        click.echo(d.format(), err=True)
    kinds = Counter(c.kind.value for c in report.cards)
    by_kind = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
    click.echo(f"Read {report.notes} notes: {len(report.rendered)} cards ({by_kind or 'none'}).")
    verb = "Would write" if dry_run else "Wrote"
    for deck in report.decks:
        click.echo(f"{verb} {deck.path} ({deck.cards} cards, deck '{deck.name}').")
    _print_changes(report)
    if report.diagnostics:
        click.echo(f"{report.errors} errors, {report.warnings} warnings (listed above).")


def _print_changes(report: BuildReport) -> None:
    counts = (
        f"{len(report.added)} added, {len(report.changed)} changed, "
        f"{len(report.renamed)} renamed, {len(report.removed)} removed"
    )
    click.echo(f"Since the last build: {counts}.")
    for old, card in report.renamed:
        click.echo(f"  renamed {old} -> {card.key}")
    if report.removed:
        click.echo(
            f"{len(report.removed)} cards left your notes; Anki keeps them until you delete them:"
        )
        for r in report.removed:
            click.echo(f"  - {r['title']} ({r['path']})")
        click.echo(
            "To delete them: in Anki open Browse, paste this search, select all "
            "(Ctrl+A / Cmd+A), then Notes > Delete:"
        )
        click.echo(f"  {report.extra.get('removed_search', '')}")
