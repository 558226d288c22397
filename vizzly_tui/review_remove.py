"""Delete (comparisons, their images and baselines) and reset (every baseline and the
current build's comparisons). Both keep every removed file's bytes, so undo restores them."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from vizzly_tui.errors import UsageError
from vizzly_tui.review_batch import (
    ActionResult,
    Progress,
    _call,
    _check_actor,
    _current_build_id,
    _keep,
    _run_batch,
    resolve,
)
from vizzly_tui.store import decisions, queries
from vizzly_tui.store.decisions import FileChange
from vizzly_tui.store.models import Baseline, Comparison, Decision, Setting
from vizzly_tui.store.store import Store

RESET_SETTINGS = ("baseline_metadata", "baseline_build_metadata")


def _removal_step(
    store: Store, action: str, actor: str, comparison_pk: int | None, signature: str | None
) -> Callable[[str], Decision | None]:
    project = store.project

    def step(batch: str) -> Decision | None:
        c = Comparison.get_or_none(Comparison.id == comparison_pk) if comparison_pk else None
        baseline = Baseline.get_or_none(Baseline.signature == signature) if signature else None
        if c is None and baseline is None:
            return None
        file_name = c.file_name if c is not None else baseline.file_name
        changes = []
        baseline_before = None
        folders = ("baselines", "current", "diffs") if c is not None else ("baselines",)
        for folder in folders:
            relative, before = _keep(project, folder, file_name)
            if before is not None:
                changes.append(FileChange(relative, before, None))
            if folder == "baselines":
                baseline_before = before
        snapshot = decisions.row_snapshot(c) if c is not None else {}
        if baseline is not None:
            snapshot["baseline"] = {k: v for k, v in baseline.__data__.items() if k != "id"}
        return decisions.begin(
            batch=batch,
            action=action,
            actor=actor,
            build=c.build_id if c else None,
            comparison=c.id if c else None,
            cid=c.cid if c else None,
            signature=signature,
            name=c.name if c else baseline.name,
            status_before=c.status if c else None,
            status_after=None,
            baseline_sha_before=baseline_before,
            changes=changes,
            snapshot=snapshot,
        )

    return step


def delete(
    store: Store, keys: Sequence[str], *, actor: str = "cli", build_uid: str | None = None
) -> ActionResult:
    """Remove comparisons, their images and their baselines (undo brings them back)."""
    _check_actor(actor)
    if not keys:
        raise UsageError("name at least one comparison to delete")

    def command() -> ActionResult:
        targets = resolve(_current_build_id(build_uid), keys)
        steps = [_removal_step(store, "delete", actor, c.id, c.signature) for c in targets]
        return _run_batch(store, "delete", steps, None, actor=actor)

    return _call(store, command)


def reset(store: Store, *, actor: str = "cli", progress: Progress | None = None) -> ActionResult:
    """Delete every baseline and the current build's comparisons; undo restores them all.

    Hotspot and region data are kept: they come from the cloud, not from this project.
    """
    _check_actor(actor)

    def command() -> ActionResult:
        build = queries.current_build()
        comparisons = list(build.comparisons.order_by(Comparison.id)) if build else []
        covered = {c.signature for c in comparisons}
        steps = [_removal_step(store, "reset", actor, c.id, c.signature) for c in comparisons]
        for baseline in Baseline.select().order_by(Baseline.id):
            if baseline.signature not in covered:
                steps.append(_removal_step(store, "reset", actor, None, baseline.signature))
        steps.append(_settings_reset_step(actor))
        return _run_batch(store, "reset", steps, progress, actor=actor)

    return _call(store, command)


def _settings_reset_step(actor: str) -> Callable[[str], Decision | None]:
    def step(batch: str) -> Decision | None:
        saved = {
            row.key: row.value for row in Setting.select().where(Setting.key.in_(RESET_SETTINGS))
        }
        if not saved:
            return None
        return decisions.begin(
            batch=batch, action="reset", actor=actor, snapshot={"settings": saved}
        )

    return step
