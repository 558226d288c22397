"""Lock-down: only this machine may talk to the server, and only its own pages may change state.

Upstream answers every route with `Access-Control-Allow-Origin: *`, so any web page open in
the user's browser could accept or reset baselines. Here:
- the `Host` header must name a loopback host on every route (a DNS-rebinding page reaches
  127.0.0.1 under a foreign name, so the Host check is what stops it);
- a request carrying an `Origin` that is not a loopback origin gets 403 on every route that
  changes state, and CORS headers are only ever sent back to loopback origins (echoed, never
  `*`).
SDKs running in Node send no Origin; SDKs running in a browser test page (Ember, Storybook)
come from a localhost origin and keep working.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
# A compressed body whose stream never ends (a cut deflate stream) can leave aiohttp's reader
# waiting after the last byte arrived (found by tests/reliability): give up after this long.
COMPRESSED_BODY_STALL_S = 5.0
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOOPBACK_NAMES = frozenset({"localhost", "localhost.", "ip6-localhost", "ip6-loopback"})


def json_error(status: int, message: str, **extra: object) -> web.Response:
    return web.json_response({"error": message, **extra}, status=status)


def is_loopback_host(host: str | None) -> bool:
    """`127.0.0.1:47392`, `localhost`, `[::1]:80` -> True; anything else (or nothing) -> False."""
    if not host:
        return False
    host = host.strip().lower()
    if host.startswith("["):
        name = host[1 : host.find("]")] if "]" in host else host[1:]
    elif host.count(":") == 1:
        name = host.rsplit(":", 1)[0]
    else:
        name = host
    if name in LOOPBACK_NAMES or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def is_loopback_origin(origin: str) -> bool:
    """An Origin is `scheme://host[:port]` and nothing else. Parsed as a URL, its host is
    compared exactly: `http://localhost:80@evil.example` is evil.example (with user info)."""
    try:
        parts = urlsplit(origin.strip())
        port = parts.port  # raises ValueError for a port that is not a number in range
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or port == 0:
        return False
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        return False
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return False
    host = parts.hostname
    if not host:
        return False
    return is_loopback_host(f"[{host}]" if ":" in host else host)


def _cors_headers(origin: str) -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": origin,
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type",
        "Vary": "Origin",
    }


@web.middleware
async def lockdown(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not is_loopback_host(request.headers.get("Host")):
        return json_error(403, "Forbidden: the Host header must name this machine (loopback)")
    origin = request.headers.get("Origin")
    trusted_origin = origin is not None and is_loopback_origin(origin)
    if origin is not None and not trusted_origin and request.method not in SAFE_METHODS:
        return json_error(403, f"Forbidden: requests from {origin} may not change state")
    referer = request.headers.get("Referer")
    if origin is None and referer and request.method not in SAFE_METHODS:
        # A browser that sends no Origin (an old one, or a privacy setting) still names the
        # page in Referer; SDKs and the CLI send neither (found by tests/reliability).
        page = urlsplit(referer.strip())
        if not is_loopback_origin(f"{page.scheme}://{page.netloc}"):
            return json_error(403, f"Forbidden: requests from {referer} may not change state")
    if request.method == "OPTIONS":
        if origin is not None and not trusted_origin:
            return json_error(403, f"Forbidden: {origin} is not a loopback origin")
        response: web.StreamResponse = web.Response(status=200)
    else:
        response = await handler(request)
    if trusted_origin and origin is not None and not response.prepared:
        response.headers.update(_cors_headers(origin))
    return response


class PayloadErrorFilter(logging.Filter):
    """A request the client broke (an unknown `Content-Encoding`, a bad deflate stream that
    aiohttp meets while draining the body after our answer) is the client's fault: aiohttp
    answers 400 and we log one warning line, not a traceback (found by tests/reliability)."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, RequestPayloadError | HttpProcessingError):
            record.msg = "refused a request (or the rest of its body) that could not be read: %s"
            record.args = (str(exc).replace("\n", " ").strip(),)
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.exc_info = None
            record.exc_text = None
        return True


