"""Show a note's cards in the terminal, so an author can tune the note for good cards."""

from __future__ import annotations

import re
from collections.abc import Sequence
from html.parser import HTMLParser

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from notedeck.config import Config
from notedeck.controls import printable
from notedeck.model import Card, CardKind, Diagnostic
from notedeck.render import video_url

_CLOZE = re.compile(r"\{\{c\d+::(.*?)(?:::(.*?))?\}\}", re.DOTALL)
_KIND_STYLE = {
    CardKind.OVERVIEW: "magenta",
    CardKind.QA: "cyan",
    CardKind.LABEL: "green",
    CardKind.CLOZE: "yellow",
}


class _ToText(HTMLParser):
    """Card HTML as rich Text: bold, italics, wikilinks underlined, list items bulleted."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = Text()
        self.styles: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = dict(attrs).get("class") or ""
        style = {
            "b": "bold",
            "strong": "bold",
            "i": "italic",
            "em": "italic",
            "code": "bold",
            "mark": "reverse",
        }.get(tag, "")
        if "wikilink" in classes:
            style = "underline"
        if "cloze" in classes:
            style = "bold yellow"
        if tag == "li":
            self.text.append("\n• " if self.text.plain else "• ")
        if tag == "br":
            self.text.append("\n")
        if tag not in ("br", "hr", "img"):
            self.styles.append(style)

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("br", "hr", "img") and self.styles:
            self.styles.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(printable(data), style=" ".join(s for s in self.styles if s) or None)


def rich_text(fragment: str) -> Text:
    parser = _ToText()
    parser.feed(fragment)
    parser.close()
    return parser.text


def card_panel(card: Card, config: Config) -> Panel:
    rows: list[Text] = []
    if card.kind is CardKind.CLOZE:
        front = _CLOZE.sub(
            lambda m: f'<span class="cloze">[{m.group(2) or "..."}]</span>', card.question
        )
        back = _CLOZE.sub(lambda m: f'<span class="cloze">{m.group(1)}</span>', card.question)
        rows += [
            Text("Q ", style="bold") + rich_text(front),
            Text("A ", style="bold") + rich_text(back),
        ]
    else:
        rows.append(Text("Q ", style="bold") + Text(printable(card.question), style="bold"))
        answer = Text()
        for n, line in enumerate(card.answer):
            bullet = "• " if len(card.answer) > 1 else ""
            answer += Text(("\n" if n else "") + bullet) + rich_text(line.html)
            if line.moments:
                answer.append(" " + " ".join(m.label for m in line.moments), style="dim")
        rows.append(Text("A ", style="bold") + answer)
    links = Text(style="dim")
    if card.video_id:
        for m in card.moments or ():
            links.append(printable(f"▶ {m.label}  {video_url(card.video_id, m)}\n"))
    links.append(printable(f"✎ {config.notes_dir.name}/{card.note_path}:{card.line}"))
    rows.append(links)
    # Text, not markup: a heading's "[link=...]" must not become a hyperlink.
    where = printable(f" · {card.section or 'overview'} · line {card.line}")
    return Panel(
        Group(*rows),
        title=Text(card.kind.value, style=_KIND_STYLE[card.kind]) + Text(where),
        title_align="left",
        subtitle=Text(printable(card.key)),
        subtitle_align="right",
    )


def show_cards(
    cards: Sequence[Card],
    diagnostics: Sequence[Diagnostic],
    config: Config,
    console: Console | None = None,
) -> None:
    console = console or Console(highlight=False)
    for d in diagnostics:
        style = "red" if d.level.value == "error" else "yellow"
        console.print(Text(printable(d.format()), style=style))
    note = None
    for card in cards:
        if card.note_path != note:
            note = card.note_path
            console.rule(Text(printable(f"{card.note_title}  ({note})"), style="bold"))
        console.print(card_panel(card, config))
    kinds = ", ".join(
        f"{sum(1 for c in cards if c.kind is k)} {k.value}"
        for k in CardKind
        if any(c.kind is k for c in cards)
    )
    console.print(f"{len(cards)} cards" + (f" ({kinds})" if kinds else "") + ".")
