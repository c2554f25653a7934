"""The build cache: what each unchanged note gave last time, so a rebuild redoes only edits.

Two kinds of files, each stamped with a key made of everything else that shapes the
output (notedeck's version and code, the configuration, the templates):
- the index: one small record per note (file signature, metadata, moments, counts) and
  what the last build wrote (the lock file's signature, each package's);
- shards: the cards of a few dozen notes of one deck, rewritten only when one of those
  notes is rebuilt, and read back only to write that deck's package again.
A file that is missing, corrupt, of another format or another key is an empty cache: the
notes it held are simply built again.

A notes repository can ship a cache folder, so nothing in it is trusted: the files are
JSON checked value by value against their types on load (`plain`; never pickle, which
would run what the file says), the key mixes in a secret kept in the user's own cache
folder (a cache made by anyone else never matches, so it cannot slip in cards), and
notedeck writes and deletes only in a folder it marked as its own (`CACHEDIR.TAG`).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import os
import secrets
import sys
import time
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from notedeck.anki.files import Staged, stage
from notedeck.anki.render import RenderedCard, Templates
from notedeck.config import Config
from notedeck.incremental import plain
from notedeck.model import Card, Diagnostic, Level, Moment, Note, pickled_by_fields

FORMAT = 6  # 6: JSON checked on load (5 and before: pickle, never read again)
V = TypeVar("V")
BUCKETS = 8  # shards per top folder: an edit rewrites about 1/8 of its folder's cards


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class NoteRecord:
    """One note's file signature and what the build needs of it besides its cards.

    Plain values only, so that the index of a large vault loads and saves fast; what only
    a rebuild of the note needs (its metadata and moments) stays encoded in `detail`."""

    rel: str
    mtime_ns: int
    size: int
    sha: str  # of the file's bytes: the real test of "unchanged"
    readable: bool
    key: str  # the note's identity ("" when unreadable)
    video_id: str  # "" without one
    diagnostics: tuple[Diagnostic, ...]  # from reading it (or why it cannot be read)
    evidence: str  # digest of the note's clocks and duration (what its siblings see)
    siblings: tuple[str, ...]  # (count, digest) of the other notes' evidence (refresh.py)
    time_diagnostics: tuple[Diagnostic, ...]
    top: str  # the package its cards go to ("" without cards)
    kinds: tuple[tuple[str, int], ...]  # its number of cards of each kind
    media: tuple[tuple[str, str], ...]  # (Anki media name, source file) of its images
    # JSON of (note without body, moments its cards were made with), a DETAIL; "" in the
    # saved index, where it lives in its shard's meta file instead (see Details).
    detail: str
    excluded: bool = False  # its id is another note's: it gives no cards

    @property
    def cards(self) -> int:
        return sum(n for _, n in self.kinds)


# What a record's detail holds: the note without its body, and its cards' moments.
DETAIL = tuple[Note | None, tuple[Moment | None, ...]]


def decode_detail(detail: str) -> tuple[Note | None, tuple[Moment | None, ...]]:
    """A record's detail; CacheLost when the file it came from was not what it says."""
    try:
        decoded: tuple[Note | None, tuple[Moment | None, ...]] = plain.loads(detail, DETAIL)
        return decoded
    except (plain.Invalid, ValueError, TypeError) as exc:
        raise CacheLost(str(exc)) from exc


class CacheLost(Exception):
    """A record's detail is in no cache file (deleted or corrupt since the index was
    written): the build starts again without the cache."""


class Details:
    """Each record's detail: from the record when this build made it, else from the meta
    file of its shard (read once per shard)."""

    def __init__(self, config: Config, key: str, records: Mapping[str, NoteRecord]) -> None:
        self.config, self.key, self.records = config, key, records
        self.shards: dict[str, Stored[tuple[str, str]]] = {}

    def detail(self, rel: str) -> str:
        record = self.records[rel]
        if record.detail:
            return record.detail
        shard = shard_of(rel)
        if shard not in self.shards:
            self.shards[shard] = load_meta(meta_path(self.config, shard), self.key)
        found = self.shards[shard].get(rel)
        if found is None:
            raise CacheLost(rel)
        return found[1]

    def decode(self, rel: str) -> tuple[Note | None, tuple[Moment | None, ...]]:
        """The note (without body) and the moments its cards were made with."""
        return decode_detail(self.detail(rel))

    def moments(self, rel: str) -> tuple[Moment | None, ...]:
        return self.decode(rel)[1]


