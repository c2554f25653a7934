"""`notedeck check --fix`: garbled timestamps written as the moments they were read as."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import SEED, corpus_dir
from conftest import run_cli as run
from notedeck.build import build
from notedeck.config import Config

# A clock value as notes write it; the only thing --fix may change.
CLOCK = re.compile(r"(?<![0-9:])[0-9]{1,6}(?::[0-9]{1,6}){1,3}(?![0-9:])")


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.md")}


def moments_by_card(notes: Path) -> dict[str, tuple[tuple[int, ...], tuple[str, ...]]]:
    """Each card's moments and answer, from a build into a scratch folder."""
    out = notes.parent / "scratch"
    report = build(Config(notes_dir=notes, out_dir=out, lock_path=out / "lock"), dry_run=True)
    shutil.rmtree(out, ignore_errors=True)
    return {
        c.key: (tuple(m.seconds for m in c.moments), tuple(line.html for line in c.answer))
        for c in report.cards
    }


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=folder,
        capture_output=True,
        check=True,
    )
    return done.stdout.decode("utf-8")


@pytest.fixture
def corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the corpus notes in a git repository, run from its folder."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    notes = tmp_path / "notes"
    shutil.copytree(corpus_dir(), notes)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "notes")
    monkeypatch.chdir(tmp_path)
    yield notes


def test_the_warning_names_each_garbled_value_with_its_line_and_reading(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(vault.parent)
    out = run("check").stdout
    (warning,) = [line for line in out.splitlines() if "timestamp.garbled" in line]
    assert warning.startswith(f"notes/{SEED}:8: warning timestamp.garbled:")
    assert "line 8: 04:31:33 as 00:04:31; line 12: 04:45:47 as 00:04:45, " in warning
    assert "line 29: 05:42:44 as 00:05:42, " in warning and "08:08:10 as 00:08:08" in warning
    assert "notedeck check --fix" in warning


def test_fix_rewrites_only_timestamps_and_the_cards_keep_their_moments(corpus: Path) -> None:
    before = snapshot(corpus)
    cards = moments_by_card(corpus)
    garbled = [line for line in run("check").stdout.splitlines() if "timestamp.garbled" in line]
    assert len(garbled) >= 3

    shown = run("check", "--fix", "--diff")
    assert shown.exit_code == 0
    assert snapshot(corpus) == before  # --diff writes nothing
    assert git(corpus.parent, "status", "--porcelain") == ""
    assert re.search(r"Would fix \d+ timestamps in \d+ notes", shown.stderr)

    fixed = run("check", "--fix")
    assert re.search(r"Fixed \d+ timestamps in \d+ notes", fixed.stderr)
    assert "timestamp.garbled" not in fixed.stdout
    after = snapshot(corpus)
    changed = sorted(rel for rel in before if after[rel] != before[rel])
    assert len(changed) == len(garbled)
    for rel in changed:
        old, new = before[rel].split(b"\n"), after[rel].split(b"\n")
        assert len(old) == len(new)
        for a, b in zip(old, new, strict=True):
            # Outside the clock values, every byte of every line is as it was.
            assert CLOCK.sub("T", a.decode("utf-8")) == CLOCK.sub("T", b.decode("utf-8"))

    assert moments_by_card(corpus) == cards  # the same cards, the same moments
    assert run("check", "--fix").stderr.startswith("Fixed 0 timestamps in 0 notes.")

    git(corpus.parent, "checkout", "--", ".")
    assert snapshot(corpus) == before  # byte for byte back
    # The diff shown first, applied by git, is the fix: it shows exactly what --fix writes.
    patch = corpus.parent / "fix.patch"
    patch.write_text(shown.stdout, encoding="utf-8")
    git(corpus.parent, "apply", "fix.patch")
    assert snapshot(corpus) == after


def test_fix_leaves_the_same_digits_in_prose_alone(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(vault.parent)
    note = vault / SEED
    text = note.read_text(encoding="utf-8")
    prose = "The talk says 04:31:33 aloud, in plain words."
    lines = text.split("\n")
    lines[7] = f"{prose} {lines[7]}"  # line 8, beside its garbled anchor
    note.write_bytes("\r\n".join(lines).encode("utf-8"))
    assert run("check", "--fix").exit_code == 0
    fixed = note.read_bytes().decode("utf-8")
    assert fixed.count("\r\n") == len(lines) - 1  # line ends as they were
    line = fixed.split("\r\n")[7]
    assert line.startswith(prose)
    assert 'data-t="00:04:31">[00:04:31]</a>' in line
    assert not list(vault.parent.rglob(".*.tmp"))  # nothing left beside the note
