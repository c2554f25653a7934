"""The package's zip: readable by zipfile (and so by Anki), the same bytes every time, its
large members deflated in chunks."""

from __future__ import annotations

import random
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from notedeck import package, zipped


def _members(tmp_path: Path) -> list[tuple[str, Path | bytes]]:
    rng = random.Random(7)
    database = tmp_path / "collection.db"
    # Text-like and random bytes, so that chunks deflate to very different sizes.
    words = [rng.choice(["card", "note", "deck", "Anki", "ß", "東京"]) for _ in range(60_000)]
    database.write_bytes(" ".join(words).encode() + rng.randbytes(50_000))
    return [
        ("collection.anki2", database),
        ("0", rng.randbytes(3000)),
        ("media", b'{"0": "a.png"}'),
    ]


def _read(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        assert archive.testzip() is None  # every CRC checks out
        return {info.filename: archive.read(info) for info in archive.infolist()}


def _expected(members: list[tuple[str, Path | bytes]]) -> dict[str, bytes]:
    return {name: s.read_bytes() if isinstance(s, Path) else s for name, s in members}


@pytest.mark.parametrize("chunk", [1 << 10, 4099, zipped.CHUNK])
def test_chunked_members_read_back_and_give_the_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int
) -> None:
    monkeypatch.setattr(zipped, "CHUNK", chunk)
    members = _members(tmp_path)
    first, second = tmp_path / "a.apkg", tmp_path / "b.apkg"
    zipped.write_zip(first, members)
    zipped.write_zip(second, members)
    assert _read(first) == _expected(members)
    assert list(_read(first)) == [name for name, _ in members]  # Anki's order
    assert first.read_bytes() == second.read_bytes()
    info = zipfile.ZipFile(first).getinfo("collection.anki2")
    assert info.compress_type == zipfile.ZIP_DEFLATED and info.date_time == (1980, 1, 1, 0, 0, 0)
    assert info.external_attr >> 16 == 0o100644


def test_an_empty_member_is_a_valid_entry(tmp_path: Path) -> None:
    zipped.write_zip(tmp_path / "a.zip", [("media", b"")])
    assert _read(tmp_path / "a.zip") == {"media": b""}


def test_members_too_large_for_a_plain_zip_go_to_zipfile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zipped, "_LIMIT", 1000)  # as if the database were 4 GiB
    members = _members(tmp_path)
    with pytest.raises(zipped.TooLarge):
        zipped.write_zip(tmp_path / "a.apkg", members)
    package._write_zip64(tmp_path / "b.apkg", members)
    assert _read(tmp_path / "b.apkg") == _expected(members)


def test_only_a_few_chunks_are_read_ahead_of_the_one_written() -> None:
    read = []

    def chunks() -> Iterator[tuple[bytes, bool]]:
        for n in range(100):
            read.append(n)
            yield bytes(1000), n == 99

    with ThreadPoolExecutor(2) as pool:
        first = next(zipped._deflated(pool, chunks()))
    assert first[0] == bytes(1000) and len(read) <= zipped._AHEAD + 1
