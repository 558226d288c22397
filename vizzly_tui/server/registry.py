"""The global registry of running TDD servers: `$VIZZLY_HOME/servers.db` (default ~/.vizzly).

It replaces the Vizzly CLI's `servers.json` as its SQLite PR does (vizzly-local-tdd.md §2.9);
servers.json is imported once and never written or deleted. Opening follows the state
store's bootstrap (file lock, ownership checks, WAL, peewee-migrate on a foreign_keys=OFF
connection); then a `Registry` reads on the caller's thread (read-only connection) and
writes through its own Writer thread. Every failure to open is a StoreError subclass, so a
server can warn and run without the registry. Creating and migrating servers.db and the
servers.json import are in registry_schema.py; this module re-exports their entry points.

Process rule (sqlite-peewee-migrate.md §2.6, §2.8): `ensure_registry_schema`/`Registry.open`
may run a peewee-migrate Router. All Routers share one module-level MigrateHistory and the
fake replay mocks `execute_sql` process-wide, so call them while no other Router runs (never
concurrently with store.bootstrap.ensure_schema) and before other database threads start.
"""

from __future__ import annotations

import os
import socket
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import peewee as pw

from vizzly_tui.server.registry_schema import (
    COLUMNS,
    DB_NAME,
    LEGACY_FLAG,
    LEGACY_JSON,
    LOCK_NAME,
    LegacyImport,
    ensure_registry_schema,
    import_legacy_servers,
    new_server_id,
    now_iso,
    packaged_registry_migrations,
    registry_migrations_dir,
    resolved_directory,
    server_row,
    store_error,
    valid_port_pid,
)
from vizzly_tui.store.db import SplitDatabase
from vizzly_tui.store.writer import Writer

# The schema and legacy-import names are registry_schema's, re-exported here so that callers
# keep importing them from this module.
__all__ = [
    "COLUMNS",
    "DB_NAME",
    "DEFAULT_PORT",
    "LEGACY_FLAG",
    "LEGACY_JSON",
    "LOCK_NAME",
    "LegacyImport",
    "Registry",
    "Server",
    "ServerInfo",
    "ensure_registry_schema",
    "find_free_port",
    "import_legacy_servers",
    "packaged_registry_migrations",
    "pid_alive",
    "port_is_free",
    "registry_migrations_dir",
    "vizzly_home",
]

DEFAULT_PORT = 47392

# A server as upstream's registry returns it: id, port, pid, directory, startedAt,
# configPath, name, logFile (the COLUMNS of the `server` table, camelCased).
ServerInfo = dict[str, Any]
_CAMEL = {"started_at": "startedAt", "config_path": "configPath", "log_file": "logFile"}

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
            raise store_error(db.path, exc) from exc
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
        if type(port) is not int or type(pid) is not int or not valid_port_pid(port, pid):
            raise ValueError(f"bad port {port!r} or pid {pid!r}")
        row = server_row(
            new_server_id(), port, pid, directory, now_iso(), config_path, name, log_file
        )
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
        by_directory = model.directory == resolved_directory(directory)
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
