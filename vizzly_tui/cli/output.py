"""The commands' output on a terminal: rich tables with coloured statuses, progress bars.

Only on a terminal. Piped, with NO_COLOR set or on TERM=dumb the commands print
formatting.py's plain text, which scripts and tests parse and which does not change; --json
prints the data. rich is imported inside the functions below, only once a terminal was found,
so `--version` and piped commands never pay for it.

Names, signatures, property values and messages come from SDKs, other tools and the disk:
each goes through `printable()` (no escape sequence reaches the terminal) into a `Text`
(rich markup in it prints as typed: `Text` is never parsed as markup; a plain `str` cell
would be).
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Any

from vizzly_tui.formatting import VERBS, percent, printable, when
from vizzly_tui.statuses import NEW_STATUSES, BuildStatus, ComparisonStatus, DecisionState

if TYPE_CHECKING:  # types only: rich loads when a terminal shows the output
    from rich.console import Console, RenderableType
    from rich.table import Table
    from rich.text import Text

    from vizzly_tui.doctor import DoctorReport
    from vizzly_tui.project import Project
    from vizzly_tui.review import ActionResult

Progress = Callable[[int, int], None]

# A batch shorter than this finishes before a bar is worth drawing.
PROGRESS_MIN_TOTAL = 20

STATUS_STYLES: dict[str, str] = {
    ComparisonStatus.PASSED: "green",
    ComparisonStatus.FAILED: "bold red",
    ComparisonStatus.NEW: "yellow",
    ComparisonStatus.BASELINE_CREATED: "yellow",
    ComparisonStatus.REJECTED: "magenta",
    ComparisonStatus.ERROR: "bold red",
    BuildStatus.RUNNING: "cyan",
    BuildStatus.FINISHED: "green",
    BuildStatus.INTERRUPTED: "yellow",
    BuildStatus.IMPORTED: "blue",
    DecisionState.PENDING: "yellow",
    DecisionState.DONE: "green",
    DecisionState.ROLLED_BACK: "dim",
    DecisionState.FAILED: "bold red",
    DecisionState.SUPERSEDED: "dim",
}
SEVERITY_STYLES = {"error": "bold red", "warning": "yellow", "note": "cyan"}


def is_styled_terminal(stream: IO[str]) -> bool:
    """True when `stream` is a terminal that gets tables and colour."""
    if os.environ.get("NO_COLOR"):  # no-color.org: set and not empty
        return False
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def console_for(stream: IO[str]) -> Console:
    from rich.console import Console

    # No highlighting or emoji codes: only the styles given below colour anything.
    return Console(file=stream, highlight=False, emoji=False, markup=False)


def print_view(view: Callable[[], RenderableType]) -> bool:
    """Print `view()` on stdout when it is a styled terminal; False (nothing printed) else."""
    stream = sys.stdout
    if not is_styled_terminal(stream):
        return False
    console_for(stream).print(view())
    return True


@contextmanager
def progress_bar(
    description: str, *, enabled: bool = True, min_total: int = PROGRESS_MIN_TOTAL
) -> Iterator[Progress | None]:
    """A callback `(done, total)` drawing a bar on stderr, or None when stderr is no terminal.

    The bar appears once a batch of `min_total` or more reports (at once, still without a
    total, with 0), and goes when the work ends: the summary follows. The callback may come
    from another thread (the writer's).
    """
    stream = sys.stderr
    try:
        on_terminal = stream.isatty() and os.environ.get("TERM") != "dumb"
    except (AttributeError, ValueError):
        on_terminal = False
    if not enabled or not on_terminal:
        yield None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bar

    # rich's Console honours NO_COLOR itself: the bar is still drawn, without colour.
    bar = Bar(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=console_for(stream),
        transient=True,
        # Nothing else prints meanwhile; swapping sys.stdout would hide the terminal from
        # the output that follows.
        redirect_stdout=False,
        redirect_stderr=False,
    )
    lock = threading.Lock()
    task: list[Any] = []
    if min_total <= 0:
        bar.start()
        task.append(bar.add_task(description, total=None))

    def update(done: int, total: int) -> None:
        with lock:
            if not task:
                if total < PROGRESS_MIN_TOTAL:
                    return
                bar.start()
                task.append(bar.add_task(description, total=total))
            bar.update(task[0], completed=done, total=total)

    try:
        yield update
    finally:
        if task:
            bar.stop()


@contextmanager
def bootstrap_progress(project: Project) -> Iterator[Progress | None]:
    """The progress callback for the first start in a Vizzly CLI project (its legacy import
    keeps every image: long in a large project); None where there is nothing to import."""
    with progress_bar(
        "importing the Vizzly CLI's files", enabled=bool(project.legacy_files())
    ) as bar:
        yield bar


# --- views -----------------------------------------------------------------------------------


def _text(value: object, style: str = "") -> Text:
    from rich.text import Text

    return Text(printable(value), style=style)


def _status(value: object) -> Text:
    word = "" if value is None else str(value)
    return _text(word or "-", STATUS_STYLES.get(word, ""))


def _table(*columns: str, right: tuple[str, ...] = ()) -> Table:
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for name in columns:
        table.add_column(name, justify="right" if name in right else "left", overflow="fold")
    return table


def _counts(s: dict[str, int], total_label: str) -> Text:
    """ "12 comparisons: 8 passed, 2 failed, ...": the counts that are not zero coloured."""
    from rich.text import Text

    counts = Text(f"{s['total']} {total_label}: ")
    for index, (key, status) in enumerate(
        (
            ("passed", ComparisonStatus.PASSED),
            ("failed", ComparisonStatus.FAILED),
            ("new", ComparisonStatus.NEW),
            ("rejected", ComparisonStatus.REJECTED),
            ("errors", ComparisonStatus.ERROR),
        )
    ):
        if index:
            counts.append(", ")
        counts.append(f"{s[key]} {key}", STATUS_STYLES[status] if s[key] else "dim")
    return counts


def status_view(data: dict[str, Any], hint: str = "") -> RenderableType:
    """`status`: the build, its counts, then a table of its comparisons, failed first."""
    from rich.console import Group
    from rich.text import Text

    build = data["build"]
    if build is None:
        return _text(
            "No builds yet. Send screenshots with `vizzly-tui serve` or `vizzly-tui run`." + hint
        )
    head = Text.assemble(
        ("Build ", "bold"),
        _text(build["id"], "bold"),
        " (",
        _text(build["kind"]),
        ", ",
        _status(build["status"]),
        f"), started {when(build['startedAt'])}",
    )
    parts: list[RenderableType] = [head, Text("  ") + _counts(data["summary"], "comparisons")]
    rows = data["comparisons"]
    if rows:
        table = _table("Status", "Diff", "Name", "Signature", "ID", "Detail", right=("Diff",))
        for r in rows:
            detail = r.get("error") or r.get("reason") or ""
            shown = detail if detail and r["status"] != ComparisonStatus.PASSED else ""
            table.add_row(
                _status(r["status"]),
                _text(percent(r.get("diffPercentage"))),
                _text(r["name"]),
                _text(r["signature"], "dim"),
                _text(r["id"], "dim"),
                _text(shown),
            )
        parts += [Text(""), table]
    if hint:
        parts.append(_text(hint.strip("\n")))
    return Group(*parts)


def action_view(result: ActionResult) -> RenderableType:
    """accept, reject, delete, reset, undo: what changed, as a table, then what was skipped."""
    from rich.console import Group

    verb = VERBS.get(result.action, result.action)
    if not result.items and not result.skipped:
        return _text(f"{verb} nothing: no comparison matched.")
    parts: list[RenderableType] = [_text(f"{verb} {result.count} item(s):", "bold")]
    if result.items:
        table = _table("Name", "Signature", "Before", "After", "Note")
        for item in result.items:
            changed = item.get("statusBefore") or item.get("statusAfter")
            after = item.get("statusAfter") or "removed"
            table.add_row(
                _text(item.get("name") or item.get("id") or "settings"),
                _text(item.get("signature") or "", "dim"),
                _status(item.get("statusBefore")) if changed else _text(""),
                _status(after) if changed else _text(""),
                _text(f"undid {item['undid']}" if item.get("undid") else "", "dim"),
            )
        parts.append(table)
    if result.skipped:
        if result.action == "undo":
            title = (
                f"Not undone, {len(result.skipped)} (captured again since: undoing would throw "
                "away a result nobody reviewed; the next undo goes on to the decision before):"
            )
        else:
            title = f"Skipped {len(result.skipped)} (changed by another process meanwhile):"
        parts.append(_text(title, "yellow"))
        for item in result.skipped:
            parts.append(_text(f"  {item.get('name') or item.get('id')}  {item['reason']}"))
    if result.action != "undo" and result.items:
        parts.append(_text("Run `vizzly-tui undo` to reverse this.", "dim"))
    return Group(*parts)


def history_view(rows: list[dict[str, Any]]) -> RenderableType:
    """`log`: the newest decisions, one row each."""
    if not rows:
        return _text("No decisions yet.")
    table = _table("When", "Action", "By", "Name", "Before", "After", "State")
    for r in rows:
        state = _text("undone", "dim") if r["undone"] else _text("")
        if r["state"] != DecisionState.DONE:
            state = state + _text(" " if r["undone"] else "") + _status(r["state"])
        table.add_row(
            _text(when(r["createdAt"]), "dim"),
            _text(r["action"], "bold"),
            _text(r["actor"]),
            _text(r.get("name") or "-"),
            _status(r.get("statusBefore")),
            _status(r.get("statusAfter")),
            state,
        )
    return table


def run_summary_view(data: dict[str, Any], report_path: object = None) -> RenderableType:
    """The end of `run`: the counts, then what needs a look (failed, new, errors)."""
    from rich.console import Group

    rows = data["comparisons"]
    parts: list[RenderableType] = [_counts(data["summary"], "screenshots compared")]
    table = _table("", "Name", "Signature", "Change", right=("Change",))
    for row in rows:
        if row["status"] == ComparisonStatus.FAILED:
            pct = row.get("diffPercentage")
            what = f"{pct:.2f}%" if pct is not None else (row.get("reason") or "")
            table.add_row(
                _status(row["status"]), _text(row["name"]), _text(row["signature"]), _text(what)
            )
    for row in rows:
        if row["status"] in NEW_STATUSES:
            table.add_row(
                _status(ComparisonStatus.NEW), _text(row["name"]), _text(row["signature"]), ""
            )
    for row in rows:
        if row["status"] == ComparisonStatus.ERROR:
            table.add_row(
                _status(row["status"]), _text(row["name"]), _text(row.get("error") or ""), ""
            )
    if table.row_count:
        parts.append(table)
    if data["summary"]["failed"]:
        parts.append(
            _text("Review: vizzly-tui status, then vizzly-tui accept ID... or reject ID...", "dim")
        )
    if report_path is not None:
        parts.append(_text(f"report: {report_path}"))
    return Group(*parts)


def baselines_view(rows: list[dict[str, Any]]) -> RenderableType:
    """`baselines`: one row per baseline."""
    from rich.console import Group

    if not rows:
        return _text("no baselines")
    table = _table("Signature", "Size", "KiB", "Versions", "Origin", right=("Size", "KiB"))
    for r in rows:
        size = f"{r['width']}x{r['height']}" if r["width"] else "?"
        table.add_row(
            _text(r["signature"]),
            _text(size),
            _text(f"{(r['size'] or 0) / 1024:.0f}"),
            _text(f"v{r['versions']}"),
            _text(r["origin"], "dim"),
        )
    return Group(_text(f"{len(rows)} baseline(s)", "bold"), table)


def doctor_view(report: DoctorReport) -> RenderableType:
    """`doctor`: each finding with its severity coloured, then the verdict."""
    from rich.console import Group
    from rich.text import Text

    parts: list[RenderableType] = [_text(f"checked {report.project}", "bold")]
    if report.checked:
        parts.append(_text("  " + ", ".join(f"{k}: {v}" for k, v in report.checked.items())))
    for f in report.findings:
        parts.append(
            Text.assemble(
                _text(f.severity.upper(), SEVERITY_STYLES.get(f.severity, "")),
                " ",
                _text(f"[{f.check}]", "dim"),
                " ",
                _text(f.message),
            )
        )
        for item in f.items[:10]:
            parts.append(_text(f"    {item}"))
        if len(f.items) > 10:
            parts.append(_text(f"    ... and {len(f.items) - 10} more", "dim"))
        if f.action:
            parts.append(_text(f"  -> {f.action}", "cyan"))
    verdict, style = {
        0: ("healthy", "bold green"),
        1: ("usable, with warnings", "bold yellow"),
        3: ("problems found", "bold red"),
    }[report.exit_code]
    parts.append(_text(f"{verdict} (exit {report.exit_code})", style))
    return Group(*parts)


def gc_view(text: str) -> RenderableType:
    """`gc`: its lines, what was freed in green."""
    from rich.console import Group

    styled = []
    for line in text.splitlines():
        style = "green" if line.startswith("removed") else "dim" if line.startswith("kept") else ""
        styled.append(_text(line, style))
    return Group(*styled)


def repair_view(repaired: str, after: DoctorReport) -> RenderableType:
    """`doctor --repair`: what the repair did, then the check of the result."""
    from rich.console import Group
    from rich.text import Text

    return Group(*(_text(line) for line in repaired.splitlines()), Text(""), doctor_view(after))
