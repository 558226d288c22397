"""The comparisons list: a Line-API widget that draws only the lines on screen.

It holds the rows as small frozen tuples (data.Row) and renders each visible line from an
LRU cache of Strips keyed by what the line shows, so 10,000 rows cost one query and a
repaint costs only the lines that are visible. The cursor is kept by comparison id across
reloads, so a live update never moves the user's place.
"""

from __future__ import annotations

import textwrap
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.color import Color
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from vizzly_tui.formatting import printable
from vizzly_tui.tui.data import Row

STATUS_STYLE = {
    "failed": "bold red",
    "new": "bold yellow",
    "baseline-created": "bold yellow",
    "rejected": "bold magenta",
    "error": "bold red",
    "passed": "green",
}
STATUS_LABEL = {"baseline-created": "new"}
# Every segment carries a style: under NO_COLOR Textual's monochrome filter reads each
# segment's style, and a None one crashed the app.
_PLAIN = Style()


def percent(value: float | None) -> str:
    if value is None:
        return ""
    if value == 0:
        return "0%"
    if value < 0.01:
        return "<0.01%"
    return f"{value:.2f}%"


class ComparisonList(ScrollView, can_focus=True):
    """Name, variant, status and diff % of every comparison in the current filter."""

    DEFAULT_CSS = """
    ComparisonList {
        height: 1fr;
        scrollbar-size-vertical: 1;
        overflow-x: hidden;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor_down", "Down", id="cursor-down", show=False),
        Binding("k,up", "cursor_up", "Up", id="cursor-up", show=False),
        Binding("pagedown", "page_down", "Page down", id="page-down", show=False),
        Binding("pageup", "page_up", "Page up", id="page-up", show=False),
        Binding("home,g", "first", "First", id="first", show=False),
        Binding("end,G", "last", "Last", id="last", show=False),
    ]

    cursor: reactive[int] = reactive(0, always_update=True, init=False)

    class Highlighted(Message):
        """The row under the cursor changed (None: the list is empty)."""

        def __init__(self, row: Row | None) -> None:
            super().__init__()
            self.row = row

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, ComparisonList.Highlighted)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.rows: tuple[Row, ...] = ()
        self.empty_message = "Loading…"
        self._cache: LRUCache[tuple, Strip] = LRUCache(1024)
        self._last_highlight: Row | None = None

    # --- data ---------------------------------------------------------------------------

    @property
    def selected(self) -> Row | None:
        if 0 <= self.cursor < len(self.rows):
            return self.rows[self.cursor]
        return None

    def set_rows(self, rows: tuple[Row, ...], *, keep_id: int | None, fallback: int) -> None:
        """Show new rows; the cursor stays on `keep_id`, else at `fallback` (the next item)."""
        index = None
        if keep_id is not None:
            index = next((i for i, r in enumerate(rows) if r.id == keep_id), None)
        if index is None:
            index = min(max(fallback, 0), max(len(rows) - 1, 0))
        self.rows = rows
        self.virtual_size = Size(self.size.width, len(rows))
        self.refresh()
        self.cursor = index

    def watch_cursor(self, old: int, new: int) -> None:
        top = round(self.scroll_y)
        self._scroll_cursor_into_view()
        if round(self.scroll_y) == top:
            # Only the two lines whose highlight changed: a `j` repaints 2 lines, not 40.
            self.refresh_line(old)
            self.refresh_line(new)
        else:
            self.refresh()
        row = self.selected
        if row != self._last_highlight:
            self._last_highlight = row
            self.post_message(self.Highlighted(row))

    def _scroll_cursor_into_view(self) -> None:
        height = self.scrollable_content_region.height or 1
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    # --- actions ------------------------------------------------------------------------

    def _move(self, delta: int) -> None:
        if self.rows:
            self.cursor = min(max(self.cursor + delta, 0), len(self.rows) - 1)

    def action_cursor_down(self) -> None:
        self._move(1)

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_page_down(self) -> None:
        self._move(max(self.scrollable_content_region.height - 1, 1))

    def action_page_up(self) -> None:
        self._move(-max(self.scrollable_content_region.height - 1, 1))

    def action_first(self) -> None:
        self._move(-len(self.rows))

    def action_last(self) -> None:
        self._move(len(self.rows))

    def on_click(self, event) -> None:  # type: ignore[no-untyped-def]
        index = event.y + round(self.scroll_y)
        if 0 <= index < len(self.rows):
            self.cursor = index

    # --- rendering ----------------------------------------------------------------------

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.rows))
        self._scroll_cursor_into_view()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = y + round(self.scroll_y)
        if not self.rows:
            lines = textwrap.wrap(self.empty_message, max(width - 2, 10))
            text = lines[y - 1] if 1 <= y <= len(lines) else ""
            return Strip([Segment(f" {text}"[:width].ljust(width), Style(italic=True))])
        if index >= len(self.rows):
            return Strip.blank(width, _PLAIN)
        row = self.rows[index]
        selected = index == self.cursor
        key = (row, selected, width, self.has_focus, self.app.theme)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_row(row, selected, width)
            self._cache[key] = strip
        return strip

    def _render_row(self, row: Row, selected: bool, width: int) -> Strip:
        status = STATUS_LABEL.get(row.status, row.status)
        diff = percent(row.diff)
        fixed = 9 + 1 + 8
        rest = max(width - fixed, 4)
        variant_w = min(len(row.variant), max(rest // 2 - 1, 0))
        name_w = max(rest - variant_w - 1, 1)
        full = printable(row.name)
        name = full if len(full) <= name_w else full[: name_w - 1] + "…"
        variant = row.variant[:variant_w]
        segments = [
            Segment(f" {status:<8}", Style.parse(STATUS_STYLE.get(row.status, ""))),
            Segment(" ", _PLAIN),
            Segment(f"{name:<{name_w}}", Style(bold=True)),
            Segment(" ", _PLAIN),
            Segment(f"{variant:<{variant_w}}", Style(dim=True)),
            Segment(f"{diff:>8}", _PLAIN),
        ]
        strip = Strip(segments).crop(0, width).extend_cell_length(width, _PLAIN)
        if selected:
            strip = strip.apply_style(self._cursor_style())
        return strip

    def _cursor_style(self) -> Style:
        """The theme's cursor colour, as the other panes' tables use it."""
        variables = self.app.theme_variables
        key = "block-cursor-background" if self.has_focus else "block-cursor-blurred-background"
        try:
            base = Color.parse(variables.get("surface", "#1e1e1e"))
            return Style(bgcolor=(base + Color.parse(variables[key])).rich_color)
        except (KeyError, ValueError):
            return Style(reverse=True)

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()
