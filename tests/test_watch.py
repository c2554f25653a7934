"""`notedeck watch`: rebuilds after a save and outlives a broken note or template."""

from __future__ import annotations

import threading
from pathlib import Path

from conftest import SEED
from notedeck.cli.watch import is_input, watch_notes, watched_paths
from notedeck.config import Config, load_config


class Session:
    """A watch running in a thread for a bounded number of rebuilds."""

    def __init__(self, config: Config, rebuilds: int) -> None:
        self.lines: list[str] = []
        self.builds = 0  # finished builds, good or failed
        self.live = threading.Event()
        self.changed = threading.Condition()
        self.stop = threading.Event()
        self.thread = threading.Thread(
            target=watch_notes,
            daemon=True,
            kwargs={
                "config": config,
                "reload": lambda: config,
                "echo": self.echo,
                "debounce_ms": 50,
                "max_rebuilds": rebuilds,
                "stop": self.stop,
                "on_idle": self.live.set,
            },
        )

    def echo(self, message: str = "", err: bool = False) -> None:
        with self.changed:
            self.lines.append(message)
            if message.startswith(("Built ", "Build failed")):
                self.builds += 1
                self.changed.notify_all()

    def __enter__(self) -> Session:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)

    def save(self, path: Path, text: str) -> None:
        """Save once the watcher is live, then wait for the rebuild that save causes."""
        assert self.live.wait(timeout=60), "the watcher never started"
        with self.changed:
            before = self.builds
        path.write_text(text, encoding="utf-8")
        with self.changed:
            assert self.changed.wait_for(lambda: self.builds > before, timeout=60), self.lines

    def finish(self) -> str:
        self.thread.join(timeout=60)
        assert not self.thread.is_alive(), "the watch did not stop after its rebuilds"
        return "\n".join(self.lines)


def test_a_save_rebuilds_and_a_broken_note_or_template_does_not_stop_the_watch(vault: Path) -> None:
    templates = vault.parent / "templates"
    templates.mkdir()
    config = Config(notes_dir=vault, out_dir=vault.parent / "decks", templates_dir=templates)
    deck = config.out_dir / "healthygamergg.apkg"
    note = vault / SEED
    with Session(config, rebuilds=4) as watch:
        watch.save(
            note,
            note.read_text(encoding="utf-8")
            + "\n## Added\n\nA new fact about **ketamine** and its many effects.\n",
        )
        watch.save(vault / "broken.md", "---\ntitle: [unclosed\n---\n# B\n")
        watch.save(templates / "answer.html.j2", "{% for %}")
        watch.save(templates / "answer.html.j2", "{{ lines[0].html|safe }}")
        out = watch.finish()
    assert out.count("Built ") == 4  # the first build, then three good rebuilds
    assert out.count("Build failed") == 1
    assert f"Changed: {note}" in out
    assert "broken.md" in out and "frontmatter.invalid" in out
    assert "answer.html.j2" in out and "Build failed" in out
    assert deck.is_file()


def test_the_decks_and_hidden_files_never_trigger_a_rebuild(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notedeck.toml").write_text('out = "notes/decks"\n', encoding="utf-8")
    config = load_config(tmp_path)
    assert is_input(config, tmp_path / "notes" / "a.md")
    assert is_input(config, tmp_path / "notedeck.toml")
    assert not is_input(config, tmp_path / "notes" / "decks" / "x.md")
    assert not is_input(config, tmp_path / "notes" / ".obsidian" / "x.md")
    assert not is_input(config, tmp_path / "notes" / "a.md.swp")
    assert watched_paths(config) == [tmp_path / "notes", tmp_path / "notedeck.toml"]
