"""Reading notes: frontmatter, sections with lines, wikilinks, timestamps, the source line."""

from __future__ import annotations

from pathlib import Path

from notedeck.reading.read import parse_note


def _all_points(note):  # type: ignore[no-untyped-def]
    stack = list(note.sections)
    points = list(note.overview)
    while stack:
        section = stack.pop(0)
        points.extend(section.points)
        stack[0:0] = list(section.children)
    return points


def test_frontmatter_fields_and_source_line() -> None:
    note = parse_note(
        "---\ntitle: Caffeine and sleep\nvideoId: abcdefghijk\ntags: [sleep, 'health basics']\n"
        "aliases: [coffee]\nsubject: caffeine\n---\n\nFrom: [[somechannel]] <br/>\n\n"
        "Caffeine blocks adenosine receptors.\n",
        "chan/caffeine.md",
    )
    assert note.title == "Caffeine and sleep"
    assert note.video_id == "abcdefghijk"
    assert note.tags == ("sleep", "health_basics")
    assert note.aliases == ("coffee",)
    assert note.subject == "caffeine"
    assert note.deck == ("chan",)
    assert note.key == "chan/caffeine"
    assert [p.text for p in note.overview] == ["Caffeine blocks adenosine receptors."]
    assert note.overview[0].line == 11


def test_frontmatter_id_is_the_note_key() -> None:
    note = parse_note("---\ntitle: T\nid: my-stable-id\n---\nText here.\n", "a/b.md")
    assert note.key == "my-stable-id"


def test_no_frontmatter_takes_title_from_h1_or_file_name() -> None:
    with_h1 = parse_note("# Photosynthesis basics\n\nPlants make sugar.\n", "bio/x.md")
    assert with_h1.title == "Photosynthesis basics"
    assert [p.text for p in with_h1.overview] == ["Plants make sugar."]
    bare = parse_note("Just text here.\n", "bio/light_reactions.md")
    assert bare.title == "Light reactions"


def test_headings_nest_with_lines_and_ignore_code_fences() -> None:
    text = (
        "---\ntitle: T\n---\n"  # lines 1-3
        "Intro text.\n"  # 4
        "## First\n"  # 5
        "Alpha beta.\n"  # 6
        "```python\n# not a heading\nx = 1\n```\n"  # 7-10
        "### Inner\n"  # 11
        "Gamma delta.\n"  # 12
        "## Second {#pinned}\n"  # 13
        "Epsilon.\n"  # 14
    )
    note = parse_note(text, "n.md")
    assert [s.heading for s in note.sections] == ["First", "Second"]
    first, second = note.sections
    assert (first.line, first.slug) == (5, "first")
    assert [c.heading for c in first.children] == ["Inner"]
    assert first.children[0].line == 11
    assert first.children[0].points[0].line == 12
    assert (second.slug, second.explicit_id) == ("pinned", True)
    assert all("not a heading" not in p.text for p in _all_points(note))


def test_obsidian_block_id_pins_a_section() -> None:
    note = parse_note("## Renamed heading ^keep-me\nText.\n", "n.md")
    assert note.sections[0].slug == "keep-me"
    assert note.sections[0].heading == "Renamed heading"


def test_wikilinks_show_their_text_and_embeds_are_not_text() -> None:
    note = parse_note(
        "A [[plain_target]] and [[t1|shown one]] and [[t2 | shown two]] and "
        "[[note#Heading | shown three]] here. ![[diagram.png]] Done now.\n",
        "n.md",
    )
    [first, second] = note.overview
    assert first.text == "A plain_target and shown one and shown two and shown three here."
    assert [t.text for t in first.terms] == [
        "plain_target",
        "shown one",
        "shown two",
        "shown three",
    ]
    assert second.text == "Done now."


def test_timestamps_close_their_sentence_in_every_common_form() -> None:
    note = parse_note(
        'One fact <a class="yt-timestamp" data-t="00:01:05">[00:01:05]</a>. '
        "Two facts [00:02:10], [00:02:20]. "
        'Linked [00:03:00](<a class="yt-timestamp" data-t="00:03:00">00:03:00</a>). '
        'Broken <a class="yt-timestamp" data-t="00:04:00">[00:04:00]>. Last one.\n',
        "n.md",
    )
    points = note.overview
    assert [p.text for p in points] == [
        "One fact.",
        "Two facts.",
        "Linked.",
        "Broken.",
        "Last one.",
    ]
    fields = [[note.clocks[i].fields for i in p.clocks] for p in points]
    assert fields == [[(0, 1, 5)], [(0, 2, 10), (0, 2, 20)], [(0, 3, 0)], [(0, 4, 0)], []]


