# The two set-up commands of the README: `make decks` builds decks/ from notes/,
# `make test` runs every check. Both create .venv and install what they need.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: decks test install install-test lint typecheck clean chromium

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-warn-script-location -e .

install-test: $(BIN)/python
	$(BIN)/python -m pip install --quiet --no-warn-script-location -e '.[test]'

decks: install
	$(BIN)/notedeck build notes --out decks

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-test
	$(BIN)/mypy

# The preview's browser test drives Debian's chromium; installed once, skipped if present.
# When it cannot be installed (no root, no network) that test is skipped with the reason.
chromium:
	@test -x /usr/bin/chromium || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq chromium; } || echo "chromium could not be installed; the browser test will be skipped."

test: install-test lint typecheck chromium
	$(BIN)/python -m pytest -q

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .notedeck-cache
