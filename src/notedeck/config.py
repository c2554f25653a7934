"""Build settings as one frozen, validated value."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from notedeck.model import CardKind

ALL_KINDS = frozenset(CardKind)


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

    @property
    def vault(self) -> str:
        return self.vault_name or self.notes_dir.name

    @property
    def lock_file(self) -> Path:
        return self.lock_path or self.notes_dir.parent / "notedeck.lock"

    @property
    def root_deck_name(self) -> str:
        return self.root_deck or self.notes_dir.name