def test_labelled_items() -> None:
    note = parse_note(
        "## Risks\n*   **Purity:** No purity guarantee.\n*   **Dose**: Hard to judge.\n", "n.md"
    )
    points = note.sections[0].points
    assert [(p.label, p.text) for p in points] == [
        ("Purity", "No purity guarantee."),
        ("Dose", "Hard to judge."),
    ]


def test_askew_anchor_openings_and_bold_wikilink_text_from_real_notes() -> None:
    # Both shapes come from the 18k-note corpus: `< a class=...` and a class split over
    # two lines; and a wikilink whose shown text is bold.
    note = parse_note(
        'Wait periods for conversions< a class="yt-timestamp" data-t="02:40">[02:40]</a>. '
        'Monitors up to 4K 60 <a class="yt\nclass="yt-timestamp" data-t="00:06:28">'
        "[00:06:28]</a>.\n\n*   [[media_queries | **Media Queries**]] gather device facts.\n",
        "n.md",
    )
    texts = [p.text for p in note.overview]
    assert texts == [
        "Wait periods for conversions.",
        "Monitors up to 4K 60.",
        "Media Queries gather device facts.",
    ]
    assert [c.fields for c in note.clocks] == [(2, 40), (0, 6, 28)]
    assert note.clocks[1].line == 2
    assert note.overview[2].terms[0].text == "Media Queries"


def test_every_timestamp_knows_its_line() -> None:
    text = (
        "---\ntitle: T\n---\n"  # 1-3
        'First <a class="yt-timestamp" data-t="00:00:01">[00:00:01]</a>.\n'  # 4
        "\n"  # 5
        'Second <a class="yt-timestamp" data-t="00:00:02">[00:00:02]</a> and [00:00:03].\n'  # 6
        "## Head\n"  # 7
        "Third [00:00:04].\n"  # 8
    )
    note = parse_note(text, "n.md")
    assert [c.line for c in note.clocks] == [4, 6, 6, 8]
    assert [p.line for p in note.overview] == [4, 6]


def test_a_garbled_anchor_still_names_its_moment() -> None:
    note = parse_note('Raised in Parliament <a class="yt="00:12:22">.\n', "n.md")
    assert [p.text for p in note.overview] == ["Raised in Parliament."]
    assert [c.fields for c in note.clocks] == [(0, 12, 22)]
    other = parse_note('Pay more <a class="yt>timestamp" 00:49:07">.\n', "n.md")
    assert [p.text for p in other.overview] == ["Pay more."]
    assert [c.fields for c in other.clocks] == [(0, 49, 7)]


def test_repeated_labels_in_one_section_give_distinct_card_keys() -> None:
    from notedeck.anki.render import load_templates
    from notedeck.cards.derive import derive_cards
    from notedeck.cards.questions import load_patterns
    from notedeck.config import Config
    from notedeck.incremental.workers import card_style

    # "Cross-entropy loss" and "Cross entropy loss" give one item slug: two labels, two
    # cards, two keys.
    note = parse_note(
        "## Examples\n"
        "*   **Cross-entropy loss:** A cost function that compares predicted probabilities"
        " with true labels.\n"
        "*   **Cross entropy loss:** A cost function that grows as the model trusts the wrong"
        " class more.\n",
        "n.md",
    )
    templates = load_templates(None)
    config = Config(notes_dir=Path("notes"), out_dir=Path("decks"))
    style = card_style(config, templates, load_patterns(templates.questions))
    cards = derive_cards(note, [None] * len(note.clocks), style)
    keys = [c.key for c in cards]
    assert len(keys) == len(set(keys))
    assert keys == ["n#examples#label#cross-entropy-loss", "n#examples#label#cross-entropy-loss~2"]
    assert [c.question for c in cards] == [
        "What is a cross-entropy loss?",  # "Cross-entropy" only starts the sentence
        "What is a cross entropy loss?",  # notes write "a loss": a countable thing
    ]
