"""The work done in worker processes: read a shard's notes, make their cards, write a package.

The build runs these as stages over every shard (see build.py): `read_shard` reads the
notes that changed; the build then works out every note's timestamps with the other notes
of its video known; `derive_shard` makes each note's cards once, with those moments (derive,
render, stamp); `write_package` writes a deck. A note read by the first waits for the second
in a file of the build's own (`spill`), so it is read once and derived once.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from notedeck.anki.files import NotAFile, read_capped
from notedeck.anki.package import PackageWriter, media_names
from notedeck.anki.render import RenderedCard, Templates, load_templates, render_cards
from notedeck.cards.derive import Style, derive_cards
from notedeck.cards.questions import QuestionPattern, load_patterns
from notedeck.config import Config
from notedeck.errors import NoteError, TemplateError
from notedeck.incremental import cache
from notedeck.incremental.lock import pack_stamps, read_block, stamp_rows, stamps_digest
from notedeck.model import Card, Diagnostic, Level, Moment, Note
from notedeck.reading.read import MAX_NOTE_BYTES, read_note
from notedeck.reading.timestamps import Evidence, clock_text, repairs, resolve, written_as


@dataclass(frozen=True, slots=True)
class Context:
    """What every job of one build shares (small enough to send to each worker)."""

    config: Config
    key: str  # the cache key of this build
    templates_digest: str


Moments = tuple[Moment | None, ...]  # the moment each of a note's clocks opens (None: none)


@dataclass(frozen=True, slots=True)
class NoteFile:
    """One note as read from its file: the file's signature (mtime_ns, size, sha256), the
    Note, or why it could not be read."""

    rel: str
    signature: tuple[int, int, str]
    note: Note | None
    error: Diagnostic | None

    @property
    def unreadable(self) -> bool:
        """Whether the file could not be read at all (rather than read and found broken):
        such a note keeps its cards as they were (see refresh.hold_unreadable)."""
        return self.error is not None and self.error.code == "note.unreadable"


@dataclass(frozen=True, slots=True)
class NoteRead:
    """What the read stage tells the build of one note: its record as read, whose
    detail holds its timestamps read on their own evidence (what they open when no
    other note of its video says otherwise), why any was repaired so, and whether its
    file could not be read at all. Its cards, package and kinds come with its cards."""

    record: cache.NoteRecord
    alone_diagnostics: tuple[Diagnostic, ...]
    unreadable: bool


@dataclass(frozen=True, slots=True)
class Spilled:
    """A note as the read stage leaves it for the cards stage: the whole note, the
    moments it was read with on its own evidence, and its record so."""

    file: NoteFile
    alone: Moments
    record: cache.NoteRecord


@dataclass(frozen=True, slots=True)
class ReadJob:
    """The notes of one shard to read. Those read wait in the file `spill/<shard>` for
    `derive_shard`, so that the build reads each note once."""

    shard: str
    rels: tuple[str, ...]
    spill: str


@dataclass(frozen=True, slots=True)
class DeriveJob:
    """The notes of one shard whose cards to make, each with the moments its timestamps
    open (worked out with the other notes of its video; None: those it was read with on
    its own evidence), and the notes that left it."""

    shard: str
    notes: tuple[tuple[str, Moments | None], ...]
    drop: tuple[str, ...]
    write: bool  # False on a dry run: the cache is left as it is, the stamps sent back
    collect: bool  # send the cards back too
    spill: str


@dataclass(frozen=True, slots=True)
class NoteResult:
    """What making one note's cards gave: its record, its cards' lock stamps, its cards
    as a package needs them, its cards before rendering (when collected)."""

    record: cache.NoteRecord
    stamps: str  # lock.pack_stamps of its cards
    rendered: cache.NoteCards | None  # for the shard
    cards: tuple[Card, ...] | None  # when the job collects them
    digest: bytes = b""  # lock.stamps_digest of its cards


@dataclass(frozen=True, slots=True)
class PackageJob:
    """One package to write: its notes in order, each with its lock entry."""

    top: str
    path: Path
    notes: tuple[tuple[str, str, bytes], ...]  # rel, sha, lock block
    guids: Mapping[str, str]  # key -> GUID where not guid_for(key)
    model_mods: Mapping[int, int]
    media: tuple[tuple[str, str], ...]  # Anki media name, source file


# The templates and card style of this process, by (configuration, templates digest): the
# main process fills it; a worker started by fork inherits it, any other loads them.
_TOOLS: dict[tuple[Config, str], tuple[Templates, Style]] = {}


def ready_tools(context: Context, templates: Templates) -> None:
    """Load the question patterns in this process (a broken table is a TemplateError here,
    not in a worker); workers started by fork inherit them. Only builds with notes to
    derive call this: an unchanged vault never compiles the patterns."""
    if (context.config, context.templates_digest) not in _TOOLS:
        config = context.config
        patterns = load_patterns(config.questions_file or templates.questions)
        style = card_style(config, templates, patterns)
        _TOOLS[(config, context.templates_digest)] = (templates, style)


def _tools(context: Context) -> tuple[Templates, Style]:
    tools = _TOOLS.get((context.config, context.templates_digest))
    if tools is None:
        ready_tools(context, load_templates(context.config.templates_dir))
        tools = _TOOLS[(context.config, context.templates_digest)]
    return tools


def card_style(
    config: Config, templates: Templates, patterns: tuple[QuestionPattern, ...]
) -> Style:
    """What shapes the cards, from the settings and the templates folder."""
    return Style(
        patterns=patterns,
        fillers=templates.fillers,
        kinds=config.card_kinds,
        answer_words=config.answer_words,
        cloze_per_section=config.cloze_per_section,
        extra_tags=config.extra_tags,
        topic_only=frozenset({"fallback", "question"} | {p.name for p in patterns if not p.ask})
        - {p.name for p in patterns if p.ask},
    )


# ------------------------------------------------------------------------ stage: read


def read_shard(context: Context, job: ReadJob) -> list[NoteRead]:
    """Read the job's notes, and their timestamps on their own evidence; say what each
    is (its record), and leave the whole notes in the spill file for `derive_shard`.

    The spill file is the build's own (in a private temporary folder, deleted when the
    build ends), written and read by this build alone: pickle is safe there, and the
    fastest way to hand a parsed note from one process to another."""
    config = context.config
    root = config.notes_dir
    read, spill = [], {}
    for rel in job.rels:
        file = read_one(root, root / rel)
        moments: Moments = ()
        found: list[Diagnostic] = []
        if file.note is not None:
            try:
                moments, found = resolve_note(file.note, [], [], config)
            except Exception as exc:  # a bug on one note must not stop the vault
                reraise_when_debugging()
                found = [internal_error(rel, 1, "read the timestamps of", exc)]
        record = cache.note_record(rel, file.signature, file.note, file.error, moments, ())
        read.append(NoteRead(record, tuple(found), file.unreadable))
        if not file.unreadable:
            spill[rel] = Spilled(file, moments, record)
    if spill:
        with open(Path(job.spill) / job.shard, "wb") as handle:
            pickle.dump(spill, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return read


def _spilled(job: DeriveJob) -> dict[str, Spilled]:
    """The notes of the job's shard that the read stage of this build read."""
    try:
        with open(Path(job.spill) / job.shard, "rb") as handle:
            found: dict[str, Spilled] = pickle.load(handle)
    except FileNotFoundError:
        return {}
    return found


