"""Render cards into Anki note fields with the Jinja2 templates of card_templates/."""

from __future__ import annotations

import functools
import hashlib
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import jinja2

from notedeck.anki.identity import guid_for
from notedeck.anki.sanitise import sanitise
from notedeck.errors import TemplateError
from notedeck.model import Card, CardKind, Moment, pickled_by_fields

# The frozen field lists. Anki splits a notetype whose fields change, so these never
# change; the spare fields are there for what later versions add.
QA_FIELDS = ("Question", "Answer", "Context", "Source", "Key", "Spare 1", "Spare 2", "Spare 3")
CLOZE_FIELDS = ("Text", "Context", "Source", "Key", "Spare 1", "Spare 2", "Spare 3")
_SPARES = ("", "", "")  # the spare fields notedeck leaves empty

# What Anki's editor says about a field (shown in it while the field is empty), and
# whether the editor shows it folded. Neither is part of what makes Anki split a
# notetype: they change with a newer notetype mod, like the CSS.
_SPARE = (
    "Empty on purpose: kept for a field a later notedeck may add, since adding one "
    "would make Anki split this note type. Leave it empty."
)
FIELD_HELP: dict[str, tuple[str, bool]] = {
    "Question": ("Written by notedeck from the section's heading: edit your note.", False),
    "Answer": ("Written by notedeck from the section's points: edit your note.", False),
    "Text": ("Written by notedeck from a sentence of your note: edit your note.", False),
    "Context": ("The note's title and section, shown above the card.", False),
    "Source": ("Links to the video's moments and to the note.", False),
    "Key": ("notedeck's name for this card, which ties it to its note: keep it.", True),
    "Spare 1": (_SPARE, True),
    "Spare 2": (_SPARE, True),
    "Spare 3": (_SPARE, True),
}


@dataclass(frozen=True, slots=True)
class Templates:
    """The card templates: Jinja2 for fields, HTML and CSS for Anki's notetypes."""

    env: jinja2.Environment
    qa_front: str
    qa_back: str
    cloze_front: str
    cloze_back: str
    css: str
    fillers: tuple[str, ...]
    questions: Path
    digest: str  # changes whenever any template changes


def default_templates_dir() -> Path:
    """The templates shipped with notedeck (the repository's card_templates/ folder)."""
    source_tree = Path(__file__).resolve().parents[3] / "card_templates"
    if source_tree.is_dir():
        return source_tree
    return Path(str(resources.files("notedeck.card_templates")))


_FILES = (
    "answer.html.j2",
    "context.html.j2",
    "source.html.j2",
    "qa_front.html",
    "qa_back.html",
    "cloze_front.html",
    "cloze_back.html",
    "style.css",
    "fillers.txt",
    "questions.toml",
)


def load_templates(folder: Path | None) -> Templates:
    """Load the templates from `folder`, falling back file by file to the shipped ones."""
    defaults = default_templates_dir()
    chosen: dict[str, Path] = {}
    for name in _FILES:
        own = folder / name if folder else None
        chosen[name] = own if own is not None and own.is_file() else defaults / name
    texts = {}
    for name, path in chosen.items():
        try:
            texts[name] = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise TemplateError(f"{path}:1: cannot read this template ({exc}).") from exc
    env = jinja2.Environment(
        loader=jinja2.DictLoader({k: v for k, v in texts.items() if k.endswith(".j2")}),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
    )
    digest = hashlib.sha256("\0".join(texts[n] for n in _FILES).encode()).hexdigest()
    fillers = tuple(
        line.strip().lower()
        for line in texts["fillers.txt"].splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )
    return Templates(
        env,
        texts["qa_front.html"],
        texts["qa_back.html"],
        texts["cloze_front.html"],
        texts["cloze_back.html"],
        texts["style.css"],
        tuple(sorted(fillers, key=len, reverse=True)),
        chosen["questions.toml"],
        digest,
    )


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class RenderedCard:
    """A card as Anki will store it: its GUID, notetype, fields, tags and deck."""

    key: str
    guid: str
    cloze: bool
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str
    content_hash: str  # changes exactly when what Anki stores changes


def video_url(video_id: str, moment: Moment) -> str:
    return f"{_video_prefix(video_id)}{moment.seconds}s"


def _video_prefix(video_id: str) -> str:
    return f"https://www.youtube.com/watch?v={quote(video_id)}&t="


def note_url(vault: str, note_path: str) -> str:
    file = quote(note_path.removesuffix(".md"), safe="")
    return f"obsidian://open?vault={quote(vault, safe='')}&file={file}"


