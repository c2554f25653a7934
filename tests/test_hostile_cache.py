"""A notes repository that ships a cache folder runs nothing and slips no card in; a
`cache =` setting never makes notedeck write over files that are not its own."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import REPO
from notedeck.config import Config
from notedeck.incremental import cache


def notedeck(
    project: Path, *args: str, user_cache: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it, in the project folder."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), SOURCE_DATE_EPOCH="1700000000")
    if user_cache is not None:
        env["XDG_CACHE_HOME"] = str(user_cache)
    return subprocess.run(
        [sys.executable, "-m", "notedeck", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


class _Payload:
    """Unpickling this writes a file: what a hostile cache would do, harmlessly."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


def _read_shard(path: Path) -> tuple[str, dict[str, object]]:
    """A shard file: its first line, and each note's value (a line: path, tab, JSON)."""
    head, *lines = path.read_text(encoding="ascii").splitlines()
    values = {}
    for line in lines:
        name, _tab, value = line.partition("\t")
        values[json.loads(name)] = json.loads(value)
    return head, values


def _write_shard(path: Path, head: str, values: dict[str, object]) -> None:
    lines = [f"{json.dumps(rel)}\t{json.dumps(value)}" for rel, value in values.items()]
    path.write_text("\n".join([head, *lines, ""]), encoding="ascii")


def _packages_text(decks: Path) -> str:
    text = []
    for package in sorted(decks.glob("*.apkg")):
        with zipfile.ZipFile(package) as archive:
            for name in archive.namelist():
                text.append(archive.read(name).decode("latin-1"))
    return "\n".join(text)


def test_a_shipped_pickle_in_the_cache_is_never_run(vault: Path, tmp_path: Path) -> None:
    project = vault.parent
    marker = tmp_path / "code-ran"
    payload = pickle.dumps(_Payload(marker))
    # The payload works: anything that unpickles it writes the marker.
    pickle.loads(payload)
    assert marker.read_text() == "ran"
    marker.unlink()
    # The repository ships it under every name a cache file has had, in the folder the
    # build uses for these notes (predictable from the notes' path).
    folder = cache.cache_folder(Config(notes_dir=vault.resolve(), out_dir=project / "decks"))
    (folder / "packages").mkdir(parents=True)
    rels = [p.relative_to(vault).as_posix() for p in vault.rglob("*.md")]
    shards = {cache.shard_of(rel) for rel in rels}
    names = ["index.pickle", "index.json", "decks.pickle", "notes-0.pickle"]
    for shard in shards:
        for kind in ("cards", "meta", "derived"):
            names += [f"{kind}-{shard}.pickle", f"{kind}-{shard}.json"]
    for name in names:
        (folder / name).write_bytes(payload)
    for name in ("notedeck.apkg", "healthygamergg.apkg"):
        (folder / "packages" / f"{name}.rows").write_bytes(payload)

    checked = notedeck(project, "check", "notes")
    assert checked.returncode == 0, checked.stderr
    built = notedeck(project, "build", "notes", "--out", "decks")
    assert built.returncode == 0, built.stderr
    assert not marker.exists()
    assert list((project / "decks").glob("*.apkg"))
    assert (folder / cache.MARKER).is_file()  # the build used that very folder
    assert not list(folder.glob("*.pickle"))  # and dropped the old layout's files unread
    again = notedeck(project, "build", "notes", "--out", "decks")
    assert again.returncode == 0 and not marker.exists()


def test_a_cache_made_by_someone_else_slips_no_card_in(vault: Path, tmp_path: Path) -> None:
    project = vault.parent
    attacker, victim = tmp_path / "attacker-home", tmp_path / "victim-home"
    assert (
        notedeck(project, "build", "notes", "--out", "decks", user_cache=attacker).returncode == 0
    )
    # The attacker rewrites the cached cards (a well-formed cache, checks and all) and
    # ships the folder with the notes; the packages are made from the cache once gone.
    (folder,) = (project / ".notedeck-cache").iterdir()
    injected = "<script>alert('shipped')</script>"
    for shard in folder.glob("cards-*.json"):
        head, notes = _read_shard(shard)
        for rel, (cards,) in notes.items():  # type: ignore[misc]
            notes[rel] = [[[*card[:3], [injected, *card[3][1:]], *card[4:]] for card in cards]]
        _write_shard(shard, head, notes)
    shipped = {p: p.read_bytes() for p in folder.iterdir() if p.is_file()}

    def ship() -> None:  # the tampered cache, as the repository holds it
        for path, data in shipped.items():
            path.write_bytes(data)
        for package in (project / "decks").glob("*.apkg"):
            package.unlink()  # the packages are made from the cached cards

    # The injection reaches a package through the cache of the one who made it: the
    # test does reach what packages are made of.
    ship()
    own = notedeck(project, "build", "notes", "--out", "decks", user_cache=attacker)
    assert own.returncode == 0, own.stderr
    assert "alert(" in _packages_text(project / "decks")
    # Anyone else's build trusts none of it.
    ship()
    victims = notedeck(project, "build", "notes", "--out", "decks", user_cache=victim)
    assert victims.returncode == 0, victims.stderr
    assert "alert(" not in _packages_text(project / "decks")


