"""Fill Anki card templates as Anki does: {{Field}}, {{FrontSide}}, {{cloze:Field}}, sections."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)
_HTML = re.compile(r"<[^>]*>")


def cloze_numbers(text: str) -> tuple[int, ...]:
    """The cloze numbers a field uses, in order: one card each."""
    return tuple(sorted({int(m.group(1)) for m in _CLOZE.finditer(text)}))


def render_cloze(text: str, number: int, *, back: bool) -> str:
    """The cloze field for card `number`: its deletions hidden on the front, shown on the back."""

    def one(m: re.Match[str]) -> str:
        if int(m.group(1)) != number:
            return m.group(2)
        if back:
            return f'<span class="cloze">{m.group(2)}</span>'
        hint = m.group(3)
        return f'<span class="cloze">[{hint if hint else "..."}]</span>'

    return _CLOZE.sub(one, text)


def render_template(
    template: str,
    fields: Mapping[str, str],
    *,
    front_side: str = "",
    cloze: int = 1,
    back: bool = False,
) -> str:
    """`template` with its tags filled from `fields`.

    Field values are inserted as they are (notedeck's fields are sanitised HTML). An
    unknown field is shown as Anki shows it, as an error in the card.
    """
    return _render(_parse(template), fields, front_side, cloze, back)


# A parsed template: text, ("field", filters, name) or ("section", negated, name, body).
Node = str | tuple[object, ...]


def _parse(template: str) -> list[Node]:
    root: list[Node] = []
    stack: list[tuple[str, bool, list[Node]]] = []
    out = root
    at = 0
    for m in _TAG.finditer(template):
        out.append(template[at : m.start()])
        at = m.end()
        tag = m.group(1).strip()
        if tag[:1] in "#^":
            body: list[Node] = []
            stack.append((tag[1:].strip(), tag[0] == "^", out))
            out.append(("section", tag[0] == "^", tag[1:].strip(), body))
            out = body
        elif tag[:1] == "/":
            if stack and stack[-1][0] == tag[1:].strip():
                out = stack.pop()[2]
            else:
                out.append(_error(f"{{{{{tag}}}}} closes no open section"))
        else:
            *filters, name = tag.split(":")
            out.append(("field", tuple(f.strip() for f in filters), name.strip()))
    out.append(template[at:])
    for name, _, _ in stack:
        root.append(_error(f"{{{{#{name}}}}} is never closed"))
    return root


def _render(
    nodes: list[Node], fields: Mapping[str, str], front_side: str, cloze: int, back: bool
) -> str:
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            parts.append(node)
        elif node[0] == "section":
            _, negated, name, body = node
            filled = bool(_HTML.sub("", fields.get(str(name), "")).strip())
            if filled != negated:
                parts.append(_render(body, fields, front_side, cloze, back))  # type: ignore[arg-type]
        else:
            _, filters, name = node
            parts.append(_field(str(name), filters, fields, front_side, cloze, back))  # type: ignore[arg-type]
    return "".join(parts)


def _field(
    name: str,
    filters: tuple[str, ...],
    fields: Mapping[str, str],
    front_side: str,
    cloze: int,
    back: bool,
) -> str:
    if name == "FrontSide":
        return front_side
    if name not in fields:
        return _error(f"unknown field {name}")
    value = fields[name]
    for f in reversed(filters):
        if f == "cloze":
            value = render_cloze(value, cloze, back=back)
        elif f == "text":
            value = html.escape(html.unescape(_HTML.sub("", value)), quote=False)
        elif f == "type":
            value = ""  # typing the answer needs Anki itself
        elif f == "hint":
            value = f"<details><summary>{html.escape(name)}</summary>{value}</details>"
    return value


def _error(message: str) -> str:
    return f'<span class="nd-template-error">{html.escape(message)}</span>'
