"""The app's decisions: each key calls one vizzly_tui.review action from a thread worker.

The actions block until the store's writer has run them, so they never run on the event
loop; their progress callbacks run on the writer thread and only post messages. Every
result or error becomes a notification; a failed decision has changed nothing (the actions
roll back whole), so the app only has to say why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from textual import work

from vizzly_tui.statuses import NEW_STATUSES, ComparisonStatus
from vizzly_tui.tui.messages import (
    AcceptAllKeys,
    DecisionDone,
    DecisionFailed,
    Progress,
    ReadFailed,
)
from vizzly_tui.tui.widgets.comparisons import ComparisonList
from vizzly_tui.tui.widgets.panes import BaselinesTable, RegionsTable

if TYPE_CHECKING:
    from vizzly_tui.tui.app import ReviewApp

ACCEPTABLE = (ComparisonStatus.FAILED, *NEW_STATUSES, ComparisonStatus.REJECTED)


_VERBS = {
    "accept": "Accepted",
    "reject": "Rejected",
    "delete": "Deleted",
    "undo": "Undid",
    "restore": "Restored",
    "region": "Saved region",
    "delete-region": "Deleted region",
    "delete-baseline": "Deleted baseline",
}


def result_text(label: str, result: Any) -> str:
    text = _changed_text(label, result)
    skipped = list(getattr(result, "skipped", []) or [])
    if skipped:
        # Captured again meanwhile (accept all, undo): say which, and why, never silently.
        names = ", ".join(str(s.get("name") or s.get("id")) for s in skipped[:5])
        more = f" and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        text += f"\nLeft alone, {len(skipped)}: {names}{more} — {skipped[0].get('reason', '')}"
    return text


def _changed_text(label: str, result: Any) -> str:
    verb = _VERBS.get(label, label)
    items = list(getattr(result, "items", []) or [])
    if not items:
        return f"{verb}: nothing changed."
    if len(items) == 1:
        item = items[0]
        what = item.get("name") or item.get("id") or "settings"
        variant = " · ".join(p for p in (item.get("signature") or "").split("|")[1:] if p)
        before, after = item.get("statusBefore"), item.get("statusAfter")
        change = f": {before or '-'} → {after or 'removed'}" if before or after else ""
        undid = f" ({item['undid']})" if item.get("undid") else ""
        text = f"{verb}{undid} {what}" + (f" ({variant})" if variant else "") + change
    else:
        text = f"{verb} {len(items)} comparisons"
    return text + ("" if label == "undo" else " · u undoes")


class DecisionsMixin:
    """Key actions that change the project. Mixed into ReviewApp."""

    def _refuse(self: ReviewApp) -> bool:  # type: ignore[misc]
        reason = self.read_only_reason()
        if reason:
            self.notify(f"Not changed: {reason}", severity="warning")
            return True
        return False

    def _selected(self: ReviewApp):  # type: ignore[misc,no-untyped-def]
        row = self.main.query_one(ComparisonList).selected
        if row is None:
            self.notify("No comparison selected", severity="warning")
        return row

    def _build_uid(self: ReviewApp) -> str | None:  # type: ignore[misc]
        return next((b.uid for b in self.builds if b.id == self.viewed_build_id), None)

    def deciding(self: ReviewApp, cid: str) -> bool:  # type: ignore[misc]
        """A decision on `cid` is on its way: it is not done, or the list does not show its
        outcome yet. A key pressed again meanwhile must not decide it a second time (a
        second accept would log a no-op decision that the next `u` silently undoes)."""
        return cid in self._deciding

    def decide(
        self: ReviewApp, label: str, call: Callable[[], Any], cids: tuple[str, ...] = ()
    ) -> None:  # type: ignore[misc]
        for cid in cids:
            self._deciding[cid] = None  # None: not done; then the refresh token to wait for
        self._decision_worker(label, call, cids)

    @work(thread=True, group="decide", exit_on_error=False)
    def _decision_worker(
        self: ReviewApp, label: str, call: Callable[[], Any], cids: tuple[str, ...]
    ) -> None:  # type: ignore[misc]
        try:
            result = call()
        except Exception as exc:
            self.post_message(DecisionFailed(label, str(exc) or type(exc).__name__, cids=cids))
            return
        self.post_message(DecisionDone(label, result, cids=cids))

    def _decision_landed(self: ReviewApp, cids: tuple[str, ...]) -> None:  # type: ignore[misc]
        # Only a refresh started after this point shows the outcome.
        for cid in cids:
            self._deciding[cid] = self._token

    def decisions_shown(self: ReviewApp, token: int) -> None:  # type: ignore[misc]
        """A list read with refresh `token` is on screen: decisions it includes are over."""
        for cid, after in list(self._deciding.items()):
            if after is not None and token > after:
                del self._deciding[cid]

    def on_decision_done(self: ReviewApp, message: DecisionDone) -> None:  # type: ignore[misc]
        self._decision_landed(message.cids)
        self.progress_text = ""
        partial = bool(getattr(message.result, "skipped", None))
        self.notify(
            result_text(message.label, message.result),
            title="Done in part" if partial else "Done",
            severity="warning" if partial else "information",
            timeout=8 if partial else 4,
        )
        self.request_refresh()
        if message.label in ("undo", "restore"):
            row = self.main.query_one(ComparisonList).selected
            if row is not None:
                self._load_detail(row.id)

    def on_decision_failed(self: ReviewApp, message: DecisionFailed) -> None:  # type: ignore[misc]
        for cid in message.cids:  # nothing changed: the key may be pressed again at once
            self._deciding.pop(cid, None)
        self.progress_text = ""
        self._update_notices()
        self.notify(
            message.error,
            title=f"{_VERBS.get(message.label, message.label)}: failed",
            severity="error",
            timeout=8,
        )
        self.request_refresh()

    def on_progress(self: ReviewApp, message: Progress) -> None:  # type: ignore[misc]
        self.progress_text = f"{message.label}: {message.done}/{message.total}"
        self._update_notices()

    # --- the review keys ----------------------------------------------------------------

    def action_accept(self: ReviewApp) -> None:  # type: ignore[misc]
        from vizzly_tui import review

        if self._refuse() or (row := self._selected()) is None or self.deciding(row.cid):
            return
        uid = self._build_uid()
        self.decide(
            "accept",
            lambda: review.accept(
                self.store, [row.cid], actor="tui", build_uid=uid, shown={row.cid: row.shown}
            ),
            (row.cid,),
        )

    def action_reject(self: ReviewApp) -> None:  # type: ignore[misc]
        from vizzly_tui import review

        if self._refuse() or (row := self._selected()) is None or self.deciding(row.cid):
            return
        uid = self._build_uid()
        self.decide(
            "reject",
            lambda: review.reject(self.store, [row.cid], actor="tui", build_uid=uid),
            (row.cid,),
        )

    def action_skip(self: ReviewApp) -> None:  # type: ignore[misc]
        widget = self.main.query_one(ComparisonList)
        if widget.cursor >= widget.total - 1:
            self.notify("Last item: nothing to skip to", timeout=2)
            return
        widget.action_cursor_down()

    def action_undo(self: ReviewApp) -> None:  # type: ignore[misc]
        from vizzly_tui import review

        if self.options.read_only or self.store.writer is None:
            self._refuse()
            return
        self.decide("undo", lambda: review.undo(self.store, actor="tui"))

    def action_accept_all(self: ReviewApp) -> None:  # type: ignore[misc]
        if self._refuse() or self.list_data is None or self.list_data.query.build_id < 0:
            return
        # The list holds only a window: the keys of the whole filter are read in SQL.
        self._accept_all_worker(self.list_data.query)

    @work(thread=True, group="accept-all", exclusive=True, exit_on_error=False)
    def _accept_all_worker(self: ReviewApp, query: Any) -> None:  # type: ignore[misc]
        from vizzly_tui.tui import data

        try:
            keys = data.acceptable_keys(self.store, query, ACCEPTABLE)
        except Exception as exc:
            self.post_message(ReadFailed("the list", str(exc)))
            return
        self.post_message(AcceptAllKeys(keys))

    def on_accept_all_keys(self: ReviewApp, message: AcceptAllKeys) -> None:  # type: ignore[misc]
        from vizzly_tui.tui.screens import ConfirmScreen

        if self.screen is not self.main:
            return  # the user opened something else meanwhile
        # As the dialog states them: one captured again or decided elsewhere while it is open
        # is skipped (its new pixels were never shown), not accepted unseen. One with a
        # decision on its way is left to that decision.
        shown = {cid: seen for cid, seen in message.keys.items() if not self.deciding(cid)}
        keys = list(shown)
        if not keys:
            self.notify("Nothing to accept in this filter", severity="warning")
            return
        what = f"{len(keys)} comparison{'s' if len(keys) != 1 else ''}"
        body = (
            f"Accept {what} shown by the filter “{self.filter_description()}”?\n"
            "Their current screenshots become the baselines. u undoes it as one step."
        )
        uid = self._build_uid()

        def answered(yes: bool | None) -> None:
            from vizzly_tui import review

            if not yes:
                self.notify("Accept all: cancelled, nothing changed", timeout=3)
                return
            progress = lambda done, total: self.post_message(  # noqa: E731
                Progress("accepting", done, total)
            )
            self.decide(
                "accept",
                lambda: review.accept(
                    self.store, keys, actor="tui", build_uid=uid, progress=progress, shown=shown
                ),
                tuple(keys),
            )

        self.push_screen(ConfirmScreen(f"Accept {what}", body, yes="accept"), answered)

    def filter_description(self: ReviewApp) -> str:  # type: ignore[misc]
        from vizzly_tui.tui.data import FILTER_LABELS

        parts = [FILTER_LABELS[self.filter]]
        if self.search_text:
            parts.append(f"name contains “{self.search_text}”")
        if self.browser:
            parts.append(f"browser {self.browser}")
        if self.viewport:
            parts.append(f"viewport {self.viewport}")
        return ", ".join(parts)

    def action_delete(self: ReviewApp) -> None:  # type: ignore[misc]
        from vizzly_tui.tui.screens import ConfirmScreen

        if self._refuse() or (row := self._selected()) is None or self.deciding(row.cid):
            return
        uid = self._build_uid()

        def answered(yes: bool | None) -> None:
            from vizzly_tui import review

            if yes and not self.deciding(row.cid):
                self.decide(
                    "delete",
                    lambda: review.delete(self.store, [row.cid], actor="tui", build_uid=uid),
                    (row.cid,),
                )

        body = (
            f"Delete {row.name} ({row.variant}): the comparison, its images and its baseline?\n"
            "u undoes it."
        )
        self.push_screen(ConfirmScreen("Delete comparison", body, yes="delete"), answered)

    def action_open(self: ReviewApp) -> None:  # type: ignore[misc]
        detail = self.detail
        if detail is None:
            self.notify("No comparison selected", severity="warning")
            return
        from vizzly_tui.tui.viewer import ViewerScreen, subject_from_detail

        subject = subject_from_detail(detail, read_only=self.read_only_reason() is not None)
        self.push_screen(ViewerScreen(subject))

    # --- baselines and regions ----------------------------------------------------------

    def on_baselines_table_restore(self: ReviewApp, message: BaselinesTable.Restore) -> None:  # type: ignore[misc]
        from vizzly_tui import review

        if self._refuse() or self.detail is None:
            return
        signature = self.detail.signature
        current = next((v for v in self.versions if v["current"]), None)
        if current is not None and current["sha256"] == message.sha256:
            self.notify("That version is the baseline already", timeout=3)
            return
        self.decide(
            "restore",
            lambda: review.restore_baseline_version(
                self.store, signature, message.sha256, actor="tui"
            ),
        )

    def on_baselines_table_delete_baseline(
        self: ReviewApp, message: BaselinesTable.DeleteBaseline
    ) -> None:  # type: ignore[misc]
        from vizzly_tui.tui.screens import ConfirmScreen

        if self._refuse():
            return

        def answered(yes: bool | None) -> None:
            from vizzly_tui import review

            if yes:
                self.decide(
                    "delete-baseline",
                    lambda: review.delete_baseline(self.store, message.signature, actor="tui"),
                )

        self.push_screen(
            ConfirmScreen(
                "Delete baseline",
                f"Delete the baseline of {message.signature}? u undoes it.",
                yes="delete",
            ),
            answered,
        )

    def on_regions_table_ignore_cluster(
        self: ReviewApp, message: RegionsTable.IgnoreCluster
    ) -> None:  # type: ignore[misc]
        from vizzly_tui.tui.screens import RegionScreen

        if self._refuse() or self.detail is None:
            return
        from vizzly_tui import review

        detail = self.detail
        box = review.padded_box(message.box, pad=review.REGION_PADDING)
        c = message.box
        body = (
            f"Ignore this area of every “{detail.name}” screenshot from now on:\n"
            f"  x {box['x1']}–{box['x2']}, y {box['y1']}–{box['y2']} "
            f"({box['x2'] - box['x1']} × {box['y2'] - box['y1']} px: the cluster at "
            f"{c['x']},{c['y']} {c['width']} × {c['height']} padded by "
            f"{review.REGION_PADDING} px)\n"
            "It is saved as a local region and this comparison is compared again at once."
        )
        subject = None
        if self._preview is not None:  # the picture code is loaded: show the box on it
            from dataclasses import replace

            from vizzly_tui.tui.viewer import subject_from_detail

            body += "\nThe box drawn on the picture is the region."
            # The proposed box is the picture's only region, so no other box is mistaken for it.
            subject = replace(
                subject_from_detail(detail, read_only=True), regions=(box,), hotspots=()
            )

        def answered(yes: bool | None) -> None:
            from vizzly_tui import review

            if yes:
                self.decide(
                    "region",
                    lambda: review.add_region(
                        self.store, detail.name, box, actor="tui", recompare=detail.cid
                    ),
                )

        self.push_screen(RegionScreen("New ignore region", body, subject, yes="save"), answered)

    def on_regions_table_delete_region(self: ReviewApp, message: RegionsTable.DeleteRegion) -> None:  # type: ignore[misc]
        from vizzly_tui import review

        if self._refuse() or self.detail is None:
            return
        cid = self.detail.cid
        self.decide(
            "delete-region",
            lambda: review.delete_region(self.store, message.region_id, actor="tui", recompare=cid),
        )
