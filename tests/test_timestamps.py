"""Timestamps: parsing data-t values and repairing garbled notes, on real corpus notes."""

from __future__ import annotations

import re
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import CORPUS
from notedeck.model import Clock
from notedeck.reading.timestamps import looks_like_clock, parse_clock, resolve

CONTENT = CORPUS
DATA_T = re.compile(r'data-t="([^"<>]*)')


def clocks_of(rel: str) -> list[Clock]:
    if not CONTENT.is_dir():
        pytest.skip("shared corpus not available")
    lines = (CONTENT / rel).read_text(encoding="utf-8").splitlines()
    return [parse_clock(raw, n) for n, line in enumerate(lines, 1) for raw in DATA_T.findall(line)]


def seconds_of(
    rel: str, duration: int | None = None, siblings: Sequence[Sequence[Clock]] = ()
) -> dict[str, int | None]:
    """Each raw value's resolved second (the last one wins for repeated values)."""
    clocks = clocks_of(rel)
    result = resolve(clocks, duration=duration, siblings=siblings)
    return {c.raw: m.seconds if m else None for c, m in zip(clocks, result.moments, strict=True)}


KETAMINE = "healthygamergg/ketamine_as_a_treatment_for_depression.md"
DMN = "healthygamergg/default_mode_network_in_the_brain.md"
EMBEDDINGS = "3blue1brown/word_embeddings_and_vectors.md"
GPT = "3blue1brown/generative_pretrained_transformer_architecture.md"
CURVE = (
    "goingonchain/understanding_curve_and_its_importance.md",  # 00:00:40
    "goingonchain/details_on_the_curve_war.md",  # 00:40:00
    "goingonchain/curve_and_its_algorithm.md",  # 00:40:40
)
VIRAL = "lennyspodcast/challenges_and_strategies_for_going_viral.md"


@pytest.mark.parametrize(
    ("raw", "fields"),
    [
        ("04:31:33", (4, 31, 33)),
        ("3:00:01", (3, 0, 1)),
        ("08:45", (8, 45)),
        ("2241", (2241,)),
        ("00:01:02:03", (0, 1, 2, 3)),
        ("00:12:34]", (0, 12, 34)),
        (' "00:12:34" ', (0, 12, 34)),
        ("[01:27:42", (1, 27, 42)),
        ("HH:MM:SS", None),
        ("https://youtu.be/XYZ", None),
        ("", None),
        ("abc", None),
        ("1:2:3:4:5", None),
        ("١٢:٣٤", None),  # non-ASCII digits are not a clock
    ],
)
def test_parse_clock(raw: str, fields: tuple[int, ...] | None) -> None:
    assert parse_clock(raw, 7) == Clock(raw=raw, line=7, fields=fields)


@pytest.mark.parametrize("text", ["00:12:34", "1:02:03", "12:34", " 12:34 "])
def test_looks_like_clock(text: str) -> None:
    assert looks_like_clock(text)


@pytest.mark.parametrize("text", ["", "12", "1:2", "123:45", "00:12:34:56", "a 12:34", "HH:MM"])
def test_does_not_look_like_clock(text: str) -> None:
    assert not looks_like_clock(text)


def test_seed_note_repaired_by_sibling() -> None:
    clocks = clocks_of(KETAMINE)
    result = resolve(clocks, duration=None, siblings=[clocks_of(DMN)])
    assert len(clocks) == 22
    assert result.reading == "ms-shifted" and result.repaired
    assert "sibling" in result.reason
    assert result.moments[0] is not None and result.moments[0].seconds == 271  # 04:31:33
    assert all(m is not None and m.seconds <= 8 * 60 + 10 for m in result.moments)


def test_seed_note_repaired_on_its_own_evidence() -> None:
    # 04:31:33 as H:M:S is past the 4-hour cap, and so are 18 others.
    result = resolve(clocks_of(KETAMINE), duration=None, siblings=())
    assert result.reading == "ms-shifted"
    assert result.moments[0] is not None and result.moments[0].label == "4:31"


def test_sibling_of_seed_note_stays_normal() -> None:
    result = resolve(clocks_of(DMN), duration=None, siblings=[clocks_of(KETAMINE)])
    assert result.reading == "hms" and not result.repaired
    assert max(m.seconds for m in result.moments if m) == 8 * 60 + 1


def test_embeddings_note_shifted_against_known_length() -> None:
    clocks = clocks_of(EMBEDDINGS)
    result = resolve(clocks, duration=27 * 60, siblings=[clocks_of(GPT)])
    assert result.reading == "ms-shifted"
    assert "27:00" in result.reason
    by_raw = {c.raw: m for c, m in zip(clocks, result.moments, strict=True)}
    assert by_raw["25:37:00"] is not None and by_raw["25:37:00"].label == "25:37"
    assert by_raw["03:30:00"] is not None and by_raw["03:30:00"].seconds == 210


def test_embeddings_note_shifted_without_evidence() -> None:
    assert seconds_of(EMBEDDINGS)["25:37:00"] == 25 * 60 + 37


def test_same_cue_in_three_forms_resolves_to_forty_seconds() -> None:
    forms = ["00:00:40", "00:40:00", "00:40:40"]
    for rel, form in zip(CURVE, forms, strict=True):
        siblings = [clocks_of(other) for other in CURVE if other != rel]
        assert seconds_of(rel, siblings=siblings)[form] == 40, rel
        assert seconds_of(rel)[form] == 40, rel  # also on each note's own evidence


