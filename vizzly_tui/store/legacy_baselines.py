"""baselines/metadata.json and baseline-metadata.json -> origin build, baseline rows.

baselines/metadata.json has two entry shapes (contract §1.2): a local entry {name,
properties, path, signature} and a cloud-download entry {name, originalName, sha256, id,
filename, path, browser, viewport_width, originalUrl, fileSize, dimensions} without a
signature. `path` is an absolute path on the machine that wrote the file, so it is never
used: the file is looked up by name in this project's `baselines/` folder, and must exist.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from vizzly_tui import identity
from vizzly_tui.statuses import BuildStatus
from vizzly_tui.store import files
from vizzly_tui.store.legacy_values import (
    BadValue,
    LogBook,
    describe,
    dumps,
    iso_ms,
    mtime_ms,
    opt_text,
    text,
)

METADATA = "baselines/metadata.json"
BUILD_METADATA = "baseline-metadata.json"
LOCAL_BUILD_ID = "local-baseline"
# Keys of a screenshot entry that are columns (or deliberately dropped, like `path`); the
# others (cloud: id, originalName, originalUrl, fileSize, dimensions) are kept in `extra`.
_ENTRY_KEYS = frozenset(
    {"name", "properties", "path", "signature", "sha256", "filename", "browser", "viewport_width"}
)
_CLOUD_INFO_KEYS = ("approvalStatus", "completedAt", "downloadedAt")

BUILD_COLUMNS = (
    "kind",
    "uid",
    "name",
    "status",
    "started_at",
    "finished_at",
    "branch",
    "commit_sha",
    "commit_message",
    "environment",
    "cloud_build_id",
    "cloud_info",
)
BASELINE_COLUMNS = (
    "signature",
    "name",
    "file_name",
    "sha256",
    "width",
    "height",
    "size",
    "properties",
    "origin_build_id",
    "updated_at",
    "extra",
)
VERSION_COLUMNS = ("signature", "sha256", "size", "created_at", "decision_id", "source")


def _field(source: str, obj: dict[str, Any], key: str, log: LogBook) -> str | None:
    """An optional text field of a header; a wrong type is noted and read as None."""
    try:
        return opt_text(obj.get(key))
    except BadValue as exc:
        log.note(source, None, f"field '{key}' {exc}; ignored")
        return None


def signature_properties(header: dict[str, Any], log: LogBook) -> list[str]:
    value = header.get("signatureProperties")
    if value is None:
        return []
    if type(value) is not list:
        log.note(METADATA, None, f"'signatureProperties' is {describe(value)}; used []")
        return []
    names = [v for v in value if type(v) is str and v.isascii()]
    if len(names) != len(value):
        log.note(METADATA, None, "'signatureProperties' entries that are not names were dropped")
    return names


def origin_build(
    header: dict[str, Any], build_meta: dict[str, Any] | None, fallback_ms: int, log: LogBook
) -> dict[str, Any]:
    """The build that produced the baselines, from the metadata header (+ baseline-metadata)."""
    build_id = _field(METADATA, header, "buildId", log)
    if not build_id:
        log.note(METADATA, None, f"no 'buildId'; recorded as '{LOCAL_BUILD_ID}'")
        build_id = LOCAL_BUILD_ID
    info = header.get("buildInfo")
    if info is not None and type(info) is not dict:
        log.note(METADATA, None, f"'buildInfo' is {describe(info)}, not an object; ignored")
        info = None
    # baseline-metadata.json describes the same download only when its buildId matches.
    same = build_meta is not None and build_meta.get("buildId") == build_id
    meta = build_meta if same and build_meta is not None else {}
    cloud = build_id != LOCAL_BUILD_ID and (info is not None or same)
    info = info or {}
    cloud_info = dict(info)
    cloud_info.update({k: meta[k] for k in _CLOUD_INFO_KEYS if k in meta})
    try:
        started = iso_ms(header.get("createdAt"))
    except BadValue as exc:
        log.note(METADATA, None, f"'createdAt' {exc}; used the file's modification time")
        started = fallback_ms

    def pick(key: str, info_key: str | None = None) -> str | None:
        value = _field(METADATA, info, info_key, log) if info_key else None
        value = value or _field(METADATA, header, key, log)
        return value or _field(BUILD_METADATA, meta, key, log)

    return {
        "kind": "baseline-cloud" if cloud else "baseline-local",
        "uid": f"baseline:{build_id}",
        "name": pick("buildName"),
        "status": BuildStatus.IMPORTED,
        "started_at": started,
        "finished_at": started,
        "branch": pick("branch"),
        "commit_sha": pick("commitSha", "commitSha"),
        "commit_message": pick("commitMessage", "commitMessage"),
        "environment": pick("environment"),
        "cloud_build_id": build_id if cloud else None,
        "cloud_info": dumps(cloud_info) if cloud_info else None,
    }


def build_from_build_metadata(
    meta: dict[str, Any], fallback_ms: int, log: LogBook
) -> dict[str, Any] | None:
    """A 'baseline-cloud' build from baseline-metadata.json alone (no matching metadata.json)."""
    build_id = _field(BUILD_METADATA, meta, "buildId", log)
    if not build_id:
        log.note(BUILD_METADATA, None, "no 'buildId': kept as a setting only, no build row")
        return None
    started = fallback_ms
    for key in ("downloadedAt", "completedAt"):
        try:
            started = iso_ms(meta.get(key))
            break
        except BadValue:
            continue
    cloud_info = {k: meta[k] for k in _CLOUD_INFO_KEYS if k in meta}
    return {
        "kind": "baseline-cloud",
        "uid": f"baseline:{build_id}",
        "name": _field(BUILD_METADATA, meta, "buildName", log),
        "status": BuildStatus.IMPORTED,
        "started_at": started,
        "finished_at": started,
        "branch": _field(BUILD_METADATA, meta, "branch", log),
        "commit_sha": _field(BUILD_METADATA, meta, "commitSha", log),
        "commit_message": _field(BUILD_METADATA, meta, "commitMessage", log),
        "environment": _field(BUILD_METADATA, meta, "environment", log),
        "cloud_build_id": build_id,
        "cloud_info": dumps(cloud_info) if cloud_info else None,
    }


def safe_file_name(value: Any) -> str:
    """A cloud `filename`: the API chose it, so it must be a plain PNG basename."""
    name = text(value)
    if (
        not name.endswith(".png")
        or "/" in name
        or "\\" in name
        or ".." in name
        or name.startswith(".")
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in name)
    ):
        raise BadValue(f"unsafe baseline file name {describe(name)}")
    return name


def read_file(path: str) -> tuple[bytes, int]:
    """A regular file's bytes and mtime (epoch ms).

    os.open/os.read costs half of open() for the 10,000 small baselines of a big project.
    O_NONBLOCK: a FIFO named like a baseline must not hang the bootstrap (it is rejected).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise IsADirectoryError(path)
        data = os.read(fd, info.st_size + 1)
        # A regular file's short read is its end; only a file growing under us needs more.
        while len(data) > info.st_size and (more := os.read(fd, 65536)):
            data += more
        return data, info.st_mtime_ns // 1_000_000
    finally:
        os.close(fd)


