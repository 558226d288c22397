"""The command line's output: rich tables with coloured statuses and progress bars on a
terminal; the plain text (scripts parse it) when piped or with NO_COLOR; --json unchanged;
names from SDKs never interpreted as markup or escape sequences."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import select
import subprocess
import sys
import time

import pytest
from rich.console import Console

from tests.storehelpers import open_seeded
from tests.terminalhelpers import CSI, run_cli
from vizzly_tui import formatting
from vizzly_tui.cli import output
from vizzly_tui.doctor import DoctorReport
from vizzly_tui.project import Project
from vizzly_tui.store.models import Comparison

# rich's "bold red" on an xterm: SGR 1;31, right before the word.
RED_FAILED = re.compile(r"\x1b\[[0-9;]*31m\s*failed")
PIPED = {"stdout_tty": False, "stderr_tty": False}
HOSTILE = "[bold]x[/] \x1b]0;pwned\x07\x1b[31mred :smile:"


def seeded(tmp_path, count: int = 3, status: str = "failed"):
    store, _ = open_seeded(tmp_path, count, status)
    store.close()
    return str(tmp_path)


def test_status_on_a_terminal_is_a_table_with_failed_in_red(tmp_path):
    root = seeded(tmp_path)
    ran = run_cli(["--project", root, "status"], stdout_tty=True, stderr_tty=True)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert RED_FAILED.search(ran.stdout), ran.stdout
    # The counts line colours what is not zero; the table has its header row.
    assert re.search(r"\x1b\[[0-9;]*31m3 failed", ran.stdout)
    assert "Signature" in ran.stdout and "shot-002|1280|chrome" in ran.stdout


def test_status_piped_is_the_plain_text_with_no_escape_codes(tmp_path):
    root = seeded(tmp_path)
    data = json.loads(run_cli(["--project", root, "status", "--json"], **PIPED).stdout)
    ran = run_cli(["--project", root, "status"], **PIPED)
    assert ran.code == 0
    assert "\x1b" not in ran.stdout
    assert ran.stdout == formatting.status_text(data) + "\n"


def test_no_color_on_a_terminal_prints_the_plain_text(tmp_path):
    root = seeded(tmp_path)
    piped = run_cli(["--project", root, "status"], **PIPED).stdout
    ran = run_cli(
        ["--project", root, "status"], stdout_tty=True, stderr_tty=True, env={"NO_COLOR": "1"}
    )
    assert ran.code == 0
    assert CSI not in ran.stdout
    assert ran.stdout == piped


@pytest.mark.parametrize("command", [["status", "--json"], ["log", "--json"]])
def test_json_on_a_terminal_is_the_same_bytes_as_piped(tmp_path, command):
    root = seeded(tmp_path)
    run_cli(["--project", root, "accept", "shot-001"], **PIPED)  # something in the log
    on_terminal = run_cli(["--project", root, *command], stdout_tty=True, stderr_tty=True)
    piped = run_cli(["--project", root, *command], **PIPED)
    assert on_terminal.code == piped.code == 0
    assert on_terminal.stdout == piped.stdout
    assert json.loads(piped.stdout)  # and it is JSON, not a table


def test_a_hostile_name_prints_literally_and_neutralised_on_a_terminal(tmp_path):
    store, _ = open_seeded(tmp_path, 1)
    store.call(lambda: Comparison.update(name=HOSTILE, signature=HOSTILE + "|1280").execute())
    store.close()
    for tty in (True, False):
        ran = run_cli(["--project", str(tmp_path), "status"], stdout_tty=tty, stderr_tty=tty)
        assert ran.code == 0
        # Markup and emoji codes print as typed; the OSC title and the colour code that the
        # name carried reach the terminal as U+FFFD, never as escape sequences.
        assert "[bold]x[/]" in ran.stdout and ":smile:" in ran.stdout
        assert "\ufffd]0;pwned\ufffd\ufffd[31mred" in ran.stdout
        assert "\x1b]" not in ran.stdout and "\x07" not in ran.stdout
        assert "\x1b[31mred" not in ran.stdout


def test_the_log_on_a_terminal_colours_the_statuses(tmp_path):
    root = seeded(tmp_path)
    run_cli(["--project", root, "accept", "shot-001"], **PIPED)
    ran = run_cli(["--project", root, "log"], stdout_tty=True, stderr_tty=True)
    assert ran.code == 0
    assert RED_FAILED.search(ran.stdout) and re.search(r"\x1b\[[0-9;]*32mpassed", ran.stdout)
    piped = run_cli(["--project", root, "log"], **PIPED).stdout
    assert "\x1b" not in piped and "accept  by cli   shot-001  failed -> passed" in piped


@pytest.mark.parametrize(
    ("command", "label"), [(["accept", "--all"], "accepting"), (["reset", "--yes"], "resetting")]
)
def test_long_batches_draw_a_progress_bar_on_a_terminal_only(tmp_path, command, label):
    root = seeded(tmp_path, 30)
    ran = run_cli(["--project", root, *command], stdout_tty=False, stderr_tty=True)
    assert ran.code == 0, ran.stderr
    # The bar (rich: \r-redrawn line with "done/total") on stderr, the result on stdout plain.
    totals = {int(t) for t in re.findall(r"\b\d+/(\d+)\b", ran.stderr)}
    assert label in ran.stderr and totals and min(totals) >= 30, ran.stderr  # reset: +settings
    assert "━" in ran.stderr
    assert "30 item(s)" in ran.stdout and "\x1b" not in ran.stdout
    # The hand-written "  12/30\r" counter is gone: its bare line never appears.
    assert not re.search(r"(^|\r)  \d+/\d+(\r|\n)", ran.stderr)


def test_a_piped_batch_prints_no_progress(tmp_path):
    root = seeded(tmp_path, 30)
    ran = run_cli(["--project", root, "accept", "--all"], **PIPED)
    assert ran.code == 0
    assert ran.stderr == "" and "\x1b" not in ran.stdout


def test_gc_draws_a_progress_bar_while_it_looks_at_the_kept_images(tmp_path):
    root = seeded(tmp_path, 1)
    objects = tmp_path / ".vizzly" / "objects"
    objects.mkdir(exist_ok=True)
    old = time.time() - 86400
    for i in range(25):  # unreferenced, and older than gc's grace period
        path = objects / f"{i:064x}.png"
        path.write_bytes(b"orphan")
        os.utime(path, (old, old))
    ran = run_cli(["--project", root, "gc"], stdout_tty=True, stderr_tty=True)
    assert ran.code == 0, ran.stderr
    assert "checking kept images" in ran.stderr and "/25" in ran.stderr
    assert "removed 25 unreferenced image(s)" in re.sub(r"\x1b\[[0-9;]*m", "", ran.stdout)
    assert not list(objects.glob("*.png"))


# --- the views, rendered by a console forced to be a terminal ------------------------------


def render(renderable) -> str:
    buffer = io.StringIO()
    Console(file=buffer, force_terminal=True, color_system="standard", width=140).print(renderable)
    return buffer.getvalue()


def test_the_run_summary_colours_what_needs_a_look():
    data = {
        "summary": {"total": 3, "passed": 1, "failed": 1, "new": 1, "rejected": 0, "errors": 0},
        "comparisons": [
            {"name": "login", "signature": "login|1280", "status": "failed", "diffPercentage": 2.5},
            {"name": "cart", "signature": "cart|1280", "status": "new"},
            {"name": "home", "signature": "home|1280", "status": "passed"},
        ],
    }
    shown = render(output.run_summary_view(data, "/tmp/report/index.html"))
    assert RED_FAILED.search(shown) and "2.50%" in shown
    assert re.search(r"\x1b\[[0-9;]*33mnew", shown)
    assert "home" not in shown  # passed screenshots need no look
    assert "report: /tmp/report/index.html" in shown


def test_the_doctor_report_colours_severities_and_the_verdict():
    report = DoctorReport(project="/p")
    report.add("error", "baselines", "2 baselines differ from their sha256", "run doctor --repair")
    report.add("warning", "objects", "3 unreferenced images", "run gc", items=[HOSTILE])
    shown = render(output.doctor_view(report))
    assert re.search(r"\x1b\[[0-9;]*31mERROR", shown)
    assert re.search(r"\x1b\[[0-9;]*33mWARNING", shown)
    assert re.search(r"\x1b\[[0-9;]*31mproblems found \(exit 3\)", shown)
    assert "[bold]x[/]" in shown and "\x1b]0;" not in shown


def test_version_and_piped_status_do_not_load_rich(tmp_path):
    """rich costs ~100 ms to import: only output to a terminal pays for it."""
    root = seeded(tmp_path)
    code = (
        "import atexit, sys\n"
        "atexit.register(lambda: print('RICH', 'rich' in sys.modules))\n"
        "from vizzly_tui.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    for args in (["--version"], ["--project", root, "status"]):
        ran = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120
        )
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.rstrip().endswith("RICH False"), ran.stdout


def test_the_bootstrap_progress_bar_draws_only_for_a_legacy_project_on_a_terminal(
    tmp_path, monkeypatch, scenario_project
):
    """The callback the first start of a large Vizzly CLI project reports to (the store's
    bootstrap progress): a bar on a terminal, nothing in a project with nothing to import."""
    master, slave = pty.openpty()
    terminal = open(slave, "w", encoding="utf-8", closefd=True)  # noqa: SIM115 - closed below
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.setattr(sys, "stderr", terminal)
    try:
        with output.bootstrap_progress(Project(tmp_path)) as nothing:
            assert nothing is None  # no Vizzly CLI files: nothing to import
        legacy = Project(scenario_project("scenario-a-first-run"))
        with output.bootstrap_progress(legacy) as bar:
            assert bar is not None
            for done in range(1, 41):
                bar(done, 40)
        terminal.flush()
        shown = b""
        while select.select([master], [], [], 0.5)[0]:
            shown += os.read(master, 1 << 16)
    finally:
        terminal.close()
        os.close(master)
    assert b"importing the Vizzly CLI's files" in shown and b"40/40" in shown
