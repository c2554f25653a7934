"""The card writer: which sentences give a card, the question each gives, and why not."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import Anki, run_build
from notedeck.cards.sentences import claim, framed, leans, loose, unsaid


def _fillers() -> tuple[str, ...]:
    """The shipped openings that carry no fact (card_templates/fillers.txt)."""
    from notedeck.anki.render import load_templates

    return load_templates(None).fillers


def _same(text: str) -> str:
    """The casing the writer gives a subject's first word when the note writes it in lower
    case (here: every word is such)."""
    first, sep, rest = text.partition(" ")
    if first[:1].isupper() and first[1:].islower() and first != "Marcus":
        return first.lower() + sep + rest
    return text


def _ask(sentence: str) -> tuple[str, str] | None:
    found, _why = claim(sentence.rstrip("."), frozenset({"ketamine"}), _same)
    return None if found is None else (found.question, found.answer)


@pytest.mark.parametrize(
    ("sentence", "question", "answer"),
    [
        (
            "The default mode network is the part of the brain responsible for self-awareness.",
            "What is the default mode network?",
            "the part of the brain responsible for self-awareness",
        ),
        (
            "Chronic sleep deprivation can lead to impaired glucose tolerance.",
            "What can chronic sleep deprivation lead to?",
            "impaired glucose tolerance",
        ),
        (
            "Adding potash to sand reduces the melting point of glass.",
            "What does adding potash to sand reduce?",
            "the melting point of glass",
        ),
        (
            "Female bullying can be triggered by specific social dynamics.",
            "What can trigger female bullying?",
            "specific social dynamics",
        ),
        (
            "The immune system detects pathogens through pattern recognition receptors.",
            "How does the immune system detect pathogens?",
            "Through pattern recognition receptors",
        ),
        (
            "Congestion control mechanisms are vital due to bursty traffic.",
            "Why are congestion control mechanisms vital?",
            "Due to bursty traffic",
        ),
        (
            "The theory of relativity was developed by Albert Einstein.",
            "Who developed the theory of relativity?",
            "Albert Einstein",
        ),
        # A ranking is asked the other way round: the superlative is the cue.
        (
            "Alcohol use disorder is the most common disorder among adults.",
            "What is the most common disorder among adults?",
            "Alcohol use disorder",
        ),
        (
            "Chest radiography is the investigation of choice for suspected pneumonia.",
            "What is the investigation of choice for suspected pneumonia?",
            "Chest radiography",
        ),
    ],
)
def test_a_sentence_that_states_a_claim_gives_its_question(
    sentence: str, question: str, answer: str
) -> None:
    assert _ask(sentence) == (question, answer)


@pytest.mark.parametrize(
    ("sentence", "why"),
    [
        # The subject is a pronoun or points back to a sentence the card does not show.
        ("It leads to faster recovery of the muscle.", "subject opens on"),
        ("The company is a leader in payments.", "points back"),
        # A clause where a noun phrase should stand.
        ("Investigators concluded the disaster was caused by methane.", "clause"),
        # Many answers fit a question about a broad subject.
        ("Alcohol leads to aggression in some people.", "too broad"),
        # A ranking without a scope singles out nothing a question can name.
        ("Focus is the most important thing of all.", "ranking without a scope"),
        # A person's biography is no idea of the note.
        ("Marcus Raichle is a researcher who named the network.", "not an idea of the note"),
        # An instruction states nothing to recall.
        ("Create a writable store named currentUser.", "instruction"),
    ],
)
def test_a_sentence_gives_no_question_and_says_why(sentence: str, why: str) -> None:
    found, reason = claim(sentence.rstrip("."), frozenset(), _same)
    assert found is None
    assert why in reason


@pytest.mark.parametrize(
    ("sentence", "stands"),
    [
        ("This hyperactive self-reflection can lead to dark thoughts.", False),
        ("For example, a deer does not feel unintelligent.", False),
        ("They allow the mind to pull back.", False),
        ("In depressed individuals, the network is overly active.", True),
        ("Ketamine is a dissociative agent.", True),
    ],
)
def test_sentences_that_lean_on_the_one_before_are_told(sentence: str, stands: bool) -> None:
    assert leans(loose(sentence, _fillers())) is not stands


def test_joining_words_and_who_said_it_are_taken_off_the_claim() -> None:
    assert loose("However, ketamine is fast.", _fillers()) == "Ketamine is fast."
    assert loose("It is crucial to note that ketamine is addictive.", _fillers()) == (
        "Ketamine is addictive."
    )
    assert loose("Thusly named, it stands.", _fillers()) == "Thusly named, it stands."
    assert unsaid("Boz emphasizes that startups are hard.") == ("Startups are hard.", "Boz")
    assert unsaid("A 2018 study demonstrated that sauna use lowers mortality.")[0] == (
        "Sauna use lowers mortality."
    )
    assert framed("In two dimensions, the determinant measures area.") == (
        "In two dimensions",
        "the determinant measures area.",
    )
    # A concession frames nothing the question needs.
    assert framed("While practice helps, the idea matters more.")[0] == ""


def _cards_of(tmp_path: Path, text: str) -> tuple:
    from notedeck.build import build
    from notedeck.config import Config

    notes = tmp_path / "notes"
    (notes / "biology").mkdir(parents=True)
    (notes / "biology" / "cells.md").write_text(text, encoding="utf-8")
    report = build(Config(notes_dir=notes, out_dir=tmp_path / "decks"), dry_run=True)
    return report.cards


NOTE = """---
title: Cells and energy
videoId: dQw4w9WgXcQ
tags: [cells]
---