def note_record(
    rel: str,
    signature: tuple[int, int, str],
    note: Note | None,
    error: Diagnostic | None,
    moments: tuple[Moment | None, ...],
    time_diagnostics: tuple[Diagnostic, ...],
) -> NoteRecord:
    """The record of a note just read (or found unreadable)."""
    mtime_ns, size, sha = signature
    slim = without_body(note)
    detail = plain.text((slim, moments), DETAIL)
    if note is None:
        return NoteRecord(
            rel, mtime_ns, size, sha, False, "", "", (error,) if error else (), "", (),
            (), "", (), (), detail,
        )  # fmt: skip
    return NoteRecord(
        rel, mtime_ns, size, sha, True, note.key, note.video_id or "", note.diagnostics,
        evidence_of(note), (), time_diagnostics, "", (), note.media, detail,
    )  # fmt: skip


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class NoteCards:
    """One note's cards as a package needs them."""

    rendered: tuple[RenderedCard, ...]


@pickled_by_fields
@dataclass(frozen=True, slots=True)
class Derived:
    """One note's cards before rendering, kept only by builds that report every card
    (tests, `cards`, `preview`): packaging never needs them, and they are costly to store."""

    sha: str  # of the note they were derived from
    moments: tuple[Moment | None, ...]
    cards: tuple[Card, ...]


@dataclass
class Index:
    """The cache's index: a record per note and what the last build wrote."""

    records: dict[str, NoteRecord] = field(default_factory=dict)
    lock_signature: tuple[int, int, int] | None = None  # (size, mtime_ns, inode) as written
    packages: list[str] = field(default_factory=list)  # every package the last build wrote
    lock_spans: dict[str, tuple[int, int]] = field(default_factory=dict)  # note -> its block


def cache_folder(config: Config) -> Path:
    """Where this notes folder's cache lives: a folder of its own under the cache folder,
    so that two notes folders side by side never read each other's records."""
    root = config.cache_dir or config.notes_dir.parent / ".notedeck-cache"
    return root / hashlib.sha256(str(config.notes_dir).encode()).hexdigest()[:16]


# The Cache Directory Tagging Specification's tag (bford.info/cachedir): backup tools skip
# the folder, and notedeck writes only where it finds it.
MARKER = "CACHEDIR.TAG"
_TAG = (
    b"Signature: 8a477f597d28d172789f06886806bc55\n"
    b"# This file is a cache tag created by notedeck: the folder is its build cache,\n"
    b"# which it may delete and rewrite at will. Delete the folder at any time.\n"
)


def claim_folder(config: Config) -> Diagnostic | None:
    """Make the cache folder notedeck's own, before anything is written in it: a new or
    empty folder gets the tag, as does a cache of an earlier notedeck (its index beside
    its shards). A folder holding anything else is not touched (a `cache =` setting may
    name any folder): the build then runs without a cache and says why."""
    folder = cache_folder(config)
    if owns(folder):
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # The tag (or its temporary file) alone: another build is claiming it right now.
        found = {
            e.name for e in os.scandir(folder) if not e.name.startswith((MARKER, f".{MARKER}."))
        }
        if not found or "index.pickle" in found:  # the layout notedeck wrote until 0.1
            mark(folder)
            return None
    except OSError:
        return None  # a cache that cannot be written: no error, the next build is slower
    return Diagnostic(
        Level.WARNING,
        "cache.not-own",
        str(folder),
        1,
        f"this folder holds files that are not notedeck's (no {MARKER}), so the build "
        "writes no cache in it and is slower; set `cache =` in the configuration to a "
        "folder of its own (or delete this one if it is an old notedeck cache).",
    )


