"""Show a note's cards in the terminal, so an author can tune the note for good cards."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser

from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from notedeck.anki.render import video_url
from notedeck.cards.writer import Skipped
from notedeck.cli.controls import printable
from notedeck.cli.report import plural, shown_path
from notedeck.config import Config
from notedeck.model import Card, CardKind, Diagnostic

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


def card_rows(card: Card, config: Config) -> list[Text]:
    """A card as lines of text: question, answer, video links, the note's line, the key."""
    rows: list[Text] = []
    if card.kind is CardKind.CLOZE:
        front = _CLOZE.sub(
            lambda m: f'<span class="cloze">[{m.group(2) or "..."}]</span>', card.question
        )
        back = _CLOZE.sub(lambda m: f'<span class="cloze">{m.group(1)}</span>', card.question)
        rows += [
            Text.assemble(("Q ", "bold"), rich_text(front)),
            Text.assemble(("A ", "bold"), rich_text(back)),
        ]
    else:
        rows.append(Text.assemble(("Q ", "bold"), (printable(card.question), "bold")))
        answer = Text()
        for n, line in enumerate(card.answer):
            bullet = "• " if len(card.answer) > 1 else ""
            answer += Text(("\n" if n else "") + bullet) + rich_text(line.html)
            if line.moments:
                answer.append(" " + " ".join(m.label for m in line.moments), style="dim")
        rows.append(Text.assemble(("A ", "bold"), answer))
    links = Text(style="dim")
    if card.video_id:
        for m in card.moments or ():
            links.append(printable(f"▶ {m.label}  {video_url(card.video_id, m)}") + "\n")
    links.append(printable(f"✎ {shown_path(config.notes_dir / card.note_path)}:{card.line}"))
    if card.why:
        links.append("\n" + printable(f"why: {card.why}"))
    rows.append(links)
    # Folded, never cut: the key is what a removal search or the lock names.
    rows.append(Text(printable(f"key {card.key}"), style="dim", overflow="fold"))
    return rows


def card_where(card: Card) -> str:
    where = f"{card.section} · line {card.line}" if card.section else f"line {card.line}"
    return printable(where)


def card_panel(card: Card, config: Config) -> Panel:
    where = card_where(card)
    return Panel(
        Group(*card_rows(card, config)),
        # Text, not markup: a heading's "[link=...]" must not become a hyperlink.
        title=Text(card.kind.value, style=_KIND_STYLE[card.kind]) + Text(f" · {where}"),
        title_align="left",
    )


def show_cards(
    cards: Sequence[Card],
    diagnostics: Sequence[Diagnostic],
    config: Config,
    console: Console | None = None,
) -> None:
    """Boxed cards in a terminal; plain lines, never wrapped nor boxed, when piped."""
    console = console or Console(highlight=False)
    boxed = console.is_terminal
    for d in diagnostics:
        style = "red" if d.level.value == "error" else "yellow"
        console.print(Text(printable(d.format()), style=style), soft_wrap=not boxed)
    note = None
    for card in cards:
        if card.note_path != note:
            note = card.note_path
            path = shown_path(config.notes_dir / note)
            if boxed:
                console.rule(Text(printable(card.note_title), style="bold"))
                console.print(Text(printable(path), style="dim", overflow="fold"))
            else:
                console.print(Text(printable(f"== {card.note_title}  ({path})")), soft_wrap=True)
        if boxed:
            console.print(card_panel(card, config))
        else:
            console.print(
                "\n" + printable(f"[{card.kind.value} · {card_where(card)}]"),
                soft_wrap=True,
                markup=False,
            )
            for row in card_rows(card, config):
                console.print(row, soft_wrap=True)
    kinds = ", ".join(
        f"{sum(1 for c in cards if c.kind is k)} {k.value}"
        for k in CardKind
        if any(c.kind is k for c in cards)
    )
    console.print(f"{plural(len(cards), 'card')}" + (f" ({kinds})" if kinds else "") + ".")


def show_skipped(
    config: Config, left: Mapping[str, Sequence[Skipped]], console: Console | None = None
) -> None:
    """The sentences of each note that gave no card, with why: what to rewrite."""
    console = console or Console(highlight=False)
    for rel, skipped in sorted(left.items()):
        console.rule(Text(printable(f"left out of {rel}"), style="bold"))
        for s in skipped:
            line = Text(f"{shown_path(config.notes_dir / rel)}:{s.line}: ", style="dim")
            console.print(
                line + Text(printable(s.why), style="yellow") + Text(printable(f"  {s.text}"))
            )
        console.print(f"{plural(len(skipped), 'sentence')} left out.")
