"""Rendering fast gives the same fields: shipped templates in Python, cards a note at a time."""

from __future__ import annotations

import shutil
from pathlib import Path

import jinja2
import markupsafe
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import DISSOCIATION, corpus_dir
from notedeck import shipped_fields
from notedeck.build import discover, read_notes, resolve_moments
from notedeck.config import Config
from notedeck.derive import Style, derive_cards
from notedeck.model import Card, CardKind, Line, Moment
from notedeck.questions import load_patterns
from notedeck.read import parse_note
from notedeck.render import (
    _field_templates,
    _VideoLinks,
    default_templates_dir,
    load_templates,
    note_url,
    render_card,
    render_cards,
    video_url,
)

TEMPLATES = load_templates(None)
STYLE = Style(load_patterns(TEMPLATES.questions), TEMPLATES.fillers)
NAMES = ("context.html.j2", "source.html.j2", "answer.html.j2")


def jinja_fields(card: Card, templates: jinja2.Environment) -> tuple[str, str, str]:
    """The three field templates rendered by Jinja2, as notedeck always rendered them."""
    context = {
        "card": card,
        "video": card.video_id,
        "video_url": lambda m: video_url(card.video_id or "", m),
        "note_url": note_url("vault", card.note_path),
    }
    ctx, source, answer = (templates.get_template(name) for name in NAMES)
    return ctx.render(context), source.render(context), answer.render(context, lines=card.answer)


class Links:
    """video_url as the templates see it, and its escaped form made the plain way."""

    def __init__(self, video_id: str) -> None:
        self.video_id = video_id

    def __call__(self, moment: Moment) -> str:
        return video_url(self.video_id, moment)

    def escaped(self, moment: Moment) -> str:
        return str(markupsafe.escape(self(moment)))


def python_fields(card: Card) -> tuple[str, str, str]:
    url = note_url("vault", card.note_path)
    links = Links(card.video_id or "")
    return tuple(  # type: ignore[return-value]
        shipped_fields.FIELDS[name](card, url, links) for name in NAMES
    )


def corpus_cards() -> list[Card]:
    root = corpus_dir()
    notes, _ = read_notes(discover(root), root)
    config = Config(notes_dir=root, out_dir=root.parent / "unused")
    moments, _ = resolve_moments(notes, config)
    return [c for n in notes for c in derive_cards(n, moments[n.key], STYLE)]


def test_the_shipped_templates_are_rendered_in_python() -> None:
    # Editing a shipped .j2 file switches its Python version off (and this test fails):
    # update shipped_fields.py to match the template, then TEXT_SHA256.
    assert _field_templates(TEMPLATES.env) == tuple(shipped_fields.FIELDS[n] for n in NAMES)


def test_python_fields_equal_jinja_on_the_corpus() -> None:
    # The corpus gives Q&A and label cards; a term a note names gives a cloze. The card
    # writer makes no overview cards any more.
    named = parse_note(f"# Dissociation{DISSOCIATION}", "named.md")
    cards = corpus_cards() + list(derive_cards(named, (), STYLE))
    assert len(cards) > 100
    assert {c.kind for c in cards} == set(CardKind) - {CardKind.OVERVIEW}
    for card in cards:
        assert python_fields(card) == jinja_fields(card, TEMPLATES.env), card.key


text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
lines = st.lists(
    st.builds(
        Line, text, st.lists(st.builds(Moment, st.integers(0, 40_000)), max_size=3).map(tuple)
    ),
    max_size=4,
).map(tuple)
cards = st.builds(
    Card,
    key=text,
    kind=st.sampled_from(CardKind),
    note_key=text,
    note_path=text,
    note_title=text,
    section=text,
    line=st.integers(1, 500),
    question=text,
    answer=lines,
    deck=st.just(("deck",)),
    tags=st.just(()),
    video_id=st.none() | text,
    moments=st.lists(st.builds(Moment, st.integers(0, 40_000)), max_size=3).map(tuple),
)


@given(cards)
def test_python_fields_equal_jinja_on_any_card(card: Card) -> None:
    assert python_fields(card) == jinja_fields(card, TEMPLATES.env)


@given(text, st.builds(Moment, st.integers(-100, 400_000)))
def test_video_links_are_video_url_and_its_escape(video_id: str, moment: Moment) -> None:
    links = _VideoLinks(video_id)
    assert links(moment) == Links(video_id)(moment)
    assert links.escaped(moment) == Links(video_id).escaped(moment)


@given(text)
def test_escape_is_jinja_autoescape(value: str) -> None:
    assert shipped_fields.escape(value) == str(markupsafe.escape(value))


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
    context_of, source_of, answer_of = _field_templates(templates.env)
    # Only the file the folder overrides leaves the Python path.
    assert (context_of, source_of) == (shipped_fields.context_html, shipped_fields.source_html)
    assert answer_of is not shipped_fields.answer_html
    card = next(c for c in corpus_cards() if c.kind is CardKind.QA)
    rendered = render_cards([card], ["deck"], templates, "vault")[0]
    assert 'class="my-answer"' in rendered.fields[1]
    assert rendered == render_card(card, "deck", templates, "vault")


def test_a_copied_template_folder_keeps_the_python_path(tmp_path: Path) -> None:
    own = tmp_path / "templates"
    shutil.copytree(default_templates_dir(), own)
    templates = load_templates(own)
    assert _field_templates(templates.env) == tuple(shipped_fields.FIELDS[n] for n in NAMES)


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
