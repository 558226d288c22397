"""Screenshot identity: name sanitising, signature, file name and comparison id.

These rules are the compatibility contract with the Vizzly CLI and cloud (contract §3.2):
the same name and properties must give the same signature, file name and id here as there,
so a project's `.vizzly/` folder can move between the two tools.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

MAX_NAME_LENGTH = 255
_UNSAFE_NAME_CHARS = re.compile(r"[^a-zA-Z0-9._ -]")
_FILE_NAME_DROP = re.compile(r'[/\\:*?"<>|]')
_WHITESPACE_RUN = re.compile(r"\s+")
_CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")


class InvalidName(ValueError):
    """A screenshot name the contract rejects (empty, too long, a path, a control character)."""


def validate_name(name: object) -> str:
    """Return `name` unchanged if it is acceptable, else raise InvalidName saying why.

    Upstream rejects empty names, names over 255 characters, `..`, `\\`, `/` and absolute
    paths. We also reject NUL and other control characters, which upstream would silently
    turn into `_` (two different names could then collide on one signature).
    """
    if not isinstance(name, str) or name == "":
        raise InvalidName("Screenshot name must be a non-empty string")
    if js_length(name) > MAX_NAME_LENGTH:
        raise InvalidName(f"Screenshot name exceeds maximum length of {MAX_NAME_LENGTH} characters")
    if ".." in name or "\\" in name:
        raise InvalidName("Screenshot name contains invalid path characters")
    if "/" in name:
        raise InvalidName("Screenshot name contains invalid path characters")
    if _CONTROL_CHARS.search(name):
        raise InvalidName("Screenshot name cannot contain control characters (such as NUL)")
    return name


def sanitize_name(name: object) -> str:
    """The stored name: every character outside `[a-zA-Z0-9._ -]` becomes `_`.

    A leading `.` gets the prefix `file_` so a name never becomes a hidden file.
    """
    valid = validate_name(name)
    # JavaScript replaces each UTF-16 code unit: a character outside the BMP (an emoji) is two
    # units, so it becomes two underscores there and must here too.
    sanitized = _UNSAFE_NAME_CHARS.sub(lambda m: "_" * js_length(m.group()), valid)
    if sanitized.startswith("."):
        sanitized = f"file_{sanitized}"
    return sanitized


def js_length(text: str) -> int:
    """`text.length` in JavaScript: UTF-16 code units, so an emoji counts twice."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def js_string(value: Any) -> str:
    """`String(value)` as JavaScript prints it, for the values that reach a signature.

    JSON numbers arrive in Python as int or float; JavaScript has one number type and prints
    `1920.0` as `1920`, so we must too or the hash would differ.
    """
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, Mapping):
        return "[object Object]"
    if isinstance(value, list | tuple):
        return ",".join("" if v is None else js_string(v) for v in value)
    return str(value)


def _lookup_custom(properties: Mapping[str, Any], key: str) -> Any:
    value = properties.get(key)
    if value is not None:
        return value
    metadata = properties.get("metadata")
    if isinstance(metadata, Mapping):
        value = metadata.get(key)
        if value is not None:
            return value
        nested = metadata.get("properties")
        if isinstance(nested, Mapping):
            return nested.get(key)
    return None


def signature(
    name: str,
    properties: Mapping[str, Any] | None = None,
    signature_properties: Sequence[str] = (),
) -> str:
    """`name|viewport_width|browser|custom…` (contract §3.2).

    `name` is the sanitized name. A missing value is an empty segment; every value is
    trimmed. `viewport_width` falls back to `viewport.width`; `browser` is lower-cased.
    """
    props: Mapping[str, Any] = properties or {}
    parts: list[str] = []
    for key in ("name", "viewport_width", "browser", *signature_properties):
        if key == "name":
            value: Any = name
        elif key == "viewport_width":
            value = props.get("viewport_width")
            if value is None:
                viewport = props.get("viewport")
                value = viewport.get("width") if isinstance(viewport, Mapping) else None
        elif key == "browser":
            value = props.get("browser")
            if isinstance(value, str):
                value = value.lower()
        else:
            value = _lookup_custom(props, key)
        parts.append("" if value is None else js_string(value).strip())
    return "|".join(parts)


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_name(name: str, signature_text: str) -> str:
    """`<safe-name>_<sha256(signature)[:12]>.png`, the name used in baselines/, current/, diffs/."""
    safe = _FILE_NAME_DROP.sub("", name)
    safe = _WHITESPACE_RUN.sub("-", safe)
    # JavaScript slices by UTF-16 code unit; sanitized names are ASCII, so this is the same.
    safe = safe[:50]
    return f"{safe}_{_sha256_hex(signature_text)[:12]}.png"


def comparison_id(signature_text: str) -> str:
    """The comparison id: the first 16 hex digits of sha256(signature)."""
    return _sha256_hex(signature_text)[:16]


def identify(
    raw_name: object,
    properties: Mapping[str, Any] | None = None,
    signature_properties: Sequence[str] = (),
) -> tuple[str, str, str, str]:
    """Sanitized name, signature, file name and id for a screenshot, in one call."""
    name = sanitize_name(raw_name)
    sig = signature(name, properties, signature_properties)
    return name, sig, file_name(name, sig), comparison_id(sig)
