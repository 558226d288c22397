"""The comparisons list: a Line-API widget that pages its rows from SQL.

It never holds the whole filter: it knows the row count and keeps a window of rows (small
frozen tuples, data.Row) around the viewport, by position in the stored review order. A
line whose row is not loaded yet is drawn as a placeholder and asks for its page
(PageWanted); the app reads the page in a thread worker and hands it back (add_page), and
only then is the line repainted, so scrolling never blanks the list. Visible lines are
rendered from an LRU cache of Strips keyed by what the line shows. Each refresh replaces
the window in one go (a new generation: pages of an older one are dropped), with the
cursor placed by the app where the comparison it was on now is (index_of).
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
from vizzly_tui.statuses import ComparisonStatus
from vizzly_tui.tui.data import Row

STATUS_STYLE = {
    ComparisonStatus.FAILED: "bold red",
    ComparisonStatus.NEW: "bold yellow",
    ComparisonStatus.BASELINE_CREATED: "bold yellow",
    ComparisonStatus.REJECTED: "bold magenta",
    ComparisonStatus.ERROR: "bold red",
    ComparisonStatus.PASSED: "green",
}
STATUS_LABEL = {ComparisonStatus.BASELINE_CREATED: ComparisonStatus.NEW}

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


# Rows fetched per page request; a refresh reads a window of about three screens.
PAGE_SIZE = 100
# Loaded rows kept at most; farther ones are dropped and re-read if scrolled back to.
MAX_LOADED = 3000


class ComparisonList(ScrollView, can_focus=True):
    """Name, variant, status and diff % of the comparisons in the current filter."""

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

    class PageWanted(Message):
        """A line on screen has no row loaded: read rows [offset, offset + PAGE_SIZE)."""

        def __init__(self, generation: int, offset: int) -> None:
            super().__init__()
            self.generation = generation
            self.offset = offset

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.total = 0
        self.generation = 0
        self._rows: dict[int, Row] = {}
        self._requested: set[int] = set()
        self.empty_message = "Loading…"
        self._cache: LRUCache[tuple, Strip] = LRUCache(1024)
        self._last_highlight: Row | None = None

    # --- data ---------------------------------------------------------------------------

    @property
    def selected(self) -> Row | None:
        """The row under the cursor, when it is loaded."""
        return self._rows.get(self.cursor)

    @property
    def rows(self) -> tuple[Row, ...]:
        """The loaded rows in list order (the whole filter only when it is short)."""
        return tuple(self._rows[i] for i in sorted(self._rows))

    def set_window(self, total: int, start: int, rows: tuple[Row, ...], cursor: int) -> None:
        """Show a new state of the list: `total` rows, of which `rows` start at `start`;
        the cursor at `cursor` (chosen by the reader: where the same comparison is now)."""
        self.generation += 1
        self._requested.clear()
        self._rows = {start + i: row for i, row in enumerate(rows)}
        self.total = total
        self.virtual_size = Size(self.size.width, total)
        self.refresh()
        self.cursor = min(max(cursor, 0), max(total - 1, 0))

    def add_page(self, generation: int, offset: int, rows: tuple[Row, ...]) -> None:
        """Rows read for a PageWanted; dropped when the list was refreshed meanwhile."""
        if generation != self.generation:
            return
        self._requested.discard(offset)
        for i, row in enumerate(rows):
            self._rows[offset + i] = row
        if len(self._rows) > MAX_LOADED:
            keep = range(self.cursor - MAX_LOADED // 2, self.cursor + MAX_LOADED // 2)
            self._rows = {i: r for i, r in self._rows.items() if i in keep}
        self.refresh()
        self._announce()

    def _want(self, index: int) -> None:
        offset = index - index % PAGE_SIZE
        if offset not in self._requested:
            self._requested.add(offset)
            self.post_message(self.PageWanted(self.generation, offset))

    def _announce(self) -> None:
        row = self.selected
        if row is None and self.total:
            self._want(self.cursor)  # its detail follows once its page is read
            return
        if row != self._last_highlight:
            self._last_highlight = row
            self.post_message(self.Highlighted(row))

    def watch_cursor(self, old: int, new: int) -> None:
        top = round(self.scroll_y)
        self._scroll_cursor_into_view()
        if round(self.scroll_y) == top:
            # Only the two lines whose highlight changed: a `j` repaints 2 lines, not 40.
            self.refresh_line(old)
            self.refresh_line(new)
        else:
            self.refresh()
        self._announce()
        # Read ahead: the page a screen beyond the cursor is asked for before it is shown,
        # so moving through the list does not meet placeholder lines.
        height = self.scrollable_content_region.height or 1
        for ahead in (new + height, new - height):
            if 0 <= ahead < self.total and ahead not in self._rows:
                self._want(ahead)

    def _scroll_cursor_into_view(self) -> None:
        height = self.scrollable_content_region.height or 1
        top = round(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)

    # --- actions ------------------------------------------------------------------------

    def _move(self, delta: int) -> None:
        if self.total:
            self.cursor = min(max(self.cursor + delta, 0), self.total - 1)

    def action_cursor_down(self) -> None:
        self._move(1)

    def action_cursor_up(self) -> None:
        self._move(-1)

    def action_page_down(self) -> None:
        self._move(max(self.scrollable_content_region.height - 1, 1))

    def action_page_up(self) -> None:
        self._move(-max(self.scrollable_content_region.height - 1, 1))

    def action_first(self) -> None:
        self._move(-self.total)

    def action_last(self) -> None:
        self._move(self.total)

    def on_click(self, event) -> None:  # type: ignore[no-untyped-def]
        index = event.y + round(self.scroll_y)
        if 0 <= index < self.total:
            self.cursor = index

    # --- rendering ----------------------------------------------------------------------

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, self.total)
        self._scroll_cursor_into_view()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = y + round(self.scroll_y)
        if not self.total:
            lines = textwrap.wrap(self.empty_message, max(width - 2, 10))
            text = lines[y - 1] if 1 <= y <= len(lines) else ""
            return Strip([Segment(f" {text}"[:width].ljust(width), Style(italic=True))])
        if index >= self.total:
            return Strip.blank(width, _PLAIN)
        row = self._rows.get(index)
        selected = index == self.cursor
        if row is None:
            # Not read yet: a quiet placeholder now, the row as soon as its page arrives.
            self._want(index)
            strip = Strip([Segment(" …".ljust(width), Style(dim=True))])
            return strip.apply_style(self._cursor_style()) if selected else strip
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
