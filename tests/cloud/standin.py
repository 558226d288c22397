"""A stand-in of the Vizzly cloud API for tests: loopback only, in its own thread.

It serves the response shapes the Vizzly CLI reads (contract §3.7; upstream's
src/api/endpoints.js): `GET /api/sdk/builds/:id/tdd-baselines`, `GET /api/sdk/comparisons/:id`,
`GET /api/sdk/builds?environment&branch&status=passed&limit=1`, and the screenshot files at
`/files/<name>`. Knobs make it misbehave the ways a real network or API can.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "test-token-123"


@dataclass
class Shot:
    name: str
    data: bytes
    browser: str | None = "chrome"
    viewport_width: int | None = 1280
    filename: str | None = None  # None: the identity rule's name is sent


@dataclass
class CloudBuild:
    id: str
    shots: list[Shot]
    status: str = "completed"
    hotspots: dict[str, Any] | None = None
    regions: dict[str, Any] | None = None
    signature_properties: list[str] = field(default_factory=list)


class CloudStandIn:
    def __init__(self) -> None:
        self.builds: dict[str, CloudBuild] = {}
        self.latest: dict[tuple[str, str], str] = {}  # (environment, branch) -> build id
        self.comparisons: dict[str, dict[str, Any]] = {}
        self.files: dict[str, bytes] = {}
        self.requests: list[tuple[str, str, str | None]] = []  # method, path+query, auth
        self.drop_half: set[str] = set()  # file names whose body is cut half-way
        self.corrupt: dict[str, bytes] = {}  # file name -> bytes served instead
        self.wrong_sha: set[str] = set()  # file names whose listed sha256 is wrong
        self.hostile_name: dict[str, str] = {}  # screenshot name -> filename sent
        self.redirect: dict[str, str] = {}  # file name -> Location it redirects to
        self.edit_json: Any = None  # text -> text: tampers with the tdd-baselines body
        self.error: tuple[int, str] | None = None  # (status, body) tdd-baselines answers
        self.file_delay = 0.0  # seconds each file takes (a slow network)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- data ---------------------------------------------------------------------------

    def add_build(self, build: CloudBuild) -> CloudBuild:
        from vizzly_tui import identity

        self.builds[build.id] = build
        for index, shot in enumerate(build.shots):
            props = {"browser": shot.browser, "viewport_width": shot.viewport_width}
            try:
                _, _, file_name, _ = identity.identify(shot.name, props, build.signature_properties)
            except identity.InvalidName:  # the cloud may hold names no SDK can send
                file_name = f"odd-{build.id}-{index}.png"
            shot.filename = shot.filename or file_name
            self.files[shot.filename] = shot.data
        return build

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def shot_json(self, shot: Shot, build_id: str) -> dict[str, Any]:
        import io

        from PIL import Image

        width, height = Image.open(io.BytesIO(shot.data)).size
        sha = hashlib.sha256(shot.data).hexdigest()
        if shot.filename in self.wrong_sha:
            sha = hashlib.sha256(b"something else").hexdigest()
        return {
            "id": f"scr_{shot.name}",
            "name": shot.name,
            "filename": self.hostile_name.get(shot.name, shot.filename),
            "sha256": sha,
            "original_url": f"{self.url}/files/{shot.filename}",
            "browser": shot.browser,
            "viewport_width": shot.viewport_width,
            "width": width,
            "height": height,
            "file_size_bytes": len(shot.data),
            "build_id": build_id,
        }

    def baselines_json(self, build: CloudBuild) -> dict[str, Any]:
        body: dict[str, Any] = {
            "build": {
                "id": build.id,
                "name": f"main @ {build.id}",
                "status": build.status,
                "commit_sha": "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d",
                "commit_message": "Mock baseline build",
                "approval_status": "approved",
                "completed_at": "2026-01-15T12:00:00.000Z",
            },
            "screenshots": [self.shot_json(s, build.id) for s in build.shots],
            "signatureProperties": build.signature_properties,
        }
        if build.hotspots is not None:
            body["hotspots"] = build.hotspots
        if build.regions is not None:
            body["regions"] = build.regions
        body["summary"] = {"total_screenshots": len(build.shots)}
        return body

    # --- handlers -----------------------------------------------------------------------

    def _authorised(self, request: web.Request) -> bool:
        auth = request.headers.get("Authorization")
        self.requests.append((request.method, request.path_qs, auth))
        return auth == f"Bearer {TOKEN}"

    async def tdd_baselines(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        if self.error is not None:
            return web.Response(status=self.error[0], text=self.error[1])
        build = self.builds.get(request.match_info["id"])
        if build is None:
            return web.json_response({"error": "Build not found"}, status=404)
        text = json.dumps(self.baselines_json(build))
        if self.edit_json is not None:
            text = self.edit_json(text)
        return web.Response(text=text, content_type="application/json")

    async def builds_list(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        q = request.query
        build_id = self.latest.get((q.get("environment", ""), q.get("branch", "")))
        if q.get("status") != "passed" or build_id is None:
            return web.json_response({"data": []})
        return web.json_response({"data": [{"id": build_id, "status": "passed"}]})

    async def comparison(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return web.json_response({"error": "Unauthorized"}, status=401)
        found = self.comparisons.get(request.match_info["id"])
        if found is None:
            return web.json_response({"error": "Comparison not found"}, status=404)
        return web.json_response({"comparison": found})

    async def file(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        self.requests.append(
            (request.method, request.path_qs, request.headers.get("Authorization"))
        )
        if self.file_delay:
            await asyncio.sleep(self.file_delay)
        if name in self.redirect:
            raise web.HTTPFound(self.redirect[name])
        data = self.corrupt.get(name, self.files.get(name))
        if data is None:
            return web.Response(status=404)
        if name in self.drop_half:
            response = web.StreamResponse(headers={"Content-Length": str(len(data))})
            await response.prepare(request)
            await response.write(data[: len(data) // 2])
            assert request.transport is not None
            request.transport.close()  # the connection drops half-way through the body
            return response
        return web.Response(body=data, content_type="image/png")

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> CloudStandIn:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            app = web.Application()
            app.router.add_get("/api/sdk/builds/{id}/tdd-baselines", self.tdd_baselines)
            app.router.add_get("/api/sdk/builds", self.builds_list)
            app.router.add_get("/api/sdk/comparisons/{id}", self.comparison)
            app.router.add_get("/files/{name}", self.file)
            self._runner = web.AppRunner(app, access_log=None)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, "127.0.0.1", 0)
            loop.run_until_complete(site.start())
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

        self._thread = threading.Thread(target=run, name="cloud-standin", daemon=True)
        self._thread.start()
        assert ready.wait(10), "the cloud stand-in did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