# A field template: the card, its note's obsidian:// URL, and the function giving the URL
# of a moment of the card's video.
FieldTemplate = Callable[[Card, str, Callable[[Moment], str]], str]


@functools.lru_cache(maxsize=8)
def _field_templates(env: jinja2.Environment) -> tuple[FieldTemplate, FieldTemplate, FieldTemplate]:
    """The context, source and answer templates of `env`, looked up once rather than per
    card."""
    return (
        _field_template(env, "context.html.j2"),
        _field_template(env, "source.html.j2"),
        _field_template(env, "answer.html.j2"),
    )


def _field_template(env: jinja2.Environment, name: str) -> FieldTemplate:
    template = env.get_template(name)
    with_lines = name == "answer.html.j2"

    def render(card: Card, note_url: str, video_url: Callable[[Moment], str]) -> str:
        context = {
            "card": card,
            "video": card.video_id,
            "video_url": video_url,
            "note_url": note_url,
        }
        if with_lines:
            return template.render(context, lines=card.answer)
        return template.render(context)

    return render


def render_card(card: Card, deck: str, templates: Templates, vault: str) -> RenderedCard:
    """Fill a card's fields; every field is sanitised whatever the templates say."""
    return render_cards((card,), (deck,), templates, vault)[0]


def render_cards(
    cards: Sequence[Card], decks: Sequence[str], templates: Templates, vault: str
) -> tuple[RenderedCard, ...]:
    """Fill the fields of many cards at once (typically one note's): `decks[i]` is the
    deck name of `cards[i]`, `vault` the Obsidian vault the note links open.

    Gives exactly `tuple(render_card(c, d, templates, vault) for c, d in zip(cards, decks))`,
    faster: what the cards of a note share (its link, its tags, a section's context
    sanitised) is worked out once. The build calls it once per note:

        cards = derive_cards(note, moments, style)
        rendered = render_cards(cards, [deck_name(c.deck, config) for c in cards],
                                templates, config.vault)

    Raises TemplateError naming the template and line when a template fails, ValueError
    when `decks` is not as long as `cards`.
    """
    if len(cards) != len(decks):
        raise ValueError(f"render_cards: {len(cards)} cards but {len(decks)} deck names")
    try:
        context_of, source_of, answer_of = _field_templates(templates.env)
    except jinja2.TemplateError as exc:
        raise _template_error(exc) from exc
    note_urls: dict[str, str] = {}
    sorted_tags: dict[tuple[str, ...], tuple[tuple[str, ...], str]] = {}
    # The fields the cards of a note share (a section's context, the note's source
    # line) are made and sanitised once.
    cleaned: dict[str, str] = {}

    def clean(fragment: str) -> str:
        done = cleaned.get(fragment)
        if done is None:
            done = cleaned[fragment] = sanitise(fragment)
        return done

    out = []
    for card, deck in zip(cards, decks, strict=True):
        url = note_urls.get(card.note_path)
        if url is None:
            url = note_urls[card.note_path] = note_url(vault, card.note_path)
        video_id = card.video_id or ""
        moment_url = functools.partial(video_url, video_id)
        cloze = card.kind is CardKind.CLOZE  # a cloze card has no answer field
        try:
            ctx_html = clean(context_of(card, url, moment_url))
            source_html = clean(source_of(card, url, moment_url))
            answer_html = "" if cloze else clean(answer_of(card, url, moment_url))
        except jinja2.TemplateError as exc:
            raise _template_error(exc) from exc
        key = html.escape(card.key)
        fields: tuple[str, ...]
        if cloze:
            fields = (clean(card.question), ctx_html, source_html, key, *_SPARES)
        else:
            fields = (html.escape(card.question), answer_html, ctx_html, source_html, key, *_SPARES)
        known = sorted_tags.get(card.tags)
        if known is None:
            tidy = tuple(sorted({t.replace(" ", "_") for t in card.tags if t}))
            known = sorted_tags[card.tags] = (tidy, " ".join(tidy))
        tags, tags_text = known
        digest = hashlib.sha256("\x1f".join((*fields, tags_text, deck)).encode()).hexdigest()
        out.append(
            RenderedCard(card.key, guid_for(card.key), cloze, fields, tags, deck, digest[:16])
        )
    return tuple(out)


def _template_error(exc: jinja2.TemplateError) -> TemplateError:
    line = getattr(exc, "lineno", None) or 1
    name = getattr(exc, "name", None) or "card template"
    return TemplateError(
        f"{name}:{line}: {exc}; fix this template in your templates folder, or delete "
        "it to use notedeck's own."
    )
