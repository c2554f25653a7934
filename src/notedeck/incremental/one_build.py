"""One build of a project at a time: a second build waits for the first to finish.

Two builds writing one lock file, one cache and one decks folder would clean up each
other's temporary files and mix their outputs. A build holds an exclusive lock on a
file of its own (the OS releases it when the process ends, however it ends); commands
that write nothing (check, cards, preview, a dry run) take none.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

# Held by this process already (a build inside a build: watch's first build, tests).
_HELD: set[str] = set()


@contextlib.contextmanager
def one_build_at_a_time(path: Path, on_wait: Callable[[str], None] | None) -> Iterator[None]:
    """Hold the lock `path` for the block; when another build holds it, say so through
    `on_wait` (with who holds it) and wait. Where no lock file can be kept (a read-only
    folder) builds are not kept apart, as before."""
    key = str(path)
    if key in _HELD:
        yield
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        if not _try_lock(fd):
            if on_wait is not None:
                on_wait(_holder(fd))
            _wait_lock(fd)
        _note_holder(fd)
        _HELD.add(key)
        try:
            yield
        finally:
            _HELD.discard(key)
    finally:
        os.close(fd)  # releases the lock


def _holder(fd: int) -> str:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        pid = os.read(fd, 32).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        pid = ""
    return f"process {pid}" if pid.isdigit() else "another process"


def _note_holder(fd: int) -> None:
    """Write this process's id in the lock file, for the message of a build that waits."""
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, str(os.getpid()).encode())


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _wait_lock(fd: int) -> None:
        while not _try_lock(fd):
            time.sleep(0.2)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        except OSError:
            return True  # a file system without locks: builds are not kept apart
        return True

    def _wait_lock(fd: int) -> None:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                return
            except InterruptedError:
                continue
            except OSError:
                return
