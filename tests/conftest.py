"""Shared fixtures: real notes, real builds, and the real Anki backend to import them."""

from __future__ import annotations

import contextlib
import getpass
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import settings

from notedeck.build import BuildReport, build
from notedeck.config import Config

# In CI the property tests run a fixed sequence of examples, so a run is repeatable;
# on a developer's machine they explore new examples every time.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_unconfigure(config: pytest.Config) -> None:
    """pytest removes each test's tmp_path (pyproject: tmp_path_retention_policy) but
    keeps its own folder in the temp folder; once empty, it goes too."""
    base = Path(tempfile.gettempdir()) / f"pytest-of-{getpass.getuser()}"
    with contextlib.suppress(OSError):  # not empty: another run is using it
        base.rmdir()


@pytest.fixture(autouse=True, scope="session")
def user_cache_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The user's cache folder (where the cache key's secret lives), in the test's temp
    folder: the tests, and the commands they run, never write in the real home."""
    home = tmp_path_factory.mktemp("user-cache")
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(home)
    yield home
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


REPO = Path(__file__).resolve().parents[1]
# The project's shared files lie beside the checkout (../shared); a checkout one folder
# deeper (a worktree) finds them one level up. Tests that need them skip elsewhere.
SHARED = next(
    (p for p in (REPO.parent / "shared", REPO.parent.parent / "shared") if p.is_dir()),
    REPO.parent / "shared",
)
CORPUS = SHARED / "corpus" / "tubegraph" / "content"
SEED = "healthygamergg/ketamine_as_a_treatment_for_depression.md"
SIBLING = "healthygamergg/default_mode_network_in_the_brain.md"


def corpus_dir() -> Path:
    if CORPUS.is_dir():
        return CORPUS
    pytest.skip(f"the shared corpus is not beside this checkout ({CORPUS} is missing)")


@pytest.fixture
def vault(tmp_path: Path) -> Path:
    """A notes folder holding the project's seed notes."""
    notes = tmp_path / "notes"
    shutil.copytree(REPO / "notes", notes)
    return notes


# The seed notes give Q&A cards only; a term the note names ("known as **...**") gives a
# cloze, for the tests that need both note types.
DISSOCIATION = (
    "\n\n## Dissociation\n\nThe feeling of being outside one's own body, known as "
    "**depersonalisation**, is a common effect of ketamine.\n"
)


def add_cloze(notes: Path) -> None:
    """Give the seed note (in the notes folder `notes`) a section that makes a cloze card."""
    with (notes / SEED).open("a", encoding="utf-8") as seed:
        seed.write(DISSOCIATION)


def run_build(notes: Path, out: Path | None = None, **settings: object) -> BuildReport:
    config = Config(notes_dir=notes, out_dir=out or notes.parent / "decks", **settings)  # type: ignore[arg-type]
    return build(config)


class Anki:
    """A fresh collection of the real Anki backend, to import packages as a user would."""

    def __init__(self, folder: Path) -> None:
        from anki.collection import Collection

        self.path = folder / "collection.anki2"
        self.col = Collection(str(self.path))

    def import_package(self, apkg: Path) -> object:
        from anki import import_export_pb2 as ie
        from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

        options = ImportAnkiPackageOptions(
            merge_notetypes=False,
            update_notes=ie.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
            update_notetypes=ie.IMPORT_ANKI_PACKAGE_UPDATE_CONDITION_IF_NEWER,
        )
        return self.col.import_anki_package(
            ImportAnkiPackageRequest(package_path=str(apkg), options=options)
        ).log

    def answer(self, cid: int) -> None:
        """Review one card as a learner would, answering Good."""
        from anki.scheduler.v3 import CardAnswer

        card = self.col.get_card(cid)
        card.start_timer()
        states = self.col._backend.get_scheduling_states(card.id)
        self.col.sched.answer_card(
            self.col.sched.build_answer(card=card, states=states, rating=CardAnswer.GOOD)
        )

    def answer_all(self) -> None:
        for cid in self.col.find_cards(""):
            self.answer(cid)

    def reopen(self) -> None:
        from anki.collection import Collection

        self.col.close()
        self.col = Collection(str(self.path))

    def close(self) -> None:
        self.col.close()


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run git in `repo` as a user with no configuration of their own would."""
    env = {
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_CONFIG_NOSYSTEM": "1",
        "PATH": os.environ.get("PATH", ""),
    }
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0 or not check, done.stdout + done.stderr
    return done


@pytest.fixture
def project(vault: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A notes project: the seed notes in notes/, run from the project folder."""
    monkeypatch.chdir(vault.parent)
    yield vault.parent


def run_cli(*args: str) -> Result:
    """The command line as a user types it, in this process."""
    from notedeck.cli.commands import main

    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def anki(tmp_path: Path) -> Iterator[Anki]:
    folder = tmp_path / "anki"
    folder.mkdir()
    collection = Anki(folder)
    yield collection
    collection.close()