## Important Considerations:

The mitochondrial matrix is the innermost compartment of the mitochondrion \\
<a class="yt-timestamp" data-t="00:01:10">[00:01:10]</a>.
This compartment holds the enzymes of the citric acid cycle.

## How Mitochondria Work

Mitochondria produce ATP through oxidative phosphorylation \\
<a class="yt-timestamp" data-t="00:02:00">[00:02:00]</a>.
"""


def test_cards_carry_the_notes_tags_and_a_context_line_without_a_trailing_colon(
    tmp_path: Path,
) -> None:
    cards = _cards_of(tmp_path, NOTE.replace("\\\n", ""))
    assert cards
    for card in cards:
        # The learner's tag tree gets the note's tags and its deck, nothing of notedeck's.
        assert set(card.tags) == {"cells", "biology"}, card.tags
        assert not card.section.endswith(":")
        assert card.why
        assert card.moments  # every card opens its moment of the video
    asked = {c.question: c for c in cards}
    assert "What is the mitochondrial matrix?" in asked
    assert "How do mitochondria work?" in asked
    # "This compartment ..." leans on the sentence before: no card of its own.
    assert not any("citric acid" in ln.html for c in cards for ln in c.answer)


READ_DROPS = """---
title: Insulin and the router agent
videoId: dQw4w9WgXcQ
---

## Insulin

High blood glucose levels can damage organs and increase insulin resistance over time.
The external carotid artery is a smaller branch compared to the internal carotid.

## The Router Agent

Router agent is an orchestrator that picks which sub-agent handles a request.
In the demo, the router agent was used to route billing questions.
Google Finance was used to extract share prices for every stock of the index.
A black hole is a region of spacetime where gravity traps light."

## Guardrails

*   **Safety layer:** A mechanism that checks every model output before it is shown.
*   **Technical debt:** A cost that grows when shortcuts in code are left unfixed.
"""


def test_what_blind_readers_dropped_is_mended_or_left_out(tmp_path: Path) -> None:
    """Drops blind readers named, each met by the card writer (reads 101-113)."""
    cards = {c.question: c for c in _cards_of(tmp_path, READ_DROPS)}
    answers = {q: " ".join(ln.html for ln in c.answer) for q, c in cards.items()}
    # The answer ends where the subject's second verb begins: one fact a card.
    assert answers["What can high blood glucose levels damage?"].startswith("Organs.")
    # A bare noun the note writes with its article gets one in the question.
    assert "What is a router agent?" in cards
    # Without the note's word for it, notes at large tell a countable thing ("a safety
    # layer") from a mass ("technical debt" stays bare).
    assert "What is a safety layer?" in cards
    assert "What is technical debt?" in cards
    # A stray closing quote is mended, and the answer ends on its full stop.
    assert answers["What is a black hole?"].startswith(
        "A region of spacetime where gravity traps light."
    )
    assert '"' not in answers["What is a black hole?"]
    # A definition that only compares sizes says nothing of what the thing is; what one
    # example was used for is a story's detail.
    assert not any("carotid" in q for q in cards)
    assert not any("used for" in q for q in cards)


READ_DROPS_2 = """---
title: Prompt tax and clinical signs
videoId: dQw4w9WgXcQ
---

