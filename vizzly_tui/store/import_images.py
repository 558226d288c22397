"""Keep the images of a build imported from the Vizzly CLI's JSON files, so it stays
viewable after newer runs replace current/ and baselines/.

Migration 001 imports the report (frozen: it records no image hashes, so its comparisons
have no current_sha256 / baseline_sha256). The bootstrap calls this right after the
migrations that imported it, when current/ and baselines/ hold exactly the images the
imported build was made from: this step hashes them, keeps them in objects/ and records the
hashes, as capture does for every later run. A database imported earlier is left alone
(current/ may hold a newer run's screenshots by now); the query checks that no run came
after the import all the same.

Crash-safe: objects are written (durably) first and the hashes recorded after, in one
transaction; a crash in between leaves unreferenced objects (gc removes them) and rows still
without hashes, done again at the next start (the bootstrap calls this at every start: until
the first run, the query finds the rows a crash left), never a row pointing at a missing
object.
"""

from __future__ import annotations

from typing import Any

from vizzly_tui.project import Project
from vizzly_tui.store.files import sha256_bytes, store_object

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


def keep_imported_images(db: Any, project: Project) -> int:
    """Record (and keep in objects/) the images of imported comparisons; returns how many
    comparisons got a hash. `db` is the bootstrap's writing connection."""
    columns = {r[1] for r in db.execute_sql('PRAGMA table_info("comparison")').fetchall()}
    if "baseline_sha256" not in columns:
        return 0  # a database held at migration 001: done once 002 has run
    rows = db.execute_sql(_PENDING_SQL).fetchall()
    if not rows:
        return 0
    updates = []
    for comparison_id, file_name, current_sha, baseline_sha in rows:
        current = current_sha or _keep(project, project.current_dir, file_name)
        baseline = baseline_sha or _keep(project, project.baselines_dir, file_name)
        if (current, baseline) != (current_sha, baseline_sha):
            updates.append((current, baseline, comparison_id))
    if updates:
        with db.atomic():
            for values in updates:
                db.execute_sql(
                    "UPDATE comparison SET current_sha256 = ?, baseline_sha256 = ? WHERE id = ?",
                    values,
                )
    return len(updates)
