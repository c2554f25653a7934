"""Settings from notedeck.toml / [tool.notedeck]: found, validated, resolved, overridden."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import run_cli
from notedeck.config import KEYS, Config, ConfigProblems, load_config
from notedeck.errors import ConfigError
from notedeck.model import CardKind, Level


def test_defaults_without_a_file(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.source is None
    assert config.notes_dir == tmp_path / "notes"
    assert config.out_dir == tmp_path / "decks"
    assert config.card_kinds == frozenset(CardKind)
    assert config.diagnostics == ()


def test_pyproject_table_is_found_from_a_subfolder_and_paths_are_relative_to_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.notedeck]\nnotes = "vault"\nout = "build/decks"\n'
        'card-kinds = ["qa", "cloze"]\nextra-tags = ["psych", "psych"]\n'
        'silence = ["timestamp.garbled"]\nmax-video-length = "1:30:00"\n'
        'deck-naming = "single"\ndeck-name = "Study"\nstrict = true\n',
        encoding="utf-8",
    )
    deep = tmp_path / "vault" / "topic"
    deep.mkdir(parents=True)
    config = load_config(deep)
    assert config.source == tmp_path / "pyproject.toml"
    assert config.notes_dir == tmp_path / "vault"
    assert config.out_dir == tmp_path / "build" / "decks"
    assert config.card_kinds == {CardKind.QA, CardKind.CLOZE}
    assert config.extra_tags == ("psych",)
    assert config.silence == {"timestamp.garbled"}
    assert config.max_video_seconds == 5400
    assert (config.deck_naming, config.deck_name, config.strict) == ("single", "Study", True)


def test_a_pyproject_without_the_table_is_skipped_for_one_further_up(tmp_path: Path) -> None:
    (tmp_path / "notedeck.toml").write_text("answer-words = 25\n", encoding="utf-8")
    inner = tmp_path / "inner"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("[tool.ruff]\nline-length = 90\n", encoding="utf-8")
    config = load_config(inner)
    assert config.source == tmp_path / "notedeck.toml"
    assert config.answer_words == 25


def test_notedeck_toml_wins_over_pyproject_in_the_same_folder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.notedeck]\njobs = 1\n", encoding="utf-8")
    (tmp_path / "notedeck.toml").write_text("jobs = 2\n", encoding="utf-8")
    assert load_config(tmp_path).jobs == 2


def test_overrides_win_over_the_file(tmp_path: Path) -> None:
    (tmp_path / "notedeck.toml").write_text('out = "decks"\nstrict = false\n', encoding="utf-8")
    config = load_config(
        tmp_path, {"out_dir": tmp_path / "elsewhere", "strict": True, "notes_dir": None}
    )
    assert config.out_dir == tmp_path / "elsewhere"
    assert config.strict is True
    assert config.notes_dir == tmp_path / "notes"


@pytest.mark.parametrize(
    ("line", "key", "expected"),
    [
        ('answer-words = "many"', "answer-words", "a whole number"),
        ('card-kinds = ["qa", "essay"]', "card-kinds", '"overview", "qa"'),
        ('deck-naming = "by-colour"', "deck-naming", '"folder", "single"'),
        ("strict = 1", "strict", "true or false"),
        ("max-video-length = -5", "max-video-length", "H:MM:SS"),
        ("notes = 3", "notes", "a folder path"),
    ],
)
def test_a_bad_value_names_file_line_and_key(
    tmp_path: Path, line: str, key: str, expected: str
) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text(
        f'[project]\nname = "x"\n\n[tool.notedeck]\njobs = 2\n{line}\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.path == str(path)
    assert caught.value.line == 6
    assert f"'tool.notedeck.{key}'" in caught.value.message
    assert expected in caught.value.message
    assert str(caught.value).startswith(f"{path}:6: ")


def test_invalid_toml_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "notedeck.toml").write_text('jobs = 1\nout = "unclosed\n', encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.line == 2


def test_unknown_keys_are_warned_about_with_file_line_and_a_suggestion(tmp_path: Path) -> None:
    path = tmp_path / "notedeck.toml"
    path.write_text('jobs = 1\n\nanswer_words = 3\ncolour = "blue"\n', encoding="utf-8")
    config = load_config(tmp_path)
    assert config.answer_words == Config(tmp_path, tmp_path).answer_words  # ignored
    found = [(d.level, d.code, d.path, d.line) for d in config.diagnostics]
    assert found == [
        (Level.WARNING, "config.unknown-key", str(path), 3),
        (Level.WARNING, "config.unknown-key", str(path), 4),
    ]
    assert "Did you mean 'answer-words'?" in config.diagnostics[0].message


def test_every_key_sets_a_config_field() -> None:
    fields = set(Config.__dataclass_fields__)
    assert {k.attr for k in KEYS} <= fields
    assert len({k.name for k in KEYS}) == len(KEYS)


def test_an_explicit_file_that_does_not_exist_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such configuration file"):
        load_config(tmp_path, file=tmp_path / "missing.toml")


def test_a_notedeck_toml_copied_from_a_pyproject_is_read_with_a_warning_saying_what_to_write(
    tmp_path: Path,
) -> None:
    # The README's pyproject example pasted into notedeck.toml: the settings must not be
    # dropped as one unknown key `tool`.
    path = tmp_path / "notedeck.toml"
    path.write_text(
        '# settings\n[tool.notedeck]\nout = "built"\nanswer-words = 25\ncolour = "blue"\n',
        encoding="utf-8",
    )
    config = load_config(tmp_path)
    assert config.out_dir == tmp_path / "built"
    assert config.answer_words == 25
    found = [(d.code, d.path, d.line) for d in config.diagnostics]
    assert found == [
        ("config.tool-table", str(path), 2),
        ("config.unknown-key", str(path), 5),
    ]
    assert "delete the [tool.notedeck] line" in config.diagnostics[0].message
    assert "'colour'" in config.diagnostics[1].message

    # Written as the README says for notedeck.toml: no warning.
    path.write_text('out = "built"\nanswer-words = 25\n', encoding="utf-8")
    config = load_config(tmp_path)
    assert (config.out_dir, config.answer_words, config.diagnostics) == (
        tmp_path / "built",
        25,
        (),
    )


def test_silence_takes_a_code_or_a_family_of_codes(tmp_path: Path) -> None:
    from notedeck.config import Config

    config = Config(
        notes_dir=tmp_path, out_dir=tmp_path, silence=frozenset({"timestamp.*", "note.outside"})
    )
    assert config.silenced("timestamp.garbled")
    assert config.silenced("timestamp.placeholder")
    assert config.silenced("note.outside")
    assert not config.silenced("note.internal")
    assert not config.silenced("timestamps.other")


def test_every_problem_of_a_configuration_is_reported_at_once(project: Path) -> None:
    # Three different mistakes (a word for a number, a choice that is not one, a path
    # that is a loop of links) and a misspelt key: one run names them all, each on its
    # line, with what to write instead; nothing is built.
    (project / "loop").symlink_to(project / "loop")
    path = project / "notedeck.toml"
    path.write_text(
        'notes = "notes"\njobs = "two"\ndeck-naming = "by-colour"\n'
        'answer_words = 30\ncache = "loop"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigProblems) as caught:
        load_config(project)
    shown = [(p.path, p.line) for p in caught.value.problems]
    assert shown == [(str(path), 2), (str(path), 3), (str(path), 5)]
    messages = [p.message for p in caught.value.problems]
    assert "'jobs' must be a whole number, not \"two\"" in messages[0]
    assert '\'deck-naming\' must be one of "folder", "single", "frontmatter"' in messages[1]
    assert "cache: " in messages[2] and "loop of symbolic links" in messages[2]
    assert isinstance(caught.value, ConfigError)  # what callers of one problem catch
    assert [(w.code, w.line) for w in caught.value.warnings] == [("config.unknown-key", 4)]

    result = run_cli("build")
    assert result.exit_code == 2
    for line in (2, 3, 5):
        assert f"{path}:{line}: " in result.output
    assert f"{path}:4: warning config.unknown-key: " in result.output
    assert not (project / "decks").exists()
