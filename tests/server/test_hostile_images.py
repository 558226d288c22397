"""/images hands out images only: a hard link in an image folder to state.db (or to any
other file that is not a PNG) is not served (a follow-up probe of issue 7)."""

from __future__ import annotations

import os

from tests.server.conftest import png
from vizzly_tui.capture import capture


async def test_a_hard_link_to_state_db_in_current_is_not_served(server):
    client, state = server
    project = state.store.project
    capture(state.store, state.build_id, "home", png())
    os.link(project.db_path, project.current_dir / "x.png")
    (project.root / "secret.txt").write_text("password")
    os.link(project.root / "secret.txt", project.diffs_dir / "y.png")
    for path in ("/images/current/x.png", "/images/diffs/y.png"):
        response = await client.get(path)
        body = await response.read()
        assert response.status == 404, path
        assert b"SQLite" not in body and b"password" not in body
    # The real images are still served.
    [current] = project.current_dir.glob("home_*.png")
    response = await client.get(f"/images/current/{current.name}")
    assert response.status == 200
    assert await response.read() == current.read_bytes()
