"""Run one stage over many notes across processes; results come back in input order."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Below this many notes a pool costs more to start than it saves; and a worker is only
# worth starting for at least MIN_PER_WORKER notes.
SERIAL_BELOW = 200
MIN_PER_WORKER = 50


def worker_count(jobs: int) -> int:
    """Processes for `jobs` (Config.jobs): 0 means one per core."""
    return jobs if jobs > 0 else (os.cpu_count() or 1)


def map_in_order(
    func: Callable[[T], R],
    items: Sequence[T],
    jobs: int,
    on_done: Callable[[int], None] | None = None,
) -> list[R]:
    """`[func(x) for x in items]`, spread over processes for large inputs.

    `func` must be a picklable top-level function (or a partial of one). The order of the
    results is the order of `items`, so the bytes built from them never depend on which
    process finished first.
    """
    workers = min(worker_count(jobs), max(1, len(items) // MIN_PER_WORKER))
    if workers <= 1 or len(items) < SERIAL_BELOW:
        out = []
        for item in items:
            out.append(func(item))
            if on_done:
                on_done(1)
        return out
    chunk = max(1, min(32, len(items) // (workers * 16)))
    results: list[R] = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for result in pool.map(func, items, chunksize=chunk):
            results.append(result)
            if on_done:
                on_done(1)
    return results
