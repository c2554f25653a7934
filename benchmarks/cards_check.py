"""Differential check of deriving and rendering cards: same notes in, same cards out.

    python benchmarks/cards_check.py NOTES --save BASE.pickle
    python benchmarks/cards_check.py --compare BASE.pickle [--every 6] [--runs 3]
    python benchmarks/cards_check.py --compare BASE.pickle --every 6 --vs OLD_SRC

`--save` reads every note of NOTES (read.read_note), resolves its timestamps with the
build's own resolve_moments, derives and renders its cards with the code on sys.path, and
pickles {note path: (note, moments, cards, rendered)}. The notes and moments are kept so a
later comparison feeds derive and render exactly the same input even if reading changes.

`--compare` derives and renders the saved notes again (every `--every`th note), reports
every card that differs from the saved one (dataclass equality: key, fields, tags, deck,
hash, order; render_cards too when the code has it) and prints derive and render
ms/note, the medians of `--runs` timed passes. The time is the process's CPU time, so
other builds on the machine hardly move it; render_cards is timed when present, else
render_card card by card.
With `--vs OLD_SRC` it also times the code in OLD_SRC (a `src` folder of another checkout)
in alternating subprocesses, so both are measured back to back on the same busy machine.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

# A note's saved entry: (note, moments, cards, rendered).
Entry = tuple[Any, Any, Any, Any]


def _tools(root: Path) -> tuple[Any, Any, Any, Any]:
    """The configuration, templates and card style a default build of `root` would use."""
    try:  # the build's stages moved from build.py to work.py; time either version
        from notedeck.incremental.workers import card_style
    except ImportError:
        from notedeck.build import card_style
    from notedeck.anki.render import load_templates
    from notedeck.cards.questions import load_patterns
    from notedeck.config import load_config

    config = load_config(root, {"notes_dir": root, "out_dir": root.parent / "decks-unused"})
    templates = load_templates(config.templates_dir)
    patterns = load_patterns(config.questions_file or templates.questions)
    return config, templates, card_style(config, templates, patterns), patterns


def deck_namer(config: Any) -> Any:
    """The build's deck name of a card, from either version of the pipeline."""
    try:
        from notedeck.incremental.workers import deck_name  # (deck parts, config)

        return lambda card: deck_name(card.deck, config)
    except ImportError:
        from notedeck.build import deck_name as old  # (card, config)

        return lambda card: old(card, config)


def _batch_render(templates: Any) -> Any:
    """render_cards when this code has it (one note's cards at once), else None."""
    import notedeck.anki.render as render

    return getattr(render, "render_cards", None)


def make_cards(note: Any, moments: Any, config: Any, templates: Any, style: Any) -> Entry:
    from notedeck.anki.render import render_card
    from notedeck.cards.derive import derive_cards

    deck_of = deck_namer(config)
    cards = derive_cards(note, moments, style)
    rendered = tuple(render_card(c, deck_of(c), templates, config.vault) for c in cards)
    return note, moments, cards, rendered


def save(root: Path, out: Path) -> None:
    from notedeck.build import discover, resolve_moments
    from notedeck.reading.read import read_note

    config, templates, style, _ = _tools(root)
    notes = []
    for path in discover(root):
        try:
            notes.append(read_note(path, root))
        except Exception as exc:  # an unreadable note makes no cards in the build either
            print(f"skip {path}: {type(exc).__name__}: {exc}", file=sys.stderr)
    moments, _ = resolve_moments(notes, config)
    saved = {n.path: make_cards(n, moments[n.key], config, templates, style) for n in notes}
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as f:
        pickle.dump({"root": str(root), "notes": saved}, f, protocol=pickle.HIGHEST_PROTOCOL)
    cards = sum(len(e[2]) for e in saved.values())
    print(f"saved {len(saved)} notes, {cards} cards to {out}")


def _load(base: Path, every: int) -> tuple[Path, dict[str, Entry]]:
    with base.open("rb") as f:
        data = pickle.load(f)
    notes: dict[str, Entry] = data["notes"]
    picked = {p: e for i, (p, e) in enumerate(notes.items()) if i % every == 0}
    return Path(data["root"]), picked


def _first_difference(old: Any, new: Any) -> str:
    """Which field of two unequal cards differs, shown briefly."""
    for name in getattr(old, "__dataclass_fields__", {}):
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            return f"{name}: {a!r:.300} != {b!r:.300}"
    return f"{old!r:.300} != {new!r:.300}"


