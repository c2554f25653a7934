"""Each command's behaviour and exit codes on good notes, broken notes and broken settings."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SEED
from conftest import run_cli as run

BROKEN = "---\ntitle: [unclosed\n---\n\n# Broken\n\nText.\n"


def files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_help_lists_every_command_with_examples() -> None:
    result = run("--help")
    assert result.exit_code == 0
    for command in ("build", "check", "cards", "preview", "watch"):
        assert command in result.output
        sub = run(command, "--help")
        assert sub.exit_code == 0 and "Examples:" in sub.output


def test_check_passes_good_notes_and_writes_nothing(project: Path) -> None:
    before = files_under(project)
    result = run("check")
    assert result.exit_code == 0, result.output
    assert "Checked 2 notes: 0 errors" in result.stderr
    assert files_under(project) == before


def test_check_reports_a_broken_note_as_path_line_level_code(project: Path) -> None:
    (project / "notes" / "broken.md").write_text(BROKEN, encoding="utf-8")
    result = run("check")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(
        re.match(r"notes/broken\.md:\d+: error frontmatter\.invalid: \S", line) for line in lines
    )


def test_check_json(project: Path) -> None:
    (project / "notes" / "broken.md").write_text(BROKEN, encoding="utf-8")
    result = run("check", "--json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["errors"] == 1
    (found,) = [d for d in data["diagnostics"] if d["level"] == "error"]
    assert found["line"] >= 1 and found["message"]
    assert found | {"message": "", "line": 0} == {
        "level": "error",
        "code": "frontmatter.invalid",
        "path": "notes/broken.md",
        "line": 0,
        "message": "",
    }


def test_check_of_one_file_reports_only_that_file(project: Path) -> None:
    (project / "notes" / "broken.md").write_text(BROKEN, encoding="utf-8")
    assert run("check", f"notes/{SEED}").exit_code == 0
    assert run("check", "notes/broken.md").exit_code == 1


def test_silenced_codes_and_strict_come_from_the_configuration(project: Path) -> None:
    (project / "notedeck.toml").write_text('colour = "blue"\n', encoding="utf-8")
    result = run("check")
    assert result.exit_code == 0
    assert "notedeck.toml:1: warning config.unknown-key: unknown key 'colour'" in result.stdout
    assert run("check", "--strict").exit_code == 1
    codes = sorted({d["code"] for d in json.loads(run("check", "--json").stdout)["diagnostics"]})
    assert "config.unknown-key" in codes
    (project / "notedeck.toml").write_text(
        f'colour = "blue"\nsilence = {json.dumps(codes)}\nstrict = true\n', encoding="utf-8"
    )
    result = run("check")
    assert result.exit_code == 0
    assert result.stdout == ""


def test_a_bad_setting_exits_2_naming_file_line_and_key(project: Path) -> None:
    (project / "pyproject.toml").write_text(
        '[tool.notedeck]\nanswer-words = "lots"\n', encoding="utf-8"
    )
    for command in ("check", "build", "preview"):
        result = run(command)
        assert result.exit_code == 2
        assert "pyproject.toml:2: 'tool.notedeck.answer-words' must be" in result.stderr


def test_a_missing_notes_folder_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for command in ("check", "build", "preview"):
        result = run(command)
        assert result.exit_code == 2
        assert "no such folder" in result.stderr


def test_a_broken_template_exits_2(project: Path) -> None:
    own = project / "templates"
    own.mkdir()
    (own / "answer.html.j2").write_text("{% for x in %}", encoding="utf-8")
    (project / "notedeck.toml").write_text('templates = "templates"\n', encoding="utf-8")
    result = run("check")
    assert result.exit_code == 2
    assert "answer.html.j2" in result.stderr


def test_build_uses_the_configured_folders_and_flags_override_them(project: Path) -> None:
    (project / "notedeck.toml").write_text('out = "from-config"\n', encoding="utf-8")
    assert run("build").exit_code == 0
    assert sorted(p.name for p in (project / "from-config").iterdir()) == ["healthygamergg.apkg"]
    result = run("build", "--out", "from-flag", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["decks"][0]["path"] == "from-flag/healthygamergg.apkg"  # from here
    assert {
        "notes",
        "cards",
        "cards_by_kind",
        "dry_run",
        "decks",
        "added",
        "changed",
        "renamed",
        "removed",
        "diagnostics",
    } <= set(data)


def test_build_dry_run_writes_nothing(project: Path) -> None:
    result = run("build", "--dry-run")
    assert result.exit_code == 0
    assert "Would write" in result.stdout
    assert not (project / "decks").exists()


def test_build_exits_1_on_a_broken_note_but_builds_the_rest(project: Path) -> None:
    (project / "notes" / "broken.md").write_text(BROKEN, encoding="utf-8")
    result = run("build")
    assert result.exit_code == 1
    assert re.search(r"broken\.md:\d+: error frontmatter\.invalid", result.stderr)
    assert (project / "decks" / "healthygamergg.apkg").is_file()


WEB = """---
title: Web protocols
---

