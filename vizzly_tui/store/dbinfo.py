"""What `vizzly-tui db status` reports: schema version, migrations, the legacy import log."""

from __future__ import annotations

import sqlite3
from typing import Any

from vizzly_tui.project import Project
from vizzly_tui.store import bootstrap
from vizzly_tui.store.db import readonly_uri
from vizzly_tui.store.legacy import import_log_summary


def describe(project: Project) -> dict[str, Any]:
    """Read-only: creates nothing, migrates nothing (it reports what is pending)."""
    path = project.db_path
    packaged = bootstrap.packaged_migrations()
    data: dict[str, Any] = {
        "path": str(path),
        "exists": path.exists(),
        "applied": [],
        "pending": packaged,
        "schemaVersion": 0,
        "legacyFiles": [str(p.relative_to(project.vizzly_dir)) for p in project.legacy_files()],
        "legacyImport": {"imported": {}, "skipped": [], "notes": []},
    }
    if not path.exists():
        return data
    bootstrap.check_project_db(path)
    # On a read-only location a WAL database opens only as immutable (no -shm can be made).
    read_only = bootstrap.location_is_read_only(project)
    conn = sqlite3.connect(readonly_uri(path, immutable=read_only), uri=True)
    try:
        bootstrap.quick_check(conn, path)
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if bootstrap.MIGRATION_TABLE not in tables:
            return data
        applied = [r[0] for r in conn.execute("SELECT name FROM migratehistory ORDER BY id")]
        bootstrap.check_history(applied, path)
        data["applied"] = applied
        data["pending"] = [m for m in packaged if m not in applied]
        data["schemaVersion"] = max((int(m[:3]) for m in applied), default=0)
        if "import_log" in tables:
            data["legacyImport"] = import_log_summary(conn)
    finally:
        conn.close()
    return data
