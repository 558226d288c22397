"""`vizzly-tui doctor --repair`: what baselines/ and objects/ still say, into the new file.

Every regular PNG in baselines/ becomes a baseline row and version (its bytes kept in
objects/); with no row left to say which screenshot a file is, the signature comes back from
the file name. A recorded baseline whose file is gone gets its bytes back from objects/.
Links are never followed, nor FIFOs opened; what is not a whole PNG is listed, not recorded.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from vizzly_tui.project import Project
from vizzly_tui.store import files

if TYPE_CHECKING:
    from vizzly_tui.store.repair import RepairResult

BROWSERS = ("", "chrome", "chromium", "firefox", "webkit", "safari", "edge", "msedge")
COMMON_WIDTHS = (320, 360, 375, 390, 414, 768, 800, 1024, 1280, 1366, 1440, 1536, 1920)


def baselines_from_files(project: Project, conn: sqlite3.Connection, result: RepairResult) -> None:
    known = {
        file_name: (signature, sha)
        for file_name, signature, sha in conn.execute(
            "SELECT file_name, signature, sha256 FROM baseline"
        )
    }
    now = int(time.time() * 1000)
    folder = project.baselines_dir
    if folder.is_symlink() or not folder.is_dir():
        result.not_recovered.append(
            "baselines/ is not a folder inside .vizzly/ (a link or a file): nothing read "
            "from it or written to it"
        )
        return
    # Rows whose file is gone: put the recorded bytes back when objects/ has them.
    for file_name, (_signature, sha) in list(known.items()):
        try:  # a damaged row may name anything: never a path out of baselines/
            path = project.vizzly_dir / files.relative_image_path(project, "baselines", file_name)
        except (ValueError, TypeError):
            result.not_recovered.append(f"baseline row with file name {file_name!r:.80}: unsafe")
            continue
        if os.path.lexists(path):
            continue
        if sha and files.object_is_valid(project, sha):
            files.atomic_write(path, project.object_path(sha).read_bytes())
            result.baselines_restored.append(f"baselines/{file_name}")
        else:
            result.not_recovered.append(
                f"baselines/{file_name}: the file is missing and objects/ does not keep its bytes"
            )
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        if not entry.name.endswith(".png") or entry.name.startswith(files.TEMP_PREFIX):
            continue
        label = f"baselines/{printable_name(entry.name)}"
        why = _not_an_image_file(entry)
        data = b""
        if why is None:
            data = Path(entry.path).read_bytes()
            if not files.looks_like_png(data):
                why = f"not a whole PNG image ({len(data)} bytes)"
        if why is not None:
            if entry.name in known:
                result.not_recovered.append(
                    f"{label}: {why}; its recorded bytes are objects/{known[entry.name][1]}.png"
                    " (move the file away and repair again to put them back)"
                )
            else:
                result.not_recovered.append(f"{label}: {why} (left in place)")
            continue
        sha = files.store_object(project, data)
        width, height = files.png_size(data) or (None, None)
        if entry.name in known:
            signature, recorded = known[entry.name]
            if recorded != sha:
                conn.execute(
                    "UPDATE baseline SET sha256 = ?, size = ?, width = ?, height = ?, "
                    "updated_at = ? WHERE signature = ?",
                    (sha, len(data), width, height, now, signature),
                )
                _add_version(conn, signature, sha, len(data), now)
                result.baselines_from_files.append(label)
            continue
        found = recover_signature(entry.name, width)
        if found is None:
            result.not_recovered.append(
                f"{label}: no record says which screenshot it is (left in place)"
            )
            continue
        name, signature, properties = found
        conn.execute(
            "INSERT INTO baseline (signature, name, file_name, sha256, width, height, size, "
            "properties, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (signature, name, entry.name, sha, width, height, len(data), _json(properties), now),
        )
        _add_version(conn, signature, sha, len(data), now)
        result.baselines_from_files.append(label)


def _not_an_image_file(entry: os.DirEntry[str]) -> str | None:
    """Why `entry` is not read as a baseline image (None: it is a regular file with a name
    vizzly-tui could have written). A link is never followed: it may lead out of .vizzly/."""
    if entry.is_symlink():
        return f"a symbolic link (to {printable_name(os.readlink(entry.path))}), not followed"
    if entry.is_dir(follow_symlinks=False):
        return "a folder, not an image"
    if not entry.is_file(follow_symlinks=False):
        return "not a regular file (a FIFO, socket or device)"
    if not entry.name.isascii():
        # File names are made of a name's characters; one that is not UTF-8 was never ours.
        try:
            entry.name.encode()
        except UnicodeEncodeError:
            return "its name is not valid UTF-8"
    return None


def printable_name(name: str) -> str:
    """A file name as text: bytes that are not UTF-8 shown as \\xNN."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


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


def unlinked_objects(project: Project, conn: sqlite3.Connection) -> int:
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
