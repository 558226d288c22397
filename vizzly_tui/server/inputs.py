"""Turn a `POST /screenshot` body into a checked ScreenshotRequest, or a RequestError.

Pure: no aiohttp, no store. The rules follow the Vizzly CLI's handler so SDKs see the same
answers (contract §3.2 name and property validation, §3.3 property normalisation, §5.3 bodies
and error responses, §5.4 input-type detection). Where upstream lets bad input through (garbage
base64, unreadable paths) we answer with a 4xx/5xx that says what was wrong instead.
"""

from __future__ import annotations

import base64
import binascii
import copy
import errno
import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote

from vizzly_tui.identity import InvalidName, sanitize_name

VALID_TYPES = ("base64", "file-path")
# Upstream's cut-off: file paths are short, screenshots as base64 are 100 KB and more.
PATH_DETECT_MAX_LENGTH = 1000
MAX_VIEWPORT = 10000
MAX_BROWSER_LENGTH = 50
MAX_PROPERTY_STRING_LENGTH = 200

_DRIVE_PATH = re.compile(r"[A-Za-z]:[/\\]")
_RELATIVE_PATH = re.compile(r"\.\.?[/\\]")
_IMAGE_EXTENSION = re.compile(r"\.(?:png|jpe?g|gif|webp|bmp|svg|tiff?|ico)\Z", re.IGNORECASE)
_BASE64_CHARS = re.compile(r"[A-Za-z0-9+/=]+")
_PROPERTY_KEY = re.compile(r"[a-zA-Z0-9_-]{1,50}")
_HTML_CHARS = re.compile(r"""[<>&"']""")
# Node's base64 decoder skips whitespace and accepts the URL-safe alphabet; so do we.
_BASE64_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")
_NOT_BASE64 = re.compile(r"[^A-Za-z0-9+/\-_= \t\r\n\f\v]")
_URL_SAFE = str.maketrans("-_", "+/")
_IDENTITY_SLASH_DETAILS = "Screenshot name cannot contain forward slashes"


class RequestError(Exception):
    """A request the server refuses: `status` and the exact JSON `body` to send back."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(str(body.get("error", "")))
        self.status = status
        self.body = body


@dataclass(frozen=True)
class ScreenshotRequest:
    raw_name: str  # the name as the SDK sent it
    name: str  # identity.sanitize_name(raw_name)
    properties: dict[str, Any]  # normalise_properties(); viewport_* None when unknown
    image: bytes  # undecoded file bytes (PNG-ness is checked later by the engine)
    source: str  # "base64" | "file-path"
    build_id: str | None


# --- JavaScript semantics the contract depends on ------------------------------------------


def _js_length(text: str) -> int:
    """`str.length` in JavaScript counts UTF-16 code units, so an emoji counts twice."""
    return len(text.encode("utf-16-le")) // 2


def _js_falsy(value: object) -> bool:
    """`!value` in JavaScript; unlike Python, empty lists and objects are truthy there."""
    if value is None or value is False or value == "":
        return True
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value == 0 or (isinstance(value, float) and math.isnan(value))
    return False


def _js_typeof(value: object) -> str:
    """`typeof value` for JSON values (`typeof null` is 'object' in JavaScript)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


def _describe(value: object) -> str:
    """A JSON type name for our own error messages, where 'object' alone would be vague."""
    if value is None:
        return "null"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else f"a {_js_typeof(value)}"


def _finite_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:  # a JSON integer too big for a double is Infinity to JavaScript
        return math.isfinite(float(value))
    except OverflowError:
        return False


# --- §5.4 input type detection ---------------------------------------------------------------


def _looks_like_file_path(text: str) -> bool:
    # A bare leading "/" is deliberately not a path sign: JPEG base64 starts with "/9j/".
    return (
        text.startswith("file://")
        or _DRIVE_PATH.match(text) is not None
        or _RELATIVE_PATH.match(text) is not None
        or _IMAGE_EXTENSION.search(text) is not None
    )


def _is_strict_base64(text: str) -> bool:
    if not _BASE64_CHARS.fullmatch(text) or len(text) % 4:
        return False
    return len(text) - len(text.rstrip("=")) <= 2


def detect_image_input_type(value: object) -> str:
    """'base64', 'file-path' or 'unknown', by upstream's rules (contract §5.4)."""
    if not isinstance(value, str) or not value:
        return "unknown"
    if value.startswith("data:"):
        return "base64"
    short = len(value) <= PATH_DETECT_MAX_LENGTH and _js_length(value) <= PATH_DETECT_MAX_LENGTH
    if short and _looks_like_file_path(value):
        return "file-path"
    if not short:  # too long for a path; skip validating 300 KB of base64 here
        return "base64"
    return "base64" if _is_strict_base64(value) else "unknown"


# --- §3.3 property normalisation -----------------------------------------------------------


