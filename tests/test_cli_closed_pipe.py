"""The command line when the reader of its output goes away (`vizzly-tui log | head -1`):
what was asked is done, nothing is printed about it and no traceback, and the exit status
is the shell's for a command ended by SIGPIPE, as with any Unix tool in a pipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.storehelpers import open_seeded
from vizzly_tui.cli.group import EXIT_BROKEN_PIPE


@pytest.mark.parametrize(
    "command", [["status"], ["status", "--json"], ["log"], ["accept", "--all"]]
)
def test_a_closed_stdout_ends_quietly(tmp_path, command):
    store, _ = open_seeded(tmp_path, 3, "failed")
    store.close()
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env["PYTHONPATH"] = str(REPO_ROOT)
    read_end, write_end = os.pipe()
    # The reader is gone before the command writes a byte.
    os.close(read_end)
    ran = subprocess.run(
        [sys.executable, "-m", "vizzly_tui", "--project", str(tmp_path), *command],
        stdin=subprocess.DEVNULL,
        stdout=write_end,
        stderr=subprocess.PIPE,
        env=env,
        timeout=120,
    )
    os.close(write_end)
    stderr = ran.stderr.decode()
    assert stderr == "", stderr
    assert ran.returncode == EXIT_BROKEN_PIPE
    if command[0] == "accept":
        # The work was done; only its report went unread.
        after = subprocess.run(
            [sys.executable, "-m", "vizzly_tui", "--project", str(tmp_path), "status", "--json"],
            capture_output=True,
            env=env,
            timeout=120,
        )
        summary = json.loads(after.stdout)["summary"]
        assert summary["failed"] == 0, summary
