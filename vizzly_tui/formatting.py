"""Plain-text output of the commands (their --json output is the data itself)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from vizzly_tui.statuses import NEW_STATUSES, ComparisonStatus, DecisionState

if TYPE_CHECKING:  # the type only: importing review would load the store for every command
    from vizzly_tui.review import ActionResult


# C0, DEL and C1 controls. Names and property values come from SDKs and other tools: an
# escape sequence in one would drive the terminal that shows it (recolour, retitle, set
# the clipboard), so what a user sees has them replaced.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROLS_BUT_LINES = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def printable(text: object, *, lines: bool = False) -> str:
    """`text` as a string fit for a terminal: each control character (but newlines, with
    `lines`) becomes U+FFFD."""
    return (_CONTROLS_BUT_LINES if lines else _CONTROLS).sub("\ufffd", str(text))


def when(ms: int | None) -> str:
    if not ms:
        return "-"
    return datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M:%S")


def percent(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.2f}%" if value >= 0.01 or value == 0 else "<0.01%"


def status_text(data: dict[str, Any]) -> str:
    build = data["build"]
    if build is None:
        return "No builds yet. Send screenshots with `vizzly-tui serve` or `vizzly-tui run`."
    s = data["summary"]
    lines = [
        f"Build {build['id']} ({build['kind']}, {build['status']}), "
        f"started {when(build['startedAt'])}",
        f"  {s['total']} comparisons: {s['passed']} passed, {s['failed']} failed, "
        f"{s['new']} new, {s['rejected']} rejected, {s['errors']} errors",
    ]
    rows = data["comparisons"]
    if rows:
        width = max(len(r["name"]) for r in rows)
        sig_width = max(len(r["signature"]) for r in rows)
        lines.append("")
        for r in rows:
            detail = r.get("reason") or ""
            if r.get("error"):
                detail = r["error"]
            lines.append(
                f"  {r['status']:<9} {percent(r.get('diffPercentage')):>8}  "
                f"{r['name']:<{width}}  {r['signature']:<{sig_width}}  [{r['id']}]"
                + (f"  {detail}" if detail and r["status"] != ComparisonStatus.PASSED else "")
            )
    return "\n".join(lines)


VERBS = {
    "accept": "Accepted",
    "reject": "Rejected",
    "delete": "Deleted",
    "reset": "Reset",
    "undo": "Undid",
}


def action_text(result: ActionResult) -> str:
    verb = VERBS.get(result.action, result.action)
    if not result.items and not result.skipped:
        return f"{verb} nothing: no comparison matched."
    lines = [f"{verb} {result.count} item(s):"]
    for item in result.items:
        what = item.get("name") or item.get("id") or "settings"
        change = ""
        if item.get("statusBefore") or item.get("statusAfter"):
            change = (
                f"  {item.get('statusBefore') or '-'} -> {item.get('statusAfter') or 'removed'}"
            )
        undid = f"  (undid {item['undid']})" if item.get("undid") else ""
        lines.append(f"  {what}  {item.get('signature') or ''}{change}{undid}")
    if result.skipped and result.action == "undo":
        lines.append(
            f"Not undone, {len(result.skipped)} (captured again since: undoing would throw away "
            "a result nobody reviewed; the next undo goes on to the decision before):"
        )
        for item in result.skipped:
            lines.append(f"  {item.get('name') or item.get('id')}  {item['reason']}")
    elif result.skipped:
        lines.append(f"Skipped {len(result.skipped)} (changed by another process meanwhile):")
        for item in result.skipped:
            lines.append(f"  {item.get('name') or item.get('id')}  {item['reason']}")
    if result.action != "undo" and result.items:
        lines.append("Run `vizzly-tui undo` to reverse this.")
    return "\n".join(lines)


def history_text(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "No decisions yet."
    lines = []
    for r in rows:
        flags = " (undone)" if r["undone"] else ""
        if r["state"] != DecisionState.DONE:
            flags += f" [{r['state']}]"
        lines.append(
            f"{when(r['createdAt'])}  {r['action']:<7} by {r['actor']:<4}  "
            f"{r.get('name') or '-'}  {r.get('statusBefore') or '-'} -> "
            f"{r.get('statusAfter') or '-'}{flags}"
        )
    return "\n".join(lines)


def db_status_text(data: dict[str, Any]) -> str:
    lines = [f"database: {data['path']}"]
    if not data["exists"]:
        lines.append("  not created yet (the first command in this project creates it)")
    lines.append(f"schema version: {data['schemaVersion']}")
    lines.append(f"applied migrations: {', '.join(data['applied']) or 'none'}")
    lines.append(f"pending migrations: {', '.join(data['pending']) or 'none'}")
    imported = data["legacyImport"]["imported"]
    skipped = data["legacyImport"]["skipped"]
    if imported or skipped:
        lines.append("legacy import:")
        for source, count in imported.items():
            lines.append(f"  imported {count} from {source}")
        for item in skipped:
            what = f" {item['item']}" if item.get("item") else ""
            lines.append(f"  skipped {item['source']}{what}: {item['detail']}")
        for item in data["legacyImport"].get("notes", []):
            what = f" {item['item']}" if item.get("item") else ""
            lines.append(f"  note {item['source']}{what}: {item['detail']}")
    else:
        lines.append("legacy import: nothing imported")
    return "\n".join(lines)


def migrate_text(data: dict[str, Any]) -> str:
    lines = [f"applied: {', '.join(data['applied'])}" if data["applied"] else "up to date"]
    lines += [f"recovered: {line}" for line in data["recovered"]]
    return "\n".join(lines)


def run_summary_text(data: dict[str, Any]) -> str:
    """The end-of-run summary: counts, then what needs a look."""
    s = data["summary"]
    rows = data["comparisons"]
    lines = [
        f"{s['total']} screenshots compared: {s['passed']} passed, {s['failed']} failed, "
        f"{s['new']} new, {s['rejected']} rejected, {s['errors']} errors"
    ]
    for row in rows:
        if row["status"] == ComparisonStatus.FAILED:
            pct = row.get("diffPercentage")
            what = f"{pct:.2f}%" if pct is not None else (row.get("reason") or "")
            lines.append(f"  ◐ {row['name']:<30} {row['signature']}  {what}")
    for row in rows:
        if row["status"] in NEW_STATUSES:
            lines.append(f"  + {row['name']:<30} {row['signature']}  new")
    for row in rows:
        if row["status"] == ComparisonStatus.ERROR:
            lines.append(f"  ! {row['name']:<30} {row.get('error') or ''}")
    if s["failed"]:
        lines.append("Review: vizzly-tui status, then vizzly-tui accept ID... or reject ID...")
    return "\n".join(lines)
