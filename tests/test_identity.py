"""Identities never change: a GUID from a key is the same in every notedeck version."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from notedeck.anki.identity import _BASE91, _base91, guid_for


def _digit_by_digit(number: int) -> str:
    out = []
    while number:
        number, rem = divmod(number, len(_BASE91))
        out.append(_BASE91[rem])
    return "".join(reversed(out)) or _BASE91[0]


@given(st.integers(min_value=0, max_value=2**64 - 1))
@example(0)
@example(1)
@example(90)
@example(91)
@example(91**2 - 1)
@example(91**2)
@example(91**9 - 1)
@example(91**9)
@example(2**64 - 1)
def test_base91_by_pairs_is_base91_digit_by_digit(number: int) -> None:
    assert _base91(number) == _digit_by_digit(number)


def test_guids_of_known_keys_stay_the_same() -> None:
    # Anki knows a card by its GUID: these were given by the first notedeck.
    assert guid_for("ketamine#_#overview") == "qEl01M:&a^"
    assert guid_for("a") == "rZx8eo,*T:"
    assert guid_for("notedeck") == "gDdp|vjyKv"


def test_guids_of_known_keys() -> None:
    # Computed by the first version of guid_for: a changed GUID is a new card in Anki.
    assert guid_for("a/b#_#qa") == "g,M/3[6^`_"
    assert guid_for("note#sec/sub#label#item~2") == "s[Y~.kM$,:"
    assert guid_for("") == "AT;4;B2*GC"
