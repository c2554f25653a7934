"""Real notes, real mess: the corpus builds clean, hostile notes yield clean cards."""
# ruff: noqa: E501  (hostile notes are test data, kept line for line)

from __future__ import annotations

import json
import os
import re
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conftest import SEED, Anki, corpus_dir, run_build
from notedeck.anki.render import load_templates, render_card
from notedeck.build import BuildReport, discover, read_notes, resolve_moments
from notedeck.cards.derive import Style, derive_cards
from notedeck.cards.questions import load_patterns
from notedeck.cli.commands import main
from notedeck.config import Config
from notedeck.reading.read import parse_note
from notedeck.reading.timestamps import resolve

# What must never show on a card: source markup, our placeholders, live HTML.
LEAKS = re.compile(r"\[\[|\]\]|\*\*|data-t|yt-timestamp|\[!\w+\]|[\ue000-\ue005]")
DANGER = re.compile(
    r"<script|<iframe|<object|<embed|<style|\son\w+\s*=|javascript:|vbscript:|data:", re.IGNORECASE
)
TAG = re.compile(r"<[^>]*>")
LINK_T = re.compile(r"[?&]t=(\d+)s")


def visible(field: str) -> str:
    return TAG.sub(" ", field)


def live(field: str) -> re.Match[str] | None:
    """Dangerous markup in the tags of `field` (the same words as escaped text are harmless)."""
    return DANGER.search(" ".join(TAG.findall(field)))


def links_by_note(report: BuildReport) -> dict[str, set[int]]:
    found: dict[str, set[int]] = defaultdict(set)
    for card, rendered in zip(report.cards, report.rendered, strict=True):
        for f in rendered.fields:
            found[card.note_path].update(int(t) for t in LINK_T.findall(f.replace("&amp;", "&")))
    return found


# --- the whole shared corpus -------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_report(tmp_path_factory: pytest.TempPathFactory) -> BuildReport:
    return run_build(corpus_dir(), tmp_path_factory.mktemp("decks"))


def test_corpus_builds_every_note_with_no_markup_on_any_card(corpus_report: BuildReport) -> None:
    notes = discover(corpus_dir())
    assert corpus_report.notes == len(notes)
    assert corpus_report.errors == 0
    assert corpus_report.rendered
    for card in corpus_report.rendered:
        for f in card.fields:
            assert not LEAKS.search(visible(f)), (card.key, f[:300])
            assert not live(f), (card.key, f[:300])


def test_corpus_every_card_cites_a_moment_the_note_writes_inside_the_video(
    corpus_report: BuildReport,
) -> None:
    """The card writer makes cards from a note's best sentences only, so not every moment a
    note writes is on a card; every card of a note with a video opens one of the note's own
    moments (its fact's, else the nearest before it), and none outside the video."""
    root = corpus_dir()
    notes, _ = read_notes(discover(root), root)
    config = Config(notes_dir=root, out_dir=root)
    moments, _ = resolve_moments(notes, config)
    links = links_by_note(corpus_report)
    by_path = {n.path: n for n in notes}
    for note in notes:
        written = {c.raw.strip() for c in note.clocks if c.fields is not None}
        resolved = {m.seconds for m in moments[note.key] if m is not None}
        # A card opens only a moment the note writes...
        assert links.get(note.path, set()) <= resolved, note.path
        # ...no written value is lost except ones that name no moment in the video...
        assert len(resolved) <= len(written)
        assert all(t <= (note.duration or config.max_video_seconds) for t in resolved), note.path
    # ...and every card of a note that writes moments opens one.
    for card, rendered in zip(corpus_report.cards, corpus_report.rendered, strict=True):
        if any(m is not None for m in moments[by_path[card.note_path].key]):
            assert LINK_T.search(" ".join(rendered.fields).replace("&amp;", "&")), card.key
    assert set(links) <= set(by_path)
    # The repetition loop writes 00:00:00 two thousand times: one moment, read once.
    assert len(links.get("healthygamergg/procrastination_and_its_types.md", set())) <= 3


