"""Bring `.vizzly/state.db` to the current schema, once, whoever starts first.

Every command runs `ensure_schema` before it opens the store. Under an inter-process file
lock it: checks the file is ours (SQLite header, application_id, migration names); converts
to WAL; runs pending peewee-migrate migrations on a `foreign_keys=OFF` connection (table
rebuilds must not cascade), then `PRAGMA foreign_key_check`; and finishes or rolls back
review decisions a crash left pending. Migration 001 imports the Vizzly CLI's JSON files.
See sqlite-peewee-migrate.md §2.6 for why each step is there.
"""

from __future__ import annotations

import logging
import os
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import peewee as pw
from filelock import FileLock, Timeout

from vizzly_tui.errors import (
    CorruptDatabase,
    DiskFull,
    ForeignDatabase,
    NewerDatabase,
    NotADatabase,
    ReadOnlyStore,
    StoreError,
    disk_full_message,
    is_disk_full,
)
from vizzly_tui.project import Project

log = logging.getLogger(__name__)

# "VZTU": stamped into the SQLite header so another tool's database is told apart from ours.
APPLICATION_ID = 0x565A5455
SQLITE_HEADER = b"SQLite format 3\x00"
MIGRATION_TABLE = "migratehistory"
LOCK_TIMEOUT_S = 120


def migrations_dir() -> Path:
    """The packaged state migrations (top-level `migrations/state`, shipped in the wheel)."""
    return Path(str(resources.files("vizzly_tui.migrations") / "state"))


def packaged_migrations() -> list[str]:
    return sorted(
        p.stem for p in migrations_dir().iterdir() if p.suffix == ".py" and p.stem[:3].isdigit()
    )


@dataclass
class BootstrapReport:
    applied: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    created: bool = False
    notices: list[str] = field(default_factory=list)


def location_is_read_only(project: Project) -> bool:
    folder = project.vizzly_dir
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        pass
    return not os.access(folder, os.W_OK)


def check_project_db(path: Path) -> None:
    """`check_file`, and refuse a state.db that is a symbolic link: SQLite would follow it
    and write the database, its -wal and -shm outside `.vizzly/` (even create a dangling
    link's target), where nothing else of the project lives."""
    if path.is_symlink():
        raise NotADatabase(
            f"{path} is a symbolic link (to {os.readlink(path)}): vizzly-tui keeps state.db "
            "inside .vizzly/ and does not follow it. Replace the link with the file itself."
        )
    check_file(path)


def check_file(path: Path) -> None:
    """Refuse a file that is not SQLite, or an SQLite file stamped by another application."""
    if not path.exists():
        return
    if path.is_dir():
        raise NotADatabase(f"{path} is a directory, not a database. Move it away and retry.")
    if not path.is_file():
        # A FIFO would block the first read forever; a device is nobody's database.
        raise NotADatabase(
            f"{path} is not a regular file (a FIFO, socket or device), not a database. "
            "Move it away and retry."
        )
    try:
        # O_NONBLOCK: should it be swapped for a FIFO after the check, open still returns.
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as fh:
            header = fh.read(100)
    except BlockingIOError:
        header = b"not a regular file"
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from exc
    if len(header) == 0:
        return  # an empty file is a valid empty database
    if not header.startswith(SQLITE_HEADER):
        raise NotADatabase(
            f"{path} is not an SQLite database (damaged or overwritten). "
            "Move it aside; the next command rebuilds it from the legacy JSON files if present."
        )
    if len(header) >= 72:
        app_id = int.from_bytes(header[68:72], "big")
        if app_id not in (0, APPLICATION_ID):
            raise ForeignDatabase(
                f"{path} belongs to another application (application_id {app_id:#x}); "
                "vizzly-tui will not touch it."
            )


