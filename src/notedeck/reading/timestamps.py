"""Read written timestamps into clocks, and resolve a note's clocks into moments."""

from __future__ import annotations

import functools
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from notedeck.model import Clock, Moment

__all__ = [
    "CLOCK_TEXT",
    "Resolution",
    "clock_text",
    "looks_like_clock",
    "parse_clock",
    "repairs",
    "resolve",
    "seconds_alone",
    "written_as",
]

# Plain bracket text such as "00:12:34", "1:02:03" or "12:34"; the lookarounds keep it from
# matching a piece of a longer run of digits and colons.
CLOCK_TEXT = re.compile(r"(?<![0-9:])(?:[0-9]{1,2}:)?[0-9]{1,2}:[0-9]{2}(?![0-9:])")

# One to four colon-separated ASCII integers. Digit runs are capped so that a pasted
# number cannot become a huge int; "\d" is avoided because it accepts non-ASCII digits.
_VALUE = re.compile(r"[0-9]{1,6}(?::[0-9]{1,6}){0,3}")

# What generated notes leave around a value: quotes and brackets from broken anchors,
# whitespace, and invisible marks (zero-width space, bidi marks, byte-order mark).
_JUNK = " \t\r\n\"'[](){}<>`\u200b\u200c\u200d\u200e\u200f\ufeff"

# A writer who puts minutes:seconds in the first two fields can only do so below an hour;
# notes that switch to real H:M:S there are "mixed". These bound where the two meet.
_MIXED_FROM = 40 * 60
_MIXED_GAP = 10 * 60

_Triple = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class _Plan:
    reading: str
    reason: str
    cut: int = 0  # "mixed": where the note switched to real H:M:S
    marker: int | None = None  # "mixed": the junk third field its M:S clocks share


_PLAIN_REASONS = {
    "ms": "Two-field clocks are read as minutes:seconds.",
    "seconds": "Clocks are written as whole seconds.",
    "none": "No clock names a moment.",
}


@dataclass(frozen=True, slots=True)
class Resolution:
    """How a note's clocks were read: one moment per clock and why."""

    moments: tuple[Moment | None, ...]  # one per input clock; None = no link
    reading: str  # "hms", "ms-shifted", "mixed", "ms", "seconds" or "none"
    repaired: bool  # True when values were reinterpreted as garbled
    reason: str  # one sentence for the user: the evidence used and what was done


def looks_like_clock(text: str) -> bool:
    """Whether plain text such as "[00:12:34]"'s inside is a timestamp."""
    return CLOCK_TEXT.fullmatch(text.strip()) is not None


def parse_clock(raw: str, line: int) -> Clock:
    """The clock a data-t value or bracket text names; fields None for a placeholder."""
    value = raw.strip(_JUNK)
    if _VALUE.fullmatch(value) is None:
        return Clock(raw=raw, line=line, fields=None)
    return Clock(raw=raw, line=line, fields=tuple(map(int, value.split(":"))))


def resolve(
    clocks: Sequence[Clock],
    *,
    duration: int | None,
    siblings: Sequence[Sequence[Clock]],
    max_seconds: int = 4 * 3600,
    evidence: frozenset[int] | Evidence | None = None,
) -> Resolution:
    """Pick one reading for all of a note's clocks, from the evidence, and apply it.

    `duration` is the video's length in seconds when known; `siblings` are the clocks of
    other notes of the same video, each read first on its own evidence. A caller that has
    those readings already gives their seconds as `evidence` instead (see seconds_alone).
    """
    # A non-positive duration is a metadata error, not a zero-length video.
    known = duration is not None and duration > 0
    limit = duration if duration is not None and known else max_seconds
    triples = [t for c in clocks if (t := _triple(c.fields)) is not None]
    if triples:
        if evidence is None:
            evidence = frozenset[int]().union(
                *(_seconds_alone(tuple(sibling), duration, max_seconds) for sibling in siblings)
            )
        if not isinstance(evidence, Evidence):
            evidence = Evidence(dict.fromkeys(evidence, 1))
        plan = _choose(triples, limit, known, evidence)
    else:
        plan = _Plan(_plain(clocks), _PLAIN_REASONS[_plain(clocks)])
    moments: list[Moment | None] = []
    dropped = 0
    for clock in clocks:
        seconds = _seconds(clock.fields, plan, limit)
        dropped += seconds is not None and seconds > limit
        moments.append(Moment(seconds) if seconds is not None and seconds <= limit else None)
    reason = plan.reason
    if dropped:
        end = "the video's end" if known else Moment(limit).label
        reason += f" {dropped} clock(s) past {end} left without a link."
    repaired = plan.reading in ("ms-shifted", "mixed")
    return Resolution(tuple(moments), plan.reading, repaired, reason)


