"""The `vizzly-tui` command: wires the layers, holds no logic of its own.

One module per family of commands (architecture.md): group.py the group itself (--project,
--debug, errors to exit codes), review.py the review state, server.py serve/run/stop,
maintenance.py gc/db/doctor/config, app.py the review app and the demo, images.py
compare/show/report, baselines.py the baselines and the cloud download; common.py and
output.py what they share. Every module imports only click and our light modules at import
time: `--version` must not pay for the store, the engine, the HTTP stack or rich.

Exit codes (architecture.md): 0 ok, 1 differences found (compare/run), 2 usage or project
not found, 3 database problem, 4 server problem, 5 done in part (what was skipped is
listed). Tracebacks only with --debug.
"""

from __future__ import annotations

from vizzly_tui.cli import app, baselines, images, maintenance, review, server
from vizzly_tui.cli.group import main

for _module in (app, review, maintenance, server, images, baselines):
    for _command in _module.COMMANDS:
        main.add_command(_command)

__all__ = ["main"]