@pytest.mark.parametrize("stranger", ["index.json", "notes.txt"])
def test_a_cache_setting_naming_a_folder_of_other_files_overwrites_none(
    vault: Path, stranger: str
) -> None:
    project = vault.parent
    mine = project / "mine"
    (project / "notedeck.toml").write_text('notes = "notes"\ncache = "mine"\n', encoding="utf-8")
    # The folder the cache would use holds someone's files (even one named as a cache file).
    folder = cache.cache_folder(
        Config(notes_dir=vault.resolve(), out_dir=project / "decks", cache_dir=mine.resolve())
    )
    folder.mkdir(parents=True)
    (folder / stranger).write_text("my own words", encoding="utf-8")
    (mine / "diary.md").write_text("also mine", encoding="utf-8")
    before = {p: p.read_bytes() for p in mine.rglob("*") if p.is_file()}

    built = notedeck(project, "build", "--out", "decks")
    assert built.returncode == 0, built.stderr
    assert list((project / "decks").glob("*.apkg"))
    assert {p: p.read_bytes() for p in mine.rglob("*") if p.is_file()} == before
    shown = folder.relative_to(project.resolve()).as_posix()  # as the CLI names it, from here
    assert f"{shown}:1: warning cache.not-own:" in built.stdout + built.stderr
    assert "set `cache =`" in built.stdout + built.stderr


def _mutated(value: object, every: int, count: list[int]) -> object:
    """`value` with every `every`-th leaf (and list) swapped for a value of another type."""
    count[0] += 1
    if count[0] % every == 0:
        return {"x": 1} if isinstance(value, list) else ([] if isinstance(value, str) else "x")
    if isinstance(value, list):
        return [_mutated(v, every, count) for v in value]
    if isinstance(value, dict):
        return {k: _mutated(v, every, count) for k, v in value.items()}
    return value


@pytest.mark.parametrize("every", [2, 7, 31])
@pytest.mark.parametrize("files", ["index.json", "cards-*.json", "meta-*.json", "*"])
def test_a_cache_of_wrong_values_under_the_right_key_is_a_cache_miss(
    vault: Path, tmp_path: Path, every: int, files: str
) -> None:
    """Values of the wrong type in well-formed files, stamped with this user's key (as a
    disk or a bug could leave them): every one is a cache miss, never a crash, and the
    packages are the bytes of a build without a cache."""
    from conftest import run_build

    run_build(vault, tmp_path / "cold")  # the lock the two builds below share
    (folder,) = (vault.parent / ".notedeck-cache").iterdir()
    for path in folder.rglob(files):
        if path.name == "index.json" or path.suffix == ".rows":
            fmt, key, value = json.loads(path.read_bytes())
            path.write_text(json.dumps([fmt, key, _mutated(value, every, [0])]))
            continue
        if path.suffix != ".json":
            continue
        head, values = _read_shard(path)
        if path.name.startswith("meta-"):  # a note's detail is JSON in a string
            values = {
                rel: [stamps, json.dumps(_mutated(json.loads(detail), every, [0]))]
                for rel, (stamps, detail) in values.items()  # type: ignore[misc]
            }
        _write_shard(path, head, {r: _mutated(v, every, [0]) for r, v in values.items()})
    for package in (tmp_path / "cold").glob("*.apkg"):
        package.unlink()
    warm = run_build(vault, tmp_path / "cold")
    shutil.rmtree(folder)
    cold = run_build(vault, tmp_path / "again")
    assert [c.fields for c in warm.rendered] == [c.fields for c in cold.rendered]
    for a, b in zip(warm.decks, cold.decks, strict=True):
        assert a.path.read_bytes() == b.path.read_bytes()
