"""Check a cloud API response and turn it into a download plan (no network, no database).

Nothing in a response is trusted (contract §3.7 "Observation"): a screenshot's file name is
the one the identity rules derive from its name and properties (a different plain name is
replaced by it, with a warning; a name with a path separator or `..` refuses the whole
download), sha256 values must be 64 hex digits, URLs must be http(s), and hotspots and
regions go through the same checks as the legacy import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from vizzly_tui import identity
from vizzly_tui.errors import VizzlyError
from vizzly_tui.store import legacy_cloud
from vizzly_tui.store.legacy_values import LogBook, describe

_SHA256 = re.compile(r"[0-9a-f]{64}")


# A cloud build's states: the cloud API's words, not ours (vizzly_tui.statuses names ours).
CLOUD_BUILD_PASSED = "passed"
CLOUD_BUILD_FAILED = "failed"
CLOUD_BUILD_COMPLETED = "completed"


class CloudError(VizzlyError):
    """The cloud API refused, failed, or answered something we will not install."""


class SkippedName(CloudError):
    """A screenshot name no SDK could send (a path, a control character): skipped, as upstream."""


@dataclass
class Entry:
    """One screenshot of the download: where it comes from and where it goes."""

    name: str
    signature: str
    file_name: str
    sha256: str | None
    url: str
    properties: dict[str, Any]
    extra: dict[str, Any]


@dataclass
class Plan:
    mode: str  # build | comparison | latest
    replace: bool  # the download is the whole baseline set (build, latest) or one (comparison)
    build: dict[str, Any]
    signature_properties: list[str]
    entries: list[Entry]
    hotspots: list[tuple[Any, ...]] = field(default_factory=list)
    regions: list[tuple[Any, ...]] = field(default_factory=list)
    hotspot_bundle: dict[str, Any] | None = None
    region_bundle: dict[str, Any] | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def build_id(self) -> str:
        return str(self.build.get("id") or "comparison-baseline")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise CloudError(f"the API response has {what} {describe(value)}, not a text")
    return value


# C0, DEL and C1 controls: an escape sequence in a build name would drive the terminal that
# prints it (retitle it, clear it, fake output). A commit message keeps its tabs and lines.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _opt(value: Any, *, lines: bool = False) -> str | None:
    """A text of the API's build information, its control characters replaced."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    return (_CONTROL_BUT_LINES if lines else CONTROL_CHARACTERS).sub("\ufffd", str(value))


def _id(value: Any, what: str) -> str | None:
    """A build id: stored, printed and part of a uid, so one with control characters is
    refused rather than altered."""
    if isinstance(value, str) and CONTROL_CHARACTERS.search(value):
        raise CloudError(f"the API gave {what} {describe(value)} with a control character")
    return _opt(value)


def _file_name(raw: Any, derived: str, label: str, warnings: list[str]) -> str:
    """The derived identity file name; a hostile one from the API refuses the download."""
    if raw is None:
        return derived
    if (
        not isinstance(raw, str)
        or "/" in raw
        or "\\" in raw
        or ".." in raw
        or raw.startswith(".")
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in raw)
    ):
        raise CloudError(
            f"{label}: the API gave the unsafe file name {describe(raw)}; nothing was installed"
        )
    if raw != derived:
        warnings.append(f"{label}: the API named the file {raw!r}; stored as {derived!r}")
    return derived


def _properties(shot: dict[str, Any]) -> dict[str, Any]:
    """Identity properties of a screenshot: browser, viewport, and any custom ones sent."""
    props: dict[str, Any] = {}
    for key in ("metadata", "properties"):
        value = shot.get(key)
        if isinstance(value, dict):
            props.update(value)
    if shot.get("browser") is not None:
        props["browser"] = shot["browser"]
    width = shot.get("viewport_width")
    if width is None and isinstance(props.get("viewport"), dict):
        width = props["viewport"].get("width")
    if width is not None:
        props["viewport_width"] = width
        viewport = dict(props.get("viewport") or {})
        viewport["width"] = width
        if shot.get("viewport_height") is not None:
            viewport["height"] = shot["viewport_height"]
        props["viewport"] = viewport
    return props


def entry_from(
    shot: Any, index: int, sig_props: list[str], warnings: list[str], *, need_sha: bool = True
) -> Entry:
    label = f"screenshot {index + 1}"
    if not isinstance(shot, dict):
        raise CloudError(f"{label} in the API response is {describe(shot)}, not an object")
    try:
        name = identity.sanitize_name(shot.get("name"))
    except identity.InvalidName as exc:
        raise SkippedName(f"{label}: invalid name {describe(shot.get('name'))}: {exc}") from None
    label = f"screenshot {name!r}"
    properties = _properties(shot)
    signature = identity.signature(name, properties, sig_props)
    file_name = _file_name(
        shot.get("filename"), identity.file_name(name, signature), label, warnings
    )
    sha = shot.get("sha256")
    if sha is not None and (not isinstance(sha, str) or not _SHA256.fullmatch(sha.lower())):
        raise CloudError(f"{label}: sha256 {describe(sha)} is not 64 hex digits")
    if sha is None and need_sha:
        raise CloudError(f"{label}: the API gave no sha256, so the file cannot be verified")
    url = shot.get("original_url") or shot.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise CloudError(f"{label}: no http(s) download URL (got {describe(url)})")
    width, height = shot.get("width"), shot.get("height")
    extra = {
        "id": shot.get("id"),
        "originalName": shot.get("name"),
        "originalUrl": url,
        "fileSize": shot.get("file_size_bytes"),
        "dimensions": {"width": width, "height": height},
    }
    return Entry(name, signature, file_name, sha.lower() if sha else None, url, properties, extra)


