"""The report's HTML: plain markup and CSS, every value escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any

from vizzly_tui.statuses import ComparisonStatus

GENERATOR = '<meta name="generator" content="vizzly-tui report">'
CSS = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1d2430;--muted:#5b6472;--line:#d8dde4;
--fail:#c2410c;--new:#1d4ed8;--pass:#15803d;--err:#b91c1c;--card:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--bg:#12161c;--fg:#e6e9ee;--muted:#9aa4b2;
--line:#2c333d;--card:#1a2029}}
*{box-sizing:border-box}
body{margin:0;padding:16px;font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;
background:var(--bg);color:var(--fg);max-width:1400px;margin-inline:auto}
h1{font-size:1.35rem;margin:0 0 4px}
h2{font-size:1.1rem;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.meta{color:var(--muted);font-size:.85rem;margin:0 0 12px;overflow-wrap:anywhere}
.counts{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0;padding:0;list-style:none}
.counts li{border:1px solid var(--line);border-radius:8px;padding:6px 12px;background:var(--card)}
.counts b{font-size:1.2rem;margin-right:4px}
.failed b{color:var(--fail)}.new b{color:var(--new)}.passed b{color:var(--pass)}
.errors b{color:var(--err)}
details{border:1px solid var(--line);border-radius:8px;margin:8px 0;background:var(--card)}
summary{cursor:pointer;padding:10px 12px;display:flex;flex-wrap:wrap;gap:6px 12px;
align-items:baseline}
summary .name{font-weight:600;overflow-wrap:anywhere}
summary .sig,.facts{color:var(--muted);font-size:.85rem;overflow-wrap:anywhere}
.pct{font-variant-numeric:tabular-nums;font-weight:600;color:var(--fail)}
.badge{font-size:.75rem;border:1px solid var(--line);border-radius:99px;padding:1px 8px}
.body{padding:0 12px 12px}
.facts{margin:0 0 8px}
.images{display:grid;grid-template-columns:repeat(auto-fit,minmax(220px,1fr));gap:10px}
figure{margin:0}
figcaption{font-size:.8rem;color:var(--muted);margin-bottom:4px}
.frame{position:relative;line-height:0;border:1px solid var(--line);
background:repeating-conic-gradient(#8881 0 25%,transparent 0 50%) 0 0/16px 16px}
.frame img{width:100%;height:auto;display:block}
.frame img.under{position:absolute;top:0;left:0;opacity:.3}
.frame img.over{position:relative}
.frame svg{position:absolute;inset:0;width:100%;height:100%}
.frame rect{fill:none;stroke:#e11d48;stroke-width:2;vector-effect:non-scaling-stroke}
.missing{padding:24px;color:var(--muted);font-size:.85rem;line-height:1.4}
.empty{color:var(--muted)}
.error{color:var(--err);overflow-wrap:anywhere}
"""


def _iso(ms: int | None) -> str:
    if not ms:
        return "?"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _figure(
    label: str, link: str | None, row: dict[str, Any], boxes: bool, under: str | None = None
) -> str:
    if link is None:
        return (
            f"<figure><figcaption>{label}</figcaption>"
            f'<div class="frame"><div class="missing">no {label.lower()} image</div></div></figure>'
        )
    size = row.get("size")
    overlay = ""
    clusters = (row.get("details") or {}).get("diffClusters") or []
    if boxes and size and clusters:
        width, height = size
        rects = []
        for cluster in clusters[:200]:
            box = cluster.get("boundingBox") if isinstance(cluster, dict) else None
            if not isinstance(box, dict):
                continue
            try:
                x, y, w, h = (float(box[k]) for k in ("x", "y", "width", "height"))
            except (KeyError, TypeError, ValueError):
                continue
            pad = 2.0
            rects.append(
                f'<rect x="{x - pad:g}" y="{y - pad:g}" width="{w + 2 * pad:g}" '
                f'height="{h + 2 * pad:g}"/>'
            )
        overlay = (
            f'<svg viewBox="0 0 {width} {height}" preserveAspectRatio="none" '
            f'aria-label="{len(rects)} changed areas">{"".join(rects)}</svg>'
        )
    alt = escape(f"{label} of {row['name']}", quote=True)
    # The diff image holds only the changes on a transparent canvas (it is made to lie over
    # the current screenshot), so the page lays it over a faded copy of the current image.
    layer = f'<img class="under" src="{under}" alt="" loading="lazy">' if under else ""
    css = ' class="over"' if under else ""
    return (
        f"<figure><figcaption>{label}</figcaption>"
        f'<div class="frame">{layer}<img{css} src="{link}" alt="{alt}" loading="lazy">'
        f"{overlay}</div></figure>"
    )