# ---------------------------------------------------------------------- stage: derive


def derive_shard(context: Context, job: DeriveJob) -> list[NoteResult]:
    """Make the job's notes' cards (derive, render, stamp), store them in the shard's
    cache files, and say what each gave.

    A note the read stage read comes from the spill file; one it did not read (a note
    unchanged, whose sibling's edit moves its moments) is read here, once. The cards go
    to the shard's file; their lock stamps and the records' detail to a small meta file
    beside it (the build plans from those, so it never holds a whole vault's stamps); a
    dry run, which writes nothing, sends the stamps back instead."""
    config = context.config
    cards_file = cache.shard_path(config, job.shard)
    meta_file = cache.meta_path(config, job.shard)
    derived_file = cache.derived_path(config, job.shard)
    # A dry run reads and writes no cache: it fills empty ones.
    stored = (
        cache.load_shard(cards_file, context.key) if job.write else cache.Stored(cache.NoteCards)
    )
    meta = cache.load_meta(meta_file, context.key) if job.write else cache.Stored(cache.META)
    # Derived cards are kept only by builds that report them; others just drop theirs.
    keep_derived = job.write and (job.collect or bool(job.drop))
    derived = (
        cache.load_derived(derived_file, context.key)
        if keep_derived
        else cache.Stored(cache.Derived)
    )
    spill = _spilled(job)
    root = config.notes_dir
    results = []
    for rel, given in job.notes:
        spilled = spill.pop(rel, None)
        if spilled is not None:  # read by this build's read stage
            file, moments = spilled.file, spilled.alone if given is None else given
            record = spilled.record if moments == spilled.alone else None
        else:  # unchanged, but its moments moved (or the report needs its cards)
            file, moments, record = read_one(root, root / rel), given or (), None
        if record is None:
            record = cache.note_record(rel, file.signature, file.note, file.error, moments, ())
        if file.unreadable:  # the cache keeps what it had of it: see refresh.hold_unreadable
            results.append(NoteResult(record, "", None, None))
            continue
        result = make_cards(context, file, moments, record)
        for kept in (stored, meta, derived):
            kept.drop(rel)
        meta[rel] = (result.stamps, result.record.detail)
        if result.rendered is not None:
            stored[rel] = result.rendered
        if result.cards is not None and job.collect:
            derived[rel] = cache.Derived(result.record.sha, moments, result.cards)
        sent = result.stamps if not job.write else ""
        if job.collect:
            results.append(dataclasses.replace(result, stamps=sent))
        else:
            results.append(NoteResult(result.record, sent, None, None, result.digest))
    if job.write:
        for rel in job.drop:
            for kept in (stored, meta, derived):
                kept.drop(rel)
        cache.save_shard(cards_file, context.key, stored)
        cache.save_shard(meta_file, context.key, meta)
        if keep_derived:
            cache.save_shard(derived_file, context.key, derived)
    return results


