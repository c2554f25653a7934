"""The build's stages: each note read once and its cards made once, whatever the cache."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import REPO
from notedeck.build import BuildReport, build
from notedeck.cards.derive import Style
from notedeck.config import Config
from notedeck.incremental import workers as work
from notedeck.model import Card, Moment, Note

_LINK_TIME = re.compile(r"t=(\d+)")
HEAD = "---\ntitle: {}\nvideoId: AAAAAAAAAAA\n{}---\n\n## {}\n\n"
CLOCK = '<a class="yt-timestamp" data-t="{0}">[{0}]</a>.\n'


def _talks(root: Path) -> Path:
    """Two notes of one video. A's clock, 05:00:00, is past the four-hour cap unless the
    video is known to be longer: only B says it lasts six hours."""
    notes = root / "notes" / "talks"
    notes.mkdir(parents=True)
    (notes / "a.md").write_text(
        HEAD.format("Part one", "", "Long talk")
        + "Chronic stress leads to higher cortisol levels "
        + CLOCK.format("05:00:00"),
        encoding="utf-8",
    )
    (notes / "b.md").write_text(
        HEAD.format("Part two", "duration: 6:00:00\n", "Short talk")
        + "Long-term sleep loss leads to impaired glucose tolerance "
        + CLOCK.format("05:30:00"),
        encoding="utf-8",
    )
    return notes.parent


@pytest.fixture
def derived(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How many times each note's cards are derived (the builds run in this process)."""
    seen: Counter[str] = Counter()
    real = work.derive_cards

    def counting(note: Note, moments: tuple[Moment | None, ...], style: Style) -> list[Card]:
        seen[note.path] += 1
        return real(note, moments, style)

    monkeypatch.setattr(work, "derive_cards", counting)
    return seen


def _build(notes: Path, out: Path, **settings: object) -> BuildReport:
    config = Config(notes_dir=notes, out_dir=out, jobs=1, **settings)  # type: ignore[arg-type]
    return build(config)


def _moments(report: BuildReport, note: str) -> set[str]:
    shown = ["\x1f".join(c.fields) for c in report.rendered if c.key.startswith(f"talks/{note}#")]
    return {t for fields in shown for t in _LINK_TIME.findall(fields)}


def test_a_note_is_derived_once_with_its_siblings_known(
    tmp_path: Path, derived: Counter[str]
) -> None:
    notes = _talks(tmp_path)
    first = _build(notes, tmp_path / "decks")
    # B's duration places A's clock at five hours: the first reading is the only one.
    assert _moments(first, "a") == {"18000"}
    assert derived == {"talks/a.md": 1, "talks/b.md": 1}

    derived.clear()  # an edit that moves no moment of A makes B's cards alone
    b = notes / "talks" / "b.md"
    b.write_text(b.read_text(encoding="utf-8").replace("impaired", "poor"), encoding="utf-8")
    second = _build(notes, tmp_path / "decks")
    assert derived == {"talks/b.md": 1}
    assert _moments(second, "a") == {"18000"}

    derived.clear()  # without B's duration, A's clock reads otherwise: A is made again, once
    b.write_text(b.read_text(encoding="utf-8").replace("duration: 6:00:00\n", ""), "utf-8")
    third = _build(notes, tmp_path / "decks")
    assert derived == {"talks/a.md": 1, "talks/b.md": 1}
    shutil.rmtree(tmp_path / ".notedeck-cache")
    cold = _build(notes, tmp_path / "cold")
    assert _moments(third, "a") == _moments(cold, "a") != {"18000"}
    assert [c.fields for c in third.rendered] == [c.fields for c in cold.rendered]


def test_a_cache_that_cannot_be_written_makes_each_card_once(
    tmp_path: Path, derived: Counter[str]
) -> None:
    notes = _talks(tmp_path)
    blocked = tmp_path / "cache-is-a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    report = _build(notes, tmp_path / "decks", cache_dir=blocked)
    assert derived == {"talks/a.md": 1, "talks/b.md": 1}
    assert _moments(report, "a") == {"18000"}
    assert list((tmp_path / "decks").glob("*.apkg"))
    assert blocked.read_text(encoding="utf-8") == "not a folder"


def test_a_build_that_reports_every_card_makes_only_the_missing_ones(
    tmp_path: Path, derived: Counter[str]
) -> None:
    # A build that reports no card keeps none before rendering; the next one that does
    # (`notedeck cards`, the preview, the tests) makes them, once, in the cards stage.
    notes = tmp_path / "notes"
    shutil.copytree(REPO / "notes", notes)
    config = Config(notes_dir=notes, out_dir=tmp_path / "decks", jobs=1)
    build(config, collect=False)
    count = sum(derived.values())
    assert count > 0
    derived.clear()
    reported = build(config)
    assert sum(derived.values()) == count and max(derived.values()) == 1
    derived.clear()
    again = build(config)
    assert not derived
    shutil.rmtree(tmp_path / ".notedeck-cache")
    cold = build(Config(notes_dir=notes, out_dir=tmp_path / "cold", jobs=1))
    for report in (reported, again):
        assert [c.fields for c in report.rendered] == [c.fields for c in cold.rendered]
        assert [(c.key, c.kind) for c in report.cards] == [(c.key, c.kind) for c in cold.cards]


def test_the_lock_reads_neither_the_renderer_nor_the_packager() -> None:
    # Dependencies run forward: render and package read the lock, never the reverse.
    code = (
        "import sys, notedeck.incremental.lock;"
        " print(sorted(m for m in sys.modules if 'notedeck' in m))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "notedeck.incremental.lock" in loaded
    assert "notedeck.anki.render" not in loaded and "notedeck.anki.package" not in loaded