def compare(base: Path, every: int) -> int:
    """Every card that differs from the saved one; the number of differing notes."""
    root, notes = _load(base, every)
    config, templates, style, _ = _tools(root)
    bad = 0
    for path, (note, moments, cards, rendered) in notes.items():
        _, _, new_cards, new_rendered = make_cards(note, moments, config, templates, style)
        batch = _batch_render(templates)
        problems = []
        for what, old, new in (("card", cards, new_cards), ("rendered", rendered, new_rendered)):
            if old == new and type(old) is type(new):
                continue
            if len(old) != len(new):
                problems.append(f"{what}: {len(old)} cards before, {len(new)} now")
            for i, (a, b) in enumerate(zip(old, new, strict=False)):
                if a != b:
                    problems.append(f"{what} {i}: {_first_difference(a, b)}")
        if batch is not None:
            decks = [deck_namer(config)(c) for c in new_cards]
            batched = batch(new_cards, decks, templates, config.vault)
            if tuple(batched) != rendered:
                problems.append("render_cards differs from the saved rendered cards")
        if problems:
            bad += 1
            print(f"DIFF {path}:")
            for p in problems[:10]:
                print(f"    {p}")
    cards = sum(len(e[2]) for e in notes.values())
    print(f"compared {len(notes)} notes, {cards} cards: {bad} notes differ")
    return bad


def timings(base: Path, every: int, runs: int) -> dict[str, list[float]]:
    """ms/note for derive and for render, one figure per timed pass over the sample."""
    import notedeck.anki.render as render
    from notedeck.anki.render import render_card
    from notedeck.cards.derive import derive_cards

    root, notes = _load(base, every)
    config, templates, style, _ = _tools(root)
    batch = _batch_render(templates)
    deck_of = deck_namer(config)
    inputs = [(e[0], e[1]) for e in notes.values()]
    # The loaded baseline (every sampled note with its saved cards) is far more than a
    # build holds at once; left to the collector, its full passes over it would be
    # charged to whichever stage is running when one starts.
    gc.collect()
    gc.freeze()
    out: dict[str, list[float]] = {"derive": [], "render": []}
    sanitise = getattr(render, "sanitise", None)
    for _ in range(runs + 1):  # the first pass warms up and is not counted
        # A build renders each note once: what a pass left in the sanitiser's cache
        # would make the next one look faster than any build is.
        if sanitise is not None and hasattr(sanitise, "cache_clear"):
            sanitise.cache_clear()
        gc.collect()
        # CPU time of this process: other builds on the machine slow the wall clock
        # but hardly the CPU time a pass needs.
        t0 = time.process_time()
        derived = [derive_cards(note, moments, style) for note, moments in inputs]
        t1 = time.process_time()
        for cards in derived:
            decks = [deck_of(c) for c in cards]
            if batch is not None:
                batch(cards, decks, templates, config.vault)
            else:
                for c, d in zip(cards, decks, strict=True):
                    render_card(c, d, templates, config.vault)
        t2 = time.process_time()
        out["derive"].append((t1 - t0) * 1000 / len(inputs))
        out["render"].append((t2 - t1) * 1000 / len(inputs))
    return {k: v[1:] for k, v in out.items()}


def _timed_child(src: Path, base: Path, every: int, runs: int) -> dict[str, list[float]]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    cmd = [sys.executable, __file__, "--compare", str(base), "--every", str(every)]
    cmd += ["--runs", str(runs), "--time-only"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    result: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notes", nargs="?", type=Path)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--compare", type=Path)
    parser.add_argument("--every", type=int, default=1)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--vs", type=Path, help="a src folder whose code to time against")
    parser.add_argument("--rounds", type=int, default=3, help="alternations with --vs")
    parser.add_argument("--time-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.time_only:  # a timed child runs whichever src its PYTHONPATH names
        sys.path.insert(0, str(REPO / "src"))
    if args.save:
        if args.notes is None:
            parser.error("--save needs the NOTES folder")
        save(args.notes.resolve(), args.save)
        return 0
    if not args.compare:
        parser.error("give --save or --compare")
    if args.time_only:
        print(json.dumps(timings(args.compare, args.every, args.runs)))
        return 0
    bad = compare(args.compare, args.every)
    if args.vs:
        mine: dict[str, list[float]] = {"derive": [], "render": []}
        theirs: dict[str, list[float]] = {"derive": [], "render": []}
        for _ in range(args.rounds):
            for src, into in ((args.vs, theirs), (REPO / "src", mine)):
                for k, v in _timed_child(src, args.compare, args.every, args.runs).items():
                    into[k] += v
        for name, got in (("old", theirs), ("new", mine)):
            d, r = statistics.median(got["derive"]), statistics.median(got["render"])
            print(f"{name}: derive {d:.3f} ms/note, render {r:.3f} ms/note, total {d + r:.3f}")
    else:
        got = timings(args.compare, args.every, args.runs)
        d, r = statistics.median(got["derive"]), statistics.median(got["render"])
        print(f"derive {d:.3f} ms/note, render {r:.3f} ms/note, total {d + r:.3f}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
