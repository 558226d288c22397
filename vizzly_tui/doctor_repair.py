"""`vizzly-tui doctor --repair`: the checks before store.repair runs, and its report text."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from vizzly_tui.doctor import DoctorReport, _migrations, diagnose
from vizzly_tui.errors import (
    DiskFull,
    StoreError,
    disk_full_message,
    is_disk_full,
    no_space_left,
)
from vizzly_tui.project import Project
from vizzly_tui.store import bootstrap
from vizzly_tui.store.db import readonly_uri


def run_repair(project: Project) -> tuple[Any, DoctorReport]:
    """Rebuild state.db (store.repair), then diagnose the result. Refuses when a server of
    this project is running (it holds the old file open) or the file is a newer version's."""
    from vizzly_tui.errors import NewerDatabase, UsageError
    from vizzly_tui.server.discovery import _pid_alive, _port_answers
    from vizzly_tui.store.repair import repair

    try:
        bootstrap.check_file(project.db_path)
        conn = sqlite3.connect(readonly_uri(project.db_path), uri=True)
        try:
            _migrations(conn, project.db_path)
        finally:
            conn.close()
    except NewerDatabase as exc:
        raise UsageError(f"{exc} --repair would lose what the newer version recorded.") from exc
    except (StoreError, sqlite3.Error, UnicodeDecodeError, FileNotFoundError):
        pass  # damaged, foreign or missing: exactly what repair is for
    server = project.vizzly_dir / "server.json"
    try:
        data = json.loads(server.read_text())
        running = _pid_alive(int(data["pid"])) and _port_answers(int(data["port"]))
    except (OSError, ValueError, TypeError, KeyError, OverflowError):
        running = False
    if running:
        raise UsageError(
            "a vizzly-tui server is running for this project: stop it first "
            "(`vizzly-tui stop`), then repair."
        )
    if bootstrap.location_is_read_only(project):
        raise UsageError(f"{project.vizzly_dir} is read-only: nothing can be repaired there.")
    if no_space_left(project.vizzly_dir):
        # Checked first: a repair would set state.db aside and fail to build the new one.
        raise DiskFull(
            disk_full_message(
                project.vizzly_dir, "a repair needs room for a new state.db; nothing was changed"
            )
        )
    try:
        result = repair(project)
    except (OSError, sqlite3.OperationalError, StoreError) as exc:
        # A full disk, a folder that cannot be written: the new file was being built under
        # a temporary name and is gone; the old one never moved.
        if is_disk_full(exc, project.vizzly_dir):
            raise DiskFull(
                disk_full_message(
                    project.vizzly_dir, "the repair stopped; state.db was left exactly as it was"
                )
            ) from exc
        what = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        where = f" ({exc.filename})" if isinstance(exc, OSError) and exc.filename else ""
        raise StoreError(
            f"the repair stopped: {what}{where}. state.db was left exactly as it was; "
            "free some space, fix the permissions or move away a file where a folder belongs, "
            "then run `vizzly-tui doctor --repair` again."
        ) from exc
    return result, diagnose(project)


def repair_text(result: Any) -> str:
    lines = []
    for name in result.moved_aside:
        lines.append(f"kept the old file as .vizzly/{name}")
    if result.salvaged:
        lines.append("carried over: " + ", ".join(f"{n} {t}" for t, n in result.salvaged.items()))
    for table, why in result.unreadable.items():
        what = "the old database" if table == "*" else f"table {table} (read up to the damage)"
        lines.append(f"could not read {what}: {why}")
    if result.baselines_from_files:
        lines.append(f"recorded {len(result.baselines_from_files)} baseline(s) from baselines/")
    if result.baselines_restored:
        lines.append(f"put back {len(result.baselines_restored)} baseline file(s) from objects/")
    if result.unlinked_objects:
        lines.append(
            f"{result.unlinked_objects} image(s) in objects/ are tied to no screenshot by any "
            "surviving record (earlier baseline versions or old screenshots): kept, not linked"
        )
    if result.not_recovered:
        lines.append(f"NOT recovered ({len(result.not_recovered)}):")
        lines.extend(f"    {item}" for item in result.not_recovered)
    else:
        lines.append("everything readable was recovered")
    return "\n".join(lines)