def repairs(
    clocks: Sequence[Clock], moments: Sequence[Moment | None]
) -> list[tuple[Clock, Moment]]:
    """The clocks read as another moment than their H:M:S fields say, each with the moment
    it was read as (a clock left without a link is not repaired: there is nothing to say).
    A value repeated on one line is named once."""
    found: dict[tuple[int, tuple[int, ...]], tuple[Clock, Moment]] = {}
    for clock, moment in zip(clocks, moments, strict=False):
        triple = _triple(clock.fields)
        if triple is None or moment is None or _hms(triple) == moment.seconds:
            continue
        assert clock.fields is not None
        found.setdefault((clock.line, clock.fields), (clock, moment))
    return sorted(found.values(), key=lambda pair: pair[0].line)


def clock_text(clock: Clock) -> str:
    """A clock's value as written, without the quotes and brackets around it."""
    return clock.raw.strip(_JUNK)


def written_as(clock: Clock, moment: Moment) -> str:
    """The H:MM:SS a repaired clock should have been written as, its hours as wide as
    the note wrote them ("04:31:33" read as 4:31 is "00:04:31")."""
    h, rest = divmod(moment.seconds, 3600)
    m, s = divmod(rest, 60)
    wide = len(clock_text(clock).split(":", 1)[0]) >= 2
    return f"{h:02d}:{m:02d}:{s:02d}" if wide else f"{h}:{m:02d}:{s:02d}"


# Every note of a video is evidence for each of the others: a note's own reading is
# worked out once, not once per sibling that asks.
@functools.lru_cache(maxsize=1024)
def _seconds_alone(
    clocks: tuple[Clock, ...], duration: int | None, max_seconds: int
) -> frozenset[int]:
    return seconds_alone(clocks, duration, max_seconds)


def seconds_alone(
    clocks: Sequence[Clock], duration: int | None, max_seconds: int
) -> frozenset[int]:
    """The seconds a note's clocks name when read on their own evidence."""
    alone = resolve(clocks, duration=duration, siblings=(), max_seconds=max_seconds)
    return frozenset(m.seconds for m in alone.moments if m is not None)


def _triple(fields: tuple[int, ...] | None) -> _Triple | None:
    # Four fields are read as H:M:S:frames (video editors' timecode): the frames go.
    if fields is None or len(fields) not in (3, 4) or min(fields) < 0:
        return None
    return fields[0], fields[1], fields[2]


def _hms(t: _Triple) -> int | None:
    h, m, s = t
    return h * 3600 + m * 60 + s if m < 60 and s < 60 else None


def _shifted(t: _Triple) -> int | None:
    # MM:SS:xx, where xx is junk: repeated seconds, "00", "04", centiseconds.
    m, s, x = t
    if m == 0 and s == 0 and x < 60:
        return x  # 00:00:SS can only mean SS seconds; shifting would collapse it to 0
    return m * 60 + s if s < 60 else None


def _seconds(fields: tuple[int, ...] | None, plan: _Plan, limit: int) -> int | None:
    """The second a clock names under a reading; None when its fields make no sense."""
    if not fields or min(fields) < 0 or len(fields) > 4:
        return None
    if len(fields) == 1:
        return fields[0]
    if len(fields) == 2:
        return fields[0] * 60 + fields[1] if fields[1] < 60 else None
    t = fields[0], fields[1], fields[2]
    hms = _hms(t)
    if plan.reading == "ms-shifted":
        return _shifted(t)
    if plan.reading == "mixed" and (
        hms is None or not plan.cut <= hms <= limit or (t[2] == plan.marker and t[0] < 60)
    ):
        return _shifted(t)
    return hms


def _plain(clocks: Sequence[Clock]) -> str:
    # Without three-field values there is nothing to shift: name the form the note uses.
    lengths = {len(c.fields) for c in clocks if c.fields}
    return "ms" if 2 in lengths else "seconds" if 1 in lengths else "none"


