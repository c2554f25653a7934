"""The build cache: what each unchanged note gave last time, so a rebuild redoes only edits.

Records live in 256 pickle files chosen by a digest of each note's path, so an edit
rewrites one small file; each is stamped with a key made of everything else that shapes
the output (notedeck's version and code, the configuration, the templates). A file that
is missing, corrupt, of another format or another key is an empty cache: the notes it
held are simply built again.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import pickle
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from notedeck.config import Config
from notedeck.model import Card, Diagnostic, Moment, Note, pickled_by_fields
from notedeck.render import RenderedCard, Templates

FORMAT = 3


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class NoteRecord:
    """One note's file signature and everything the build made from it."""

    rel: str
    mtime_ns: int
    size: int
    sha: str  # of the file's bytes: the real test of "unchanged"
    note: Note | None  # None when the note could not be read; from the cache, without body
    error: Diagnostic | None  # why it could not be read
    evidence: str  # digest of the note's clocks and duration (what its siblings see)
    siblings: tuple[str, ...]  # evidence digests of the other notes of its video, sorted
    moments: tuple[Moment | None, ...]
    time_diagnostics: tuple[Diagnostic, ...]
    cards: tuple[Card, ...]
    rendered: tuple[RenderedCard, ...]


def cache_folder(config: Config) -> Path:
    """Where this notes folder's cache lives: a folder of its own under the cache folder,
    so that two notes folders side by side never read each other's records."""
    root = config.cache_dir or config.notes_dir.parent / ".notedeck-cache"
    return root / hashlib.sha256(str(config.notes_dir).encode()).hexdigest()[:16]


# Settings that never change what a build writes (a parallel build writes the bytes of a
# serial one): changing them must not throw the cache away.
_SAME_OUTPUT = frozenset({"jobs"})


def build_key(config: Config, templates: Templates) -> str:
    """A digest of everything besides the notes that changes what a build writes."""
    from notedeck import __version__

    parts: list[str] = [
        __version__,
        _code_digest(),
        str(FORMAT),
        f"{sys.version_info[:2]}",
        templates.digest,
    ]
    for f in dataclasses.fields(config):
        if f.name in _SAME_OUTPUT:
            continue
        value = getattr(config, f.name)
        if isinstance(value, frozenset):
            value = sorted(str(v) for v in value)
        parts.append(f"{f.name}={value!r}")
    if config.questions_file is not None:
        try:
            parts.append(hashlib.sha256(config.questions_file.read_bytes()).hexdigest())
        except OSError:
            parts.append("questions-unreadable")
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


@functools.cache
def _code_digest() -> str:
    """A digest of notedeck's own modules: a changed notedeck (even one whose version was
    not bumped, as in development) never serves cards an older one made."""
    digest = hashlib.sha256()
    for module in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(module.name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()


SHARDS = 256


def shard_of(rel: str) -> str:
    """The cache file a note belongs to: one of SHARDS, by a digest of its path, so that
    editing one note rewrites a small file however the notes are spread over folders."""
    return f"{hashlib.sha256(rel.encode()).digest()[0] % SHARDS:02x}"


def without_body(note: Note | None) -> Note | None:
    """What the cache keeps of a note: all but its overview, sections and words, which
    only deriving its cards reads (and a note whose cards are derived again is re-read)."""
    if note is None or not (note.overview or note.sections or note.vocabulary or note.names):
        return note
    return dataclasses.replace(
        note, overview=(), sections=(), vocabulary=frozenset(), names=frozenset()
    )


def _shard_path(folder: Path, shard: str) -> Path:
    return folder / f"notes-{hashlib.sha256(shard.encode()).hexdigest()[:16]}.pickle"


def load(config: Config, key: str) -> dict[str, NoteRecord]:
    """Every record the cache holds for this key; anything unreadable counts as absent."""
    folder = cache_folder(config)
    records: dict[str, NoteRecord] = {}
    try:
        files = sorted(folder.glob("notes-*.pickle"))
    except OSError:
        return records
    for path in files:
        try:
            with open(path, "rb") as handle:
                stored = pickle.load(handle)
            fmt, stored_key, shard_records = stored
            if fmt != FORMAT or stored_key != key or not isinstance(shard_records, dict):
                continue
            for rel, record in shard_records.items():
                if isinstance(record, NoteRecord) and record.rel == rel:
                    records[rel] = record
        except Exception:  # a corrupt or foreign cache file is an empty one
            continue
    return records


def save(
    config: Config, key: str, records: Mapping[str, NoteRecord], changed_shards: Iterable[str]
) -> None:
    """Write the shards that changed (atomically); drop files of shards now empty.

    A cache that cannot be written is no error: the next build is just slower.
    """
    folder = cache_folder(config)
    wanted = set(changed_shards)
    by_shard: dict[str, dict[str, NoteRecord]] = {}
    for rel, record in records.items():
        if shard_of(rel) in wanted:
            slim = dataclasses.replace(record, note=without_body(record.note))
            by_shard.setdefault(shard_of(rel), {})[rel] = slim
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for shard in wanted:
            path = _shard_path(folder, shard)
            content = by_shard.get(shard)
            if not content:
                path.unlink(missing_ok=True)
                continue
            temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                with open(temp, "wb") as handle:
                    pickle.dump((FORMAT, key, content), handle, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(temp, path)
            finally:
                temp.unlink(missing_ok=True)
        # Files of another layout (an older notedeck's) would be read on every build.
        current = {_shard_path(folder, f"{n:02x}").name for n in range(SHARDS)}
        for path in folder.glob("notes-*.pickle"):
            if path.name not in current:
                path.unlink(missing_ok=True)
    except OSError:
        return


def evidence_of(note: Note | None) -> str:
    """What a note tells its siblings when their timestamps are resolved."""
    if note is None:
        return ""
    text = repr((note.video_id, note.duration, [(c.raw, c.fields) for c in note.clocks]))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def deck_signature(
    cards: Iterable[RenderedCard],
    templates: Templates,
    media: Mapping[str, bytes],
    note_mods: Mapping[str, int],
    model_mods: Mapping[int, int],
) -> str:
    """Changes exactly when the package of these cards would hold other content."""
    digest = hashlib.sha256(templates.digest.encode())
    for card in sorted(cards, key=lambda c: c.key):
        mod = note_mods.get(card.guid)
        digest.update(f"\0{card.key}\x1f{card.guid}\x1f{card.content_hash}\x1f{mod}".encode())
    for name in sorted(media):
        digest.update(f"\0{name}\x1f{hashlib.sha256(media[name]).hexdigest()}".encode())
    digest.update(f"\0{sorted(model_mods.items())}".encode())
    return digest.hexdigest()


def load_deck_signatures(config: Config, key: str) -> dict[str, str]:
    """The signature of each package as last written, by file path."""
    try:
        with open(cache_folder(config) / "decks.pickle", "rb") as handle:
            fmt, stored_key, signatures = pickle.load(handle)
        if fmt == FORMAT and stored_key == key and isinstance(signatures, dict):
            return {str(k): str(v) for k, v in signatures.items()}
    except Exception:  # a corrupt or foreign file is an empty cache
        pass
    return {}


def save_deck_signatures(config: Config, key: str, signatures: Mapping[str, str]) -> None:
    folder = cache_folder(config)
    path = folder / "decks.pickle"
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(temp, "wb") as handle:
            pickle.dump((FORMAT, key, dict(signatures)), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(temp, path)
    except OSError:
        pass
    finally:
        temp.unlink(missing_ok=True)
