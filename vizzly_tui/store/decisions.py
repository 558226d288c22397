"""The crash-safe protocol every review decision follows (architecture.md, "Files and the
database never disagree").

1. `begin`: one transaction records the decision as `pending`, with the sha256 of every file
   it will write and of what each file held before; both byte strings are already safe in
   `objects/<sha256>.png`.
2. `apply_files`: write each file (temp + fsync + rename) or remove it.
3. `complete`: one transaction applies the decision's effect on the rows and marks it done.

A start that finds a pending decision runs `complete` again when every target is available
in `objects/` (roll forward), else puts the `before` bytes back and marks it rolled back.
While a process runs steps 1-3 it holds the project's lock (review actions and the server's
captures alike), so recovery (which holds it too) never mistakes a live decision for a
crashed one, and a capture never checks the baseline while a decision is half-way.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock

from vizzly_tui.project import Project
from vizzly_tui.statuses import ComparisonStatus, DecisionState
from vizzly_tui.store import files
from vizzly_tui.store.models import (
    Baseline,
    BaselineVersion,
    Comparison,
    ComparisonDetail,
    Decision,
    Setting,
)

log = logging.getLogger(__name__)


# Decision kinds whose row effects live in store/decisions_history.py (restore a baseline
# version, add or delete a local region).
EXTRA_ACTIONS = ("restore", "region-add", "region-delete")
# Decisions `undo` never reverses: an undo itself, and `capture` (a screenshot's first
# baseline, recorded as a decision for crash safety only: not a review decision).
NOT_UNDOABLE = ("undo", "capture")


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass(frozen=True)
class FileChange:
    path: str  # relative to .vizzly/, e.g. "baselines/home_1796f76bcda3.png"
    before: str | None  # sha256 of what the file held, None when absent
    after: str | None  # sha256 it will hold, None to remove it

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "before": self.before, "after": self.after}

    @staticmethod
    def from_json(data: dict[str, Any]) -> FileChange:
        return FileChange(data["path"], data.get("before"), data.get("after"))

    def reversed(self) -> FileChange:
        return FileChange(self.path, self.after, self.before)


def project_lock(project: Project, timeout: float = 120) -> FileLock:
    return FileLock(str(project.lock_path), timeout=timeout)


def begin(**fields: Any) -> Decision:
    """Step 1 (inside a transaction): the pending row."""
    changes: Iterable[FileChange] = fields.pop("changes", ())
    return Decision.create(
        state=DecisionState.PENDING,
        created_at=now_ms(),
        files=[c.to_json() for c in changes],
        **fields,
    )


def file_sha(path: Path) -> str | None:
    try:
        return files.sha256_file(path)
    except FileNotFoundError:
        return None


def apply_files(project: Project, decision: Decision, *, forward: bool = True) -> None:
    """Step 2: make every file hold its `after` bytes (forward) or its `before` bytes.

    Rolling back only undoes what this decision wrote: a file that holds neither its `before`
    nor its `after` bytes was changed by someone else since (a re-sent screenshot) and is
    left alone, so a rollback never destroys newer work.
    """
    for raw in decision.files:
        change = FileChange.from_json(raw)
        target = files.image_entry(project, change.path)
        want = change.after if forward else change.before
        have = file_sha(target)
        if have == want:
            continue
        if not forward and have != change.after:
            log.warning("rollback left %s alone: it was changed by someone else", change.path)
            continue
        if want is None:
            files.remove_file(target)
            continue
        data = files.read_object(project, want)
        if data is None:
            raise FileNotFoundError(f"objects/{want}.png is missing; cannot restore {change.path}")
        files.atomic_write(target, data)


def files_untouched_by_others(project: Project, decision: Decision) -> bool:
    """True when every file still holds the bytes this decision expected before or after."""
    for raw in decision.files:
        change = FileChange.from_json(raw)
        have = file_sha(files.image_entry(project, change.path))
        if have not in (change.before, change.after):
            return False
    return True


def comparison_of(decision: Decision) -> Comparison | None:
    """The decision's comparison: by link, or (the link is cleared when a comparison is
    deleted and a later undo re-creates it) by build and id."""
    if decision.comparison_id is not None:
        found = Comparison.get_or_none(Comparison.id == decision.comparison_id)
        if found is not None:
            return found
    if decision.build_id is None or decision.cid is None:
        return None
    return Comparison.get_or_none(
        (Comparison.build == decision.build_id) & (Comparison.cid == decision.cid)
    )


def undo_blocked(original: Decision) -> str | None:
    """Why `original` cannot be undone now (None when it can). Checked before any file moves."""
    snapshot = original.snapshot or {}
    label = original.name or original.cid or "settings"
    if original.action in ("delete", "reset"):
        row = snapshot.get("comparison")
        if (
            row
            and Comparison.select()
            .where((Comparison.build == row["build"]) & (Comparison.signature == row["signature"]))
            .exists()
        ):
            return f"{label} was captured again after it was removed; review the new result instead"
        return None
    if original.action == "download":
        from vizzly_tui.store import cloud_download  # it imports this module: import here

        return cloud_download.undo_blocked(original)
    if original.action in ("accept", "reject"):
        current = comparison_of(original)
        if current is None:
            return None  # only the baseline is put back
        then = snapshot.get("timestamp")
        # The hash too: two captures within one millisecond share a timestamp.
        sha = snapshot.get("current_sha256")
        if (then is not None and current.timestamp != then) or (
            sha is not None and current.current_sha256 != sha
        ):
            return f"{label} was captured again after this {original.action}; review it instead"
    return None


def targets_available(project: Project, decision: Decision) -> bool:
    return all(
        raw.get("after") is None or files.object_is_valid(project, raw["after"])
        for raw in decision.files
    )


def _set_baseline(project: Project, decision: Decision, sha: str | None, source: str) -> None:
    """Point the signature's baseline row at `sha` (None: remove the row)."""
    if decision.signature is None:
        return
    if sha is None:
        Baseline.delete().where(Baseline.signature == decision.signature).execute()
        return
    data = files.read_object(project, sha) or b""
    width, height = files.png_size(data) or (None, None)
    comparison = decision.comparison
    snapshot = decision.snapshot or {}
    file_name = (comparison.file_name if comparison else None) or snapshot.get("file_name")
    properties = (comparison.properties if comparison else None) or snapshot.get("properties")
    values = {
        "name": decision.name or "",
        "file_name": file_name,
        "sha256": sha,
        "width": width,
        "height": height,
        "size": len(data),
        "properties": properties or {},
        "updated_at": now_ms(),
    }
    updated = Baseline.update(**values).where(Baseline.signature == decision.signature).execute()
    if not updated:
        Baseline.create(signature=decision.signature, **values)
    BaselineVersion.create(
        signature=decision.signature,
        sha256=sha,
        size=len(data),
        created_at=now_ms(),
        decision=decision,
        source=source,
    )