def make_cards(
    context: Context, file: NoteFile, moments: Moments, record: cache.NoteRecord
) -> NoteResult:
    """One note's cards, made once, with the moments its timestamps open: derived from
    the note, rendered into Anki's fields, and stamped for the lock; `record` is its
    record as read, with those moments. Each step is guarded: a notedeck bug met on one
    note gives it no cards and is reported on it, and the rest of the vault is built (a
    broken template is the whole build's: TemplateError goes up)."""
    config, rel, note = context.config, file.rel, file.note
    if note is None:
        return NoteResult(record, "", None, None)
    templates, style = _tools(context)
    try:
        cards = derive_cards(note, moments, style)
    except Exception as exc:
        reraise_when_debugging()
        return _failed(record, internal_error(rel, 1, "derive cards from", exc))
    decks = [deck_name(c.deck, config) for c in cards]
    try:
        rendered = render_cards(cards, decks, templates, config.vault)
        # The lock's view of the cards (a few word hashes each): made here, beside them,
        # since only the workers hold the rendered cards of a cold build.
        stamped = stamp_rows(rendered)
    except TemplateError:
        raise
    except Exception as exc:
        reraise_when_debugging()
        line = _failing_line(cards, decks, templates, config.vault)
        return _failed(record, internal_error(rel, line, "render the cards of", exc))
    kinds = tuple(sorted(Counter(c.kind.value for c in cards).items()))
    top = rendered[0].deck.split("::", 1)[0] if rendered else ""
    record = dataclasses.replace(record, top=top, kinds=kinds)
    return NoteResult(
        record,
        pack_stamps(stamped),
        cache.NoteCards(rendered),
        cards,
        stamps_digest(rel, stamped),
    )


def _failed(record: cache.NoteRecord, error: Diagnostic) -> NoteResult:
    """The result of a note that was read but could not be made into cards."""
    return NoteResult(
        dataclasses.replace(
            record, readable=False, key="", video_id="", diagnostics=(error,), media=()
        ),
        "",
        None,
        None,
    )


def _failing_line(
    cards: Sequence[Card], decks: Sequence[str], templates: Templates, vault: str
) -> int:
    """The line of the first card that cannot be rendered on its own (1 if none)."""
    for card, deck in zip(cards, decks, strict=True):
        try:
            stamp_rows(render_cards([card], [deck], templates, vault))
        except Exception:
            return card.line
    return 1


def reraise_when_debugging() -> None:
    """Inside an `except` guarding one note: with `--debug`, let the error go up with its
    traceback instead of reporting it on the note."""
    if os.environ.get("NOTEDECK_DEBUG"):
        raise


