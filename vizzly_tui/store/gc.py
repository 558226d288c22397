"""`vizzly-tui gc`: remove the image objects nothing refers to any more.

`objects/<sha256>.png` holds every image history may show or a decision may put back: the
current image of each comparison of each build, the baseline each was compared with, every
baseline version, and the before/after bytes of decisions that are pending or can still be
undone. gc keeps all of those and removes the rest; with `keep_builds` it first drops the
local runs older than the newest N (their comparisons go with them).

Crash safety: the old builds' rows are deleted in one committed transaction before any file
goes, so a crash leaves only unreferenced files (the next gc takes them), never a row
pointing at a missing file. Files are removed while this process holds the project lock and
a write transaction, so no other process commits a new reference meanwhile; objects touched
in the last `grace_s` seconds are kept too, because another process writes an object a
moment before it commits the row that refers to it.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vizzly_tui.errors import UsageError
from vizzly_tui.store import decisions
from vizzly_tui.store.files import TEMP_PREFIX
from vizzly_tui.store.models import Baseline, BaselineVersion, Build, Comparison, Decision
from vizzly_tui.store.queries import LOCAL_RUN_KINDS
from vizzly_tui.store.store import Store

GRACE_S = 60.0
OBJECT_NAME = re.compile(r"^[0-9a-f]{64}\.png$")
NOT_UNDOABLE = ("undo", "capture")


@dataclass
class GcResult:
    removed_builds: int = 0
    removed_objects: int = 0
    removed_bytes: int = 0  # sizes of the removed files
    freed_bytes: int = 0  # disk space returned (a file hard-linked from current/ frees none)
    kept_objects: int = 0
    kept_bytes: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "removedBuilds": self.removed_builds,
            "removedObjects": self.removed_objects,
            "removedBytes": self.removed_bytes,
            "freedBytes": self.freed_bytes,
            "keptObjects": self.kept_objects,
            "keptBytes": self.kept_bytes,
        }


def referenced_objects() -> set[str]:
    """Every sha256 a row refers to (run on the writer, inside its transaction)."""
    shas: set[str] = set()
    for column in (Comparison.current_sha256, Comparison.baseline_sha256):
        shas.update(s for (s,) in Comparison.select(column).distinct().tuples() if s)
    shas.update(s for (s,) in Baseline.select(Baseline.sha256).tuples() if s)
    shas.update(s for (s,) in BaselineVersion.select(BaselineVersion.sha256).tuples() if s)
    live = (Decision.state == "pending") | (
        (Decision.state == "done")
        & (Decision.undone == False)  # noqa: E712 - peewee builds SQL from ==
        & Decision.action.not_in(NOT_UNDOABLE)
    )
    for (changes,) in Decision.select(Decision.files).where(live).tuples():
        for change in changes or ():
            for key in ("before", "after"):
                if isinstance(change, dict) and change.get(key):
                    shas.add(change[key])
    return shas


def _drop_old_builds(keep: int) -> int:
    old = [
        b
        for (b,) in Build.select(Build.id)
        .where(Build.kind.in_(LOCAL_RUN_KINDS))
        .order_by(Build.started_at.desc(), Build.id.desc())
        .offset(keep)
        .tuples()
    ]
    if not old:
        return 0
    # Comparisons and their details cascade; decisions keep their log rows (link cleared).
    return Build.delete().where(Build.id.in_(old)).execute()


def collect_garbage(
    store: Store,
    *,
    keep_builds: int | None = None,
    grace_s: float = GRACE_S,
    progress: Callable[[int, int], None] | None = None,
) -> GcResult:
    """Remove unreferenced objects (and, with `keep_builds`, older local runs first).
    `progress(n, total)` is called, on the writer thread, as the n-th object is looked at."""
    if keep_builds is not None and keep_builds < 1:
        raise UsageError("--keep-builds must be at least 1 (the current build is always kept)")
    project = store.project

    def command() -> GcResult:
        assert store.db is not None
        result = GcResult()
        if keep_builds is not None:
            with store.db.atomic():
                result.removed_builds = _drop_old_builds(keep_builds)
        with decisions.project_lock(project), store.db.atomic():
            keep = referenced_objects()
            cutoff = time.time() - grace_s
            folder = project.objects_dir
            entries = list(os.scandir(folder)) if folder.is_dir() else []
            for index, entry in enumerate(entries, 1):
                if progress:
                    progress(index, len(entries))
                name = entry.name
                ours = OBJECT_NAME.match(name) or name.startswith(TEMP_PREFIX)
                if not ours or not entry.is_file(follow_symlinks=False):
                    continue  # not something vizzly-tui wrote: leave it alone
                info = entry.stat(follow_symlinks=False)
                if name[:64] in keep and not name.startswith(TEMP_PREFIX):
                    result.kept_objects += 1
                    result.kept_bytes += info.st_size
                    continue
                if info.st_mtime > cutoff:
                    continue  # just written: its row may be about to commit
                try:
                    os.unlink(entry.path)
                except FileNotFoundError:
                    continue
                result.removed_objects += 1
                result.removed_bytes += info.st_size
                if info.st_nlink <= 1:
                    result.freed_bytes += info.st_size
        return result

    return store.call(command, transaction=False)


def gc_text(result: GcResult) -> str:
    lines = []
    if result.removed_builds:
        lines.append(f"removed {result.removed_builds} older build(s)")
    if result.removed_objects:
        lines.append(
            f"removed {result.removed_objects} unreferenced image(s), "
            f"freed {_size(result.freed_bytes)}"
            + (
                f" ({_size(result.removed_bytes - result.freed_bytes)} were shared with current/)"
                if result.removed_bytes > result.freed_bytes
                else ""
            )
        )
    else:
        lines.append("nothing to remove")
    lines.append(f"kept {result.kept_objects} image(s), {_size(result.kept_bytes)}")
    return "\n".join(lines)


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"
