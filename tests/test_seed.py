"""The seed note, built and imported into the real Anki backend, as a learner sees it."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import SEED, Anki, run_build
from notedeck.model import CardKind

_LINK = re.compile(r'href="https://www\.youtube\.com/watch\?v=So7hE1Ba_QA&amp;t=(\d+)s"')


def _seed_cards(vault: Path) -> list:
    report = run_build(vault)
    return [c for c in report.cards if c.note_path == SEED]


def test_seed_note_covers_overview_and_every_section(vault: Path) -> None:
    cards = _seed_cards(vault)
    assert len(cards) >= 6
    assert any(c.kind is CardKind.OVERVIEW for c in cards)
    sections = {c.section for c in cards if c.kind is CardKind.QA}
    assert sections == {
        "How Ketamine Works",
        "Speed of Efficacy",
        "Important Precautions",
        "Connection to Other Treatments",
    }


def test_seed_note_reaches_all_22_moments_with_repaired_seconds(vault: Path) -> None:
    cards = _seed_cards(vault)
    cited = {m.seconds for c in cards for m in c.moments}
    # 22 anchors, two of which name the same moment (05:24:26 and 02:24:26 differ; the
    # note repeats none), so every written clock must be reachable from some card.
    written = re.findall(r'data-t="([^"]+)"', (vault / SEED).read_text())
    assert len(written) == 22
    expected = {int(v.split(":")[0]) * 60 + int(v.split(":")[1]) for v in written}
    assert cited == expected
    assert 271 in cited  # 04:31:33 means 4:31, as the sibling note shows
    assert max(cited) <= 8 * 60 + 10  # the video is about eight minutes long


def test_seed_imports_into_anki_and_every_card_renders(vault: Path, anki: Anki) -> None:
    report = run_build(vault)
    [deck] = report.decks
    log = anki.import_package(deck.path)
    assert len(log.new) == len(report.rendered)  # type: ignore[attr-defined]
    assert not log.conflicting  # type: ignore[attr-defined]
    col = anki.col
    card_ids = col.find_cards("")
    assert len(card_ids) == len(report.rendered)
    seen_seconds: set[int] = set()
    for cid in card_ids:
        card = col.get_card(cid)
        question, answer = card.question(), card.answer()
        assert _visible(question), cid
        assert _visible(answer), cid
        for markup in ("[[", "]]", "**", "data-t", "yt-timestamp", "<script"):
            assert markup not in question and markup not in answer
        note = card.note()
        if note["Key"].startswith("healthygamergg/ketamine"):
            seen_seconds.update(int(s) for s in _LINK.findall(answer))
            assert "obsidian://open?vault=notes&amp;file=healthygamergg%2Fketamine" in answer
    written = re.findall(r'data-t="(\d+):(\d+):\d+"', (vault / SEED).read_text())
    assert seen_seconds == {int(m) * 60 + int(s) for m, s in written}


def test_question_phrasing_of_the_seed_sections(vault: Path) -> None:
    questions = {c.section: c.question for c in _seed_cards(vault) if c.kind is CardKind.QA}
    assert questions["How Ketamine Works"].startswith("How does ketamine work?")
    assert questions["Speed of Efficacy"].startswith("How quickly does ketamine take effect?")
    assert questions["Important Precautions"].startswith("What precautions apply to ketamine?")
    assert questions["Connection to Other Treatments"].startswith(
        "How does ketamine relate to other treatments?"
    )


def test_label_items_and_clozes(vault: Path) -> None:
    cards = _seed_cards(vault)
    labels = {c.question: c.answer[0].html for c in cards if c.kind is CardKind.LABEL}
    purity = next(q for q in labels if q.endswith("purity?"))
    assert purity.startswith("Ketamine, ")
    assert "no purity guarantee" in labels[purity]
    clozes = [c.question for c in cards if c.kind is CardKind.CLOZE]
    assert any("{{c1::default mode network}}" in q for q in clozes)
    assert all(q.count("{{c1::") == 1 for q in clozes)


def _visible(card_html: str) -> str:
    without_style = re.sub(r"<style>.*?</style>", "", card_html, flags=re.DOTALL)
    return re.sub(r"<[^>]+>", "", without_style).strip()
