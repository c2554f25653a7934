"""Write a static HTML page showing every card's front and back as Anki shows them."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from notedeck.anki.anki_template import cloze_numbers, render_template
from notedeck.anki.files import write_atomically
from notedeck.anki.render import CLOZE_FIELDS, QA_FIELDS, RenderedCard, Templates
from notedeck.build import BuildReport
from notedeck.model import Card


@dataclass(frozen=True, slots=True)
class PreviewCard:
    """One card as the page shows it: where it comes from, its two sides, its text."""

    anchor: str  # the element id; stable from one build to the next
    card: Card
    deck: str
    front: str
    back: str
    text: str  # lower-case plain text, for the search box


def anchor_for(key: str, ordinal: int = 1) -> str:
    suffix = "" if ordinal == 1 else f"-{ordinal}"
    return "card-" + hashlib.sha256(key.encode()).hexdigest()[:12] + suffix


def card_sides(rendered: RenderedCard, templates: Templates) -> list[tuple[int, str, str]]:
    """(ordinal, front, back) of each Anki card the note makes: one per cloze number."""
    names = CLOZE_FIELDS if rendered.cloze else QA_FIELDS
    fields = dict(zip(names, rendered.fields, strict=True))
    deck = rendered.deck
    fields |= {
        "Tags": " ".join(rendered.tags),
        "Deck": deck,
        "Subdeck": deck.rsplit("::", 1)[-1],
        "Type": "notedeck Cloze" if rendered.cloze else "notedeck Q&A",
    }
    if not rendered.cloze:
        fields["Card"] = "Card 1"
        front = render_template(templates.qa_front, fields)
        return [(1, front, render_template(templates.qa_back, fields, front_side=front))]
    sides = []
    for n in cloze_numbers(fields["Text"]) or (1,):
        fields["Card"] = f"Cloze {n}"
        front = render_template(templates.cloze_front, fields, cloze=n)
        back = render_template(templates.cloze_back, fields, front_side=front, cloze=n, back=True)
        sides.append((n, front, back))
    return sides


def preview_cards(report: BuildReport, templates: Templates) -> list[PreviewCard]:
    by_key = {c.key: c for c in report.cards}
    out = []
    for rendered in report.rendered:
        card = by_key.get(rendered.key)
        if card is None:
            continue
        for n, front, back in card_sides(rendered, templates):
            text = " ".join(_TAG.sub(" ", html.unescape(f"{front} {back}")).lower().split())
            out.append(
                PreviewCard(
                    anchor_for(card.key, n),
                    card,
                    rendered.deck,
                    front,
                    back,
                    f"{card.note_title.lower()} {text}",
                )
            )
    return sorted(out, key=lambda p: (p.card.note_path, p.card.line, p.card.key, p.anchor))


_TAG = re.compile(r"<[^>]*>")


def write_preview(
    report: BuildReport, templates: Templates, out_dir: Path, *, title: str = "notedeck"
) -> Path:
    """Write out_dir/index.html and return its path."""
    page = render_page(preview_cards(report, templates), templates.css, title)
    path = out_dir / "index.html"
    write_atomically(path, page.encode("utf-8"))
    return path


def render_page(cards: Sequence[PreviewCard], card_css: str, title: str) -> str:
    e = html.escape
    body: list[str] = []
    note = section = None
    for p in cards:
        if p.card.note_path != note:
            if note is not None:
                body.append("</div></section>")
            note, section = p.card.note_path, None
            body.append(
                f'<section class="nd-note" data-note="{e(note)}">'
                f"<h2>{e(p.card.note_title)} <small>{e(note)} · {e(p.deck)}</small></h2>"
            )
        heading = p.card.section or "Overview"
        if heading != section:
            if section is not None:
                body.append("</div>")
            section = heading
            body.append(f'<div class="nd-group"><h3 class="nd-section-title">{e(heading)}</h3>')
        body.append(
            f'<article class="nd-card" id="{p.anchor}" data-kind="{e(p.card.kind.value)}" '
            f'data-search="{e(p.text)}">'
            f'<div class="nd-meta"><span class="nd-kind">{e(p.card.kind.value)}</span> '
            f'<a class="nd-anchor" href="#flip={p.anchor}">{e(p.card.key)}</a> '
            f'<span class="nd-line">line {p.card.line}</span>'
            f'<button class="nd-flip" type="button">Flip</button></div>'
            f'<div class="card nd-side nd-front">{p.front}</div>'
            f'<div class="card nd-side nd-back" hidden>{p.back}</div>'
            "</article>"
        )
    if note is not None:
        body.append("</div></section>")
    if not cards:
        body.append('<p class="nd-empty">No cards: the notes made none.</p>')
    return _PAGE.format(
        title=e(title),
        count=len(cards),
        card_css=card_css,
        page_css=_PAGE_CSS,
        body="\n".join(body),
        script=_SCRIPT,
    )


_PAGE_CSS = """
body { margin: 0; background: #f6f8fa; font-family: system-ui, sans-serif; }
.nd-bar { position: sticky; top: 0; z-index: 1; display: flex; gap: 1em; align-items: center;
  padding: 0.6em 1em; background: #24292f; color: #fff; }
.nd-bar h1 { font-size: 1.1em; margin: 0; }
.nd-bar input { flex: 1; max-width: 30em; font-size: 1em; padding: 0.3em 0.5em; }
main { max-width: 52em; margin: 0 auto; padding: 0 1em 4em; }
.nd-note h2 { margin-top: 2em; border-bottom: 1px solid #d0d7de; }
.nd-note h2 small { font-weight: normal; font-size: 0.55em; color: #57606a; }
.nd-section-title { color: #57606a; font-size: 0.95em; }
.nd-card { background: #fff; border: 1px solid #d0d7de; border-radius: 6px; margin: 0.8em 0;
  padding: 0.5em 0.8em 0.8em; cursor: pointer; scroll-margin-top: 4em; }
.nd-card.nd-flipped { border-color: #0969da; }
.nd-meta { display: flex; gap: 0.8em; align-items: center; font-size: 0.75em; color: #57606a; }
.nd-meta .nd-anchor { color: inherit; flex: 1; overflow-wrap: anywhere; }
.nd-kind { text-transform: uppercase; font-weight: 600; letter-spacing: 0.05em; }
.nd-template-error { color: #cf222e; font-weight: 600; }
[hidden] { display: none !important; }
.nd-bar button { font-size: 0.9em; }
/* Night: the page dark too; the cards take the card CSS's own night rules, as in Anki. */
body.night_mode { background: #121212; color: #e6e6e6; }
.night_mode .nd-card { background: #1e1e1e; border-color: #3d444d; }
.night_mode .nd-card.nd-flipped { border-color: #6cb6ff; }
.night_mode .nd-note h2 { border-color: #3d444d; }
.night_mode .nd-note h2 small, .night_mode .nd-section-title,
.night_mode .nd-meta { color: #9aa4ad; }
"""

_SCRIPT = """
(function () {
  function flip(card) {
    var front = card.querySelector('.nd-front'), back = card.querySelector('.nd-back');
    var toBack = back.hidden;
    back.hidden = !toBack;
    front.hidden = toBack;
    card.classList.toggle('nd-flipped', toBack);
  }
  document.addEventListener('click', function (event) {
    if (event.target.closest('a')) return;  // links open the video or the note
    var card = event.target.closest('.nd-card');
    if (card) flip(card);
  });
  var box = document.getElementById('nd-search'), count = document.getElementById('nd-count');
  function search() {
    var words = box.value.toLowerCase().split(/\\s+/).filter(Boolean), shown = 0;
    document.querySelectorAll('.nd-card').forEach(function (card) {
      var text = card.getAttribute('data-search');
      var hit = words.every(function (w) { return text.indexOf(w) >= 0; });
      card.hidden = !hit;
      if (hit) shown++;
    });
    document.querySelectorAll('.nd-group, .nd-note').forEach(function (group) {
      group.hidden = !group.querySelector('.nd-card:not([hidden])');
    });
    count.textContent = shown + ' cards';
  }
  box.addEventListener('input', search);
  // Night mode as Anki's: the classes its card CSS answers to, on the page's body.
  var night = document.getElementById('nd-night');
  function setNight(on, keep) {
    document.body.classList.toggle('night_mode', on);
    document.body.classList.toggle('nightMode', on);
    night.setAttribute('aria-pressed', on ? 'true' : 'false');
    if (keep) { try { localStorage.setItem('nd-night', on ? '1' : '0'); } catch (e) {} }
  }
  night.addEventListener('click', function () {
    setNight(!document.body.classList.contains('night_mode'), true);
  });
  var stored = null;
  try { stored = localStorage.getItem('nd-night'); } catch (e) {}
  setNight(stored !== null ? stored === '1'
    : !!(window.matchMedia && matchMedia('(prefers-color-scheme: dark)').matches), false);
  function fromHash() {
    var params = new URLSearchParams(location.hash.slice(1));
    if (params.has('night')) setNight(params.get('night') === '1', false);
    if (params.has('q')) { box.value = params.get('q'); search(); }
    var card = params.has('flip') && document.getElementById(params.get('flip'));
    if (card) {
      if (card.querySelector('.nd-back').hidden) flip(card);
      card.scrollIntoView({block: 'center'});
    }
  }
  window.addEventListener('hashchange', fromHash);
  fromHash();
})();
"""

_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · notedeck preview</title>
<style>{page_css}</style>
<style>
{card_css}
</style>
</head>
<body>
<header class="nd-bar"><h1>{title}</h1>
<input id="nd-search" type="search" placeholder="Search cards" aria-label="Search cards">
<span id="nd-count">{count} cards</span>
<button id="nd-night" type="button" aria-pressed="false"
 title="Show the cards as in Anki's night mode">Night</button></header>
<main>
{body}
</main>
<script>{script}</script>
</body>
</html>
"""
