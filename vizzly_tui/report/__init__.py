"""The static HTML report (`vizzly-tui report`, `run --report`; contract §7.9).

One self-contained page: no JavaScript, no network, images copied into `images/` beside it
and linked relatively, so the folder can be opened from a file path, zipped, or published
by a CI job. Each comparison is a `<details>` element with baseline, current and diff side
by side (stacked on a phone), its diff %, viewport, browser, and the diff clusters drawn as
boxes over the current image.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path
from typing import Any

from vizzly_tui.errors import NotFound, UsageError
from vizzly_tui.project import Project
from vizzly_tui.report.page import GENERATOR, render
from vizzly_tui.statuses import ComparisonStatus
from vizzly_tui.store import files

SECTIONS = (
    (ComparisonStatus.FAILED, "Visual changes"),
    (ComparisonStatus.NEW, "New screenshots"),
    (ComparisonStatus.REJECTED, "Rejected"),
    (ComparisonStatus.PASSED, "Passed"),
    (ComparisonStatus.ERROR, "Errors"),
)
# Upstream's `baseline-updated` is never stored here (nothing produces it at the contract's
# head), but a row carrying it belongs with the passed ones.
_SECTION_OF = {
    ComparisonStatus.BASELINE_CREATED: ComparisonStatus.NEW,
    "baseline-updated": ComparisonStatus.PASSED,
}


def _copy(project: Project, url: str | None, out: Path, copied: dict[str, str]) -> str | None:
    """Copy /images/<folder>/<file> next to the report; its relative link, or None."""
    if not url or not url.startswith("/images/"):
        return None
    if url in copied:
        return copied[url]
    folder, _, name = url.removeprefix("/images/").partition("/")
    try:
        # Resolved: a link in .vizzly/ to a file elsewhere must not be copied into a report
        # that a CI job publishes.
        source = files.resolve_in_vizzly(project, files.relative_image_path(project, folder, name))
    except ValueError:
        return None
    if not source.is_file():
        return None
    target = out / "images" / folder / name
    _no_link(target.parent, out)
    # Temp + rename: a symbolic link planted at the target is replaced, not written through.
    files.atomic_write(target, source.read_bytes(), durable=False)
    link = f"images/{folder}/{html.escape(name, quote=True)}"
    copied[url] = link
    return link


def _no_link(folder: Path, out: Path) -> None:
    """Refuse when `folder` or a parent below `out` is a symbolic link: writing (or cleaning)
    through it would touch files outside the report folder."""
    for path in (folder, *folder.parents):
        if path == out:
            return
        if path.is_symlink():
            raise UsageError(f"{path} is a symbolic link; the report writes only into real folders")


def collect(project: Project, build_uid: str | None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The build record and its comparisons with details (read-only)."""
    from vizzly_tui.store import queries
    from vizzly_tui.store.store import open_store

    with open_store(project, write=False) as store:
        if not store.exists:
            raise NotFound("nothing recorded yet: run your tests with serve or run first")
        build = queries.get_build(build_uid) if build_uid else queries.current_build()
        if build is None:
            raise NotFound(f"no build {build_uid!r}" if build_uid else "no build yet")
        rows = []
        for c in queries.list_comparisons(build.id, limit=None):
            record = queries.comparison_record(c)
            record["details"] = queries.comparison_details(c) or {}
            record["size"] = _size_of(project, c.file_name)
            rows.append(record)
        return {**queries.build_record(build), "summary": queries.summary(build.id)}, rows


def _size_of(project: Project, file_name: str) -> tuple[int, int] | None:
    for folder in ("current", "baselines"):
        try:
            with open(project.vizzly_dir / folder / file_name, "rb") as fh:
                size = files.png_size(fh.read(32))
        except OSError:
            continue
        if size:
            return size
    return None


def write_report(
    project: Project, *, build_uid: str | None = None, out_dir: Path | None = None
) -> Path:
    """Write `index.html` and its images into out_dir (default .vizzly/report); its path."""
    build, rows = collect(project, build_uid)
    default = project.vizzly_dir / "report"
    out = Path(out_dir) if out_dir is not None else default
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} exists and is not a folder")
    try:
        return _write(project, build, rows, out, default)
    except OSError as exc:
        raise UsageError(f"cannot write the report to {out}: {exc.strerror or exc}") from None


def _write(
    project: Project, build: dict[str, Any], rows: list[dict[str, Any]], out: Path, default: Path
) -> Path:
    # Our own folder inside .vizzly/: a link there would lead the clean-up below (and every
    # write) outside .vizzly/. A --out given as a link is the user's choice.
    if out.absolute() == default.absolute() and out.is_symlink():
        raise UsageError(f"{out} is a symbolic link; the report writes only into real folders")
    _no_link(out / "images", out)
    target = out / "index.html"
    if target.exists() and GENERATOR not in target.read_text(errors="replace")[:2000]:
        # Never overwrite someone's own page (--out pointed at a website folder).
        raise UsageError(f"{target} exists and is not a vizzly-tui report; choose another --out")
    if out.resolve() == default.resolve():
        # Our own folder: images of an earlier report would be stale. Elsewhere nothing is
        # deleted (the folder may hold the user's files).
        shutil.rmtree(out / "images", ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    copied: dict[str, str] = {}
    sections: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in SECTIONS}
    for row in rows:
        row["links"] = {
            kind: _copy(project, row.get(kind), out, copied)
            for kind in ("baseline", "current", "diff")
        }
        key = _SECTION_OF.get(row["status"], row["status"])
        sections.setdefault(key, []).append(row)
    page = render(build, [(title, sections.get(key, [])) for key, title in SECTIONS])
    files.atomic_write(target, page.encode("utf-8"), durable=False)
    return target
