"""The lock's pieces: card sketches, the packed change lists, and reading it back."""

from __future__ import annotations

import html
import itertools
import json
import re
import shutil
import zlib
from pathlib import Path
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import run_build
from notedeck.incremental import lock_source
from notedeck.incremental.lock import (
    _WORDS,
    CardChange,
    CardChanges,
    Kept,
    LockedNotetype,
    LockText,
    _sketch,
    _sketch_from_hex,
    _words,
    load_lock,
    lock_text,
    note_block,
    parse_lock,
    read_block,
    stage_lock,
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


_DIGITS = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


def _numbers(sketch: str) -> list[int]:
    """The hashes of a sketch of format 3: 4 digits of base 64 each, most significant first."""
    return [
        sum(_DIGITS.index(c) << (6 * (3 - j)) for j, c in enumerate(sketch[i : i + 4]))
        for i in range(0, len(sketch), 4)
    ]


@given(_BODIES)
def test_a_sketch_holds_the_hashes_the_first_sketch_held(fragment: str) -> None:
    # The lock keeps sketches: a faster or shorter one must hold the very same hashes, and
    # a sketch of format 2 read from an older lock must become the very same string.
    first = _first_sketch(fragment)
    assert _numbers(_sketch(fragment)) == [
        int(first[i : i + 6], 16) for i in range(0, len(first), 6)
    ]
    assert _sketch_from_hex(first) == _sketch(fragment)
    assert len(_sketch(fragment)) == len(first) * 2 // 3


@given(st.integers(0, 2**24 - 1), st.integers(0, 2**24 - 1))
def test_sketch_hashes_compare_as_text_the_way_they_compare_as_numbers(a: int, b: int) -> None:
    # _similarity takes the smallest hashes of two sketches by comparing their text.
    x, y = _sketch_from_hex(f"{a:06x}"), _sketch_from_hex(f"{b:06x}")
    assert isinstance(x, str) and isinstance(y, str)
    assert (x < y) == (a < b) and (x == y) == (a == b)


def test_a_hex_sketch_that_is_not_one_reads_as_none() -> None:
    assert _sketch_from_hex("") == ""
    assert [_sketch_from_hex(bad) for bad in ("12345", "ABCDEF", "+12345", "0" * 54)] == [""] * 4
    assert _sketch_from_hex(None) is None  # left for the reader to refuse


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


def test_a_lock_of_no_cards_reads_back_as_written(tmp_path: Path) -> None:
    """Notes that give no card (only plain sentences) write a lock with no entries; the
    next build, without its cache, reads it back instead of failing."""
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "n.md").write_text("---\ntitle: N\n---\n## S\n\nWe talked about it.\n")
    lock = parse_lock(bytes(lock_text([], {}, {})), "notedeck.lock")
    assert lock[1] == [] and lock[0].exact and dict(lock[0].spans) == {}
    first = run_build(notes)
    assert first.card_count == 0 and (tmp_path / "notedeck.lock").is_file()
    shutil.rmtree(tmp_path / ".notedeck-cache")
    again = run_build(notes)
    assert again.card_count == 0 and not again.diagnostics


# Keys as a note's block may hold them: most start with the note's path without ".md" and
# "#"; a note with an id, or a card kept from a moved note, has others, some of which start
# with the characters the block's short keys use ("#", "=").
_PATHS = st.sampled_from(["n.md", "a/n.md", 'a/"q".md', "東京/n.md", "n", ".md", "n.mdx", ""])
_TAILS = st.text(max_size=12)
_STARTS = st.sampled_from(["", "#", "=", "##", "=#", "n#", "a/n#", "n", "a/n", "x#", '"'])


@st.composite
def _block_keys(draw: st.DrawFn) -> tuple[str, list[str]]:
    path = draw(_PATHS)
    stem = path.removesuffix(".md")
    keys = draw(
        st.lists(
            st.one_of(
                _TAILS.map(lambda t: stem + "#" + t),
                st.tuples(_STARTS, _TAILS).map("".join),
                st.text(),
            ),
            unique=True,
            min_size=1,
            max_size=8,
        )
    )
    return path, keys


@given(_block_keys())
def test_every_key_reads_back_from_its_block(block_keys: tuple[str, list[str]]) -> None:
    path, keys = block_keys
    cards = [(key, "0af3", n, "qa", "-0zA") for n, key in enumerate(keys)]
    block = note_block(path, cards)
    assert read_block(block) == (path, [tuple(card) for card in sorted(cards)])
    lines = block.split(b"\n")[1:-1]
    assert len(lines) == len(cards)  # one card a line
    stem = path.removesuffix(".md")
    for line, (key, *_rest) in zip(lines, sorted(cards), strict=True):
        # A key of the note's own is written without the note's path.
        written = json.loads(line.rstrip(b","))[0]
        if key.startswith(stem + "#"):
            assert written == key[len(stem) :]
        else:
            assert written in (key, "=" + key)
    # The lock around the block reads the same, and so does that lock reformatted.
    text = bytes(lock_text([], {}, {path: block}))
    lock, problems = parse_lock(text, "notedeck.lock")
    assert not problems
    read, problem = lock.cards_of(path)
    assert problem is None
    assert [(c.key, c.mod, c.path) for c in read] == [
        (k, m, path) for k, _h, m, *_ in sorted(cards)
    ]
    reformatted = json.dumps(json.loads(text), indent=1).encode()
    again, problems = parse_lock(reformatted, "notedeck.lock")
    assert not problems and not again.exact and again.source.read(0, len(text)) == text


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
    assert read_block(block) == (path, [card for card in sorted(cards)])
    assert json.loads(b"{" + block + b"}").keys() == {path}  # the block is JSON
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


