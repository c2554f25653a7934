"""Helpers shared by the benchmarks: corpus setup, subsets, and measured subprocess runs."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

FULL_CORPUS_ARCHIVE = (
    Path(__file__).resolve().parents[2] / "shared/corpus-full/tubegraph-notes.tar.xz"
)
CONTENT_FOLDER = "tubegraph-content"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Measurement:
    """One finished run: wall seconds, peak resident memory, and what it printed."""

    seconds: float
    peak_rss_mb: float
    stdout: str = ""


def extract_full_corpus(dest: Path, archive: Path = FULL_CORPUS_ARCHIVE) -> Path:
    """Extract the 18k-note corpus into `dest` once and return its content folder.

    A present content folder is reused as is. Extraction goes to a sibling temporary
    folder first and is renamed into place, so an interrupted run leaves no half vault.
    """
    content = dest / CONTENT_FOLDER
    if content.is_dir():
        return content
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=dest))
    try:
        with tarfile.open(archive, "r:xz") as tar:
            tar.extractall(staging, filter="data")
        (staging / CONTENT_FOLDER).rename(content)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return content


def median_of(runs: Sequence[float]) -> float:
    """Median of repeated timings; the median shrugs off one slow outlier run."""
    if not runs:
        raise ValueError("median_of needs at least one run")
    return float(statistics.median(runs))


def run_measured(
    cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> Measurement:
    """Run `cmd`, returning its wall time and its own peak RSS; raise if it fails.

    `os.wait4` reports the rusage of exactly this child (and the children it reaped),
    unlike RUSAGE_CHILDREN, whose ru_maxrss is a maximum over every child ever waited
    for and so cannot be turned into a per-run figure by subtraction.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        # Tell Popen the child is reaped, or its finaliser would wait on a dead pid.
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        stderr = err.read().decode("utf-8", "replace")
    if proc.returncode != 0:
        raise subprocess.CalledProcessError(proc.returncode, cmd, stdout, stderr)
    # ru_maxrss is in KiB on Linux but in bytes on macOS.
    peak_bytes = usage.ru_maxrss if sys.platform == "darwin" else usage.ru_maxrss * 1024
    return Measurement(seconds=seconds, peak_rss_mb=peak_bytes / MIB, stdout=stdout)


def note_paths(folder: Path) -> list[Path]:
    """Every `*.md` under `folder`, in the order of their relative POSIX paths."""
    return sorted(folder.rglob("*.md"), key=lambda p: p.relative_to(folder).as_posix())


def vault_stats(folder: Path) -> tuple[int, float]:
    """Number of notes under `folder` and their total size in MiB."""
    paths = note_paths(folder)
    return len(paths), sum(p.stat().st_size for p in paths) / MIB


def take_subset(src: Path, dest: Path, n: int) -> Path:
    """Make `dest` a vault of the first `n` notes of `src` (sorted), folders kept.

    An existing `dest` holding exactly those notes is reused; any other existing
    `dest` is an error rather than something to delete.
    """
    chosen = [p.relative_to(src) for p in note_paths(src)[:n]]
    if dest.exists():
        present = [p.relative_to(dest) for p in note_paths(dest)]
        if present == chosen:
            return dest
        raise FileExistsError(f"{dest} exists and is not the first {n} notes of {src}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        for rel in chosen:
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / rel, target)
        staging.rename(dest)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest


def main() -> None:
    """Extract the full corpus into the folder given (default /tmp/nd-bench) and describe it."""
    dest = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/nd-bench")
    content = extract_full_corpus(dest)
    notes, megabytes = vault_stats(content)
    print(f"{content}: {notes} notes, {megabytes:.1f} MiB")


if __name__ == "__main__":
    main()