def quiet_payload_errors() -> None:
    logger = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, PayloadErrorFilter) for f in logger.filters):
        logger.addFilter(PayloadErrorFilter())


@web.middleware
async def json_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Upstream's error bodies: 404 `{"error":"Not found"}`, 500 `Internal server error`."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return json_error(404, "Not found")
    except web.HTTPMethodNotAllowed:
        return json_error(404, "Not found")
    except web.HTTPException:
        raise
    except Exception as exc:
        from vizzly_tui.errors import CorruptDatabase
        from vizzly_tui.store.bootstrap import is_damage

        if isinstance(exc, CorruptDatabase) or is_damage(exc):
            # A damaged state.db: say so (the writer no longer writes to it), not "error".
            log.error("%s %s: %s", request.method, request.path, exc)
            return json_error(503, f"Service unavailable: {exc}")
        log.exception("unhandled error on %s %s", request.method, request.path)
        return json_error(500, "Internal server error")


async def read_json(request: web.Request, max_bytes: int) -> object:
    """The request's JSON body; `{}` when empty. Raises HTTPException subclasses with JSON."""
    length = request.content_length
    if length is not None and length > max_bytes:
        raise _too_large(length, max_bytes)
    data = bytearray()
    encoded = request.headers.get("Content-Encoding", "identity").strip().lower()
    stall = None if encoded in ("", "identity") else COMPRESSED_BODY_STALL_S
    try:
        chunks = request.content.iter_chunked(1 << 16)
        while True:
            async with asyncio.timeout(stall):
                chunk = await anext(chunks, None)
            if chunk is None:
                break
            data.extend(chunk)
            if len(data) > max_bytes:
                raise _too_large(len(data), max_bytes)
    except web.HTTPException:
        raise
    except TimeoutError as exc:
        raise _bad_request(
            f"Invalid request body: its {encoded} stream did not end (cut short?)"
        ) from exc
    except Exception as exc:  # a broken gzip stream, a truncated chunked body...
        raise _bad_request(f"Invalid request body: {exc}") from exc
    if not data.strip():
        return {}
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad_request(f"Invalid JSON: {exc}") from exc
    except RecursionError as exc:
        raise _bad_request("Invalid JSON: nested too deeply") from exc
    except ValueError as exc:  # e.g. a number over Python's 4300-digit limit
        raise _bad_request(f"Invalid JSON: {str(exc).split(';')[0]}") from exc
    if _has_lone_surrogate(value):
        raise _bad_request(
            "Invalid JSON: a string contains a lone UTF-16 surrogate (\\ud800-\\udfff)"
        )
    return value


def _has_lone_surrogate(value: object, depth: int = 0) -> bool:
    # JSON may escape half of a UTF-16 pair alone; such a string cannot be stored or hashed.
    if isinstance(value, str):
        if value.isascii():
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if depth > 200:
        return False
    if isinstance(value, dict):
        return any(
            _has_lone_surrogate(k, depth + 1) or _has_lone_surrogate(v, depth + 1)
            for k, v in value.items()
        )
    if isinstance(value, list):
        return any(_has_lone_surrogate(v, depth + 1) for v in value)
    return False


def _bad_request(message: str) -> web.HTTPException:
    return web.HTTPBadRequest(text=json.dumps({"error": message}), content_type="application/json")


def _too_large(size: int, limit: int) -> web.HTTPException:
    message = (
        f"Request body too large: {size} bytes is over the limit of {limit} bytes "
        "(raise it with --max-body-bytes or VIZZLY_MAX_BODY_BYTES)"
    )
    return web.HTTPRequestEntityTooLarge(
        max_size=limit,
        actual_size=size,
        text=json.dumps({"error": message}),
        content_type="application/json",
    )
