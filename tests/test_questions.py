import re
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import SHARED
from notedeck.cards import questions
from notedeck.cards.questions import (
    PatternError,
    load_patterns,
    overview_question,
    phrase_question,
    subject_of,
)

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "card_templates" / "questions.toml"
HEADINGS = SHARED / "corpus" / "HEADINGS.md"
KETAMINE = ROOT / "notes" / "healthygamergg" / "ketamine_as_a_treatment_for_depression.md"
PATTERNS = load_patterns(TABLE)


def vocabulary_of(path: Path) -> frozenset[str]:
    """Words the note's body writes in lower case, as the reader collects them."""
    body = path.read_text(encoding="utf-8").split("---", 2)[-1]
    body = re.sub(r"<[^>]*>", " ", body)
    return frozenset(w for w in re.findall(r"[A-Za-z][a-z'-]*", body) if w.islower())


KETAMINE_WORDS = vocabulary_of(KETAMINE)


def ask(heading: str, subject: str = "ketamine", words: frozenset[str] = KETAMINE_WORDS) -> str:
    return phrase_question(heading, subject, PATTERNS, words).text


@pytest.mark.parametrize(
    ("heading", "question"),
    [
        ("How Ketamine Works", "How does ketamine work?"),
        ("Speed of Efficacy", "How quickly does ketamine take effect?"),
        ("Important Precautions", "What precautions apply to ketamine?"),
        ("Connection to Other Treatments", "How does ketamine relate to other treatments?"),
    ],
)
def test_required_examples(heading: str, question: str) -> None:
    assert ask(heading) == question


@pytest.mark.parametrize(
    ("heading", "question", "pattern"),
    [
        ("Conclusion", "What are the key takeaways about ketamine?", "conclusion"),
        ("Key Takeaways", "What are the key takeaways about ketamine?", "conclusion"),
        ("What is a Dissociative Agent", "What is a dissociative agent?", "definition"),
        ("Defining Depression", "What is depression?", "definition"),
        ("Impact on Depression", "What impact does ketamine have on depression?", "impact"),
        ("Causes of Depression", "What causes depression?", "causes"),
        ("Benefits", "What are the benefits of ketamine?", "benefits"),
        ("Getting Started", "How do you get started with ketamine?", "steps"),
        ("How to Seek Help", "How do you seek help?", "steps"),
        ("Case Study: Esketamine", "What does the case study of Esketamine show?", "examples"),
        ("Ketamine vs. SSRIs", "How does ketamine compare with SSRIs?", "comparison"),
        ("Future Outlook", "What does the future hold for ketamine?", "future"),
        ("Historical Context", "What is the historical context of ketamine?", "history"),
        (
            "Ethical Considerations",
            "What are the ethical considerations of ketamine?",
            "challenges",
        ),
        ("The Role of the DMN", "What role does the DMN play in ketamine?", "role"),
        ("The Importance of Purity", "Why is purity important?", "importance"),
        ("Types of Treatment", "What types of treatment are there?", "types"),
        ("Key Features", "What are the key features of ketamine?", "features"),
        ("3. Adverse Effects", "What are the side effects of ketamine?", "side effects"),
        (
            "Step 2: Administration [00:05:13]",
            "What is the administration of ketamine?",
            "fallback",
        ),
        ("**Ketamine's Mechanism**:", "What is ketamine's mechanism?", "fallback"),
        ("DMN and Depression", "How are DMN and depression related?", "pair"),
        ("Ketamine and Its Risks", "What are the risks of ketamine?", "aspect"),
    ],
)
def test_patterns(heading: str, question: str, pattern: str) -> None:
    # Words a longer note about ketamine would write in lower case somewhere.
    words = KETAMINE_WORDS | {"seek", "help", "ethical", "mechanism", "dosing"}
    result = phrase_question(heading, "ketamine", PATTERNS, words)
    assert (result.text, result.pattern) == (question, pattern)


def test_fallback_reads_as_a_question_about_the_subject() -> None:
    words = KETAMINE_WORDS | {"market", "dynamics"}
    result = phrase_question("Market Dynamics", "ketamine", PATTERNS, words)
    assert result == result.__class__(
        "What are the market dynamics of ketamine?", "fallback", "market dynamics"
    )
    # A heading that already names the subject does not repeat it.
    assert ask("Ketamine Risks in Depression") == "What are the ketamine risks in depression?"
    assert ask("Treatment Costs") == "What are the treatment costs of ketamine?"


def test_acronyms_and_proper_nouns_keep_their_case() -> None:
    dmn = vocabulary_of(ROOT / "notes" / "healthygamergg" / "default_mode_network_in_the_brain.md")
    assert ask("Treatments Shutting Off the DMN", "default mode network", dmn) == (
        "What are the treatments shutting off the DMN?"
    )
    assert ask("Comparison with SSRIs") == "How does ketamine compare with SSRIs?"
    # Marcus Raichle is never written in lower case, so keeps his capitals.
    assert ask("The Role of Marcus Raichle", "default mode network", dmn) == (
        "What role does Marcus Raichle play in default mode network?"
    )
    assert ask("MDMA Trials", "default mode network", dmn) == "What are MDMA trials?"


