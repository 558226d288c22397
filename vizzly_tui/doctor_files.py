"""`vizzly-tui doctor`: the rows of state.db against the files of .vizzly/ (baselines and
their versions, the current build's images, decisions, objects/). Read-only: a link is never
followed, a FIFO never opened."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import time
from pathlib import Path

from vizzly_tui.doctor_report import IN_FLIGHT_S, DoctorReport
from vizzly_tui.project import Project
from vizzly_tui.statuses import ComparisonStatus, DecisionState
from vizzly_tui.store import bootstrap
from vizzly_tui.store.files import TEMP_PREFIX, looks_like_png, png_size, sha256_bytes
from vizzly_tui.store.repair_files import printable_name, recover_signature

IMAGE_KINDS = ("baselines", "current", "diffs")


# --- rows against files --------------------------------------------------------------------


def check_rows(project: Project, conn: sqlite3.Connection, report: DoctorReport) -> None:
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
        _check_baseline_files(project, rows, report, _pending_paths(conn))

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
            has_diff = status in (ComparisonStatus.FAILED, ComparisonStatus.REJECTED)
            for url in (cur, diff if has_diff else None):
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


def _pending_paths(conn: sqlite3.Connection) -> set[str]:
    """The files interrupted decisions were writing (`baselines/x.png`...): whatever they
    hold is explained by that decision, which the next command finishes or rolls back."""
    paths: set[str] = set()
    for (raw,) in conn.execute(
        "SELECT files FROM decision WHERE state = ?", (DecisionState.PENDING,)
    ):
        try:
            changes = json.loads(raw) if isinstance(raw, str) else []
            paths.update(str(c["path"]) for c in changes if isinstance(c, dict) and "path" in c)
        except (ValueError, TypeError):
            continue
    return paths


def _check_baseline_files(
    project: Project, rows: list[tuple[str, str]], report: DoctorReport, pending: set[str]
) -> None:
    missing, changed, broken, odd = [], [], [], []
    for file_name, sha in rows:
        label = f"baselines/{printable_name(str(file_name))}"
        if f"baselines/{file_name}" in pending:
            continue  # the interrupted decision's finding says what to do
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
    strays, unknown, junk = [], [], []
    folder = project.baselines_dir
    for entry in sorted(os.scandir(folder) if folder.is_dir() else (), key=lambda e: e.name):
        if entry.name in known or not entry.name.endswith(".png"):
            continue
        if f"baselines/{entry.name}" in pending:
            continue
        if entry.name.startswith(TEMP_PREFIX):
            continue
        label = f"baselines/{printable_name(entry.name)}"
        kind, data = _read_image_file(Path(entry.path))
        if kind == "file" and looks_like_png(data) and _utf8(entry.name):
            width = (png_size(data) or (None, None))[0]
            if recover_signature(entry.name, width) is not None:
                strays.append(label)
            else:
                unknown.append(label)
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
    if unknown:
        report.add(
            "warning",
            "baselines",
            f"{len(unknown)} image(s) in baselines/ are not recorded in state.db, and no "
            "screenshot name gives their file name (renamed, or made by another tool).",
            "vizzly-tui never reads them: move them out of baselines/, or rename them to "
            "the file name their screenshot has",
            unknown,
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
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
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
        "FROM decision WHERE state IN (?, ?)",
        (DecisionState.PENDING, DecisionState.FAILED),
    ).fetchall()
    report.checked["decisions"] = conn.execute("SELECT count(*) FROM decision").fetchone()[0]
    pending = [f"{a} of {n}" for s, a, n in rows if s == DecisionState.PENDING]
    failed = [f"{a} of {n}" for s, a, n in rows if s == DecisionState.FAILED]
    if pending:
        report.add(
            "warning",
            "decisions",
            f"{len(pending)} decision(s) were interrupted "
            "(a crash or kill while they were applied).",
            "run `vizzly-tui db migrate` (or any command that writes) before anything else: "
            "it finishes or rolls back each one, with the files it was writing",
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


def baseline_files(project: Project) -> list[Path]:
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