def _restore_rows(snapshot: dict[str, Any]) -> None:
    """Re-insert the comparison and detail rows a delete or reset removed."""
    row = snapshot.get("comparison")
    if row:
        clash = Comparison.get_or_none(
            (Comparison.build == row["build"]) & (Comparison.signature == row["signature"])
        )
        if clash is not None:
            raise RuntimeError(
                f"cannot restore {row['name']}: the build has a newer comparison for "
                f"{row['signature']}"
            )
        comparison_id = Comparison.insert(**row).execute()
        detail = snapshot.get("detail")
        if detail:
            ComparisonDetail.insert(comparison=comparison_id, **detail).execute()


def complete(project: Project, decision: Decision) -> None:
    """Step 3 (inside a transaction): the decision's effect on the rows, then `done`."""
    action = decision.action
    comparison = decision.comparison
    if action == "accept":
        # Only while the comparison still shows the accepted image: after a crash between the
        # files and this step, the server may have recorded a newer screenshot (compared
        # against the new baseline file); its result stands.
        if comparison is not None and comparison.current_sha256 in (
            None,
            decision.baseline_sha_after,
        ):
            Comparison.update(
                status=ComparisonStatus.PASSED, diff_percentage=0, diff=None, updated_at=now_ms()
            ).where(Comparison.id == comparison.id).execute()
        _set_baseline(project, decision, decision.baseline_sha_after, "accept")
    elif action == "reject":
        if comparison is not None:
            Comparison.update(status=ComparisonStatus.REJECTED, updated_at=now_ms()).where(
                Comparison.id == comparison.id
            ).execute()
    elif action in ("delete", "reset"):
        if comparison is not None:
            comparison.delete_instance()
        if decision.signature:
            Baseline.delete().where(Baseline.signature == decision.signature).execute()
        saved = (decision.snapshot or {}).get("settings")
        if saved:
            Setting.delete().where(Setting.key.in_(list(saved))).execute()
    elif action == "undo":
        _complete_undo(project, decision)
    elif action == "capture":
        pass  # a new baseline from a screenshot: its rows were written with the pending row
    elif action == "download":
        from vizzly_tui.store import cloud_download  # it imports this module: import here

        cloud_download.complete_download(project, decision)
    elif action in EXTRA_ACTIONS:
        from vizzly_tui.store import decisions_history

        decisions_history.complete(project, decision)
    else:
        raise ValueError(f"unknown decision action {action!r}")
    Decision.update(state=DecisionState.DONE).where(Decision.id == decision.id).execute()


