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


class ProjectBusy(StoreError):
    """Another process held the project lock longer than this request could wait: nothing was
    done, and trying again later may work (HTTP 503, not a fault of ours)."""


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


class DiskFull(FilesError):
    """The disk holding .vizzly/ has no space left (ENOSPC, SQLITE_FULL)."""


# Below this much free space, an SQLite I/O error is taken for a full disk: SQLite cannot
# grow its -shm (32 KiB) or -wal file and says "disk I/O error", not "disk is full".
NEARLY_FULL_BYTES = 256 * 1024


def no_space_left(folder: object) -> bool:
    """True when the filesystem holding `folder` has (almost) no space left for us."""
    import os

    try:
        st = os.statvfs(str(folder))
    except (OSError, ValueError):
        return False
    # root may write into the blocks a filesystem reserves; others may not.
    free = st.f_bfree if hasattr(os, "geteuid") and os.geteuid() == 0 else st.f_bavail
    return free * st.f_frsize < NEARLY_FULL_BYTES


def is_disk_full(exc: BaseException, folder: object = None) -> bool:
    """True when `exc` (or what it wraps) says the disk is full: ENOSPC or EDQUOT, SQLite's
    SQLITE_FULL, or an SQLite I/O error while `folder`'s filesystem has no space left."""
    import errno

    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        name = str(getattr(e, "sqlite_errorname", "") or "")
        text = str(e)
        if name == "SQLITE_FULL" or "database or disk is full" in text:
            return True
        io_error = name.startswith("SQLITE_IOERR") or "disk I/O error" in text
        if io_error and folder is not None and no_space_left(folder):
            return True
        # peewee wraps sqlite3's error as its first argument.
        stack.extend([e.__cause__, e.__context__])
        stack.extend(a for a in e.args if isinstance(a, BaseException))
    return False


def disk_full_message(folder: object = ".vizzly/", what: str = "") -> str:
    """What a user reads when the disk is full, and what to do."""
    return (
        f"the disk holding {folder} is full (no space left on the device)"
        + (f": {what}" if what else "")
        + ". Free some space there, then retry."
    )
