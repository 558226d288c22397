"""/health after state.db was deleted under `serve`: `stop` and `serve --status` find the
server through it, so it answers even from a read thread that never opened the old file
(the pool starts one when two requests overlap)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.server.conftest import b64, png


async def test_health_answers_from_a_new_read_thread_once_the_database_is_gone(server):
    client, state = server
    assert (await client.post("/screenshot", json={"name": "a", "image": b64(png())})).status == 200
    state.store.project.db_path.unlink()
    old = state.read_pool
    state.read_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fresh-read")
    try:
        response = await client.get("/health")
        assert response.status == 200, await response.text()
        assert (await response.json())["status"] == "ok"
    finally:
        state.read_pool.shutdown()
        state.read_pool = old
