"""A team keeps its notes and the lock on git: merged, conflicted and broken locks keep
every card's identity, and whoever builds next learns what was removed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import SEED, Anki, run_build
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
    from anki.scheduler.v3 import CardAnswer

    col = anki.col
    for cid in col.find_cards(""):
        card = col.get_card(cid)
        card.start_timer()
        states = col._backend.get_scheduling_states(card.id)
        col.sched.answer_card(
            col.sched.build_answer(card=card, states=states, rating=CardAnswer.GOOD)
        )
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
    _edit(vault / SEED, "## Speed of Efficacy", "## How Fast Ketamine Acts")
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
