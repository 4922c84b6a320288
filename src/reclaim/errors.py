"""Typed errors whose messages tell a caseworker what happened to which item and what to do next.

Every error Reclaim raises on purpose derives from `ReclaimError`; the CLI prints its message without a
traceback. Anything else is a bug.
"""


class ReclaimError(Exception):
    """Base class: the message is complete and actionable on its own."""

    exit_code = 1


class UnsupportedMedia(ReclaimError):
    """The bytes could not be used as an image or a video (corrupt, truncated, not media)."""


class MediaTooLarge(UnsupportedMedia):
    """The item exceeds a configured decode limit (bytes, pixels, duration, frames)."""


class InvalidSignal(ReclaimError):
    """A signal value (a hash) is malformed for its signal type."""


class UnknownSignalType(InvalidSignal):
    """A signal type name Reclaim does not know."""


class ExchangeFormatError(ReclaimError):
    """A hash exchange file has invalid lines; nothing was imported."""

    def __init__(self, message: str, bad_lines: list[tuple[int, str]]) -> None:
        super().__init__(message)
        self.bad_lines = bad_lines


class BankNotFound(ReclaimError):
    """No bank has that name."""


class BankExists(ReclaimError):
    """A bank with that name already exists."""


class WorkspaceError(ReclaimError):
    """The workspace (home folder, database, settings file) cannot be used."""


class ConfigError(ReclaimError):
    """A setting has a value Reclaim cannot use."""


class NothingProcessed(ReclaimError):
    """A command had input but none of it could be processed."""
