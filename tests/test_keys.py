"""Card keys are injective and order-free: no note can take another's cards, and
headings that slug alike keep their own cards when they are reordered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import Anki, run_build
from notedeck.build import BuildReport

EPOCH = "1750000000"


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _import(anki: Anki, report: BuildReport) -> list[object]:
    logs = [anki.import_package(d.path) for d in report.decks]
    anki.reopen()
    return logs


def _reviews_by_front(anki: Anki) -> dict[str, int]:
    """Each note's first field (what the card asks) -> reviews of its cards."""
    col = anki.col
    out = {}
    for nid in col.find_notes(""):
        note = col.get_note(nid)
        cids = col.card_ids_of_note(nid)
        reviews = sum(
            col.db.scalar("select count() from revlog where cid = ?", cid) for cid in cids
        )
        out[note.fields[0] + note.fields[1]] = reviews
    return out


def test_a_hash_in_a_file_name_cannot_forge_another_notes_card(
    tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    notes = tmp_path / "notes"
    # d/p.md, section "Sec", item "QA:" -> d/p#sec#label#qa; and the old key of the card
    # of the section with id "label" in d/p#sec.md was d/p#sec + #label#qa: the same key,
    # one GUID.
    _write(
        notes / "d" / "p.md",
        "---\ntitle: Plants\n---\n## Sec\n\n"
        "*   **QA:** A check of the quality of seeds before sale.\n",
    )
    _write(
        notes / "d" / "p#sec.md",
        "---\ntitle: Germination\n---\n## How Germination Works {#label}\n\n"
        "Germination works by the seed taking up water, which swells the embryo and splits "
        "its coat.\n",
    )
    _write(
        notes / "e" / "x.md",
        "---\ntitle: X\nid: d/p#sec\n---\n## Other\n\n"
        "Root hairs are thin outgrowths of a root that absorb water from the soil.\n",
    )
    report = run_build(notes, tmp_path / "decks")
    keys = [c.key for c in report.rendered]
    guids = [c.guid for c in report.rendered]
    assert len(set(keys)) == len(keys) and len(set(guids)) == len(guids)
    # An ordinary note keeps the key it always had; only the name with "#" is escaped.
    assert "d/p#sec#label#qa" in keys
    assert "d/p##sec#label#qa" in keys
    # The `id:` with a "#" is the same name as the file d/p#sec.md: refused, said where.
    dup = [d for d in report.diagnostics if d.code == "note.duplicate-id"]
    assert [(d.path, d.line) for d in dup] == [("e/x.md", 1)]
    logs = _import(anki, report)
    assert sum(len(log.new) for log in logs) == len(keys)  # type: ignore[attr-defined]
    assert not any(log.duplicate for log in logs)  # type: ignore[attr-defined]
    assert len(anki.col.find_notes("")) == len(keys)
    fronts = {anki.col.get_note(n)["Key"] for n in anki.col.find_notes("")}
    assert fronts == set(keys)


_LANG = """---
title: Languages
---
{first}

{second}
"""
_CPP = "## C++\n\nTemplate metaprogramming is a technique that runs code at compile time."
_CS = "## C#\n\nGarbage collection is a process that frees memory a program no longer uses."
_CPP_KEY = "#c-2b-2b#qa#s-definition-template-metaprogramming"
_CS_KEY = "#c-23#qa#s-definition-garbage-collection"


def test_headings_that_slug_alike_keep_their_cards_when_reordered(
    tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    notes = tmp_path / "notes"
    note = notes / "d" / "lang.md"
    _write(note, _LANG.format(first=_CPP, second=_CS))
    first = run_build(notes, tmp_path / "decks")
    _import(anki, first)
    anki.answer_all()
    anki.answer_all()
    before = _reviews_by_front(anki)
    assert len(before) == 2 and set(before.values()) == {2}
    keys = {c.key: c.guid for c in first.rendered}
    assert set(keys) == {"d/lang" + _CPP_KEY, "d/lang" + _CS_KEY}

    _write(note, _LANG.format(first=_CS, second=_CPP))
    again = run_build(notes, tmp_path / "decks")
    assert {c.key: c.guid for c in again.rendered} == keys
    assert not again.changed and not again.renamed and not again.removed
    logs = _import(anki, again)
    assert not any(log.new for log in logs)  # type: ignore[attr-defined]
    assert _reviews_by_front(anki) == before  # each history on its own card


def test_a_lone_heading_keeps_its_slug_and_repeated_ones_are_numbered(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    _write(
        notes / "n.md",
        "---\ntitle: N\n---\n## C++\n\n"
        "Machine code is the binary instruction set that a processor runs directly.\n\n"
        "## Example\n\nBytecode is a compact instruction set that a virtual machine interprets."
        "\n\n## Example\n\n"
        "An object file is a block of compiled code that a linker joins into a program.\n\n"
        "## Sleep\n\n### C#\n\n"
        "REM sleep is a phase of sleep with rapid eye movements and vivid dreams.\n",
    )
    sections = sorted(c.key.split("#")[1] for c in run_build(notes).rendered)
    assert sections == ["c", "example", "example-2", "sleep/c"]


def test_a_lock_with_the_old_numbered_slugs_keeps_every_guid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A note built by an earlier notedeck had "c" and "c-2": its cards are renamed to the
    new keys and keep their GUIDs, so Anki updates them in place."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    notes = tmp_path / "notes"
    _write(notes / "d" / "lang.md", _LANG.format(first=_CPP, second=_CS))
    run_build(notes)
    lock = tmp_path / "notedeck.lock"
    text = lock.read_text(encoding="utf-8")
    old_cpp = _CPP_KEY.replace("#c-2b-2b#", "#c#")
    old_cs = _CS_KEY.replace("#c-23#", "#c-2#")
    old = text.replace(f'"{_CPP_KEY}"', f'"{old_cpp}"').replace(f'"{_CS_KEY}"', f'"{old_cs}"')
    assert old != text
    lock.write_text(old, encoding="utf-8")
    report = run_build(notes)
    renamed = {old: new.key for old, new in report.renamed}
    assert renamed == {
        "d/lang" + old_cpp: "d/lang" + _CPP_KEY,
        "d/lang" + old_cs: "d/lang" + _CS_KEY,
    }
    guids = json.loads(lock.read_text(encoding="utf-8"))["guids"]
    from notedeck.anki.identity import guid_for

    assert guids == {
        "d/lang" + _CPP_KEY: guid_for("d/lang" + old_cpp),
        "d/lang" + _CS_KEY: guid_for("d/lang" + old_cs),
    }
    assert not report.removed and not report.added
