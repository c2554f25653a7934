"""Text from notes made safe to print: a terminal shows its control characters, never obeys them."""

from __future__ import annotations

import re

# C0 controls but tab and newline, DEL, and C1 controls (U+009B is a CSI on its own):
# enough to set a window title, write the clipboard (OSC 52), fake a hyperlink or a line.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` with each control character shown as U+FFFD instead."""
    return _CONTROL.sub("\ufffd", text)


def json_escaped(encoded: str) -> str:
    """JSON text with DEL and the C1 controls written as \\u escapes too (json.dumps
    escapes only C0 ones when it keeps non-ASCII characters as they are). They occur only
    inside strings, where the escape means the same character."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", encoded)