## Prompt Tax

The "prompt tax" refers to the hidden costs of moving prompts to a new model.
Non-parametric tests are used for data that is not normally distributed.
Successive distribution days indicate a weakening market for the index.
Supported housing serves as a stepping stone towards living alone.
Visible growth in operating margins is a positive sign for the stock.
Ketosis is a biochemical hallmark of Von Gierke's disease.
The default mode network is a specific part of the brain that enables self-awareness.
Above the brainstem is the limbic system, which controls emotions.
Synthetic meshes cannot be used in infected or strangulated hernia repairs.
The heat of the Earth's core is partly due to radioactive decay of heavy elements.

## Reviews

A separate LLM is used to write a summary of every change in the pull request.
The urgency of the Ukraine war means a clear decision is needed before the summit.
Osteomyelitis is a bone infection.
Oscar Health's financial outcomes are driven by three main levers.

## Exploitation of Voyeurism

The voyeurism is defined as taking cheap pleasure in watching other people's private lives.
Radar is a device that uses radio waves to detect distant aircraft [00:05:07 - 00:05:13].
Dark matter is a substance that does not consist of atoms, unlike ordinary matter.
Most of the mass of a galaxy is made of dark matter.

## Lab Tests

CAMP test is used to identify group B streptococci on blood agar plates.
Echinococcus granulosus is a tapeworm whose larval cysts grow in the human liver.
Lack of liquidity may lead to "slippages" in the performance of the model portfolio.

## Portfolio Size

*   **Number of Stocks:** A 25-stock portfolio generally provides the highest returns.

## Markets

Bill Gates, one of the world's wealthiest individuals, warned of a coming crisis.
Malibu (MBUU) is a recreational boat maker that benefits from an ageing population.
Ambient was founded by taking over a CERN spin-off project called Planet Watch.
An economic boom in China would increase their sales and profits in euros.
The default mode network (DMN) is a set of brain regions that are active during rest.

## Sleep and Drugs

Sleep deprivation increases negative emotions and, more significantly, decreases joy.
Open-source development prevents monopolistic control and encourages diversity.
Antiviral drugs work by interfering with the replication of the viral genome.

## Outlook

A2A is a high-level architecture rather than a downloadable tool or framework.
Business owners are reluctant to return to the city due to high costs and crime.
Cognitive Shield is a next-generation platform designed to protect financial systems.
The long-term vision is a future where driving cars by hand looks reckless.
PSM was a consistent challenge because of the sheer volume of information to learn.
The rise of robotic process automation led to dedicated centres of excellence.

## How Fraud Works

