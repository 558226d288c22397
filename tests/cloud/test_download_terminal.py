"""`baselines download` on a terminal: a progress bar on stderr while the files come."""

from __future__ import annotations

from tests.terminalhelpers import run_cli


def test_download_draws_a_progress_bar_on_a_terminal_and_none_when_piped(project, cloud):
    args = ["--project", str(project.root), "baselines", "download", "build-1"]
    ran = run_cli(args, stdout_tty=False, stderr_tty=True)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert "downloading baselines" in ran.stderr and "2/2" in ran.stderr
    assert "2 downloaded" in ran.stdout and "\x1b" not in ran.stdout

    piped = run_cli(args, stdout_tty=False, stderr_tty=False)
    assert piped.code == 0 and piped.stderr == ""
    assert "2 already up to date" in piped.stdout  # the same set again
