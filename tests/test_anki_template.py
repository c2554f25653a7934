"""The small Anki template renderer the preview uses."""

from __future__ import annotations

from notedeck.anki.anki_template import cloze_numbers, render_cloze, render_template


def test_fields_and_front_side_are_filled() -> None:
    fields = {"Question": "Why?", "Answer": "<b>Because</b>"}
    front = render_template("<div>{{Question}}</div>", fields)
    back = render_template("{{FrontSide}}<hr id=answer>{{ Answer }}", fields, front_side=front)
    assert front == "<div>Why?</div>"
    assert back == "<div>Why?</div><hr id=answer><b>Because</b>"


def test_conditional_sections_follow_whether_the_field_has_text() -> None:
    template = "{{#Source}}[{{Source}}]{{/Source}}{{^Source}}none{{/Source}}"
    assert render_template(template, {"Source": "<a href='x'>v</a>"}) == "[<a href='x'>v</a>]"
    assert render_template(template, {"Source": "<br>"}) == "none"


def test_cloze_hides_the_active_deletion_on_the_front_only() -> None:
    text = "The {{c1::default mode network}} shuts off; {{c2::SSRIs::drugs}} are slow."
    assert cloze_numbers(text) == (1, 2)
    front1 = render_template("{{cloze:Text}}", {"Text": text}, cloze=1)
    assert front1 == 'The <span class="cloze">[...]</span> shuts off; SSRIs are slow.'
    back2 = render_cloze(text, 2, back=True)
    assert back2 == 'The default mode network shuts off; <span class="cloze">SSRIs</span> are slow.'
    assert render_cloze(text, 2, back=False).endswith(
        '<span class="cloze">[drugs]</span> are slow.'
    )


def test_text_filter_strips_html_and_unknown_fields_show_an_error() -> None:
    assert render_template("{{text:A}}", {"A": "<b>x</b> &amp; y"}) == "x &amp; y"
    out = render_template("{{Missing}}", {})
    assert "unknown field Missing" in out and "nd-template-error" in out


def test_unbalanced_sections_are_reported_not_crashed_on() -> None:
    assert "never closed" in render_template("{{#A}}x", {"A": "1"})
    assert "closes no open section" in render_template("x{{/A}}", {"A": "1"})