def test_seed_note_garbled_times_open_at_the_right_second(corpus_report: BuildReport) -> None:
    """The seed writes 4:31 as 04:31:33: every moment its cards open is such a value read as
    minutes and seconds (never as hours)."""
    text = (corpus_dir() / SEED).read_text(encoding="utf-8")
    meant = {int(h) * 60 + int(m) for h, m, _ in re.findall(r'data-t="(\d\d):(\d\d):(\d\d)"', text)}
    cited = links_by_note(corpus_report)[SEED]
    assert len(cited) >= 3 and cited <= meant
    assert 331 in cited  # 05:31:34, how ketamine works (its key action), means 5:31


def test_corpus_diagnostics_name_the_known_problems(corpus_report: BuildReport) -> None:
    codes = {(d.path, d.code) for d in corpus_report.diagnostics}
    assert ("healthygamergg/procrastination_and_its_types.md", "note.repetition") in codes
    assert ("lexfridman/anarchy_and_its_implications.md", "timestamp.placeholder") in codes
    assert (
        "lexfridman/animal_combat_and_comparative_analysis_of_different_species_combat"
        "_abilities.md",
        "timestamp.placeholder",
    ) in codes
    for d in corpus_report.diagnostics:
        assert d.line >= 1 and d.message.endswith(".") and re.fullmatch(r"[a-z]+\.[a-z-]+", d.code)


def cards_of(report: BuildReport, rel: str) -> list[str]:
    return [
        "\n".join(r.fields)
        for c, r in zip(report.cards, report.rendered, strict=True)
        if c.note_path == rel
    ]


def test_corpus_shapes_read_as_a_reader_means_them(corpus_report: BuildReport) -> None:
    loop = cards_of(corpus_report, "healthygamergg/procrastination_and_its_types.md")
    assert len(loop) <= 5  # a repetition loop gives no flood of cards
    fenced = cards_of(corpus_report, "lexfridman/causal_invariance_in_physics.md")
    assert fenced and not any("```" in c for c in fenced)
    swarm = [
        c
        for c, r in zip(corpus_report.cards, corpus_report.rendered, strict=True)
        if c.note_path == "colemedin/openai_swarm_ai_tool.md"
    ]
    assert not any(
        c.section.startswith(("Import", "Define", "Set")) for c in swarm
    )  # code comments
    directory = cards_of(corpus_report, "3blue1brown/3blue1brown.md")  # a channel's index
    assert not any("youtube.com/watch" in c and "&t=" in c for c in directory)


# Shapes of the corpus's notes (math, dollar amounts, CJK) in sentences the card writer
# makes cards of: each as a reader means it on the card.
SHAPES = """---
title: Shapes
subject: ketamine
videoId: So7hE1Ba_QA
---
## Statistics

The standard error is the spread of a sample mean, written $ \\frac{\\sigma}{\\sqrt{n}} $ for samples of size $ n $ <a class="yt-timestamp" data-t="00:02:04">[00:02:04]</a>.

## Prices

Printer ink is a liquid that costs around $12,000 per gallon compared to $20-$40 per liter to make <a class="yt-timestamp" data-t="00:02:24">[00:02:24]</a>.

Annual recurring revenue is a measure of yearly subscription income, \\$4 million at Deel by January 2021 <a class="yt-timestamp" data-t="00:05:27">[00:05:27]</a>.

## Precautions

> [!warning] Under a physician
> Ketamine should never be used without the guidance and prescription of a physician.

## Japan

The Japan Software Company (日本ソフトウェア) is a joint venture that MITI sponsored in October 1966 <a class="yt-timestamp" data-t="00:02:53">[00:02:53]</a>.
"""


