"""How every review action runs: a `batch` of decisions, each through the crash-safe
protocol of store.decisions (pending -> files -> done) under the project lock, on the
store's writer thread; and how a batch is reversed (`undo`, or the rollback of a batch that
failed part-way, so a failed command changes nothing). Also the helpers the actions share:
resolving the comparisons a user named, keeping a file's bytes so they can come back, and
describing a failure in words that name the folder.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vizzly_tui.errors import (
    CorruptDatabase,
    DiskFull,
    FilesError,
    NotFound,
    PartlyApplied,
    UsageError,
    disk_full_message,
    is_disk_full,
)
from vizzly_tui.project import Project
from vizzly_tui.statuses import DecisionState
from vizzly_tui.store import decisions, files, queries
from vizzly_tui.store.decisions import FileChange
from vizzly_tui.store.models import Comparison, Decision
from vizzly_tui.store.store import Store

ACTORS = ("cli", "http", "tui")
Progress = Callable[[int, int], None]
# A comparison as a reviewer's screen showed it: (timestamp, current_sha256, status).
Shown = tuple[Any, Any, str]


class _Skip(Exception):
    """A step found its comparison changed since the command began: leave it and say why."""

    def __init__(self, item: dict[str, Any], reason: str, *, set_aside: int | None = None) -> None:
        super().__init__(reason)
        self.item = {**item, "reason": reason}
        self.set_aside = set_aside  # a decision that can never be undone now (undo only)


@dataclass
class ActionResult:
    action: str
    batch: str | None
    items: list[dict[str, Any]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.items)

    def to_json(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "batch": self.batch,
            "count": self.count,
            "items": self.items,
            "skipped": self.skipped,
        }


def _comparison_item(c: Comparison) -> dict[str, Any]:
    return {"id": c.cid, "name": c.name, "signature": c.signature, "status": c.status}


def _item(decision: Decision) -> dict[str, Any]:
    return {
        "id": decision.cid,
        "name": decision.name,
        "signature": decision.signature,
        "statusBefore": decision.status_before,
        "statusAfter": decision.status_after,
    }


def _check_actor(actor: str) -> None:
    if actor not in ACTORS:
        raise ValueError(f"actor must be one of {ACTORS}, not {actor!r}")


def _current_build_id(build_uid: str | None) -> int:
    build = queries.get_build(build_uid) if build_uid else queries.current_build()
    if build is None:
        raise NotFound("no build yet: nothing to review (send screenshots with serve or run first)")
    return build.id


def resolve(build_id: int, keys: Sequence[str]) -> list[Comparison]:
    """Comparisons named by ids, signatures or names; every unknown key is an error."""
    found: dict[int, Comparison] = {}
    missing: list[str] = []
    for key in keys:
        matches = queries.find_comparisons(build_id, key)
        if not matches:
            missing.append(key)
        for comparison in matches:
            found.setdefault(comparison.id, comparison)
    if missing:
        raise NotFound(f"Comparison not found: {', '.join(missing)}")
    return list(found.values())


def _keep(project: Project, folder: str, file_name: str) -> tuple[str, str | None]:
    """Copy the file's bytes into objects/ (so they can come back) and return its sha."""
    relative = files.relative_image_path(project, folder, file_name)
    path = files.resolve_in_vizzly(project, relative)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return relative, None
    return relative, files.store_object(project, data)


def _about(c: Comparison) -> dict[str, Any]:
    """What a decision on comparison `c` records of it (decisions.begin's keywords)."""
    return {
        "build": c.build_id,
        "comparison": c.id,
        "cid": c.cid,
        "signature": c.signature,
        "name": c.name,
        "status_before": c.status,
    }


def _run_decision(store: Store, make: Callable[[], Decision | None]) -> Decision | None:
    """Steps 1-3 of the protocol for one decision, under the project lock."""
    assert store.db is not None
    # Each decision of a long batch, not only the batch's start: a state.db deleted or
    # replaced meanwhile stops it here rather than 200 file changes later (one stat).
    store.ensure_writable()
    with decisions.project_lock(store.project):
        with store.db.atomic():
            decision = make()
        if decision is None:
            return None
        try:
            decisions.apply_files(store.project, decision)
            with store.db.atomic():
                decisions.complete(store.project, Decision.get_by_id(decision.id))
        except BaseException:
            # A failed command changes nothing: put the files back now rather than leave a
            # pending row that the next start would roll forward.
            with store.db.atomic():
                decisions.rollback(store.project, Decision.get_by_id(decision.id))
            raise
        return Decision.get_by_id(decision.id)


def _run_batch(
    store: Store,
    action: str,
    steps: list[Callable[[str], Decision | None]],
    progress: Progress | None,
    *,
    actor: str,
) -> ActionResult:
    """Run `steps` as one batch made by `actor`; one that fails part-way is rolled back
    whole, the rollback logged under the same actor (the log says who caused it)."""
    batch = uuid.uuid4().hex
    result = ActionResult(action, batch)
    try:
        for index, step in enumerate(steps, 1):
            try:
                decision = _run_decision(store, lambda step=step: step(batch))
            except _Skip as skip:
                result.skipped.append(skip.item)
                decision = None
            if decision is not None:
                result.items.append(_item(decision))
            if progress:
                progress(index, len(steps))
    except BaseException as exc:
        if result.items:
            _roll_back_batch(store, action, batch, result, exc, actor=actor)
        raise
    return result


