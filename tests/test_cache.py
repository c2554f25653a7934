"""The build cache never serves stale cards, and a parallel build writes the same bytes."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import SEED, SIBLING, Anki, corpus_dir, run_build
from notedeck.build import BuildReport
from notedeck.incremental import parallel

_LINK_TIME = re.compile(r"\bt=\d+")


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")


def _cache_files(vault: Path) -> list[Path]:
    return sorted(p for p in (vault.parent / ".notedeck-cache").rglob("*") if p.is_file())


def _answers(report: object) -> str:
    return "\n".join(f for card in report.rendered for f in card.fields)  # type: ignore[attr-defined]


def test_an_edited_note_is_rebuilt_and_reaches_anki(vault: Path, anki: Anki) -> None:
    first = run_build(vault)
    assert _cache_files(vault), "the first build fills the cache"
    note = vault / SEED
    text = note.read_text(encoding="utf-8")
    assert "Ketamine" in text
    note.write_text(text.replace("Ketamine", "Zanzibarine"), encoding="utf-8")
    second = run_build(vault)
    assert "Zanzibarine" in _answers(second) and "Zanzibarine" not in _answers(first)
    (deck,) = second.decks
    anki.import_package(deck.path)
    fields = [anki.col.get_note(nid).joined_fields() for nid in anki.col.find_notes("")]
    assert any("Zanzibarine" in f for f in fields)


def test_a_cached_build_equals_a_cold_build(vault: Path, tmp_path: Path) -> None:
    run_build(vault, tmp_path / "warm")
    warm = run_build(vault, tmp_path / "warm")  # every note from the cache
    shutil.rmtree(vault.parent / ".notedeck-cache")
    cold = run_build(vault, tmp_path / "cold")
    assert [c.fields for c in warm.rendered] == [c.fields for c in cold.rendered]
    assert [d.format() for d in warm.diagnostics] == [d.format() for d in cold.diagnostics]
    for a, b in zip(warm.decks, cold.decks, strict=True):
        assert a.path.read_bytes() == b.path.read_bytes()


def test_an_unchanged_package_is_not_written_again(vault: Path, tmp_path: Path) -> None:
    (deck,) = run_build(vault, tmp_path / "out").decks
    marked = 1_000_000_000_000_000_000  # a file time no write would give
    os.utime(deck.path, ns=(marked, marked))
    run_build(vault, tmp_path / "out")
    assert deck.path.stat().st_mtime_ns == marked
    # A sentence that gives a card of its own: the package changes.
    (vault / SEED).write_text(
        (vault / SEED).read_text() + "\nChronic stress leads to higher cortisol levels.\n"
    )
    run_build(vault, tmp_path / "out")
    assert deck.path.stat().st_mtime_ns != marked


def test_a_template_change_rebuilds_every_card(vault: Path, tmp_path: Path) -> None:
    from notedeck.anki.render import default_templates_dir

    templates = tmp_path / "templates"
    templates.mkdir()
    source = default_templates_dir() / "context.html.j2"
    (templates / "context.html.j2").write_text(source.read_text(encoding="utf-8"))
    first = run_build(vault, templates_dir=templates)
    (templates / "context.html.j2").write_text(
        source.read_text(encoding="utf-8") + "<span>changed template</span>"
    )
    second = run_build(vault, templates_dir=templates)
    assert "changed template" not in _answers(first)
    assert all("changed template" in card.fields[2] for card in second.rendered if not card.cloze)


def test_a_deleted_note_disappears(vault: Path, anki: Anki) -> None:
    first = run_build(vault)
    gone = {c.key for c in first.rendered if c.key.startswith(SIBLING.removesuffix(".md"))}
    assert gone
    (vault / SIBLING).unlink()
    second = run_build(vault)
    assert second.notes == first.notes - 1
    assert not gone & {c.key for c in second.rendered}
    (deck,) = second.decks
    anki.import_package(deck.path)
    assert len(anki.col.find_notes("")) == len(second.rendered)


@pytest.mark.parametrize(
    "damage",
    [b"", b"not json", b"\x80\x05garbage", b'[6, "key", {"a.md": [1, 2]}]', b"[" * 100_000],
)
def test_a_corrupt_cache_is_an_empty_cache(vault: Path, damage: bytes) -> None:
    first = run_build(vault)
    files = _cache_files(vault)
    assert files
    for path in files:
        path.write_bytes(damage)
    second = run_build(vault)
    assert [c.fields for c in second.rendered] == [c.fields for c in first.rendered]


def test_a_parallel_build_writes_the_same_bytes_as_a_serial_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    notes = tmp_path / "vault" / "notes"
    shutil.copytree(corpus_dir(), notes)
    serial = run_build(notes, tmp_path / "serial", jobs=1, cache_dir=tmp_path / "c1")
    monkeypatch.setattr(parallel, "SERIAL_BELOW", 0)
    spread = run_build(notes, tmp_path / "spread", jobs=2, cache_dir=tmp_path / "c2")
    # Enough notes give cards for the work to be spread over both workers.
    assert len(serial.rendered) > 20 and len({c.note_path for c in serial.cards}) >= 10
    assert [d.path.name for d in serial.decks] == [d.path.name for d in spread.decks]
    for a, b in zip(serial.decks, spread.decks, strict=True):
        assert a.path.read_bytes() == b.path.read_bytes()


def test_a_note_whose_sibling_changed_is_rebuilt_from_its_whole_text(
    vault: Path, tmp_path: Path
) -> None:
    # The cache keeps notes without their sections: when a sibling of the same video
    # changes its timestamps, the unchanged note is derived again and must be read again.
    other = vault / "healthygamergg" / "ketamine_second_look.md"
    other.write_text(
        "---\ntitle: Ketamine, a second look\nvideoId: So7hE1Ba_QA\n---\n\n"
        "## Dosing\n\nClinics give ketamine as a slow infusion over forty minutes "
        '<a class="yt-timestamp" data-t="04:31:33">[04:31:33]</a>.\n',
        encoding="utf-8",
    )
    run_build(vault, tmp_path / "warm")
    text = other.read_text(encoding="utf-8")
    other.write_text(text.replace("04:31:33", "04:45:47"), encoding="utf-8")
    warm = run_build(vault, tmp_path / "warm")
    shutil.rmtree(vault.parent / ".notedeck-cache")
    cold = run_build(vault, tmp_path / "cold")
    assert any(c.key.startswith(SEED.removesuffix(".md")) for c in warm.rendered)
    assert [c.fields for c in warm.rendered] == [c.fields for c in cold.rendered]
    assert [c.key for c in warm.cards] == [c.key for c in cold.cards]


def test_a_note_whose_sibling_is_deleted_is_read_on_its_own_evidence_again(
    tmp_path: Path,
) -> None:
    # A's clock, 05:00:00, is past the four-hour cap unless the video is known to be
    # longer: B says it lasts six hours. Once B is gone nothing of that video is built
    # again, yet A must be read on its own evidence (as "5:00").
    notes = tmp_path / "notes" / "talks"
    notes.mkdir(parents=True)
    head = "---\ntitle: {}\nvideoId: AAAAAAAAAAA\n{}---\n\n## {}\n\n"
    clock = '<a class="yt-timestamp" data-t="{0}">[{0}]</a>.\n'
    (notes / "a.md").write_text(
        head.format("Part one", "", "Long talk")
        + "Chronic stress leads to higher cortisol levels "
        + clock.format("05:00:00"),
        encoding="utf-8",
    )
    (notes / "b.md").write_text(
        head.format("Part two", "duration: 6:00:00\n", "Short talk")
        + "Long-term sleep loss leads to impaired glucose tolerance "
        + clock.format("05:30:00"),
        encoding="utf-8",
    )

    def moments(report: BuildReport) -> set[str]:
        shown = ["\x1f".join(c.fields) for c in report.rendered if c.key.startswith("talks/a#")]
        return {t for fields in shown for t in _LINK_TIME.findall(fields)}

    assert moments(run_build(notes.parent, tmp_path / "warm")) == {"t=18000"}
    (notes / "b.md").unlink()
    warm = run_build(notes.parent, tmp_path / "warm")
    assert moments(warm) == {"t=300"}
    shutil.rmtree(tmp_path / ".notedeck-cache")
    cold = run_build(notes.parent, tmp_path / "cold")
    assert [c.fields for c in warm.rendered] == [c.fields for c in cold.rendered]


def test_cache_files_of_another_layout_are_removed(vault: Path) -> None:
    run_build(vault)
    (folder,) = (vault.parent / ".notedeck-cache").iterdir()
    foreign = folder / "notes-0123456789abcdef.pickle"
    foreign.write_bytes(b"a cache file an older notedeck left")
    (vault / SEED).write_text((vault / SEED).read_text() + "\nA new closing sentence here.\n")
    run_build(vault)
    assert not foreign.exists()
    assert list(folder.glob("cards-*.json"))


def test_the_number_of_workers_keeps_the_cache(vault: Path) -> None:
    run_build(vault, jobs=1)
    notes = [p for p in _cache_files(vault) if p.name.startswith("cards-")]
    before = {p: p.stat().st_mtime_ns for p in notes}
    run_build(vault, jobs=2)  # a parallel build writes what a serial one does
    assert {p: p.stat().st_mtime_ns for p in notes} == before


def test_a_same_size_edit_right_after_a_build_is_never_missed(tmp_path: Path) -> None:
    # The edit keeps the file's size and its mtime (as a coarse file system clock would).
    import os
    import shutil

    from conftest import REPO, run_build

    notes = tmp_path / "notes"
    shutil.copytree(REPO / "notes", notes)
    note = notes / "healthygamergg" / "ketamine_as_a_treatment_for_depression.md"
    note.touch()  # saved just now, then built at once
    before = note.stat()
    first = run_build(notes, tmp_path / "out")
    text = note.read_text(encoding="utf-8")
    # A word an answer shows, written once in the note, put in capitals.
    shown = " ".join(line.html for c in first.cards for line in c.answer)
    word = next(w for w in re.findall(r"[a-z]{7,}", shown) if text.count(w) == 1)
    note.write_text(text.replace(word, word.upper()), encoding="utf-8")
    os.utime(note, ns=(before.st_atime_ns, before.st_mtime_ns))
    report = run_build(notes, tmp_path / "out")
    assert any(word.upper() in line.html for c in report.cards for line in c.answer)


def test_a_shard_keeps_each_note_apart_and_loses_only_a_broken_one(tmp_path: Path) -> None:
    from notedeck.anki.render import RenderedCard
    from notedeck.incremental import cache

    cache.mark(tmp_path)
    path = tmp_path / "cards-x.json"
    shard = cache.load_shard(path, "key")  # missing: empty
    assert dict(shard) == {}
    card = RenderedCard("a#s#qa", "g", False, ("Q", "A"), ("t",), "Deck", "h")
    shard["a.md"] = cache.NoteCards((card,))
    shard["b.md"] = cache.NoteCards(())
    cache.save_shard(path, "key", shard)
    raw = cache.load_shard(path, "key").texts()
    raw["b.md"] = '[[["a#s#qa", "g", "not a bool", ["Q"], [], "Deck", "h"]]]'  # a wrong type
    raw["c.md"] = "null"  # not a NoteCards
    raw["e.md"] = '[[["a#s#qa", "g", false, ["Q"], [], "Deck"'  # cut short
    cache.save_shard(path, "key", cache.Stored(cache.NoteCards, raw))
    again = cache.load_shard(path, "key")
    assert again.get("a.md") == cache.NoteCards((card,))
    assert again.get("b.md") is None and again.get("c.md") is None
    assert again.get("e.md") is None
    assert cache.load_shard(path, "another key").get("a.md") is None
    # Changing one note leaves the others as they were.
    again["d.md"] = cache.NoteCards(())
    assert again.texts()["a.md"] == raw["a.md"]
