"""A cloud baseline download as ONE decision of the crash-safe protocol (store.decisions).

`begin_download` records the pending decision: one file change per baseline written or
removed, and a snapshot holding both the rows it will write (`after`) and the rows they
replace (`before`): baselines, the `baseline-cloud` build, hotspots, regions and settings.
`complete_download` applies `after` in the transaction that marks the decision done;
`undo_download` puts `before` back. Until `complete`, no row changes, so a crash rolls the
files back (or forward) and the rows never disagree with them.

The bytes must already be in `objects/` (files.store_object) before `begin_download`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vizzly_tui.project import Project
from vizzly_tui.store import decisions, files
from vizzly_tui.store.decisions import FileChange, now_ms
from vizzly_tui.store.legacy_cloud import HOTSPOT_COLUMNS, REGION_COLUMNS
from vizzly_tui.store.models import (
    Baseline,
    BaselineVersion,
    Build,
    Decision,
    Hotspot,
    Region,
    Setting,
)

SETTING_KEYS = ("baseline_metadata", "baseline_build_metadata", "hotspot_bundle", "region_bundle")


@dataclass
class NewBaseline:
    signature: str
    name: str
    file_name: str
    sha256: str
    size: int
    width: int | None
    height: int | None
    properties: dict[str, Any]
    extra: dict[str, Any]


def _plain(value: Any) -> Any:
    # The snapshot lives in a JSON column: store what survives the round trip unchanged.
    return json.loads(json.dumps(value))


def _row(model_row: Any) -> dict[str, Any]:
    return {k: v for k, v in model_row.__data__.items() if k != "id"}


def begin_download(
    project: Project,
    *,
    batch: str,
    actor: str,
    build: dict[str, Any],
    baselines: Sequence[NewBaseline],
    replace: bool,
    hotspots: list[tuple[Any, ...]] | None,
    regions: list[tuple[Any, ...]] | None,
    settings: dict[str, Any],
) -> Decision:
    """Step 1 (inside a transaction): the pending `download` decision."""
    signatures = {b.signature for b in baselines}
    file_names = {b.file_name for b in baselines}
    changes: list[FileChange] = []
    for new in baselines:
        relative = files.relative_image_path(project, "baselines", new.file_name)
        before = _keep(project, relative)
        if before != new.sha256:
            changes.append(FileChange(relative, before, new.sha256))
    removed: list[str] = []
    touched = list(Baseline.select().where(Baseline.signature.in_(list(signatures))))
    for old in touched:
        # Same signature under another file name (an older cloud name): the old file goes.
        if old.file_name not in file_names:
            relative = files.relative_image_path(project, "baselines", old.file_name)
            before = _keep(project, relative)
            if before is not None:
                changes.append(FileChange(relative, before, None))
    if replace:
        for old in Baseline.select().where(Baseline.signature.not_in(list(signatures))):
            touched.append(old)
            removed.append(old.signature)
            if old.file_name in file_names:
                continue  # the new set writes this file itself
            relative = files.relative_image_path(project, "baselines", old.file_name)
            before = _keep(project, relative)
            if before is not None:
                changes.append(FileChange(relative, before, None))
    uid = f"baseline:{build['cloud_build_id']}"
    old_build = Build.get_or_none(Build.uid == uid)
    snapshot = {
        "before": {
            "baselines": [_row(b) for b in touched],
            "build": _row(old_build) if old_build else None,
            "hotspots": [_row(h) for h in Hotspot.select()] if hotspots else None,
            "regions": [_row(r) for r in Region.select()] if regions else None,
            "settings": {key: queries_setting(key) for key in SETTING_KEYS if key in settings},
        },
        "after": {
            "build": build,
            "baselines": [vars(b) for b in baselines],
            "removed": removed,
            "hotspots": [dict(zip(HOTSPOT_COLUMNS, r, strict=True)) for r in hotspots or ()],
            "regions": [dict(zip(REGION_COLUMNS, r, strict=True)) for r in regions or ()],
            "replace_hotspots": bool(hotspots),
            "replace_regions": bool(regions),
            "settings": settings,
        },
    }
    return decisions.begin(
        batch=batch,
        action="download",
        actor=actor,
        name=f"cloud build {build['cloud_build_id']}",
        changes=changes,
        snapshot=_plain(snapshot),
    )


def queries_setting(key: str) -> Any:
    row = Setting.get_or_none(Setting.key == key)
    return row.value if row is not None else None


def _keep(project: Project, relative: str) -> str | None:
    path = files.resolve_in_vizzly(project, relative)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    return files.store_object(project, data)


def _json_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Rows from legacy_cloud hold JSON columns already dumped to text: load them back.
    out = []
    for row in rows:
        row = dict(row)
        for key in ("bands", "data"):
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
        out.append(row)
    return out


def _put_settings(values: dict[str, Any]) -> None:
    for key, value in values.items():
        if value is None:
            Setting.delete().where(Setting.key == key).execute()
        else:
            Setting.insert(
                key=key, value=value, updated_at=now_ms()
            ).on_conflict_replace().execute()


def _put_build(values: dict[str, Any]) -> int:
    uid = values["uid"]
    existing = Build.get_or_none(Build.uid == uid)
    if existing is None:
        return Build.create(**values).id
    Build.update(**values).where(Build.id == existing.id).execute()
    return existing.id


def complete_download(project: Project, decision: Decision) -> None:
    """Step 3 (inside a transaction): the new baseline set and its cloud data, all at once."""
    after = decision.snapshot["after"]
    build_id = _put_build(after["build"])
    before_sha = {b["signature"]: b.get("sha256") for b in decision.snapshot["before"]["baselines"]}
    if after["removed"]:
        Baseline.delete().where(Baseline.signature.in_(after["removed"])).execute()
    for new in after["baselines"]:
        values = {**new, "origin_build": build_id, "updated_at": now_ms()}
        Baseline.insert(**values).on_conflict(
            conflict_target=[Baseline.signature],
            update={k: v for k, v in values.items() if k != "signature"},
        ).execute()
        if before_sha.get(new["signature"]) != new["sha256"]:
            BaselineVersion.create(
                signature=new["signature"],
                sha256=new["sha256"],
                size=new["size"],
                created_at=now_ms(),
                decision=decision,
                source="download",
            )
    if after["replace_hotspots"]:
        Hotspot.delete().execute()
        for row in _json_rows(after["hotspots"]):
            Hotspot.create(**row)
    if after["replace_regions"]:
        Region.delete().execute()
        for row in _json_rows(after["regions"]):
            Region.create(**row)
    _put_settings(after["settings"])


def undo_blocked(original: Decision) -> str | None:
    """Why the download cannot be undone now: a baseline it wrote or removed was changed
    since (a capture, an accept, a reset), and putting the old one back would destroy it."""
    after = original.snapshot["after"]
    left = {b["signature"]: b["sha256"] for b in after["baselines"]}
    left.update(dict.fromkeys(after["removed"]))
    rows = Baseline.select(Baseline.signature, Baseline.name, Baseline.sha256).where(
        Baseline.signature.in_(list(left))
    )
    now = {row.signature: (row.name, row.sha256) for row in rows}
    changed = sorted(
        now.get(sig, (sig,))[0] for sig, sha in left.items() if now.get(sig, (sig, None))[1] != sha
    )
    if not changed:
        return None
    shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
    return (
        f"the baseline of {shown} changed after the download of {original.name}; undo or "
        "review that change first"
    )


def undo_download(project: Project, original: Decision, undo: Decision) -> None:
    """The previous baseline set and cloud data, back as they were before the download."""
    before = original.snapshot["before"]
    after = original.snapshot["after"]
    new_sigs = [b["signature"] for b in after["baselines"]]
    now_sha = {
        b.signature: b.sha256 for b in Baseline.select().where(Baseline.signature.in_(new_sigs))
    }
    Baseline.delete().where(Baseline.signature.in_(new_sigs)).execute()
    for row in before["baselines"]:
        Baseline.insert(**row).on_conflict_replace().execute()
        if row.get("sha256") and now_sha.get(row["signature"]) != row["sha256"]:
            BaselineVersion.create(
                signature=row["signature"],
                sha256=row["sha256"],
                size=row.get("size"),
                created_at=now_ms(),
                decision=undo,
                source="undo",
            )
    if before["hotspots"] is not None:
        Hotspot.delete().execute()
        for row in before["hotspots"]:
            Hotspot.create(**row)
    if before["regions"] is not None:
        Region.delete().execute()
        for row in before["regions"]:
            Region.create(**row)
    _put_settings(before["settings"])
    uid = after["build"]["uid"]
    if before["build"] is None:
        # Rows restored above point at their own origin builds, never at this one.
        Build.delete().where(Build.uid == uid).execute()
    else:
        Build.update(**before["build"]).where(Build.uid == uid).execute()
