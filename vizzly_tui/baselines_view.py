"""`vizzly-tui baselines`: the baseline set with origin, size, dimensions, history (reads only)."""

from __future__ import annotations

import fnmatch
from datetime import UTC, datetime
from typing import Any

import peewee as pw

from vizzly_tui.store.models import Baseline, BaselineVersion, Build


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    return (
        datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def _origin(baseline: Baseline, builds: dict[int, Build], last_source: str | None) -> str:
    build = builds.get(baseline.origin_build_id) if baseline.origin_build_id else None
    if build is not None and build.kind == "baseline-cloud":
        return f"cloud build {build.cloud_build_id}"
    if last_source == "import" or (
        build is not None and build.kind in ("baseline-local", "import")
    ):
        return "imported"
    return "local"


def _record(
    b: Baseline, builds: dict[int, Build], versions: int, last: str | None
) -> dict[str, Any]:
    return {
        "name": b.name,
        "signature": b.signature,
        "fileName": b.file_name,
        "properties": b.properties or {},
        "width": b.width,
        "height": b.height,
        "size": b.size,
        "sha256": b.sha256,
        "origin": _origin(b, builds, last),
        "versions": versions,
        "updatedAt": _iso(b.updated_at),
    }


def _versions() -> tuple[dict[str, int], dict[str, str]]:
    last: dict[str, str] = {}
    counts: dict[str, int] = dict(
        BaselineVersion.select(BaselineVersion.signature, pw.fn.COUNT(BaselineVersion.id))
        .group_by(BaselineVersion.signature)
        .tuples()
    )
    newest = (
        BaselineVersion.select(BaselineVersion.signature, pw.fn.MAX(BaselineVersion.id))
        .group_by(BaselineVersion.signature)
        .tuples()
    )
    ids = [i for _, i in newest]
    for v in BaselineVersion.select(BaselineVersion.signature, BaselineVersion.source).where(
        BaselineVersion.id.in_(ids)
    ):
        last[v.signature] = v.source
    return counts, last


def list_baselines(pattern: str | None = None) -> list[dict[str, Any]]:
    builds = {b.id: b for b in Build.select().where(Build.kind.startswith("baseline"))}
    counts, last = _versions()
    out = []
    for b in Baseline.select().order_by(Baseline.name, Baseline.signature):
        if pattern and not fnmatch.fnmatchcase(b.name, pattern):
            continue
        out.append(_record(b, builds, counts.get(b.signature, 0), last.get(b.signature)))
    return out


def baseline_info(key: str) -> dict[str, Any] | None:
    """One baseline by signature, else by name (the first variant), with every version."""
    b = Baseline.get_or_none(Baseline.signature == key) or (
        Baseline.select().where(Baseline.name == key).order_by(Baseline.signature).first()
    )
    if b is None:
        return None
    builds = {x.id: x for x in Build.select().where(Build.id == b.origin_build_id)}
    history = list(
        BaselineVersion.select()
        .where(BaselineVersion.signature == b.signature)
        .order_by(BaselineVersion.id.desc())
    )
    record = _record(b, builds, len(history), history[0].source if history else None)
    build = builds.get(b.origin_build_id)
    record["originBuild"] = (
        {
            "id": build.uid,
            "kind": build.kind,
            "name": build.name,
            "cloudBuildId": build.cloud_build_id,
            "commit": build.commit_sha,
            "branch": build.branch,
            "cloudInfo": build.cloud_info,
        }
        if build is not None
        else None
    )
    record["extra"] = b.extra
    record["history"] = [
        {"sha256": v.sha256, "size": v.size, "source": v.source, "createdAt": _iso(v.created_at)}
        for v in history
    ]
    return record