def _roll_back_batch(
    store: Store, action: str, batch: str, result: ActionResult, exc: BaseException, *, actor: str
) -> None:
    """Undo what a failed batch applied; when some of it must stay (captured again since,
    so reverting would misdescribe the newer screenshot), raise PartlyApplied naming it."""
    rolled = _undo_batch(store, batch, "undo", actor=actor, strict=False)
    if not rolled.skipped:
        return
    left = "; ".join(f"{s.get('name') or s.get('id')} ({s['reason']})" for s in rolled.skipped)
    raise PartlyApplied(
        f"{action} stopped part-way: {_describe_error(store.project, exc)}. "
        f"Rolled back {rolled.count} of {result.count}; left applied: {left}"
    ) from exc


def _call(store: Store, command: Callable[[], ActionResult]) -> ActionResult:
    """Run an action on the writer. A file that cannot be written (a read-only folder, a full
    disk) becomes a message naming its folder; by then the action was rolled back."""
    try:
        return store.call(command, transaction=False)
    except OSError as exc:
        if is_disk_full(exc):
            raise DiskFull(
                disk_full_message(
                    ".vizzly/", f"{_describe_os_error(store.project, exc)}; nothing was changed"
                )
            ) from exc
        raise FilesError(
            f"{_describe_os_error(store.project, exc)}; nothing was changed. "
            "Make the folder writable (or free some space), then retry."
        ) from exc


def _describe_error(project: Project, exc: BaseException) -> str:
    return _describe_os_error(project, exc) if isinstance(exc, OSError) else str(exc)


def _describe_os_error(project: Project, exc: OSError) -> str:
    where = Path(exc.filename).parent if exc.filename else project.vizzly_dir
    try:
        inside = where.resolve().relative_to(project.vizzly_dir.resolve())
        shown = ".vizzly/" if inside == Path() else f".vizzly/{inside}/"
    except ValueError:
        shown = f"{where}/"
    reason = exc.strerror or str(exc)
    return f"cannot write in {shown} ({reason})"


def _undo_batch(
    store: Store, batch: str, action: str, *, actor: str, strict: bool = True
) -> ActionResult:
    """Reverse a batch. A decision that cannot be undone (its screenshot was captured again
    since: restoring it would throw away a result nobody reviewed) is skipped and reported,
    never touched; each is checked again under the project lock, as another process may
    record a screenshot meanwhile. `strict` (a user's undo): the skipped decisions are set
    aside (state `superseded`), so the next undo goes on to the decision before them instead
    of stopping at them for ever. Not strict (rolling back a failed batch): they stay as
    they are, reported by the caller."""
    originals = list(
        Decision.select()
        .where(
            (Decision.batch == batch)
            & (Decision.state == DecisionState.DONE)
            & (Decision.undone == False)  # noqa: E712 - peewee builds SQL from ==
        )
        .order_by(Decision.id.desc())
    )
    if strict:
        # A download replaced the whole baseline set in one decision: undoing part of it, or
        # setting it aside and undoing older decisions over the set it installed, would mix
        # two sets. It is refused whole until its reason is dealt with.
        whole = [
            reason
            for o in originals
            if o.action == "download" and (reason := decisions.undo_blocked(o))
        ]
        if whole:
            raise UsageError("cannot undo: " + "; ".join(whole))
    undo_batch = uuid.uuid4().hex
    result = ActionResult(action, undo_batch)
    blocked: list[int] = []
    for original in originals:

        def make(original: Decision = original) -> Decision:
            fresh = Decision.get_by_id(original.id)
            if fresh.undone or fresh.state != DecisionState.DONE:
                raise _Skip(_item(fresh), "already undone by another command")
            reason = decisions.undo_blocked(fresh)
            if reason is not None:
                raise _Skip(_item(fresh), reason, set_aside=fresh.id)
            # `before` is what each file holds now (kept in objects/ so this undo can itself be
            # rolled back), not what the original decision left: others may have written since.
            changes = []
            for raw in original.files:
                change = FileChange.from_json(raw)
                folder, _, file_name = change.path.partition("/")
                _, now = _keep(store.project, folder, file_name)
                changes.append(FileChange(change.path, now, change.before))
            return decisions.begin(
                batch=undo_batch,
                action="undo",
                actor=actor,
                build=original.build_id,
                comparison=original.comparison_id,
                cid=original.cid,
                signature=original.signature,
                name=original.name,
                status_before=original.status_after,
                status_after=original.status_before,
                baseline_sha_before=original.baseline_sha_after,
                baseline_sha_after=original.baseline_sha_before,
                changes=changes,
                undoes=original.id,
                snapshot=original.snapshot,
            )

        try:
            decision = _run_decision(store, make)
        except _Skip as skip:
            result.skipped.append(skip.item)
            if skip.set_aside is not None:
                blocked.append(skip.set_aside)
            continue
        except Exception as exc:
            if strict and result.items:
                done = ", ".join(str(i.get("name") or i.get("id")) for i in result.items)
                raise PartlyApplied(
                    f"undo stopped part-way: {_describe_error(store.project, exc)}. "
                    f"Already undone: {done}; run undo again to finish."
                ) from exc
            if strict:
                raise
            # A store that refuses every write: the batch's own message says why, once.
            why = "" if isinstance(exc, CorruptDatabase) else f": {exc}"
            result.skipped.append({**_item(original), "reason": f"could not undo it{why}"})
            continue
        if decision is not None:
            item = _item(decision)
            item["undid"] = original.action
            result.items.append(item)
    if strict:
        _set_aside(store, blocked)
    return result


def _set_aside(store: Store, decision_ids: list[int]) -> None:
    """Mark decisions that can no longer be undone, under the lock like every decision."""
    if not decision_ids:
        return
    assert store.db is not None
    with decisions.project_lock(store.project), store.db.atomic():
        Decision.update(state=DecisionState.SUPERSEDED).where(
            Decision.id.in_(decision_ids)
            & (Decision.state == DecisionState.DONE)
            & (Decision.undone == False)  # noqa: E712 - peewee builds SQL from ==
        ).execute()
