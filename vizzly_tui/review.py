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

This module is their interface; the work is in review_batch (running and reversing a batch),
review_accept (accept, reject), review_remove (delete, reset), review_undo (undo, the log)
and review_history (the app's actions).
"""

from __future__ import annotations

import uuid
from typing import Any

# The actions live in one module per job; this module is their one interface: the CLI, the
# server and the app import only `vizzly_tui.review`.
from vizzly_tui.review_accept import ACCEPT_ALL_STATUSES, StaleComparison, accept, reject
from vizzly_tui.review_batch import (
    ACTORS,
    ActionResult,
    Progress,
    Shown,
    _item,
    _run_decision,
    resolve,
)

# Imported `as` themselves: the helpers review_history builds its actions from (it imports
# them from here).
from vizzly_tui.review_batch import _check_actor as _check_actor
from vizzly_tui.review_batch import _keep as _keep
from vizzly_tui.review_batch import _run_batch as _run_batch
from vizzly_tui.review_remove import RESET_SETTINGS, delete, reset
from vizzly_tui.review_remove import _removal_step as _removal_step
from vizzly_tui.review_undo import history, undo
from vizzly_tui.store.store import Store

__all__ = [
    "ACCEPT_ALL_STATUSES",
    "ACTORS",
    "RESET_SETTINGS",
    "ActionResult",
    "Progress",
    "Shown",
    "StaleComparison",
    "accept",
    "delete",
    "history",
    "install_download",
    "reject",
    "reset",
    "resolve",
    "undo",
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
