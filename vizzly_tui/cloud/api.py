"""A small client for the Vizzly cloud API endpoints a baseline download needs.

aiohttp's client, imported here only (not at start-up). The token goes to the API's own
origin only, never to the file URLs the API hands out (those are usually pre-signed storage
URLs). Every network or HTTP failure becomes a CloudError that says what failed.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
from collections.abc import Mapping
from typing import Any

import aiohttp

from vizzly_tui import __version__
from vizzly_tui.cloud.plan import CONTROL_CHARACTERS, CloudError
from vizzly_tui.errors import EXIT_USAGE

DEFAULT_API_URL = "https://app.vizzly.dev"
MAX_JSON_BYTES = 32 << 20
MAX_FILE_BYTES = 64 << 20
TOKEN_HELP = (
    "set a project token with --token or the VIZZLY_TOKEN environment variable "
    "(Vizzly dashboard: project settings, API tokens)"
)


class CloudAuthError(CloudError):
    """No token, or the API refused it (401/403)."""

    exit_code = EXIT_USAGE


def api_url(env: Mapping[str, str] | None = None) -> str:
    value = (os.environ if env is None else env).get("VIZZLY_API_URL")
    return (value or DEFAULT_API_URL).rstrip("/")


def token_from(flag: str | None, env: Mapping[str, str] | None = None) -> str:
    token = flag or (os.environ if env is None else env).get("VIZZLY_TOKEN")
    if not token:
        raise CloudAuthError(f"downloading baselines needs an API token: {TOKEN_HELP}")
    return token


class CloudClient:
    def __init__(self, base_url: str, token: str, *, timeout_s: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s, sock_connect=10)
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> CloudClient:
        self._session = aiohttp.ClientSession(
            timeout=self.timeout, headers={"User-Agent": f"vizzly-tui/{__version__} (tdd)"}
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._session is not None:
            await self._session.close()

    @property
    def session(self) -> aiohttp.ClientSession:
        assert self._session is not None, "use CloudClient as an async context manager"
        return self._session

    async def get_json(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        """GET an API endpoint with the token; the parsed JSON body."""
        url = self.base_url + path
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        try:
            async with self.session.get(
                url, headers=headers, params=params, allow_redirects=False
            ) as response:
                if response.status in (401, 403):
                    raise CloudAuthError(
                        f"the Vizzly API refused the token ({response.status} for GET {path}): "
                        f"{TOKEN_HELP}"
                    )
                if response.status == 404:
                    raise CloudError(f"not found on the Vizzly API: GET {path} answered 404")
                if response.status >= 300:
                    body = (await response.content.read(300)).decode("utf-8", "replace")[:300]
                    body = CONTROL_CHARACTERS.sub("\ufffd", body)  # printed on a terminal
                    raise CloudError(
                        f"the Vizzly API answered {response.status} for GET {path}: {body}"
                    )
                data = await _read(response, MAX_JSON_BYTES, f"GET {path}")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise CloudError(
                f"cannot reach the Vizzly API at {self.base_url}: {_why(exc)}"
            ) from exc
        try:
            return json.loads(data, parse_constant=_no_constant, parse_float=_finite)
        except ValueError as exc:
            raise CloudError(f"GET {path} did not answer JSON: {exc}") from None

    async def download(self, url: str, label: str) -> bytes:
        """A file the API pointed at (no token sent)."""
        try:
            async with self.session.get(url) as response:
                if response.status >= 300:
                    raise CloudError(f"downloading {label} failed: HTTP {response.status}")
                return await _read(response, MAX_FILE_BYTES, f"downloading {label}")
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise CloudError(f"downloading {label} failed: {_why(exc)}") from exc


def _no_constant(literal: str) -> Any:
    # NaN and Infinity are not JSON (Python's parser accepts them); the database would refuse
    # them later as "malformed JSON", blaming the project instead of the API.
    raise ValueError(f"{literal} is not a JSON value")


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):  # 1e999: too large for a float, it would become infinity
        raise ValueError(f"{literal} is too large a number")
    return value


async def _read(response: aiohttp.ClientResponse, limit: int, what: str) -> bytes:
    if response.content_length is not None and response.content_length > limit:
        raise CloudError(f"{what}: {response.content_length} bytes is over the {limit} limit")
    parts: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            raise CloudError(f"{what}: the body is over the {limit} byte limit")
        parts.append(chunk)
    return b"".join(parts)


def _why(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    if isinstance(
        exc, aiohttp.NonHttpUrlRedirectClientError | aiohttp.InvalidUrlRedirectClientError
    ):
        return f"redirected to an address that is not http(s): {exc}"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"the connection closed before the whole body arrived ({exc})"
    return str(exc) or type(exc).__name__
