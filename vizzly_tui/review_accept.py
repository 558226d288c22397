"""Accept (the current image becomes the baseline) and reject (the baseline stays)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from vizzly_tui.errors import EXIT_USAGE, NotFound, UsageError, VizzlyError
from vizzly_tui.review_batch import (
    ActionResult,
    Progress,
    Shown,
    _about,
    _call,
    _check_actor,
    _comparison_item,
    _current_build_id,
    _keep,
    _run_batch,
    _Skip,
    resolve,
)
from vizzly_tui.statuses import ComparisonStatus
from vizzly_tui.store import decisions
from vizzly_tui.store.decisions import FileChange
from vizzly_tui.store.models import Comparison, Decision
from vizzly_tui.store.store import Store


class StaleComparison(VizzlyError):
    """The current image on disk is not the one the comparison was made from."""

    exit_code = EXIT_USAGE


ACCEPT_ALL_STATUSES = (ComparisonStatus.FAILED, ComparisonStatus.NEW)


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
            **_about(c),
            status_after=ComparisonStatus.PASSED,
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
        return _run_batch(store, "accept", steps, progress, actor=actor)

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
                    **_about(c),
                    status_after=ComparisonStatus.REJECTED,
                    snapshot={"timestamp": c.timestamp, "current_sha256": c.current_sha256},
                )

            return step

        return _run_batch(store, "reject", [step_for(c) for c in targets], None, actor=actor)

    return _call(store, command)