def mark(folder: Path) -> None:
    """Tag `folder` as a notedeck cache (OSError if it cannot be written)."""
    staged = stage(folder / MARKER, _TAG, durable=False)  # never seen half written
    try:
        staged.commit()
    finally:
        staged.discard()


def owns(folder: Path) -> bool:
    """Whether `folder` is a cache folder notedeck made: the only kind it writes in."""
    try:
        return (folder / MARKER).read_bytes()[:44] == _TAG[:44]
    except OSError:
        return False


def build_lock(config: Config) -> Path:
    """The file a build holds to keep other builds of these notes waiting: in the cache
    folder, or, where that is not notedeck's, in the user's own cache folder."""
    folder = cache_folder(config)
    if owns(folder):
        return folder / "build.lock"
    return user_cache_home() / "notedeck" / "builds" / f"{folder.name}.lock"


def user_cache_home() -> Path:
    """The user's own cache folder (as platformdirs finds it): never inside a project."""
    if sys.platform == "win32":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")


@functools.cache
def user_secret() -> str:
    """A random secret of this user, kept in their own cache folder and mixed into every
    cache key: a cache folder made by anyone else (shipped in a notes repository, or
    another user's) never matches, so no card, record or database in it is used. Where it
    cannot be kept, this process's own secret: the cache then serves one build only."""
    path = user_cache_home() / "notedeck" / "secret"
    try:
        return path.read_text(encoding="ascii").strip() or secrets.token_hex(32)
    except (OSError, UnicodeDecodeError):
        pass
    secret = secrets.token_hex(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secret)
    except FileExistsError:  # another build made it just now
        try:
            return path.read_text(encoding="ascii").strip() or secret
        except (OSError, UnicodeDecodeError):
            return secret
    except OSError:
        pass
    return secret


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
        user_secret(),
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
    """A digest of notedeck's own modules and the data they read (common_words.txt): a
    changed notedeck (even one whose version was not bumped, as in development) never
    serves cards an older one made."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for module in sorted((*package.rglob("*.py"), *package.rglob("*.txt"))):
        if "card_templates" in module.parts:
            continue  # the templates have a digest of their own (the build key)
        name = module.relative_to(package).as_posix()
        digest.update(name.encode() + b"\0" + module.read_bytes())
    return digest.hexdigest()


def shard_of(rel: str) -> str:
    """The shard a note's cards live in: one of BUCKETS of its top folder (its deck, as
    decks are usually named), by a digest of its path, so that editing a note rewrites
    a small file however large the deck, and writing a deck reads few other notes."""
    group = rel.split("/", 1)[0] if "/" in rel else ""
    bucket = hashlib.sha256(rel.encode()).digest()[0] % BUCKETS
    return f"{hashlib.sha256(group.encode()).hexdigest()[:16]}-{bucket}"


def shard_path(config: Config, shard: str) -> Path:
    return cache_folder(config) / f"cards-{shard}.json"


def derived_path(config: Config, shard: str) -> Path:
    return cache_folder(config) / f"derived-{shard}.json"


def meta_path(config: Config, shard: str) -> Path:
    return cache_folder(config) / f"meta-{shard}.json"


def without_body(note: Note | None) -> Note | None:
    """What the index keeps of a note: all but its overview, sections and words, which
    only deriving its cards reads (and a note whose cards are derived again is re-read)."""
    if note is None or not (note.overview or note.sections or note.vocabulary or note.names):
        return note
    return dataclasses.replace(
        note, overview=(), sections=(), vocabulary=frozenset(), names=frozenset()
    )


def load_index(config: Config, key: str) -> Index:
    """The index for this key; anything unreadable, stale or not what it says is an
    empty one."""
    try:
        with open(cache_folder(config) / "index.json", "rb") as handle:
            fmt, stored_key, index = _header(handle.read())
        if fmt == FORMAT and stored_key == key:
            loaded: Index = plain.decode(index, Index)
            return loaded
    except Exception:  # a corrupt or foreign cache file is an empty cache
        pass
    return Index()


def _header(data: bytes) -> tuple[object, object, object]:
    """A cache file's format, key and contents, before the contents are checked."""
    value: tuple[int, str, Any] = plain.loads(data, tuple[int, str, Any])
    return value


