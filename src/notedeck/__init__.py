"""notedeck: Markdown study notes in, Anki decks out."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from notedeck.build import BuildReport, build
    from notedeck.config import Config

__version__ = "0.1.0"
__all__ = ["BuildReport", "Config", "__version__", "build"]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `notedeck --help` does not load the whole pipeline.
    if name in ("BuildReport", "build"):
        import importlib

        return getattr(importlib.import_module("notedeck.build"), name)
    if name == "Config":
        from notedeck.config import Config

        return Config
    raise AttributeError(f"module 'notedeck' has no attribute {name!r}")
