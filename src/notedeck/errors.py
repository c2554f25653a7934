"""The errors notedeck's library raises; only the CLI turns them into exit codes."""

from __future__ import annotations


class NotedeckError(Exception):
    """Base of every error notedeck raises on purpose."""


class ConfigError(NotedeckError):
    """The configuration is invalid; the message names the file, line and key."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message


class NoteError(NotedeckError):
    """One note cannot be read at all; the rest of the vault still builds."""

    def __init__(self, path: str, line: int, code: str, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.code = code
        self.message = message


class TemplateError(NotedeckError):
    """A card template or question pattern file is broken."""


class NotALock(NotedeckError):
    """The lock setting names a file that is not a notedeck lock: it is never overwritten."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"{path}:1: this file is not a notedeck lock, and the build would write the lock "
            "over it; nothing was written. Point `lock =` in the configuration (or --lock) "
            "at a file of its own, e.g. notedeck.lock beside the notes folder."
        )
        self.path = path


class LockChanged(NotedeckError):
    """The lock file changed on disk while a build read it; nothing was written."""

    def __init__(self, path: str) -> None:
        super().__init__(
            f"{path}:1: the lock file changed during the build (another build, or a git "
            "checkout?); nothing was written: run the build again."
        )
        self.path = path


class LockConflict(NotedeckError):
    """The lock holds a git merge conflict that cannot be resolved; nothing was written."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line
        self.message = message