def _sig_props(response: dict[str, Any]) -> list[str]:
    value = response.get("signatureProperties")
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise CloudError(f"signatureProperties is {describe(value)}, not a list of names")
    return list(value)


def _cloud_data(plan: Plan, response: dict[str, Any]) -> None:
    """Hotspots and regions bundled in the response (kept only when non-empty, as upstream)."""
    log = LogBook()
    now = now_iso()
    summary = response.get("summary") if isinstance(response.get("summary"), dict) else {}
    hotspots = response.get("hotspots")
    if isinstance(hotspots, dict) and hotspots:
        result = legacy_cloud.parse_hotspots({"hotspots": hotspots}, now, log)
        plan.hotspots = result.rows
        plan.hotspot_bundle = {"downloadedAt": now, "summary": summary}
    regions = response.get("regions")
    if isinstance(regions, dict) and regions:
        result = legacy_cloud.parse_regions({"regions": regions}, now, log)
        plan.regions = result.rows
        plan.region_bundle = {"downloadedAt": now, "summary": summary}
    for entry in log.entries:
        line = f"{entry.source} {entry.item or ''}: {entry.detail}".strip()
        plan.warnings.append(CONTROL_CHARACTERS.sub("\ufffd", line))  # names are the API's


def _unique(entries: list[Entry]) -> list[Entry]:
    seen: dict[str, str] = {}
    for e in entries:
        if e.signature in seen:
            raise CloudError(f"the API lists {e.signature!r} twice; nothing was installed")
        seen[e.signature] = e.file_name
    return entries


def plan_from_baselines(response: Any, mode: str, environment: str, branch: str | None) -> Plan:
    """A `GET /api/sdk/builds/:id/tdd-baselines` response -> a whole-set plan."""
    if not isinstance(response, dict):
        raise CloudError(f"the tdd-baselines response is {describe(response)}, not an object")
    build = response.get("build")
    if not isinstance(build, dict):
        raise CloudError("the tdd-baselines response has no 'build' object")
    build_id = _text(_id(build.get("id"), "a build id"), "a build id")
    status = build.get("status")
    if status == CLOUD_BUILD_FAILED:
        raise CloudError(
            f"build {build_id} is marked failed; its screenshots are not baselines "
            "(nothing was installed)"
        )
    shots = response.get("screenshots")
    if not isinstance(shots, list) or not shots:
        raise CloudError(f"build {build_id} has no screenshots; nothing was installed")
    warnings: list[str] = []
    if status not in (None, CLOUD_BUILD_COMPLETED, CLOUD_BUILD_PASSED):
        warnings.append(f"build {build_id} has status {status!r} (expected completed)")
    sig_props = _sig_props(response)
    entries = []
    for index, shot in enumerate(shots):
        try:
            entries.append(entry_from(shot, index, sig_props, warnings))
        except SkippedName as exc:
            warnings.append(f"skipped {exc}")
    if not entries:
        raise CloudError(f"build {build_id} has no screenshot with a usable name")
    entries = _unique(entries)
    info = {
        "id": build_id,
        "name": _opt(build.get("name")),
        "status": _opt(status),
        "commitSha": _opt(build.get("commit_sha")),
        "commitMessage": _opt(build.get("commit_message"), lines=True),
        "approvalStatus": _opt(build.get("approval_status")),
        "completedAt": _opt(build.get("completed_at")),
        "branch": _opt(build.get("branch")) or branch,
        "environment": _opt(build.get("environment")) or environment,
    }
    plan = Plan(mode, True, info, sig_props, entries, warnings=warnings)
    _cloud_data(plan, response)
    return plan


def plan_from_comparison(response: Any, comparison_id: str, sig_props: list[str]) -> Plan:
    """A `GET /api/sdk/comparisons/:id` response -> a one-baseline plan (the rest is kept)."""
    comparison = response.get("comparison") if isinstance(response, dict) else None
    if not isinstance(comparison, dict):
        raise CloudError(f"the response for comparison {comparison_id} has no 'comparison'")
    shot = comparison.get("baseline_screenshot")
    if not isinstance(shot, dict):
        raise CloudError(
            f"comparison {comparison_id} has no baseline screenshot (it may be a new one)"
        )
    side = (
        "current"
        if comparison.get("current_viewport_width") or comparison.get("current_browser")
        else "baseline"
    )
    merged = {
        "name": comparison.get("baseline_name") or comparison.get("current_name"),
        "browser": comparison.get(f"{side}_browser"),
        "viewport_width": comparison.get(f"{side}_viewport_width"),
        "viewport_height": comparison.get(f"{side}_viewport_height"),
        "original_url": shot.get("original_url") or comparison.get("baseline_screenshot_url"),
        "sha256": shot.get("sha256"),
        "id": shot.get("id"),
        "width": shot.get("width"),
        "height": shot.get("height"),
        "file_size_bytes": shot.get("file_size_bytes"),
    }
    warnings: list[str] = []
    entry = entry_from(merged, 0, sig_props, warnings, need_sha=False)
    if entry.sha256 is None:
        warnings.append(f"{entry.name}: the API gave no sha256; the file is checked as a PNG only")
    build_id = _id(shot.get("build_id"), "a build id") or "comparison-baseline"
    info = {"id": build_id, "name": f"Comparison {comparison_id[:8]}", "status": None}
    return Plan("comparison", False, info, sig_props, [entry], warnings=warnings)
