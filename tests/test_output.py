"""What every command prints: one path form, plurals, packages left as they were, changes."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path

import pytest

from conftest import SEED
from conftest import run_cli as run
from notedeck.cli.watch import watch_notes
from notedeck.config import load_config

# The seed note's garbled timestamps give one warning on its first timestamp's line.
WARNED = f"notes/{SEED}:8: warning timestamp.garbled"


def watch_lines(project: Path, edit: Path, text: str) -> list[str]:
    """What a watch prints for its first build and one rebuild after `edit` is saved."""
    lines: list[str] = []
    live = threading.Event()

    def echo(message: str = "", err: bool = False) -> None:
        lines.append(message)

    config = load_config(project)
    thread = threading.Thread(
        target=watch_notes,
        args=(config, lambda: config, echo),
        kwargs={"debounce_ms": 50, "max_rebuilds": 1, "on_idle": live.set},
        daemon=True,
    )
    thread.start()
    assert live.wait(timeout=60)
    edit.write_text(text, encoding="utf-8")
    thread.join(timeout=60)
    assert not thread.is_alive()
    return lines


def test_every_command_names_a_note_by_its_path_from_the_current_folder(project: Path) -> None:
    build = run("build")
    check = run("check")
    cards = run("cards", f"notes/{SEED}")
    assert WARNED in build.stderr
    assert WARNED in check.stdout
    assert WARNED in cards.stdout
    for command in (("build", "--json", "--dry-run"), ("check", "--json")):
        data = json.loads(run(*command).stdout)
        (found,) = [d for d in data["diagnostics"] if d["code"] == "timestamp.garbled"]
        assert (found["path"], found["line"]) == (f"notes/{SEED}", 8)
    note = project / "notes" / SEED
    lines = watch_lines(project, note, note.read_text(encoding="utf-8") + "\nMore text.\n")
    assert any(line.startswith(WARNED) for line in lines)
    assert f"Changed: notes/{SEED}" in lines
    assert "Watching notes (Ctrl-C to stop)." in lines
    # Nowhere a path relative to the notes folder, which no terminal can open from here.
    everything = "\n".join([build.output, check.output, cards.output, *lines])
    assert not re.search(rf"(?<!notes/){re.escape(SEED)}:", everything)


def test_a_package_not_rewritten_is_said_unchanged_and_counted(project: Path) -> None:
    first = run("build")
    wrote = re.search(
        r"Wrote decks/healthygamergg\.apkg \((\d+) cards, deck 'healthygamergg'\)\.", first.stdout
    )
    assert wrote and int(wrote[1]) >= 4
    count = wrote[1]
    assert "Packages: 1 written, 0 unchanged." in first.stdout
    package = project / "decks" / "healthygamergg.apkg"
    stamp = package.stat().st_mtime_ns

    for args, packages in ((("build",), "1 unchanged"), (("build", "--dry-run"), "1 unchanged")):
        again = run(*args)
        assert f"Unchanged: decks/healthygamergg.apkg ({count} cards" in again.stdout
        assert "Wrote" not in again.stdout and "Would write" not in again.stdout
        said = f"Packages: 0 {'would be ' if '--dry-run' in args else ''}written, {packages}."
        assert said in again.stdout
        assert package.stat().st_mtime_ns == stamp
    data = json.loads(run("build", "--json").stdout)
    assert [d["written"] for d in data["decks"]] == [False]

    note = project / "notes" / SEED
    more = "\n\n## Stress\n\nChronic stress leads to higher cortisol levels.\n"  # one more card
    note.write_text(note.read_text(encoding="utf-8") + more, "utf-8")
    dry = run("build", "--dry-run")
    assert "Would write decks/healthygamergg.apkg" in dry.stdout
    assert "Packages: 1 would be written, 0 unchanged." in dry.stdout
    assert package.stat().st_mtime_ns == stamp
    assert "Wrote decks/healthygamergg.apkg" in run("build").stdout


def test_counts_are_worded_in_the_singular_for_one(project: Path) -> None:
    build = run("build")
    assert "0 errors, 1 warning (listed above)." in build.stdout
    assert "warnings" not in build.stdout
    (project / "notes" / "broken.md").write_text("---\ntitle: [x\n---\n# B\n", encoding="utf-8")
    build = run("build")
    assert "1 error, 1 warning (listed above)." in build.stdout
    assert "Checked 3 notes: 1 error, 1 warning." in run("check").stderr
    note = project / "notes" / SEED
    lines = watch_lines(project, note, note.read_text(encoding="utf-8") + "\nMore text.\n")
    built = [line for line in lines if line.startswith("Built ")]
    assert len(built) == 2 and all(line.endswith("; 1 error, 1 warning.") for line in built)


def test_watch_says_what_changed_and_a_dry_run_names_changed_cards(project: Path) -> None:
    assert run("build").exit_code == 0
    note = project / "notes" / SEED
    text = note.read_text(encoding="utf-8")
    edited = text.replace("improvement within hours", "improvement within a few hours")
    assert edited != text
    note.write_text(edited, encoding="utf-8")
    dry = run("build", "--dry-run")
    assert "Since the last build: 0 added, 1 changed, 0 renamed, 0 removed." in dry.stdout
    changed = re.findall(r"^  changed (\S+)$", dry.stdout, re.MULTILINE)
    assert len(changed) == 1 and changed[0].endswith("#speed-of-efficacy#qa")
    note.write_text(text, encoding="utf-8")

    lines = watch_lines(project, note, edited)
    summaries = [line for line in lines if line.startswith("Since the last build:")]
    assert summaries == [
        "Since the last build: 0 added, 0 changed, 0 renamed, 0 removed.",
        "Since the last build: 0 added, 1 changed, 0 renamed, 0 removed.",
    ]


def test_cards_in_an_80_column_terminal_keep_the_whole_key_and_piped_output_is_not_boxed(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    import notedeck.cli.terminal
    from notedeck.build import build

    config = load_config(project)
    cards = [c for c in build(config, dry_run=True).cards if c.note_path == SEED]
    piped = run("cards", f"notes/{SEED}").stdout
    assert not set("╭╮╰╯│─") & set(piped)
    for card in cards:  # each key whole on one line
        assert f"key {card.key}\n" in piped

    def terminal(**kwargs: object) -> Console:
        return Console(force_terminal=True, width=80, color_system=None, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(notedeck.cli.terminal, "Console", terminal)
    boxed = run("cards", f"notes/{SEED}").stdout
    assert "╭" in boxed and all(len(line) <= 80 for line in boxed.splitlines())
    # A folded key, read back from inside its box, is the whole key.
    inside = "".join(
        line.strip("│ ").removeprefix("key ") for line in boxed.splitlines() if "│" in line
    )
    for card in cards:
        assert card.key in inside