def test_centiseconds_third_field() -> None:
    rel = "mkbhd/samsung_galaxy_note_10_and_note_10_plus_display_specifications.md"
    result = resolve(clocks_of(rel), duration=None, siblings=())
    assert result.reading == "ms-shifted" and "over 59" in result.reason
    assert seconds_of(rel)["01:20:95"] == 80


def test_mixed_note_reads_each_clock_in_its_form() -> None:
    # The note writes 59:16 both as "59:16:04" and as "00:59:16".
    result = resolve(clocks_of(VIRAL), duration=None, siblings=())
    assert result.reading == "mixed" and result.repaired
    seconds = seconds_of(VIRAL)
    assert seconds["59:16:04"] == seconds["00:59:16"] == 59 * 60 + 16
    assert seconds["13:27:04"] == 13 * 60 + 27
    assert seconds["01:33:55"] == 3600 + 33 * 60 + 55


def test_mixed_note_ambiguous_clock_settled_by_duration() -> None:
    # "02:05:54" opens the note: 2:05 or 2:05:54 - only the video's length can tell.
    assert seconds_of(VIRAL)["02:05:54"] == 2 * 3600 + 5 * 60 + 54
    assert seconds_of(VIRAL, duration=100 * 60)["02:05:54"] == 125


def test_integer_seconds() -> None:
    result = resolve(
        clocks_of("lexfridman/criticism_of_string_theory.md"), duration=None, siblings=()
    )
    assert result.reading == "seconds" and not result.repaired
    assert result.moments[0] is not None and result.moments[0].label == "37:21"


def test_two_part_minutes_seconds() -> None:
    rel = "lexfridman/concept_of_athletic_intelligence_in_robotics.md"
    result = resolve(clocks_of(rel), duration=None, siblings=())
    assert result.reading == "ms"
    assert seconds_of(rel)["08:45"] == 525
    assert seconds_of(rel)["53:44"] == 53 * 60 + 44


def test_unpadded_hours_read_normally() -> None:
    rel = "hubermanlab/perception_and_reality_in_health_outcomes.md"
    result = resolve(clocks_of(rel), duration=None, siblings=())
    assert result.reading == "hms" and not result.repaired
    assert seconds_of(rel)["3:00:01"] == 3 * 3600 + 1


@pytest.mark.parametrize(
    "rel",
    [
        "lexfridman/anarchy_and_its_implications.md",
        "lexfridman/animal_combat_and_comparative_analysis_of_different_species_combat_abilities.md",
    ],
)
def test_placeholders_have_no_moment(rel: str) -> None:
    result = resolve(clocks_of(rel), duration=None, siblings=())
    assert result.moments and all(m is None for m in result.moments)
    assert result.reading == "none"


def test_moment_past_the_end_is_dropped() -> None:
    clocks = [parse_clock(raw, 1) for raw in ["01:00", "09:00", "20:00"]]
    result = resolve(clocks, duration=600, siblings=())
    assert [m.seconds if m else None for m in result.moments] == [60, 540, None]
    assert "1 clock(s) past the video's end" in result.reason


def test_four_part_drops_frames() -> None:
    result = resolve([parse_clock("00:01:02:03", 1)], duration=None, siblings=())
    assert result.moments[0] is not None and result.moments[0].seconds == 62


def test_whole_minutes_with_hours_are_shifted() -> None:
    clocks = [parse_clock(raw, 1) for raw in ["01:10:00", "02:30:00", "03:45:00"]]
    result = resolve(clocks, duration=None, siblings=())
    assert result.reading == "ms-shifted"
    assert [m.seconds if m else None for m in result.moments] == [70, 150, 225]


def test_duration_prefers_shift_over_dropping() -> None:
    # One clock past a 10-minute video, all fitting when shifted: the note is garbled.
    clocks = [parse_clock(raw, 1) for raw in ["00:01:00", "00:09:00", "00:20:00"]]
    result = resolve(clocks, duration=600, siblings=())
    assert result.reading == "ms-shifted"
    assert [m.seconds if m else None for m in result.moments] == [1, 9, 20]


def test_no_evidence_reads_normally() -> None:
    clocks = [parse_clock(raw, 1) for raw in ["00:10:12", "01:02:03", "02:59:59"]]
    result = resolve(clocks, duration=None, siblings=())
    assert result.reading == "hms" and not result.repaired
    assert [m.seconds if m else None for m in result.moments] == [612, 3723, 10799]


fields = st.none() | st.lists(st.integers(-5, 10**7), max_size=5).map(tuple)
clocks = st.lists(st.builds(Clock, raw=st.text(max_size=5), line=st.integers(0, 9), fields=fields))


@given(
    clocks,
    st.none() | st.integers(-10, 10**6),
    st.lists(clocks, max_size=3),
    st.integers(-10, 10**6),
)
def test_never_raises_and_keeps_one_moment_per_clock(
    note: list[Clock], duration: int | None, siblings: list[list[Clock]], max_seconds: int
) -> None:
    result = resolve(note, duration=duration, siblings=siblings, max_seconds=max_seconds)
    assert len(result.moments) == len(note)
    limit = duration if duration is not None and duration > 0 else max_seconds
    assert all(m is None or 0 <= m.seconds <= limit for m in result.moments)
    assert result == resolve(note, duration=duration, siblings=siblings, max_seconds=max_seconds)


@given(st.text(max_size=30), st.integers(0, 10**6))
def test_parse_clock_never_raises(raw: str, line: int) -> None:
    clock = parse_clock(raw, line)
    assert clock.raw == raw and clock.line == line
    assert clock.fields is None or 1 <= len(clock.fields) <= 4
