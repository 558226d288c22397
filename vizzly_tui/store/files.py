"""Image files under `.vizzly/`: atomic writes, the content-addressed object store, hashing.

A file is never written in place: bytes go to a temporary name in the same folder, are
fsync'd, then `os.replace`d over the target, so a crash leaves the old or the new file,
never half of one. Temporary names share one prefix so a later start can sweep them.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import struct
from pathlib import Path

from vizzly_tui.project import Project

TEMP_PREFIX = ".vizzly-tmp-"
IMAGE_FOLDERS = ("baselines", "current", "diffs")


PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from the IHDR chunk (bytes 16-24), or None when it is not a PNG.

    The store's own cheap reader (the store does not import the engine, architecture.md).
    """
    if len(data) < 24 or not data.startswith(PNG_MAGIC) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return width, height


PNG_END = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def looks_like_png(data: bytes) -> bool:
    """A PNG from its signature to its IEND chunk: not empty, not another format, not cut
    short (the store's cheap test; the engine decodes)."""
    return png_size(data) is not None and data.endswith(PNG_END)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_dir(folder: Path) -> None:
    # The rename itself must reach the disk for the new name to survive a power cut.
    _fsync_file(folder)


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write `data` to `path` through a temp file + rename in the same folder.

    Readers see the old or the new file, never half of one. `durable` also fsyncs the file
    and the rename: needed for baselines and objects (the decision protocol relies on them),
    not for current/ screenshots, which can be sent again and whose bytes accept checks
    against the hash recorded with the comparison.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{TEMP_PREFIX}{secrets.token_hex(6)}-{path.name}")
    try:
        with temp.open("wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    if durable:
        _fsync_dir(path.parent)


def remove_file(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    _fsync_dir(path.parent)
    return True


def relative_image_path(project: Project, folder: str, file_name: str) -> str:
    """`baselines/<file>` etc. Refuses anything that could leave the image folder."""
    if folder not in IMAGE_FOLDERS:
        raise ValueError(f"unknown image folder {folder!r}")
    if not file_name or "/" in file_name or "\\" in file_name or file_name in (".", ".."):
        raise ValueError(f"unsafe image file name {file_name!r}")
    return f"{folder}/{file_name}"


def resolve_in_vizzly(project: Project, relative: str) -> Path:
    """The absolute path of `relative` (e.g. `baselines/x.png`), which must stay in .vizzly/."""
    base = project.vizzly_dir.resolve()
    target = (base / relative).resolve()
    if base not in target.parents:
        raise ValueError(f"{relative!r} is outside {base}")
    return target


def image_entry(project: Project, relative: str) -> Path:
    """Where a decision writes `relative` (e.g. `baselines/x.png`): its folder resolved, which
    must be one of the image folders of .vizzly/, and its last part not. A symbolic link
    there is replaced, never written through: `baselines/x.png -> ../state.db` must not let
    an accept put a PNG in place of the database (nor a delete remove it)."""
    base = project.vizzly_dir.resolve()
    candidate = base / relative
    if candidate.name in ("", ".", ".."):
        raise ValueError(f"{relative!r} names no file")
    folder = candidate.parent.resolve()
    if folder not in {base / name for name in IMAGE_FOLDERS}:
        raise ValueError(f"{relative!r} is not in an image folder of {base}")
    return folder / candidate.name


def store_object(project: Project, data: bytes, sha: str | None = None) -> str:
    """Keep `data` in `objects/<sha256>.png` (once), durably, and return the sha256.

    An existing object may have been kept without fsync (history copies of current images,
    `keep_current`): it is fsync'd now, because a decision is about to rely on it, and
    rewritten when its size shows a crash cut it short.
    """
    sha = sha or sha256_bytes(data)
    target = project.object_path(sha)
    try:
        size = target.stat().st_size
    except FileNotFoundError:
        size = None
    if size == len(data):
        _fsync_file(target)
    else:
        atomic_write(target, data)
    return sha


def _fsync_file(path: Path) -> None:
    """fsync a file or a folder by path; best effort (some filesystems refuse a folder)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _touch(path: Path) -> bool:
    """Mark an object as just referenced (gc keeps recently touched objects). False when
    it does not exist."""
    try:
        os.utime(path)
    except FileNotFoundError:
        return False
    return True


def keep_object(project: Project, data: bytes, sha: str) -> None:
    """A history copy of `data` in objects/ (not fsync'd: losing it in a power cut loses
    only the picture of an old run, never a baseline)."""
    target = project.object_path(sha)
    if not _touch(target):
        atomic_write(target, data, durable=False)


def keep_current(project: Project, path: Path, data: bytes, sha: str) -> None:
    """Write a current/ screenshot (atomic, not fsync'd) and keep its bytes in
    `objects/<sha>.png` for history: as a hard link to the same bytes when the object is
    new (no copy), nothing at all when it exists (an unchanged screenshot costs nothing).

    Files under .vizzly/ are only ever replaced by rename, never written in place, so the
    object keeps these bytes after current/ moves on.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f"{TEMP_PREFIX}{secrets.token_hex(6)}-{path.name}")
    try:
        temp.write_bytes(data)
        target = project.object_path(sha)
        if not _touch(target):
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(temp, target)
            except FileExistsError:
                pass  # another process kept the same bytes meanwhile
            except OSError:
                atomic_write(target, data, durable=False)  # no hard links here
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise


def read_object(project: Project, sha: str) -> bytes | None:
    try:
        return project.object_path(sha).read_bytes()
    except FileNotFoundError:
        return None


def object_is_valid(project: Project, sha: str) -> bool:
    path = project.object_path(sha)
    return path.exists() and sha256_file(path) == sha