def test_callouts_math_money_and_cjk_read_as_a_reader_means_them(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "shapes.md").write_text(SHAPES, encoding="utf-8")
    report = run_build(notes)
    cards = {
        c.key.rsplit("#", 1)[-1]: "\n".join(r.fields)
        for c, r in zip(report.cards, report.rendered, strict=True)
    }
    math = cards["s-definition-the-standard-error"]
    assert r"\(\frac{\sigma}{\sqrt{n}}\)" in math and r"\(n\)" in math and "$" not in math
    ink = cards["s-definition-printer-ink"]
    assert "$12,000 per gallon" in ink and "$20-$40" in ink and r"\(" not in ink
    arr = cards["s-definition-annual-recurring-revenue"]
    assert "$4 million" in arr and "\\$" not in arr and r"\(" not in arr
    callout = cards["qa"]  # the heading's question: "What precautions apply ...?"
    assert (
        '<div class="nd-callout"><span class="nd-callout-title">Under a physician</span>' in callout
    )
    (cjk,) = [c for k, c in cards.items() if k.startswith("s-definition-the-japan-software")]
    assert "日本ソフトウェア" in cjk


# --- a hostile vault ---------------------------------------------------------------------

GOOD = """---
title: Good note
videoId: So7hE1Ba_QA
tags: [ok, "\u200bhidden\u202e"]
---
## Ketamine
Ketamine is an **anaesthetic** used for depression <a class="yt-timestamp" data-t="00:04:31">[00:04:31]</a>.

## How Ketamine Works
Ketamine works by blocking NMDA receptors, drawn here ![[pic.png]] and here ![diagram](sub/../pic.png).
"""

# Attacks in sentences the card writer makes cards of: heading answers keep their HTML.
HOSTILE = """---
title: Hostile <script>alert(1)</script>
videoId: So7hE1Ba_QA
---
## Attack <img src=x onerror=alert(1)>
Script injection is an attack <script>alert(document.cookie)</script> that sits in the middle of a sentence.

## Precautions
Ketamine should never be used without a physician's care, as a [markdown link](javascript:alert(1)) and an <a href="https://example.org" onmouseover="x()">ok link</a> say.

## Side Effects
Ketamine can cause nausea, shown by an image <img src="x" onerror="alert(1)"> and a link <a href="javascript:alert(1)">click</a> here.

## How Ketamine Works
Ketamine works by blocking NMDA receptors, as a frame <iframe src="https://evil.example"></iframe> and <object data="x"></object> and <embed src="y"> show.

## Onset of Action
Ketamine takes effect within hours, as a style <style>body{display:none}</style> and <a href="data:text/html,hi" onclick="x()">data</a> and <a href="vbscript:x">vb</a> say.

- Climb out ![x](../../secret.png) and ![[../outside.png]] and ![[/etc/passwd.png]].
- Linked out ![y](link.png) through a symlink.
"""


@pytest.fixture
def hostile_vault(tmp_path: Path) -> Path:
    notes = tmp_path / "vault" / "notes"
    notes.mkdir(parents=True)
    png = b"\x89PNG\r\n\x1a\n" + b"pixels"
    (notes / "pic.png").write_bytes(png)
    (tmp_path / "secret.png").write_bytes(b"\x89PNG secret")
    (tmp_path / "vault" / "outside.png").write_bytes(b"\x89PNG outside")
    (notes / "link.png").symlink_to(tmp_path / "secret.png")
    (notes / "good.md").write_text(GOOD, encoding="utf-8")
    (notes / "hostile.md").write_text(HOSTILE, encoding="utf-8")
    marker = tmp_path / "pwned"
    (notes / "yaml_tag.md").write_text(
        f"---\ntitle: !!python/object/apply:os.system ['touch {marker}']\n---\n## A\nText here.\n",
        encoding="utf-8",
    )
    (notes / "binary.md").write_bytes(b"\x00\x01\x02PNG\x00" * 50)
    (notes / "latin1.md").write_bytes(
        "---\ntitle: Caf\xe9\n---\n## Caf\xe9\nDu caf\xe9.\n".encode("latin-1")
    )
    return notes


