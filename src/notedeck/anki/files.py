"""Files replaced whole: written beside their place, then moved in, so that a reader sees
the old file or the new one, never half of one."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_BUFFER = 1 << 20
# copy_file_range's errors that mean "not here" (another file system, an old kernel, a
# file system without it): the bytes then go through a buffer.
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP}


@dataclass(frozen=True, slots=True)
class FileRange:
    """`length` bytes of the open file `fd` from `start`, to copy as they are."""

    fd: int
    start: int
    length: int


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
    path: Path, data: bytes | Iterable[bytes | memoryview | FileRange], *, durable: bool = True
) -> Staged:
    """Write `data` (bytes, or pieces of it) beside `path`; `durable` waits until it is on
    disk, so that moving it in later can never leave an empty file after a power cut.
    A FileRange is copied from its file in the kernel where it can be (copy_file_range);
    EOFError when that file ends before the range does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb", buffering=0) as handle:
            fd = handle.fileno()
            # Pieces are joined up to _BUFFER bytes before a write: a lock is written as
            # one piece per note, and a vault's worth of small writes was a tenth of a
            # second of system time at 18,000 notes.
            batch: list[bytes | memoryview] = []
            size = 0
            for piece in [data] if isinstance(data, bytes) else data:
                if isinstance(piece, FileRange):
                    _write_all(fd, b"".join(batch))
                    batch, size = [], 0
                    copy_range(piece, fd)
                    continue
                batch.append(piece)
                size += len(piece)
                if size >= _BUFFER:
                    _write_all(fd, b"".join(batch))
                    batch, size = [], 0
            _write_all(fd, b"".join(batch))
            if durable:
                os.fsync(fd)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return Staged(temp, path)


def copy_range(source: FileRange, fd: int) -> None:
    """Copy `source` to the open file `fd` at its position."""
    copy = getattr(os, "copy_file_range", None)  # Linux only
    start, left = source.start, source.length
    while left > 0:
        done = 0
        if copy is not None:
            try:
                done = copy(source.fd, fd, left, start)
            except OSError as exc:
                if exc.errno not in _NO_KERNEL_COPY:
                    raise
                copy = None
                continue
        else:
            chunk = read_at(source.fd, min(left, _BUFFER), start)
            _write_all(fd, chunk)
            done = len(chunk)
        if done == 0:
            raise EOFError(f"the file ended {left} bytes before the range copied from it")
        start += done
        left -= done


class NotAFile(OSError):
    """The path is a pipe, a device, a socket or a folder: nothing to read a note from."""


def read_capped(path: str | Path, cap: int) -> tuple[bytes, os.stat_result, bool]:
    """The first `cap` bytes of the regular file at `path`, its stat, and whether it holds
    more. A pipe or a device is refused unread (NotAFile): opening a pipe waits for a
    writer, and /dev/zero never ends. Never reads more than `cap` + 1 bytes."""
    # O_NONBLOCK: opening a pipe for reading would otherwise wait for a writer.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotAFile(errno.EINVAL, "not a regular file", str(path))
        pieces: list[bytes] = []
        left = cap + 1
        while left > 0:
            piece = os.read(fd, min(left, _BUFFER))
            if not piece:
                break
            pieces.append(piece)
            left -= len(piece)
    finally:
        os.close(fd)
    data = b"".join(pieces)
    return data[:cap], st, len(data) > cap


def read_at(fd: int, count: int, offset: int) -> bytes:
    """Up to `count` bytes of the open file `fd` from `offset` (fewer only at its end)."""
    if hasattr(os, "pread"):
        return os.pread(fd, count, offset)
    os.lseek(fd, offset, os.SEEK_SET)  # Windows has no pread
    return os.read(fd, count)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_atomically(path: Path, data: bytes | Iterable[bytes | memoryview]) -> None:
    """Write `data` to `path` so that a reader sees the old file or the new one, never half."""
    staged = stage(path, data)
    try:
        staged.commit()
    finally:
        staged.discard()