def read_one(root: Path, path: Path) -> NoteFile:
    """Read one note: its file's signature, the Note, or why it cannot be read. Only a
    regular file is read, and only its first MAX_NOTE_BYTES."""
    rel = path.relative_to(root).as_posix()
    try:
        data, st, longer = note_bytes(path)
    except OSError as exc:
        return NoteFile(rel, (0, 0, hashlib.sha256(b"").hexdigest()), None, unreadable(rel, exc))
    signature = (st.st_mtime_ns, st.st_size, hashlib.sha256(data).hexdigest())
    try:
        note = read_note(path, root, data)
    except NoteError as exc:
        error = Diagnostic(Level.ERROR, exc.code, exc.path, exc.line, exc.message)
    except Exception as exc:  # a notedeck bug on one note must not stop the whole vault
        reraise_when_debugging()
        error = internal_error(rel, 1, "read", exc)
    else:
        if longer:
            cut = Diagnostic(
                Level.WARNING,
                "note.too-long",
                rel,
                data.count(b"\n") + 1,
                f"the file is larger than {MAX_NOTE_BYTES:,} bytes; only its beginning "
                "was read: split the note.",
            )
            note = dataclasses.replace(note, diagnostics=(*note.diagnostics, cut))
        return NoteFile(rel, signature, note, None)
    return NoteFile(rel, signature, None, error)


def note_bytes(path: str | Path) -> tuple[bytes, os.stat_result, bool]:
    """A note's bytes as read (at most MAX_NOTE_BYTES, cut at a line's end), its stat,
    and whether the file holds more. OSError (NotAFile for a pipe or a device)."""
    data, st, longer = read_capped(path, MAX_NOTE_BYTES)
    if longer:  # cut at a line's end, never inside a character
        data = data[: data.rfind(b"\n") + 1] or data
    return data, st, longer


def unreadable(rel: str, exc: OSError) -> Diagnostic:
    """Why a note's file could not be read. An unreadable note is never taken as deleted:
    its cards, package and lock entry stay as they were (see refresh.hold_unreadable)."""
    if isinstance(exc, NotAFile):
        return Diagnostic(
            Level.ERROR,
            "note.not-a-file",
            rel,
            1,
            "this is not a regular file (a pipe, a device or a folder); it is not read: "
            "move it out of the notes folder.",
        )
    return Diagnostic(
        Level.ERROR,
        "note.unreadable",
        rel,
        1,
        f"cannot read the file ({exc.strerror or exc}); its cards stay as they were until "
        "it can be read: check that it exists and that you may read it.",
    )


def internal_error(rel: str, line: int, stage: str, exc: BaseException) -> Diagnostic:
    """A notedeck bug met on one note: reported on the note, the rest of the vault built."""
    return Diagnostic(
        Level.ERROR,
        "note.internal",
        rel,
        line,
        f"notedeck failed to {stage} this note ({type(exc).__name__}: {exc}); it gives no "
        "cards. This is a bug: please report it with the note attached (run with --debug "
        "for a traceback).",
    )


def resolve_note(
    note: Note,
    siblings: Sequence[Note],
    durations: Sequence[int],
    config: Config,
    evidence: frozenset[int] | Evidence | None = None,
) -> tuple[tuple[Moment | None, ...], list[Diagnostic]]:
    """The moments of a note's timestamps, using the other notes of its video as evidence
    (or the seconds they name, when the caller has worked them out: `evidence`)."""
    result = resolve(
        note.clocks,
        duration=note.duration or (max(durations) if durations else None),
        siblings=[n.clocks for n in siblings] if evidence is None else (),
        max_seconds=config.max_video_seconds,
        evidence=evidence,
    )
    diagnostics = []
    repaired = repairs(note.clocks, result.moments) if result.repaired else []
    if repaired:
        by_line: dict[int, list[str]] = defaultdict(list)
        for clock, moment in repaired:
            by_line[clock.line].append(f"{clock_text(clock)} as {written_as(clock, moment)}")
        values = "; ".join(f"line {line}: {', '.join(v)}" for line, v in by_line.items())
        diagnostics.append(
            Diagnostic(
                Level.WARNING,
                "timestamp.garbled",
                note.path,
                repaired[0][0].line,
                f"{result.reason} Read so: {values}. `notedeck check --fix` writes them "
                "so in the note (`--diff` shows it first).",
            )
        )
    return result.moments, diagnostics


