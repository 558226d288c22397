"""Row effects of the decisions the review app added: restore an older baseline version, add
or delete a local region (store.decisions calls these in step 3, and when an undo of one of
them completes). They live in the store, not in vizzly_tui.review, because a start that
finds one of them pending must be able to finish it without loading review code.

A region decision may carry a `recompare` snapshot: the comparison's result fields before
and after the region change, computed by the action before step 1. Completing applies
`after`; undoing applies `before`. Either is skipped when the comparison was captured again
in between (its timestamp moved): the newer screenshot's own result wins.
"""

from __future__ import annotations

from typing import Any

from vizzly_tui.project import Project
from vizzly_tui.store import decisions
from vizzly_tui.store.models import Comparison, ComparisonDetail, Decision, Region


def complete(project: Project, decision: Decision) -> None:
    snapshot = decision.snapshot or {}
    if decision.action == "restore":
        decisions._set_baseline(project, decision, decision.baseline_sha_after, "restore")
        _apply_comparison(snapshot, "after")
    elif decision.action == "region-add":
        region_id = Region.insert(**snapshot["region"]).execute()
        # The undo needs the row id, known only now.
        Decision.update(snapshot={**snapshot, "region_id": region_id}).where(
            Decision.id == decision.id
        ).execute()
        _apply_comparison(snapshot, "after")
    elif decision.action == "region-delete":
        Region.delete().where(Region.id == snapshot["region"]["id"]).execute()
        _apply_comparison(snapshot, "after")
    else:
        raise ValueError(f"unknown decision action {decision.action!r}")


def undo(project: Project, decision: Decision, original: Decision) -> None:
    snapshot = Decision.get_by_id(original.id).snapshot or {}
    if original.action == "restore":
        decisions._set_baseline(project, decision, original.baseline_sha_before, "undo")
        _apply_comparison(snapshot, "before")
    elif original.action == "region-add":
        if snapshot.get("region_id") is not None:
            Region.delete().where(Region.id == snapshot["region_id"]).execute()
        _apply_comparison(snapshot, "before")
    elif original.action == "region-delete":
        row = dict(snapshot["region"])
        if Region.get_or_none(Region.id == row["id"]) is not None:
            row.pop("id")  # the id was reused since; any id will do
        Region.insert(**row).execute()
        _apply_comparison(snapshot, "before")
    else:
        raise ValueError(f"cannot undo {original.action!r}")


def _apply_comparison(snapshot: dict[str, Any], which: str) -> None:
    recompare = snapshot.get("recompare")
    if not recompare:
        return
    c = Comparison.get_or_none(Comparison.id == recompare["comparison"])
    if c is None or c.timestamp != recompare["timestamp"]:
        return
    state = recompare[which]
    Comparison.update(**state["row"], updated_at=decisions.now_ms()).where(
        Comparison.id == c.id
    ).execute()
    ComparisonDetail.delete().where(ComparisonDetail.comparison == c.id).execute()
    if state.get("detail"):
        ComparisonDetail.insert(comparison=c.id, **state["detail"]).execute()