def stage_index(config: Config, key: str, index: Index) -> Staged | None:
    """Write the index beside its place (records without their detail, which the shards'
    meta files hold) for the build to move in, and drop the files of an older cache
    layout. None when the cache cannot be written: no error, the next build is slower."""
    folder = cache_folder(config)
    if not owns(folder):
        return None
    records = {
        rel: dataclasses.replace(r, detail="") if r.detail else r
        for rel, r in index.records.items()
    }
    slim = Index(records, index.lock_signature, index.packages, index.lock_spans)
    try:
        for old in folder.glob("*.pickle"):  # an older layout's, never read again
            old.unlink(missing_ok=True)
        data = plain.dumps((FORMAT, key, slim), tuple[int, str, Index])
        return stage(folder / "index.json", data, durable=False)
    except (OSError, ValueError):  # ValueError: a name that is not text (cannot happen)
        return None


class Stored(MutableMapping[str, V]):
    """A shard file's values by note, each kept as its JSON text until it is asked for:
    a build that changes one note of a shard reads, checks and writes that note's value
    only (the rest goes back to the file as it came). A value that is not of `kind` is
    missing, as in a corrupt file."""

    def __init__(self, kind: Any, raw: dict[str, str] | None = None) -> None:
        self._kind = kind
        self._raw: dict[str, str] = {} if raw is None else raw  # JSON text by note
        self._made: dict[str, V] = {}  # set by this build, not yet encoded

    def __getitem__(self, rel: str) -> V:
        if rel in self._made:
            return self._made[rel]
        text = self._raw[rel]
        try:
            decoded: V = plain.loads(text, self._kind)
        except Exception as exc:  # a value not of its kind is a missing one
            raise KeyError(rel) from exc
        return decoded

    def __setitem__(self, rel: str, value: V) -> None:
        self._raw.pop(rel, None)
        self._made[rel] = value

    def drop(self, rel: str) -> None:
        """Forget a note's value, if any (without checking it, as pop would)."""
        self._raw.pop(rel, None)
        self._made.pop(rel, None)

    def __delitem__(self, rel: str) -> None:
        if self._made.pop(rel, None) is None:
            del self._raw[rel]

    def __iter__(self) -> Iterator[str]:
        return iter(self._raw.keys() | self._made.keys())

    def __len__(self) -> int:
        return len(self._raw) + len(self._made)

    def texts(self) -> dict[str, str]:
        """Every value's JSON text, by note in order."""
        made = {rel: plain.text(value, self._kind) for rel, value in self._made.items()}
        return dict(sorted({**self._raw, **made}.items()))


def load_shard(path: Path, key: str) -> Stored[NoteCards]:
    """The cards a shard holds, by note; a missing, corrupt or stale shard holds none."""
    return Stored(NoteCards, _load(path, key))


def load_derived(path: Path, key: str) -> Stored[Derived]:
    return Stored(Derived, _load(path, key))


META = tuple[str, str]


def load_meta(path: Path, key: str) -> Stored[tuple[str, str]]:
    """What planning and timestamps need of a shard's notes, by note: their lock stamps
    (lock.pack_stamps) and their records' detail (kept out of the index to keep it small)."""
    return Stored(META, _load(path, key))


def _load(path: Path, key: str) -> dict[str, str]:
    """A shard file's JSON text by note. The file is a line [format, key], then a line
    per note: its path as a JSON string, a tab, its value (JSON escapes every tab and
    line break inside a string, and writes only ASCII here)."""
    try:
        with open(path, "rb") as handle:
            head, *lines = handle.read().decode("ascii").split("\n")
        if plain.loads(head, tuple[int, str]) != (FORMAT, key) or lines.pop() != "":
            return {}
        values = {}
        for line in lines:
            name, tab, value = line.partition("\t")
            if not tab:
                return {}
            values[plain.loads(name, str)] = value
        return values
    except Exception:  # a corrupt or foreign cache file is an empty cache
        return {}