def _tables(db: pw.Database) -> set[str]:
    rows = db.execute_sql("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    return {r[0] for r in rows}


def check_schema_owner(db: pw.Database, path: Path) -> list[str]:
    """Return the applied migration names; refuse foreign or newer databases."""
    tables = _tables(db)
    if MIGRATION_TABLE not in tables:
        if "schema_migrations" in tables and "comparisons" in tables:
            raise ForeignDatabase(
                f"{path} was written by the Vizzly CLI's own SQLite store, not by vizzly-tui. "
                "Move it aside: vizzly-tui will import the JSON files instead."
            )
        if tables:
            raise ForeignDatabase(
                f"{path} holds tables of another application ({', '.join(sorted(tables)[:5])}); "
                "vizzly-tui will not touch it."
            )
        return []
    done = [r[0] for r in db.execute_sql(f"SELECT name FROM {MIGRATION_TABLE} ORDER BY id")]
    check_history(done, path)
    unknown = [name for name in done if name not in set(packaged_migrations())]
    if unknown:
        raise NewerDatabase(
            f"{path} was written by a newer vizzly-tui (unknown migrations: {', '.join(unknown)}). "
            "Upgrade vizzly-tui to use this project."
        )
    return done


MIGRATION_NAME = re.compile(r"\d{3}_[A-Za-z0-9_]+")


def damaged_message(path: Path, what: str) -> str:
    """What a user reads when state.db is damaged, and what to do."""
    return (
        f"{path} is damaged ({what}). vizzly-tui will not write to it. Run `vizzly-tui doctor "
        "--repair`: it renames the file (with its -wal and -shm) to state.db.damaged-<time>, "
        "never overwriting it, and builds a new one from what is still readable, baselines/ "
        "and objects/. Or restore state.db from a backup (move state.db-wal and state.db-shm "
        "away first: SQLite would replay them into the restored file)."
    )


def check_history(done: list[object], path: Path) -> None:
    """A migration history whose names are not migration names is damage, not a newer
    version: say so (exit 3) instead of failing on the garbage (issue 7, defect 4)."""
    for name in done:
        if not isinstance(name, str) or not MIGRATION_NAME.fullmatch(name):
            raise CorruptDatabase(
                damaged_message(path, f"its migration history holds {name!r:.40}")
            )


# `PRAGMA quick_check` reads every page (about 0.25 s per 100 MB here): run at every open up
# to this size; past it, damage is still caught when a statement meets it (Writer, server).
QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024
DAMAGE_WORDS = ("malformed", "not a database", "disk image", "corrupt")


def is_damage(exc: BaseException) -> bool:
    """True for SQLite's ways of saying the file is damaged (SQLITE_CORRUPT, SQLITE_NOTADB)."""
    if not isinstance(exc, sqlite3.DatabaseError | pw.DatabaseError):
        return False
    message = str(exc).lower()
    return any(word in message for word in DAMAGE_WORDS)


def quick_check(db: pw.Database | sqlite3.Connection, path: Path) -> None:
    """Refuse a damaged file before anything reads or writes rows in it."""
    try:
        if path.stat().st_size > QUICK_CHECK_MAX_BYTES:
            return
    except OSError:
        return
    execute = db.execute_sql if isinstance(db, pw.Database) else db.execute
    try:
        rows = [r[0] for r in execute("PRAGMA quick_check(5)").fetchall()]
    except (sqlite3.DatabaseError, pw.DatabaseError) as exc:
        if not is_damage(exc):
            raise
        rows = [str(exc)]
    if rows != ["ok"]:
        raise CorruptDatabase(damaged_message(path, "; ".join(str(r) for r in rows)[:300]))


def pending_migrations(done: list[str]) -> list[str]:
    applied = set(done)
    return [name for name in packaged_migrations() if name not in applied]


def _open_migration_connection(path: Path) -> pw.SqliteDatabase:
    # foreign_keys OFF: peewee-migrate's table rebuilds would otherwise cascade-delete children.
    return pw.SqliteDatabase(
        str(path),
        timeout=30,
        lock_type="IMMEDIATE",
        pragmas={"foreign_keys": 0, "busy_timeout": 30_000},
    )


Progress = Callable[[int, int], None]


def ensure_schema(project: Project, progress: Progress | None = None) -> BootstrapReport:
    """Create or migrate the database and recover interrupted decisions. Safe to race.

    `progress(done, total)` follows the long step of a first start in a large Vizzly CLI
    project (keeping the imported images); it is not called otherwise."""
    path = project.db_path
    check_project_db(path)
    if location_is_read_only(project):
        raise ReadOnlyStore(
            f"{project.vizzly_dir} is read-only: vizzly-tui cannot create or update state.db here."
        )
    report = BootstrapReport(created=not path.exists())
    try:
        with FileLock(str(project.lock_path), timeout=LOCK_TIMEOUT_S):
            _ensure_schema_locked(project, report, progress)
    except Timeout as exc:
        raise StoreError(
            f"another vizzly-tui process has held {project.lock_path} for {LOCK_TIMEOUT_S} s; "
            "is one stuck migrating?"
        ) from exc
    except OSError as exc:  # the lock file, a folder, or an image kept in objects/
        if is_disk_full(exc, project.vizzly_dir):
            raise _disk_full(project) from exc
        raise
    return report


def build_schema(project: Project) -> BootstrapReport:
    """`ensure_schema` for a caller that already holds the project lock (doctor --repair,
    building its new file under a temporary name)."""
    report = BootstrapReport(created=not project.db_path.exists())
    _ensure_schema_locked(project, report)
    return report


def _disk_full(project: Project) -> DiskFull:
    # Every step above is a transaction or a temp-name-then-rename: a failed one left the
    # database as it was (or not yet created) and no file half-written.
    return DiskFull(
        disk_full_message(
            project.vizzly_dir, "state.db could not be opened or updated; nothing was changed"
        )
    )


def _ensure_schema_locked(
    project: Project, report: BootstrapReport, progress: Progress | None = None
) -> None:
    path = project.db_path
    check_project_db(path)  # again: another process may have created it while we waited
    project.ensure_dirs()
    if not path.exists() or path.stat().st_size == 0:
        _keep_orphaned_journal(path, report)
    db = _open_migration_connection(path)
    try:
        db.connect()
        if report.created is False and path.stat().st_size == 0:
            report.notices.append(
                f"{path} was empty (0 bytes): a new database was created in it"
                + (", and the Vizzly CLI's JSON files imported." if project.legacy_files() else ".")
                + " Any review history it held before is not recoverable from it."
            )
        # Before anything is written: a damaged file is left exactly as it is (defect 7).
        quick_check(db, path)
        done = check_schema_owner(db, path)
        if db.execute_sql("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute_sql("PRAGMA journal_mode = wal")
        if pending_migrations(done):
            # Imported late: peewee_migrate costs ~80 ms and is only needed when something runs.
            from peewee_migrate import Router

            router = Router(
                db,
                migrate_dir=migrations_dir(),
                migrate_table=MIGRATION_TABLE,
                logger=logging.getLogger("vizzly_tui.migrate"),
            )
            report.applied = router.run()
            violations = db.execute_sql("PRAGMA foreign_key_check").fetchall()
            if violations:
                raise CorruptDatabase(
                    f"{path}: migration left {len(violations)} foreign-key violations "
                    f"(first: {violations[0]}). Restore a backup or move the file aside."
                )
        from vizzly_tui.store import import_images

        # Right after 001 imported the JSON files (it records no image hashes): current/
        # and baselines/ hold the imported build's images only until the next run. Or at
        # the next start, when a crash cut the first one short after 001 committed.
        imported_now = any(str(name).startswith("001_") for name in report.applied or ())
        if imported_now or import_images.pending(db):
            import_images.keep_imported_images(db, project, progress)
        if db.execute_sql("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            db.execute_sql(f"PRAGMA application_id = {APPLICATION_ID}")
        from vizzly_tui.store.recovery import recover

        report.recovered = recover(db, project)
    except UnicodeDecodeError as exc:
        # sqlite3 fails decoding SQLite's own "malformed database schema" message.
        raise CorruptDatabase(damaged_message(path, "its schema text is not readable")) from exc
    except (pw.DatabaseError, sqlite3.DatabaseError) as exc:
        message = str(exc)
        if is_disk_full(exc, project.vizzly_dir):
            raise _disk_full(project) from exc
        if is_damage(exc):
            raise CorruptDatabase(damaged_message(path, message)) from exc
        if "readonly" in message or "read-only" in message:
            raise ReadOnlyStore(f"{path} cannot be written: {message}") from exc
        raise StoreError(f"{path}: {message}") from exc
    finally:
        db.close()


def _keep_orphaned_journal(path: Path, report: BootstrapReport) -> None:
    """A `state.db-wal` left without its `state.db` (deleted, or copied without it) holds
    that file's last committed changes: creating a new database beside it would destroy it
    (or replay its pages into the new file). It is kept aside, never deleted."""
    import time

    wal = path.with_name(path.name + "-wal")
    try:
        size = wal.lstat().st_size
    except FileNotFoundError:
        size = None
    if size:
        kept = free_name(path.with_name(f"{wal.name}.orphaned-{time.strftime('%Y%m%dT%H%M%S')}"))
        os.rename(wal, kept)
        report.notices.append(
            f"{wal} was left without the database it belongs to (its last {size} bytes of "
            f"changes): kept as {kept.name}, and a new {path.name} was created."
        )
    elif size == 0:
        wal.unlink()
    # The WAL's index: rebuilt from the WAL, and meaningless without it.
    path.with_name(path.name + "-shm").unlink(missing_ok=True)


def free_name(path: Path) -> Path:
    """`path`, or `path.2`, `path.3`...: the first name nothing (not even a link) holds."""
    candidate, n = path, 1
    while candidate.exists() or candidate.is_symlink():
        n += 1
        candidate = path.with_name(f"{path.name}.{n}")
    return candidate


def integrity_check(path: Path) -> list[str]:
    """`PRAGMA integrity_check` on a read-only connection: ['ok'] when healthy."""
    from vizzly_tui.store.db import readonly_uri

    conn = sqlite3.connect(readonly_uri(path), uri=True)
    try:
        return [r[0] for r in conn.execute("PRAGMA integrity_check")]
    finally:
        conn.close()
