"""The app's reads: refreshing builds and the list, the detail of the selected comparison,
the pane titles and notices. Mixed into ReviewApp.

Every read runs in a thread worker and comes back as a message; a burst of refresh requests
(commits of other processes, our own decisions) is paced to one refresh per REFRESH_GAP_S,
never dropped, and the list keeps its cursor by comparison id. The list is paged from SQL:
a refresh reads the row count and a window around the viewport; lines scrolled to later
ask for their page (ComparisonList.PageWanted), read by a thread worker too.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from rich.text import Text
from textual import work
from textual.widgets import Static

from vizzly_tui.formatting import printable
from vizzly_tui.statuses import BuildStatus, ComparisonStatus
from vizzly_tui.store.queries_history import STATUS_KEYS
from vizzly_tui.tui import data
from vizzly_tui.tui.data import FILTER_LABELS, ListData, Query
from vizzly_tui.tui.messages import BuildsReady, DetailLoaded, ListLoaded, PageLoaded, ReadFailed
from vizzly_tui.tui.widgets.comparisons import PAGE_SIZE, ComparisonList
from vizzly_tui.tui.widgets.panes import BaselinesTable, BuildsTable, DetailView, RegionsTable

if TYPE_CHECKING:
    from vizzly_tui.tui.app import ReviewApp

# A refresh starts at most this often: 100 commits a second become ~5 repaints, and a
# commit is still on screen well inside the 500 ms budget (poll 100 ms + gap + read).
REFRESH_GAP_S = 0.2

Handler = TypeVar("Handler", bound=Callable[..., Any])


def while_open(handler: Handler) -> Handler:
    """A read that lands while the app shuts down (its screens already gone) is dropped:
    there is no pane left to show it in."""

    @functools.wraps(handler)
    def guarded(self: ReviewApp, message: Any) -> Any:
        if not self.is_running or not self.screen_stack:
            return None  # shutting down: its panes are being (or were) removed
        return handler(self, message)

    return guarded  # type: ignore[return-value]


class LoadingMixin:
    def current_query(self: ReviewApp, build_id: int) -> Query:
        return Query(build_id, self.filter, self.search_text, self.browser, self.viewport)

    def request_refresh(self: ReviewApp) -> None:
        """Reload builds, the list and the detail; bursts are paced, never dropped."""
        if self.store.db is None:
            return
        if self._refresh_running:
            self._refresh_pending = True
            return
        wait = REFRESH_GAP_S - (time.monotonic() - self._last_refresh)
        if wait > 0:
            if self._refresh_timer is None:
                self._refresh_timer = self.set_timer(wait, self._start_refresh)
            return
        self._start_refresh()

    def _start_refresh(self: ReviewApp) -> None:
        self._refresh_timer = None
        if not self.screen_stack:
            return  # shutting down
        self._refresh_running = True
        self._refresh_pending = False
        self._last_refresh = time.monotonic()
        self._token += 1
        viewed = None if self.follow_newest else self.viewed_build_id
        widget = self.main.query_one(ComparisonList)
        selected = widget.selected
        # Kept by id: in "needs review" a decided row leaves, so the cursor stays in its
        # place (the next item); in "all" it moves with the row to its new place in the
        # stored review order (migration 002 orders by the current status).
        keep = selected.id if selected else None
        self._refresh_worker(
            viewed,
            self.options.build_uid if viewed is None else None,
            self._token,
            # Everything the worker needs, taken here: it must not read the UI's state.
            self.current_query(-1),
            keep,
            widget.cursor,
            round(widget.scroll_y),
            widget.scrollable_content_region.height or 20,
        )

    @work(thread=True, exclusive=True, group="refresh", exit_on_error=False)
    def _refresh_worker(
        self: ReviewApp,
        viewed_id: int | None,
        wanted_uid: str | None,
        token: int,
        query: Query,
        keep_id: int | None,
        fallback: int,
        top: int,
        height: int,
    ) -> None:
        try:
            builds = data.load_builds(self.store)
            newest = next((b.id for b in builds if not b.is_origin), None)
            build_id = viewed_id
            if build_id is None and wanted_uid and not self.follow_newest:
                build_id = next((b.id for b in builds if b.uid == wanted_uid), None)
            if build_id is None:
                build_id = newest
            self.post_message(BuildsReady(builds, newest, build_id))
            if build_id is None:
                empty = ListData(Query(-1), 0, 0, (), 0, {}, (), ())
                self.post_message(ListLoaded(empty, token))
                return
            listing = data.load_window(
                self.store,
                replace(query, build_id=build_id),
                keep_id=keep_id,
                fallback=fallback,
                top=top,
                height=height,
            )
            # The detail of the row the list will select, read now in this thread too: the
            # first screen and each live refresh need one worker, not two.
            row = listing.selected
            detail = data.load_detail(self.store, row.id) if row else None
            versions = data.baseline_versions(self.store, detail.signature) if detail else ()
            self.post_message(ListLoaded(listing, token, row.id if row else None))
            if row is not None:
                self.post_message(DetailLoaded(detail, versions, row.id))
        except Exception as exc:
            self.post_message(ReadFailed("refresh", str(exc)))

    @while_open
    def on_builds_ready(self: ReviewApp, message: BuildsReady) -> None:
        self.builds = message.builds
        self.newest_build_id = message.newest
        if (
            self.options.build_uid
            and self.viewed_build_id is None
            and not any(b.uid == self.options.build_uid for b in message.builds)
        ):
            self.notify(
                f"no build {self.options.build_uid!r}: showing the newest", severity="warning"
            )
            self.follow_newest = True
        self.viewed_build_id = message.build
        self.main.query_one(BuildsTable).show(message.builds, message.build)
        self._update_notices()

    @while_open
    def on_list_loaded(self: ReviewApp, message: ListLoaded) -> None:
        self._refresh_running = False
        self.decisions_shown(message.token)
        if message.token == self._token:
            self._prefetched = message.detail_for
            self._show_list(message.data)
            if self.main.query_one(BaselinesTable).all_view:
                self._all_baselines_worker()  # every baseline, kept as live as the list
        if self._refresh_pending:
            self.request_refresh()

    def on_comparison_list_page_wanted(self: ReviewApp, message: ComparisonList.PageWanted) -> None:
        if self.list_data is not None and self.list_data.query.build_id >= 0:
            self._page_worker(self.list_data.query, message.generation, message.offset)

    @work(thread=True, group="page", exit_on_error=False)
    def _page_worker(self: ReviewApp, query: Query, generation: int, offset: int) -> None:
        try:
            rows = data.load_page(self.store, query, offset, PAGE_SIZE)
        except Exception as exc:
            self.post_message(ReadFailed("the list", str(exc)))
            return
        self.post_message(PageLoaded(generation, offset, rows))

    @while_open
    def on_page_loaded(self: ReviewApp, message: PageLoaded) -> None:
        self.main.query_one(ComparisonList).add_page(
            message.generation, message.offset, message.rows
        )

    @while_open
    def on_read_failed(self: ReviewApp, message: ReadFailed) -> None:
        if message.what == "refresh":
            self._refresh_running = False
        if self.store.damaged:
            return  # reads of a damaged or vanished file fail too; the notices say why
        self.notify(f"could not read {message.what}: {message.error}", severity="error")

    def _show_list(self: ReviewApp, listing: ListData) -> None:
        widget = self.main.query_one(ComparisonList)
        self.list_data = listing
        widget.empty_message = self._empty_message(listing)
        widget.set_window(listing.total, listing.start, listing.rows, listing.cursor)
        self._update_titles()
        self._update_notices()
        if not listing.total and self.filter == "needs-review" and listing.counts.get("total"):
            if not self._announced_done:
                self._announced_done = True
                self.notify(widget.empty_message, title="Review done")
        elif listing.total:
            self._announced_done = False
        if self._first_screen_at is None:
            self._first_screen_at = time.perf_counter()
            self._warm_viewer()

    def _empty_message(self: ReviewApp, listing: ListData) -> str:
        counts = listing.counts
        if listing.query.build_id < 0:
            return (
                "No screenshots recorded yet: run your tests with `vizzly-tui run -- <command>` "
                "or point the Vizzly SDK at `vizzly-tui serve`; they show up here as they arrive."
            )
        if not counts.get("total"):
            return "No comparisons in this build."
        summary = ", ".join(
            f"{counts.get(s, 0)} {s}"
            for s in (
                ComparisonStatus.PASSED,
                ComparisonStatus.FAILED,
                ComparisonStatus.NEW,
                ComparisonStatus.REJECTED,
                ComparisonStatus.ERROR,
            )
        )
        if self.filter == "needs-review" and not self._narrowed():
            return f"Nothing left to review: {summary}."
        return f"Nothing matches the filter ({summary} in the build)."

    def _narrowed(self: ReviewApp) -> bool:
        return bool(self.search_text or self.browser or self.viewport)

    def _update_titles(self: ReviewApp) -> None:
        listing = self.list_data
        pane = self.main.query_one("#comparisons-pane")
        if listing is None:
            return
        c = listing.counts
        counts = " ".join(f"{c.get(s, 0)} {s}" for s in STATUS_KEYS)
        pane.border_title = f"2 Comparisons · {FILTER_LABELS[self.filter]} ({listing.total})"
        pane.border_subtitle = counts

    def _update_notices(self: ReviewApp) -> None:
        # Built as Text, not markup: they quote search text, browsers and build ids.
        notes: list[Text] = []
        reason = self.read_only_reason()
        if reason:
            notes.append(Text.assemble(("read-only", "bold"), f": {printable(reason)}"))
        viewed = next((b for b in self.builds if b.id == self.viewed_build_id), None)
        if viewed and viewed.status == BuildStatus.RUNNING:
            uid = printable(viewed.uid)
            notes.append(Text.assemble(("live", "bold"), f": build {uid} is receiving screenshots"))
        tags = []
        if self.search_text:
            tags.append(f"search “{self.search_text}”")
        if self.browser:
            tags.append(f"browser {self.browser}")
        if self.viewport:
            tags.append(f"viewport {self.viewport}")
        if tags:
            notes.append(Text(printable("filters: " + ", ".join(tags))))
        if self.progress_text:
            notes.append(Text(printable(self.progress_text)))
        widget = self.main.query_one("#notices", Static)
        widget.update(Text(" · ").join(notes))
        widget.display = bool(notes)

    def read_only_reason(self: ReviewApp) -> str | None:
        """Why decisions are refused now, or None when they are allowed."""
        if self.options.read_only:
            return "opened with --read-only"
        if self.store.writer is None:
            return " ".join(self.store.notices) or "the store is read-only"
        if self.store.damaged:  # damaged, deleted or replaced: never written again
            return self.store.damaged
        if self.viewed_build_id is not None and self.viewed_build_id != self.newest_build_id:
            uid = next((b.uid for b in self.builds if b.id == self.viewed_build_id), "?")
            return f"build {uid} is an older build; decisions apply to the newest build only"
        return None

    def _load_detail(self: ReviewApp, comparison_id: int) -> None:
        self._detail_worker(comparison_id)

    @work(thread=True, exclusive=True, group="detail", exit_on_error=False)
    def _detail_worker(self: ReviewApp, comparison_id: int) -> None:
        try:
            detail = data.load_detail(self.store, comparison_id)
            versions = data.baseline_versions(self.store, detail.signature) if detail else ()
        except Exception as exc:
            self.post_message(ReadFailed("the comparison", str(exc)))
            return
        self.post_message(DetailLoaded(detail, versions, comparison_id))

    @while_open
    def on_detail_loaded(self: ReviewApp, message: DetailLoaded) -> None:
        selected = self.main.query_one(ComparisonList).selected
        if selected is None or selected.id != message.comparison_id:
            return  # the cursor moved on meanwhile
        self.detail = message.detail
        self.versions = message.versions
        self._show_detail()

    def _show_detail(self: ReviewApp) -> None:
        reason = self.read_only_reason()
        self.main.query_one(DetailView).show(
            self.detail, f"Read-only: {reason}" if reason else None
        )
        self.main.query_one(RegionsTable).show(self.detail)
        baselines = self.main.query_one(BaselinesTable)
        if not baselines.all_view:
            baselines.show_versions(self.versions)
        self.on_detail_shown(self.detail)
