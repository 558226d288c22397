"""`vizzly-tui doctor`: is this project's `.vizzly/` healthy, and if not, what to do.

Read-only: it opens state.db with read-only connections, migrates nothing, settles nothing
and removes nothing (the commands it recommends do that); it may wait for the project lock
to check again what a decision in progress could explain. Each finding has a severity:
`error` (state.db cannot be used, or a baseline or its history is lost or disagrees with the
database), `warning` (something to tidy: interrupted decisions, missing diffs, stale server
files, unreferenced images) or `note` (nothing wrong, for information).

Exit codes: 0 healthy (notes only), 1 warnings only, 3 errors (DOCTOR_EXIT_* in doctor_report).
The checks of rows against files are in doctor_files.
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from vizzly_tui.doctor_files import baseline_files, check_rows
from vizzly_tui.doctor_report import (
    CONFIRM_LOCK_S,
    DOCTOR_EXIT_ERRORS,
    DOCTOR_EXIT_HEALTHY,
    DOCTOR_EXIT_WARNINGS,
    REPAIR,
    DoctorReport,
    Finding,
)
from vizzly_tui.errors import (
    StoreError,
    disk_full_message,
    is_disk_full,
    no_space_left,
)
from vizzly_tui.project import Project
from vizzly_tui.store import bootstrap
from vizzly_tui.store.db import readonly_uri

__all__ = [
    "DOCTOR_EXIT_ERRORS",
    "DOCTOR_EXIT_HEALTHY",
    "DOCTOR_EXIT_WARNINGS",
    "DoctorReport",
    "Finding",
    "diagnose",
    "doctor_text",
]


def diagnose(project: Project) -> DoctorReport:
    """Never raises for what it finds: whatever stops a check (a file that cannot be read,
    a value no one expected) is a finding, so the exit code and --json stay the documented
    ones (an uncaught error would exit 1, which means "warnings only").

    Checked without the project lock first. A running server or command can show a
    decision half-way (its row pending, a baseline file not yet renamed into place): when
    such findings come up, they are checked again holding the lock, which every decision
    holds from its pending row to its last file, so only what stays wrong is reported.
    """
    report = _diagnose(project)
    if not any(f.check in IN_PROGRESS_CHECKS and f.severity != "note" for f in report.findings):
        return report
    if bootstrap.location_is_read_only(project):
        return report  # nothing can be writing there
    from filelock import Timeout

    from vizzly_tui.store.decisions import project_lock

    try:
        with project_lock(project, timeout=CONFIRM_LOCK_S):
            return _diagnose(project)
    except Timeout:
        report.add(
            "note",
            "decisions",
            "another vizzly-tui process kept the project busy: some of these findings may be "
            "work in progress.",
            "run `vizzly-tui doctor` again when it is done",
        )
        return report
    except OSError:
        return report  # no lock can be taken here: then no decision is under way either


# The checks whose findings a decision in progress can cause.
IN_PROGRESS_CHECKS = ("baselines", "decisions")


def _diagnose(project: Project) -> DoctorReport:
    report = DoctorReport(str(project.vizzly_dir))
    conn = _guarded(report, "database", _check_database, project, report)
    if conn is not None:
        try:
            check_rows(project, conn, report)
        except sqlite3.DatabaseError as exc:
            # The quick checks passed but a page read now fails: damage all the same.
            report.add("error", "database", f"state.db could not be read through: {exc}", REPAIR)
        except Exception as exc:
            _could_not_check(report, "baselines", exc)
        finally:
            conn.close()
    _guarded(report, "server", _check_server, project, report)
    return report


def _guarded(report: DoctorReport, check: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as exc:
        _could_not_check(report, check, exc)
        return None


def _could_not_check(report: DoctorReport, check: str, exc: Exception) -> None:
    report.add(
        "error",
        check,
        f"doctor could not finish this check: {type(exc).__name__}: {exc}",
        "run `vizzly-tui --debug doctor` for the details, and report it if it is not "
        "a problem of this machine (permissions, a failing disk)",
    )


# --- the database file ---------------------------------------------------------------------


def _check_database(project: Project, report: DoctorReport) -> sqlite3.Connection | None:
    path = project.db_path
    if not path.exists():
        _check_orphaned_wal(path, report)
        baselines = baseline_files(project)
        if project.legacy_files() and not _has_objects(project):
            # A Vizzly CLI project vizzly-tui has not opened yet (it would have kept images
            # in objects/): nothing is wrong.
            report.add(
                "note",
                "database",
                "state.db does not exist yet: the next command "
                "creates it and imports the Vizzly CLI's JSON files.",
            )
        elif baselines:
            report.add(
                "error",
                "database",
                f"{path} is missing but baselines/ holds {len(baselines)} image(s): their "
                "review history and versions are not known to vizzly-tui.",
                "run `vizzly-tui doctor --repair` to rebuild state.db from baselines/ and objects/",
            )
        else:
            report.add("note", "database", "state.db does not exist yet (nothing recorded).")
        return None
    try:
        bootstrap.check_project_db(path)  # as every command does: a link is refused
    except StoreError as exc:
        report.add("error", "database", str(exc), _action_for(exc))
        return None
    read_only = bootstrap.location_is_read_only(project)
    if read_only:
        report.add(
            "note",
            "database",
            f"{project.vizzly_dir} is read-only: vizzly-tui can "
            "show this project but not change it.",
        )
        wal = path.with_name(path.name + "-wal")
        if wal.is_file() and wal.stat().st_size:
            # Read-only, SQLite opens a WAL database as immutable, which ignores the -wal.
            report.add(
                "warning",
                "database",
                f"{wal.name} holds changes that cannot be read on a read-only folder: these "
                "checks saw state.db without them.",
                "run `vizzly-tui doctor` where the folder is writable for a verdict on them",
            )
    full = no_space_left(project.vizzly_dir)
    if full:
        report.add(
            "error",
            "database",
            disk_full_message(project.vizzly_dir, "vizzly-tui cannot write to this project"),
            "free some space on that disk, then run `vizzly-tui doctor` again",
        )
    try:
        conn = sqlite3.connect(readonly_uri(path, immutable=read_only), uri=True)
    except sqlite3.Error as exc:
        if not (full and is_disk_full(exc, project.vizzly_dir)):
            report.add("error", "database", f"{path} cannot be opened: {exc}", REPAIR)
        return None
    try:
        integrity = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(20)")]
        if integrity != ["ok"]:
            report.add(
                "error",
                "database",
                f"{path} fails its integrity check: {'; '.join(integrity)[:400]}",
                REPAIR,
            )
            conn.close()
            return None
        violations = conn.execute("PRAGMA foreign_key_check").fetchall()
        if violations:
            report.add(
                "error",
                "database",
                f"{path} has {len(violations)} row(s) pointing at "
                f"rows that do not exist (first: {tuple(violations[0])}).",
                REPAIR,
            )
        done = _migrations(conn, path)
    except StoreError as exc:
        conn.close()
        report.add("error", "database", str(exc), _action_for(exc))
        return None
    except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:
        conn.close()
        if full and is_disk_full(exc, project.vizzly_dir):
            # SQLite could not make its -shm file: not damage; said above, once.
            report.add(
                "note",
                "database",
                f"{path} was not checked: SQLite needs a little free space to open it "
                "(the disk being full is not damage).",
            )
            return None
        if _interrupted_write(exc, path, report):
            return None
        report.add("error", "database", f"{path} is damaged ({exc}).", REPAIR)
        return None
    pending = bootstrap.pending_migrations(done)
    if not done:
        report.add("note", "database", f"{path} is empty: the next command sets it up.")
        conn.close()
        return None
    version = max(int(m[:3]) for m in done)
    report.checked["schemaVersion"] = version
    if pending:
        report.add(
            "warning",
            "database",
            f"state.db is at schema version {version}; "
            f"migrations {', '.join(pending)} are pending.",
            "run `vizzly-tui db migrate` (any command that writes also does)",
        )
        conn.close()
        return None  # the row checks below expect the current schema
    return conn


def _interrupted_write(exc: Exception, path: Path, report: DoctorReport) -> bool:
    """SQLITE_READONLY_ROLLBACK: a process killed mid-write in rollback-journal mode (the
    first start converting a new or repaired file to WAL) left a hot `-journal`, which only a
    writing connection can roll back. That is SQLite's own crash recovery, not damage: a
    `--repair` advised here would rebuild the file without reading its rows."""
    journal = path.with_name(path.name + "-journal")
    if getattr(exc, "sqlite_errorname", "") != "SQLITE_READONLY_ROLLBACK":
        return False
    report.add(
        "warning",
        "database",
        f"{path} was not checked: {journal.name} holds a write that a killed or crashed "
        "process left unfinished; the next vizzly-tui command rolls it back (SQLite's own "
        "crash recovery: the file is not damaged).",
        "run `vizzly-tui db migrate` (or any command), then `vizzly-tui doctor` again",
    )
    return True


def _has_objects(project: Project) -> bool:
    try:
        return any(os.scandir(project.objects_dir))
    except OSError:
        return False


def _check_orphaned_wal(path: Path, report: DoctorReport) -> None:
    wal = path.with_name(path.name + "-wal")
    if wal.is_file() and wal.stat().st_size:
        report.add(
            "warning",
            "database",
            f"{wal} is left without {path.name}: it holds the last changes of a database "
            "that was deleted or moved without it.",
            f"if you restore {path.name} from a backup, keep {wal.name} away from it (SQLite "
            "would replay it into the wrong file); the next command keeps it aside as "
            f"{wal.name}.orphaned-<time>",
        )


def _migrations(conn: sqlite3.Connection, path: Path) -> list[str]:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}

    class _Db:  # check_schema_owner wants execute_sql; a read-only connection is enough
        def execute_sql(self, sql: str) -> sqlite3.Cursor:
            return conn.execute(sql)

    if bootstrap.MIGRATION_TABLE not in tables and not tables:
        return []
    return bootstrap.check_schema_owner(_Db(), path)  # type: ignore[arg-type]


def _action_for(exc: StoreError) -> str:
    from vizzly_tui.errors import ForeignDatabase, NewerDatabase

    if isinstance(exc, NewerDatabase):
        return "upgrade vizzly-tui (pip install -U vizzly-tui); do not repair this file"
    if isinstance(exc, ForeignDatabase):
        return (
            "move state.db elsewhere if it is not yours to keep; `vizzly-tui doctor --repair` "
            "moves it aside (never deleting it) and rebuilds from baselines/"
        )
    return REPAIR


# --- servers -------------------------------------------------------------------------------


def _check_server(project: Project, report: DoctorReport) -> None:
    from vizzly_tui.server.discovery import _pid_alive, _port_answers

    path = project.vizzly_dir / "server.json"
    if path.exists():
        try:
            data = json.loads(path.read_text())
            pid, port = int(data["pid"]), int(data["port"])
        except (OSError, ValueError, TypeError, KeyError, OverflowError):
            report.add(
                "warning",
                "server",
                f"{path} cannot be read, so SDKs cannot find a server through it.",
                f"remove {path} if no server is running",
            )
        else:
            if not (_pid_alive(pid) and _port_answers(port)):
                report.add(
                    "warning",
                    "server",
                    f"{path} names a server that is not running "
                    f"(pid {pid}, port {port}): SDKs would send screenshots to it.",
                    "run `vizzly-tui status` (it removes the stale file) or start "
                    "`vizzly-tui serve`",
                )
            else:
                report.add("note", "server", f"a server is running (pid {pid}, port {port}).")
    _check_registry(project, report)


def _check_registry(project: Project, report: DoctorReport) -> None:
    from vizzly_tui.server.registry import DB_NAME, pid_alive, vizzly_home

    path = vizzly_home() / DB_NAME
    if not path.is_file():
        return
    try:
        conn = sqlite3.connect(readonly_uri(path), uri=True)
        try:
            rows = conn.execute("SELECT pid, port, directory FROM server").fetchall()
        finally:
            conn.close()
    except sqlite3.Error as exc:
        report.add(
            "warning",
            "server",
            f"the server registry {path} cannot be read ({exc}).",
            f"move {path} aside; the next `vizzly-tui serve` creates a new one",
        )
        return
    stale = [
        f"port {port}, pid {pid}: {directory}"
        for pid, port, directory in rows
        if not pid_alive(int(pid))
    ]
    if stale:
        report.add(
            "warning",
            "server",
            f"{len(stale)} server(s) in {path} are no longer running.",
            "start `vizzly-tui serve` anywhere: it removes stale entries",
            stale,
        )


# --- text ----------------------------------------------------------------------------------


def doctor_text(report: DoctorReport) -> str:
    lines = [f"checked {report.project}"]
    if report.checked:
        lines.append("  " + ", ".join(f"{k}: {v}" for k, v in report.checked.items()))
    for f in report.findings:
        lines.append(f"{f.severity.upper()} [{f.check}] {f.message}")
        for item in f.items[:10]:
            lines.append(f"    {item}")
        if len(f.items) > 10:
            lines.append(f"    ... and {len(f.items) - 10} more")
        if f.action:
            lines.append(f"  -> {f.action}")
    verdict = {0: "healthy", 1: "usable, with warnings", 3: "problems found"}[report.exit_code]
    lines.append(f"{verdict} (exit {report.exit_code})")
    return "\n".join(lines)
