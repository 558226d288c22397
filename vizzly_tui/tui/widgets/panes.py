"""The side panes: builds, baselines, regions and the detail numbers.

These lists are short (builds, one signature's versions, one name's regions), so they are
DataTables; each carries its own keys, shown in the footer while it has focus.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import DataTable, Static
from textual.widgets.data_table import RowDoesNotExist

from vizzly_tui.formatting import printable
from vizzly_tui.store.queries_history import STATUS_KEYS
from vizzly_tui.tui.data import BuildRow, Detail
from vizzly_tui.tui.widgets.comparisons import STATUS_STYLE, percent

MAX_CLUSTERS_SHOWN = 12


def when(ms: int | None) -> str:
    """Local time of an epoch-ms value (tests pin TZ, so snapshots are stable)."""
    if not ms:
        return ""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ms / 1000))


def size_text(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / 1024 / 1024:.1f} MB"


def _columns(table: DataTable, *columns: tuple[str, int]) -> None:
    """Fixed widths: the panes are narrow, and widths must not depend on when rows arrive."""
    for label, width in columns:
        table.add_column(label, width=width)


class PaneTable(DataTable):
    """A row-cursor table with j/k like the comparisons list."""

    DEFAULT_CSS = """
    PaneTable {
        height: 1fr;
        scrollbar-size-vertical: 1;
        scrollbar-size-horizontal: 0;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", id="cursor-down", show=False),
        Binding("k", "cursor_up", "Up", id="cursor-up", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False, show_cursor=True)

    def add_row(self, *cells: Any, **kwargs: Any) -> Any:
        """Text cells as text: a DataTable reads a str cell as markup, and names, variants
        and branches come from SDKs and git ("[/]" would raise, an escape reach the tty)."""
        shown = [Text(printable(c)) if isinstance(c, str) else c for c in cells]
        return super().add_row(*shown, **kwargs)

    def selected_key(self) -> str | None:
        if self.row_count == 0:
            return None
        try:
            return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        except Exception:
            return None

    def move_to_key(self, key: str | None) -> None:
        if key is None:
            return
        with contextlib.suppress(RowDoesNotExist, KeyError, IndexError):
            self.move_cursor(row=self.get_row_index(key), animate=False)


class BuildsTable(PaneTable):
    """Local runs newest first, then baseline origins; `enter` views a build."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "view_build", "View build", id="view-build")
    ]

    class ViewBuild(Message):
        def __init__(self, uid: str) -> None:
            super().__init__()
            self.uid = uid

    def on_mount(self) -> None:
        _columns(self, (" ", 1), ("started", 16), ("kind", 13), ("branch", 12), ("counts", 14))

    def show(self, builds: tuple[BuildRow, ...], viewed_id: int | None) -> None:
        keep = self.selected_key()
        self.clear()
        for b in builds:
            marker = "▶" if b.id == viewed_id else ""
            counts = " ".join(f"{n}{s[0]}" for s in STATUS_KEYS if (n := b.counts.get(s)))
            kind = f"origin:{b.kind.removeprefix('baseline-')}" if b.is_origin else b.kind
            branch = b.branch or ""
            if b.commit:
                branch = f"{branch}@{b.commit[:7]}" if branch else b.commit[:7]
            self.add_row(marker, when(b.started_at), kind, branch, counts or "-", key=b.uid)
        self.move_to_key(keep)

    def action_view_build(self) -> None:
        key = self.selected_key()
        if key is not None:
            self.post_message(self.ViewBuild(key))


class BaselinesTable(PaneTable):
    """The selected signature's versions (restore), or every baseline (delete)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "restore", "Restore version", id="restore-version"),
        Binding("B", "toggle_all", "All baselines", id="all-baselines"),
        Binding("x", "delete_baseline", "Delete baseline", id="delete-baseline"),
    ]

    class Restore(Message):
        def __init__(self, sha256: str) -> None:
            super().__init__()
            self.sha256 = sha256

    class DeleteBaseline(Message):
        def __init__(self, signature: str) -> None:
            super().__init__()
            self.signature = signature

    class ToggleAll(Message):
        pass

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.all_view = False

    def show_versions(self, versions: tuple[dict, ...]) -> None:
        self.all_view = False
        self.clear(columns=True)
        _columns(self, (" ", 1), ("when", 16), ("by", 6), ("build", 14), ("size", 7))
        for v in versions:
            by = v["actor"] or v["source"]
            self.add_row(
                "●" if v["current"] else "",
                when(v["created_at"]),
                by,
                (v["build"] or "")[:14],
                size_text(v["size"]),
                key=v["sha256"] + f":{v['id']}",
            )

    def show_all(self, baselines: tuple[dict, ...]) -> None:
        self.all_view = True
        keep = self.selected_key()
        self.clear(columns=True)
        _columns(self, ("name", 16), ("variant", 14), ("in build", 8), ("size", 7))
        for b in baselines:
            variant = " · ".join(p for p in b["signature"].split("|")[1:] if p)
            self.add_row(
                b["name"],
                variant,
                "yes" if b["in_build"] else "no",
                size_text(b["size"]),
                key=b["signature"],
            )
        self.move_to_key(keep)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "restore":
            return not self.all_view
        if action == "delete_baseline":
            return self.all_view
        return True

    def action_restore(self) -> None:
        key = self.selected_key()
        if key is not None and not self.all_view:
            self.post_message(self.Restore(key.split(":", 1)[0]))

    def action_delete_baseline(self) -> None:
        key = self.selected_key()
        if key is not None and self.all_view:
            self.post_message(self.DeleteBaseline(key))

    def action_toggle_all(self) -> None:
        self.post_message(self.ToggleAll())


