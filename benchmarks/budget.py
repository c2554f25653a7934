"""What a cold build may spend per note to take 0.2x the floor's time, against what each
stage of notedeck, and each library it builds on, spends per note, on one core.

    python benchmarks/budget.py [--work /tmp/nd-bench] [--every 10] [--runs 3] [--cores N]

It takes every --every'th note of the 18,078-note corpus, runs the floor script on that
sample (median of --runs), and works out the budget: 0.2 x the floor's seconds x the
cores, per note. Then it times, in this one process and on the same notes (CPU seconds,
median of --runs), the libraries any such tool starts from (python-frontmatter,
markdown-it-py tokens, Python-Markdown HTML) and notedeck's stages one after another:
read, timestamps, derive, render, lock stamps, package rows and zip. The shard caches,
the planner and the processes' start-up are left out, so notedeck's line is a floor of
its own: a build costs more than it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "src"))

from common import extract_full_corpus, run_measured  # noqa: E402

TARGET = 0.2  # the cold-build target, as a share of the floor's time


def sample(content: Path, every: int) -> list[Path]:
    paths = sorted(content.rglob("*.md"), key=lambda p: p.relative_to(content).as_posix())
    return paths[::every]


def cpu_seconds(func: Callable[[], object], runs: int) -> float:
    """Median CPU time of `func()` over `runs` calls."""
    times = []
    for _ in range(runs):
        start = time.process_time()
        func()
        times.append(time.process_time() - start)
    return statistics.median(times)


def floor_seconds(notes: Sequence[Path], content: Path, runs: int) -> float:
    """The floor script's wall time on the sample (linked into a folder of its own)."""
    with tempfile.TemporaryDirectory(prefix="notedeck-budget-") as folder:
        vault = Path(folder) / "notes"
        for path in notes:
            target = vault / path.relative_to(content)
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except OSError:  # another file system
                target.write_bytes(path.read_bytes())
        out = Path(folder) / "floor.apkg"
        cmd = [sys.executable, str(HERE / "floor.py"), str(vault), str(out)]
        return statistics.median(run_measured(cmd).seconds for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/nd-bench"))
    parser.add_argument("--every", type=int, default=10, help="take every Nth note")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()

    import frontmatter
    import markdown as python_markdown
    from markdown_it import MarkdownIt

    from notedeck.anki.package import PackageWriter
    from notedeck.anki.render import RenderedCard, load_templates, render_cards
    from notedeck.cards.derive import derive_cards
    from notedeck.config import Config
    from notedeck.incremental.lock import pack_stamps, stamp_rows, stamps_digest
    from notedeck.incremental.workers import (
        Context,
        _tools,
        deck_name,
        read_one,
        ready_tools,
        resolve_note,
    )

    content = extract_full_corpus(args.work)
    notes = sample(content, args.every)
    texts = [p.read_text(encoding="utf-8") for p in notes]
    count = len(notes)
    floor = floor_seconds(notes, content, args.runs)
    budget = TARGET * floor * args.cores / count

    config = Config(notes_dir=content, out_dir=args.work / "budget-decks")  # never written
    templates = load_templates(config.templates_dir)
    context = Context(config, "budget", templates.digest)
    ready_tools(context, templates)
    _templates, style = _tools(context)
    read = [read_one(content, p) for p in notes]
    parsed = [r.note for r in read if r.note is not None]
    moments = [resolve_note(n, [], [], config)[0] for n in parsed]
    derived = [derive_cards(n, m, style) for n, m in zip(parsed, moments, strict=True)]

    def render_all() -> list[tuple[RenderedCard, ...]]:
        return [
            render_cards(cs, [deck_name(c.deck, config) for c in cs], templates, config.vault)
            for cs in derived
        ]

    rendered = render_all()
    cards = sum(len(r) for r in rendered)

    def stamp_all() -> None:
        for note, made in zip(parsed, rendered, strict=True):
            rows = stamp_rows(made)
            pack_stamps(rows)
            stamps_digest(note.path, rows)

    def package_all() -> None:
        with tempfile.TemporaryDirectory(prefix="notedeck-budget-") as folder:
            path = Path(folder) / "deck.apkg"
            writer = PackageWriter(path, templates, 1_700_000_000, {}, 1_700_000_000)
            try:
                for made in rendered:
                    writer.add(made, {})
                writer.finish({})
            finally:
                writer.discard()

    md_it = MarkdownIt("commonmark", {"html": True}).enable("table")
    libraries = [
        ("python-frontmatter (YAML)", lambda: [frontmatter.loads(t) for t in texts]),
        ("markdown-it-py tokens", lambda: [md_it.parse(t) for t in texts]),
        ("Python-Markdown HTML", lambda: [python_markdown.markdown(t) for t in texts]),
    ]
    stages = [
        ("read (notedeck)", lambda: [read_one(content, p) for p in notes]),
        ("timestamps", lambda: [resolve_note(n, [], [], config) for n in parsed]),
        (
            "derive",
            lambda: [derive_cards(n, m, style) for n, m in zip(parsed, moments, strict=True)],
        ),
        ("render", render_all),
        ("lock stamps", stamp_all),
        ("package rows + zip", package_all),
    ]
    print(f"sample: {count:,} notes (every {args.every}th of the corpus), {cards:,} cards")
    print(f"floor.py on the sample: {floor:.2f} s (median of {args.runs})")
    print(
        f"budget at {TARGET}x the floor on {args.cores} cores: "
        f"{TARGET * floor * args.cores:.2f} CPU-s, {budget * 1000:.2f} ms a note"
    )
    print(f"\n{'CPU ms a note (one core)':<28} {'ms':>6} {'x budget':>8}")
    for title, group in (("libraries alone", libraries), ("notedeck stages", stages)):
        print(f"-- {title}")
        total = 0.0
        for name, func in group:
            per_note = cpu_seconds(func, args.runs) / count
            total += per_note
            print(f"{name:<28} {per_note * 1000:>6.2f} {per_note / budget:>8.2f}")
        if group is stages:
            print(f"{'notedeck, all stages':<28} {total * 1000:>6.2f} {total / budget:>8.2f}")


if __name__ == "__main__":
    main()
