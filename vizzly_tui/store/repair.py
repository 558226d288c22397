"""`vizzly-tui doctor --repair`: a new state.db from what can still be read.

The damaged file is never written: it (with its -wal and -shm) is renamed to
`state.db.damaged-<time>` beside the new one. What comes back:

- every row the old file still yields, table by table (all of them when only a few pages
  are damaged; nothing when it was deleted, is not SQLite or belongs to another tool);
- every image in `baselines/`: a baseline row with its bytes' sha256 (kept in objects/)
  and a baseline version. With no row left to say which screenshot a file is, the signature
  is found again from the file name, whose last 12 hex digits are sha256(signature)[:12]:
  candidates from the name and the picture's width (`name|<width>|<browser>`) are hashed
  until one matches. Files whose signature cannot be found are listed as not recovered
  (they stay in baselines/, untouched);
- a baseline row whose file is missing gets its recorded bytes back from objects/.

The comparisons of lost builds are not made up: the next run records them again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vizzly_tui.errors import StoreError
from vizzly_tui.project import Project
from vizzly_tui.store import bootstrap, files
from vizzly_tui.store.db import readonly_uri

# Copy order: parents before children, so foreign keys hold as rows go in.
TABLES = (
    "build",
    "comparison",
    "comparison_detail",
    "baseline",
    "decision",
    "baseline_version",
    "hotspot",
    "region",
    "setting",
)
# Links that may be cleared when the row they point at could not be read (ON DELETE SET NULL).
NULLABLE_LINKS = {
    "baseline": ("origin_build_id",),
    "decision": ("build_id", "comparison_id", "undoes_id"),
    "baseline_version": ("decision_id",),
}
BROWSERS = ("", "chrome", "chromium", "firefox", "webkit", "safari", "edge", "msedge")
COMMON_WIDTHS = (320, 360, 375, 390, 414, 768, 800, 1024, 1280, 1366, 1440, 1536, 1920)


@dataclass
class RepairResult:
    moved_aside: list[str] = field(default_factory=list)
    salvaged: dict[str, int] = field(default_factory=dict)  # table -> rows carried over
    unreadable: dict[str, str] = field(default_factory=dict)  # table -> why it stopped
    baselines_from_files: list[str] = field(default_factory=list)
    baselines_restored: list[str] = field(default_factory=list)  # put back from objects/
    not_recovered: list[str] = field(default_factory=list)
    # Images in objects/ no surviving record ties to a screenshot (earlier baseline versions
    # or old screenshots, when the rows were lost): kept on disk, not linked.
    unlinked_objects: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "movedAside": self.moved_aside,
            "salvaged": self.salvaged,
            "unreadable": self.unreadable,
            "baselinesFromFiles": self.baselines_from_files,
            "baselinesRestored": self.baselines_restored,
            "notRecovered": self.not_recovered,
            "unlinkedObjects": self.unlinked_objects,
        }


def salvage(path: Path) -> tuple[dict[str, list[dict[str, Any]]], dict[str, str]]:
    """Every row still readable in `path`, per table; and why a table stopped short."""
    rows: dict[str, list[dict[str, Any]]] = {}
    problems: dict[str, str] = {}
    if not path.is_file():
        return rows, {"*": "state.db does not exist"}
    try:
        bootstrap.check_file(path)
    except StoreError as exc:
        return rows, {"*": str(exc)}
    try:
        conn = sqlite3.connect(readonly_uri(path), uri=True)
    except sqlite3.Error as exc:
        return rows, {"*": str(exc)}
    conn.row_factory = sqlite3.Row
    try:
        try:
            names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
            done = [r[0] for r in conn.execute("SELECT name FROM migratehistory")]
        except (sqlite3.Error, UnicodeDecodeError) as exc:
            return rows, {"*": f"its schema cannot be read ({exc})"}
        if any(m not in bootstrap.packaged_migrations() for m in done if isinstance(m, str)):
            return rows, {"*": "it was written by a newer vizzly-tui"}
        for table in TABLES:
            if table not in names:
                continue
            got: list[dict[str, Any]] = []
            try:
                for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
                    got.append(dict(row))
            except (sqlite3.Error, UnicodeDecodeError) as exc:
                problems[table] = str(exc)
            rows[table] = got
    finally:
        conn.close()
    return rows, problems


def repair(project: Project) -> RepairResult:
    """Move state.db aside and build a new one (caller holds no store open)."""
    result = RepairResult()
    path = project.db_path
    rows, problems = salvage(path)
    result.unreadable = problems
    project.ensure_dirs()
    stamp = time.strftime("%Y%m%dT%H%M%S")
    moved: list[tuple[Path, Path]] = []
    with files_lock(project):
        for suffix in ("", "-wal", "-shm"):
            old = path.with_name(path.name + suffix)
            if old.exists():
                target = _free_name(path.with_name(f"{path.name}.damaged-{stamp}{suffix}"))
                os.rename(old, target)  # a rename, never a copy over: the bytes stay as they were
                moved.append((old, target))
                result.moved_aside.append(target.name)
    try:
        _build(project, rows, result)
    except BaseException:
        # No new database (a full disk, an I/O error...): the old file goes back where it
        # was, as it was, rather than leaving an empty state.db in its place.
        _put_back(path, moved)
        raise
    return result


def _build(project: Project, rows: dict[str, list[dict[str, Any]]], result: RepairResult) -> None:
    # A new database exactly as a first start makes it (legacy JSON is imported if present).
    bootstrap.ensure_schema(project)
    conn = sqlite3.connect(project.db_path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN IMMEDIATE")
        if rows:
            _copy_rows(conn, rows, result)
        _baselines_from_files(project, conn, result)
        result.unlinked_objects = _unlinked(project, conn)
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    finally:
        conn.close()


def _put_back(path: Path, moved: list[tuple[Path, Path]]) -> None:
    """Remove the new database this repair began (only ours, just made) and rename the
    files set aside back to their names."""
    for suffix in ("", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            path.with_name(path.name + suffix).unlink()
    for old, target in moved:
        with contextlib.suppress(OSError):
            os.rename(target, old)


def files_lock(project: Project) -> Any:
    from vizzly_tui.store.decisions import project_lock

    return project_lock(project)


def _free_name(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.name}.{n}")
    return candidate


def _copy_rows(
    conn: sqlite3.Connection, rows: dict[str, list[dict[str, Any]]], result: RepairResult
) -> None:
    # A legacy import may have filled tables of the new file: the old file's rows win (they
    # include everything the import made, and the review history since).
    for table in reversed(TABLES):
        if rows.get(table):
            conn.execute(f'DELETE FROM "{table}"')
    for table in TABLES:
        columns = {r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')}
        copied = 0
        for row in rows.get(table, ()):
            values = {k: v for k, v in row.items() if k in columns}
            names = ", ".join(f'"{k}"' for k in values)
            marks = ", ".join("?" for _ in values)
            sql = f'INSERT INTO "{table}" ({names}) VALUES ({marks})'
            try:
                try:
                    conn.execute(sql, list(values.values()))
                except sqlite3.IntegrityError:
                    # Its parent row was on a damaged page: keep the row, unlinked.
                    for column in NULLABLE_LINKS.get(table, ()):
                        if column in values:
                            values[column] = None
                    conn.execute(sql, list(values.values()))
                copied += 1
            except sqlite3.IntegrityError as exc:
                result.not_recovered.append(f"{table} row {row.get('id', '?')}: {exc}")
        result.salvaged[table] = copied
    # A decision left pending in the old file cannot be settled against rows that may be
    # gone: it is kept in the log as failed, its files untouched.
    conn.execute("UPDATE decision SET state = 'failed' WHERE state = 'pending'")


def _baselines_from_files(project: Project, conn: sqlite3.Connection, result: RepairResult) -> None:
    known = {
        file_name: (signature, sha)
        for file_name, signature, sha in conn.execute(
            "SELECT file_name, signature, sha256 FROM baseline"
        )
    }
    now = int(time.time() * 1000)
    # Rows whose file is gone: put the recorded bytes back when objects/ has them.
    for file_name, (_signature, sha) in list(known.items()):
        path = project.baselines_dir / file_name
        if path.is_file():
            continue
        if sha and files.object_is_valid(project, sha):
            files.atomic_write(path, project.object_path(sha).read_bytes())
            result.baselines_restored.append(f"baselines/{file_name}")
        else:
            result.not_recovered.append(
                f"baselines/{file_name}: the file is missing and objects/ does not keep its bytes"
            )
    for path in sorted(project.baselines_dir.glob("*.png")):
        if path.name.startswith(files.TEMP_PREFIX) or not path.is_file():
            continue
        data = path.read_bytes()
        sha = files.store_object(project, data)
        width, height = files.png_size(data) or (None, None)
        if path.name in known:
            signature, recorded = known[path.name]
            if recorded != sha:
                conn.execute(
                    "UPDATE baseline SET sha256 = ?, size = ?, width = ?, height = ?, "
                    "updated_at = ? WHERE signature = ?",
                    (sha, len(data), width, height, now, signature),
                )
                _add_version(conn, signature, sha, len(data), now)
                result.baselines_from_files.append(f"baselines/{path.name}")
            continue
        found = recover_signature(path.name, width)
        if found is None:
            result.not_recovered.append(
                f"baselines/{path.name}: no record says which screenshot it is (left in place)"
            )
            continue
        name, signature, properties = found
        conn.execute(
            "INSERT INTO baseline (signature, name, file_name, sha256, width, height, size, "
            "properties, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (signature, name, path.name, sha, width, height, len(data), _json(properties), now),
        )
        _add_version(conn, signature, sha, len(data), now)
        result.baselines_from_files.append(f"baselines/{path.name}")


def _add_version(conn: sqlite3.Connection, signature: str, sha: str, size: int, now: int) -> None:
    exists = conn.execute(
        "SELECT 1 FROM baseline_version WHERE signature = ? AND sha256 = ?", (signature, sha)
    ).fetchone()
    if not exists:
        conn.execute(
            "INSERT INTO baseline_version (signature, sha256, size, created_at, source) "
            "VALUES (?, ?, ?, ?, 'repair')",
            (signature, sha, size, now),
        )


def _json(value: Any) -> str:
    import json

    return json.dumps(value)


def recover_signature(file_name: str, width: int | None) -> tuple[str, str, dict[str, Any]] | None:
    """(name, signature, properties) whose file name is `file_name`, or None.

    `<safe-name>_<sha256(signature)[:12]>.png`: the name part is the screenshot name with
    whitespace runs as `-` (cut at 50 characters), so names up to 50 characters come back;
    the viewport width is tried as the picture's width first, then common widths.
    """
    stem = file_name[:-4] if file_name.endswith(".png") else file_name
    safe, _, digest = stem.rpartition("_")
    if len(digest) != 12 or not safe:
        return None
    names = dict.fromkeys((safe, safe.replace("-", " ")))
    widths: list[Any] = [None, *([width] if width else []), *COMMON_WIDTHS]
    for name in names:
        for w in dict.fromkeys(widths):
            for browser in BROWSERS:
                signature = f"{name}|{'' if w is None else w}|{browser}"
                if hashlib.sha256(signature.encode()).hexdigest()[:12] == digest:
                    properties: dict[str, Any] = {}
                    if w is not None:
                        properties["viewport_width"] = w
                    if browser:
                        properties["browser"] = browser
                    return name, signature, properties
    return None


def _unlinked(project: Project, conn: sqlite3.Connection) -> int:
    linked: set[str] = set()
    for sql in (
        "SELECT sha256 FROM baseline",
        "SELECT sha256 FROM baseline_version",
        "SELECT current_sha256 FROM comparison",
        "SELECT baseline_sha256 FROM comparison",
    ):
        linked.update(s for (s,) in conn.execute(sql) if s)
    folder = project.objects_dir
    names = os.listdir(folder) if folder.is_dir() else []
    return sum(1 for n in names if n.endswith(".png") and len(n) == 68 and n[:64] not in linked)
