"""Where a lock's bytes come from: the open file (read a block at a time, kept blocks copied
file to file) or, for a lock converted from another layout, memory."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from notedeck.anki.files import FileRange, read_at
from notedeck.errors import LockChanged

# Bytes read at a time while looking for the blocks of a lock without a cache to say
# where they are: a few MB, so that memory stays small whatever the size of the lock.
CHUNK = 4 << 20

_BLOCK_START = b'\n    "'  # a block starts a line with four spaces and a quote
_NAME_END = b'": ['
_END = b"\n  }\n}"


class LockSource(Protocol):
    size: int

    def read(self, start: int, stop: int) -> bytes: ...

    def piece(self, start: int, stop: int) -> bytes | memoryview | FileRange:
        """Bytes start..stop as a piece for files.stage."""
        ...

    def check(self) -> None:
        """LockChanged when the file is no longer the one read."""
        ...

    def close(self) -> None: ...


@dataclass
class InMemory:
    """A lock held as bytes (converted from an older layout, or given by a test)."""

    data: bytes = b""
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = len(self.data)

    def read(self, start: int, stop: int) -> bytes:
        return self.data[start:stop]

    def piece(self, start: int, stop: int) -> bytes | memoryview | FileRange:
        return memoryview(self.data)[start:stop]

    def check(self) -> None:
        pass

    def close(self) -> None:
        pass


@dataclass
class OpenFile:
    """The lock file kept open for the build: blocks are read as asked for, and the kept
    ones copied from it, never the whole file into memory."""

    fd: int
    path: Path
    size: int
    stamp: tuple[int, int, int]  # size, mtime_ns, inode as opened

    @classmethod
    def open(cls, path: Path) -> OpenFile:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            st = os.fstat(fd)
        except BaseException:
            os.close(fd)
            raise
        return cls(fd, path, st.st_size, (st.st_size, st.st_mtime_ns, st.st_ino))

    def read(self, start: int, stop: int) -> bytes:
        pieces = []
        while start < stop:
            piece = read_at(self.fd, stop - start, start)
            if not piece:
                break
            pieces.append(piece)
            start += len(piece)
        return b"".join(pieces)

    def piece(self, start: int, stop: int) -> bytes | memoryview | FileRange:
        return FileRange(self.fd, start, stop - start)

    def check(self) -> None:
        """Raise LockChanged when the open file was written to since it was opened (same
        size and mtime), or another file took its place."""
        st = os.fstat(self.fd)
        try:
            now = os.stat(self.path)
        except OSError:
            raise LockChanged(str(self.path)) from None
        opened = (st.st_size, st.st_mtime_ns, st.st_ino)
        if opened != self.stamp or (now.st_size, now.st_mtime_ns, now.st_ino) != self.stamp:
            raise LockChanged(str(self.path))

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def read_head(source: LockSource, marker: bytes) -> bytes:
    """The file up to the end of the first `marker`, or the whole file without one."""
    head = b""
    while len(head) < source.size:
        more = source.read(len(head), len(head) + CHUNK)
        if not more:
            break
        searched = max(0, len(head) - len(marker) + 1)
        head += more
        cut = head.find(marker, searched)
        if cut >= 0:
            return head[: cut + len(marker)]
    return head


@dataclass(frozen=True, slots=True)
class BlockStart:
    at: int  # offset of the block's first byte
    name: bytes  # the bytes that should be its note's path as a JSON string
    line: int
    after_comma: bool  # the line before ends with ","


@dataclass(frozen=True, slots=True)
class Scan:
    starts: list[BlockStart]
    end: int  # offset of the last "\n  }\n}", -1 when there is none
    lines: int  # newlines in the whole file


def scan_blocks(source: LockSource, body: int, lines: int) -> Scan:
    """Every place after `body` (with `lines` newlines before `body - 1`) where a block
    starts, read `CHUNK` bytes at a time: what `data.find` over the whole file finds.
    A block start or end split across two chunks is found whole, since the end of each
    chunk is kept until the next one is read."""
    starts: list[BlockStart] = []
    base = body - 1  # the offset of buf[0]; the "\n" ending the "notes" line starts a block
    buf = source.read(base, base + CHUNK)
    eof = base + len(buf) >= source.size
    search = counted = 0  # where to look for the next block; newlines counted up to here
    end = -1
    while True:
        at = buf.find(_BLOCK_START, search)
        if at >= 0:
            name_end = buf.find(_NAME_END, at + 1)
            if name_end >= 0 or eof:
                lines += buf.count(b"\n", counted, at + 1)
                counted = search = at + 1
                name = buf[at + 5 : name_end + 1] if name_end >= 0 else b""
                starts.append(BlockStart(base + at + 1, name, lines + 1, buf[at - 1 : at] == b","))
                continue
            keep = max(0, at - 1)  # the block's start (and the byte before) until its name
        elif eof:
            break
        else:
            keep = max(0, len(buf) - len(_BLOCK_START))  # a start may begin in these bytes
        found = buf.rfind(_END, 0, keep + len(_END) - 1)
        end = max(end, base + found) if found >= 0 else end
        if counted <= keep:
            lines += buf.count(b"\n", counted, keep)
        counted, search = max(0, counted - keep), max(0, search - keep)
        more = source.read(base + len(buf), base + len(buf) + CHUNK)
        buf, base = buf[keep:] + more, base + keep
        eof = not more or base + len(buf) >= source.size
    found = buf.rfind(_END)
    end = max(end, base + found) if found >= 0 else end
    return Scan(starts, end, lines + buf.count(b"\n", counted))
