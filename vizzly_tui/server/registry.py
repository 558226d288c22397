"""The global registry of running TDD servers: `$VIZZLY_HOME/servers.db` (default ~/.vizzly).

It replaces the Vizzly CLI's `servers.json` as its SQLite PR does (vizzly-local-tdd.md §2.9);
servers.json is imported once and never written or deleted. Opening follows the state
store's bootstrap (file lock, ownership checks, WAL, peewee-migrate on a foreign_keys=OFF
connection); then a `Registry` reads on the caller's thread (read-only connection) and
writes through its own Writer thread. Every failure to open is a StoreError subclass, so a
server can warn and run without the registry.

Process rule (sqlite-peewee-migrate.md §2.6, §2.8): `ensure_registry_schema`/`Registry.open`
may run a peewee-migrate Router. All Routers share one module-level MigrateHistory and the
fake replay mocks `execute_sql` process-wide, so call them while no other Router runs (never
concurrently with store.bootstrap.ensure_schema) and before other database threads start.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping
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
from vizzly_tui.store.db import SplitDatabase
from vizzly_tui.store.writer import Writer

log = logging.getLogger(__name__)

DEFAULT_PORT = 47392
DB_NAME = "servers.db"
LOCK_NAME = "servers.db.lock"
LEGACY_JSON = "servers.json"
LEGACY_FLAG = "legacy_json_migrated"

# A server as upstream's registry returns it: id, port, pid, directory, startedAt,
# configPath, name, logFile (the columns below, camelCased).
ServerInfo = dict[str, Any]
COLUMNS = ("id", "port", "pid", "directory", "started_at", "config_path", "name", "log_file")
_CAMEL = {"started_at": "startedAt", "config_path": "configPath", "log_file": "logFile"}
_INSERT = f'INSERT INTO "server" ({", ".join(COLUMNS)}) VALUES ({", ".join("?" * len(COLUMNS))})'
# foreign_keys OFF for the same reason as the state DB: later table rebuilds must not cascade.
_MIGRATION_PRAGMAS = {"foreign_keys": 0, "busy_timeout": 30_000}

# One registry Router at a time in this process (MigrateHistory is one module-level class
# that each Router rebinds); the file lock covers other processes.
_MIGRATE_LOCK = threading.Lock()

# The registry's own proxy, never vizzly_tui.store.models.database: the state store binds
# that one in the same process. It is never initialised: each Registry binds subclasses to
# its own database (Registry.__init__), and an accidental use of the class fails loudly.
database = pw.DatabaseProxy()


class Server(pw.Model):
    id = pw.TextField(primary_key=True)  # random hex, like upstream's randomBytes(8)
    port = pw.IntegerField(unique=True)
    pid = pw.IntegerField()
    directory = pw.TextField(unique=True)  # str(Path.resolve())
    started_at = pw.TextField(index=True)  # ISO-8601 UTC with ms, like upstream's startedAt
    config_path = pw.TextField(null=True)
    name = pw.TextField(null=True)
    log_file = pw.TextField(null=True)

    class Meta:
        database = database
        table_name = "server"


def vizzly_home(env: Mapping[str, str] | None = None) -> Path:
    """`$VIZZLY_HOME`, else `~/.vizzly` (the Vizzly CLI's rule)."""
    value = (os.environ if env is None else env).get("VIZZLY_HOME")
    return Path(value).expanduser() if value else Path.home() / ".vizzly"


def registry_migrations_dir() -> Path:
    """The packaged registry migrations (top-level `migrations/registry`, in the wheel)."""
    return Path(str(resources.files("vizzly_tui.migrations") / "registry"))


def packaged_registry_migrations() -> list[str]:
    files = registry_migrations_dir().iterdir()
    return sorted(p.stem for p in files if p.suffix == ".py" and p.stem[:3].isdigit())


# ---------------------------------------------------------------- schema and legacy import


def _store_error(path: Path, exc: Exception) -> StoreError:
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
                raise _store_error(path, exc) from exc
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


def _valid(port: int, pid: int) -> bool:
    # pid bound: real pids are far smaller, and a huge one would overflow SQLite and os.kill.
    return 0 < port < 65536 and 0 < pid < 2**31


def _opt_str(value: Any) -> str | None:
    return str(value) if isinstance(value, str | Path) and str(value) else None


def _legacy_row(raw: Any) -> dict[str, Any] | None:
    """A servers.json entry as a `server` row, or None when port, pid or directory is bad."""
    if not isinstance(raw, dict):
        return None
    port, pid, directory = _as_int(raw.get("port")), _as_int(raw.get("pid")), raw.get("directory")
    if port is None or pid is None or not _valid(port, pid):
        return None
    # A relative directory has no meaning outside the process that wrote it.
    if not isinstance(directory, str) or not Path(directory).is_absolute():
        return None
    started_at = _opt_str(raw.get("startedAt")) or _now_iso()
    extra = (raw.get("configPath"), raw.get("name"), raw.get("logFile"))
    return _row(_opt_str(raw.get("id")) or _new_id(), port, pid, directory, started_at, *extra)


def _row(
    id_: str, port: int, pid: int, directory: Path | str, started_at: str, *extra: Any
) -> dict[str, Any]:
    """A `server` row; `extra` = config_path, name, log_file (non-strings become NULL)."""
    values = (id_, port, pid, _resolved(directory), started_at, *map(_opt_str, extra))
    return dict(zip(COLUMNS, values, strict=True))


def _new_id() -> str:
    return secrets.token_hex(8)


def _now_iso() -> str:
    """JavaScript's toISOString(): `2026-11-26T08:43:23.472Z`, so rows sort as text."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _resolved(directory: Path | str) -> str:
    try:
        return str(Path(directory).expanduser().resolve())
    except (OSError, RuntimeError):  # symlink loop: keep the path as given
        return str(Path(directory))


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (upstream's `kill(pid, 0)` test)."""
    if pid <= 0:
        return False  # kill(0 or -n, 0) would test a process group
    if os.name == "nt":
        return True  # os.kill(pid, 0) terminates the process on Windows: never sweep there
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except OSError:  # EPERM: exists, another user's; anything else: keep the row
        return True
    return True


# ---------------------------------------------------------------- the registry


def _bind(db: pw.Database) -> type[Server]:
    """A subclass of Server bound to `db`."""
    meta = type("Meta", (), {"database": db, "table_name": "server"})
    return type("Server", (Server,), {"Meta": meta, "__module__": __name__})


def _info(row: Mapping[str, Any]) -> ServerInfo:
    return {_CAMEL.get(column, column): row[column] for column in COLUMNS}


class Registry:
    """An open servers.db: reads on the caller's thread, writes on its own Writer thread."""

    def __init__(self, home: Path, db: SplitDatabase, writer: Writer, legacy: LegacyImport):
        self.home = home
        self.path = db.path
        self.legacy = legacy
        self._db = db
        self._writer = writer
        self._closed = False
        # Bound per instance rather than by initialising the module's proxy: a proxy is one
        # slot per process, and two open registries (tests, several homes) would share it.
        self._server = _bind(db)

    @classmethod
    def open(cls, home: Path | None = None) -> Registry:
        """Migrate, import servers.json once, start the writer. Raises StoreError subclasses."""
        home = vizzly_home() if home is None else Path(home)
        ensure_registry_schema(home)
        legacy = import_legacy_servers(home)
        db = SplitDatabase(home / DB_NAME)
        writer = Writer(db, name="vizzly-registry-writer")
        try:
            writer.start()
        except (pw.DatabaseError, sqlite3.DatabaseError, OSError) as exc:
            raise _store_error(db.path, exc) from exc
        return cls(home, db, writer, legacy)

    @property
    def warnings(self) -> list[str]:
        """Messages for the user from opening (an unreadable servers.json)."""
        return [self.legacy.warning] if self.legacy.warning else []

    def register(
        self,
        *,
        port: int,
        pid: int,
        directory: Path | str,
        name: str | None = None,
        log_file: str | None = None,
        config_path: str | None = None,
    ) -> ServerInfo:
        """Record a running server, replacing any row with the same port or directory."""
        if type(port) is not int or type(pid) is not int or not _valid(port, pid):
            raise ValueError(f"bad port {port!r} or pid {pid!r}")
        row = _row(_new_id(), port, pid, directory, _now_iso(), config_path, name, log_file)
        model = self._server

        def write() -> None:  # one transaction: nobody sees the port or directory twice
            model.delete().where(
                (model.port == port) | (model.directory == row["directory"])
            ).execute()
            model.insert(row).execute()

        self._writer.call(write)
        return _info(row)

    def _where(self, port: int | None, directory: Path | str | None) -> pw.Expression:
        model = self._server
        if port is None and directory is None:
            raise ValueError("give a port, a directory or both")
        if directory is None:
            return model.port == port
        by_directory = model.directory == _resolved(directory)
        return by_directory if port is None else (model.port == port) & by_directory

    def unregister(self, *, port: int | None = None, directory: Path | str | None = None) -> int:
        """Delete the matching row(s); with both given, a row must match both. Returns count."""
        condition = self._where(port, directory)
        model = self._server
        return self._writer.call(lambda: model.delete().where(condition).execute())

    def find(
        self, *, port: int | None = None, directory: Path | str | None = None
    ) -> ServerInfo | None:
        """The server on this port and/or for this directory, or None."""
        row = self._server.select().where(self._where(port, directory)).dicts().first()
        return _info(row) if row else None

    def list(self) -> list[ServerInfo]:
        """Every registered server, oldest first (upstream orders by startedAt ascending)."""
        model = self._server
        return [_info(r) for r in model.select().order_by(model.started_at, model.id).dicts()]

    def used_ports(self) -> set[int]:
        return {port for (port,) in self._server.select(self._server.port).tuples()}

    def cleanup_stale(self) -> int:
        """Remove rows whose process is gone. Returns how many."""
        model = self._server

        def sweep() -> int:  # on the writer, so a register() in between cannot be removed
            dead = [r.id for r in model.select(model.id, model.pid) if not pid_alive(r.pid)]
            return model.delete().where(model.id.in_(dead)).execute() if dead else 0

        return self._writer.call(sweep)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._writer.stop()
        self._db.close()  # this thread's read-only connection

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---------------------------------------------------------------- ports


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether `host:port` can be bound right now (a test bind, closed at once)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # Off, explicitly: on, Windows lets a bind steal a port a live server holds, and a
        # port another socket still holds (even in TIME_WAIT) should count as taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 0)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def find_free_port(
    start: int = DEFAULT_PORT,
    *,
    registry: Registry | None = None,
    attempts: int = 100,
    host: str = "127.0.0.1",
) -> int | None:
    """The first port from `start` that no live registered server claims and that binds.

    Registered ports count as attempts (as upstream). None when none is free: upstream's
    SQLite registry returns null, where its older JSON registry returned `start` anyway.
    """
    used: set[int] = set()
    if registry is not None:
        registry.cleanup_stale()
        used = registry.used_ports()
    for port in range(max(start, 1), min(start + attempts, 65536)):  # 0 = "any port"
        if port not in used and port_is_free(port, host):
            return port
    return None
