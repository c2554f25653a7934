"""GUIDs stay what they always were: written in base 91 two digits at a time, same text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from notedeck.identity import _BASE91, base91, guid_for


def _digit_by_digit(number: int) -> str:
    out = []
    while number:
        number, rem = divmod(number, len(_BASE91))
        out.append(_BASE91[rem])
    return "".join(reversed(out)) or _BASE91[0]


@given(st.integers(min_value=0, max_value=2**64 - 1))
def test_base91_is_the_digits_one_at_a_time(number: int) -> None:
    assert base91(number) == _digit_by_digit(number)


def test_base91_at_the_edges() -> None:
    edges = [0, 1, 90, 91, 92, 91**2 - 1, 91**2, 91**2 + 1, 91**3, 91**9, 2**64 - 1]
    for number in edges:
        assert base91(number) == _digit_by_digit(number), number


def test_guids_of_known_keys() -> None:
    # Computed by the first version of guid_for: a changed GUID is a new card in Anki.
    assert guid_for("a/b#_#qa") == "g,M/3[6^`_"
    assert guid_for("note#sec/sub#label#item~2") == "s[Y~.kM$,:"
    assert guid_for("") == "AT;4;B2*GC"