def deck_name(deck: tuple[str, ...], config: Config) -> str:
    if config.deck_naming == "single":
        return config.deck_name
    return "::".join(deck or (config.root_deck_name,))


def write_package(context: Context, job: PackageJob) -> tuple[str, int]:
    """Write one package beside its place; the build moves it there once every package
    is written. Returns the temporary file and the number of cards.

    Notes go in shard by shard (and by path within a shard), each shard's cards read
    only while its notes are written, so memory does not grow with the deck. A note whose
    file and lock entry are as when the package's kept database was written has its rows
    copied from that database instead (an edit in a large deck reads one shard)."""
    config = context.config
    templates, _style = _tools(context)
    entries = {rel: _entries(block) if block else {} for rel, _sha, block in job.notes}
    default_mod = max(job.model_mods.values(), default=0)
    newest = max([default_mod, *(m for mods in entries.values() for m in mods.values())])
    by_shard: dict[str, list[tuple[str, str, bytes]]] = defaultdict(list)
    for note in job.notes:
        by_shard[cache.shard_of(note[0])].append(note)
    temp = job.path.with_name(f".{job.path.name}.{os.getpid()}.tmp")
    job.path.parent.mkdir(parents=True, exist_ok=True)
    kept = cache.load_package_rows(config, job.path.name, context.key)
    previous = kept[0].notes if kept else {}
    database = cache.new_rows_database(config, job.path.name)
    writer = PackageWriter(
        temp,
        templates,
        newest,
        job.model_mods,
        default_mod,
        database=database,
        previous=kept[1] if previous and kept else None,
    )
    shown: set[str] = set()
    rows: dict[str, cache.NoteRows] = {}
    try:
        for shard in sorted(by_shard):
            stored: cache.Stored[cache.NoteCards] | None = None
            for rel, sha, block in by_shard[shard]:
                start = writer.next_id
                # What its rows are made of besides the note's file: its lock entry and
                # the GUIDs its renamed cards kept.
                odd = sorted((k, job.guids[k]) for k in entries[rel] if k in job.guids)
                digest = hashlib.blake2b(block + repr(odd).encode(), digest_size=16).digest()
                prior = previous.get(rel)
                if prior is not None and (prior.sha, prior.block) == (sha, digest):
                    writer.copy(prior.start, prior.end, prior.cards, prior.decks)
                    shown |= prior.media
                    rows[rel] = dataclasses.replace(prior, start=start, end=writer.next_id)
                    continue
                if stored is None:
                    stored = cache.load_shard(cache.shard_path(config, shard), context.key)
                note_cards = stored.get(rel)
                if note_cards is None:  # the derive stage stored every note it made
                    raise cache.CacheLost(rel)
                cards, mods = [], {}
                for card in note_cards.rendered:
                    guid = job.guids.get(card.key, card.guid)
                    cards.append(card if card.guid == guid else _with_guid(card, guid))
                    mods[guid] = entries[rel][card.key]
                writer.add(cards, mods)
                media = frozenset(media_names(cards)) if job.media else frozenset[str]()
                shown |= media  # most decks show no images: no need to look
                decks = frozenset(c.deck for c in cards)
                rows[rel] = cache.NoteRows(
                    sha, digest, start, writer.next_id, len(cards), decks, media
                )
        media_bytes = {
            name: Path(source).read_bytes() for name, source in job.media if name in shown
        }
        writer.finish(media_bytes)
        if database is not None and writer.cards >= cache.KEEP_ROWS_FROM:
            kept_as = writer.keep().name
            package_rows = cache.PackageRows(context.key, kept_as, rows)
            cache.save_package_rows(config, job.path.name, package_rows)
    finally:
        writer.discard()
    with open(temp, "rb+") as handle:
        os.fsync(handle.fileno())
    return str(temp), writer.cards


def _entries(block: bytes) -> dict[str, int]:
    """Card key -> mod, from one note's lock entry."""
    _path, rows = read_block(block)
    return {row[0]: row[2] for row in rows}


def _with_guid(card: RenderedCard, guid: str) -> RenderedCard:
    return RenderedCard(
        card.key, guid, card.cloze, card.fields, card.tags, card.deck, card.content_hash
    )