## HTTP Methods

*   **POST:** A request method that creates a resource on the server.

The property of giving the same result however often a call is sent, known as
**idempotence**, makes retries after a timeout safe.
"""


def test_cards_shows_question_answer_links_and_kind(project: Path) -> None:
    (project / "notes" / "web.md").write_text(WEB, encoding="utf-8")
    result = run("cards", f"notes/{SEED}", "notes/web.md")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "How does ketamine work as a treatment for depression?" in out
    assert "How Ketamine Works" in out
    assert "https://www.youtube.com/watch?v=So7hE1Ba_QA&t=" in out
    assert "What is POST?" in out and "known as [...], makes retries" in out
    for kind in ("qa", "label", "cloze"):
        assert f"[{kind} ·" in out
    assert "default_mode_network" not in out  # only the notes asked for


def test_cards_filters_by_kind_and_reads_notes_outside_the_notes_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    note = tmp_path / "loose" / "note.md"
    note.parent.mkdir()
    note.write_text(
        "# Flow\n\nHyperfocus is a state of complete absorption in one activity.\n\n"
        "A mind held on one task at hand, known as **deep focus**, is the mark of flow.\n",
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    assert "What is hyperfocus?" in run("cards", str(note)).stdout  # a Q&A the filter drops
    result = run("cards", str(note), "--kind", "cloze")
    assert result.exit_code == 0, result.output
    assert "[...]" in result.stdout and "deep focus" in result.stdout
    assert "qa ·" not in result.stdout and "What is hyperfocus?" not in result.stdout


def test_cards_of_a_broken_note_shows_the_error_and_exits_1(project: Path) -> None:
    (project / "notes" / "broken.md").write_text(BROKEN, encoding="utf-8")
    result = run("cards", "notes/broken.md")
    assert result.exit_code == 1
    assert "frontmatter.invalid" in result.stdout


def test_the_cli_starts_without_loading_the_pipeline() -> None:
    code = (
        "import sys, notedeck.cli; heavy = {'rich', 'watchfiles', 'jinja2', 'genanki', "
        "'notedeck.build'} & set(sys.modules); print(sorted(heavy))"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def test_python_dash_m_runs_check(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1] / "src")}
    (project / "notes" / "broken.md").write_text(BROKEN, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "notedeck", "check"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert re.match(r"notes/broken\.md:\d+: error frontmatter\.invalid", done.stdout)


def test_strict_from_the_flag_or_the_configuration_fails_build_on_warnings(project: Path) -> None:
    (project / "notedeck.toml").write_text('colour = "blue"\n', encoding="utf-8")
    assert run("build", "--dry-run").exit_code == 0
    assert run("build", "--dry-run", "--strict").exit_code == 1
    (project / "notedeck.toml").write_text('colour = "blue"\nstrict = true\n', encoding="utf-8")
    result = run("build", "--dry-run")
    assert result.exit_code == 1
    assert "notedeck.toml:1: warning config.unknown-key" in result.stderr


def test_watch_command_builds_then_watches(project: Path) -> None:
    result = run("watch", "--max-rebuilds", "0")
    assert result.exit_code == 0, result.output
    assert "Watching" in result.stdout and "Built " in result.stdout
    assert (project / "decks" / "healthygamergg.apkg").is_file()


def test_watch_with_broken_settings_exits_2(project: Path) -> None:
    (project / "notedeck.toml").write_text("jobs = -1\n", encoding="utf-8")
    result = run("watch", "--max-rebuilds", "0")
    assert result.exit_code == 2
    assert "notedeck.toml:1: 'jobs' must be a whole number" in result.stderr


def test_a_broken_question_pattern_table_exits_2_naming_its_line(project: Path) -> None:
    own = project / "templates"
    own.mkdir()
    (own / "questions.toml").write_text(
        '[[pattern]]\nname = "x"\nregex = "(unclosed"\nquestion = "Q?"\ntopic = "t"\n',
        encoding="utf-8",
    )
    (project / "notedeck.toml").write_text('templates = "templates"\n', encoding="utf-8")
    for command in ("check", "build"):
        result = run(command)
        assert result.exit_code == 2, result.output
        assert "questions.toml:1: bad regex" in result.stderr
