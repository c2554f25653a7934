"""Files replaced whole: written beside their place, then moved in, so that a reader sees
the old file or the new one, never half of one."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_BUFFER = 1 << 20


@dataclass(frozen=True, slots=True)
class Staged:
    """A file written in full beside `path`, not yet moved in."""

    temp: Path
    path: Path

    def commit(self) -> None:
        os.replace(self.temp, self.path)

    def discard(self) -> None:
        """Remove the temporary file if it was not moved in (after a failure)."""
        self.temp.unlink(missing_ok=True)


def stage(
    path: Path, data: bytes | Iterable[bytes | memoryview], *, durable: bool = True
) -> Staged:
    """Write `data` (bytes, or pieces of it) beside `path`; `durable` waits until it is on
    disk, so that moving it in later can never leave an empty file after a power cut."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        # A large buffer: a lock is written as one piece per note, and a vault's worth of
        # small writes was a tenth of a second of system time at 18,000 notes.
        with open(temp, "wb", buffering=_BUFFER) as handle:
            if isinstance(data, bytes):
                handle.write(data)
            else:
                handle.writelines(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return Staged(temp, path)


def write_atomically(path: Path, data: bytes | Iterable[bytes | memoryview]) -> None:
    """Write `data` to `path` so that a reader sees the old file or the new one, never half."""
    staged = stage(path, data)
    try:
        staged.commit()
    finally:
        staged.discard()
