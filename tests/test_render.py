"""Rendering the cards of a note at once gives the fields rendering them one by one gives."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import corpus_dir
from notedeck.anki.render import default_templates_dir, load_templates, render_card, render_cards
from notedeck.build import discover, read_notes, resolve_moments
from notedeck.cards.derive import Style, derive_cards
from notedeck.cards.questions import load_patterns
from notedeck.config import Config
from notedeck.model import Card, CardKind, Line, Moment

TEMPLATES = load_templates(None)
STYLE = Style(load_patterns(TEMPLATES.questions), TEMPLATES.fillers)


def corpus_cards() -> list[Card]:
    root = corpus_dir()
    notes, _ = read_notes(discover(root), root)
    config = Config(notes_dir=root, out_dir=root.parent / "unused")
    moments, _ = resolve_moments(notes, config)
    return [c for n in notes for c in derive_cards(n, moments[n.key], STYLE)]


def test_render_cards_renders_like_render_card_one_at_a_time() -> None:
    cards = corpus_cards()
    decks = ["Deck::" + "::".join(c.deck) for c in cards]
    pairs = zip(cards, decks, strict=True)
    one_by_one = tuple(render_card(c, d, TEMPLATES, "vault") for c, d in pairs)
    assert render_cards(cards, decks, TEMPLATES, "vault") == one_by_one


def test_own_templates_are_rendered_by_jinja(tmp_path: Path) -> None:
    own = tmp_path / "templates"
    own.mkdir()
    shipped = (default_templates_dir() / "answer.html.j2").read_text(encoding="utf-8")
    (own / "answer.html.j2").write_text(shipped.replace("nd-answer", "my-answer"))
    templates = load_templates(own)
    card = next(c for c in corpus_cards() if c.kind is CardKind.QA)
    rendered = render_cards([card], ["deck"], templates, "vault")[0]
    assert 'class="my-answer"' in rendered.fields[1]
    assert rendered == render_card(card, "deck", templates, "vault")


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
# Cards of one note drawn from a few values each, so that many share a context or a source
# line and the fields render_cards makes once per note are reused.
few = st.sampled_from(["", "A", "B & C", "Lowe's", '"Q"', "x › y"])
few_moments = st.lists(st.builds(Moment, st.integers(0, 3)), max_size=2).map(tuple)
alike_cards = st.builds(
    Card,
    key=text,
    kind=st.sampled_from(CardKind),
    note_key=st.just("n"),
    note_path=st.sampled_from(["n.md", "dir/n 2.md"]),
    note_title=few,
    section=few,
    line=st.integers(1, 5),
    question=few,
    answer=st.lists(st.builds(Line, few, few_moments), max_size=2).map(tuple),
    deck=st.just(("deck",)),
    tags=st.sampled_from([(), ("a", "b c")]),
    video_id=st.sampled_from([None, "", "vid", "v/2"]),
    moments=few_moments,
)


@settings(max_examples=400, deadline=None)
@given(st.lists(alike_cards, max_size=12))
def test_render_cards_reuses_only_fields_alike_cards_share(cards: list[Card]) -> None:
    decks = ["deck"] * len(cards)
    one_by_one = tuple(render_card(c, "deck", TEMPLATES, "vault") for c in cards)
    assert render_cards(cards, decks, TEMPLATES, "vault") == one_by_one