def parse_screenshots(
    entries: list[Any],
    *,
    baselines_dir: Path,
    build_id: int,
    sig_props: Sequence[str],
    log: LogBook,
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Screenshot entries -> (baseline rows, baseline_version rows)."""
    rows: list[tuple[Any, ...]] = []
    versions: list[tuple[Any, ...]] = []
    seen: set[str] = set()
    folder = str(baselines_dir)  # os.path.join on a str: pathlib's `/` costs ~3 µs a file
    for index, entry in enumerate(entries):
        if type(entry) is not dict:
            log.skip(METADATA, f"screenshots[{index}]", f"entry is {describe(entry)}")
            continue
        item = entry.get("name") if type(entry.get("name")) is str else f"screenshots[{index}]"
        try:
            row = _baseline_row(entry, folder, build_id, sig_props, seen, log)
        except BadValue as exc:
            log.skip(METADATA, item, str(exc))
            continue
        except Exception as exc:  # an input we did not foresee must not abort migration 001
            log.skip(METADATA, item, f"unexpected {type(exc).__name__}: {exc}")
            continue
        rows.append(row)
        versions.append((row[0], row[3], row[6], row[9], None, "import"))
    return rows, versions


def _baseline_row(
    entry: dict[str, Any],
    baselines_dir: str,
    build_id: int,
    sig_props: Sequence[str],
    seen: set[str],
    log: LogBook,
) -> tuple[Any, ...]:
    raw_name = entry.get("name")
    if raw_name is None:
        raise BadValue("missing field 'name'")
    try:
        name = identity.validate_name(text(raw_name))
    except (BadValue, identity.InvalidName) as exc:
        raise BadValue(f"invalid name {describe(raw_name)}: {exc}") from None
    cloud = "signature" not in entry and "filename" in entry
    properties = entry.get("properties")
    if cloud and properties is None:
        # The download shape keeps only these two identity properties (contract §1.2).
        properties = {
            k: entry[k] for k in ("browser", "viewport_width") if entry.get(k) is not None
        }
        if "viewport_width" in properties:
            properties["viewport"] = {"width": properties["viewport_width"]}
            if entry.get("viewport_height") is not None:
                properties["viewport"]["height"] = entry["viewport_height"]
    elif type(properties) is not dict:
        if properties is not None:
            log.note(METADATA, name, f"'properties' is {describe(properties)}; stored {{}}")
        properties = {}
    signature = entry.get("signature")
    if signature is None:
        signature = identity.signature(name, properties, sig_props)
    try:
        # A computed signature is checked too: its values come from the same untrusted file.
        signature = text(signature)
    except BadValue as exc:
        raise BadValue(f"field 'signature' {exc}") from None
    if signature in seen:
        raise BadValue(f"duplicate signature {describe(signature)}")
    if "filename" in entry:
        file_name = safe_file_name(entry["filename"])
    else:
        file_name = identity.file_name(name, signature)
    try:
        data, updated_at = read_file(os.path.join(baselines_dir, file_name))
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise BadValue(f"baseline file baselines/{file_name} is missing") from None
    except OSError as exc:
        raise BadValue(f"cannot read baselines/{file_name}: {exc.strerror or exc}") from None
    sha256 = hashlib.sha256(data).hexdigest()
    extra = (
        {}
        if entry.keys() <= _ENTRY_KEYS
        else {k: v for k, v in entry.items() if k not in _ENTRY_KEYS}
    )
    claimed = entry.get("sha256")
    if claimed is not None and claimed != sha256:
        # The real hash is stored (it is what the bytes are); the claim stays in `extra`.
        extra["sha256"] = claimed
        log.note(
            METADATA, signature, f"sha256 in the metadata does not match baselines/{file_name}"
        )
    size = files.png_size(data)
    if size is None:
        log.note(METADATA, signature, f"baselines/{file_name} is not a PNG; no width/height")
    seen.add(signature)
    width, height = size or (None, None)
    return (
        signature, name, file_name, sha256, width, height, len(data),
        dumps(properties), build_id, updated_at, dumps(extra) if extra else None,
    )  # fmt: skip


def header_of(metadata: dict[str, Any]) -> dict[str, Any]:
    """The metadata header as stored in setting 'baseline_metadata' (no screenshots)."""
    return {k: v for k, v in metadata.items() if k != "screenshots"}


def file_time(path: Path) -> int:
    try:
        return mtime_ms(path)
    except OSError:
        return 0
