"""Hostile or broken vaults: nothing hangs, nothing crashes, nothing is taken as deleted."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from conftest import Anki
from notedeck.build import build
from notedeck.cli.commands import main
from notedeck.config import Config
from notedeck.reading.read import MAX_NOTE_BYTES


def note(title: str, *sections: str) -> str:
    body = "".join(
        f"## {s}\nThe {s} method is a technique that the note explains in a short sentence.\n\n"
        for s in sections
    )
    return f"---\ntitle: {title}\n---\n{body}"


@pytest.fixture(autouse=True)
def in_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Commands run from the project folder (the notes are in notes/), as a user runs
    them: every path they name is relative to it."""
    monkeypatch.chdir(tmp_path)


def cli(tmp_path: Path, *args: str) -> Result:
    notes, out = tmp_path / "notes", tmp_path / "decks"
    return CliRunner().invoke(main, ["build", str(notes), "--out", str(out), *args])


def write_vault(tmp_path: Path, files: dict[str, str]) -> Path:
    notes = tmp_path / "notes"
    for rel, text in files.items():
        (notes / rel).parent.mkdir(parents=True, exist_ok=True)
        (notes / rel).write_text(text, encoding="utf-8")
    return notes


@pytest.fixture
def deny(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path], None]:
    """Make a file or folder unreadable as `chmod 000` would for a user (the tests run as
    root, whom chmod does not stop): listing it, opening or stat-ing what is inside fail
    with EACCES."""
    denied: list[str] = []
    real_scandir, real_open, real_stat = os.scandir, os.open, os.stat

    def blocked(path: Any, inside: bool) -> bool:
        if isinstance(path, int):
            return False
        full = os.path.abspath(os.fsdecode(path))
        return any(full == d or (inside and full.startswith(d + os.sep)) for d in denied)

    def scandir(path: Any = ".") -> Any:
        if blocked(path, True):
            raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
        return real_scandir(path)

    def open_(path: Any, *args: Any, **kwargs: Any) -> int:
        if blocked(path, True):
            raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
        return real_open(path, *args, **kwargs)

    def stat(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        # stat needs the folder's search permission: a file of a denied folder fails.
        if blocked(os.path.dirname(os.path.abspath(os.fsdecode(path))), True):
            raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "stat", stat)
    return lambda path: denied.append(str(path.absolute()))


# --- item 3: an unreadable folder or file is an error, never a deletion -----------------


