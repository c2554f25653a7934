"""The lock's pieces: card sketches, the packed change lists, and reading it back."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from notedeck.lock import (
    _WORDS,
    CardChange,
    CardChanges,
    LockedNotetype,
    _words,
    lock_text,
    note_block,
    parse_lock,
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
