"""Build settings as one frozen, validated value, loaded from notedeck.toml or pyproject.toml."""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from notedeck.errors import ConfigError
from notedeck.model import CardKind, Diagnostic, Level

ALL_KINDS = frozenset(CardKind)
DECK_NAMINGS = ("folder", "single", "frontmatter")
CONFIG_FILES = ("notedeck.toml", "pyproject.toml")


@dataclass(frozen=True, slots=True)
class Config:
    """Everything that shapes a build. Paths are absolute once loaded."""

    notes_dir: Path
    out_dir: Path
    templates_dir: Path | None = None  # None: the templates shipped with notedeck
    questions_file: Path | None = None  # None: questions.toml in the templates folder
    lock_path: Path | None = None  # None: notedeck.lock beside the notes folder
    cache_dir: Path | None = None  # None: .notedeck-cache beside the notes folder
    deck_naming: str = "folder"  # "folder" | "single" | "frontmatter"
    deck_name: str = "notedeck"  # the deck's name with deck_naming = "single"
    root_deck: str = ""  # deck for notes at the top of the notes folder; "" = folder name
    card_kinds: frozenset[CardKind] = ALL_KINDS
    extra_tags: tuple[str, ...] = ()
    silence: frozenset[str] = field(default_factory=frozenset)
    max_video_seconds: int = 4 * 3600
    answer_words: int = 40
    cloze_per_section: int = 3
    vault_name: str = ""  # Obsidian vault name in note links; "" = notes folder name
    strict: bool = False
    jobs: int = 0  # worker processes; 0 = one per core
    source: Path | None = None  # the file the settings came from; None: defaults only
    diagnostics: tuple[Diagnostic, ...] = ()  # what loading the settings noticed

    @property
    def vault(self) -> str:
        return self.vault_name or self.notes_dir.name

    def silenced(self, code: str) -> bool:
        """Whether `silence` leaves out a diagnostic code: named whole, or by its family
        ("timestamp.*" silences every code that starts with "timestamp.")."""
        if code in self.silence:
            return True
        return any(s.endswith(".*") and code.startswith(s[:-1]) for s in self.silence if "*" in s)

    @property
    def lock_file(self) -> Path:
        return self.lock_path or self.notes_dir.parent / "notedeck.lock"

    @property
    def root_deck_name(self) -> str:
        return self.root_deck or self.notes_dir.name


class ConfigProblems(ConfigError):
    """Every problem of a configuration at once (as MkDocs' `validate()` reports them),
    each as a ConfigError naming its file, line and key and what to write instead; the
    first is this error's own path, line and message. Its text is one problem a line,
    then the warnings about the file (an unknown key), as a build would have shown them."""

    def __init__(
        self, problems: Sequence[ConfigError], warnings: Sequence[Diagnostic] = ()
    ) -> None:
        first = problems[0]
        super().__init__(first.path, first.line, first.message)
        self.problems = tuple(problems)
        self.warnings = tuple(warnings)
        lines = [str(p) for p in self.problems]
        lines += [w.format() for w in self.warnings]
        self.args = ("\n".join(lines),)


@dataclass(frozen=True, slots=True)
class Key:
    """One setting as a user writes it: its name, type, default and meaning."""

    name: str  # as written in TOML
    attr: str  # the Config field it sets
    kind: str  # a word for the error message: "a path", "a whole number" ...
    default: str  # the default as the documentation shows it
    help: str
    convert: Callable[[object], object]


def _path(value: object) -> object:
    if not isinstance(value, str) or not value.strip():
        raise ValueError
    return Path(value.strip())


def _string(value: object) -> object:
    if not isinstance(value, str):
        raise ValueError
    return value.strip()


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError
    return tuple(dict.fromkeys(v.strip() for v in value if v.strip()))


