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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vizzly_tui.errors import (
    EXIT_DATABASE,
    StoreError,
    disk_full_message,
    is_disk_full,
    no_space_left,
)
from vizzly_tui.project import Project
from vizzly_tui.store import bootstrap
from vizzly_tui.store.db import readonly_uri
from vizzly_tui.store.files import TEMP_PREFIX, sha256_file

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
    report = DoctorReport(str(project.vizzly_dir))
    conn = _check_database(project, report)
    if conn is not None:
        try:
            _check_rows(project, conn, report)
        except sqlite3.DatabaseError as exc:
            # The quick checks passed but a page read now fails: damage all the same.
            report.add("error", "database", f"state.db could not be read through: {exc}", REPAIR)
        finally:
            conn.close()
    _check_server(project, report)
    return report


# --- the database file ---------------------------------------------------------------------


def _check_database(project: Project, report: DoctorReport) -> sqlite3.Connection | None:
    path = project.db_path
    if not path.exists():
        baselines = _baseline_files(project)
        # A Vizzly CLI project (its baselines/ included) before its first command: nothing
        # is lost, the next command imports it.
        if baselines and not project.legacy_files():
            report.add(
                "error",
                "database",
                f"{path} is missing but baselines/ holds {len(baselines)} image(s): their "
                "review history and versions are not known to vizzly-tui.",
                "run `vizzly-tui doctor --repair` to rebuild state.db from baselines/ and objects/",
            )
        elif project.legacy_files():
            report.add(
                "note",
                "database",
                "state.db does not exist yet: the next command "
                "creates it and imports the Vizzly CLI's JSON files.",
            )
        else:
            report.add("note", "database", "state.db does not exist yet (nothing recorded).")
        return None
    try:
        bootstrap.check_file(path)
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
    missing, changed = [], []
    rows = conn.execute("SELECT file_name, sha256 FROM baseline ORDER BY file_name").fetchall()
    for file_name, sha in rows:
        path = project.baselines_dir / file_name
        if not path.is_file():
            missing.append(f"baselines/{file_name}")
        elif sha and sha256_file(path) != sha:
            changed.append(f"baselines/{file_name}")
    report.checked["baselines"] = len(rows)
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
            "bytes state.db recorded (changed outside vizzly-tui, or cut short).",
            "if the change was meant, `vizzly-tui doctor --repair` records the files as "
            "they are; otherwise restore them from backup or version control",
            changed,
        )
    known = {f for f, _ in rows}
    strays = [p.name for p in _baseline_files(project) if p.name not in known]
    if strays:
        report.add(
            "warning",
            "baselines",
            f"{len(strays)} image(s) in baselines/ are not recorded in state.db.",
            "`vizzly-tui doctor --repair` records those whose screenshot it can identify",
            [f"baselines/{n}" for n in strays],
        )

    versions = conn.execute("SELECT DISTINCT sha256 FROM baseline_version").fetchall()
    lost = [sha for (sha,) in versions if not project.object_path(sha).is_file()]
    report.checked["baselineVersions"] = len(versions)
    if lost:
        report.add(
            "error",
            "baselines",
            f"{len(lost)} earlier baseline version(s) have lost "
            "their image in objects/ (they can no longer be restored).",
            "restore .vizzly/objects/ from a backup if you have one",
            [f"objects/{s}.png" for s in lost],
        )

    current = conn.execute(
        "SELECT id FROM build WHERE kind IN ('run','serve','import') "
        "ORDER BY started_at DESC, id DESC LIMIT 1"
    ).fetchone()
    absent, absent_history = [], []
    count = 0
    for build_id, name, cur, diff, status, cur_sha in conn.execute(
        "SELECT build_id, name, current, diff, status, current_sha256 FROM comparison"
    ):
        count += 1
        if current is not None and build_id == current[0]:
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
        except (OSError, ValueError, TypeError, KeyError):
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
        if p.suffix == ".png" and p.is_file() and not p.name.startswith(TEMP_PREFIX)
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
