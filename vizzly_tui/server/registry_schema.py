"""The server registry's schema and its one-time import of the Vizzly CLI's servers.json.

Its one job is to bring `$VIZZLY_HOME/servers.db` to the current schema and fill it from
servers.json once, following the state store's bootstrap: file lock, ownership checks, WAL,
peewee-migrate on a foreign_keys=OFF connection. Every failure is a StoreError subclass.
It also holds the table's shape (COLUMNS, `server_row`), which registry.py shares.

Process rule (sqlite-peewee-migrate.md §2.6, §2.8): `ensure_registry_schema` may run a
peewee-migrate Router. All Routers share one module-level MigrateHistory and the fake replay
mocks `execute_sql` process-wide, so call it while no other Router runs (never concurrently
with store.bootstrap.ensure_schema) and before other database threads start.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import peewee as pw
from filelock import FileLock, Timeout

from vizzly_tui.errors import (
    CorruptDatabase,
    ForeignDatabase,
    NewerDatabase,
    ReadOnlyStore,
    StoreError,
)
from vizzly_tui.store.bootstrap import APPLICATION_ID, LOCK_TIMEOUT_S, MIGRATION_TABLE, check_file

log = logging.getLogger(__name__)

DB_NAME = "servers.db"
LOCK_NAME = "servers.db.lock"
LEGACY_JSON = "servers.json"
LEGACY_FLAG = "legacy_json_migrated"

# The `server` table's columns, in order (registry.py camelCases them for ServerInfo).
COLUMNS = ("id", "port", "pid", "directory", "started_at", "config_path", "name", "log_file")
_INSERT = f'INSERT INTO "server" ({", ".join(COLUMNS)}) VALUES ({", ".join("?" * len(COLUMNS))})'
# foreign_keys OFF for the same reason as the state DB: later table rebuilds must not cascade.
_MIGRATION_PRAGMAS = {"foreign_keys": 0, "busy_timeout": 30_000}

# One registry Router at a time in this process (MigrateHistory is one module-level class
# that each Router rebinds); the file lock covers other processes.
_MIGRATE_LOCK = threading.Lock()


def registry_migrations_dir() -> Path:
    """The packaged registry migrations (top-level `migrations/registry`, in the wheel)."""
    return Path(str(resources.files("vizzly_tui.migrations") / "registry"))


def packaged_registry_migrations() -> list[str]:
    files = registry_migrations_dir().iterdir()
    return sorted(p.stem for p in files if p.suffix == ".py" and p.stem[:3].isdigit())


# ---------------------------------------------------------------- schema and legacy import


def store_error(path: Path, exc: Exception) -> StoreError:
    """A database error on `path` as the StoreError subclass that says what to do."""
    message = str(exc)
    if "not a database" in message or "malformed" in message:
        return CorruptDatabase(f"{path} is damaged ({message}). Move it aside and retry.")
    if "readonly" in message or "read-only" in message:
        return ReadOnlyStore(f"{path} cannot be written: {message}")
    return StoreError(f"{path}: {message}")


@contextmanager
def _locked_connection(home: Path) -> Iterator[pw.SqliteDatabase]:
    """A foreign_keys=OFF connection to servers.db, held under the inter-process file lock.

    Database errors come out as StoreError subclasses naming the file.
    """
    path = home / DB_NAME
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create {home}: {exc.strerror or exc}") from exc
    check_file(path)
    lock = FileLock(str(home / LOCK_NAME), timeout=LOCK_TIMEOUT_S)
    with _MIGRATE_LOCK:
        try:
            lock.acquire()
        except Timeout as exc:
            raise StoreError(
                f"another vizzly-tui process has held {lock.lock_file} for {LOCK_TIMEOUT_S} s"
            ) from exc
        except OSError as exc:  # read-only or foreign-owned home
            raise ReadOnlyStore(f"cannot lock {lock.lock_file}: {exc.strerror or exc}") from exc
        try:
            check_file(path)  # again: another process may have created it while we waited
            db = pw.SqliteDatabase(
                str(path), timeout=30, lock_type="IMMEDIATE", pragmas=_MIGRATION_PRAGMAS
            )
            try:
                db.connect()
                yield db
            except (pw.DatabaseError, sqlite3.DatabaseError) as exc:
                raise store_error(path, exc) from exc
            finally:
                db.close()
        finally:
            lock.release()


def _check_owner(db: pw.Database, path: Path) -> list[str]:
    """Return the applied migration names; refuse foreign or newer databases."""
    rows = db.execute_sql("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
    tables = {r[0] for r in rows}
    if MIGRATION_TABLE not in tables:
        if "registry_servers" in tables:
            raise ForeignDatabase(
                f"{path} was written by the Vizzly CLI's own SQLite server registry, not by "
                "vizzly-tui; vizzly-tui will not touch it. Move it aside to use the registry."
            )
        if tables:
            raise ForeignDatabase(
                f"{path} holds tables of another application ({', '.join(sorted(tables)[:5])}); "
                "vizzly-tui will not touch it."
            )
        return []
    # Both our databases record "001_initial"; registry_meta tells a copied state.db apart.
    if "registry_meta" not in tables:
        raise ForeignDatabase(
            f"{path} is not a vizzly-tui server registry (another database was copied "
            "there?); vizzly-tui will not touch it."
        )
    done = [r[0] for r in db.execute_sql(f"SELECT name FROM {MIGRATION_TABLE} ORDER BY id")]
    known = set(packaged_registry_migrations())
    unknown = [name for name in done if name not in known]
    if unknown:
        raise NewerDatabase(
            f"{path} was written by a newer vizzly-tui (unknown migrations: "
            f"{', '.join(unknown)}). Upgrade vizzly-tui to use the server registry."
        )
    return done


def ensure_registry_schema(home: Path) -> None:
    """Create or migrate `home/servers.db`. Safe to race between processes."""
    path = home / DB_NAME
    with _locked_connection(home) as db:
        done = _check_owner(db, path)
        if db.execute_sql("PRAGMA journal_mode").fetchone()[0] != "wal":
            db.execute_sql("PRAGMA journal_mode = wal")
        if any(name not in done for name in packaged_registry_migrations()):
            # Imported late: peewee_migrate costs ~80 ms and is only needed when something runs.
            from peewee_migrate import Router

            Router(
                db,
                migrate_dir=registry_migrations_dir(),
                migrate_table=MIGRATION_TABLE,
                logger=logging.getLogger("vizzly_tui.migrate"),
            ).run()
        if db.execute_sql("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            db.execute_sql(f"PRAGMA application_id = {APPLICATION_ID}")


@dataclass
class LegacyImport:
    """What one `import_legacy_servers` call did."""

    imported: int = 0
    skipped: int = 0
    warning: str | None = None  # set when servers.json could not be read (retried next time)


def import_legacy_servers(home: Path) -> LegacyImport:
    """Import `home/servers.json` once (after ensure_registry_schema), as upstream does.

    Not a migration: a file the Vizzly CLI was half-way through writing must be retried on
    the next open, and an applied migration never runs again. Done under the file lock, so
    racing processes import once. Never writes or deletes servers.json.
    """
    result = LegacyImport()
    source = home / LEGACY_JSON
    # One IMMEDIATE transaction from the flag check on: a server registering meanwhile (not
    # under the file lock) must not be replaced by a stale legacy row for its port.
    with _locked_connection(home) as db, db.atomic():
        flag = db.execute_sql(
            'SELECT "value" FROM "registry_meta" WHERE "key" = ?', (LEGACY_FLAG,)
        ).fetchone()
        if flag is not None and flag[0] == "1":
            return result
        in_use = db.execute_sql('SELECT 1 FROM "server" LIMIT 1').fetchone() is not None
        if in_use or not source.exists():
            # As upstream: once servers registered here, servers.json is stale history.
            _set_meta(db, LEGACY_FLAG, "1")
            return result
        try:
            entries = _read_legacy(source)
        except (OSError, ValueError) as exc:  # JSON and UTF-8 decode errors are ValueErrors
            result.warning = (
                f"could not read {source} ({exc}); the server registry starts without it "
                "and retries the import next time"
            )
            log.warning("%s", result.warning)
            return result
        for raw in entries:
            row = _legacy_row(raw)
            if row is None:
                result.skipped += 1
                continue
            # Later entries win, as in upstream's import (delete by port or directory).
            db.execute_sql(
                'DELETE FROM "server" WHERE "id" = ? OR "port" = ? OR "directory" = ?',
                (row["id"], row["port"], row["directory"]),
            )
            db.execute_sql(_INSERT, tuple(row.values()))
            result.imported += 1
        _set_meta(db, LEGACY_FLAG, "1")
    if result.imported or result.skipped:
        log.info(
            "imported %d servers from %s (%d skipped)", result.imported, source, result.skipped
        )
    return result


def _set_meta(db: pw.Database, key: str, value: str) -> None:
    db.execute_sql(
        'INSERT OR REPLACE INTO "registry_meta" ("key", "value", "updated_at") VALUES (?, ?, ?)',
        (key, value, int(time.time() * 1000)),
    )


def _read_legacy(source: Path) -> list[Any]:
    data = json.loads(source.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("servers", []), list):
        raise ValueError('not a {"version": 1, "servers": [...]} registry')
    return data.get("servers", [])


def _as_int(value: Any) -> int | None:
    """A JSON number as int; None for anything else (bools and strings included)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def valid_port_pid(port: int, pid: int) -> bool:
    # pid bound: real pids are far smaller, and a huge one would overflow SQLite and os.kill.
    return 0 < port < 65536 and 0 < pid < 2**31


