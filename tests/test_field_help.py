"""The notetypes' fields say what they are in Anki's editor, and saying so splits nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from conftest import Anki, add_cloze, run_build
from notedeck.anki import package
from notedeck.anki.render import CLOZE_FIELDS, FIELD_HELP, QA_FIELDS

EPOCH = "1750000000"


def test_spare_fields_are_described_and_folded_and_an_older_collection_keeps_its_history(
    vault: Path, tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    add_cloze(vault)  # both note types in use
    out = tmp_path / "decks"
    # A collection that studied decks of a notedeck whose fields said nothing.
    with monkeypatch.context() as before:
        before.setattr(package, "FIELD_HELP", dict.fromkeys(FIELD_HELP, ("", False)))
        v1 = run_build(vault, out)
    for deck in v1.decks:
        assert not anki.import_package(deck.path).conflicting  # type: ignore[attr-defined]
    col = anki.col
    cids = list(col.find_cards(""))
    for cid in cids:
        anki.answer(cid)
    history = {cid: col.db.scalar("select count() from revlog where cid = ?", cid) for cid in cids}
    assert set(history.values()) == {1}
    names = sorted(m.name for m in col.models.all_names_and_ids())

    # The build of now, from the same notes and lock (its cache and packages gone).
    shutil.rmtree(vault.parent / ".notedeck-cache", ignore_errors=True)
    shutil.rmtree(out)
    v2 = run_build(vault, out)
    assert not (v2.added or v2.changed or v2.renamed or v2.removed)
    for deck in v2.decks:
        log = anki.import_package(deck.path)
        assert not log.conflicting  # type: ignore[attr-defined]
    anki.reopen()
    col = anki.col
    assert sorted(m.name for m in col.models.all_names_and_ids()) == names  # no "+" copy
    assert sorted(col.find_cards("")) == sorted(cids)
    for cid, reviews in history.items():
        assert col.db.scalar("select count() from revlog where cid = ?", cid) == reviews
    for name, fields in (("notedeck Q&A", QA_FIELDS), ("notedeck Cloze", CLOZE_FIELDS)):
        model = col.models.by_name(name)
        assert model is not None
        shown = {f["name"]: (f["description"], f["collapsed"]) for f in model["flds"]}
        assert list(shown) == list(fields)  # the same fields, in the same order
        for spare in ("Spare 1", "Spare 2", "Spare 3"):
            description, collapsed = shown[spare]
            assert "later notedeck" in description and "Leave it empty" in description
            assert collapsed
        assert shown["Key"][0] and not shown["Context"][1]


def test_the_note_link_looks_like_a_link_and_does_not_repeat_the_title(
    vault: Path, tmp_path: Path, anki: Anki
) -> None:
    import re

    from notedeck.anki.render import default_templates_dir

    report = run_build(vault, tmp_path / "decks")
    for deck in report.decks:
        anki.import_package(deck.path)
    col = anki.col
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        title = card.note()["Context"].split("</span>", 1)[0].split(">", 1)[1]
        back = card.answer()
        # The title once, in the context line; the link says what it does.
        assert back.count(f">{title}<") == 1, back
        assert re.search(r'<a href="obsidian://open\?[^"]+">Open the note in Obsidian</a>', back)
    css = (default_templates_dir() / "style.css").read_text(encoding="utf-8")
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    rules = {k.strip(): v for k, v in re.findall(r"([^{}]+)\{([^}]*)\}", css)}
    light = rules[".nd-source a"]
    assert "color: #0969da" in light and "inherit" not in light
    assert "underline" in rules[".nd-note a"]
    night = next(v for k, v in rules.items() if ".nightMode .nd-source a" in k)
    assert "color: #6cb6ff" in night
