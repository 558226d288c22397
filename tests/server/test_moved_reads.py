"""A state.db deleted or replaced under `serve`: the server's read connections still have the
old file open, so without a check they would answer from a database no one else sees any
more (the dashboard showing comparisons `vizzly-tui status` no longer has, /flush counting
them for the SDK) for as long as the server runs. Reads answer 503 with the reason, like
writes; /health keeps answering so `stop` and `serve --status` still find the server."""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3

import pytest

from tests.racehelpers import png
from tests.reliability.helpers import ServeProcess
from vizzly_tui.store.db import readonly_uri


def _delete(db) -> None:
    db.unlink()


def _restore_a_copy(db) -> None:
    # A backup taken a moment ago, restored the careful way (copy, then rename over).
    copy = db.with_name("state.db.restored")
    source = sqlite3.connect(readonly_uri(db), uri=True)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    shutil.move(copy, db)


CHANGES = {"deleted": _delete, "restored": _restore_a_copy}
MOVED = "deleted or replaced while vizzly-tui was running"


@pytest.mark.parametrize("change", CHANGES)
def test_reads_answer_503_once_the_database_was_deleted_or_replaced(tmp_path, change):
    server = ServeProcess(tmp_path / "proj", tmp_path / "home")
    try:
        shot = {"name": "home", "image": base64.b64encode(png((1, 2, 3))).decode()}
        assert server.post_json("/screenshot", shot)[0] == 200
        status, body = server.request("GET", "/api/report-data")
        assert status == 200
        cid = json.loads(body)["comparisons"][0]["id"]
        CHANGES[change](server.root / ".vizzly" / "state.db")
        for method, path in (
            ("GET", "/api/report-data"),
            ("GET", f"/api/comparison/{cid}"),
            ("POST", "/flush"),
        ):
            status, answer = server.request(method, path)
            assert status == 503, (path, answer)
            assert MOVED in json.loads(answer)["error"], answer
        assert server.healthy()
    finally:
        err = server.stop()
    assert "Traceback" not in err
