"""`vizzly-tui doctor`: is this project's `.vizzly/` healthy, and if not, what to do.

Read-only: it opens state.db with read-only connections, migrates nothing, settles nothing
and removes nothing (the commands it recommends do that). Each finding has a severity:
`error` (state.db cannot be used, or a baseline or its history is lost or disagrees with the
database), `warning` (something to tidy: interrupted decisions, missing diffs, stale server
files, unreferenced images) or `note` (nothing wrong, for information).

Exit codes: 0 healthy (notes only), 1 warnings only, 3 errors (DOCTOR_EXIT_* below).
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vizzly_tui.errors import EXIT_DATABASE, StoreError
from vizzly_tui.project import Project
from vizzly_tui.store import bootstrap
from vizzly_tui.store.db import readonly_uri
from vizzly_tui.store.files import TEMP_PREFIX, looks_like_png, sha256_bytes
from vizzly_tui.store.repair import printable_name

# Files and rows younger than this may belong to work in progress (a capture, a diff image
# being written): the same age after which recovery sweeps temporary files.
IN_FLIGHT_S = 60
# How long doctor waits for the project lock to confirm what it found (a capture holds it
# for one screenshot; a review command for its whole decision).
CONFIRM_LOCK_S = 10
DOCTOR_EXIT_HEALTHY = 0
DOCTOR_EXIT_WARNINGS = 1
DOCTOR_EXIT_ERRORS = EXIT_DATABASE
IMAGE_KINDS = ("baselines", "current", "diffs")


@dataclass
class Finding:
    severity: str  # error | warning | note
    check: str  # database | baselines | comparisons | decisions | objects | server
    message: str  # what is wrong, in plain words
    action: str | None = None  # what to do about it
    items: list[str] = field(default_factory=list)  # the files or names concerned

    def to_json(self) -> dict[str, Any]:
        return {
            "severity": self.severity,
            "check": self.check,
            "message": self.message,
            "action": self.action,
            "items": self.items,
        }


@dataclass
class DoctorReport:
    project: str
    findings: list[Finding] = field(default_factory=list)
    checked: dict[str, int] = field(default_factory=dict)

    def add(
        self,
        severity: str,
        check: str,
        message: str,
        action: str | None = None,
        items: list[str] | None = None,
    ) -> None:
        self.findings.append(Finding(severity, check, message, action, items or []))

    @property
    def exit_code(self) -> int:
        severities = {f.severity for f in self.findings}
        if "error" in severities:
            return DOCTOR_EXIT_ERRORS
        if "warning" in severities:
            return DOCTOR_EXIT_WARNINGS
        return DOCTOR_EXIT_HEALTHY

    @property
    def healthy(self) -> bool:
        return self.exit_code == DOCTOR_EXIT_HEALTHY

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "healthy": self.healthy,
            "exitCode": self.exit_code,
            "checked": self.checked,
            "findings": [f.to_json() for f in self.findings],
        }


REPAIR = "run `vizzly-tui doctor --repair` (it keeps the damaged file beside the new one)"


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
            _check_rows(project, conn, report)
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
        baselines = _baseline_files(project)
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
    try:
        conn = sqlite3.connect(readonly_uri(path, immutable=read_only), uri=True)
    except sqlite3.Error as exc:
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


# --- rows against files --------------------------------------------------------------------


def _check_rows(project: Project, conn: sqlite3.Connection, report: DoctorReport) -> None:
    vizzly = project.vizzly_dir
    rows = conn.execute("SELECT file_name, sha256 FROM baseline ORDER BY file_name").fetchall()
    report.checked["baselines"] = len(rows)
    if project.baselines_dir.is_symlink():
        report.add(
            "error",
            "baselines",
            f"{project.baselines_dir} is a symbolic link: vizzly-tui keeps baselines inside "
            ".vizzly/ and does not follow it.",
            "replace the link with the folder itself",
        )
    elif project.baselines_dir.exists() and not project.baselines_dir.is_dir():
        report.add(
            "error",
            "baselines",
            f"{project.baselines_dir} is a file, not a folder: no baseline can be read or written.",
            "move it away; `vizzly-tui doctor --repair` then puts back the baselines whose "
            "bytes are kept in objects/",
        )
    else:
        _check_baseline_files(project, rows, report)

    versions = conn.execute(
        "SELECT sha256, max(size) FROM baseline_version GROUP BY sha256"
    ).fetchall()
    lost = []
    for sha, size in versions:
        kind, length = _object_state(project.object_path(sha))
        if kind != "file":
            lost.append(f"objects/{sha}.png")
        elif size is not None and length != size:
            # The size recorded with the version: a cheap test that finds a file cut short
            # (hashing every kept image could take minutes on a large project).
            lost.append(f"objects/{sha}.png ({length} bytes, {size} recorded: cut short)")
    report.checked["baselineVersions"] = len(versions)
    if lost:
        report.add(
            "error",
            "baselines",
            f"{len(lost)} earlier baseline version(s) have lost "
            "their image in objects/, or it is damaged (they can no longer be restored).",
            "restore .vizzly/objects/ from a backup if you have one",
            lost,
        )

    current = conn.execute(
        "SELECT id FROM build WHERE kind IN ('run','serve','import') "
        "ORDER BY started_at DESC, id DESC LIMIT 1"
    ).fetchone()
    absent, absent_history = [], []
    count = 0
    # A screenshot recorded in the last minute may still have its diff image on the way
    # (written after the answer, on a low-priority thread): not missing yet.
    settled_before = time.time() * 1000 - IN_FLIGHT_S * 1000
    for build_id, name, cur, diff, status, cur_sha, updated in conn.execute(
        "SELECT build_id, name, current, diff, status, current_sha256, updated_at FROM comparison"
    ):
        count += 1
        if current is not None and build_id == current[0]:
            if updated is not None and updated > settled_before:
                continue
            for url in (cur, diff if status in ("failed", "rejected") else None):
                rel = _image_relative(url)
                if rel and not (vizzly / rel).is_file():
                    absent.append(rel)
        elif cur_sha and not project.object_path(cur_sha).is_file():
            absent_history.append(f"{name} (objects/{cur_sha}.png)")
    report.checked["comparisons"] = count
    if absent:
        report.add(
            "warning",
            "comparisons",
            f"{len(absent)} image(s) of the current build's comparisons are missing.",
            "run your tests again (or `vizzly-tui run`) to capture them anew",
            sorted(set(absent)),
        )
    if absent_history:
        report.add(
            "warning",
            "comparisons",
            f"{len(absent_history)} screenshot(s) of older "
            "builds are no longer kept in objects/; their history shows no picture.",
            None,
            absent_history,
        )

    _check_decisions(conn, report)
    _check_objects(project, conn, report)


def _check_baseline_files(
    project: Project, rows: list[tuple[str, str]], report: DoctorReport
) -> None:
    missing, changed, broken, odd = [], [], [], []
    for file_name, sha in rows:
        label = f"baselines/{printable_name(str(file_name))}"
        if not file_name or "/" in file_name or file_name in (".", ".."):
            odd.append(f"{label} (a file name that leaves baselines/: not read)")
            continue
        kind, data = _read_image_file(project.baselines_dir / file_name)
        if kind == "missing":
            missing.append(label)
        elif kind != "file":
            odd.append(f"{label} ({kind})")
        elif sha and sha256_bytes(data) != sha:
            (changed if looks_like_png(data) else broken).append(label)
    if missing:
        report.add(
            "error",
            "baselines",
            f"{len(missing)} baseline image(s) recorded in state.db are missing from baselines/.",
            "restore them from a backup or version control; `vizzly-tui doctor "
            "--repair` puts back those whose bytes are kept in objects/",
            missing,
        )
    if changed:
        report.add(
            "error",
            "baselines",
            f"{len(changed)} baseline image(s) differ from the "
            "bytes state.db recorded (changed outside vizzly-tui).",
            "if the change was meant, `vizzly-tui doctor --repair` records the files as "
            "they are; otherwise restore them from backup or version control",
            changed,
        )
    if broken or odd:
        report.add(
            "error",
            "baselines",
            f"{len(broken) + len(odd)} baseline(s) recorded in state.db are not a whole PNG "
            "image on disk (cut short, empty, another format, a link or a folder).",
            "move them out of baselines/ and run `vizzly-tui doctor --repair`: it puts back "
            "the recorded bytes kept in objects/",
            broken + odd,
        )
    known = {f for f, _ in rows}
    strays, junk = [], []
    folder = project.baselines_dir
    for entry in sorted(os.scandir(folder) if folder.is_dir() else (), key=lambda e: e.name):
        if entry.name in known or not entry.name.endswith(".png"):
            continue
        if entry.name.startswith(TEMP_PREFIX):
            continue
        label = f"baselines/{printable_name(entry.name)}"
        kind, data = _read_image_file(Path(entry.path))
        if kind == "file" and looks_like_png(data) and _utf8(entry.name):
            strays.append(label)
        elif kind == "file":
            why = "not a whole PNG" if _utf8(entry.name) else "a name that is not UTF-8"
            junk.append(f"{label} ({why})")
        elif kind != "missing":
            junk.append(f"{label} ({kind})")
    if strays:
        report.add(
            "warning",
            "baselines",
            f"{len(strays)} image(s) in baselines/ are not recorded in state.db.",
            "`vizzly-tui doctor --repair` records those whose screenshot it can identify",
            strays,
        )
    if junk:
        report.add(
            "warning",
            "baselines",
            f"{len(junk)} file(s) in baselines/ are not images vizzly-tui can use "
            "(not read: links are never followed).",
            "move them out of baselines/",
            junk,
        )


def _read_image_file(path: Path) -> tuple[str, bytes]:
    """("file", its bytes) for a regular file; else ("missing" | what it is, b"").
    A link is never followed (it may lead out of .vizzly/), a FIFO never opened."""
    try:
        st = path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return "missing", b""
    if stat.S_ISLNK(st.st_mode):
        return "a symbolic link, not followed", b""
    if stat.S_ISDIR(st.st_mode):
        return "a folder", b""
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file", b""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as fh:
        return "file", fh.read()


def _object_state(path: Path) -> tuple[str, int]:
    try:
        st = path.lstat()
    except (FileNotFoundError, NotADirectoryError):
        return "missing", 0
    return ("file" if stat.S_ISREG(st.st_mode) else "other"), st.st_size


def _utf8(name: str) -> bool:
    try:
        name.encode()
    except UnicodeEncodeError:
        return False
    return True


def _image_relative(url: str | None) -> str | None:
    """`/images/current/x.png` -> `current/x.png` (None for anything else)."""
    if not url or not url.startswith("/images/"):
        return None
    rel = url[len("/images/") :]
    kind, _, name = rel.partition("/")
    if kind not in IMAGE_KINDS or not name or "/" in name or name in (".", ".."):
        return None
    return rel


def _check_decisions(conn: sqlite3.Connection, report: DoctorReport) -> None:
    rows = conn.execute(
        "SELECT state, action, coalesce(name, cid, signature, '') "
        "FROM decision WHERE state IN ('pending', 'failed')"
    ).fetchall()
    report.checked["decisions"] = conn.execute("SELECT count(*) FROM decision").fetchone()[0]
    pending = [f"{a} of {n}" for s, a, n in rows if s == "pending"]
    failed = [f"{a} of {n}" for s, a, n in rows if s == "failed"]
    if pending:
        report.add(
            "warning",
            "decisions",
            f"{len(pending)} decision(s) were interrupted "
            "(a crash or kill while they were applied).",
            "run `vizzly-tui db migrate` (or any command that writes): it finishes or "
            "rolls back each one",
            pending,
        )
    if failed:
        report.add(
            "warning",
            "decisions",
            f"{len(failed)} interrupted decision(s) could not be "
            "settled; the files they touched were left as they were.",
            "check those baselines with `vizzly-tui baselines` and accept or undo again",
            failed,
        )


def _check_objects(project: Project, conn: sqlite3.Connection, report: DoctorReport) -> None:
    folder = project.objects_dir
    if not folder.is_dir():
        return
    from vizzly_tui.store import gc
    from vizzly_tui.store.db import open_database
    from vizzly_tui.store.models import ALL_MODELS

    db = open_database(project.db_path, immutable_reads=bootstrap.location_is_read_only(project))
    try:
        with db.bind_ctx(ALL_MODELS):
            keep = gc.referenced_objects()
    finally:
        db.close()
    orphans, orphan_bytes, temps, objects = [], 0, [], 0
    for entry in os.scandir(folder):
        if not entry.is_file(follow_symlinks=False):
            continue
        if entry.name.startswith(TEMP_PREFIX):
            # Younger ones may be a write in progress (recovery sweeps the same age).
            if entry.stat(follow_symlinks=False).st_mtime < time.time() - IN_FLIGHT_S:
                temps.append(f"objects/{entry.name}")
        elif gc.OBJECT_NAME.match(entry.name):
            objects += 1
            if entry.name[:64] not in keep:
                orphans.append(entry.name)
                orphan_bytes += entry.stat(follow_symlinks=False).st_size
    report.checked["objects"] = objects
    if orphans:
        report.add(
            "note" if orphan_bytes < 1 << 20 else "warning",
            "objects",
            f"{len(orphans)} image(s) in objects/ are referenced by nothing "
            f"({gc._size(orphan_bytes)}).",
            "run `vizzly-tui gc` to remove them",
        )
    if temps:
        report.add(
            "warning",
            "objects",
            f"{len(temps)} half-written temporary file(s) are "
            "left in objects/ (a write was interrupted).",
            "any command that writes removes them after a minute",
            temps,
        )


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


def _baseline_files(project: Project) -> list[Path]:
    folder = project.baselines_dir
    if not folder.is_dir():
        return []
    return sorted(
        p
        for p in folder.iterdir()
        if p.suffix == ".png"
        and p.is_file()
        and not p.is_symlink()
        and not p.name.startswith(TEMP_PREFIX)
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