class Evidence:
    """The seconds the other notes of a video name, as the notes naming each second
    (`counts`) less the note itself (`own`, its seconds): made once per video, so that
    each of its notes sees the others without a set of its own (linear, not quadratic,
    in the notes of one video)."""

    def __init__(
        self,
        counts: Mapping[int, int],
        own: frozenset[int] = frozenset(),
        descending: Sequence[int] | None = None,  # the seconds of `counts`, largest first
    ) -> None:
        self.counts = counts
        self.own = own
        self.descending = sorted(counts, reverse=True) if descending is None else descending

    def __contains__(self, second: int) -> bool:
        return self.counts.get(second, 0) - (second in self.own) > 0

    def __bool__(self) -> bool:
        return len(self.counts) > sum(1 for s in self.own if self.counts.get(s) == 1)

    def intersection(self, seconds: Iterable[int]) -> set[int]:
        return {s for s in seconds if s in self}

    def last(self) -> int:
        return next(s for s in self.descending if s in self)


def _choose(triples: list[_Triple], limit: int, known_length: bool, evidence: Evidence) -> _Plan:
    """The reading of a note's three-field clocks, with the evidence for it."""
    hms = [_hms(t) for t in triples]
    shifted = [_shifted(t) for t in triples]
    hms_bad = sum(v is None or v > limit for v in hms)
    # hms >= shifted for every clock and hms is valid only where shifted is, so the
    # shifted reading never has more problems: limits can only argue for it.
    shifted_bad = sum(v is None or v > limit for v in shifted)
    bound = f"the video's length ({Moment(limit).label})" if known_length else Moment(limit).label
    shift = "so all are read as minutes:seconds written one field too far left."

    forced = [
        (s, t[2])
        for t, h, s in zip(triples, hms, shifted, strict=True)
        if s is not None and (h is None or h > limit)
    ]
    if forced and (top := max(s for s, _ in forced)) >= _MIXED_FROM:
        later = {h for h in hms if h is not None and top - _MIXED_GAP <= h <= limit}
        if len(later) >= 2 and (start := min(later)) <= top + _MIXED_GAP:
            junk, count = Counter(x for _, x in forced).most_common(1)[0]
            return _Plan(
                "mixed",
                f"Clocks that cannot be H:M:S run as minutes:seconds up to {Moment(top).label} "
                f"and valid H:M:S clocks start at {Moment(start).label}, so the note switched "
                "forms there and each clock is read in the form that fits it.",
                cut=start,
                marker=junk if count * 2 >= len(forced) else None,
            )

    if known_length and hms_bad > shifted_bad:
        return _Plan("ms-shifted", f"{hms_bad} clock(s) read as H:M:S are past {bound}, {shift}")

    if evidence:
        hms_hits = len(evidence.intersection(v for v in hms if v is not None))
        shifted_hits = len(evidence.intersection(v for v in shifted if v is not None))
        if shifted_hits > hms_hits and shifted_hits >= 2:
            return _Plan(
                "ms-shifted",
                f"{shifted_hits} moments match sibling notes of the same video only when "
                "read as minutes:seconds, so all clocks are read that way.",
            )
        if hms_hits > shifted_hits and hms_hits >= 2:
            return _Plan("hms", f"{hms_hits} moments match sibling notes read as H:M:S.")
        # Siblings may cover only part of the video, so range alone decides only when
        # the whole note would lie past everything they cite.
        last = evidence.last()
        reach = last + max(60, last // 10)
        valid = [v for v in hms if v is not None]
        if valid and min(valid) > reach and all(v is None or v <= reach for v in shifted):
            return _Plan(
                "ms-shifted",
                "Read as H:M:S every clock lies past the last moment sibling notes cite "
                f"({Moment(last).label}); read as minutes:seconds all fall within it.",
            )

    if hms_bad > shifted_bad:
        return _Plan(
            "ms-shifted",
            f"{hms_bad} clock(s) cannot be H:M:S (a field over 59 or past {bound}), {shift}",
        )
    # A third field that is always 00 or repeats the second is what the shift leaves
    # behind; real seconds are spread out. Hours of at least one rule out short talks.
    echoes = sum(s == 0 or s == m for _, m, s in triples)
    if (
        len(set(triples)) >= 3
        and max(t[0] for t in triples) >= 1
        and echoes * 10 >= len(triples) * 9
    ):
        return _Plan(
            "ms-shifted",
            f"The third field is 00 or repeats the second in nearly every clock, {shift}",
        )
    return _Plan("hms", "No sign of garbling: clocks are read as hours:minutes:seconds.")
