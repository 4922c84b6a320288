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


class ExportFormatError(ReclaimError):
    """A platform export (e.g. Telegram Desktop's result.json) is missing, malformed or not an export."""


class UnsafePath(ReclaimError):
    """An export names a file outside its own folder (absolute path, '..', a link out); it is never read."""


class TelegramError(ReclaimError):
    """Telegram refused or failed a request (bad room reference, invite expired, not authorised, ...)."""


class RoomNotFound(ReclaimError):
    """No room has that id."""


class EvidenceError(ReclaimError):
    """The evidence log, a hold, a key or a package cannot be used as asked (what and why in the message)."""


class HoldNotFound(EvidenceError):
    """No evidence hold has that id."""


class PackageInvalid(EvidenceError):
    """An evidence package failed verification; `problems` lists every check that broke."""

    exit_code = 2

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class CaseNotFound(ReclaimError):
    """No case has that reference or id."""


class CaseExists(ReclaimError):
    """A case with that reference already exists."""


class ConsentMissing(ReclaimError):
    """The case's recorded consent does not cover what was asked (e.g. face search), or it was withdrawn."""


class FaceNotUsable(ReclaimError):
    """A photo cannot be enrolled: no face, several faces, or a face too small to compare."""


class NotAuthenticated(ReclaimError):
    """No valid token or session was given; log in again or ask an admin for a token."""


class Forbidden(ReclaimError):
    """The user's role or case assignments do not allow this action."""


class UserExists(ReclaimError):
    """A user with that name already exists."""


class NotFound(ReclaimError):
    """A match, user, request or webhook with that id does not exist (or is outside the user's cases)."""


class InvalidTransition(ReclaimError):
    """A review decision or takedown status change that the current state does not allow."""


class DestinationRefused(ReclaimError):
    """A takedown destination cannot take this request (e.g. an adult's images to a child-protection hotline)."""


class NoPreview(ReclaimError):
    """There is nothing to show: the original was not held (hash-only), or it is not an image."""
