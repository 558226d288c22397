"""Damage SQLite reports on a read (a reader connection, not the writer, which turns it into
CorruptDatabase itself) is the same known cause: 503 with the reason on every route, not a
500 that reads like a bug in vizzly-tui."""

from __future__ import annotations

import peewee
import pytest

from tests.server.conftest import b64, png
from vizzly_tui import review

MALFORMED = "database disk image is malformed"


async def test_a_screenshot_meeting_damage_is_503(server, monkeypatch):
    client, _ = server
    from vizzly_tui.server import routes

    def fail(*args, **kwargs):
        raise peewee.DatabaseError(MALFORMED)

    monkeypatch.setattr(routes, "capture", fail)
    response = await client.post("/screenshot", json={"name": "x", "image": b64(png())})
    assert response.status == 503
    assert MALFORMED in (await response.json())["error"]
    assert (await client.get("/health")).status == 200


@pytest.mark.parametrize(
    ("path", "function", "body"),
    [
        ("/api/baseline/accept-all", "accept", {}),
        ("/api/baseline/reset", "reset", {}),
    ],
)
async def test_a_review_route_meeting_damage_is_503(server, monkeypatch, path, function, body):
    client, _ = server

    def fail(*args, **kwargs):
        raise peewee.DatabaseError(MALFORMED)

    monkeypatch.setattr(review, function, fail)
    response = await client.post(path, json=body)
    assert response.status == 503
    assert MALFORMED in (await response.json())["error"]