def test_subject_of_titles() -> None:
    words = KETAMINE_WORDS | {"default", "mode", "network", "axial", "age", "perception"}
    assert subject_of("Ketamine as a treatment for depression", words) == "ketamine"
    assert subject_of("Default mode network in the brain", words) == "default mode network"
    assert subject_of("The role of perception in depression", words) == "perception"
    assert subject_of("\u200bUnderstanding Curve and its importance ", words) == "Curve"
    assert (
        subject_of("History and impact of the Axial Age on modern thought", words)
        == "the axial age"
    )
    assert subject_of("Impact of AI on jobs", words) == "AI"
    assert subject_of("  ", words) == "this topic"


def test_overview_question() -> None:
    assert overview_question("ketamine") == "What is ketamine, and why does it matter?"
    assert overview_question("stateful agents") == (
        "What are stateful agents, and why do they matter?"
    )


def test_broken_table_names_path_and_line(tmp_path: Path) -> None:
    good = '[[pattern]]\nname = "a"\nregex = "a"\nquestion = "A?"\ntopic = "a"\n\n'
    cases = {
        'regex = "(unclosed"': "bad regex",
        'question = "What is {nope}?"': "unknown placeholder {nope}",
        'topic = ""': "non-empty string 'topic'",
    }
    for change, message in cases.items():
        key = change.split(" ")[0]
        broken = re.sub(rf"^{key} = .*$", change, good, count=1, flags=re.M)
        path = tmp_path / "questions.toml"
        path.write_text("# header\n\n" + good + broken, encoding="utf-8")
        with pytest.raises(PatternError, match=re.escape(f"{path}:9: ")) as err:
            load_patterns(path)
        assert message in str(err.value)
    path.write_text("[[pattern]]\nname = \n", encoding="utf-8")
    with pytest.raises(PatternError, match=re.escape(f"{path}:2: invalid TOML")):
        load_patterns(path)


def heading_table(title: str) -> list[tuple[str, int]]:
    section = HEADINGS.read_text(encoding="utf-8").split(f"## {title}", 1)[1].split("\n## ")[0]
    rows = re.findall(r"^\| (.+?) \| (\d+) \|$", section, flags=re.M)
    return [(text, int(count)) for text, count in rows]


DANGLING = {
    "on",
    "of",
    "is",
    "to",
    "how",
    "role",
    "importance",
    "power",
    "nature",
    "rise",
    "problem",
    "impact",
    "challenge",
    "future",
}
# A note's body writes these common words in lower case; the headings list is a fair sample.
CORPUS_WORDS = frozenset(
    re.findall(r"[a-z][a-z'-]*", HEADINGS.read_text(encoding="utf-8") if HEADINGS.exists() else "")
)


def assert_well_formed(question: str) -> None:
    assert question.endswith("?"), question
    assert "{" not in question and "}" not in question, question
    assert not re.search(r"\b(\w+) \1\b", question, flags=re.I), question


@pytest.mark.skipif(not HEADINGS.exists(), reason="corpus statistics not available")
@pytest.mark.parametrize(
    ("title", "floor"),
    [("Most frequent exact headings", 0.9), ("Most frequent openings", 0.6)],
)
def test_corpus_headings(title: str, floor: float) -> None:
    rows = heading_table(title)
    assert len(rows) > 30
    hits: Counter[str] = Counter()
    for text, count in rows:
        # Openings are lower-cased and cut short ("impact on", "the role"): restore Title Case
        # and finish a dangling one with a neutral noun phrase so it reads as a heading.
        heading = text.replace("#.", "1.").lstrip("[").title()
        if heading.split()[-1].lower() in DANGLING:
            heading += " Of Market Data" if heading.startswith("The ") else " Market Data"
        result = phrase_question(heading, "the subject", PATTERNS, CORPUS_WORDS)
        assert_well_formed(result.text)
        hits["named" if result.pattern != "fallback" else "fallback"] += count
        print(f"{count:6} {heading!r:40} {result.pattern:12} {result.text}")
    share = hits["named"] / sum(hits.values())
    print(f"{title}: named patterns cover {share:.1%} of {sum(hits.values())} headings")
    assert share >= floor


@given(st.text(max_size=80), st.text(max_size=30))
def test_phrase_question_never_raises(heading: str, subject: str) -> None:
    result = phrase_question(heading, subject, PATTERNS, KETAMINE_WORDS)
    assert result.text.endswith("?")
    assert result.pattern


_BLANKS = st.sampled_from([" ", "  ", "\t", "\n", "\xa0", "\u2003", "\x1c", "\x85", "\u3000"])
_WORDS = st.sampled_from(["the", "The", "THE", "of", "Of", "x", "é", "İ", "ς", "_", "1", "-"])
_PHRASE = st.lists(_WORDS | _BLANKS | st.sampled_from([",", "?", "'", "’s"]), max_size=12).map(
    "".join
)


@given(_PHRASE | st.text(max_size=30))
def test_single_spaced_is_every_blank_run_one_space(text: str) -> None:
    assert questions._single_spaced(text) == re.sub(r"\s+", " ", text)


@given(_PHRASE | st.text(max_size=30))
def test_repeated_words_found_as_by_the_backtracking_pattern(text: str) -> None:
    first = questions._first_group
    plain = re.compile(r"\b(\w+)( \1\b)+", re.IGNORECASE)
    assert questions._REPEATED_WORD.sub(first, text) == plain.sub(first, text)


@given(_PHRASE | st.text(max_size=30), st.sampled_from(["the", "x", "é", "ketamine", "of the"]))
def test_a_cased_heading_mentions_what_the_plain_one_does(text: str, subject: str) -> None:
    cased = questions._cased(text, KETAMINE_WORDS, frozenset({"role", "tips"}))
    assert questions._mentions(cased, subject) == questions._mentions(text, subject)