def _opt_str(value: Any) -> str | None:
    return str(value) if isinstance(value, str | Path) and str(value) else None


def _legacy_row(raw: Any) -> dict[str, Any] | None:
    """A servers.json entry as a `server` row, or None when port, pid or directory is bad."""
    if not isinstance(raw, dict):
        return None
    port, pid, directory = _as_int(raw.get("port")), _as_int(raw.get("pid")), raw.get("directory")
    if port is None or pid is None or not valid_port_pid(port, pid):
        return None
    # A relative directory has no meaning outside the process that wrote it.
    if not isinstance(directory, str) or not Path(directory).is_absolute():
        return None
    started_at = _opt_str(raw.get("startedAt")) or now_iso()
    extra = (raw.get("configPath"), raw.get("name"), raw.get("logFile"))
    return server_row(
        _opt_str(raw.get("id")) or new_server_id(), port, pid, directory, started_at, *extra
    )


def server_row(
    id_: str, port: int, pid: int, directory: Path | str, started_at: str, *extra: Any
) -> dict[str, Any]:
    """A `server` row; `extra` = config_path, name, log_file (non-strings become NULL)."""
    values = (id_, port, pid, resolved_directory(directory), started_at, *map(_opt_str, extra))
    return dict(zip(COLUMNS, values, strict=True))


def new_server_id() -> str:
    """A new server id: random hex, like upstream's randomBytes(8)."""
    return secrets.token_hex(8)


def now_iso() -> str:
    """JavaScript's toISOString(): `2026-11-26T08:43:23.472Z`, so rows sort as text."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def resolved_directory(directory: Path | str) -> str:
    """The directory as stored: absolute, user expanded, symlinks resolved."""
    try:
        return str(Path(directory).expanduser().resolve())
    except (OSError, RuntimeError):  # symlink loop: keep the path as given
        return str(Path(directory))
