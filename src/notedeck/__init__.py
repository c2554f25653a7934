"""notedeck: Markdown study notes in, Anki decks out."""

from notedeck.build import BuildReport, build
from notedeck.config import Config

__version__ = "0.1.0"
__all__ = ["BuildReport", "Config", "__version__", "build"]
