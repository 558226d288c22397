"""Our errors as HTTP answers: one table (routes.error_status) gives every route the same
status for the same error, with the message as `{"error": ...}`."""

from __future__ import annotations

import pytest

from tests.server.conftest import b64, png
from vizzly_tui import review
from vizzly_tui.cloud.api import CloudAuthError
from vizzly_tui.cloud.plan import CloudError
from vizzly_tui.errors import (
    CorruptDatabase,
    FilesError,
    NotFound,
    PartlyApplied,
    ProjectBusy,
    UsageError,
)
from vizzly_tui.store import decisions

# The routes that run a review action, with the review function each calls and its body.
REVIEW_ROUTES = [
    ("/api/baseline/accept", "accept", True),
    ("/api/baseline/reject", "reject", True),
    ("/api/baseline/delete", "delete", True),
    ("/api/baseline/accept-all", "accept", False),
    ("/api/baseline/reset", "reset", False),
]


async def _changed_pair(client) -> str:
    """Send `page` twice with different pixels: a failed comparison; its id."""
    for block in (None, (200, 0, 0)):
        response = await client.post(
            "/screenshot", json={"name": "page", "image": b64(png(block=block))}
        )
        assert response.status == 200
    report = await (await client.get("/api/report-data")).json()
    return report["comparisons"][0]["id"]


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFound("Comparison not found: x"), 404),
        (review.StaleComparison("page: .vizzly/current/page.png changed since"), 409),
        (CorruptDatabase("state.db is damaged"), 503),
        (ProjectBusy("another vizzly-tui process held the lock"), 503),
        (PartlyApplied("accept stopped part-way: left applied: page"), 500),
        (FilesError("cannot write in .vizzly/baselines/ (No space left on device)"), 500),
        (UsageError("cannot undo: why"), 500),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, Exception) else str(v),
)
@pytest.mark.parametrize(("path", "function", "with_id"), REVIEW_ROUTES)
async def test_each_error_gets_its_status_and_message_on_every_review_route(
    server, monkeypatch, error, status, path, function, with_id
):
    client, _ = server
    cid = await _changed_pair(client)

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(review, function, fail)
    response = await client.post(path, json={"id": cid} if with_id else {})
    assert response.status == status
    assert await response.json() == {"error": str(error)}


@pytest.mark.parametrize(
    ("error", "status", "body"),
    [
        (
            review.StaleComparison("changed since it was compared"),
            409,
            "changed since it was compared",
        ),
        (CorruptDatabase("state.db is damaged"), 503, "state.db is damaged"),
        (NotFound("Comparison not found: x"), 404, "Comparison not found: x"),
        # Upstream's fixed message for every other failure of this legacy route.
        (PartlyApplied("accept stopped part-way"), 500, "Failed to accept baseline"),
    ],
)
async def test_the_legacy_accept_route_uses_the_same_table(
    server, monkeypatch, error, status, body
):
    client, _ = server
    cid = await _changed_pair(client)

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(review, "accept", fail)
    response = await client.post("/accept-baseline", json={"id": cid})
    assert (response.status, await response.json()) == (status, {"error": body})


async def test_a_current_image_changed_since_it_was_compared_is_409(server):
    client, state = server
    cid = await _changed_pair(client)
    [current] = state.store.project.current_dir.glob("page_*.png")
    current.write_bytes(png(block=(0, 0, 200)))
    for path in ("/api/baseline/accept", "/accept-baseline"):
        response = await client.post(path, json={"id": cid})
        assert response.status == 409, path
        assert "changed since it was compared" in (await response.json())["error"]


async def test_a_full_disk_during_reset_names_the_folder_and_changes_nothing(server, monkeypatch):
    client, state = server
    await _changed_pair(client)

    def full(project, decision, *, forward=True):
        raise OSError(28, "No space left on device", str(project.baselines_dir / "x.png"))

    monkeypatch.setattr(decisions, "apply_files", full)
    response = await client.post("/api/baseline/reset")
    assert response.status == 507  # Insufficient Storage: the client may retry later
    message = (await response.json())["error"]
    assert "is full" in message and "cannot write in .vizzly/baselines/" in message
    assert "nothing was changed" in message
    assert len(list(state.store.project.baselines_dir.glob("page_*.png"))) == 1


async def test_screenshot_errors_use_the_table_with_upstreams_500_wording(server, monkeypatch):
    client, _ = server
    from vizzly_tui.server import routes

    for error, status, body in [
        (CorruptDatabase("state.db is damaged"), 503, "state.db is damaged"),
        (ProjectBusy("held the lock; not recorded"), 503, "held the lock; not recorded"),
        (RuntimeError("boom"), 500, "Failed to process screenshot: boom"),
    ]:

        def fail(*args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(routes, "capture", fail)
        response = await client.post("/screenshot", json={"name": "x", "image": b64(png())})
        assert (response.status, await response.json()) == (status, {"error": body})


def test_cloud_errors_map_before_their_base_class():
    from vizzly_tui.server.routes import error_status

    assert error_status(CloudAuthError("bad token")) == 401
    assert error_status(CloudError("cloud said 404")) == 502
    assert error_status(ValueError("not ours")) == 500
