"""Differential check of whole builds: same notes in, same lock file and package bytes out.

    python benchmarks/bytes_check.py NOTES --old OLD_SRC [--jobs 1] [--runs 3] [--keep]

Builds a copy of the notes folder NOTES with the code in OLD_SRC (a `src` folder of
another checkout, e.g. /work/main/src) and with this checkout's src, each in its own
temporary vault (a `notedeck.toml` with `jobs = JOBS`, `CI=1`,
`SOURCE_DATE_EPOCH=1700000000`), then compares the sha256 of `notedeck.lock` and of every
`.apkg`, and the `--json` report (its deck paths made relative). Three rounds, each built
into the same two vaults, each compared:

1. cold: no lock, no cache;
2. edit: a sentence added under a heading of one note (a changed card);
3. rename: a heading of another note reworded and a third note moved to a new file name
   (new card keys: the lock's sketches make them continue their old GUIDs).

With `--runs N` (N > 0) it then times N cold builds of each side, alternating old and
new so both meet the same load on a busy machine, and prints the medians of the build
process's user CPU time (and user + system), which other processes hardly move.

Exits 1 when any round differs. Temporary vaults are deleted unless `--keep`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EPOCH = "1700000000"
CHANGES = ("added", "changed", "renamed", "removed")  # lists of cards in the report


@dataclass(frozen=True)
class Build:
    """One finished build: its exit code, CPU seconds and what it wrote."""

    code: int
    user: float
    system: float
    report: object  # the --json report, deck paths relative to the vault
    digests: dict[str, str]  # file under the vault -> sha256


def make_vault(notes: Path, parent: Path, name: str, jobs: int) -> Path:
    vault = parent / name
    shutil.copytree(notes, vault / "notes")
    (vault / "notedeck.toml").write_text(f"jobs = {jobs}\n")
    return vault


def build(src: Path, vault: Path) -> Build:
    """Run `notedeck build notes --out out --json` in `vault` with the code in `src`."""
    env = {**os.environ, "CI": "1", "SOURCE_DATE_EPOCH": EPOCH, "PYTHONPATH": str(src)}
    cmd = [sys.executable, "-m", "notedeck", "build", "notes", "--out", "out", "--json"]
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, cwd=vault, env=env, stdout=out, stderr=err)
        # wait4 gives the CPU time of exactly this build (and the workers it reaped).
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode not in (0, 1):  # 1: the build reported errors in notes
        raise SystemExit(f"build failed ({proc.returncode}) in {vault}:\n{stderr}")
    report = json.loads(stdout.replace(str(vault), "VAULT")) if stdout.strip() else None
    digests = {
        path.relative_to(vault).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in [vault / "notedeck.lock", *sorted((vault / "out").glob("*.apkg"))]
        if path.exists()
    }
    return Build(proc.returncode, usage.ru_utime, usage.ru_stime, report, digests)


def differences(old: Build, new: Build) -> list[str]:
    found = []
    if old.code != new.code:
        found.append(f"exit code {old.code} != {new.code}")
    for name in sorted(old.digests.keys() | new.digests.keys()):
        a, b = old.digests.get(name, "missing"), new.digests.get(name, "missing")
        if a != b:
            found.append(f"{name}: {a[:12]} != {b[:12]}")
    if old.report != new.report:
        found.append("the --json reports differ")
    return found


def _summary(done: Build) -> str:
    """How much a build compared: its files, cards and the changes it reported."""
    report = done.report if isinstance(done.report, dict) else {}
    changes = ", ".join(f"{len(report.get(k, []))} {k}" for k in CHANGES)
    return f"{len(done.digests)} files, {report.get('cards', '?')} cards ({changes})"


def _with_headings(vault: Path) -> list[Path]:
    """The notes (sorted) that have a plain `## ` heading, to edit the same way."""
    found = []
    for path in sorted((vault / "notes").rglob("*.md")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if any(line.startswith("## ") and "[[" not in line for line in lines):
            found.append(path)
    return found


def _first_heading(lines: list[str]) -> int:
    return next(i for i, ln in enumerate(lines) if ln.startswith("## ") and "[[" not in ln)


def edit_one(vault: Path) -> str:
    """Add a sentence under the first plain heading of the 10th such note."""
    path = _with_headings(vault)[9]
    lines = path.read_text(encoding="utf-8").splitlines()
    at = _first_heading(lines)
    lines[at + 1 : at + 1] = ["", "A sentence added to check rebuilds byte for byte.", ""]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path.relative_to(vault).as_posix()


def rename_and_move(vault: Path) -> str:
    """Reword the first plain heading of the 20th such note; move the 30th note."""
    notes = _with_headings(vault)
    path = notes[19]
    lines = path.read_text(encoding="utf-8").splitlines()
    at = _first_heading(lines)
    lines[at] += " Revisited"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    moved = notes[29]
    target = moved.with_name(f"moved_{moved.name}")
    moved.rename(target)
    return f"{path.relative_to(vault).as_posix()}, {moved.relative_to(vault).as_posix()}"


def check(notes: Path, old_src: Path, new_src: Path, parent: Path, jobs: int) -> bool:
    old_vault = make_vault(notes, parent, "old", jobs)
    new_vault = make_vault(notes, parent, "new", jobs)
    same = True
    rounds = [("cold", None), ("edit", edit_one), ("rename", rename_and_move)]
    for name, change in rounds:
        what = ""
        if change is not None:
            what = change(old_vault)
            assert change(new_vault) == what
        old, new = build(old_src, old_vault), build(new_src, new_vault)
        found = differences(old, new)
        print(f"{name}{f' ({what})' if what else ''}: {_summary(old)}; differences: {len(found)}")
        for line in found:
            print(f"  {line}")
        same = same and not found
    return same


def time_builds(
    notes: Path, old_src: Path, new_src: Path, parent: Path, jobs: int, runs: int
) -> None:
    times: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
    for run in range(runs):
        for side, src in (("old", old_src), ("new", new_src)):
            vault = make_vault(notes, parent, f"time-{side}-{run}", jobs)
            done = build(src, vault)
            times[side].append((done.user, done.user + done.system))
            shutil.rmtree(vault)
            print(
                f"run {run + 1} {side}: user {done.user:.2f} s, user+sys "
                f"{done.user + done.system:.2f} s",
                flush=True,
            )
    for side, got in times.items():
        user = statistics.median(u for u, _ in got)
        total = statistics.median(t for _, t in got)
        print(f"{side}: median user {user:.2f} s, user+sys {total:.2f} s ({runs} cold builds)")
    old_user = statistics.median(u for u, _ in times["old"])
    new_user = statistics.median(u for u, _ in times["new"])
    print(f"new/old user CPU: {new_user / old_user:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notes", type=Path, help="the notes folder to build (not modified)")
    parser.add_argument("--old", type=Path, required=True, help="src folder of the old code")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--runs", type=int, default=0, help="timed cold builds per side")
    parser.add_argument("--keep", action="store_true", help="keep the temporary vaults")
    args = parser.parse_args()
    new_src = REPO / "src"
    parent = Path(tempfile.mkdtemp(prefix="bytes-check-"))
    try:
        same = check(args.notes.resolve(), args.old.resolve(), new_src, parent, args.jobs)
        print("IDENTICAL" if same else "DIFFERENT")
        if args.runs:
            time_builds(
                args.notes.resolve(), args.old.resolve(), new_src, parent, args.jobs, args.runs
            )
    finally:
        if args.keep:
            print(f"vaults kept in {parent}")
        else:
            shutil.rmtree(parent, ignore_errors=True)
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