class RegionsTable(PaneTable):
    """Confirmed regions, candidates, hotspot bands and the selected comparison's clusters."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("i", "ignore_cluster", "Ignore cluster", id="ignore-cluster"),
        Binding("x", "delete_region", "Delete region", id="delete-region"),
    ]

    class IgnoreCluster(Message):
        def __init__(self, box: dict[str, int]) -> None:
            super().__init__()
            self.box = box

    class DeleteRegion(Message):
        def __init__(self, region_id: int, label: str) -> None:
            super().__init__()
            self.region_id = region_id
            self.label = label

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._rows: dict[str, dict[str, Any]] = {}

    def on_mount(self) -> None:
        _columns(self, ("kind", 9), ("source", 6), ("box", 18), ("note", 10))

    def show(self, detail: Detail | None) -> None:
        keep = self.selected_key()
        self.clear()
        self._rows = {}
        if detail is None:
            return
        for r in detail.regions:
            key = f"region:{r['id']}"
            self._rows[key] = {"type": "region", **r}
            kind = "confirmed" if r["kind"] == "confirmed" else "candidate"
            self.add_row(kind, r["source"], _box(r), r.get("label") or "", key=key)
        for i, band in enumerate(detail.hotspots):
            key = f"band:{i}"
            self._rows[key] = {"type": "band", **band}
            y1, y2 = band.get("y1"), band.get("y2")
            self.add_row(
                "hotspot", "cloud", f"y {y1}–{y2}", detail.hotspot_confidence or "", key=key
            )
        clusters = sorted(detail.clusters, key=lambda c: -(c.get("pixelCount") or 0))
        for i, c in enumerate(clusters[:MAX_CLUSTERS_SHOWN]):
            box = c.get("boundingBox") or {}
            key = f"cluster:{i}"
            self._rows[key] = {"type": "cluster", **box}
            self.add_row("cluster", "diff", _box(box), f"{c.get('pixelCount', '?')} px", key=key)
        if len(clusters) > MAX_CLUSTERS_SHOWN:
            self.add_row("", "", f"… {len(clusters) - MAX_CLUSTERS_SHOWN} smaller clusters", "")
        self.move_to_key(keep)

    def selected_row(self) -> dict[str, Any] | None:
        key = self.selected_key()
        return self._rows.get(key) if key else None

    def action_ignore_cluster(self) -> None:
        row = self.selected_row()
        if row is None or row["type"] != "cluster":
            self.notify("Select a diff cluster to turn into an ignore region", severity="warning")
            return
        box = {k: int(row.get(k, 0)) for k in ("x", "y", "width", "height")}
        self.post_message(self.IgnoreCluster(box))

    def action_delete_region(self) -> None:
        row = self.selected_row()
        if row is None or row["type"] != "region" or row.get("source") != "local":
            self.notify("Only local regions can be deleted here", severity="warning")
            return
        self.post_message(self.DeleteRegion(int(row["id"]), _box(row)))


def _box(box: dict[str, Any]) -> str:
    return f"{box.get('x', 0)},{box.get('y', 0)} {box.get('width', 0)}×{box.get('height', 0)}"


class DetailView(VerticalScroll, can_focus=True):
    """The selected comparison's numbers."""

    DEFAULT_CSS = """
    DetailView { height: 1fr; scrollbar-size-vertical: 1; }
    DetailView > #detail-text { width: 1fr; }
    """

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static("", id="detail-text")

    def show(self, detail: Detail | None, read_only_note: str | None = None) -> None:
        self.query_one("#detail-text", Static).update(detail_text(detail, read_only_note))


def detail_text(detail: Detail | None, note: str | None = None) -> Text:
    if detail is None:
        return Text("No comparison selected.", style="italic")
    t = Text()
    t.append(printable(detail.name), style="bold")
    variant = printable(" · ".join(p for p in detail.signature.split("|")[1:] if p))
    if variant:
        t.append(f"  {variant}", style="dim")
    t.append("\n")
    t.append(f"{detail.status}", style=STATUS_STYLE.get(detail.status, ""))
    t.append(f"  id {detail.cid}\n", style="dim")
    rows: list[tuple[str, str]] = []
    if detail.diff_percentage is not None:
        rows.append(("diff", percent(detail.diff_percentage)))
    if detail.diff_count is not None:
        total = f" of {detail.total_pixels:,}" if detail.total_pixels else ""
        rows.append(("pixels", f"{detail.diff_count:,}{total}"))
    if detail.aa_pixels_ignored is not None:
        rows.append(("AA ignored", f"{detail.aa_pixels_ignored:,}"))
    if detail.height_diff:
        hd = detail.height_diff
        if isinstance(hd, dict):
            rows.append(("height", f"{hd.get('height1', '?')} → {hd.get('height2', '?')}"))
        else:
            rows.append(("height", str(hd)))
    if detail.reason:
        rows.append(("reason", printable(detail.reason)))
    if detail.threshold is not None:
        rows.append(
            ("threshold", f"ΔE {detail.threshold:g}, min cluster {detail.min_cluster_size}")
        )
    rows.append(("clusters", str(len(detail.clusters))))
    if detail.regions:
        rows.append(("regions", str(len(detail.regions))))
    for label, value in rows:
        t.append(f"{label:>10}  ", style="dim")
        t.append(f"{value}\n")
    if detail.error:
        t.append("error  ", style="bold red")
        t.append(f"{printable(detail.error, lines=True)}\n")
    for c in sorted(detail.clusters, key=lambda c: -(c.get("pixelCount") or 0))[:5]:
        box = c.get("boundingBox") or {}
        t.append(f"{'':>10}  {_box(box)}  {c.get('pixelCount', '?')} px\n", style="dim")
    if note:
        t.append(f"\n{note}", style="italic yellow")
    return t
