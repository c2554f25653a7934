"""The lock's pieces: card sketches, the packed change lists, and reading it back."""

from __future__ import annotations

import html
import itertools
import json
import re
import zlib

from hypothesis import given
from hypothesis import strategies as st

from notedeck.lock import (
    _WORDS,
    CardChange,
    CardChanges,
    LockedNotetype,
    _sketch,
    _words,
    lock_text,
    note_block,
    parse_lock,
    stamps_digest,
    unmodded_digest,
)

# Pieces of card bodies: tags, entities, ASCII and other letters (some whose casefold
# changes their length or makes them ASCII), digits, marks and spaces.
_PIECES = ["<li>", "</b>", '<img src="a.png">', "&amp;", "&nbsp;", "&#xD800;", "&lt;b&gt;"]
_PIECES += ["Heart", "rate", "ß", "\u212a", "\u0130", "é", "naïve", "東京", "x2", "_", "3"]
_PIECES += [" ", "\n", "\t", "-", ",", "\x1f", "\u0307", "\ud800", "\u00a0"]
_BODIES = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join) | st.text()


@given(st.text())
def test_the_fast_word_split_finds_what_the_regex_finds(text: str) -> None:
    assert _words(text) == [w.encode() for w in _WORDS.findall(text.casefold())]


def _first_sketch(fragment: str) -> str:
    """The sketch as first written: the 8 smallest CRCs (low 24 bits) of the distinct
    words and word pairs of the casefolded text."""
    text = html.unescape(re.sub(r"<[^>]*>", " ", fragment)).casefold()
    words = re.findall(r"[^\W\d_]+", text)
    features = {*words, *map(" ".join, itertools.pairwise(words))}
    hashes = sorted({zlib.crc32(f.encode()) & 0xFFFFFF for f in features})[:8]
    return "".join(f"{h:06x}" for h in hashes)


@given(_BODIES)
def test_a_sketch_is_what_the_first_sketch_was(fragment: str) -> None:
    # The lock keeps sketches: a faster one must give the very same string.
    assert _sketch(fragment) == _first_sketch(fragment)


def test_packed_changes_behave_as_a_list() -> None:
    changes = CardChanges()
    assert not changes and len(changes) == 0
    notes = [[CardChange(f"n{n}#s{i}#qa", f"g{n}{i}") for i in range(n)] for n in range(5)]
    for note in notes:
        changes.add_note(note)
    flat = [c for note in notes for c in note]
    assert list(changes) == flat and len(changes) == len(flat)
    assert [changes[i] for i in range(len(flat))] == flat
    assert changes[-1] == flat[-1] and list(changes[2:5]) == flat[2:5]


def test_a_lock_reads_back_block_by_block() -> None:
    types = [LockedNotetype(1, "notedeck Q&A", "s", "t", 5)]
    blocks = {
        "b/x.md": note_block("b/x.md", [("b/x#s#qa", "h2", 7, "qa", "abc")]),
        'a/"quoted".md': note_block(
            'a/"quoted".md', [("k2", "h", 1, "cloze", ""), ("k1", "h", 2, "qa", "")]
        ),
    }
    text = lock_text(types, {"k1": "renamedguid"}, blocks)
    lock, problems = parse_lock(bytes(text), "notedeck.lock")
    assert not problems and lock.exact
    assert dict(lock.spans) == text.spans
    assert lock.notetypes == tuple(types)
    cards, problem = lock.cards_of('a/"quoted".md')
    assert problem is None
    assert [(c.key, c.mod, c.type, c.guid) for c in cards] == [
        ("k1", 2, "qa", "renamedguid"),
        ("k2", 1, "cloze", cards[1].guid),
    ]
    assert bytes(lock.block("b/x.md")) == blocks["b/x.md"]


_KEYS = st.text(min_size=1).map(lambda t: "n#" + t)


@given(
    st.lists(
        st.tuples(_KEYS, st.sampled_from(["0af3", "ffff0000aa", ""]), st.integers(0, 2**40)),
        unique_by=lambda row: row[0],
        max_size=6,
    ),
    st.text(),
)
def test_a_block_is_written_as_json_and_its_digest_ignores_only_the_mods(
    rows: list[tuple[str, str, int]], path: str
) -> None:
    cards = [(key, digest, mod, "qa", "01ab") for key, digest, mod in rows]
    block = note_block(path, cards)
    (read,) = json.loads(b"{" + block + b"}").values()
    assert read == [list(card) for card in sorted(cards)]
    stamps = [(key, digest, "qa", "01ab", "g") for key, digest, _mod in rows]
    assert unmodded_digest(block) == stamps_digest(path, stamps) or not stamps
    if stamps:  # any other content, key or sketch gives another digest
        key, digest, *_ = stamps[0]
        for other in (
            (key, digest + "0", "qa", "01ab", "g"),
            (key + '", "0", 5, "', digest, "qa", "01ab", "g"),
            (key, digest, "cloze", "01ab", "g"),
            (key, digest, "qa", "01ac", "g"),
        ):
            assert unmodded_digest(block) != stamps_digest(path, [other, *stamps[1:]])
