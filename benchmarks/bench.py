"""How fast notedeck builds a large vault, next to the floor script on the same vault.

    python benchmarks/bench.py [--work /tmp/nd-bench] [--runs 3] [--sizes 1000,5000,18078,50000]

For each size it builds a vault (the first N notes of the 18,078-note corpus; sizes past
the corpus are synthetic, from synth.py) and prints the median over --runs of: a cold
build (no cache, `notedeck build` as a subprocess), a rebuild after one note is edited
(end to end, Python start-up included; "edit" is the note in the middle of the sorted
paths, "big" one in the largest top folder, whose package is the largest to write again),
and the floor script; plus notes, cards, MB read, notes/s, MB/s and peak memory (of the
largest process). Vaults, caches and outputs stay under --work.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from common import (  # noqa: E402  (beside this script, not a package)
    Measurement,
    extract_full_corpus,
    median_of,
    run_measured,
    take_subset,
    vault_stats,
)

CORPUS_NOTES = 18_078


def make_vault(work: Path, corpus: Path, size: int) -> Path:
    """The notes folder for `size` notes, made once and reused."""
    notes = work / f"vault-{size}" / "notes"
    if size <= CORPUS_NOTES:
        return take_subset(corpus, notes, size)
    if not notes.is_dir():
        staging = notes.with_name(".notes-staging")
        shutil.rmtree(staging, ignore_errors=True)
        cmd = [
            sys.executable,
            str(HERE / "synth.py"),
            str(staging),
            "--notes",
            str(size),
            "--seed",
            "1",
        ]
        run_measured(cmd)
        staging.rename(notes)
    return notes


def notedeck_cmd(notes: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "notedeck", "build", str(notes), "--out", str(out), "--json"]


def bench_env() -> dict[str, str]:
    """This checkout's notedeck, quiet (CI), with a fixed clock; its modules compiled once
    and kept, as in any installed copy (this machine sets PYTHONDONTWRITEBYTECODE)."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), CI="1", SOURCE_DATE_EPOCH="1700000000")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def cold_build(notes: Path, out: Path, env: dict[str, str]) -> Measurement:
    shutil.rmtree(notes.parent / ".notedeck-cache", ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    return run_measured(notedeck_cmd(notes, out), env=env)


def middle_note(notes: Path) -> Path:
    """The note in the middle of the vault's sorted paths: a deck of typical size."""
    paths = sorted(notes.rglob("*.md"))
    return paths[len(paths) // 2]


def note_of_largest_deck(notes: Path) -> Path:
    """A note of the top folder with the most notes: the largest package to write again."""
    folders = [d for d in notes.iterdir() if d.is_dir()]
    largest = max(folders, key=lambda d: (sum(1 for _ in d.rglob("*.md")), d.name))
    paths = sorted(largest.rglob("*.md"))
    return paths[len(paths) // 2]


def edited_rebuild(
    notes: Path, out: Path, env: dict[str, str], run: int, target: Path
) -> Measurement:
    """Edit one note (a new sentence at its end) and rebuild."""
    original = target.read_bytes()
    target.write_bytes(original + f"\n\nBenchmark edit number {run} adds a sentence.\n".encode())
    try:
        return run_measured(notedeck_cmd(notes, out), env=env)
    finally:
        target.write_bytes(original)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/nd-bench"))
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (median shown)")
    parser.add_argument("--sizes", default=f"1000,5000,{CORPUS_NOTES},50000")
    parser.add_argument("--no-floor", action="store_true", help="skip the floor script")
    args = parser.parse_args()

    corpus = extract_full_corpus(args.work)
    env = bench_env()
    print(
        f"{'notes':>7} {'cards':>7} {'MB':>6} {'cold s':>7} {'notes/s':>8} {'MB/s':>5} "
        f"{'peak MB':>7} {'edit s':>6} {'big s':>6} {'floor s':>7} {'ratio':>5}",
        flush=True,
    )
    for size in (int(s) for s in args.sizes.split(",")):
        notes = make_vault(args.work, corpus, size)
        count, megabytes = vault_stats(notes)
        out = notes.parent / "decks"
        colds = [cold_build(notes, out, env) for _ in range(args.runs)]
        cards = json.loads(colds[-1].stdout)["cards"]
        edits = [edited_rebuild(notes, out, env, n, middle_note(notes)) for n in range(args.runs)]
        big = note_of_largest_deck(notes)
        bigs = [edited_rebuild(notes, out, env, n, big) for n in range(args.runs)]
        cold = median_of([m.seconds for m in colds])
        edit = median_of([m.seconds for m in edits])
        edit_big = median_of([m.seconds for m in bigs])
        peak = max(m.peak_rss_mb for m in colds)
        floor_text, ratio_text = "-", "-"
        if not args.no_floor:
            floor_out = notes.parent / "floor.apkg"
            floors = [
                run_measured([sys.executable, str(HERE / "floor.py"), str(notes), str(floor_out)])
                for _ in range(args.runs)
            ]
            floor = median_of([m.seconds for m in floors])
            floor_text, ratio_text = f"{floor:.1f}", f"{cold / floor:.2f}"
        print(
            f"{count:>7} {cards:>7} {megabytes:>6.1f} {cold:>7.1f} {count / cold:>8.0f} "
            f"{megabytes / cold:>5.1f} {peak:>7.0f} {edit:>6.2f} {edit_big:>6.2f} {floor_text:>7} "
            f"{ratio_text:>5}",
            flush=True,
        )


if __name__ == "__main__":
    main()