def _count(low: int) -> Callable[[object], object]:
    def convert(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ValueError
        return value

    return convert


def _boolean(value: object) -> object:
    if not isinstance(value, bool):
        raise ValueError
    return value


def _deck_naming(value: object) -> object:
    if value not in DECK_NAMINGS:
        raise ValueError
    return value


def _kinds(value: object) -> object:
    names = _strings(value)
    try:
        kinds = frozenset(CardKind(n) for n in names)
    except ValueError:
        raise ValueError from None
    if not kinds:
        raise ValueError
    return kinds


_CLOCK = re.compile(r"(\d+):([0-5]?\d)(?::([0-5]?\d))?")


def _duration(value: object) -> object:
    """Seconds as a number, or "H:MM:SS" / "MM:SS" as a string."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    if isinstance(value, str) and (m := _CLOCK.fullmatch(value.strip())):
        parts = [int(p) for p in m.groups() if p is not None]
        seconds = 0
        for p in parts:
            seconds = seconds * 60 + p
        if seconds > 0:
            return seconds
    raise ValueError


KEYS: tuple[Key, ...] = (
    Key("notes", "notes_dir", "a folder path", '"notes"', "The folder of Markdown notes.", _path),
    Key("out", "out_dir", "a folder path", '"decks"', "Where the .apkg files are written.", _path),
    Key(
        "templates",
        "templates_dir",
        "a folder path",
        "the shipped templates",
        "A folder of card templates; any file missing from it falls back to the shipped one.",
        _path,
    ),
    Key(
        "questions",
        "questions_file",
        "a file path",
        "questions.toml of the templates",
        "The question patterns file.",
        _path,
    ),
    Key(
        "lock",
        "lock_path",
        "a file path",
        '"notedeck.lock" beside the notes folder',
        "The lock file that keeps card identities stable.",
        _path,
    ),
    Key(
        "cache",
        "cache_dir",
        "a folder path",
        '".notedeck-cache" beside the notes folder',
        "The build cache folder.",
        _path,
    ),
    Key(
        "deck-naming",
        "deck_naming",
        'one of "folder", "single", "frontmatter"',
        '"folder"',
        'How decks are named: "folder" (one deck per folder, a note\'s `deck:` frontmatter '
        'key wins), "frontmatter" (the `deck:` key, else the folder), "single" (one deck '
        "named by `deck-name`).",
        _deck_naming,
    ),
    Key(
        "deck-name",
        "deck_name",
        "a string",
        '"notedeck"',
        'The deck\'s name when `deck-naming = "single"`.',
        _string,
    ),
    Key(
        "root-deck",
        "root_deck",
        "a string",
        "the notes folder's name",
        "The deck of notes at the top of the notes folder.",
        _string,
    ),
    Key(
        "card-kinds",
        "card_kinds",
        'a list of "overview", "qa", "label", "cloze"',
        '["overview", "qa", "label", "cloze"]',
        "Which kinds of card to make.",
        _kinds,
    ),
    Key(
        "extra-tags", "extra_tags", "a list of strings", "[]", "Tags added to every card.", _strings
    ),
    Key(
        "silence",
        "silence",
        "a list of diagnostic codes",
        "[]",
        'Diagnostic codes never reported, e.g. ["timestamp.garbled"], or families, '
        'e.g. ["timestamp.*"].',
        lambda v: frozenset(_strings(v)),
    ),
    Key(
        "max-video-length",
        "max_video_seconds",
        'seconds, or "H:MM:SS"',
        '"4:00:00"',
        "The longest video a timestamp may point into; later moments are treated as garbled.",
        _duration,
    ),
    Key(
        "answer-words",
        "answer_words",
        "a whole number of at least 1",
        "40",
        "About how many words one answer holds before it is split into parts.",
        _count(1),
    ),
    Key(
        "cloze-per-section",
        "cloze_per_section",
        "a whole number",
        "3",
        "At most this many cloze cards per section.",
        _count(0),
    ),
    Key(
        "vault-name",
        "vault_name",
        "a string",
        "the notes folder's name",
        "The Obsidian vault named in the links back to each note.",
        _string,
    ),
    Key(
        "strict",
        "strict",
        "true or false",
        "false",
        "Fail (exit 1) on warnings as well as errors.",
        _boolean,
    ),
    Key(
        "jobs",
        "jobs",
        "a whole number",
        "0",
        "Worker processes for a build; 0 means one per core.",
        _count(0),
    ),
)
_BY_NAME = {k.name: k for k in KEYS}
_PATH_ATTRS = {"notes_dir", "out_dir", "templates_dir", "questions_file", "lock_path", "cache_dir"}


def find_config(start: Path) -> tuple[Path, str] | None:
    """The nearest notedeck.toml, or pyproject.toml with [tool.notedeck], at or above `start`.

    Returns the file and the table the settings live in ("" for the top of notedeck.toml).
    """
    for folder in (start, *start.parents):
        own = folder / "notedeck.toml"
        if own.is_file():
            return own, ""
        project = folder / "pyproject.toml"
        if project.is_file():
            try:
                text = project.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if re.search(r"^\s*\[\s*tool\.notedeck\s*\]", text, re.MULTILINE):
                return project, "tool.notedeck"
    return None


def load_config(
    start: Path, overrides: Mapping[str, Any] | None = None, *, file: Path | None = None
) -> Config:
    """Settings from the config file found at or above `start` (or `file`), then `overrides`.

    `overrides` maps Config field names to values already resolved (the CLI's flags).
    Paths in the file are relative to the file's folder. A file that cannot be read as
    TOML is a ConfigError; bad values are all reported at once, in one ConfigProblems.
    """
    start = start.resolve()
    found: tuple[Path, str] | None
    if file is not None:
        file = file.resolve()
        if not file.is_file():
            raise ConfigError(
                str(file), 1, "no such configuration file; check the path given to --config."
            )
        found = (file, "tool.notedeck" if file.name == "pyproject.toml" else "")
    else:
        found = find_config(start)
    values: dict[str, Any] = {}
    diagnostics: list[Diagnostic] = []
    problems: list[ConfigError] = []
    lines: dict[str, int] = {}  # the line of each value the file sets, by Config field
    base = start
    if found is not None:
        path, table = found
        base = path.parent
        values, lines, diagnostics, problems = _read_file(path, table)
    settings: dict[str, Any] = {
        "notes_dir": base / "notes",
        "out_dir": base / "decks",
    }
    settings.update(
        {attr: base / value if attr in _PATH_ATTRS else value for attr, value in values.items()}
    )
    settings.update({k: v for k, v in (overrides or {}).items() if v is not None})
    for attr in _PATH_ATTRS:
        if settings.get(attr) is not None:
            try:
                settings[attr] = _resolved(Path(settings[attr]), found and found[0], attr)
            except ConfigError as exc:
                from_file = (overrides or {}).get(attr) is None
                line = lines.get(attr, 1) if from_file else 1
                problems.append(ConfigError(exc.path, line, exc.message))
    if problems:
        raise ConfigProblems(sorted(problems, key=lambda p: (p.path, p.line)), diagnostics)
    return Config(**settings, source=found[0] if found else None, diagnostics=tuple(diagnostics))


def _resolved(value: Path, source: Path | None, attr: str) -> Path:
    """The absolute path; a link that leads back to itself is a ConfigError."""
    try:
        return value.resolve()
    except (RuntimeError, OSError) as exc:  # Python 3.11 raises RuntimeError on a loop
        raise ConfigError(
            str(source or value),
            1,
            f"{attr.removesuffix('_dir').removesuffix('_path')}: {value} is a loop of "
            f"symbolic links ({exc}); point it at a real file or folder.",
        ) from exc


def _read_file(
    path: Path, table: str
) -> tuple[dict[str, Any], dict[str, int], list[Diagnostic], list[ConfigError]]:
    """The settings of a configuration file (by Config field), the line of each, the
    warnings about it, and every value that is not what its key takes (a file that is
    not TOML is a ConfigError at once)."""
    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(shown, 1, f"cannot read the configuration ({exc}).") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = int(m.group(1)) if (m := re.search(r"line (\d+)", str(exc))) else 1
        raise ConfigError(shown, line, f"not valid TOML ({exc}).") from exc
    section: object = data
    for part in filter(None, table.split(".")):
        section = section.get(part, {}) if isinstance(section, dict) else {}
    if not isinstance(section, dict):
        raise ConfigError(shown, 1, f"[{table}] must be a table of settings.")
    lines = key_lines(text, table)
    values: dict[str, Any] = {}
    diagnostics: list[Diagnostic] = []
    problems: list[ConfigError] = []
    value_lines: dict[str, int] = {}
    prefix = f"{table}." if table else ""
    settings = list(section.items())
    if not table and isinstance(tool := section.get("tool"), dict) and "notedeck" in tool:
        settings = _tool_table_in_own_file(section, text, shown, lines, diagnostics)
    for name, raw in settings:
        line = lines.get(name, 1)
        key = _BY_NAME.get(name)
        if key is None:
            close = difflib.get_close_matches(name.replace("_", "-"), list(_BY_NAME), n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            diagnostics.append(
                Diagnostic(
                    Level.WARNING,
                    "config.unknown-key",
                    shown,
                    line,
                    f"unknown key '{prefix}{name}'; it is ignored.{hint}",
                )
            )
            continue
        try:
            values[key.attr] = key.convert(raw)
            value_lines[key.attr] = line
        except ValueError:
            problems.append(
                ConfigError(shown, line, f"'{prefix}{name}' must be {key.kind}, not {_show(raw)}.")
            )
    return values, value_lines, diagnostics, problems


def _tool_table_in_own_file(
    data: dict[str, Any], text: str, shown: str, lines: dict[str, int], found: list[Diagnostic]
) -> list[tuple[str, Any]]:
    """The settings of a notedeck.toml that holds them under [tool.notedeck], as copied
    from a pyproject.toml: read as if written at the top, with a warning saying how to
    write them. `lines` gets the table's key lines."""
    tool = dict(data["tool"])
    table = tool.pop("notedeck")
    if not isinstance(table, dict):
        raise ConfigError(shown, 1, "[tool.notedeck] must be a table of settings.")
    header = next((n for n, line in enumerate(text.splitlines(), 1) if _TOOL_HEADER.match(line)), 1)
    found.append(
        Diagnostic(
            Level.WARNING,
            "config.tool-table",
            shown,
            header,
            "in notedeck.toml the settings go at the top of the file: delete the "
            "[tool.notedeck] line (that table is for pyproject.toml). Its settings are used.",
        )
    )
    own = key_lines(text, "tool.notedeck")
    settings = [(k, v) for k, v in data.items() if k != "tool"]
    if tool:  # other tools' tables: not notedeck's business, but not settings either
        settings.append(("tool", tool))
    for name, value in table.items():
        if name in data:
            continue  # the same key at the top of the file wins
        lines.setdefault(name, own.get(name, header))
        settings.append((name, value))
    return settings


_TOOL_HEADER = re.compile(r"^\s*\[\s*tool\s*\.\s*notedeck\s*\]")


def _show(value: object) -> str:
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + "..."


_HEADER = re.compile(r"^\s*\[([^\[\]]+)\]\s*(?:#.*)?$")
_ASSIGN = re.compile(r"""^\s*("[^"]+"|'[^']+'|[A-Za-z0-9_-]+)\s*=""")


def key_lines(text: str, table: str) -> dict[str, int]:
    """The line of each key assigned directly in `table` ("" for the top of the file)."""
    lines: dict[str, int] = {}
    current = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if m := _HEADER.match(line):
            current = ".".join(p.strip().strip("\"'") for p in m.group(1).split("."))
            continue
        if current == table and (m := _ASSIGN.match(line)):
            lines.setdefault(m.group(1).strip("\"'"), number)
    return lines
