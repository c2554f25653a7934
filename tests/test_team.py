"""A team keeps its notes and the lock on git: merged, conflicted and broken locks keep
every card's identity, and whoever builds next learns what was removed."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import SEED, SIBLING, Anki, git, run_build
from notedeck.build import BuildReport

EPOCH = "1750000000"
SPEED = "healthygamergg/ketamine_as_a_treatment_for_depression#speed-of-efficacy#qa"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _import(anki: Anki, report: BuildReport) -> list[object]:
    logs = [anki.import_package(d.path) for d in report.decks]
    anki.reopen()
    return logs


def _study(anki: Anki) -> dict[int, tuple[int, int]]:
    """Answer every card once; each card id -> (its note id, reviews)."""
    anki.answer_all()
    return _history(anki)


def _history(anki: Anki) -> dict[int, tuple[int, int]]:
    col = anki.col
    return {
        cid: (col.get_card(cid).nid, col.db.scalar("select count() from revlog where cid=?", cid))
        for cid in col.find_cards("")
    }


def _assert_one_note_per_card(anki: Anki, report: BuildReport) -> None:
    col = anki.col
    keys = sorted(col.get_note(n)["Key"] for n in col.find_notes(""))
    assert keys == sorted(c.key for c in report.rendered), "a card was duplicated or lost"
    for card in report.rendered:
        assert col.db.scalar("select count() from notes where guid = ?", card.guid) == 1


def test_a_hand_merged_lock_never_reports_a_live_card_as_removed(
    vault: Path, tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    lock = vault.parent / "notedeck.lock"
    out = tmp_path / "decks"
    first = run_build(vault, out)
    _import(anki, first)  # B imports, studies, and does not import again before the merge
    studied = _study(anki)
    v1 = lock.read_text(encoding="utf-8")
    _edit(vault / SEED, "## Speed of Efficacy", "## Onset of Action")
    renamed = run_build(vault, out)  # A renames the heading
    assert [old for old, _ in renamed.renamed] == [SPEED]
    # Merged by hand: both sides' lines of the seed note kept, valid JSON.
    old_line = next(ln for ln in v1.splitlines() if '"#speed-of-efficacy#qa"' in ln)
    v2 = lock.read_text(encoding="utf-8")
    head = f'    "{SEED}": [\n'
    merged = v2.replace(head, head + old_line.rstrip(",") + ",\n")
    json.loads(merged)
    lock.write_text(merged, encoding="utf-8")

    report = run_build(vault, out)
    assert not report.removed and not report.extra["removed_search"]
    assert not report.added
    logs = _import(anki, report)
    assert not any(log.new for log in logs)  # type: ignore[attr-defined]
    _assert_one_note_per_card(anki, report)
    assert _history(anki) == studied


def _git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return git(repo, *args, check=False)  # the tests look at the return codes themselves


def _two_branches(vault: Path, tmp_path: Path, union: bool) -> tuple[Path, BuildReport]:
    """A notes repo on git: main built and committed; branch a renames and rewords a
    section of one note, branch b renames a section of the other note, each built and
    committed; b merged into a. The merge is left as git leaves it."""
    repo = vault.parent
    assert _git(repo, "init", "-q", "-b", "main").returncode == 0
    if union:
        (repo / ".gitattributes").write_text("notedeck.lock merge=union\n", encoding="utf-8")
    (repo / ".gitignore").write_text(".notedeck-cache/\ndecks/\n", encoding="utf-8")
    out = tmp_path / "decks"
    first = run_build(vault, out)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "main")
    _git(repo, "checkout", "-qb", "b")
    _edit(vault / SIBLING, "## DMN and Depression", "## The DMN in Depression")  # has a card
    run_build(vault, out)
    _git(repo, "commit", "-qam", "b")
    _git(repo, "checkout", "-q", "main")
    _git(repo, "checkout", "-qb", "a")
    _edit(vault / SEED, "## Speed of Efficacy", "## Onset of Action")
    _edit(vault / SEED, "Patients experiencing a depressive", "Patients in a depressive")
    run_build(vault, out)
    _git(repo, "commit", "-qam", "a")
    merge = _git(repo, "merge", "-q", "--no-edit", "b")
    assert (merge.returncode == 0) is union, merge.stdout + merge.stderr
    return out, first


@pytest.mark.parametrize("union", [False, True], ids=["conflict-markers", "merge-union"])
def test_two_people_editing_different_notes_merge_their_locks(
    vault: Path, tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch, union: bool
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    out = tmp_path / "decks"
    monkeypatch.setattr("conftest.run_build", run_build)
    lock = vault.parent / "notedeck.lock"
    # Anki holds main's cards, studied.
    out, first = _two_branches(vault, tmp_path, union)
    _import(anki, first)
    studied = _study(anki)
    merged = lock.read_text(encoding="utf-8")
    assert ("<<<<<<<" in merged) is not union
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(int(EPOCH) + 100))
    report = run_build(vault, out)
    codes = [d.code for d in report.diagnostics if d.code.startswith("lock.")]
    assert codes == ([] if union else ["lock.merged"]), codes
    assert {old for old, _ in report.renamed} == set()
    assert not report.removed and not report.added
    assert not (vault.parent / "notedeck.lock.bak").exists()
    assert "<<<<<<<" not in lock.read_text(encoding="utf-8")
    json.loads(lock.read_text(encoding="utf-8"))
    logs = _import(anki, report)
    assert not any(log.new for log in logs)  # type: ignore[attr-defined]
    assert not any(log.conflicting for log in logs)  # type: ignore[attr-defined]
    _assert_one_note_per_card(anki, report)
    assert _history(anki) == studied
    col = anki.col
    keys = {col.get_note(n)["Key"] for n in col.find_notes("")}
    assert any(k.endswith("#onset-of-action#qa") for k in keys)
    assert any("#the-dmn-in-depression#qa#" in k for k in keys)
    # The next build reads the lock as written: nothing to say, nothing changed.
    again = run_build(vault, out)
    assert not [d for d in again.diagnostics if d.code.startswith("lock.")]
    assert not (again.added or again.changed or again.renamed or again.removed)


def test_a_conflict_that_cannot_be_resolved_stops_the_build_and_leaves_the_lock(
    vault: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from notedeck.cli.commands import main

    out = tmp_path / "decks"
    run_build(vault, out)
    lock = vault.parent / "notedeck.lock"
    lines = lock.read_text(encoding="utf-8").splitlines(keepends=True)
    row = next(i for i, ln in enumerate(lines) if ln.startswith("      ["))
    lines[row:row] = ["<<<<<<< HEAD\n", "      [half a line\n", "=======\n", ">>>>>>> b\n"]
    broken = "".join(lines).encode()
    lock.write_bytes(broken)
    packages = {p: p.read_bytes() for p in out.iterdir()}
    result = CliRunner().invoke(main, ["build", str(vault), "--out", str(out)])
    assert result.exit_code == 2
    assert f"{lock}:{row + 2}:" in result.output and "git checkout --ours" in result.output
    assert "Traceback" not in result.output
    assert lock.read_bytes() == broken
    assert {p: p.read_bytes() for p in out.iterdir()} == packages


def _rename_then(
    vault: Path, tmp_path: Path, change: Callable[[str], str]
) -> tuple[BuildReport, bool]:
    """Build, rename a heading (its card keeps its GUID under a new key), build, break
    the lock with `change`, build again; and whether the renamed card kept its GUID."""
    out = tmp_path / "decks"
    run_build(vault, out)
    _edit(vault / SEED, "## Speed of Efficacy", "## Onset of Action")
    renamed = run_build(vault, out)
    lock = vault.parent / "notedeck.lock"
    lock.write_text(change(lock.read_text(encoding="utf-8")), encoding="utf-8")
    report = run_build(vault, out)
    guid = {c.key: c.guid for _, c in renamed.renamed}
    kept = {c.key: c.guid for c in report.rendered if c.key in guid} == guid
    return report, kept


_BROKEN: dict[str, Callable[[str], str]] = {
    "renamed top key": lambda t: t.replace('"notes": {', '"notez": {'),
    "huge mod": lambda t: re.sub(r", 1\d{9}, ", ", 100000000000000000000000000, ", t, count=3),
    "nested": lambda t: t.replace(
        '"guids": {', '"deep": ' + "[" * 100_000 + "]" * 100_000 + ',\n  "guids": {'
    ),
    "trailing garbage": lambda t: t + "garbage\n",
    "cut short": lambda t: t[: len(t) * 2 // 3],
    "all nested": lambda t: "[" * 100_000 + "]" * 100_000,
}


@pytest.mark.parametrize("name", list(_BROKEN))
def test_a_broken_lock_is_said_where_kept_as_a_backup_and_repaired(
    vault: Path, tmp_path: Path, name: str
) -> None:
    lock = vault.parent / "notedeck.lock"
    seen: list[str] = []

    def change(text: str) -> str:
        broken = _BROKEN[name](text)
        seen.append(broken)
        return broken

    report, kept = _rename_then(vault, tmp_path, change)
    # The renamed card keeps its GUID wherever its line could be read.
    assert kept is (name != "all nested")
    problems = [d for d in report.diagnostics if d.code.startswith("lock.")]
    dropped = [d for d in problems if d.code == "lock.corrupt"]
    assert all(d.path == str(lock) and d.line >= 1 for d in problems)
    backup = vault.parent / "notedeck.lock.bak"
    if dropped:  # something could not be read: the lock as it was is kept beside it
        assert backup.read_text(encoding="utf-8") == seen[0]
        assert "notedeck.lock.bak" in dropped[0].message
    else:
        assert not backup.exists()
    # Written anew as notedeck writes it; the next build has nothing to say.
    assert lock.read_text(encoding="utf-8") != seen[0]
    again = run_build(vault, tmp_path / "decks")
    assert not [d for d in again.diagnostics if d.code.startswith("lock.")]
    assert not (again.added or again.changed or again.renamed or again.removed)


def test_a_note_restored_after_a_heading_rename_gets_its_cards_back(
    vault: Path, tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    out = tmp_path / "decks"
    _import(anki, run_build(vault, out))
    studied = _study(anki)
    _edit(vault / SEED, "## Speed of Efficacy", "## Onset of Action")
    renamed = run_build(vault, out)
    _import(anki, renamed)
    text = (vault / SEED).read_text(encoding="utf-8")
    (vault / SEED).unlink()
    gone = run_build(vault, out)
    assert gone.removed  # the user keeps them in Anki for now
    lock = json.loads((vault.parent / "notedeck.lock").read_text(encoding="utf-8"))
    assert set(lock["retired"].values()) == {c.guid for _, c in renamed.renamed}
    (vault / SEED).write_text(text, encoding="utf-8")
    back = run_build(vault, out)
    logs = _import(anki, back)
    assert not any(log.new for log in logs)  # type: ignore[attr-defined]
    _assert_one_note_per_card(anki, back)
    assert _history(anki) == studied
    lock = json.loads((vault.parent / "notedeck.lock").read_text(encoding="utf-8"))
    assert "retired" not in lock
