"""The review actions: accept, reject, delete, reset, undo. The CLI, the server and the app
all call these, so a decision means the same thing whichever front end made it.

Each action runs on the store's writer thread. Every comparison it touches goes through the
crash-safe protocol of store.decisions (pending -> files -> done) under the project lock.
A user action is one `batch` of decisions: undo reverses the newest batch, and a batch that
fails part-way is undone before the error is reported, so a failed command changes nothing.

Other processes keep recording screenshots meanwhile. `accept --all` and `undo` re-check
each comparison under the project lock: one captured again since the command started is
skipped and reported in `skipped` (the CLI exits 5), never accepted or reverted unseen. A
failed batch whose rollback must leave something applied says exactly what (PartlyApplied).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vizzly_tui.errors import (
    EXIT_USAGE,
    DiskFull,
    FilesError,
    NotFound,
    PartlyApplied,
    UsageError,
    VizzlyError,
    disk_full_message,
    is_disk_full,
)
from vizzly_tui.project import Project
from vizzly_tui.store import decisions, files, queries
from vizzly_tui.store.decisions import FileChange
from vizzly_tui.store.models import Baseline, Comparison, Decision, Setting
from vizzly_tui.store.store import Store

ACTORS = ("cli", "http", "tui")


class StaleComparison(VizzlyError):
    """The current image on disk is not the one the comparison was made from."""

    exit_code = EXIT_USAGE


ACCEPT_ALL_STATUSES = ("failed", "new")
# `capture` records a screenshot's first baseline (crash safety only): not a review decision.
NOT_UNDOABLE = ("undo", "capture")
RESET_SETTINGS = ("baseline_metadata", "baseline_build_metadata")
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


def _run_decision(store: Store, make: Callable[[], Decision | None]) -> Decision | None:
    """Steps 1-3 of the protocol for one decision, under the project lock."""
    assert store.db is not None
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
    store: Store, action: str, steps: list[Callable[[], Decision | None]], progress: Progress | None
) -> ActionResult:
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
            _roll_back_batch(store, action, batch, result, exc)
        raise
    return result


def _roll_back_batch(
    store: Store, action: str, batch: str, result: ActionResult, exc: BaseException
) -> None:
    """Undo what a failed batch applied; when some of it must stay (captured again since,
    so reverting would misdescribe the newer screenshot), raise PartlyApplied naming it."""
    rolled = _undo_batch(store, batch, "undo", actor="cli", strict=False)
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


# --- accept -------------------------------------------------------------------------------


def _accept_step(
    store: Store,
    comparison_pk: int,
    actor: str,
    seen: Comparison | None = None,
    shown: Shown | None = None,
) -> Callable[[str], Decision]:
    """One accept. With `seen` (accept --all: the comparison as listed when the command
    began), a comparison that changed since is skipped rather than accepted unseen; with
    `shown` (what a reviewer's screen showed of it), likewise."""
    project = store.project

    def step(batch: str) -> Decision:
        c = Comparison.get_or_none(Comparison.id == comparison_pk)
        if (
            c is not None
            and shown is not None
            and (c.timestamp, c.current_sha256, c.status) != tuple(shown)
        ):
            raise _Skip(
                _comparison_item(c), "changed since it was shown (captured again or decided)"
            )
        if seen is not None:
            if c is None:
                raise _Skip(_comparison_item(seen), "deleted during the accept")
            if (c.timestamp, c.current_sha256) != (seen.timestamp, seen.current_sha256):
                raise _Skip(_comparison_item(c), "captured again during the accept; review it")
            if c.status not in ACCEPT_ALL_STATUSES:
                raise _Skip(_comparison_item(c), f"became {c.status} during the accept")
        elif c is None:
            raise NotFound(f"Comparison not found: {comparison_pk}")
        current_rel, after = _keep(project, "current", c.file_name)
        if after is None:
            raise NotFound(f"Current screenshot not found: .vizzly/{current_rel}")
        if c.current_sha256 and after != c.current_sha256:
            if seen is not None:
                raise _Skip(
                    _comparison_item(c), "a newer screenshot of it is being recorded; review it"
                )
            # The file changed after this comparison was made (a re-sent screenshot still being
            # compared, or a crash between the two): accepting would promote unreviewed pixels.
            raise StaleComparison(
                f"{c.name} ({c.signature}): .vizzly/{current_rel} changed since it was compared; "
                "wait for the screenshot to be recorded (or send it again), then review it"
            )
        baseline_rel, before = _keep(project, "baselines", c.file_name)
        return decisions.begin(
            batch=batch,
            action="accept",
            actor=actor,
            build=c.build_id,
            comparison=c.id,
            cid=c.cid,
            signature=c.signature,
            name=c.name,
            status_before=c.status,
            status_after="passed",
            baseline_sha_before=before,
            baseline_sha_after=after,
            changes=[FileChange(baseline_rel, before, after)],
            snapshot={
                "comparison_fields": {"diff_percentage": c.diff_percentage, "diff": c.diff},
                "file_name": c.file_name,
                "properties": c.properties,
                "timestamp": c.timestamp,
                "current_sha256": c.current_sha256,
            },
        )

    return step


def accept(
    store: Store,
    keys: Sequence[str] = (),
    *,
    all_: bool = False,
    actor: str = "cli",
    build_uid: str | None = None,
    progress: Progress | None = None,
    shown: Mapping[str, Shown] | None = None,
) -> ActionResult:
    """Make each named comparison's current image its baseline; status becomes `passed`.

    `all_` accepts every `failed` and `new` comparison of the build (contract §4.4).
    `shown` (the review app): comparison id -> (timestamp, current_sha256, status) as the
    reviewer saw it; one that differs now is skipped, not accepted unseen.
    """
    _check_actor(actor)
    if not all_ and not keys:
        raise UsageError("name at least one comparison (id, name or signature), or use --all")

    def command() -> ActionResult:
        build_id = _current_build_id(build_uid)
        if all_:
            targets = list(
                Comparison.select()
                .where((Comparison.build == build_id) & Comparison.status.in_(ACCEPT_ALL_STATUSES))
                .order_by(Comparison.id)
            )
        else:
            targets = resolve(build_id, keys)
        # Check every current file first: a predictable failure must not leave half a batch.
        missing = [
            c.file_name for c in targets if not (store.project.current_dir / c.file_name).exists()
        ]
        if missing:
            raise NotFound(
                f"Current screenshot not found for {len(missing)} comparison(s): "
                + ", ".join(f".vizzly/current/{m}" for m in missing[:5])
            )
        steps = [
            _accept_step(store, c.id, actor, c if all_ else None, (shown or {}).get(c.cid))
            for c in targets
        ]
        return _run_batch(store, "accept", steps, progress)

    return _call(store, command)


# --- reject -------------------------------------------------------------------------------


def reject(
    store: Store, keys: Sequence[str], *, actor: str = "cli", build_uid: str | None = None
) -> ActionResult:
    """Keep the baseline: the comparisons become `rejected`; no file changes."""
    _check_actor(actor)
    if not keys:
        raise UsageError("name at least one comparison to reject")

    def command() -> ActionResult:
        targets = resolve(_current_build_id(build_uid), keys)

        def step_for(c: Comparison) -> Callable[[str], Decision]:
            def step(batch: str) -> Decision:
                return decisions.begin(
                    batch=batch,
                    action="reject",
                    actor=actor,
                    build=c.build_id,
                    comparison=c.id,
                    cid=c.cid,
                    signature=c.signature,
                    name=c.name,
                    status_before=c.status,
                    status_after="rejected",
                    snapshot={"timestamp": c.timestamp, "current_sha256": c.current_sha256},
                )

            return step

        return _run_batch(store, "reject", [step_for(c) for c in targets], None)

    return _call(store, command)


# --- delete and reset ---------------------------------------------------------------------


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
        return _run_batch(store, "delete", steps, None)

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
        return _run_batch(store, "reset", steps, progress)

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


# --- undo ---------------------------------------------------------------------------------


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
            (Decision.batch == batch) & (Decision.state == "done") & (Decision.undone == False)  # noqa: E712 - peewee builds SQL from ==
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
            if fresh.undone or fresh.state != "done":
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
            result.skipped.append({**_item(original), "reason": f"could not undo it: {exc}"})
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
        Decision.update(state="superseded").where(
            Decision.id.in_(decision_ids) & (Decision.state == "done") & (Decision.undone == False)  # noqa: E712 - peewee builds SQL from ==
        ).execute()


def undo(store: Store, *, actor: str = "cli") -> ActionResult:
    """Reverse the newest accept/reject/delete/reset batch not yet undone."""
    _check_actor(actor)

    def command() -> ActionResult:
        newest = (
            Decision.select()
            .where(
                Decision.action.not_in(NOT_UNDOABLE)
                & (Decision.state == "done")
                & (Decision.undone == False)  # noqa: E712
            )
            .order_by(Decision.id.desc())
            .first()
        )
        if newest is None:
            raise NotFound("nothing to undo")
        return _undo_batch(store, newest.batch, "undo", actor=actor)

    return _call(store, command)


def history(limit: int = 20) -> list[dict[str, Any]]:
    """The newest decisions, for `vizzly-tui log` and the app."""
    rows = (
        Decision.select()
        .where(Decision.action != "capture")
        .order_by(Decision.id.desc())
        .limit(limit)
    )
    return [
        {
            **_item(d),
            "action": d.action,
            "actor": d.actor,
            "state": d.state,
            "createdAt": d.created_at,
            "undone": bool(d.undone),
            "batch": d.batch,
        }
        for d in rows
    ]


# --- cloud baseline download --------------------------------------------------------------


def install_download(store: Store, *, actor: str = "cli", **arguments: Any) -> ActionResult:
    """Install a verified cloud download (store.cloud_download) as ONE decision: the new
    baseline set, its build, hotspots, regions and settings; `undo` restores the previous."""
    _check_actor(actor)
    from vizzly_tui.store import cloud_download

    def command() -> ActionResult:
        batch = uuid.uuid4().hex
        decision = _run_decision(
            store,
            lambda: cloud_download.begin_download(
                store.project, batch=batch, actor=actor, **arguments
            ),
        )
        result = ActionResult("download", batch)
        if decision is not None:
            result.items.append(_item(decision))
        return result

    return store.call(command, transaction=False)


# The app's actions (restore a baseline version, local regions) live in a sibling module to
# keep this one readable; they are part of this module's interface. Loaded on first use
# (PEP 562): review_history imports this module, so a top-level import would be circular.
_FROM_HISTORY = (
    "REGION_PADDING",
    "add_region",
    "delete_baseline",
    "delete_region",
    "padded_box",
    "region_corners",
    "restore_baseline_version",
)


def __getattr__(name: str) -> Any:
    if name in _FROM_HISTORY:
        from vizzly_tui import review_history

        return getattr(review_history, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
