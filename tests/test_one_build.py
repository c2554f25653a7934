"""Builds of one project never trip over each other, a lock setting never writes over a
file of the user's, and a lock that changed under a build has an exit code of its own."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from conftest import REPO, SEED, Anki, corpus_dir
from notedeck import build as build_module
from notedeck.cli.commands import main
from notedeck.config import Config
from notedeck.incremental import cache

fcntl = pytest.importorskip("fcntl")  # the test holds the lock as a build would (POSIX)


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(REPO / "src"), SOURCE_DATE_EPOCH="1700000000", CI="1")


def _run(project: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """notedeck run to its end in `project`, as a user runs it in a terminal."""
    return subprocess.run(
        [sys.executable, "-m", "notedeck", *args],
        cwd=project,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _start(project: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "notedeck", *args],
        cwd=project,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _corpus_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    shutil.copytree(corpus_dir(), project / "notes")
    return project


def test_two_builds_at_once_both_succeed(tmp_path: Path, anki: Anki) -> None:
    project = _corpus_project(tmp_path)
    note = project / "notes" / "3blue1brown" / "3blue1brown.md"
    for round_ in range(3):
        shutil.rmtree(project / ".notedeck-cache", ignore_errors=True)  # both build it all
        with note.open("a", encoding="utf-8") as handle:
            handle.write(f"\nRound {round_} adds a closing sentence to this note.\n")
        builds = [_start(project, "build", "notes", "--out", "decks") for _ in range(2)]
        for process in builds:
            _out, err = process.communicate(timeout=300)
            assert process.returncode == 0, err
            assert "Traceback" not in err
    assert not [p for p in project.rglob("*.tmp")]
    packages = sorted((project / "decks").glob("*.apkg"))
    assert packages
    for package in packages:
        anki.import_package(package)
    report = build_module.build(
        Config(notes_dir=project / "notes", out_dir=project / "decks"), dry_run=True
    )
    assert len(anki.col.find_notes("")) == report.card_count


def _wait_for_line(stream: Any, timeout: float) -> str:
    ready, _, _ = select.select([stream], [], [], timeout)
    return stream.readline() if ready else ""


def test_a_second_build_waits_for_the_first_and_says_so(vault: Path) -> None:
    project = vault.parent
    config = Config(notes_dir=vault.resolve(), out_dir=project / "decks")
    assert not cache.claim_folder(config)  # the folder a first build would make
    held = os.open(cache.build_lock(config), os.O_RDWR | os.O_CREAT)
    try:
        os.write(held, b"4242")
        fcntl.flock(held, fcntl.LOCK_EX)  # a build of these notes is running
        second = _start(project, "build", "notes", "--out", "decks")
        line = _wait_for_line(second.stderr, 60)
        assert "another build of these notes is running (process 4242)" in line
        assert "waiting" in line
        time.sleep(0.5)
        assert second.poll() is None  # it waits ...
        assert not (project / "decks").exists()  # ... having written nothing
    finally:
        os.close(held)  # the first build ends
    _out, err = second.communicate(timeout=120)
    assert second.returncode == 0, err
    assert list((project / "decks").glob("*.apkg"))


def test_commands_that_write_nothing_never_wait(vault: Path) -> None:
    project = vault.parent
    config = Config(notes_dir=vault.resolve(), out_dir=project / "decks")
    cache.claim_folder(config)
    held = os.open(cache.build_lock(config), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(held, fcntl.LOCK_EX)
        for args in (["check", "notes"], ["cards", f"notes/{SEED}"], ["build", "--dry-run"]):
            done = _run(project, *args, timeout=60)
            assert done.returncode == 0, (args, done.stderr)
            assert "waiting" not in done.stderr
    finally:
        os.close(held)


def test_a_lock_changed_during_the_build_exits_3_and_says_build_again(
    vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(vault.parent)
    runner = CliRunner()
    assert runner.invoke(main, ["build"]).exit_code == 0
    (vault / SEED).write_text((vault / SEED).read_text() + "\nA new closing sentence.\n")
    lock = vault.parent / "notedeck.lock"
    plain_jobs = build_module.deck_jobs

    def jobs_after_a_change(*args: Any) -> Any:
        with lock.open("ab") as handle:  # another program writes to the lock meanwhile
            handle.write(b"\n")
        return plain_jobs(*args)

    monkeypatch.setattr(build_module, "deck_jobs", jobs_after_a_change)
    result = runner.invoke(main, ["build"])
    assert result.exit_code == 3
    assert f"{lock}:1:" in result.stderr and "run the build again" in result.stderr
    monkeypatch.setattr(build_module, "deck_jobs", plain_jobs)
    assert runner.invoke(main, ["build"]).exit_code == 0  # and building again does it
    # Both places a user looks for exit codes say what 3 means.
    assert "3  the lock file changed" in runner.invoke(main, ["--help"]).output
    assert "3 the lock file changed" in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("target", ["README.md", "poetry.lock", "../outside/.bashrc"])
@pytest.mark.parametrize("how", ["config", "flag"])
def test_a_lock_setting_naming_a_file_of_the_users_never_overwrites_it(
    vault: Path, target: str, how: str
) -> None:
    project = vault.parent
    victim = (project / target).resolve()
    victim.parent.mkdir(parents=True, exist_ok=True)
    victim.write_text("# My own words\n\nNot a lock at all.\n", encoding="utf-8")
    before = victim.read_bytes()
    args = ["build", "--out", "decks"]
    if how == "config":
        (project / "notedeck.toml").write_text(
            f'notes = "notes"\nlock = "{target}"\n', encoding="utf-8"
        )
    else:
        args = [*args, "notes", "--lock", target]
    done = _run(project, *args)
    assert done.returncode == 2, done.stderr
    assert "this file is not a notedeck lock" in done.stderr
    assert target.rsplit("/", 1)[-1] + ":1:" in done.stderr
    assert "Point `lock =`" in done.stderr
    assert victim.read_bytes() == before
    assert not (project / "decks").exists()
    assert not list(victim.parent.glob(f".{victim.name}.*"))  # no temporary file beside it
