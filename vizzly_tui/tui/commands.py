"""The command palette (ctrl+p): every action by name, plus filters and build switching."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from vizzly_tui.tui.data import FILTER_LABELS, FILTERS

if TYPE_CHECKING:
    from vizzly_tui.tui.app import ReviewApp


class ReviewCommands(Provider):
    def _commands(self) -> list[tuple[str, object, str]]:
        app: ReviewApp = self.app  # type: ignore[assignment]
        commands: list[tuple[str, object, str]] = [
            ("Accept", app.action_accept, "Accept the selected comparison"),
            ("Reject", app.action_reject, "Reject the selected comparison"),
            ("Accept all in filter", app.action_accept_all, "Accept every item shown"),
            ("Undo last decision", app.action_undo, "Reverse the newest decision"),
            ("Delete comparison", app.action_delete, "Delete the selected comparison"),
            ("Search by name", app.action_search, "Filter the list by name"),
            ("Clear filters", app.action_clear_filters, "Browser, viewport and search"),
            ("Show all baselines", app.action_all_baselines, "Every baseline of the project"),
            ("Help", app.action_help, "Every key"),
        ]
        for name in FILTERS:
            commands.append(
                (f"Filter: {FILTER_LABELS[name]}", partial(app.set_filter, name), "Status filter")
            )
        for pane in ("builds", "detail", "baselines", "regions"):
            commands.append(
                (f"Collapse/expand {pane}", partial(app.toggle_pane, pane), "Pane layout")
            )
        for build in app.builds:
            if not build.is_origin:
                commands.append(
                    (f"View build {build.uid}", partial(app.view_build, build.uid), build.kind)
                )
        return commands

    async def discover(self) -> Hits:
        for title, callback, help_text in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)  # type: ignore[arg-type]
