"""Errors users meet, each with the stable exit code of architecture.md ("Errors users see")."""

from __future__ import annotations

EXIT_OK = 0
EXIT_DIFFERENCES = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3
EXIT_SERVER = 4
# Done in part: some of what was asked was applied, the rest was skipped or could not be
# rolled back; the message (and --json) lists which.
EXIT_PARTIAL = 5


class VizzlyError(Exception):
    """An error with a message for the user and an exit code for scripts."""

    exit_code = EXIT_USAGE


class UsageError(VizzlyError):
    exit_code = EXIT_USAGE


class StoreError(VizzlyError):
    """Something is wrong with `.vizzly/state.db` or where it lives."""

    exit_code = EXIT_DATABASE


class NotADatabase(StoreError):
    """state.db is not an SQLite file (or is damaged beyond opening)."""


class CorruptDatabase(StoreError):
    """state.db is SQLite but fails its integrity check."""


class DatabaseMoved(CorruptDatabase):
    """state.db was deleted or replaced by another file while this process had it open: what
    it would write would go to a file no one else sees, while the image files move."""


class ForeignDatabase(StoreError):
    """state.db belongs to another application."""


class NewerDatabase(StoreError):
    """state.db was migrated by a newer vizzly-tui."""


class ReadOnlyStore(StoreError):
    """A write was needed but the project or its database cannot be written."""


class FilesError(StoreError):
    """An image file under .vizzly/ could not be written or removed (permissions, space)."""


class NotFound(VizzlyError):
    """A comparison, build or baseline the user named does not exist."""

    exit_code = EXIT_USAGE


class PartlyApplied(VizzlyError):
    """A command failed and part of what it did could not be rolled back: it says what."""

    exit_code = EXIT_PARTIAL


class ServerError(VizzlyError):
    exit_code = EXIT_SERVER
