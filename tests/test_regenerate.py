"""Edit the notes, rebuild in the same second, re-import: edits applied, history kept."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import SEED, SIBLING, Anki, add_cloze, run_build
from notedeck.anki.package import PackageWriter
from notedeck.build import BuildReport
from notedeck.incremental import cache
from notedeck.reading.read import parse_note

EPOCH = "1750000000"  # both builds of every test run "in the same second"
SPEED = "healthygamergg/ketamine_as_a_treatment_for_depression#speed-of-efficacy#qa"


@dataclass
class Studied:
    """A collection that imported v1 and reviewed every card of the seed note."""

    notes: Path
    out: Path
    anki: Anki
    v1: BuildReport
    history: dict[int, tuple[int, ...]]  # card id -> scheduling state and review count

    def rebuild(self, **settings: object) -> tuple[BuildReport, list[object]]:
        report = run_build(self.notes, self.out, **settings)
        logs = [self.anki.import_package(d.path) for d in report.decks]
        self.anki.reopen()
        return report, logs


def _state(anki: Anki, cid: int) -> tuple[int, ...]:
    card = anki.col.get_card(cid)
    reviews = anki.col.db.scalar("select count() from revlog where cid = ?", cid)
    return (card.nid, card.type, card.queue, card.due, card.ivl, card.left, reviews)


def _note_id(anki: Anki, guid: str) -> int | None:
    value = anki.col.db.scalar("select id from notes where guid = ?", guid)
    return int(value) if value is not None else None


@pytest.fixture
def studied(vault: Path, tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch) -> Studied:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    # A term the note names gives a cloze: both note types are in the collection, and a
    # cloze card is reviewed too.
    add_cloze(vault)
    out = tmp_path / "decks"
    v1 = run_build(vault, out)
    for deck in v1.decks:
        assert not anki.import_package(deck.path).conflicting  # type: ignore[attr-defined]
    seed_notes = [
        _note_id(anki, r.guid)
        for c, r in zip(v1.cards, v1.rendered, strict=True)
        if c.note_path == SEED
    ]
    cids = [cid for nid in seed_notes for cid in anki.col.card_ids_of_note(nid)]
    for cid in cids:
        anki.answer(cid)
        anki.answer(cid)
    history = {cid: _state(anki, cid) for cid in cids}
    assert {c.kind for c in v1.cards if c.note_path == SEED} == {"qa", "cloze"}
    # The seed note gives a handful of cards (heading questions and definitions), each
    # reviewed twice.
    assert len(history) >= 4 and all(h[-1] == 2 for h in history.values())
    return Studied(vault, out, anki, v1, history)


def _assert_in_sync(s: Studied, report: BuildReport, logs: list[object]) -> None:
    """Anki holds exactly what the build made: one note per card, fields as built, no
    notetype copy, and every reviewed card still there with its history."""
    col = s.anki.col
    for log in logs:
        assert not log.conflicting  # type: ignore[attr-defined]
    for card in report.rendered:
        nid = _note_id(s.anki, card.guid)
        assert nid is not None, card.key
        assert col.get_note(nid).fields == list(card.fields), card.key
    keys = [col.get_note(n)["Key"] for n in col.find_notes("")]
    assert len(keys) == len(set(keys)), "a card was duplicated"
    names = {m.name for m in col.models.all_names_and_ids()}
    assert not any(n.endswith("+") for n in names), names
    for cid, before in s.history.items():
        assert _state(s.anki, cid) == before


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _section(text: str, heading: str) -> str:
    start = text.index(f"\n## {heading}\n")
    end = text.find("\n## ", start + 4)
    return text[start : end if end >= 0 else len(text)]


def test_reworded_sentence_updates_its_card_in_place(studied: Studied) -> None:
    _edit(studied.notes / SEED, "Patients experiencing a depressive", "Patients in a depressive")
    report, logs = studied.rebuild()
    assert [c.key for c in report.changed] == [SPEED]
    assert not report.added and not report.renamed and not report.removed
    _assert_in_sync(studied, report, logs)
    note = studied.anki.col.get_note(_note_id(studied.anki, report.changed[0].guid))  # type: ignore[arg-type]
    assert "Patients in a depressive" in note["Answer"]
    assert sum(len(log.updated) for log in logs) == 1  # type: ignore[attr-defined]


def test_renamed_heading_keeps_the_card_and_its_reviews(studied: Studied) -> None:
    # A new heading that asks the same question: the card keeps its GUID under a new key.
    _edit(studied.notes / SEED, "## Speed of Efficacy", "## Onset of Action")
    report, logs = studied.rebuild()
    renamed = {old: card.key for old, card in report.renamed}
    assert renamed[SPEED].endswith("#onset-of-action#qa")
    assert not report.added and not report.removed
    _assert_in_sync(studied, report, logs)
    card = next(c for _, c in report.renamed if c.key == renamed[SPEED])
    assert card.guid == next(c.guid for c in studied.v1.rendered if c.key == SPEED)
    note = studied.anki.col.get_note(_note_id(studied.anki, card.guid))  # type: ignore[arg-type]
    assert "Onset of Action" in note["Context"]
    assert note["Key"] == renamed[SPEED]


def test_inserted_section_adds_cards_and_touches_nothing_else(studied: Studied) -> None:
    _edit(
        studied.notes / SEED,
        "## Important Precautions",
        "## Dosage\n\nKetamine infusion therapy is a course of low-dose infusions given in a "
        "clinic under medical supervision.\n\n## Important Precautions",
    )
    report, logs = studied.rebuild()
    assert report.added and all("#dosage#" in c.key for c in report.added)
    assert not report.changed and not report.renamed and not report.removed
    _assert_in_sync(studied, report, logs)
    assert sum(len(log.new) for log in logs) == len(report.added)  # type: ignore[attr-defined]
    assert sum(len(log.updated) for log in logs) == 0  # type: ignore[attr-defined]


def test_deleted_section_is_reported_with_a_search_that_deletes_it(studied: Studied) -> None:
    path = studied.notes / SEED
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(_section(text, "How Ketamine Works"), "\n"))
    report, logs = studied.rebuild()
    assert len(report.removed) >= 2 and not report.added and not report.renamed
    assert all("#how-ketamine-works#" in r["key"] for r in report.removed)
    _assert_in_sync(studied, report, logs)
    col = studied.anki.col
    gone = {_note_id(studied.anki, r["guid"]) for r in report.removed}
    found = set(col.find_notes(str(report.extra["removed_search"])))
    assert found == gone  # exactly those notes, nothing else
    col.remove_notes(list(found))
    # The next build still reports nothing new, and importing it brings nothing back.
    again, logs = studied.rebuild()
    assert not again.removed and not again.added and not again.changed
    assert sum(len(log.new) for log in logs) == 0  # type: ignore[attr-defined]
    assert all(_note_id(studied.anki, r["guid"]) is None for r in report.removed)


def test_reordered_sections_change_nothing(studied: Studied) -> None:
    path = studied.notes / SEED
    text = path.read_text(encoding="utf-8")
    first, last = _section(text, "How Ketamine Works"), _section(text, "Important Precautions")
    path.write_text(text.replace(first, "\n@@").replace(last, first).replace("\n@@", last))
    before = {d.path: d.path.read_bytes() for d in studied.v1.decks}
    report, logs = studied.rebuild()
    assert not (report.added or report.changed or report.renamed or report.removed)
    assert {d.path: d.path.read_bytes() for d in report.decks} == before
    assert sum(len(log.updated) + len(log.new) for log in logs) == 0  # type: ignore[attr-defined]
    _assert_in_sync(studied, report, logs)


def test_note_moved_to_another_folder_keeps_every_card(studied: Studied) -> None:
    folder = studied.notes / "healthygamergg" / "psychiatry"
    folder.mkdir()
    shutil.move(studied.notes / SEED, folder)
    report, logs = studied.rebuild()
    seed_cards = [c for c in studied.v1.cards if c.note_path == SEED]
    assert len(report.renamed) == len(seed_cards)
    assert not report.added and not report.removed
    assert all(c.key.startswith("healthygamergg/psychiatry/") for _, c in report.renamed)
    assert sum(len(log.new) for log in logs) == 0  # type: ignore[attr-defined]
    _assert_in_sync(studied, report, logs)


def test_changed_css_updates_the_notetype_without_a_copy(studied: Studied, tmp_path: Path) -> None:
    own = tmp_path / "templates"
    own.mkdir()
    (own / "style.css").write_text(".card { color: rebeccapurple; }\n")
    report, logs = studied.rebuild(templates_dir=own)
    assert not (report.added or report.changed or report.renamed or report.removed)
    _assert_in_sync(studied, report, logs)
    col = studied.anki.col
    for name in ("notedeck Q&A", "notedeck Cloze"):
        assert "rebeccapurple" in col.models.by_name(name)["css"]  # type: ignore[index]


def test_note_deleted_in_anki_but_still_in_the_notes_comes_back_new(studied: Studied) -> None:
    # Documented in docs/updating.md: Anki forgets a deleted note's GUID, so a card that is
    # still in the notes is added again (without its history) on the next import.
    guid = next(c.guid for c in studied.v1.rendered if c.key == SPEED)
    studied.anki.col.remove_notes([_note_id(studied.anki, guid)])  # type: ignore[list-item]
    report, logs = studied.rebuild()
    assert not (report.added or report.changed or report.removed)
    assert sum(len(log.new) for log in logs) == 1  # type: ignore[attr-defined]
    assert _note_id(studied.anki, guid) is not None


def test_unchanged_rebuild_gives_the_same_bytes_anywhere(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    out = tmp_path / "decks"
    first = run_build(vault, out)
    lock = (vault.parent / "notedeck.lock").read_bytes()
    packages = {d.path.name: d.path.read_bytes() for d in first.decks}
    for epoch in (None, "1600000000", EPOCH):
        if epoch:
            monkeypatch.setenv("SOURCE_DATE_EPOCH", epoch)
        run_build(vault, out)
        assert {p.name: p.read_bytes() for p in out.glob("*.apkg")} == packages
        assert (vault.parent / "notedeck.lock").read_bytes() == lock
    # Another machine: a fresh checkout of the notes and the committed lock, built in CI.
    other = tmp_path / "ci" / "checkout"
    shutil.copytree(vault, other / "notes")
    (other / "notedeck.lock").write_bytes(lock)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")
    ci = run_build(other / "notes", other / "decks")
    assert {d.path.name: d.path.read_bytes() for d in ci.decks} == packages


def test_lock_is_sorted_text_with_one_card_per_line(vault: Path) -> None:
    report = run_build(vault)
    lines = (vault.parent / "notedeck.lock").read_text(encoding="utf-8").splitlines()
    data = json.loads("\n".join(lines))
    assert list(data["notes"]) == sorted(data["notes"]) == sorted([SEED, SIBLING])
    # A key is written without its note's path (the notes here have no ids of their own).
    assert {row[0][0] for rows in data["notes"].values() for row in rows} == {"#"}
    keys = [p.removesuffix(".md") + row[0] for p, rows in data["notes"].items() for row in rows]
    assert keys == sorted(keys) == sorted(c.key for c in report.rendered)
    card_lines = [ln for ln in lines if ln.startswith("      [")]
    assert len(card_lines) == len(keys)
    _key, digest, mod, kind, sketch = data["notes"][SEED][0]
    assert isinstance(mod, int) and kind in ("qa", "cloze") and digest and sketch
    assert {n["name"] for n in data["notetypes"]} == {"notedeck Q&A", "notedeck Cloze"}
    assert data["guids"] == {}  # every GUID is still the one its key gives


@pytest.mark.parametrize("content", ["{not json", '{"notedeck_lock": 99}', "", "\x00\xff"])
def test_missing_or_broken_lock_is_rebuilt_with_a_warning(vault: Path, content: str) -> None:
    lock = vault.parent / "notedeck.lock"
    first = run_build(vault)
    assert any(d.code == "lock.missing" for d in first.diagnostics)
    lock.write_text(content, encoding="utf-8", errors="surrogateescape")
    report = run_build(vault)
    assert [d.code for d in report.diagnostics if d.code.startswith("lock.")] == ["lock.corrupt"]
    assert json.loads(lock.read_text(encoding="utf-8"))["notedeck_lock"] == 3
    # The GUIDs do not depend on the lock for cards that were never renamed.
    assert [c.guid for c in report.rendered] == [c.guid for c in first.rendered]


def test_a_change_that_would_split_the_notetype_is_said_plainly(vault: Path) -> None:
    run_build(vault)
    lock = vault.parent / "notedeck.lock"
    data = json.loads(lock.read_text(encoding="utf-8"))
    data["notetypes"][0]["schema"] = "an older field list"
    lock.write_text(json.dumps(data), encoding="utf-8")
    report = run_build(vault)
    split = [d for d in report.diagnostics if d.code == "notetype.split"]
    assert len(split) == 1 and "Merge note types" in split[0].message


def test_dry_run_reports_changes_and_writes_nothing(vault: Path, tmp_path: Path) -> None:
    from notedeck.build import build
    from notedeck.config import Config

    out = tmp_path / "decks"
    run_build(vault, out)
    lock = (vault.parent / "notedeck.lock").read_bytes()
    packages = {p: p.read_bytes() for p in out.iterdir()}
    _edit(vault / SEED, "## Speed of Efficacy", "## Onset of Action")
    report = build(Config(notes_dir=vault, out_dir=out), dry_run=True)
    assert len(report.renamed) == 1
    assert (vault.parent / "notedeck.lock").read_bytes() == lock
    assert {p: p.read_bytes() for p in out.iterdir()} == packages


def test_a_crash_while_writing_leaves_the_previous_packages_and_lock(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    pipeline = importlib.import_module("notedeck.incremental.workers")
    out = tmp_path / "decks"
    run_build(vault, out)
    lock = (vault.parent / "notedeck.lock").read_bytes()
    packages = {p: p.read_bytes() for p in out.iterdir()}
    _edit(vault / SEED, "Patients experiencing a depressive", "Patients in a depressive")

    def crash(*args: object, **kwargs: object) -> bytes:
        raise OSError("disk full")

    monkeypatch.setattr(pipeline.PackageWriter, "finish", crash)
    with pytest.raises(OSError):
        run_build(vault, out)
    assert (vault.parent / "notedeck.lock").read_bytes() == lock
    assert {p: p.read_bytes() for p in out.iterdir()} == packages


def test_a_note_that_cannot_be_read_is_not_reported_as_removed(vault: Path) -> None:
    run_build(vault)
    (vault / SIBLING).write_bytes(b"\x00binary")
    report = run_build(vault)
    assert report.errors == 1
    assert not report.removed
    lock = json.loads((vault.parent / "notedeck.lock").read_text(encoding="utf-8"))
    assert lock["notes"][SIBLING]


@pytest.mark.parametrize("marker", ["{#speed}", "^speed"])
def test_explicit_section_id_wins_over_the_heading(
    vault: Path, marker: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    note = parse_note(f"# T\n\n## Speed of Efficacy {marker}\n\nIt works within hours.\n", "a.md")
    assert [(s.heading, s.slug, s.explicit_id) for s in note.sections] == [
        ("Speed of Efficacy", "speed", True)
    ]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    _edit(vault / SEED, "## Speed of Efficacy", f"## Speed of Efficacy {marker}")
    first = run_build(vault)
    key = SPEED.replace("speed-of-efficacy", "speed")
    assert key in {c.key for c in first.rendered}
    # Another heading (that still asks for the onset): the same key, its card changed.
    _edit(vault / SEED, "## Speed of Efficacy", "## Time to Effect")
    report = run_build(vault)
    assert [c.key for c in report.changed] == [key] and not report.renamed


def test_removal_search_matches_keys_with_search_wildcards_literally(
    tmp_path: Path, anki: Anki
) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    body = (
        "\n\n## What it is\n\nKetamine is a dissociative anaesthetic that blocks NMDA receptors.\n"
    )
    # "_" and "*" are wildcards in Anki's search; '"', "&" and "\\" need escaping.
    ids = {"a.md": 'a_b*c&d "q\\', "b.md": 'a-b-zzc&d "q\\', "c.md": 'aXbc&d "q\\'}
    for name, note_id in ids.items():
        (notes / name).write_text(f"---\nid: '{note_id}'\n---{body}")
    first = run_build(notes)
    for deck in first.decks:
        anki.import_package(deck.path)
    (notes / "a.md").unlink()
    report = run_build(notes)
    assert report.removed and all(r["path"] == "a.md" for r in report.removed)
    found = set(anki.col.find_notes(str(report.extra["removed_search"])))
    expected = {_note_id(anki, r["guid"]) for r in report.removed}
    assert found == expected and len(found) == len(report.removed)


def test_cli_reports_changes_and_the_removal_search(vault: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from notedeck.cli.commands import main

    lock = tmp_path / "elsewhere" / "my.lock"
    args = ["build", str(vault), "--out", str(tmp_path / "decks"), "--lock", str(lock)]
    runner = CliRunner()
    assert runner.invoke(main, args).exit_code == 0
    assert lock.is_file()
    text = (vault / SEED).read_text(encoding="utf-8")
    (vault / SEED).write_text(text.replace(_section(text, "Speed of Efficacy"), "\n"))
    before = lock.read_bytes()
    dry = runner.invoke(main, [*args, "--dry-run", "--json"])
    data = json.loads(dry.stdout)
    assert data["dry_run"] and len(data["removed"]) >= 1 and not data["added"]
    assert data["removed_search"].startswith('("note:notedeck Q&A"')
    assert lock.read_bytes() == before
    human = runner.invoke(main, args)
    assert "removed." in human.stdout and "#speed-of-efficacy#qa (" in human.stdout
    assert data["removed_search"] in human.stdout


def test_an_edit_in_a_deck_that_keeps_its_rows_imports_in_place(
    studied: Studied, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A large deck keeps its package database in the cache, and the next build copies the
    # rows of its unchanged notes from it; here every deck does. Anki must take the
    # package with copied rows as it takes a package written afresh.
    monkeypatch.setattr(cache, "KEEP_ROWS_FROM", 0)
    copied: list[int] = []
    plain_copy = PackageWriter.copy

    def counted_copy(writer: PackageWriter, *args: Any) -> None:
        copied.append(args[2])
        plain_copy(writer, *args)

    monkeypatch.setattr(PackageWriter, "copy", counted_copy)
    _edit(studied.notes / SIBLING, "enables humans to have", "lets humans have")
    report, logs = studied.rebuild()  # writes the database the next build copies from
    _assert_in_sync(studied, report, logs)
    assert not copied
    _edit(studied.notes / SEED, "Patients experiencing a depressive", "Patients in a depressive")
    report, logs = studied.rebuild()
    assert sum(copied) == sum(1 for c in report.cards if c.note_path == SIBLING)
    assert [c.key for c in report.changed] == [SPEED]
    _assert_in_sync(studied, report, logs)
    nid = _note_id(studied.anki, report.changed[0].guid)
    assert nid is not None
    (cid,) = studied.anki.col.card_ids_of_note(nid)
    assert "Patients in a depressive" in studied.anki.col.get_card(cid).answer()
    # Into an empty collection, the package with copied rows gives what a package written
    # afresh from the same notes and lock gives: the same notes, each with its cards.
    shutil.rmtree(studied.notes.parent / ".notedeck-cache")
    shutil.copy(studied.notes.parent / "notedeck.lock", studied.out.parent / "cold.lock")
    cold = run_build(
        studied.notes, studied.out.parent / "cold", lock_path=studied.out.parent / "cold.lock"
    )
    warm_cards = _imported_alone(report, studied.out.parent / "fresh-warm")
    assert warm_cards == _imported_alone(cold, studied.out.parent / "fresh-cold")
    assert len(warm_cards) == len(report.rendered)


def _imported_alone(report: BuildReport, folder: Path) -> dict[str, tuple[tuple[int, str], ...]]:
    """The report's packages imported into a new collection: by GUID, each note's cards
    (template number, rendered question)."""
    folder.mkdir()
    anki = Anki(folder)
    try:
        for deck in report.decks:
            anki.import_package(deck.path)
        cards: dict[str, tuple[tuple[int, str], ...]] = {}
        for nid in anki.col.find_notes(""):
            note = anki.col.get_note(nid)
            rendered = [anki.col.get_card(c) for c in anki.col.card_ids_of_note(nid)]
            cards[note.guid] = tuple(sorted((c.ord, c.question()) for c in rendered))
            assert cards[note.guid], note["Key"]  # every note has its cards
        return cards
    finally:
        anki.close()
