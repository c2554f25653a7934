"""Removals reach everyone: the build that sees cards leave logs them beside the lock,
and `notedeck removed` tells a teammate who pulled (or CI) the Anki search that deletes
exactly those notes, never a card the notes give again."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import SEED, SIBLING, Anki, git, run_build
from notedeck.build import BuildReport
from notedeck.cli.commands import main
from notedeck.incremental.removals import log_path, read_log

EPOCH = 1_750_000_000
PRECAUTIONS = "## Important Precautions"


def _cut_section(note: Path, heading: str) -> str:
    """Delete the section under `heading` (up to the next `## `); give back the note as it was."""
    text = note.read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    note.write_text(text[:start] + (text[end + 1 :] if end >= 0 else ""), encoding="utf-8")
    return text


def _import(anki: Anki, report: BuildReport) -> None:
    for deck in report.decks:
        anki.import_package(deck.path)
    anki.reopen()


def _removed(repo: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    monkeypatch.chdir(repo)
    return CliRunner().invoke(main, ["removed", *args])


def _keys(anki: Anki, search: str = "") -> set[str]:
    col = anki.col
    return {col.get_note(n)["Key"] for n in col.find_notes(search)}


def _team(tmp_path: Path, vault: Path) -> tuple[Path, Path, BuildReport]:
    """B's notes repo (the seed notes, built and committed) and A's clone of it."""
    b = tmp_path / "b"
    b.mkdir()
    vault = Path(shutil.move(vault, b / "notes"))
    (b / ".gitattributes").write_text(
        "notedeck.lock merge=union\nnotedeck.removed merge=union\n", encoding="utf-8"
    )
    (b / ".gitignore").write_text(".notedeck-cache/\ndecks/\n", encoding="utf-8")
    git(b, "init", "-q", "-b", "main")
    first = run_build(vault)
    git(b, "add", "-A")
    git(b, "commit", "-qm", "first build")
    a = tmp_path / "a"
    git(tmp_path, "clone", "-q", str(b), str(a))
    return b, a, first


def test_a_teammate_who_pulls_learns_what_was_removed_and_deletes_exactly_that(
    vault: Path, tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    b, a, first = _team(tmp_path, vault)
    vault = b / "notes"
    # A imports the first build into their Anki and studies it.
    _import(anki, first)
    before = _keys(anki)
    assert before == {c.key for c in first.rendered}

    # B deletes a section and a note, builds (told what left), commits notes, lock and log.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH + 100))
    _cut_section(vault / SEED, PRECAUTIONS)
    (vault / SIBLING).unlink()
    seen = run_build(vault)
    gone = {r["key"] for r in seen.removed}
    assert len(gone) >= 3 and any(k.startswith(SIBLING[:-3] + "#") for k in gone), gone
    log = log_path(b / "notedeck.lock")
    assert log == b / "notedeck.removed"
    assert {r.key for r in read_log(log).removals} == gone
    assert {r.removed_at for r in read_log(log).removals} == {EPOCH + 100}
    git(b, "add", "-A")
    git(b, "commit", "-qm", "drop the precautions")

    # A pulls and builds: their build sees nothing leave (the lock already says so).
    git(a, "pull", "-q", "--no-rebase")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH + 200))
    mine = run_build(a / "notes")
    assert not mine.removed and not mine.added
    assert git(a, "status", "--porcelain", "--", "notedeck.removed").stdout == ""

    # `notedeck removed` tells A, since the pull, and CI the same as JSON.
    result = _removed(a, monkeypatch, "--since", "ORIG_HEAD")
    assert result.exit_code == 0, result.output
    assert f"{len(gone)} cards left your notes since ORIG_HEAD" in result.output
    for key in gone:
        assert f"  - {key} (" in result.output
    as_json = _removed(a, monkeypatch, "--json")
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert data["count"] == len(gone)
    assert {r["key"] for r in data["removed"]} == gone
    assert data["search"] == seen.extra["removed_search"]
    assert data["search"] in result.output
    # Nothing was removed since the pull itself.
    assert json.loads(_removed(a, monkeypatch, "--since", "HEAD", "--json").output)["count"] == 0

    # In A's Anki: import A's build, then the search selects exactly B's removed cards.
    _import(anki, mine)
    nids = anki.col.find_notes(data["search"])
    assert _keys(anki, data["search"]) == gone and len(nids) == len(gone)
    anki.col.remove_notes(nids)
    anki.reopen()
    assert _keys(anki) == {c.key for c in mine.rendered} == before - gone


def test_a_restored_section_leaves_the_log_and_is_never_listed(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    b, _a, first = _team(tmp_path, vault)
    vault = b / "notes"
    text = _cut_section(vault / SEED, PRECAUTIONS)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH + 100))
    gone = {r["key"] for r in run_build(vault).removed}
    log = b / "notedeck.removed"
    logged = log.read_bytes()
    assert len(logged.splitlines()) == len(gone)

    (vault / SEED).write_text(text, encoding="utf-8")  # restored: its cards come back
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH + 200))
    back = run_build(vault)
    assert {c.key for c in back.added} == gone
    assert log.read_bytes() == b""
    # A log that still lists them (a teammate's, merged in) lists nothing either: the
    # lock gives those GUIDs again, and the search would delete live notes.
    log.write_bytes(logged)
    result = _removed(b, monkeypatch, "--json")
    assert json.loads(result.output)["count"] == 0
    assert {c.key for c in back.rendered} == {c.key for c in first.rendered}


def test_both_sides_of_a_merge_are_listed_and_the_log_reads_through_conflicts(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    b, a, _first = _team(tmp_path, vault)
    vault = b / "notes"
    (b / ".gitattributes").write_text("notedeck.lock merge=union\n", encoding="utf-8")
    git(b, "commit", "-qam", "no union for the log")
    git(a, "pull", "-q", "--no-rebase")
    # B drops one section, A another, each builds and commits; A merges B's work.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH + 100))
    _cut_section(vault / SEED, PRECAUTIONS)
    by_b = {r["key"] for r in run_build(vault).removed}
    git(b, "add", "-A")
    git(b, "commit", "-qm", "b")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH + 150))
    _cut_section(a / "notes" / SEED, "## How Ketamine Works")
    by_a = {r["key"] for r in run_build(a / "notes").removed}
    git(a, "add", "-A")
    git(a, "commit", "-qm", "a")
    assert by_a and by_b and not by_a & by_b
    # Both sides started the log: git stops at it with its conflict markers.
    merge = git(a, "pull", "-q", "--no-rebase", "--no-edit", check=False)
    assert merge.returncode != 0
    assert "<<<<<<<" in (a / "notedeck.removed").read_text(encoding="utf-8")
    assert git(a, "diff", "--name-only", "--diff-filter=U").stdout.split() == ["notedeck.removed"]
    # The log reads through the markers: both people's removals.
    assert {r.key for r in read_log(a / "notedeck.removed").removals} == by_a | by_b
    # A builds the merge (the lock, merged by union, still holds both sides' lines of the
    # note until then: a card is never listed while the lock gives it), then asks.
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH + 300))
    run_build(a / "notes")
    listed = json.loads(_removed(a, monkeypatch, "--json").output)
    assert {r["key"] for r in listed["removed"]} == by_a | by_b
    clean = (a / "notedeck.removed").read_text(encoding="utf-8")
    assert "<<<<<<<" not in clean and "=======" not in clean
    lines = clean.splitlines()
    assert lines == sorted(lines) and len(lines) == len(by_a | by_b)
    assert {json.loads(line)["key"] for line in lines} == by_a | by_b
    git(a, "add", "-A")
    git(a, "commit", "-qm", "merge b")


def test_the_log_is_the_same_bytes_for_the_same_build(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    run_build(vault)
    twin = tmp_path / "twin"
    shutil.copytree(vault.parent, twin, ignore=shutil.ignore_patterns(".notedeck-cache", "decks"))
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH + 100))
    logs = []
    for root in (vault.parent, twin):
        _cut_section(root / "notes" / SEED, PRECAUTIONS)
        run_build(root / "notes")
        logs.append((root / "notedeck.removed").read_bytes())
    assert logs[0] == logs[1] and logs[0]
    # An unchanged vault leaves it alone.
    stat = (vault.parent / "notedeck.removed").stat()
    run_build(vault)
    assert (vault.parent / "notedeck.removed").stat().st_mtime_ns == stat.st_mtime_ns


def test_a_broken_log_line_is_named_kept_in_a_backup_and_left_out(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    run_build(vault)
    log = vault.parent / "notedeck.removed"
    broken = b'{"key": "half a line\n'
    log.write_bytes(broken)
    listed = _removed(vault.parent, monkeypatch)
    assert listed.exit_code == 0
    assert "notedeck.removed:1: warning removed.corrupt" in listed.output
    _cut_section(vault / SEED, PRECAUTIONS)
    report = run_build(vault)
    assert any(
        d.code == "removed.corrupt" and d.line == 1 and d.path.endswith("notedeck.removed")
        for d in report.diagnostics
    )
    assert (vault.parent / "notedeck.removed.bak").read_bytes() == broken
    assert {r.key for r in read_log(log).removals} == {r["key"] for r in report.removed}
    assert not read_log(log).diagnostics


def test_since_takes_a_time_or_a_revision_and_refuses_anything_else(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    run_build(vault)
    _cut_section(vault / SEED, PRECAUTIONS)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH + 100))
    gone = len(run_build(vault).removed)
    repo = vault.parent

    def count(since: str) -> int:
        result = _removed(repo, monkeypatch, "--since", since, "--json")
        assert result.exit_code == 0, result.output
        return int(json.loads(result.output)["count"])

    assert count(str(EPOCH + 100)) == gone
    assert count(str(EPOCH + 101)) == 0
    assert count("2000-01-01") == gone
    result = _removed(repo, monkeypatch, "--since", "no-such-rev")
    assert result.exit_code == 2
    assert "--since no-such-rev: neither a time" in result.output
    assert "Traceback" not in result.output


def test_a_file_of_the_users_where_the_log_would_go_is_never_written_over(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(EPOCH))
    lock = vault.parent / "deck.lock"
    run_build(vault, lock_path=lock)
    theirs = vault.parent / "deck.removed"
    assert log_path(lock) == theirs
    theirs.write_bytes(b"my own notes on what I removed\n")
    _cut_section(vault / SEED, PRECAUTIONS)
    report = run_build(vault, lock_path=lock)
    assert report.removed
    assert theirs.read_bytes() == b"my own notes on what I removed\n"
    assert [d.code for d in report.diagnostics if d.code.startswith("removed.")] == [
        "removed.not-own"
    ]
    assert not (vault.parent / "deck.removed.bak").exists()
