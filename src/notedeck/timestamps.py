"""Stand-in until the timestamps branch lands: parse clocks, read them as H:M:S."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from notedeck.model import Clock, Moment


@dataclass(frozen=True, slots=True)
class Resolution:
    moments: tuple[Moment | None, ...]
    reading: str
    repaired: bool
    reason: str


def parse_clock(raw: str, line: int) -> Clock:
    value = raw.strip().strip("[]\"' ")
    if not re.fullmatch(r"\d{1,5}(?::\d{1,2}){0,3}", value):
        return Clock(raw=raw, line=line, fields=None)
    return Clock(raw=raw, line=line, fields=tuple(int(p) for p in value.split(":")))


def resolve(
    clocks: Sequence[Clock],
    *,
    duration: int | None,
    siblings: Sequence[Sequence[Clock]],
    max_seconds: int = 4 * 3600,
) -> Resolution:
    out: list[Moment | None] = []
    for c in clocks:
        if c.fields is None:
            out.append(None)
            continue
        total = 0
        for f in c.fields[-3:]:
            total = total * 60 + f
        out.append(Moment(total) if total <= max_seconds else None)
    return Resolution(tuple(out), "hms", False, "")