def _blocks_by_find(data: bytes) -> tuple[dict[str, tuple[int, int]], list[tuple[str, int]]]:
    """Where the blocks of a lock held whole in memory lie, found as notedeck first did it
    (data.find over the whole file), and the problems met (message, line)."""
    cut = data.find(b'\n  "notes": {\n')
    body = cut + len(b'\n  "notes": {\n')
    problems = []
    end = data.rfind(b"\n  }\n}")
    if end < cut:
        problems.append(("it is cut short", data.count(b"\n") + 1))
        end = len(data)
    starts = []
    at = data.find(b'\n    "', body - 1)
    while 0 <= at < end:
        starts.append(at + 1)
        at = data.find(b'\n    "', at + 1)
    spans: dict[str, tuple[int, int]] = {}
    for start, stop in zip(starts, [*starts[1:], end + 2], strict=True):
        name_end = data.find(b'": [', start)
        try:
            note = json.loads(data[start + 4 : name_end + 1])
        except (ValueError, UnicodeDecodeError):
            note = None
        if not isinstance(note, str) or note in spans:
            problems.append(("a note entry is broken", data.count(b"\n", 0, start) + 1))
            continue
        spans[note] = (start, stop - 2)
    return spans, problems


def _sample_lock() -> LockText:
    blocks = {
        f"deck{n % 3}/note {n}.md": note_block(
            f"deck{n % 3}/note {n}.md",
            [(f"deck{n % 3}/note {n}#s{i}#qa", "ab12", n + i, "qa", "-0zA") for i in range(n % 4)],
        )
        for n in range(12)
    }
    return lock_text([LockedNotetype(1, "notedeck Q&A", "s", "t", 5)], {"k": "g"}, blocks)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 6, 7, 13, 64, 1 << 20])
def test_the_blocks_found_a_chunk_at_a_time_are_those_found_in_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    # Small chunks split every block start, name and end across two reads somewhere.
    monkeypatch.setattr(lock_source, "CHUNK", chunk)
    text = bytes(_sample_lock())
    second = text.index(b'\n    "', text.index(b'"notes"')) + 40
    duplicated = text.replace(b'"deck1/note 4.md"', b'"deck0/note 0.md"')
    broken_name = text[:second] + b'"broken' + text[second:]
    for data in (text, text[:-3], text[: len(text) // 2], duplicated, broken_name, b"{}"):
        lock_path = tmp_path / "notedeck.lock"
        lock_path.write_bytes(data)
        lock, problems = load_lock(lock_path)
        with lock:
            if data == b"{}":
                assert not lock.spans and problems
                continue
            spans, expected = _blocks_by_find(data)
            # The blocks the scan finds a chunk at a time are where the find puts them.
            body = data.find(b'\n  "notes": {\n') + len(b'\n  "notes": {\n')
            scan = lock_source.scan_blocks(
                lock_source.InMemory(data), body, data.count(b"\n", 0, body - 1)
            )
            found = [s.at for s in scan.starts if s.at - 1 < scan.end or scan.end < body]
            assert all(found.count(start) == 1 for start, _ in spans.values())
            if expected or data != text:
                # A damaged lock (cut short, a note twice, a broken name) is read line by
                # line instead: every card of its intact blocks is still there.
                assert not lock.exact
                for path, (start, stop) in spans.items():
                    cards, problem = lock.cards_of(path)
                    lines = data[start:stop].split(b"\n")
                    whole = [ln for ln in lines if ln.startswith(b"      [") and b'"]' in ln]
                    assert len(cards) >= len(whole) and not problem  # a note twice: both
                continue
            assert dict(lock.spans) == spans and not problems
            for path, span in spans.items():
                assert lock.block(path) == data[span[0] : span[1]]
    assert dict(parse_lock(text, "notedeck.lock")[0].spans) == _sample_lock().spans


def test_a_rewritten_lock_copies_runs_of_kept_blocks_and_writes_the_same_bytes(
    tmp_path: Path,
) -> None:
    text = _sample_lock()
    lock_path = tmp_path / "notedeck.lock"
    lock_path.write_bytes(bytes(text))
    lock, problems = load_lock(lock_path, known=text.spans)
    with lock:
        assert not problems
        changed = "deck1/note 4.md"
        new = note_block(changed, [("deck1/note 4#s0#qa", "ffff", 9, "qa", "")])
        blocks: dict[str, bytes | Kept] = {
            p: new if p == changed else cast(Kept, lock.kept(p)) for p in lock.spans
        }
        again = lock_text(lock.notetypes, lock.guids, blocks, lock)
        kept = [p for p in again.parts if isinstance(p, Kept)]
        assert len(kept) == 2  # the blocks sorted before the changed one, and those after
        in_memory = {p: lock.block(p) if p != changed else new for p in lock.spans}
        expected = lock_text(lock.notetypes, lock.guids, in_memory)
        assert again.spans == expected.spans
        stage_lock(lock_path, again).commit()
    assert lock_path.read_bytes() == bytes(expected)