def test_hostile_vault_cards_are_clean_in_anki(hostile_vault: Path, anki: Anki) -> None:
    report = run_build(hostile_vault)
    errors = {d.path: d.code for d in report.diagnostics if d.level.value == "error"}
    assert errors == {
        "yaml_tag.md": "frontmatter.invalid",
        "binary.md": "note.binary",
        "latin1.md": "note.encoding",
    }
    assert not (hostile_vault.parent.parent / "pwned").exists()
    warnings = Counter(d.code for d in report.diagnostics if d.level.value == "warning")
    assert warnings["media.outside"] >= 3
    assert {c.note_path for c in report.cards} == {"good.md", "hostile.md"}

    (apkg,) = report.decks
    anki.import_package(apkg.path)
    col = anki.col
    texts = []
    for cid in col.find_cards(""):
        out = col.get_card(cid).render_output(reload=True)
        texts += [out.question_text, out.answer_text]
    assert len(texts) == 2 * len(report.rendered)
    joined = "\n".join(texts)
    assert not live(joined), live(joined)
    assert "sits in the middle of a sentence" in joined and "alert(document.cookie)" not in joined
    assert '<a href="https://example.org">ok link</a>' in joined
    # The image inside the notes folder is shipped once under a content name; the ones
    # outside it (by `..`, an absolute path or a symlink) are not shipped at all.
    shown = set(re.findall(r'<img src="([^"]+)"', joined))
    assert len(shown) == 1
    (name,) = shown
    assert re.fullmatch(r"nd-[0-9a-f]{20}\.png", name)
    assert col.media.have(name)
    stored = os.listdir(col.media.dir())
    assert stored == [name]
    tags = {t for cid in col.find_cards("") for t in col.get_card(cid).note().tags}
    assert "hidden" in tags and not any(re.search("[\u200b-\u200f\u202a-\u202e]", t) for t in tags)