@pytest.mark.parametrize("cache_kept", [True, False])
def test_unreadable_folder_keeps_its_package_and_lock_entries(
    tmp_path: Path, deny: Callable[[Path], None], cache_kept: bool
) -> None:
    notes = write_vault(
        tmp_path,
        {"alpha/a.md": note("A", "Apples"), "beta/b.md": note("B", "Bananas", "Berries")},
    )
    first = cli(tmp_path)
    assert first.exit_code == 0, first.output
    beta = tmp_path / "decks" / "beta.apkg"
    lock = tmp_path / "notedeck.lock"
    package_bytes, lock_bytes = beta.read_bytes(), lock.read_bytes()
    assert "beta/b.md" in lock.read_text()
    if not cache_kept:
        shutil.rmtree(tmp_path / ".notedeck-cache")
    (notes / "alpha" / "a.md").write_text(note("A", "Apples", "Apricots"), encoding="utf-8")

    deny(notes / "beta")
    result = cli(tmp_path, "--json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    problems = {(d["path"], d["code"], d["level"]) for d in data["diagnostics"]}
    assert ("notes/beta", "folder.unreadable", "error") in problems
    assert data["removed"] == [] and data["removed_search"] == ""
    assert beta.read_bytes() == package_bytes  # neither deleted nor written without them
    if cache_kept:  # without the cache, which deck the notes were in is unknown
        assert "beta.apkg" in {Path(d["path"]).name for d in data["decks"]}
    assert lock.read_bytes() != lock_bytes  # alpha's new card went in ...
    text = lock.read_text()
    assert "beta/b.md" in text and text.count("beta/b#") == lock_bytes.decode().count("beta/b#")


def test_unreadable_note_keeps_its_cards_in_the_rewritten_package(
    tmp_path: Path, deny: Callable[[Path], None], anki: Anki
) -> None:
    notes = write_vault(
        tmp_path, {"deck/one.md": note("One", "Oak", "Olive"), "deck/two.md": note("Two", "Teak")}
    )
    assert cli(tmp_path).exit_code == 0
    package = tmp_path / "decks" / "deck.apkg"
    anki.import_package(package)
    before = sorted(anki.col.db.list("select guid from notes"))
    assert len(before) >= 3

    (notes / "deck" / "two.md").write_text(note("Two", "Teak", "Tulip"), encoding="utf-8")
    deny(notes / "deck" / "one.md")
    result = cli(tmp_path)
    assert result.exit_code == 1, result.output
    assert "deck/one.md:1: error note.unreadable" in result.output
    assert "0 removed" in result.output and "Notes > Delete" not in result.output
    assert "one.md" in (tmp_path / "notedeck.lock").read_text()

    (tmp_path / "fresh").mkdir()
    fresh = Anki(tmp_path / "fresh")
    try:
        fresh.import_package(package)  # the new package still holds one.md's cards
        after = set(fresh.col.db.list("select guid from notes"))
    finally:
        fresh.close()
    assert set(before) < after  # every card it had, and Tulip


def test_an_unreadable_note_is_read_again_once_it_can_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deny: Callable[[Path], None]
) -> None:
    notes = write_vault(tmp_path, {"d/one.md": note("One", "Oak"), "d/two.md": note("Two", "Teak")})
    assert cli(tmp_path).exit_code == 0
    deny(notes / "d" / "one.md")
    assert cli(tmp_path).exit_code == 1
    monkeypatch.undo()
    again = cli(tmp_path)
    assert again.exit_code == 0, again.output
    assert "note.unreadable" not in again.output and "0 removed" in again.output


# --- items 10, 11, 12: names, pipes, devices and links ----------------------------------


def test_a_name_that_is_not_utf8_is_reported_and_the_rest_built(tmp_path: Path) -> None:
    notes = write_vault(tmp_path, {"d/good.md": note("Good", "Grapes")})
    os.makedirs(os.fsencode(notes / "d") + b"/sub\xff", exist_ok=True)
    for name in (b"/caf\xe9.md", b"/sub\xff/x.md"):
        with open(os.fsencode(notes / "d") + name, "wb") as handle:
            handle.write(note("Bad", "Beans").encode())
    result = cli(tmp_path, "--json")
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    named = {d["path"]: d["code"] for d in data["diagnostics"] if d["code"] != "lock.missing"}
    assert named == {
        "notes/d/caf\ufffd.md": "note.file-name",
        "notes/d/sub\ufffd": "note.file-name",
    }
    assert data["cards"] > 0 and (tmp_path / "decks" / "d.apkg").is_file()
    checked = CliRunner().invoke(main, ["check", str(notes)])
    assert (
        checked.exit_code == 1 and "notes/d/caf\ufffd.md:1: error note.file-name" in checked.output
    )


def test_a_pipe_or_a_device_named_md_is_not_read(tmp_path: Path) -> None:
    notes = write_vault(tmp_path, {"d/good.md": note("Good", "Grapes")})
    os.mkfifo(notes / "d" / "pipe.md")
    (notes / "d" / "zero.md").symlink_to("/dev/zero")
    (notes / "d" / "inside.md").symlink_to(notes / "d" / "pipe.md")
    result = cli(tmp_path, "--json")
    data = json.loads(result.stdout)
    codes = {d["path"]: d["code"] for d in data["diagnostics"] if d["code"] != "lock.missing"}
    assert codes == {
        "notes/d/pipe.md": "note.not-a-file",
        "notes/d/inside.md": "note.not-a-file",
        "notes/d/zero.md": "note.outside",
    }
    assert data["cards"] > 0 and result.exit_code == 0


