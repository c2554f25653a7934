"""The README documents every command and every configuration key."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from notedeck.cli.commands import main
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


def readme_commands() -> list[str]:
    """Every command of the README's `sh` blocks, in order, without its comment."""
    blocks = re.findall(r"^```sh\n(.*?)^```", documentation(), re.MULTILINE | re.DOTALL)
    lines = [line.split("  #", 1)[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def test_every_readme_command_works_as_written(tmp_path: Path) -> None:
    """The README's commands, run in order in a copy of the repository, as a newcomer
    would. Two kinds are not run whole here: `make decks`/`make test` (make -n checks
    that their targets exist and run what the README says; this test is part of `make
    test`), and an install from GitHub (`<owner>` stands for the user's fork)."""
    commands = readme_commands()
    assert "pip install ." in commands and "notedeck check --fix --diff" in commands
    clone = tmp_path / "clone"
    shutil.copytree(
        REPO,
        clone,
        symlinks=True,
        ignore=shutil.ignore_patterns(
            ".venv", ".git", "*_cache", "__pycache__", ".notedeck-cache", "decks", ".hypothesis"
        ),
    )
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "clone"]):
        subprocess.run([*git, *step], cwd=clone, check=True, capture_output=True)
    # A fresh environment for `pip install .` whose dependencies are those of this one
    # (found through a .pth file), so that the install needs no download but the
    # build backend's.
    # Its pip is this one's, current as `make` leaves it (a venv's bundled pip may be
    # too old to show what the build backend warns).
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next(venv.glob("lib/python*/site-packages"))
    ours = [p for p in sys.path if p.endswith("site-packages")]
    (site / "deps.pth").write_text("\n".join(ours) + "\n", encoding="utf-8")
    pip = venv / "bin" / "pip"
    pip.write_text(
        f"#!{venv / 'bin' / 'python'}\nimport sys\nfrom pip._internal.cli.main import main\n"
        "sys.exit(main())\n",
        encoding="utf-8",
    )
    pip.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "PIP_NO_DEPS": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "VIRTUAL_ENV": str(venv),
    }
    env.pop("PYTHONPATH", None)
    ran = []
    for command in commands:
        if "<owner>" in command:
            continue
        shell = re.sub(r"^make (\w+)$", r"make -n \1", command)
        done = subprocess.run(
            ["bash", "-c", shell], cwd=clone, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
        if command.startswith("pip install"):
            # A clean install says nothing but errors (pip's own notices aside).
            assert "Warning" not in done.stderr, done.stderr
        ran.append(command)
    assert (clone / "decks" / "healthygamergg.apkg").is_file()
    assert (
        "notedeck build notes --out decks"
        in subprocess.run(["make", "-n", "decks"], cwd=clone, capture_output=True, text=True).stdout
    )
    assert len(ran) >= len(commands) - 1
    notedeck = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import notedeck; print(notedeck.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert notedeck.startswith(str(site))  # the README's install, not this checkout

    # `make decks` installs in editable mode (make install); that too prints nothing
    # (setuptools warns about an editable install of a layout it cannot map simply).
    done = subprocess.run(
        ["make", "install", f"VENV={venv}"], cwd=clone, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr and "!!" not in done.stderr, done.stderr
