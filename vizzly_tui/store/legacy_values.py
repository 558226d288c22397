"""Value checks shared by the legacy JSON importer (no database access here).

The legacy files come from other machines, other CLI versions and hand edits, so every value
is checked before it reaches SQLite: a wrong type becomes NULL (with a note in the import
log) instead of an exception that would abort migration 001. Two things would otherwise
raise inside sqlite3 itself and are caught here: integers beyond 64 bits (OverflowError) and
strings holding lone UTF-16 surrogates, which `json` accepts from `"\\ud800"` escapes but
which cannot be encoded as UTF-8 (UnicodeEncodeError).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)
IMPORTED = "imported"
SKIPPED = "skipped"
NOTE_PREFIX = "note: "


class BadValue(ValueError):
    """A JSON value of the wrong type or range; the message says what is wrong with it."""


@dataclass(frozen=True)
class LogEntry:
    """One import_log row: what the import took or skipped from a legacy file, and why."""

    source: str  # legacy file relative to .vizzly/, e.g. "report-data.json"
    item: str | None  # comparison id, screenshot name/signature... or None for the whole file
    outcome: str  # imported | skipped
    detail: str


def storable(value: str) -> str:
    """`value` with lone surrogates escaped, so a log line quoting input can always be stored."""
    if value.isascii():
        return value
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


@dataclass
class LogBook:
    """Collects import_log rows in memory; they are written in one executemany at the end."""

    entries: list[LogEntry] = field(default_factory=list)

    def skip(self, source: str, item: str | None, detail: str) -> None:
        item = None if item is None else storable(item)
        self.entries.append(LogEntry(source, item, SKIPPED, storable(detail)))

    def note(self, source: str, item: str | None, detail: str) -> None:
        # A note is an entry that was imported with a change (a field set to NULL...). It is
        # an 'imported' row so the outcome vocabulary stays imported|skipped; the prefix tells
        # it apart from the per-file "imported N ..." row.
        item = None if item is None else storable(item)
        self.entries.append(LogEntry(source, item, IMPORTED, NOTE_PREFIX + storable(detail)))

    def count(self, source: str, n: int, what: str) -> None:
        self.entries.append(LogEntry(source, None, IMPORTED, f"imported {n} {what}"))


def describe(value: Any) -> str:
    """A short rendering of a value for a log line (never the whole of a big object).

    Strings are quoted 'like this' (repr escapes lone surrogates, so the line stays
    storable); other values are shown in JSON's own words (true, null, [1, 2]).
    """
    if isinstance(value, str):
        text = repr(value)
    else:
        text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def text(value: Any) -> str:
    """A string SQLite can store (UTF-8 encodable), else BadValue."""
    if type(value) is not str:
        raise BadValue(f"is not a string ({describe(value)})")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise BadValue("is not valid Unicode (lone surrogate)") from exc
    return value


def opt_text(value: Any) -> str | None:
    return None if value is None else text(value)


def real(value: Any) -> float | int | None:
    """A finite JSON number (bool is not a number, as in the contract's typed fields)."""
    kind = type(value)
    if kind is float:
        if math.isfinite(value):
            return value
        raise BadValue(f"is not a finite number ({describe(value)})")
    if kind is int:
        # A REAL column stores any int exactly up to 2**53; beyond 64 bits sqlite3 would raise.
        return value if INT64_MIN <= value <= INT64_MAX else float(value)
    if value is None:
        return None
    raise BadValue(f"is not a number ({describe(value)})")


def integer(value: Any) -> int | None:
    """A JSON integer; an integral float (1.0, as JavaScript may write) is accepted."""
    kind = type(value)
    if kind is float and value.is_integer():
        value = int(value)
        kind = int
    if kind is int:
        if INT64_MIN <= value <= INT64_MAX:
            return value
        raise BadValue(f"is out of the 64-bit range ({describe(value)})")
    if value is None:
        return None
    raise BadValue(f"is not an integer ({describe(value)})")


def epoch_ms(value: Any) -> int:
    """A time in epoch milliseconds: an integer, or a float rounded (Date.now() is integral)."""
    if type(value) is float and math.isfinite(value):
        value = round(value)
    if type(value) is int and INT64_MIN <= value <= INT64_MAX:
        return value
    raise BadValue(f"is not a time in epoch milliseconds ({describe(value)})")


def iso_ms(value: Any) -> int:
    """An ISO-8601 time (`2026-11-26T08:43:24.703Z`) as epoch ms; a naive time is taken as UTC."""
    if type(value) is not str:
        raise BadValue(f"is not an ISO-8601 time ({describe(value)})")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadValue(f"is not an ISO-8601 time ({describe(value)})") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    # Integer arithmetic on timedeltas: float seconds * 1000 can land 1 ms low.
    return (parsed - _EPOCH) // _ONE_MS


def mtime_ms(path: Path) -> int:
    return os.stat(path).st_mtime_ns // 1_000_000


def mtime_iso(path: Path) -> str:
    stamp = datetime.fromtimestamp(mtime_ms(path) / 1000, tz=UTC)
    return stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _no_default(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# json.dumps() builds a new encoder on every call; with ~30,000 JSON cells per 10,000
# comparisons that costs ~50 ms, so the C encoder is built once. Values come from json.loads,
# so they cannot be circular (markers=None skips that check). ASCII output keeps lone
# surrogates storable (they become \u escapes).
_C_ENCODER = (
    json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None, _no_default, json.encoder.encode_basestring_ascii, None, ":", ",", False, False, True
    )
    if json.encoder.c_make_encoder is not None  # type: ignore[attr-defined]
    else None
)


def dumps(value: Any) -> str:
    """Compact JSON text for a JSON column."""
    if _C_ENCODER is None or isinstance(value, str | int | float):
        # The C encoder handles only containers at the top level; scalars are cheap anyway.
        return json.dumps(value, separators=(",", ":"))
    return "".join(_C_ENCODER(value, 0))


def dumps_or_null(value: Any) -> str | None:
    return None if value is None else dumps(value)


@dataclass
class Loaded:
    """A legacy file read and parsed, or the reason it could not be."""

    value: Any = None
    error: str | None = None
    note: str | None = None


def load_json(path: Path) -> Loaded:
    """Parse a legacy JSON file without ever raising for its content."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return Loaded(error=f"cannot read the file: {exc.strerror or exc}")
    try:
        # utf-8-sig: a BOM added by a Windows editor should not cost the user their state.
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return Loaded(error=f"not valid UTF-8: {exc.reason} at byte {exc.start}")
    constants: list[str] = []

    def on_constant(name: str) -> None:
        # NaN/Infinity are not JSON (JavaScript's JSON.parse rejects them) but Python accepts
        # them. Read them as null rather than losing the whole file, and say so.
        constants.append(name)

    try:
        value = json.loads(content, parse_constant=on_constant)
    except json.JSONDecodeError as exc:
        return Loaded(error=f"not valid JSON: {exc}")
    except RecursionError:
        return Loaded(error="not valid JSON: nested too deeply")
    except ValueError as exc:  # e.g. a number longer than Python's 4300-digit limit
        return Loaded(error=f"not valid JSON: {str(exc).split(';')[0]}")
    note = None
    if constants:
        note = f"non-JSON constant(s) {', '.join(sorted(set(constants)))} read as null"
    return Loaded(value=value, note=note)


def type_name(value: Any) -> str:
    """The JSON name of a value's type, for "wrong shape" messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