def _unwrap(raw: object) -> dict[str, Any]:
    """Step 1: `{..., properties: {...}}` is merged flat, the nested values winning.

    Upstream returns `{}` for null and its validator returns `{}` for any non-object. Arrays
    are objects to JavaScript (it would keep them as index keys "0", "1"...); we treat them as
    the non-objects they are meant not to be.
    """
    if not isinstance(raw, dict):
        return {}
    nested = raw.get("properties")
    if isinstance(nested, dict):
        merged = {**raw, **nested}
        merged.pop("properties", None)
        return merged
    return raw


def _browser_name(browser: str) -> str | None:
    """'Chrome/139.0.7258.138' -> 'Chrome'; None (dropped) when the name is not acceptable."""
    head = browser.split("/", 1)[0]
    if _js_length(head) > MAX_BROWSER_LENGTH:
        return None
    try:
        return sanitize_name(head)
    except InvalidName:
        return None


def _validate(props: dict[str, Any]) -> dict[str, Any]:
    """Step 2, `validateScreenshotProperties`: keep only safe, flat values (contract §3.2)."""
    validated: dict[str, Any] = {}
    browser = props.get("browser")
    if isinstance(browser, str) and browser:
        name = _browser_name(browser)
        if name is not None:
            validated["browser"] = name
    viewport = props.get("viewport")
    if isinstance(viewport, dict):
        sizes = {}
        for axis in ("width", "height"):
            value = viewport.get(axis)
            if _finite_number(value) and 0 < value <= MAX_VIEWPORT:
                sizes[axis] = math.floor(value)
        if sizes:
            validated["viewport"] = sizes
    for key, value in props.items():
        # "__proto__" is kept by the key pattern but assigning it in JavaScript sets the
        # prototype instead of a property, so upstream never stores it.
        if key in ("browser", "viewport", "__proto__"):
            continue
        if not isinstance(key, str) or not _PROPERTY_KEY.fullmatch(key):
            continue
        if isinstance(value, str):
            if _js_length(value) <= MAX_PROPERTY_STRING_LENGTH:
                validated[key] = _HTML_CHARS.sub("", value)
        elif isinstance(value, bool) or _finite_number(value):
            validated[key] = value
        # Objects, arrays and null are dropped (metadata is re-attached below).
    return validated


def _extract(validated: dict[str, Any]) -> dict[str, Any]:
    """Step 3, `extractProperties`: lift viewport and browser to the top level."""
    viewport = validated.get("viewport", {})
    sizes = []
    for axis in ("width", "height"):
        value = viewport.get(axis)
        if value is None:
            value = validated.get(f"viewport_{axis}")
        # Upstream then fills any *falsy* size (0, "", false) from the image; None tells
        # our capture pipeline to do the same.
        sizes.append(value or None)
    return {
        **validated,
        "viewport_width": sizes[0],
        "viewport_height": sizes[1],
        "browser": validated.get("browser"),
        "metadata": copy.deepcopy(validated),
    }


def normalise_properties(raw: object) -> dict[str, Any]:
    """Contract §3.3 steps 1-3 on the body's `properties` (any JSON value).

    Never raises for JSON input: upstream's validator only ever drops what it dislikes, so the
    'Invalid screenshot properties' 400 it can send is unreachable there too.
    """
    return _extract(_validate(_unwrap(raw)))


# --- image bytes ---------------------------------------------------------------------------


def _too_large(what: str, size: int, limit: int) -> RequestError:
    return RequestError(
        413,
        {
            "error": f"Screenshot image too large: {what} is {size} bytes, "
            f"over the limit of {limit} bytes",
            "tddMode": True,
        },
    )


def _invalid_image(problem: str) -> RequestError:
    return RequestError(400, {"error": f'Invalid image input: "image" {problem}', "tddMode": True})


def _decode_base64(image: str, max_bytes: int | None) -> bytes:
    payload = image
    if payload.startswith("data:"):
        header, comma, rest = payload.partition(",")
        if not comma:
            raise _invalid_image("is a data: URI with no ',' before its data")
        if not header.endswith(";base64"):
            raise _invalid_image(f"is a data: URI not marked base64 ({header[:60]!r})")
        payload = rest
    # Fast path: what the SDKs send is plain padded base64. The strict C decoder checks it in
    # a fraction of the time of the regex checks below, which only word a precise error.
    if max_bytes is None or len(payload) * 3 // 4 <= max_bytes:
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            pass
        else:
            if data:
                return data
    bad = _NOT_BASE64.search(payload)
    if bad:
        raise _invalid_image(
            f"is not valid base64 (unexpected character {bad.group()!r} "
            f"at offset {bad.start()} of the base64 data)"
        )
    core = _BASE64_WHITESPACE.sub("", payload).translate(_URL_SAFE).rstrip("=")
    if "=" in core:
        raise _invalid_image("is not valid base64 ('=' padding before the end of the data)")
    if len(core) % 4 == 1:
        raise _invalid_image("is not valid base64 (a stray final character: truncated data?)")
    # Checked before decoding, from the length alone, so an oversized body costs no copy.
    size = len(core) * 3 // 4
    if max_bytes is not None and size > max_bytes:
        raise _too_large('the base64 "image"', size, max_bytes)
    try:
        data = base64.b64decode(core + "=" * (-len(core) % 4), validate=True)
    except binascii.Error as exc:  # unreachable after the checks above; kept as a net
        raise _invalid_image(f"is not valid base64 ({exc})") from None
    if not data:
        raise _invalid_image("is empty: the base64 data decodes to zero bytes")
    return data


