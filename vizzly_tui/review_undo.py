"""The decision log as a user meets it: `undo` reverses its newest batch, `history` reads it."""

from __future__ import annotations

from typing import Any

from vizzly_tui.errors import NotFound
from vizzly_tui.review_batch import ActionResult, _call, _check_actor, _item, _undo_batch
from vizzly_tui.statuses import DecisionState
from vizzly_tui.store.decisions import NOT_UNDOABLE
from vizzly_tui.store.models import Decision
from vizzly_tui.store.store import Store


def undo(store: Store, *, actor: str = "cli") -> ActionResult:
    """Reverse the newest accept/reject/delete/reset batch not yet undone."""
    _check_actor(actor)

    def command() -> ActionResult:
        newest = (
            Decision.select()
            .where(
                Decision.action.not_in(NOT_UNDOABLE)
                & (Decision.state == DecisionState.DONE)
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
