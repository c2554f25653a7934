"""Check that reading notes gives the same Notes as a saved baseline, and time reading.

    reader_check.py NOTES --save FILE      pickle {path: Note or error} read by this code
    reader_check.py NOTES --compare FILE   read again, report every difference
    reader_check.py NOTES --time [--against REF]
                                           CPU ms/note (median of runs) of this code, and
                                           of the reader's modules as of git REF, side by side

`--every N` reads every Nth note only (sorted paths), for quick iterations. Notes are
read from bytes held in memory, so timings measure parsing, not the disk.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import pickle
import statistics
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

from notedeck.errors import NoteError  # noqa: E402
from notedeck.reading.read import read_note  # noqa: E402

Reader = Callable[[Path, Path, bytes], Any]


def note_paths(root: Path, every: int) -> list[Path]:
    paths = sorted(p for p in root.rglob("*.md") if p.is_file())
    return paths[::every]


def read_all(reader: Reader, root: Path, files: list[tuple[Path, bytes]]) -> dict[str, object]:
    """Each note's Note, or a string naming the error reading it raised."""
    out: dict[str, object] = {}
    for path, data in files:
        rel = path.relative_to(root).as_posix()
        try:
            out[rel] = reader(path, root, data)
        except NoteError as exc:
            out[rel] = f"NoteError {exc.path}:{exc.line} {exc.code} {exc.message}"
        except Exception as exc:
            out[rel] = f"{type(exc).__name__}: {exc}"
    return out


def first_difference(a: object, b: object, where: str = "") -> str | None:
    """Where two values first differ (a field path and both values), or None."""
    if type(a) is not type(b):
        return f"{where}: type {type(a).__name__} != {type(b).__name__}"
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        for f in dataclasses.fields(a):
            found = first_difference(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")
            if found:
                return found
        return None
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        for k, (x, y) in enumerate(zip(a, b, strict=False)):
            found = first_difference(x, y, f"{where}[{k}]")
            if found:
                return found
        if len(a) != len(b):
            return f"{where}: length {len(a)} != {len(b)}"
        return None
    if isinstance(a, frozenset | set) and isinstance(b, frozenset | set):
        if a != b:
            return f"{where}: only old {sorted(a - b)[:5]}, only new {sorted(b - a)[:5]}"
        return None
    if a != b:
        return f"{where}: {a!r:.300} != {b!r:.300}"
    return None


def load_files(root: Path, every: int) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in note_paths(root, every)]


# The modules reading a note runs, in import order; reader_at loads them as of a git ref.
READER_MODULES = ("timestamps", "markdown", "inline", "read")


def reader_at(ref: str) -> Reader:
    """read_note as the reader's modules were at git `ref`, imported under other names."""

    def module(name: str, source: str) -> types.ModuleType:
        mod = types.ModuleType(name)
        mod.__file__ = f"<{ref}:{name}>"
        sys.modules[name] = mod
        exec(compile(source, mod.__file__, "exec"), mod.__dict__)
        return mod

    def show(path: str) -> str:
        return subprocess.run(
            ["git", "-C", str(REPO), "show", f"{ref}:{path}"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    loaded: dict[str, types.ModuleType] = {}
    for name in READER_MODULES:
        source = show(f"src/notedeck/{name}.py")
        for done in loaded:
            source = source.replace(f"from notedeck.{done} import", f"from _ref_{done} import")
        loaded[name] = module(f"_ref_{name}", source)
    return loaded["read"].read_note  # type: ignore[no-any-return]


def time_reader(reader: Reader, root: Path, files: list[tuple[Path, bytes]]) -> float:
    """CPU ms per note of one pass over `files` (CPU time: other work on the machine
    slows a pass less than it would the wall clock)."""
    gc.collect()
    start = time.process_time()
    read_all(reader, root, files)
    return (time.process_time() - start) * 1000 / max(1, len(files))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notes", type=Path)
    parser.add_argument("--every", type=int, default=1, help="read every Nth note only")
    parser.add_argument("--save", type=Path, help="pickle what this code reads to FILE")
    parser.add_argument("--compare", type=Path, help="compare with a FILE from --save")
    parser.add_argument("--time", action="store_true", help="time reading (ms/note)")
    parser.add_argument("--against", help="also time read.py/inline.py of this git ref")
    parser.add_argument("--runs", type=int, default=3, help="timed passes (median)")
    args = parser.parse_args()
    root = args.notes.resolve()
    files = load_files(root, args.every)
    print(f"{len(files)} notes from {root}")

    if args.save:
        start = time.perf_counter()
        result = read_all(read_note, root, files)
        args.save.parent.mkdir(parents=True, exist_ok=True)
        args.save.write_bytes(pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
        took = (time.perf_counter() - start) * 1000 / max(1, len(files))
        print(f"saved {len(result)} results to {args.save} ({took:.2f} ms/note)")

    if args.compare:
        saved: dict[str, object] = pickle.loads(args.compare.read_bytes())
        start = time.perf_counter()
        result = read_all(read_note, root, files)
        took = (time.perf_counter() - start) * 1000 / max(1, len(files))
        differences = 0
        for rel, new in result.items():
            if rel not in saved:
                if args.every == 1:
                    print(f"{rel}: not in the baseline")
                    differences += 1
                continue
            old = saved[rel]
            if old != new:
                differences += 1
                where = first_difference(old, new) or "equal field by field, unequal as a whole"
                print(f"{rel}: {where}")
        print(f"compared {len(result)} notes: {differences} differences ({took:.2f} ms/note)")
        if differences:
            sys.exit(1)

    if args.time:
        readers: list[tuple[str, Reader]] = [("this code", read_note)]
        if args.against:
            readers.insert(0, (args.against, reader_at(args.against)))
        times: dict[str, list[float]] = {name: [] for name, _ in readers}
        for _ in range(args.runs):  # interleaved, so load from other work hits both alike
            for name, reader in readers:
                times[name].append(time_reader(reader, root, files))
        for name, ms in times.items():
            runs = ", ".join(f"{t:.2f}" for t in ms)
            print(f"{name}: median {statistics.median(ms):.2f} ms/note (runs: {runs})")


if __name__ == "__main__":
    main()