The scheme typically begins with a caller who claims to be from the bank.
"""


def test_what_later_blind_readers_dropped_is_mended_or_left_out(tmp_path: Path) -> None:
    """Drops blind readers named in reads 141-163, each met by the card writer."""
    cards = {c.question: c for c in _cards_of(tmp_path, READ_DROPS_2)}
    # A coined term in quotes heads its sentence as a term.
    assert "What does the prompt tax refer to?" in cards
    # A capital only there because the word opens the sentence goes ("Non-parametric").
    assert "What are non-parametric tests used for?" in cards
    # Soft links with many right answers give no card: indicate, serve as.
    assert not any(q.endswith(("indicate?", "serve as?")) for q in cards)
    # A judgement ("a positive sign") or a kind that only relates ("a hallmark of ...")
    # is not what a thing is; a part that goes on to say which one is.
    assert not any("operating margins" in q or "ketosis" in q.lower() for q in cards)
    assert "What is the default mode network?" in cards
    # A place, a negated subject, an adverb in place of a state: no question reads right.
    assert not any(q.startswith(("What is above", "What is synthetic")) for q in cards)
    assert not any(q.endswith("partly?") for q in cards)
    # What one of many is used for, and what a whole situation means, have many answers.
    assert not any("separate LLM" in q or "Ukraine" in q for q in cards)
    # A definition of a few words names a kind, not which one; a past event is a story's.
    assert not any(w in q for q in cards for w in ("osteomyelitis", "PSM", "automation"))
    assert not any("Oscar Health" in q for q in cards)  # "Three main levers." names none
    # An abstract noun loses the "the" the note gave it; a mass noun the note writes bare
    # ("of dark matter") takes no "a"; a bracketed time range is a moment, not text.
    assert "How is voyeurism defined?" in cards
    assert "What is dark matter?" in cards
    radar = " ".join(ln.html for ln in cards["What is radar?"].answer)
    assert "00:05" not in radar and cards["What is radar?"].moments
    # What a thing is not, a name the card never gives, a sales line, a vision of whose?
    for gone in ("A2A", "the city", "Cognitive Shield", "long-term vision"):
        assert not any(gone in q for q in cards), gone
    # A named test takes "the", a species' name none; an answer opening on a quote is
    # capitalised inside it; "X is a 25-stock portfolio generally provides" is a clause.
    assert "What is the CAMP test used for?" in cards
    assert "What is Echinococcus granulosus?" in cards
    [liquidity] = [c for q, c in cards.items() if "liquidity" in q]
    assert liquidity.answer[0].html.startswith("&quot;Slippages&quot;")
    assert not any("number of stocks" in q for q in cards)
    # "One of the world's wealthiest" ranks without a scope; a ticker marks an example's
    # stock, not an acronym's initials; "Who founded ...?" needs someone; "their sales"
    # are whose?
    for gone in ("Bill Gates", "Malibu", "Ambient", "China"):
        assert not any(gone in q for q in cards), gone
    assert "What is the default mode network (DMN)?" in cards
    # The subject's second verb is a second fact, even after an aside or an adverb; a
    # mechanism's answer keeps its "By".
    answers = {q: " ".join(ln.html for ln in c.answer) for q, c in cards.items()}
    assert answers["What does sleep deprivation increase?"].startswith("Negative emotions.")
    prevents = "What does open-source development prevent?"
    assert answers[prevents].startswith("Monopolistic control.")
    assert answers["How do antiviral drugs work?"].startswith("By interfering")
    # "How does fraud work?" needs an answer that says how fraud works, not a first step.
    assert "How does fraud work?" not in cards


PRECAUTIONS = """---
title: Benzodiazepines for anxiety
videoId: dQw4w9WgXcQ
---
## Precautions

Benzodiazepines are habit-forming.
*   **Withdrawal:** Stopping benzodiazepines suddenly can cause seizures.
*   **Interactions:** Alcohol deepens their sedation.

Benzodiazepines should only be taken under a psychiatrist's supervision.
"""


def test_a_precaution_asks_why_and_the_harm_answers(tmp_path: Path) -> None:
    """The advice is the question and the harm it guards against the answer, on one line."""
    cards = _cards_of(tmp_path, PRECAUTIONS)
    [card] = [c for c in cards if c.pattern == "precautions"]
    assert card.question == (
        "Why should benzodiazepines only be taken under a psychiatrist's supervision?"
    )
    [line] = card.answer
    assert "seizures" in line.html and "supervision" not in line.html


RANKED = """---
title: Pneumonia
videoId: dQw4w9WgXcQ
---
## Causes

Streptococcus pneumoniae is the most common cause of community-acquired pneumonia \\
<a class="yt-timestamp" data-t="00:01:10">[00:01:10]</a>.
"""


def test_a_ranking_asked_the_other_way_round_renders_in_anki(tmp_path: Path, anki: Anki) -> None:
    notes = tmp_path / "notes"
    (notes / "medicine").mkdir(parents=True)
    (notes / "medicine" / "pneumonia.md").write_text(RANKED.replace("\\\n", ""), "utf-8")
    report = run_build(notes)
    [deck] = report.decks
    anki.import_package(deck.path)
    [cid] = anki.col.find_cards("")
    card = anki.col.get_card(cid)
    assert "What is the most common cause of community-acquired pneumonia?" in card.question()
    # The name is the answer, with the moment it was said as a link.
    assert "Streptococcus pneumoniae." in card.answer()
    assert "t=70" in card.answer()
