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


def test_seed_note_asks_its_mechanism_onset_and_precautions_each_in_one_card(
    vault: Path,
) -> None:
    cards = _seed_cards(vault)
    asked = {
        c.section: c for c in cards if c.kind is CardKind.QA and not c.pattern.startswith("claim")
    }
    for section, question, said in [
        (
            "How Ketamine Works",
            "How does ketamine work as a treatment for depression?",  # the title's purpose
            "default mode network",
        ),
        ("Speed of Efficacy", "How quickly does ketamine take effect?", "within hours"),
        # The precaution asks, the harm it guards against answers: blind readers dropped
        # "What precautions apply to ketamine?" answered by the advice (a platitude), by
        # the harm ("risks, not precautions") and by both (a vague front).
        (
            "Important Precautions",
            "Why should ketamine only be used under the guidance and prescription of a physician?",
            "lead to PTSD",
        ),
    ]:
        card = asked[section]
        assert card.question == question
        assert said in " ".join(line.html for line in card.answer)
        # One card: no "(1/2)" parts, an answer a learner can recall.
        assert not re.search(r"\(\d+/\d+\)", card.question)
        words = len(re.sub(r"<[^>]+>", "", " ".join(ln.html for ln in card.answer)).split())
        assert words <= 45, (section, words)
        assert card.moments, section


def test_every_seed_card_opens_a_repaired_moment_of_the_video(vault: Path) -> None:
    cards = _seed_cards(vault)
    assert cards
    written = re.findall(r'data-t="(\d+):(\d+):\d+"', (vault / SEED).read_text())
    # The note writes minutes and seconds in the first two fields ("04:31:33" is 4:31):
    # every moment a card cites is one of those, never hours into an eight-minute video.
    repaired = {int(m) * 60 + int(s) for m, s in written}
    for card in cards:
        assert card.moments, card.key
        assert {m.seconds for m in card.moments} <= repaired, card.key
        assert max(m.seconds for m in card.moments) <= 8 * 60 + 10


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
    # The precaution, asked why, answers with the harm on one line, both moments linked.
    [why] = col.find_cards('"Question:Why should ketamine only be used*"')
    answer = col.get_card(why).answer()
    assert "substance of abuse. Misuse can fracture" in answer
    assert "t=275" in answer and "t=468" in answer
    [how] = col.find_cards('"Question:How does ketamine work as a treatment for depression?"')
    assert "default mode network" in col.get_card(how).answer()
    written = re.findall(r'data-t="(\d+):(\d+):\d+"', (vault / SEED).read_text())
    cited = {m.seconds for c in report.cards if c.note_path == SEED for m in c.moments}
    # Every moment a seed card cites is a working link on its back in Anki.
    assert cited and seen_seconds == cited
    assert seen_seconds <= {int(m) * 60 + int(s) for m, s in written}


def test_each_seed_card_says_why_it_was_made(vault: Path) -> None:
    for card in _seed_cards(vault):
        assert card.why, card.key


def _visible(card_html: str) -> str:
    without_style = re.sub(r"<style>.*?</style>", "", card_html, flags=re.DOTALL)
    return re.sub(r"<[^>]+>", "", without_style).strip()
