"""Keep the images of a build imported from the Vizzly CLI's JSON files, so it stays
viewable after newer runs replace current/ and baselines/.

Migration 001 imports the report (frozen: it records no image hashes, so its comparisons
have no current_sha256 / baseline_sha256). The bootstrap calls this right after the
migrations that imported it, when current/ and baselines/ hold exactly the images the
imported build was made from: this step hashes them, keeps them in objects/ and records the
hashes, as capture does for every later run. A database imported earlier is left alone
(current/ may hold a newer run's screenshots by now); the query checks that no run came
after the import all the same.

It also keeps the bytes of every imported baseline version (the baselines/ files migration
001 hashed), so each version can be restored and `doctor` finds its object.

Crash-safe: objects are written (durably) first; the hashes and a "kept" row in import_log
are recorded after, in one transaction. A crash in between leaves unreferenced objects (gc
removes them) and no "kept" row, so the next start does this step again (`pending`); never a
row pointing at a missing object.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from vizzly_tui.project import Project
from vizzly_tui.store.files import sha256_bytes, store_object

# The import_log row that says this step finished (outcome "imported", so `db status`
# counts it nowhere: its detail does not start with "imported ").
KEPT_SOURCE = "objects/"
KEPT_DETAIL = "kept the imported images"

Progress = Callable[[int, int], None]

# The imported builds' comparisons still without hashes, when no run came after them
# (later, current/ holds newer screenshots: they must not be attached to the import).
_PENDING_SQL = """
    SELECT c.id, c.file_name, c.current_sha256, c.baseline_sha256 FROM comparison c
    JOIN build b ON b.id = c.build_id
    WHERE b.kind = 'import'
      AND (c.current_sha256 IS NULL OR c.baseline_sha256 IS NULL)
      AND NOT EXISTS (
        SELECT 1 FROM build later WHERE later.kind IN ('run', 'serve')
          AND (later.started_at > b.started_at
               OR (later.started_at = b.started_at AND later.id > b.id)))
"""


def _keep(project: Project, folder: Any, file_name: str | None) -> str | None:
    if not file_name or "/" in file_name or "\\" in file_name:
        return None
    try:
        data = (folder / file_name).read_bytes()
    except OSError:
        return None  # a new screenshot has no baseline; a missing file stays unviewable
    return store_object(project, data, sha256_bytes(data))


# Imported baseline versions and the file migration 001 read them from.
_VERSIONS_SQL = """
    SELECT DISTINCT v.sha256, b.file_name FROM baseline_version v
    JOIN baseline b ON b.signature = v.signature
    WHERE v.source = 'import' AND v.sha256 IS NOT NULL
"""


def pending(db: Any) -> bool:
    """True when an import happened and this step has not finished since (a crash cut the
    first start short after migration 001 committed)."""
    row = db.execute_sql(
        "SELECT EXISTS(SELECT 1 FROM import_log) AND NOT EXISTS("
        "SELECT 1 FROM import_log WHERE source = ? AND detail = ?)",
        (KEPT_SOURCE, KEPT_DETAIL),
    ).fetchone()
    return bool(row[0])


def _keep_version(project: Project, sha: str, file_name: str | None) -> None:
    if not file_name or "/" in file_name or "\\" in file_name:
        return
    if project.object_path(sha).is_file():
        return
    try:
        data = (project.baselines_dir / file_name).read_bytes()
    except OSError:
        return
    if sha256_bytes(data) == sha:  # else changed since the import: not this version's bytes
        store_object(project, data, sha)


def keep_imported_images(db: Any, project: Project, progress: Progress | None = None) -> int:
    """Record (and keep in objects/) the images of imported comparisons, and keep the bytes
    of imported baseline versions; returns how many comparisons got a hash. `db` is the
    bootstrap's writing connection. `progress(done, total)` is called as images are kept."""
    columns = {r[1] for r in db.execute_sql('PRAGMA table_info("comparison")').fetchall()}
    if "baseline_sha256" not in columns:
        return 0  # a database held at migration 001: done once 002 has run
    rows = db.execute_sql(_PENDING_SQL).fetchall()
    versions = db.execute_sql(_VERSIONS_SQL).fetchall()
    total = len(rows) + len(versions)
    updates = []
    for done, (comparison_id, file_name, current_sha, baseline_sha) in enumerate(rows, 1):
        current = current_sha or _keep(project, project.current_dir, file_name)
        baseline = baseline_sha or _keep(project, project.baselines_dir, file_name)
        if (current, baseline) != (current_sha, baseline_sha):
            updates.append((current, baseline, comparison_id))
        if progress:
            progress(done, total)
    for done, (sha, file_name) in enumerate(versions, len(rows) + 1):
        _keep_version(project, sha, file_name)
        if progress:
            progress(done, total)
    with db.atomic():
        for values in updates:
            db.execute_sql(
                "UPDATE comparison SET current_sha256 = ?, baseline_sha256 = ? WHERE id = ?",
                values,
            )
        if pending(db):
            db.execute_sql(
                "INSERT INTO import_log (source, item, outcome, detail, created_at) "
                "VALUES (?, NULL, 'imported', ?, CAST(strftime('%s','now') AS INTEGER) * 1000)",
                (KEPT_SOURCE, KEPT_DETAIL),
            )
    return len(updates)