def test_a_huge_note_is_read_only_up_to_the_cap(tmp_path: Path) -> None:
    notes = write_vault(tmp_path, {"d/good.md": note("Good", "Grapes")})
    line = "A sentence about a topic that goes on for a while, with some words.\n"
    (notes / "d" / "huge.md").write_text(
        note("Huge", "Starters") + line * (2 * MAX_NOTE_BYTES // len(line)), encoding="utf-8"
    )
    report = build(Config(notes_dir=notes, out_dir=tmp_path / "decks"))
    codes = {(d.path, d.code) for d in report.diagnostics}
    assert ("d/huge.md", "note.too-long") in codes
    assert report.errors == 0 and {c.note_path for c in report.cards} == {"d/good.md", "d/huge.md"}


def test_a_note_linked_from_outside_the_folder_is_not_read(tmp_path: Path) -> None:
    notes = write_vault(
        tmp_path, {"d/good.md": note("Good", "Grapes"), "d/inner.md": note("Inner", "Ivy")}
    )
    secret = tmp_path / "private" / "diary.md"
    secret.parent.mkdir()
    secret.write_text(note("Diary", "Secret plan"), encoding="utf-8")
    (notes / "d" / "linked.md").symlink_to(secret)
    (notes / "d" / "alias.md").symlink_to(notes / "d" / "inner.md")  # inside: fine
    report = build(Config(notes_dir=notes, out_dir=tmp_path / "decks"))
    (outside,) = [d for d in report.diagnostics if d.code == "note.outside"]
    assert outside.path == "d/linked.md" and str(secret) in outside.message
    assert {c.note_path for c in report.cards} == {"d/good.md", "d/inner.md", "d/alias.md"}
    assert not any("Secret" in f for r in report.rendered for f in r.fields)


# --- item 18: a note notedeck fails on is reported; the rest is built ----------------------


def test_a_note_that_breaks_derive_or_render_is_reported_and_the_rest_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import notedeck.incremental.workers

    real_derive, real_render = (
        notedeck.incremental.workers.derive_cards,
        notedeck.incremental.workers.render_cards,
    )

    def derive(note: Any, *args: Any) -> Any:
        if note.title == "Boom":
            raise RuntimeError("derive bug")
        return real_derive(note, *args)

    def render(cards: Any, *args: Any) -> Any:
        if any(c.section == "Crash here" for c in cards):
            raise KeyError("render bug")
        return real_render(cards, *args)

    monkeypatch.setattr(notedeck.incremental.workers, "derive_cards", derive)
    monkeypatch.setattr(notedeck.incremental.workers, "render_cards", render)
    monkeypatch.setenv("NOTEDECK_DEBUG", "")  # restored after the --debug run below
    write_vault(
        tmp_path,
        {
            "d/boom.md": note("Boom", "Bang"),
            "d/crash.md": note("Crash", "Fine part", "Crash here"),
            "d/good.md": note("Good", "Grapes"),
        },
    )
    result = cli(tmp_path)
    assert result.exit_code == 1, result.output
    assert "notes/d/boom.md:1: error note.internal" in result.output
    assert "derive bug" in result.output and "please report" in result.output
    # The line of the card that failed: the sentence under "## Crash here".
    lines = (tmp_path / "notes/d/crash.md").read_text().splitlines()
    crash_line = 2 + lines.index("## Crash here")
    assert lines[crash_line - 1].startswith("The Crash here method is")
    assert f"notes/d/crash.md:{crash_line}: error note.internal" in result.output
    assert "Read 1 note:" in result.output and (tmp_path / "decks" / "d.apkg").is_file()
    # Built again (a failed note is never trusted from the cache): --debug shows the bug.
    debug = cli(tmp_path, "--debug")
    assert isinstance(debug.exception, RuntimeError | KeyError)


# --- item 19: user problems get messages, not tracebacks -------------------------------


def test_an_unreadable_image_is_a_warning_and_the_cards_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = write_vault(
        tmp_path,
        {
            "d/pic.md": "---\ntitle: Pic\n---\n## Seen\n"
            "Ketamine is a dissociative anaesthetic that blocks NMDA receptors ![p](p.png).\n"
        },
    )
    (notes / "d" / "p.png").write_bytes(b"\x89PNG\r\n\x1a\nxx")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "p.png":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    report = build(Config(notes_dir=notes, out_dir=tmp_path / "decks"))
    assert [(d.code, d.path, d.line) for d in report.diagnostics if d.level.value != "info"] == [
        ("media.unreadable", "d/pic.md", 5)
    ]
    assert report.errors == 0 and report.card_count > 0


def test_a_frontmatter_number_too_long_for_python_is_a_note_error(tmp_path: Path) -> None:
    notes = write_vault(
        tmp_path,
        {
            "d/big.md": f"---\ntitle: Big\nrating: {'9' * 5000}\n---\n## A\nSome text.\n",
            "d/good.md": note("Good", "Grapes"),
        },
    )
    report = build(Config(notes_dir=notes, out_dir=tmp_path / "decks"))
    (error,) = [d for d in report.diagnostics if d.level.value == "error"]
    assert (error.code, error.path, error.line) == ("frontmatter.invalid", "d/big.md", 3)
    assert "digits" in error.message and "Exceeds" not in error.message
    assert {c.note_path for c in report.cards} == {"d/good.md"}


# --- item 9: two decks, one file name ------------------------------------------------------


def test_two_decks_with_one_file_name_get_two_packages_and_a_warning(
    tmp_path: Path, anki: Anki
) -> None:
    notes = write_vault(
        tmp_path,
        {"my deck/a.md": note("A", "Apples"), "my_deck/b.md": note("B", "Bananas", "Berries")},
    )
    result = cli(tmp_path, "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (warning,) = [d for d in data["diagnostics"] if d["code"] == "deck.file-name"]
    assert warning["path"] == "notes/my deck/a.md" and warning["level"] == "warning"
    paths = sorted(Path(d["path"]).name for d in data["decks"])
    assert len(paths) == 2 and paths[1] == "my_deck.apkg" and paths[0].startswith("my_deck-")
    for d in data["decks"]:
        anki.import_package(Path(d["path"]))
    decks = {anki.col.decks.name(anki.col.get_card(c).did) for c in anki.col.find_cards("")}
    assert decks == {"my deck", "my_deck"}
    assert len(anki.col.find_cards("")) == data["cards"] >= 3
    checked = CliRunner().invoke(main, ["check", str(notes), "--strict"])
    assert (
        checked.exit_code == 1 and "notes/my deck/a.md:1: warning deck.file-name" in checked.output
    )
    # The same names on the next build, whatever else changed.
    (notes / "my_deck" / "c.md").write_text(note("C", "Cherries"), encoding="utf-8")
    again = json.loads(cli(tmp_path, "--json").stdout)
    assert sorted(Path(d["path"]).name for d in again["decks"]) == paths


# --- item 17: terminal escapes in notes are shown, never obeyed ----------------------------

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
OSC52 = "\x1b]52;c;cHduZWQ=\x07"


def test_terminal_escapes_in_notes_never_reach_the_terminal(tmp_path: Path) -> None:
    hostile = (
        '---\ntitle: "Title \\e]0;window title\\a here"\n'
        'videoId: "\\e]52;c;cHduZWQ=\\a"\n---\n'
        f"## Heading {OSC52} with \x1b]8;;https://evil.example\x1b\\link\x1b]8;;\x1b\\ "
        "[link=https://evil.example]x[/link]\n"
        "Ketamine is a dissociative anaesthetic with a \x9b31m CSI and a \x1b[2J clear and a "
        "bell \x07 in it.\n"
        "![gone](missing\x1b[5m.png)\n"
    )
    notes = write_vault(tmp_path, {"d\x1b[31m\x9b/n\x1b]0;t\x07.md": hostile})
    out = tmp_path / "decks"
    runner = CliRunner()
    outputs = {
        "build": runner.invoke(main, ["build", str(notes), "--out", str(out)]),
        "check": runner.invoke(main, ["check", str(notes)]),
        "cards": runner.invoke(main, ["cards", str(next(notes.glob("*/*.md")))]),
    }
    for command, result in outputs.items():
        assert result.exception is None or isinstance(result.exception, SystemExit), command
        assert "Heading" in result.output or "videoId" in result.output, command
        assert not CONTROL.search(result.output), (command, result.output)
        assert "evil.example" not in result.output or command == "cards", command
    assert "window title" in outputs["cards"].output  # shown as text
    # JSON escapes them: the values are as written, the text holds no raw control.
    for args in (
        ["build", str(notes), "--out", str(out), "--json"],
        ["check", str(notes), "--json"],
    ):
        result = runner.invoke(main, args)
        assert not CONTROL.search(result.stdout), args
        data = json.loads(result.stdout)
        messages = " ".join(d["message"] + d["path"] for d in data["diagnostics"])
        assert OSC52 in messages and "\x1b[31m\x9b" in messages


def test_a_cloze_written_in_a_note_is_text_not_an_extra_card(tmp_path: Path, anki: Anki) -> None:
    notes = write_vault(
        tmp_path,
        {
            # A written cloze in an answer, and braces in the heading of a cloze card.
            "d/c.md": "---\ntitle: Ketamine\n---\n## Side Effects\n\n"
            "Ketamine can cause {{c2::nausea}} and a rise in blood pressure.\n\n"
            "## Memory {{c1::like this}} and }} or {{{\n\n"
            "Memory replay during deep sleep, known as **consolidation**, moves new memories "
            "into long-term storage.\n"
        },
    )
    report = build(Config(notes_dir=notes, out_dir=tmp_path / "decks"))
    assert report.kinds == {"qa": 1, "cloze": 1}
    (deck,) = report.decks
    anki.import_package(deck.path)
    col = anki.col
    assert len(col.find_cards("")) == report.card_count  # no card for c2, nor a second c1
    shown, fronts = [], []
    for cid in col.find_cards(""):
        out = col.get_card(cid).render_output(reload=True)
        fronts.append(out.question_text.replace("\u2060", ""))
        shown.append(fronts[-1] + out.answer_text.replace("\u2060", ""))
    joined = "\n".join(shown)
    assert "{{c2::nausea}}" in joined and "{{c1::like this}} and }} or {{{" in joined
    # The one cloze card hides the term the sentence names, and shows the written cloze
    # of its heading as text.
    (front,) = [f for f in fronts if "[...]" in f]
    assert "known as <span" in front and "{{c1::like this}} and }} or {{{" in front


# --- item 19: outputs that cannot be written are messages, nothing half-written --------------


def _leftovers(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def test_outputs_that_cannot_be_written_are_messages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = write_vault(tmp_path, {"d/a.md": note("A", "Apples")})
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, ["build", str(notes), *args])

    (tmp_path / "file").write_text("x")
    (tmp_path / "lockdir").mkdir()
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    cases = {
        ("--out", str(tmp_path / "file")): "not a folder",
        ("--out", str(tmp_path / "o"), "--lock", str(tmp_path / "lockdir")): "a folder where",
        ("--out", str(loop)): "symbolic links",
    }
    for args, said in cases.items():
        result = run(*args)
        assert result.exit_code == 2 and isinstance(result.exception, SystemExit), args
        assert said in result.output and "Traceback" not in result.output, result.output
    root = runner.invoke(main, ["build", "/", "--dry-run"])
    assert root.exit_code == 2 and "root of the file system" in root.output

    out = tmp_path / "decks"
    (out / "d.apkg").mkdir(parents=True)  # a folder where the package goes
    result = run("--out", str(out))
    assert result.exit_code == 2 and f"{out / 'd.apkg'}: Is a directory" in result.output
    assert not (tmp_path / "notedeck.lock").exists() and not _leftovers(tmp_path)
    (out / "d.apkg").rmdir()

    assert run("--out", str(out)).exit_code == 0
    lock, package = tmp_path / "notedeck.lock", out / "d.apkg"
    before = lock.read_bytes(), package.read_bytes()
    (notes / "d" / "a.md").write_text(note("A", "Apples", "Apricots"), encoding="utf-8")

    import notedeck.anki.files

    def full(fd: int, data: bytes) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(notedeck.anki.files, "_write_all", full)
    result = run("--out", str(out))
    assert result.exit_code == 2 and "No space left on device" in result.output, result.output
    assert (lock.read_bytes(), package.read_bytes()) == before and not _leftovers(tmp_path)