def _complete_undo(project: Project, decision: Decision) -> None:
    original: Decision = decision.undoes
    snapshot = original.snapshot or {}
    target = comparison_of(original)
    if original.action == "accept":
        if target is not None:
            before = snapshot.get("comparison_fields", {})
            Comparison.update(
                status=original.status_before,
                diff_percentage=before.get("diff_percentage"),
                diff=before.get("diff"),
                updated_at=now_ms(),
            ).where(Comparison.id == target.id).execute()
        _set_baseline(project, decision, original.baseline_sha_before, "undo")
    elif original.action == "reject":
        if target is not None:
            Comparison.update(status=original.status_before, updated_at=now_ms()).where(
                Comparison.id == target.id
            ).execute()
    elif original.action in EXTRA_ACTIONS:
        from vizzly_tui.store import decisions_history

        decisions_history.undo(project, decision, original)
    elif original.action in ("delete", "reset"):
        _restore_rows(snapshot)
        baseline = snapshot.get("baseline")
        if baseline:
            Baseline.insert(**baseline).on_conflict_replace().execute()
        for key, value in (snapshot.get("settings") or {}).items():
            Setting.insert(
                key=key, value=value, updated_at=now_ms()
            ).on_conflict_replace().execute()
    elif original.action == "download":
        from vizzly_tui.store import cloud_download  # it imports this module: import here

        cloud_download.undo_download(project, original, decision)
    Decision.update(undone=True).where(Decision.id == original.id).execute()


def rollback(project: Project, decision: Decision) -> None:
    """Put every file back as it was and mark the decision rolled back."""
    apply_files(project, decision, forward=False)
    if decision.action == "capture" and decision.signature:
        # The rows claimed the new baseline; point them back at what the file holds again.
        before = decision.baseline_sha_before
        query = Baseline.select().where(Baseline.signature == decision.signature)
        if before is None:
            Baseline.delete().where(Baseline.signature == decision.signature).execute()
        elif query.exists():
            Baseline.update(sha256=before).where(Baseline.signature == decision.signature).execute()
    Decision.update(state=DecisionState.ROLLED_BACK).where(Decision.id == decision.id).execute()


def row_snapshot(comparison: Comparison) -> dict[str, Any]:
    """Everything needed to put a comparison (and its details) back after a delete."""
    data = dict(comparison.__data__)
    detail = ComparisonDetail.get_or_none(ComparisonDetail.comparison == comparison.id)
    detail_data = None
    if detail is not None:
        detail_data = {k: v for k, v in detail.__data__.items() if k != "comparison"}
    # JSON round trip: the snapshot is stored in a JSON column and must survive it unchanged.
    return json.loads(json.dumps({"comparison": data, "detail": detail_data}))
