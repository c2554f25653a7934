"""The lock's pieces: card sketches, the packed change lists, and reading it back."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from notedeck.lock import (
    _WORDS,
    CardChange,
    CardChanges,
    CardStamp,
    LockedNotetype,
    _words,
    lock_text,
    note_block,
    parse_lock,
    stamps_digest,
    unmodded_digest,
)


@given(st.text())
def test_the_fast_word_split_finds_what_the_regex_finds(text: str) -> None:
    assert _words(text) == _WORDS.findall(text)


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
    stamps = [CardStamp(key, digest, "qa", "01ab", "g") for key, digest, _mod in rows]
    assert unmodded_digest(block) == stamps_digest(path, stamps) or not stamps
    if stamps:  # any other content, key or sketch gives another digest
        first = stamps[0]
        for other in (
            CardStamp(first.key, first.hash + "0", "qa", "01ab", "g"),
            CardStamp(first.key + '", "0", 5, "', first.hash, "qa", "01ab", "g"),
            CardStamp(first.key, first.hash, "cloze", "01ab", "g"),
            CardStamp(first.key, first.hash, "qa", "01ac", "g"),
        ):
            assert unmodded_digest(block) != stamps_digest(path, [other, *stamps[1:]])
