"""A project's open state store: the database object, its writer, and how it was opened.

Long-running processes (server, app) open the store once at start-up and hand it to the
routes and screens that need it; commands open it for their one job. Opening bootstraps the
schema first (migrations, legacy import, crash recovery), unless the project is on a
read-only filesystem, where the store opens read-only with a notice.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

import peewee as pw

from vizzly_tui.errors import CorruptDatabase, DatabaseMoved, ReadOnlyStore, StoreError
from vizzly_tui.project import Project
from vizzly_tui.store import bootstrap
from vizzly_tui.store.db import SplitDatabase, open_database
from vizzly_tui.store.writer import Writer

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Store:
    project: Project
    db: SplitDatabase | None
    writer: Writer | None = None
    read_only: bool = False
    notices: list[str] = field(default_factory=list)
    bootstrap_report: bootstrap.BootstrapReport | None = None

    @property
    def exists(self) -> bool:
        """False when the project has no state.db yet (nothing was ever recorded)."""
        return self.db is not None

    def submit(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> Future[T]:
        return self._require_writer().submit(fn, *args, **kwargs)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self._require_writer().call(fn, *args, **kwargs)

    @property
    def damaged(self) -> str | None:
        """Why the store is damaged (then it is never written again), else None."""
        return self.writer.damaged if self.writer is not None else None

    def ensure_writable(self) -> None:
        """Raise now what a write would raise (read-only, damaged, the database deleted or
        replaced): for work that writes files before its command (a capture's diff image)."""
        self._require_writer().check()

    def ensure_current(self) -> None:
        """Raise DatabaseMoved when state.db was deleted or replaced since it was opened: open
        read connections still read the old file, which no one else sees any more. A file
        damaged in place is not refused here: reads answer what they still can."""
        if self.writer is None:
            return
        try:
            self.writer.check()
        except DatabaseMoved:
            raise
        except CorruptDatabase:
            pass

    def _require_writer(self) -> Writer:
        if self.writer is None:
            reason = " ".join(self.notices) or "the store was opened for reading only"
            raise ReadOnlyStore(f"cannot change {self.project.db_path}: {reason}")
        return self.writer

    def data_version(self) -> int:
        if self.db is None:
            return 0
        return self.db.data_version()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.stop(drain=True)
            self.writer = None
        if self.db is not None and not self.db.is_closed():
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_store(
    project: Project, *, write: bool = True, progress: bootstrap.Progress | None = None
) -> Store:
    """Open the project's store. `write=False` opens readers only (no writer thread).
    `progress(done, total)`: the first start's long step in a large Vizzly CLI project."""
    path = project.db_path
    bootstrap.check_project_db(path)
    if bootstrap.location_is_read_only(project):
        return _open_read_only_location(project)
    if not write and not path.exists() and not project.legacy_files():
        # A reader creates nothing: with no state and no legacy files there is nothing to show.
        return Store(project, None, read_only=True)
    report = bootstrap.ensure_schema(project, progress)
    db = open_database(path)
    store = Store(project, db, bootstrap_report=report, notices=list(report.notices))
    if write:
        store.writer = Writer(db).start()
    return store


def _open_read_only_location(project: Project) -> Store:
    path = project.db_path
    notice = f"{project.vizzly_dir} is read-only: opened read-only, changes are not possible."
    if not path.exists():
        if project.legacy_files():
            raise ReadOnlyStore(
                f"{project.vizzly_dir} is read-only, so its Vizzly JSON files cannot be imported "
                "into state.db. Run vizzly-tui once where the folder is writable."
            )
        return Store(project, None, read_only=True, notices=[notice])
    bootstrap.check_project_db(path)
    wal = path.with_name(path.name + "-wal")
    # A WAL database opens on a read-only filesystem only as immutable, and immutable ignores
    # the -wal file: say so when that file holds commits we cannot see.
    immutable = True
    if wal.exists() and wal.stat().st_size > 0:
        notice += " Recent changes in state.db-wal are not visible until it is checkpointed."
    db = open_database(path, immutable_reads=immutable)
    try:
        bootstrap.quick_check(db, path)
        done = [r[0] for r in db.execute_sql("SELECT name FROM migratehistory")]
        bootstrap.check_history(done, path)
    except (pw.DatabaseError, sqlite3.DatabaseError) as exc:
        db.close()
        if bootstrap.is_damage(exc):
            raise CorruptDatabase(bootstrap.damaged_message(path, str(exc))) from exc
        raise StoreError(f"cannot read {path}: {exc}") from exc
    except StoreError:
        db.close()
        raise
    pending = bootstrap.pending_migrations(done)
    if pending:
        db.close()
        raise ReadOnlyStore(
            f"{path} needs migrations ({', '.join(pending)}) but {project.vizzly_dir} is read-only."
        )
    return Store(project, db, read_only=True, notices=[notice])
