"""`POST /api/baselines/download {buildId}` (contract §5.2): the dashboard's cloud download.

Token: `serve --token`, else $VIZZLY_TOKEN (upstream's OAuth session is not available here,
so organizationSlug/projectSlug are accepted and ignored). The download is the same one
decision as `vizzly-tui baselines download`, made by actor `http`.
"""

from __future__ import annotations

import dataclasses

from aiohttp import web

from vizzly_tui.errors import VizzlyError
from vizzly_tui.server.security import json_error, read_json


async def download(request: web.Request) -> web.Response:
    from vizzly_tui.cloud.download import DownloadRequest, download_into
    from vizzly_tui.server.routes import STATE, error_response

    state = request.app[STATE]
    body = await read_json(request, state.max_body_bytes)
    build_id = body.get("buildId") if isinstance(body, dict) else None
    if not isinstance(build_id, str) or not build_id:
        return json_error(400, "buildId is required")
    settings = state.settings
    try:
        data = await download_into(
            state.store,
            DownloadRequest(build_id=build_id, token=state.cloud_token),
            threshold=settings.threshold,
            max_pixels=settings.max_pixels,
            signature_properties=settings.signature_properties,
            actor="http",
        )
    except VizzlyError as exc:
        return error_response(exc)
    props = tuple(data["signatureProperties"])
    if props != settings.signature_properties:
        # Later screenshots must get the signatures (and file names) of the new baselines.
        state.settings = dataclasses.replace(settings, signature_properties=props)
    message = f"Baselines downloaded from build {build_id}"
    return web.json_response({"success": True, "message": message, **data})


def register(app: web.Application) -> None:
    app.router.add_post("/api/baselines/download", download)