def _item(row: dict[str, Any]) -> str:
    props = row.get("properties") or {}
    viewport = props.get("viewport") if isinstance(props.get("viewport"), dict) else {}
    width = props.get("viewport_width") or viewport.get("width")
    height = viewport.get("height")
    vp = f"{width}×{height}" if width and height else (str(width) if width else "—")
    browser = props.get("browser") or "—"
    pct = row.get("diffPercentage")
    changed = row["status"] == ComparisonStatus.FAILED
    pct_text = f'<span class="pct">{pct:.2f}%</span>' if changed and pct else ""
    reason = row.get("reason")
    badge = f'<span class="badge">{escape(reason)}</span>' if reason else ""
    facts = [f"viewport {escape(vp)}", f"browser {escape(str(browser))}"]
    if pct is not None:
        facts.append(f"diff {pct:.3f}%")
    if row.get("diffCount") is not None:
        facts.append(f"{row['diffCount']} px changed")
    if row.get("threshold") is not None:
        facts.append(f"threshold {row['threshold']:g}")
    links = row["links"]
    body = [f'<p class="facts">{" · ".join(facts)}</p>']
    if row.get("error"):
        body.append(f'<p class="error">{escape(str(row["error"]))}</p>')
    body.append('<div class="images">')
    body.append(_figure("Baseline", links.get("baseline"), row, False))
    body.append(_figure("Current", links.get("current"), row, changed))

    if links.get("diff"):
        body.append(_figure("Diff", links.get("diff"), row, True, under=links.get("current")))
    body.append("</div>")
    return (
        "<details>"
        f'<summary><span class="name">{escape(row["name"])}</span>{pct_text}{badge}'
        f'<span class="sig">{escape(row["signature"])}</span></summary>'
        f'<div class="body">{"".join(body)}</div></details>'
    )


def render(build: dict[str, Any], sections: list[tuple[str, list[dict[str, Any]]]]) -> str:
    s = build["summary"]
    counts = (
        f'<ul class="counts"><li><b>{s["total"]}</b>total</li>'
        f'<li class="failed"><b>{s["failed"]}</b>visual changes</li>'
        f'<li class="new"><b>{s["new"]}</b>new</li>'
        f'<li class="passed"><b>{s["passed"]}</b>passed</li>'
        f"<li><b>{s['rejected']}</b>rejected</li>"
        f'<li class="errors"><b>{s["errors"]}</b>errors</li></ul>'
    )
    parts = []
    for title, rows in sections:
        if not rows and title == "Rejected":
            continue
        items = "".join(_item(r) for r in rows) or '<p class="empty">none</p>'
        parts.append(f"<section><h2>{escape(title)} ({len(rows)})</h2>{items}</section>")
    meta = (
        f"build {escape(str(build['id']))} ({escape(str(build['kind']))}) · "
        f"started {_iso(build.get('startedAt'))} · written {_iso(_now_ms())}"
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"{GENERATOR}"
        "<title>Visual changes – vizzly-tui report</title>"
        f"<style>{CSS}</style></head><body>"
        f'<h1>Visual regression report</h1><p class="meta">{meta}</p>{counts}'
        f"{''.join(parts)}</body></html>\n"
    )


def _now_ms() -> int:
    return int(datetime.now(UTC).timestamp() * 1000)