def test_one_unreadable_note_fails_the_build_but_not_the_others(hostile_vault: Path) -> None:
    out = hostile_vault.parent / "decks"
    result = CliRunner().invoke(main, ["build", str(hostile_vault), "--out", str(out), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["cards"] > 0 and list(out.glob("*.apkg"))


# --- size and repetition -----------------------------------------------------------------


def test_padding_file_reads_in_bounded_work(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    padding = (" " * 4000 + "\n") * 245  # about 986 KB, mostly spaces
    (notes / "padded.md").write_text(
        "---\ntitle: Padded\nvideoId: DMw8G3RPWrQ\n---\n## Before\n"
        "Chronic stress leads to higher cortisol levels."
        f"\n{padding}\n## After\nLong-term sleep loss leads to impaired glucose tolerance.\n",
        encoding="utf-8",
    )
    report = run_build(notes)
    text = "\n".join(f for r in report.rendered for f in r.fields)
    assert "Higher cortisol levels." in text and "Impaired glucose tolerance." in text
    assert report.errors == 0


def test_repetition_loop_is_read_once_with_a_warning() -> None:
    loop = "The same sentence comes again and again. " * 400
    note = parse_note(
        f"---\ntitle: Loop\n---\n{loop}\n" + "A repeated line of text here.\n" * 50, "loop.md"
    )
    assert sum(1 for p in note.overview) <= 3
    assert [d.code for d in note.diagnostics] == ["note.repetition"]
    assert note.diagnostics[0].line == 4


# --- never raise, never leak -------------------------------------------------------------

PIECES = st.sampled_from(
    [
        "# ",
        "## ",
        "### ",
        "\n",
        "\n\n",
        "- ",
        "* ",
        "  ",
        "1. ",
        "> ",
        "> [!info] ",
        "**",
        "*",
        "_",
        "`",
        "```",
        "```python\n",
        "$",
        "$$",
        "\\$",
        "|",
        "---",
        "[[",
        "]]",
        "|",
        "#",
        "![[",
        "![",
        "](",
        ")",
        "[",
        "]",
        "<",
        ">",
        "</a>",
        '<a class="yt-timestamp" data-t="',
        '">',
        "00:04:31",
        "HH:MM:SS",
        "[00:01:02]",
        "<script>",
        "</script>",
        "<img src=x onerror=y>",
        "&amp;",
        "&",
        "\u200b",
        "\u202e",
        "。",
        "\uff01",
        "\ue000",
        "\ue002",
        "1",
        ":",
        "word ",
        "Sentence. ",
        "x.png",
        "From: [[c]] <br/>\n",
    ]
)
TEXT = st.lists(st.one_of(PIECES, st.text(max_size=6)), max_size=60).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
def test_parse_note_never_raises_and_never_leaks(body: str) -> None:
    note = parse_note("---\ntitle: T\nvideoId: So7hE1Ba_QA\n---\n" + body, "n/x.md")
    points = [*note.overview, *(p for s in _sections(note.sections) for p in s.points)]
    for p in points:
        assert not re.search("[\ue000-\ue005]", p.html + p.text)
        assert "<script" not in p.html and "data-t" not in p.html and "yt-timestamp" not in p.html
        assert not live(p.html)


def _sections(sections):  # type: ignore[no-untyped-def]
    for s in sections:
        yield s
        yield from _sections(s.children)


_TEMPLATES = load_templates(None)
_STYLE = Style(patterns=load_patterns(_TEMPLATES.questions), fillers=_TEMPLATES.fillers)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXT)
@example(body="> [!info] 1. [**[")  # dropping the stray ** once left "[["
@example(body="data-t")  # the word alone is text, not a leaked attribute
def test_note_to_cards_never_raises_and_never_leaks(body: str) -> None:
    note = parse_note("---\ntitle: T\nvideoId: So7hE1Ba_QA\n---\n" + body, "n/x.md")
    moments = resolve(note.clocks, duration=None, siblings=()).moments
    for card in derive_cards(note, moments, _STYLE):
        rendered = render_card(card, "deck", _TEMPLATES, "vault")
        for f in rendered.fields:
            assert not live(f), f
            # Anchor markup never survives; the words themselves may be a note's text (a
            # quote in text is escaped, so a bare `data-t="` can only be markup).
            assert (
                not re.search("[\ue000-\ue005]", f)
                and 'data-t="' not in f
                and 'class="yt-timestamp' not in f
            )
            # Code is shown as written: `2**3` in a code span is content, not markup.
            prose = visible(re.sub(r"<code>.*?</code>", " ", f, flags=re.DOTALL))
            assert "[[" not in prose and "]]" not in prose and "**" not in prose


# --- packaging media ---------------------------------------------------------------------


def test_media_are_packaged_deterministically(vault: Path) -> None:
    from notedeck.anki.package import package_bytes

    report = run_build(vault)
    media = {"nd-b.png": b"two", "nd-a.png": b"one"}
    first = package_bytes(report.rendered, _TEMPLATES, {}, 1_700_000_000, media=media)
    again = package_bytes(
        report.rendered, _TEMPLATES, {}, 1_700_000_000, media=dict(reversed(media.items()))
    )
    assert first == again
    with zipfile.ZipFile(__import__("io").BytesIO(first)) as z:
        assert json.loads(z.read("media")) == {"0": "nd-a.png", "1": "nd-b.png"}
        assert z.read("0") == b"one" and z.read("1") == b"two"


def test_timestamp_inside_an_embed_leaks_nothing() -> None:
    # Found by hypothesis: an embed whose text holds a bracket timestamp.
    note = parse_note("---\ntitle: T\n---\n![[1. |[00:01:02]1]] Fine text here.\n", "n/x.md")
    moments = resolve(note.clocks, duration=None, siblings=()).moments
    for card in derive_cards(note, moments, _STYLE):
        for f in render_card(card, "deck", _TEMPLATES, "vault").fields:
            assert not re.search("[\ue000-\ue005]", f), f


def test_callout_inside_a_list_item_leaks_no_marker() -> None:
    # Found by hypothesis: `- > [!info] ]`.
    for body in ("- > [!info] ]\n", "- > [!note] Keep this text.\n"):
        note = parse_note("---\ntitle: T\n---\n" + body, "n/x.md")
        texts = [p.text for p in note.overview]
        assert all("[!" not in t and "]]" not in t for t in texts), texts
    assert "Keep this text." in [p.text for p in note.overview]