def save_shard(path: Path, key: str, values: Stored[Any]) -> None:
    if not owns(path.parent):
        return
    try:
        if values:
            lines = [plain.text((FORMAT, key), tuple[int, str])]
            lines += [f"{plain.text(rel, str)}\t{text}" for rel, text in values.texts().items()]
            _dump(path, "\n".join([*lines, ""]).encode("ascii"))
        else:
            path.unlink(missing_ok=True)
    except (OSError, ValueError):
        return


def _dump(path: Path, data: bytes) -> None:
    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temp, "wb") as handle:
            handle.write(data)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


# Packages of at least this many cards keep their database in the cache (about 1.3 KB a
# card), so that the next build copies the rows of unchanged notes from it; smaller ones
# are written anew in a moment.
KEEP_ROWS_FROM = 5000


@dataclass(frozen=True, slots=True)
class NoteRows:
    """Where one note's rows lie in a kept package database, and what they were made of."""

    sha: str  # of the note's file
    block: bytes  # digest of its lock block (cards' keys, content, mods) and odd GUIDs
    start: int  # its ids run from start to end - 1 (notes and cards)
    end: int
    cards: int
    decks: frozenset[str]
    media: frozenset[str]  # the media names its cards show


@dataclass(frozen=True, slots=True)
class PackageRows:
    """A package's database, kept for the next build of that package."""

    key: str  # the cache key of the build that wrote it
    database: str  # file name, beside this record
    notes: dict[str, NoteRows]


ROWS_FILE = tuple[int, str, PackageRows]


def rows_folder(config: Config) -> Path:
    return cache_folder(config) / "packages"


def load_package_rows(config: Config, name: str, key: str) -> tuple[PackageRows, Path] | None:
    """The kept database of the package `name` and what it holds, if this build can use it."""
    folder = rows_folder(config)
    try:
        with open(folder / f"{name}.rows", "rb") as handle:
            fmt, stored_key, value = _header(handle.read())
        if fmt != FORMAT or stored_key != key:
            return None
        rows: PackageRows = plain.decode(value, PackageRows)
        # Only a database of this package, in this folder: a name is never a path.
        database = folder / rows.database
        if _kept_database(name, rows.database) and database.is_file():
            return rows, database
    except Exception:  # a corrupt or foreign cache file is an empty cache
        pass
    return None


def _kept_database(name: str, file: str) -> bool:
    stem = file.removeprefix(f"{name}.").removesuffix(".db")
    return file == f"{name}.{stem}.db" and stem.replace("-", "").isdigit()


def new_rows_database(config: Config, name: str) -> Path | None:
    """A fresh file name for a package's database in the cache; None if it cannot be
    written (the database then goes beside the package and is not kept)."""
    folder = rows_folder(config)
    if not owns(cache_folder(config)):
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    return folder / f"{name}.{os.getpid()}-{time.time_ns()}.db"


def save_package_rows(config: Config, name: str, rows: PackageRows) -> None:
    """Name the database just written as the package's kept one, and drop older ones.
    The record is replaced whole after the database is complete: it never names a
    database that is not what it says."""
    folder = rows_folder(config)
    if not owns(cache_folder(config)):
        return
    try:
        _dump(folder / f"{name}.rows", plain.dumps((FORMAT, rows.key, rows), ROWS_FILE))
        for old in folder.glob(f"{name}.*.db"):
            if old.name != rows.database:
                old.unlink(missing_ok=True)
    except (OSError, ValueError):
        return


def evidence_of(note: Note | None) -> str:
    """What a note tells its siblings when their timestamps are resolved."""
    if note is None:
        return ""
    text = repr((note.video_id, note.duration, [(c.raw, c.fields) for c in note.clocks]))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def file_signature(path: Path) -> tuple[int, int, int] | None:
    """What tells a file we wrote from one written since by someone else."""
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)
