"""Run one stage's jobs across processes; results come back in the order of the jobs."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from types import TracebackType
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

# Fewer jobs than this finish sooner in this process than a pool takes to start.
SERIAL_BELOW = 4


def worker_count(jobs: int) -> int:
    """Processes for `jobs` (Config.jobs): 0 means one per core."""
    return jobs if jobs > 0 else (os.cpu_count() or 1)


class Workers:
    """A pool of worker processes, started the first time there is enough work for it.

    `map(func, items)` is `[func(x) for x in items]` in the order of `items`, so what is
    built from the results never depends on which process finished first. `func` must be
    a picklable top-level function (or a partial of one).
    """

    def __init__(self, jobs: int) -> None:
        self.count = worker_count(jobs)
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Workers:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        """Cancel the jobs not started and wait for the running ones to end."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def map(
        self,
        func: Callable[[T], R],
        items: Sequence[T],
        on_done: Callable[[R], None] | None = None,
        meanwhile: Callable[[], None] | None = None,
    ) -> Iterator[R]:
        """`meanwhile` runs in this process while the workers work; when the jobs run in
        this process, it runs in a thread beside them (for its I/O, which frees the GIL)."""
        if self.count <= 1 or len(items) < SERIAL_BELOW:
            thread = ThreadPoolExecutor(max_workers=1) if meanwhile else None
            try:
                beside = thread.submit(meanwhile) if thread and meanwhile else None
                for item in items:
                    result = func(item)
                    if on_done:
                        on_done(result)
                    yield result
                if beside is not None:
                    beside.result()  # its error, if any, is the build's
            finally:
                if thread is not None:
                    thread.shutdown(wait=True)
            return
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=self.count)
        results = self._pool.map(func, items)
        if meanwhile:
            meanwhile()
        for result in results:
            if on_done:
                on_done(result)
            yield result
