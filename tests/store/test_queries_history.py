"""The app's read queries: filters, paging, counts, builds, baselines, regions, hotspots."""

from __future__ import annotations

import pytest

from tests.storehelpers import make_project
from vizzly_tui.project import Project
from vizzly_tui.store import queries_history as qh
from vizzly_tui.store.models import Baseline, Build, Comparison
from vizzly_tui.store.store import open_store

D2 = "scenario-d2-oauth-download-hotspots-regions"


@pytest.fixture
def store(tmp_path):
    s = open_store(make_project(tmp_path))
    yield s
    s.close()


def _seed(store, n=60):
    """Build 1 (older, 2 rows) and build 2: n names x 2 browsers, statuses cycling."""
    statuses = ("failed", "new", "passed", "rejected", "error", "passed")

    def command():
        old = Build.create(kind="run", uid="old", started_at=1, branch="main").id
        for browser in ("chrome", "firefox"):
            Comparison.create(
                build=old,
                cid=f"o-{browser}",
                name="home",
                signature=f"home|{browser}",
                file_name="h.png",
                status="failed",
                properties={"browser": browser},
                timestamp=1,
                updated_at=1,
            )
        new = Build.create(kind="serve", uid="new", started_at=2, commit_sha="abc123").id
        for i in range(n):
            for j, browser in enumerate(("chrome", "firefox")):
                status = statuses[(i + j) % len(statuses)]
                Comparison.create(
                    build=new,
                    cid=f"{i}-{browser}",
                    name=f"page_{i:03d}",
                    signature=f"page_{i:03d}|{browser}",
                    file_name=f"p{i}{browser}.png",
                    status=status,
                    diff_percentage=None if status == "new" else (i % 7) * 1.0,
                    properties={"browser": browser, "viewport_width": 1280 if j else 375},
                    timestamp=1,
                    updated_at=1,
                )
        Baseline.create(
            signature="page_000|chrome",
            name="page_000",
            file_name="x.png",
            properties={},
            updated_at=5,
        )
        Baseline.create(
            signature="gone|chrome", name="gone", file_name="g.png", properties={}, updated_at=6
        )
        return old, new

    return store.call(command)


def test_builds_newest_first_with_counts(store):
    _old, new = _seed(store, 6)
    builds = qh.list_builds()
    assert [b.uid for b in builds] == ["new", "old"]
    assert builds[0].is_current and not builds[1].is_current
    assert builds[0].commit == "abc123" and builds[1].branch == "main"
    assert builds[1].counts == {
        "failed": 2,
        "new": 0,
        "rejected": 0,
        "error": 0,
        "passed": 0,
        "total": 2,
    }
    assert builds[0].counts["total"] == 12
    counts = qh.status_counts(new)
    assert {k: v for k, v in counts.items() if k != "needs-review"} == builds[0].counts
    assert counts["passed"] == 4 and counts["failed"] == 2
    assert qh.status_counts(new)["needs-review"] == qh.count_comparisons(
        new, qh.ComparisonFilter(status="needs-review")
    )


def test_paging_covers_every_row_once_in_review_order(store):
    _, new = _seed(store)
    pages = [qh.page_comparisons(new, limit=25, offset=o) for o in range(0, 150, 25)]
    rows = [r for page in pages for r in page]
    assert len(rows) == 120 == len({r.id for r in rows})
    assert rows == qh.page_comparisons(new, limit=1000)
    # Failed groups first, then new, rejected, error, passed; a name's variants adjacent.
    seen: list[str] = []
    for r in rows:
        if not seen or seen[-1] != r.name:
            assert r.name not in seen, f"variants of {r.name} split"
            seen.append(r.name)
    assert rows[0].status == "failed" and rows[-1].status == "passed"
    for r in rows[:10]:
        assert r.variant.startswith(r.browser)
    # index_of finds where a row sits, so the cursor survives a refresh.
    for position in (0, 17, 119):
        assert qh.index_of(new, rows[position].id) == position


def test_filters_status_search_browser_viewport(store):
    _, new = _seed(store)

    def names(**kw):
        return {
            (r.name, r.browser, r.status)
            for r in qh.page_comparisons(new, qh.ComparisonFilter(**kw), limit=1000)
        }

    review = names(status="needs-review")
    assert review and {s for _, _, s in review} == {"failed", "new"}
    assert {s for _, _, s in names(status="rejected")} == {"rejected"}
    assert {(n, b) for n, b, _ in names(search="page_01")} == {
        (f"page_01{i}", b) for i in range(10) for b in ("chrome", "firefox")
    }
    assert names(search="%") == set() and names(search="_0") != set()  # literal, not LIKE
    assert {b for _, b, _ in names(browser="firefox")} == {"firefox"}
    assert {b for _, b, _ in names(viewport=375)} == {"chrome"}
    both = names(status="failed", browser="chrome", search="page_00")
    assert both and all(s == "failed" and b == "chrome" for _, b, s in both)
    assert qh.variant_values(new) == {"browsers": ["chrome", "firefox"], "viewports": [375, 1280]}
    with pytest.raises(ValueError, match="unknown status filter"):
        qh.page_comparisons(new, qh.ComparisonFilter(status="bogus"))
    assert (
        qh.index_of(
            new, qh.page_comparisons(new, limit=1)[0].id, qh.ComparisonFilter(status="passed")
        )
        is None
    )


def test_all_baselines_including_those_not_in_the_current_build(store):
    _seed(store)
    rows = qh.list_baselines()
    assert [(b.name, b.in_current_build, b.origin) for b in rows] == [
        ("gone", False, "local"),
        ("page_000", True, "local"),
    ]
    assert [b.name for b in qh.list_baselines("page*")] == ["page_000"]
    assert qh.baseline_origins() == [{"origin": "local", "count": 2, "updatedAt": 6}]


def test_regions_hotspots_and_origins_from_the_vizzly_fixture(scenario_project):
    project = Project(scenario_project(D2))
    with open_store(project, write=False):
        origins = {o["origin"]: o["count"] for o in qh.baseline_origins()}
        assert origins.get("cloud", 0) > 0
        names = {r.name for r in qh.list_baselines()}
        with_regions = [n for n in names if qh.regions_for(n)]
        assert with_regions
        region = qh.regions_for(with_regions[0])[0]
        assert region["source"] == "cloud" and region["kind"] in ("confirmed", "candidate")
        hotspots = [qh.hotspots_for(n) for n in names]
        found = [h for h in hotspots if h]
        assert found and found[0]["bands"] and found[0]["confidence"] is not None
        assert qh.hotspots_for("no-such-name") is None
