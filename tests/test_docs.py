"""The README documents every command and every configuration key."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from notedeck.cli import main
from notedeck.config import KEYS, Key

REPO = Path(__file__).resolve().parents[1]


def documentation() -> str:
    return (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(main.commands))
def test_every_command_is_documented(command: str) -> None:
    assert re.search(rf"`notedeck {command}\b", documentation())


@pytest.mark.parametrize("key", KEYS, ids=lambda k: k.name)
def test_every_config_key_is_documented_with_its_default(key: Key) -> None:
    row = re.search(rf"^\| `{re.escape(key.name)}` \|.*$", documentation(), re.MULTILINE)
    assert row, f"{key.name} is not in the configuration table"
    assert key.default in row.group(0)


def test_the_ci_files_run_check_and_build() -> None:
    workflow = (REPO / ".github" / "workflows" / "decks.yml").read_text(encoding="utf-8")
    steps = yaml.safe_load(workflow)["jobs"]["decks"]["steps"]
    runs = [step.get("run", "") for step in steps]
    check = next(i for i, r in enumerate(runs) if "notedeck check" in r)
    build = next(i for i, r in enumerate(runs) if "notedeck build" in r)
    assert check < build and "SOURCE_DATE_EPOCH" in runs[build]
    assert "notedeck check" in workflow and "notedeck build" in workflow
    assert "SOURCE_DATE_EPOCH" in workflow and "decks/*.apkg" in workflow
    hooks = (REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    (hook,) = yaml.safe_load(hooks)
    assert hook["entry"] == "notedeck check" and hook["pass_filenames"] is False
