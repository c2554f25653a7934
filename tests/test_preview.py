"""The static preview page: every card's sides as Anki renders them, and a real browser on it."""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import add_cloze, run_build
from notedeck.anki.render import load_templates
from notedeck.cli.commands import main
from notedeck.cli.preview import anchor_for, preview_cards, write_preview

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_every_card_appears_with_both_sides_from_the_anki_templates(
    vault: Path, tmp_path: Path
) -> None:
    add_cloze(vault)  # a Q&A card and a cloze card
    report = run_build(vault, tmp_path / "decks")
    templates = load_templates(None)
    page = write_preview(report, templates, tmp_path / "preview").read_text(encoding="utf-8")
    assert templates.css.strip() in page
    for card in report.cards:
        assert f'id="{anchor_for(card.key)}"' in page
    cards = preview_cards(report, templates)
    assert len(cards) == len(report.cards)
    qa = next(p for p in cards if p.card.kind.value == "qa")
    assert qa.back.startswith(qa.front)  # {{FrontSide}}
    assert html.escape(qa.card.question) in qa.front and '<hr id="answer">' in qa.back
    cloze = next(p for p in cards if p.card.kind.value == "cloze")
    assert '<span class="cloze">[...]</span>' in cloze.front
    assert "{{c1::" not in cloze.front + cloze.back
    hidden = re.search(r"\{\{c1::(.*?)\}\}", cloze.card.question)
    assert hidden and f'<span class="cloze">{hidden.group(1)}</span>' in cloze.back


def test_cards_are_grouped_by_note_and_section_with_working_video_links(
    vault: Path, tmp_path: Path
) -> None:
    report = run_build(vault, tmp_path / "decks")
    page = write_preview(report, load_templates(None), tmp_path / "p").read_text(encoding="utf-8")
    notes = re.findall(r'<section class="nd-note" data-note="([^"]+)">', page)
    assert notes == sorted({c.note_path for c in report.cards})
    assert '<h3 class="nd-section-title">How Ketamine Works</h3>' in page
    links = re.findall(r'href="(https://www\.youtube\.com/watch\?v=[^"]+)"', page)
    assert links
    assert all(
        re.fullmatch(r"https://www\.youtube\.com/watch\?v=[\w-]{11}(&amp;t=\d+s)?", u)
        for u in links
    )
    assert "&amp;t=" in "".join(links)


def test_card_content_stays_sanitised(vault: Path, tmp_path: Path) -> None:
    (vault / "evil.md").write_text(
        "# Evil\n\n## Script\n\nKetamine is a dissociative anaesthetic with "
        "<script>alert(1)</script> and "
        '<img src=x onerror="alert(2)"> and a <a href="javascript:alert(3)">link</a> in it.\n',
        encoding="utf-8",
    )
    report = run_build(vault, tmp_path / "decks")
    assert any(c.note_path == "evil.md" for c in report.cards)  # the sentence reaches a card
    page = write_preview(report, load_templates(None), tmp_path / "p").read_text(encoding="utf-8")
    assert page.count("<script>") == 1  # the page's own search and flip script
    assert "onerror" not in page and "javascript:" not in page


def test_preview_command_writes_the_page(
    vault: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(vault.parent)
    result = CliRunner().invoke(main, ["preview", "--out", "site"])
    assert result.exit_code == 0, result.output
    assert (vault.parent / "site" / "index.html").is_file()
    assert "index.html" in result.stdout
    assert not (vault.parent / "decks").exists()


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip(
            "chromium is not installed and `make test` could not install it "
            "(apt-get install -y chromium)"
        )
    return found


def browse(
    page: Path, fragment: str, tmp_path: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    return subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            *extra,
            f"{page.as_uri()}#{fragment}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )


def test_in_a_browser_a_card_flips_and_search_filters(vault: Path, tmp_path: Path) -> None:
    report = run_build(vault, tmp_path / "decks")
    page = write_preview(report, load_templates(None), tmp_path / "preview")
    card = next(c for c in report.cards if c.kind.value == "qa")
    anchor = anchor_for(card.key)

    dom = browse(page, f"flip={anchor}", tmp_path, "--dump-dom").stdout
    article = re.search(
        rf'<article class="nd-card nd-flipped" id="{anchor}".*?</article>', dom, re.S
    )
    assert article, "the card named in #flip= is not flipped"
    assert '<div class="card nd-side nd-front" hidden="">' in article.group(0)
    assert '<div class="card nd-side nd-back">' in article.group(0)
    assert dom.count('class="nd-card nd-flipped"') == 1

    dom = browse(page, "q=ketamine%20precautions", tmp_path, "--dump-dom").stdout
    tags = re.findall(r'<article class="nd-card"[^>]*>', dom)
    hidden = [t for t in tags if t.endswith(' hidden="">')]
    shown = [t for t in tags if t not in hidden]
    assert shown and hidden and len(tags) == len(report.cards)
    assert all("ketamine" in t and "precautions" in t for t in shown)
    assert not any("ketamine" in t and "precautions" in t for t in hidden)

    shot = tmp_path / "flipped.png"
    browse(page, f"flip={anchor}", tmp_path, f"--screenshot={shot}", "--window-size=1000,900")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # a blank page of that size compresses to a few KB


def test_in_a_browser_the_night_toggle_shows_the_cards_as_in_ankis_night_mode(
    vault: Path, tmp_path: Path
) -> None:
    report = run_build(vault, tmp_path / "decks")
    page = write_preview(report, load_templates(None), tmp_path / "preview")
    text = page.read_text(encoding="utf-8")
    assert '<button id="nd-night" type="button" aria-pressed="false"' in text
    # The card CSS answers to night_mode on an ancestor, as in Anki's desktop and phones.
    assert ".night_mode .card" in text and "body.night_mode" in text

    def body(fragment: str) -> str:
        dom = browse(page, fragment, tmp_path, "--dump-dom").stdout
        found = re.search(r"<body[^>]*>", dom)
        assert found, dom[:500]
        button = re.search(r'<button id="nd-night"[^>]*>', dom)
        assert button
        return found.group(0) + button.group(0)

    night = body("night=1")
    assert "night_mode" in night and 'aria-pressed="true"' in night
    day = body("night=0")
    assert "night_mode" not in day and 'aria-pressed="false"' in day

    shots = {}
    for mode in ("0", "1"):
        shot = tmp_path / f"night{mode}.png"
        browse(page, f"night={mode}", tmp_path, f"--screenshot={shot}", "--window-size=800,600")
        shots[mode] = shot.read_bytes()
    assert shots["0"][:8] == shots["1"][:8] == b"\x89PNG\r\n\x1a\n"
    assert shots["0"] != shots["1"]  # the page does look different at night
