"""`vizzly-tui doctor --repair`: a new state.db from what can still be read.

The damaged file is never written: it (with its -wal and -shm) is renamed to
`state.db.damaged-<time>` beside the new one. What comes back:

- every row the old file still yields, table by table (all of them when only a few pages
  are damaged; nothing when it was deleted, is not SQLite or belongs to another tool);
- every image in `baselines/`: a baseline row with its bytes' sha256 (kept in objects/)
  and a baseline version. With no row left to say which screenshot a file is, the signature
  is found again from the file name, whose last 12 hex digits are sha256(signature)[:12]:
  candidates from the name and the picture's width (`name|<width>|<browser>`) are hashed
  until one matches. Files whose signature cannot be found are listed as not recovered
  (they stay in baselines/, untouched);
- a baseline row whose file is missing gets its recorded bytes back from objects/.

The comparisons of lost builds are not made up: the next run records them again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vizzly_tui.errors import StoreError, UsageError
from vizzly_tui.project import Project
from vizzly_tui.statuses import DecisionState
from vizzly_tui.store import bootstrap, files
from vizzly_tui.store.db import readonly_uri
from vizzly_tui.store.repair_files import (
    baselines_from_files,
    printable_name,
    recover_signature,
    unlinked_objects,
)

__all__ = ["RepairResult", "printable_name", "recover_signature", "repair", "salvage"]

# Where salvage rolls a copy back (removed after; a killed repair's by the next one).
SALVAGE_PREFIX = files.TEMP_PREFIX + "salvage-"
# Copy order: parents before children, so foreign keys hold as rows go in.
TABLES = (
    "build",
    "comparison",
    "comparison_detail",
    "baseline",
    "decision",
    "baseline_version",
    "hotspot",
    "region",
    "setting",
)
# Links that may be cleared when the row they point at could not be read (ON DELETE SET NULL).
NULLABLE_LINKS = {
    "baseline": ("origin_build_id",),
    "decision": ("build_id", "comparison_id", "undoes_id"),
    "baseline_version": ("decision_id",),
}


@dataclass
class RepairResult:
    moved_aside: list[str] = field(default_factory=list)
    salvaged: dict[str, int] = field(default_factory=dict)  # table -> rows carried over
    unreadable: dict[str, str] = field(default_factory=dict)  # table -> why it stopped
    baselines_from_files: list[str] = field(default_factory=list)
    baselines_restored: list[str] = field(default_factory=list)  # put back from objects/
    not_recovered: list[str] = field(default_factory=list)
    # Images in objects/ no surviving record ties to a screenshot (earlier baseline versions
    # or old screenshots, when the rows were lost): kept on disk, not linked.
    unlinked_objects: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "movedAside": self.moved_aside,
            "salvaged": self.salvaged,
            "unreadable": self.unreadable,
            "baselinesFromFiles": self.baselines_from_files,
            "baselinesRestored": self.baselines_restored,
            "notRecovered": self.not_recovered,
            "unlinkedObjects": self.unlinked_objects,
        }


def salvage(path: Path) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """Every row still readable in `path`, per table; and why a table stopped short."""
    rows: dict[str, list[dict[str, Any]]] = {}
    problems: dict[str, str] = {}
    if not path.is_file():
        return rows, {"*": "state.db does not exist"}
    try:
        bootstrap.check_file(path)
    except StoreError as exc:
        return rows, {"*": str(exc)}
    with _rolled_back(path) as source:
        return _salvage(source, rows, problems)


@contextlib.contextmanager
def _rolled_back(path: Path) -> Iterator[Path]:
    """`path`, or, when a `-journal` lies beside it (a write killed in rollback mode), a copy
    of both in a temporary folder of .vizzly/ on which SQLite has rolled that write back: a
    read-only connection cannot, and fails with "attempt to write a readonly database". The
    original stays byte for byte as it was, for the copy kept aside."""
    import tempfile

    journal = path.with_name(path.name + "-journal")
    if not (journal.is_file() and journal.stat().st_size):
        yield path
        return
    folder = Path(tempfile.mkdtemp(prefix=SALVAGE_PREFIX, dir=path.parent))
    try:
        copy = folder / path.name
        try:
            shutil.copyfile(path, copy)
            shutil.copyfile(journal, folder / journal.name)
            conn = sqlite3.connect(copy)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # rolls back
            finally:
                conn.close()
        except (OSError, sqlite3.Error):
            copy = path  # no room for a copy, or the journal cannot be replayed: read as is
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _salvage(
    path: Path, rows: dict[str, list[dict[str, Any]]], problems: dict[str, str]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    try:
        conn = sqlite3.connect(readonly_uri(path), uri=True)
    except sqlite3.Error as exc:
        return rows, {"*": str(exc)}
    conn.row_factory = sqlite3.Row
    try:
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            done = [r[0] for r in conn.execute("SELECT name FROM migratehistory")]
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            return rows, {"*": f"its schema cannot be read ({exc})"}
        if any(m not in bootstrap.packaged_migrations() for m in done if isinstance(m, str)):
            return rows, {"*": "it was written by a newer vizzly-tui"}
        for table in TABLES:
            if table not in names:
                continue
            got: list[dict[str, Any]] = []
            try:
                for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
                    got.append(dict(row))
            except (sqlite3.Error, UnicodeDecodeError) as exc:
                problems[table] = str(exc)
            rows[table] = got
    finally:
        conn.close()
    return rows, problems


def repair(project: Project) -> RepairResult:
    """Build a new state.db and swap it in for the old one (kept beside it).

    The new file is built under a temporary name while this process holds the project lock
    (no command, capture or other repair runs meanwhile); only when it is complete does the
    old file (with its -wal and -shm) move aside and the new one take its name. A repair that
    fails or is killed before that leaves state.db exactly as it was; the next one starts
    over. The caller holds no store open.
    """
    path = project.db_path
    project.ensure_dirs()
    with files_lock(project):
        _refuse_if_in_use(path)
        staging = path.with_name(path.name + STAGING_SUFFIX)
        _remove_database(staging)  # a copy a killed repair was building: never the original
        for leftover in path.parent.glob(SALVAGE_PREFIX + "*"):  # a killed repair's salvage copy
            shutil.rmtree(leftover, ignore_errors=True)
        result = RepairResult()
        rows, problems = salvage(path)
        result.unreadable = problems
        try:
            _build(project, staging, rows, result)
            # Again: a process may have opened the old file while the new one was built.
            _refuse_if_in_use(path)
            _swap(path, staging, result)
        finally:
            _remove_database(staging)
    return result


def _refuse_if_in_use(path: Path) -> None:
    if database_in_use(path):
        raise DatabaseInUse(
            f"{path} is open in another vizzly-tui process (the review app, a server or "
            "a command): close it, then repair. Its changes would go to the old file."
        )


class DatabaseInUse(UsageError):
    """Another process has state.db open: a new file would not be seen by it."""


# A database file and the files SQLite pairs with it by name.
COMPANIONS = ("", "-wal", "-shm", "-journal")
# The new database is built here, beside state.db, then renamed over.
STAGING_SUFFIX = ".repair-new"


def database_in_use(path: Path) -> bool:
    """True when another process has `path` open in WAL mode: each SQLite connection holds a
    shared lock on byte 128 of the -shm file (its "DMS" slot) for as long as it is open, so
    an exclusive lock there fails exactly then."""
    try:
        import fcntl
    except ImportError:  # Windows: SQLite locks there differently; the server check remains
        return False
    try:
        fd = os.open(path.with_name(path.name + "-shm"), os.O_RDWR | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False  # no -shm: no connection in WAL mode
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 128, os.SEEK_SET)
    except OSError:
        return True
    finally:
        os.close(fd)  # releases the probe's lock too
    return False


@dataclass(frozen=True)
class _Staging(Project):
    """The project with its state.db under the staging name (migration 001 reads the legacy
    JSON files from the database's own folder: the same .vizzly/)."""

    staging: Path = Path()

    @property
    def db_path(self) -> Path:
        return self.staging


def _build(
    project: Project, staging: Path, rows: dict[str, list[dict[str, Any]]], result: RepairResult
) -> None:
    # A new database exactly as a first start makes it (legacy JSON is imported if present).
    bootstrap.build_schema(_Staging(project.root, staging))
    conn = sqlite3.connect(staging, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN IMMEDIATE")
        if rows:
            _copy_rows(conn, rows, result)
        baselines_from_files(project, conn, result)
        result.unlinked_objects = unlinked_objects(project, conn)
        conn.execute("COMMIT")
        # Everything into the main file: it is renamed alone, without a -wal.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("PRAGMA journal_mode = delete")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()
    files._fsync_file(staging)


def _swap(path: Path, staging: Path, result: RepairResult) -> None:
    """Old file (with its -wal, -shm and -journal) aside under one free name, then the new
    one in. A -journal left behind would be "rolled back" into the new file at its first
    open, overwriting its pages with the old file's."""
    stamp = time.strftime("%Y%m%dT%H%M%S")
    base = aside_name(path, stamp)
    for suffix in COMPANIONS:
        old = path.with_name(path.name + suffix)
        if old.exists() or old.is_symlink():
            target = base.with_name(base.name + suffix)
            os.rename(old, target)  # a rename, never a copy over: the bytes stay as they were
            result.moved_aside.append(target.name)
    os.rename(staging, path)
    files._fsync_dir(path.parent)


def aside_name(path: Path, stamp: str) -> Path:
    """`state.db.damaged-<stamp>` (or `...-<stamp>.2`, ...) such that neither it nor its
    `-wal` and `-shm` exist: SQLite pairs a file with `<name>-wal`, so the kept file and its
    WAL must share one name or the kept copy opens without its last changes."""
    n = 1
    while True:
        base = path.with_name(f"{path.name}.damaged-{stamp}" + (f".{n}" if n > 1 else ""))
        names = [base.with_name(base.name + s) for s in COMPANIONS]
        if not any(p.exists() or p.is_symlink() for p in names):
            return base
        n += 1


def _remove_database(path: Path) -> None:
    for suffix in COMPANIONS:
        path.with_name(path.name + suffix).unlink(missing_ok=True)


def files_lock(project: Project) -> Any:
    from vizzly_tui.store.decisions import project_lock

    return project_lock(project)


def _copy_rows(
    conn: sqlite3.Connection, rows: dict[str, list[dict[str, Any]]], result: RepairResult
) -> None:
    # A legacy import may have filled tables of the new file: the old file's rows win (they
    # include everything the import made, and the review history since).
    for table in reversed(TABLES):
        if rows.get(table):
            conn.execute(f'DELETE FROM "{table}"')
    for table in TABLES:
        columns = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
        copied = 0
        for row in rows.get(table, ()):
            values = {k: v for k, v in row.items() if k in columns}
            names = ", ".join(f'"{k}"' for k in values)
            marks = ", ".join("?" for _ in values)
            sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
            try:
                try:
                    conn.execute(sql, list(values.values()))
                except sqlite3.IntegrityError:
                    # Its parent row was on a damaged page: keep the row, unlinked.
                    for column in NULLABLE_LINKS.get(table, ()):
                        if column in values:
                            values[column] = None
                    conn.execute(sql, list(values.values()))
                copied += 1
            except sqlite3.IntegrityError as exc:
                result.not_recovered.append(f"{table} row {row.get('id', '?')}: {exc}")
        result.salvaged[table] = copied
    # A decision left pending in the old file cannot be settled against rows that may be
    # gone: it is kept in the log as failed, its files untouched.
    conn.execute(
        "UPDATE decision SET state = ? WHERE state = ?",
        (DecisionState.FAILED, DecisionState.PENDING),
    )