def _os_reason(exc: OSError) -> str:
    code = errno.errorcode.get(exc.errno or 0)
    return f"{code}: {exc.strerror}" if code and exc.strerror else str(exc)


def _read_file(image: str, base_dir: Path, max_bytes: int | None) -> bytes:
    raw = unquote(image[len("file://") :]) if image.startswith("file://") else image
    # Like Node's path.resolve: relative to the server's working directory, ".." folded,
    # symlinks left alone.
    path = os.path.normpath(os.path.join(os.path.abspath(base_dir), raw))

    def unreadable(reason: str) -> RequestError:
        return RequestError(
            500,
            {
                "error": f"Failed to read screenshot file: {reason}",
                "filePath": path,
                "tddMode": True,
            },
        )

    if not os.path.exists(path):
        raise RequestError(
            400,
            {"error": f"Screenshot file not found: {path}", "originalPath": image, "tddMode": True},
        )
    try:
        info = os.stat(path)
    except OSError as exc:
        raise unreadable(_os_reason(exc)) from None
    if stat.S_ISDIR(info.st_mode):
        raise unreadable("EISDIR: the path is a directory, not an image file")
    if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
        raise unreadable("the path is not a regular file (device, pipe or socket)")
    if max_bytes is not None and info.st_size > max_bytes:
        raise _too_large(f"file {path}", info.st_size, max_bytes)
    try:
        with open(path, "rb") as handle:
            data = handle.read(-1 if max_bytes is None else max_bytes + 1)
    except OSError as exc:
        raise unreadable(_os_reason(exc)) from None
    if max_bytes is not None and len(data) > max_bytes:  # grew since the stat
        raise _too_large(f"file {path}", len(data), max_bytes)
    if not data:
        raise RequestError(
            400,
            {
                "error": f"Invalid image input: screenshot file is empty: {path}",
                "filePath": path,
                "tddMode": True,
            },
        )
    return data


# --- the body ------------------------------------------------------------------------------


def parse_screenshot(
    body: object,
    *,
    base_dir: Path | str | None = None,
    max_image_bytes: int | None = None,
) -> ScreenshotRequest:
    """Check a decoded JSON body in upstream's order: fields, name, properties, image.

    `base_dir` is where relative image paths resolve (the project root; default: the
    process's working directory, as upstream). `max_image_bytes` caps the decoded image.
    """
    if not isinstance(body, dict):
        raise RequestError(
            400,
            {
                "error": 'Invalid request body: expected a JSON object with "name" and '
                f'"image", got {_describe(body)}'
            },
        )
    raw_name = body.get("name")
    image = body.get("image")
    if _js_falsy(raw_name) or _js_falsy(image):
        raise RequestError(400, {"error": "name and image are required"})
    try:
        name = sanitize_name(raw_name)  # also rejects a name that is not a string
    except InvalidName as exc:
        details = str(exc)
        # identity words "/" as upstream's validateScreenshotName does; the handler runs
        # sanitizeScreenshotName, whose wording SDKs see (err-screenshot-slash-name.json).
        if details == _IDENTITY_SLASH_DETAILS:
            details = "Screenshot name contains invalid path characters"
        raise RequestError(
            400, {"error": "Invalid screenshot name", "details": details, "tddMode": True}
        ) from None
    properties = normalise_properties(body.get("properties"))

    declared = body.get("type")
    source = declared if declared in VALID_TYPES else detect_image_input_type(image)
    if not isinstance(image, str) or source not in VALID_TYPES:
        raise RequestError(
            400,
            {
                "error": "Invalid image input: must be a file path or base64 encoded image data",
                "receivedType": _js_typeof(image),
                "tddMode": True,
            },
        )
    if source == "file-path":
        where = Path.cwd() if base_dir is None else Path(base_dir)
        data = _read_file(image, where, max_image_bytes)
    else:
        data = _decode_base64(image, max_image_bytes)

    build_id = body.get("buildId")
    return ScreenshotRequest(
        raw_name=cast(str, raw_name),  # sanitize_name accepted it, so it is a str
        name=name,
        properties=properties,
        image=data,
        source=source,
        build_id=build_id if isinstance(build_id, str) and build_id else None,
    )
