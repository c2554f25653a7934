"""A rebuild from the cache writes exactly what a cold build from the same lock writes, and
touches only the packages whose cards changed."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import Anki, corpus_dir
from notedeck import build as build_module
from notedeck.anki.package import PackageWriter
from notedeck.build import BuildReport, build
from notedeck.config import Config
from notedeck.errors import LockChanged
from notedeck.incremental import cache
from notedeck.incremental.lock_source import InMemory, OpenFile

MARK = 1_000_000_000_000_000_000  # a file time no write would give
# The corpus's one note at the root gives no card: this one is the root deck's only note
# with cards, so deleting it deletes that deck's package.
STRESS = "stress.md"
CLAIM = "Chronic stress leads to higher cortisol levels."


def _build(notes: Path, **settings: object) -> BuildReport:
    config = Config(notes_dir=notes, out_dir=notes.parent / "decks", **settings)  # type: ignore[arg-type]
    return build(config, collect=False)


def _written(notes: Path) -> dict[str, bytes]:
    files = {"notedeck.lock": (notes.parent / "notedeck.lock").read_bytes()}
    for package in sorted((notes.parent / "decks").glob("*.apkg")):
        files[package.name] = package.read_bytes()
    return files


def _cold_copy(notes: Path, lock: bytes, where: Path) -> dict[str, bytes]:
    """Build a copy of `notes` with `lock` and no cache at all."""
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(notes, where / "notes")
    (where / "notedeck.lock").write_bytes(lock)
    _build(where / "notes")
    return _written(where / "notes")


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _first_heading(path: Path) -> str:
    return next(ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.startswith("## "))


EDITS: dict[str, Callable[[Path], None]] = {
    # A sentence a card answers with (the first note in the lock with cards).
    "edit a sentence": lambda notes: _replace(
        notes / "3blue1brown" / "generative_pretrained_transformer_architecture.md",
        "a specific type of neural network",
        "a specific kind of neural network",
    ),
    "reword a heading": lambda notes: _replace(
        notes / "colemedin" / sorted(os.listdir(notes / "colemedin"))[0],
        _first_heading(notes / "colemedin" / sorted(os.listdir(notes / "colemedin"))[0]),
        _first_heading(notes / "colemedin" / sorted(os.listdir(notes / "colemedin"))[0])
        + " explained",
    ),
    "delete a note": lambda notes: (notes / STRESS).unlink(),
    "move a note to another deck": lambda notes: shutil.move(
        notes / "3blue1brown" / "integration_and_antiderivatives.md",
        notes / "asianometry" / "integration_and_antiderivatives.md",
    ),
    "add a note": lambda notes: (notes / "asianometry" / "new_note.md").write_text(
        "---\ntitle: Lithography\nvideoId: abcdefghijk\n---\n\n## What Lithography Is\n\n"
        "Photolithography is a process that prints circuit patterns onto silicon wafers with "
        "light.\n",
        encoding="utf-8",
    ),
    "touch without change": lambda notes: (notes / "3blue1brown" / "3blue1brown.md").touch(),
}


@pytest.mark.parametrize("keep_rows", [False, True], ids=["fresh-rows", "copied-rows"])
def test_every_rebuild_equals_a_cold_build_from_the_same_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, keep_rows: bool
) -> None:
    """With `keep_rows`, every package keeps its database (as large ones do), so that
    rebuilds copy the rows of unchanged notes from it instead of writing them anew."""
    copied: list[int] = []
    if keep_rows:
        monkeypatch.setattr(cache, "KEEP_ROWS_FROM", 0)
        plain_copy = PackageWriter.copy

        def counted_copy(writer: PackageWriter, *args: Any) -> None:
            copied.append(args[2])
            plain_copy(writer, *args)

        monkeypatch.setattr(PackageWriter, "copy", counted_copy)
    settings = {"jobs": 1} if keep_rows else {}  # in this process, where the count is
    notes = tmp_path / "vault" / "notes"
    shutil.copytree(corpus_dir(), notes)
    (notes / STRESS).write_text(f"---\ntitle: Stress\n---\n\n## Hormones\n\n{CLAIM}\n")
    epoch = 1_700_000_000
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch))
    _build(notes, **settings)
    assert not copied
    for step, (name, edit) in enumerate(EDITS.items(), 1):
        before = _written(notes)
        for package in (notes.parent / "decks").glob("*.apkg"):
            os.utime(package, ns=(MARK, MARK))
        edit(notes)
        monkeypatch.setenv("SOURCE_DATE_EPOCH", str(epoch + step * 1000))
        report = _build(notes, **settings)
        warm = _written(notes)
        cold = _cold_copy(notes, before["notedeck.lock"], tmp_path / f"cold-{step}")
        assert warm == cold, name
        rewritten = {
            p.name for p in (notes.parent / "decks").glob("*.apkg") if p.stat().st_mtime_ns != MARK
        }
        changed = {n for n in warm if n.endswith(".apkg") and warm[n] != before.get(n)}
        assert rewritten == changed, name  # what changed is written, nothing else
        if name == "delete a note":  # the only note of the root deck: its package goes
            assert "notes.apkg" in before and "notes.apkg" not in warm
        if name == "touch without change":
            assert not rewritten and warm == before
        if name == "move a note to another deck":
            assert report.renamed and not report.added and not report.removed
            assert rewritten == {"3blue1brown.apkg", "asianometry.apkg"}
        if name == "edit a sentence":
            assert rewritten == {"3blue1brown.apkg"} and (report.changed or report.renamed)
            # The deck's other notes came from the kept database: all cards but the note's.
            edited = sum(1 for c in report.changed) + len(report.added)
            assert not keep_rows or 0 < sum(copied) < report.decks[0].cards + edited
        copied.clear()


_DIGITS = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


def _older_lock(lock: bytes, version: str) -> str:
    """The same lock as notedeck wrote it in format 1 (an object per card, with its GUID
    and path) or 2 (this layout, every key whole, every sketch in 6 hex digits a hash), or
    of format 2 reformatted by some tool."""
    if version == "1":
        current = json.loads(lock)
        cards = [
            {"guid": current["guids"].get(k) or _guid(k), "hash": h, "key": k, "mod": m,
             "path": path, "sketch": sketch, "title": "t", "type": t}
            for path, rows in json.loads(_older_lock(lock, "2"))["notes"].items()
            for k, h, m, t, sketch in rows
        ]  # fmt: skip
        return json.dumps({"notedeck_lock": 1, "notetypes": current["notetypes"], "cards": cards})
    if version == "2 reformatted":
        return json.dumps(json.loads(_older_lock(lock, "2")))
    lines = lock.decode().replace('"notedeck_lock": 3,', '"notedeck_lock": 2,', 1).split("\n")
    path = ""
    notes = lines.index('  "notes": {')
    for n, line in enumerate(lines[notes:], start=notes):
        if line.startswith('    "'):
            path = json.loads(line[4:].removesuffix(": ["))
        elif line.startswith("      ["):
            k, h, m, t, sketch = json.loads(line.rstrip(","))
            row = [_whole_key(path, k), h, m, t, _hex(sketch)]
            lines[n] = "      " + json.dumps(row, ensure_ascii=False) + line[-1:].strip("]")
    return "\n".join(lines)


def _whole_key(path: str, written: str) -> str:
    # Format 3 writes "#..." for the note's path without ".md" and "#...", "=" before a
    # whole key that starts with "#" or "=".
    if written.startswith("#"):
        return path.removesuffix(".md") + written
    return written.removeprefix("=")


def _hex(sketch: str) -> str:
    numbers = (
        sum(_DIGITS.index(c) << (6 * (3 - j)) for j, c in enumerate(sketch[i : i + 4]))
        for i in range(0, len(sketch), 4)
    )
    return "".join(f"{n:06x}" for n in numbers)


def _set_id(note: Path, note_id: str) -> None:
    text = note.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    note.write_text(f"---\nid: {json.dumps(note_id)}\n" + text[4:], encoding="utf-8")


_STUDY_NOTES = (
    (
        "enzymes.md",
        "Enzymes",
        "The amylase enzyme is a protein that breaks down starch into sugars.",
    ),
    ("stress.md", "Stress", "Chronic stress leads to higher cortisol levels in the blood."),
    (
        "sampling.md",
        "Sampling",
        "The standard error is a measure of how far a sample mean falls from the true mean.",
    ),
    (
        "plants.md",
        "Plants",
        "Photosynthesis is a process that turns light, water and carbon dioxide into sugar.",
    ),
    ("tides.md", "Tides", "The tidal force is a pull that the Moon exerts on the oceans."),
)


def test_locks_of_earlier_formats_keep_every_guid_and_mod(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, anki: Anki
) -> None:
    from notedeck.incremental.lock import LOCK_FORMAT, Planner

    notes = tmp_path / "vault" / "notes"
    shutil.copytree(corpus_dir(), notes)
    # Half the corpus's notes give no card under today's writer: a few study notes that do,
    # so that most of the vault is notes a cold build compares with the lock.
    for name, title, sentence in _STUDY_NOTES:
        (notes / "study").mkdir(exist_ok=True)
        (notes / "study" / name).write_text(
            f"---\ntitle: {title}\n---\n## {title}\n{sentence}\n", encoding="utf-8"
        )
    # The note given an id below must give a card whatever the writer leaves out of it.
    with (notes / "3blue1brown" / "word_embeddings_and_vectors.md").open("a") as note:
        note.write(
            "\n## Embedding Space\nA vector space is a set of vectors closed under addition.\n"
        )
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    _build(notes)
    # Renamed cards (GUIDs listed under "guids") and keys that are not their note's path:
    # a note moved, a note given an id and moved, a note given an id that starts with "#".
    shutil.move(
        notes / "3blue1brown" / "integration_and_antiderivatives.md",
        notes / "asianometry" / "integration_and_antiderivatives.md",
    )
    _set_id(
        notes / "3blue1brown" / "generative_pretrained_transformer_architecture.md", 'gpt "id" é'
    )
    shutil.move(
        notes / "3blue1brown" / "generative_pretrained_transformer_architecture.md",
        notes / "colemedin",
    )
    _set_id(notes / "3blue1brown" / "word_embeddings_and_vectors.md", "#words=")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700005000")
    report = _build(notes)
    assert report.renamed and not report.added
    lock_path = notes.parent / "notedeck.lock"
    current = lock_path.read_bytes()
    assert json.loads(current)["notedeck_lock"] == LOCK_FORMAT == 3
    assert len(json.loads(current)["guids"]) == len(report.renamed) >= 3
    assert b'\n      ["gpt \\"id\\" \xc3\xa9#' in current
    assert b'\n      ["=##words=#' in current  # the id's "#" doubled (identity.note_key)
    packages = {p.name: p.read_bytes() for p in (notes.parent / "decks").glob("*.apkg")}
    planned: list[str] = []
    plan = Planner.plan

    def counted(planner: Planner, path: str, stamps: Any) -> Any:
        planned.append(path)
        return plan(planner, path, stamps)

    monkeypatch.setattr(Planner, "plan", counted)
    every_note = {p.relative_to(notes).as_posix() for p in notes.rglob("*.md")}
    without_cards = every_note - json.loads(current)["notes"].keys()
    assert len(every_note) - len(without_cards) >= 20  # every format tried on many notes
    for n, version in enumerate(("1", "2", "2 reformatted", "3")):
        if version != "3":
            lock_path.write_text(_older_lock(current, version), encoding="utf-8")
        shutil.rmtree(notes.parent / ".notedeck-cache")
        monkeypatch.setenv("SOURCE_DATE_EPOCH", f"170001{n}000")
        report = _build(notes)
        assert not (report.added or report.changed or report.renamed or report.removed)
        assert not [d for d in report.diagnostics if d.code.startswith("lock.")]
        # Written anew in format 3, byte for byte; a lock of format 3 is not written at all.
        assert lock_path.read_bytes() == current
        assert {p.name: p.read_bytes() for p in (notes.parent / "decks").glob("*.apkg")} == packages
        # A cold build with a lock plans no note whose cards are as the lock has them:
        # only those without cards (which have no block to compare).
        assert set(planned) == without_cards, planned
        planned.clear()


def _guid(key: str) -> str:
    from notedeck.anki.identity import guid_for

    return guid_for(key)


def test_a_package_that_fails_in_a_parallel_build_leaves_everything_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import notedeck.incremental.workers
    from notedeck.incremental import parallel

    notes = tmp_path / "vault" / "notes"
    shutil.copytree(corpus_dir(), notes)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    _build(notes, jobs=2)
    before = _written(notes)
    for folder in sorted(p for p in notes.iterdir() if p.is_dir()):
        note = sorted(folder.glob("*.md"))[0]
        text = note.read_text(encoding="utf-8") + f"\n\n## Stress\n\n{CLAIM}\n"
        note.write_text(text, encoding="utf-8")  # a card in each deck
    real = notedeck.incremental.workers.PackageWriter.finish

    def fail_on_one(writer, media):  # type: ignore[no-untyped-def]
        if "colemedin" in writer.decks:
            raise OSError("disk full")
        return real(writer, media)

    # Workers are forked from this process, so they see the failing writer too.
    monkeypatch.setattr(notedeck.incremental.workers.PackageWriter, "finish", fail_on_one)
    monkeypatch.setattr(parallel, "SERIAL_BELOW", 0)
    with pytest.raises(OSError, match="disk full"):
        _build(notes, jobs=2)
    assert _written(notes) == before
    leftovers = [p.name for p in (notes.parent / "decks").iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_cache_that_cannot_be_written_changes_nothing_but_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    normal = tmp_path / "normal" / "notes"
    shutil.copytree(corpus_dir(), normal)
    built = _build(normal)
    blocked = tmp_path / "blocked" / "notes"
    shutil.copytree(corpus_dir(), blocked)
    not_a_folder = tmp_path / "cache-is-a-file"
    not_a_folder.write_text("not a folder", encoding="utf-8")
    first = _build(blocked, cache_dir=not_a_folder)
    assert first.card_count == built.card_count > 20 and not first.removed
    assert _written(blocked) == _written(normal)
    again = _build(blocked, cache_dir=not_a_folder)  # nothing cached: all built again
    assert not (again.added or again.changed or again.renamed or again.removed)
    assert _written(blocked) == _written(normal)


def test_lost_cache_files_are_an_empty_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    notes = tmp_path / "vault" / "notes"
    shutil.copytree(corpus_dir(), notes)
    _build(notes)
    before = _written(notes)
    (folder,) = (notes.parent / ".notedeck-cache").iterdir()
    for meta in folder.glob("meta-*.json"):  # what sibling checks and plans read
        meta.unlink()
    for cards in sorted(folder.glob("cards-*.json"))[::2]:  # what packages are made of
        cards.write_bytes(b"not json")
    EDITS["edit a sentence"](notes)
    for package in (notes.parent / "decks").glob("*.apkg"):
        package.unlink()  # every package is written again, from whatever the cache has
    report = _build(notes)
    assert report.changed and not report.removed and not report.added
    after = _written(notes)
    assert after.keys() == before.keys()
    assert _cold_copy(notes, before["notedeck.lock"], tmp_path / "cold") == after


def test_building_into_another_folder_leaves_the_first_folder_alone(tmp_path: Path) -> None:
    notes = tmp_path / "vault" / "notes"
    shutil.copytree(corpus_dir(), notes)
    first = build(Config(notes_dir=notes, out_dir=tmp_path / "a"), collect=False)
    build(Config(notes_dir=notes, out_dir=tmp_path / "b"), collect=False)
    assert all(d.path.is_file() for d in first.decks)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(
        p.name for p in (tmp_path / "b").iterdir()
    )


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd"))


@pytest.mark.parametrize("copy", ["kernel", "buffered", "portable"])
def test_an_edit_writes_the_lock_a_build_in_memory_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, copy: str
) -> None:
    """A rebuild reads its lock from the open file and copies the untouched blocks from it
    (copy_file_range; through a buffer where the kernel cannot; seek and read where there
    is neither it nor pread): the same bytes as a cold build holding the lock in memory,
    and as a cold build that finds the blocks in the file a chunk at a time."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    notes = tmp_path / "vault" / "notes"
    shutil.copytree(corpus_dir(), notes)
    _build(notes)
    before = _written(notes)
    EDITS["edit a sentence"](notes)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700001000")
    copies: list[int] = []
    kernel_copy = getattr(os, "copy_file_range", None)

    def copy_file_range(src: int, dst: int, count: int, offset_src: int | None = None) -> int:
        copies.append(count)
        if copy == "buffered" or kernel_copy is None:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return kernel_copy(src, dst, count, offset_src)

    if copy == "portable":
        monkeypatch.delattr(os, "copy_file_range", raising=False)
        monkeypatch.delattr(os, "pread", raising=False)
    else:
        monkeypatch.setattr(os, "copy_file_range", copy_file_range, raising=False)
    fds = _open_fds() if sys.platform == "linux" else set()
    report = _build(notes)
    assert report.changed or report.renamed
    if sys.platform == "linux":
        assert _open_fds() == fds  # the lock file is closed again
    warm = _written(notes)
    assert warm["notedeck.lock"] != before["notedeck.lock"]
    # The edited note's block comes first: every other one is copied in one run.
    assert len(copies) == (0 if copy == "portable" else 1)
    assert _cold_copy(notes, before["notedeck.lock"], tmp_path / "cold-file") == warm
    if sys.platform == "linux":
        assert _open_fds() == fds
    monkeypatch.undo()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700001000")
    monkeypatch.setattr(OpenFile, "open", classmethod(lambda _cls, p: InMemory(p.read_bytes())))
    assert _cold_copy(notes, before["notedeck.lock"], tmp_path / "cold") == warm


def test_a_lock_changed_during_the_build_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks copied from a lock another program wrote to meanwhile would mix two files:
    the build stops with LockChanged and writes no lock and no package."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    notes = tmp_path / "vault" / "notes"
    shutil.copytree(corpus_dir(), notes)
    _build(notes)
    EDITS["edit a sentence"](notes)
    lock = notes.parent / "notedeck.lock"
    plain_jobs = build_module.deck_jobs

    def jobs_after_a_change(*args: Any) -> Any:
        with lock.open("ab") as handle:  # in place: the build's open file changes
            handle.write(b"\n")
        return plain_jobs(*args)

    monkeypatch.setattr(build_module, "deck_jobs", jobs_after_a_change)
    changed = _written(notes)
    changed["notedeck.lock"] += b"\n"
    fds = _open_fds() if sys.platform == "linux" else set()
    with pytest.raises(LockChanged, match="changed during the build"):
        _build(notes)
    assert _written(notes) == changed
    assert not list(notes.parent.rglob("*.tmp"))
    if sys.platform == "linux":
        assert _open_fds() == fds
