"""Write src/notedeck/cards/common_words.txt: the words real notes write in lower case.

A capital at the start of a sentence or in a Title Case heading says nothing about a word;
whether notes write it in lower case elsewhere does. Counted over a folder of notes (the
18,078-note corpus in ../shared/corpus-full), keeping words seen in lower case in at least
MIN_NOTES notes. A third column counts the notes that write the word as a countable
thing: after "a"/"an", at the end of its noun phrase ("an agent that ...", "a layer."),
so a question can tell "What is a router agent?" from "What is machine learning?":

    python scripts/common_words.py /path/to/tubegraph-content
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

MIN_NOTES = 10
_WORD = re.compile(r"(?<![\w/.@#-])[a-z][a-z'-]{1,30}(?![\w/.@-])")
# "a/an", up to two modifiers, the word, then the phrase ends (punctuation or a word that
# cannot continue a noun phrase).
_COUNTED = re.compile(
    r"\b(?:a|an)\s+(?:[a-z-]+\s+){0,2}?([a-z][a-z'-]{1,30})(?=[.,;:!?)]|\s+(?:is|are|was|"
    r"were|that|which|who|to|of|in|for|with|and|or|can|will|has|on|by|as|from)\b)"
)
_NOISE = re.compile(r"`[^`]*`|```.*?```|https?://\S+|\[\[[^\]]*\]\]|<[^>]+>", re.DOTALL)


def main(root: Path, out: Path) -> None:
    seen: Counter[str] = Counter()
    counted: Counter[str] = Counter()
    notes = 0
    for path in sorted(root.rglob("*.md")):
        notes += 1
        text = path.read_text(encoding="utf-8", errors="replace")
        body = text.split("---", 2)[-1]
        prose = _NOISE.sub(" ", body)
        seen.update(set(_WORD.findall(prose)))
        counted.update(set(_COUNTED.findall(prose)))
    counts: Counter[str] = Counter()
    for word, n in seen.items():
        word = word.strip("'-")
        if word:
            counts[word] = max(counts[word], n)
    kept = sorted(w for w, n in counts.items() if n >= MIN_NOTES)
    header = (
        f"# Words real notes write in lower case, in how many of {notes} notes, and in how"
        " many as a countable thing ('an agent that'; see scripts/common_words.py)\n"
    )
    body = "".join(f"{w}\t{counts[w]}\t{counted[w]}\n" for w in kept)
    out.write_text(header + body, encoding="utf-8")


if __name__ == "__main__":
    main(
        Path(sys.argv[1]),
        Path(__file__).resolve().parent.parent / "src/notedeck/cards/common_words.txt",
    )
