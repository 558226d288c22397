"""Finish what a crash interrupted, at the start of every command (under the project lock).

Like SQLite rolling back a hot journal: a decision left `pending` is completed when every
file it meant to write is available in `objects/`, and otherwise rolled back to the bytes
it recorded as `before`. Temp files older than a minute are swept (younger ones may belong
to a live server writing a screenshot right now).
"""

from __future__ import annotations

import logging
import time

import peewee as pw

from vizzly_tui.project import Project
from vizzly_tui.statuses import DecisionState
from vizzly_tui.store import decisions, files
from vizzly_tui.store.models import ALL_MODELS, Decision

log = logging.getLogger(__name__)
TEMP_MAX_AGE_S = 60


def recover(db: pw.Database, project: Project) -> list[str]:
    """Return one line per decision finished or rolled back. Never raises for one decision:
    a start must not be blocked by a decision it cannot settle (it is marked `failed`)."""
    done: list[str] = []
    with db.bind_ctx(ALL_MODELS):
        pending = list(
            Decision.select().where(Decision.state == DecisionState.PENDING).order_by(Decision.id)
        )
        for decision in pending:
            label = f"{decision.action} of {decision.name or decision.cid} (decision {decision.id})"
            try:
                done.append(_settle(db, project, decision, label))
            except Exception as exc:
                log.exception("could not settle %s", label)
                with db.atomic():
                    Decision.update(state=DecisionState.FAILED).where(
                        Decision.id == decision.id
                    ).execute()

                done.append(f"could not settle interrupted {label}: {exc}")
            log.warning(done[-1])
    _sweep_old_temp_files(project)
    return done


def _settle(db: pw.Database, project: Project, decision: Decision, label: str) -> str:
    blocked = None
    if decision.action == "undo" and decision.undoes is not None:
        blocked = decisions.undo_blocked(decision.undoes)
    recaptured = _recaptured_accept(project, decision)
    if recaptured is not None:
        # The server recorded a newer screenshot after the crash, compared against whatever
        # the baseline file held then, and nothing has changed that file since: settle in
        # the direction that keeps it, so that comparison's result stays true.
        if recaptured:
            decisions.apply_files(project, decision, forward=True)
            with db.atomic():
                decisions.complete(project, decision)
            return f"finished interrupted {label} (its screenshot was captured again since)"
        with db.atomic():
            decisions.rollback(project, decision)
        return f"rolled back interrupted {label} (its screenshot was captured again since)"
    forward = (
        blocked is None
        and decisions.targets_available(project, decision)
        # Someone else wrote one of its files since (a re-sent screenshot): rolling forward
        # would overwrite newer work.
        and decisions.files_untouched_by_others(project, decision)
    )
    if forward:
        decisions.apply_files(project, decision, forward=True)
        try:
            with db.atomic():
                decisions.complete(project, decision)
            return f"finished interrupted {label}"
        except Exception as exc:
            log.warning("finishing %s failed (%s); rolling it back", label, exc)
    with db.atomic():
        decisions.rollback(project, decision)
    return f"rolled back interrupted {label}" + (f" ({blocked})" if blocked else "")


def _recaptured_accept(project: Project, decision: Decision) -> bool | None:
    """For an accept whose comparison was captured again since it began: True when the
    baseline file already holds the accepted bytes, False otherwise; None when not such."""
    if decision.action != "accept" or not decision.files:
        return None
    comparison = decisions.comparison_of(decision)
    if comparison is None or comparison.current_sha256 in (None, decision.baseline_sha_after):
        return None
    change = decisions.FileChange.from_json(decision.files[0])
    have = decisions.file_sha(files.image_entry(project, change.path))
    return have == change.after


def _sweep_old_temp_files(project: Project) -> None:
    cutoff = time.time() - TEMP_MAX_AGE_S
    for folder in (*files.IMAGE_FOLDERS, "objects"):
        directory = project.vizzly_dir / folder
        if not directory.is_dir():
            continue
        for leftover in directory.glob(f"{files.TEMP_PREFIX}*"):
            try:
                if leftover.stat().st_mtime < cutoff:
                    leftover.unlink()
            except OSError:
                continue
