"""The app's review actions, as a user sees them: restoring an older baseline version and
local ignore regions (with the comparison recompared at once), each logged and undoable."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw

from tests.storehelpers import make_project
from vizzly_tui import review
from vizzly_tui.capture import capture, start_build
from vizzly_tui.errors import NotFound, UsageError
from vizzly_tui.store import files, queries_history
from vizzly_tui.store.bootstrap import ensure_schema
from vizzly_tui.store.models import Baseline, Comparison, Decision, Region
from vizzly_tui.store.store import open_store

WHITE = (255, 255, 255)


def png(colour=WHITE, box=None) -> bytes:
    """A 60x40 image; `box` (x1, y1, x2, y2) painted red on it."""
    image = Image.new("RGB", (60, 40), colour)
    if box is not None:
        ImageDraw.Draw(image).rectangle(box, fill=(220, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def store(tmp_path):
    s = open_store(make_project(tmp_path))
    yield s
    s.close()


def _run(store, images: dict[str, bytes]) -> dict[str, int]:
    build = start_build(store, "run")
    for name, data in images.items():
        capture(store, build.id, name, data, {"browser": "chrome"})
    return {c.name: c.id for c in Comparison.select().where(Comparison.build == build.id)}


def _baseline_bytes(store, name):
    b = Baseline.get(Baseline.name == name)
    return (store.project.baselines_dir / b.file_name).read_bytes()


def _comparison(pk):
    return Comparison.get_by_id(pk)


# --- restore a baseline version -----------------------------------------------------------


def test_restore_an_older_baseline_version_and_undo_it(store):
    _run(store, {"home": png(WHITE)})  # first baseline: white
    ids = _run(store, {"home": png((0, 0, 255))})  # blue: failed
    review.accept(store, ["home"], actor="tui")  # baseline is blue now
    signature = _comparison(ids["home"]).signature
    versions = queries_history.baseline_versions(store.project, signature)
    assert [v.source for v in versions] == ["accept", "new"]
    assert versions[0].is_current and not versions[1].is_current
    assert versions[0].actor == "tui" and versions[1].available

    assert _comparison(ids["home"]).status == "passed"  # accepted

    result = review.restore_baseline_version(store, signature, versions[1].sha256, actor="tui")

    assert result.count == 1
    assert _baseline_bytes(store, "home") == png(WHITE)
    # The current screenshot (blue) is compared again with the restored white baseline.
    c = _comparison(ids["home"])
    assert (c.status, c.baseline_sha256) == ("failed", files.sha256_bytes(png(WHITE)))
    assert c.diff_percentage == 100.0
    assert result.items[0]["statusBefore"] == "passed"
    assert result.items[0]["statusAfter"] == "failed"
    diff_file = store.project.diffs_dir / c.file_name
    assert diff_file.exists()
    assert Baseline.get().sha256 == files.sha256_bytes(png(WHITE))
    decision = Decision.select().order_by(Decision.id.desc()).first()
    assert (decision.action, decision.actor, decision.state) == ("restore", "tui", "done")
    assert review.history(1)[0]["action"] == "restore"
    after = queries_history.baseline_versions(store.project, signature)
    assert after[0].source == "restore" and after[0].is_current
    assert after[0].sha256 == versions[1].sha256

    review.undo(store, actor="tui")
    assert _baseline_bytes(store, "home") == png((0, 0, 255))
    assert Baseline.get().sha256 == files.sha256_bytes(png((0, 0, 255)))
    assert _comparison(ids["home"]).status == "passed"


def test_restore_refuses_unknown_versions_and_the_current_one(store):
    _run(store, {"home": png(WHITE)})
    signature = Baseline.get().signature
    with pytest.raises(NotFound, match="never had a baseline"):
        review.restore_baseline_version(store, signature, "0" * 64)
    with pytest.raises(NotFound, match="no baseline"):
        review.restore_baseline_version(store, "nope|1|x", "0" * 64)
    with pytest.raises(UsageError, match="already the baseline"):
        review.restore_baseline_version(store, signature, Baseline.get().sha256)
    assert Decision.select().where(Decision.action == "restore").count() == 0


def test_restore_refuses_a_version_whose_bytes_are_gone(store):
    _run(store, {"home": png(WHITE)})
    _run(store, {"home": png((0, 0, 255))})
    review.accept(store, ["home"])
    white = files.sha256_bytes(png(WHITE))
    store.project.object_path(white).unlink()
    with pytest.raises(NotFound, match="missing or damaged"):
        review.restore_baseline_version(store, Baseline.get().signature, white)
    assert _baseline_bytes(store, "home") == png((0, 0, 255))


def test_delete_a_baseline_no_current_comparison_uses_and_undo_it(store):
    _run(store, {"old-page": png(WHITE)})  # a baseline from an earlier run
    _run(store, {"home": png(WHITE)})  # the current build has no old-page
    signature = Baseline.get(Baseline.name == "old-page").signature
    old_file = store.project.baselines_dir / Baseline.get(Baseline.name == "old-page").file_name

    result = review.delete_baseline(store, signature, actor="tui")

    assert result.count == 1 and not old_file.exists()
    assert [b.name for b in queries_history.list_baselines()] == ["home"]
    review.undo(store, actor="tui")
    assert old_file.read_bytes() == png(WHITE)
    assert {b.name for b in queries_history.list_baselines()} == {"home", "old-page"}
    with pytest.raises(NotFound, match="no baseline"):
        review.delete_baseline(store, "nope|1|x")


# --- local regions ------------------------------------------------------------------------

CHANGE = (20, 10, 29, 19)  # the red square of the changed screenshot


def _failed_home(store) -> int:
    _run(store, {"home": png(WHITE)})
    ids = _run(store, {"home": png(WHITE, CHANGE)})
    c = _comparison(ids["home"])
    assert c.status == "failed"
    return c.id


def test_a_region_over_the_cluster_passes_the_comparison_at_once_and_undo_fails_it_again(store):
    pk = _failed_home(store)
    detail = queries_history.comparison_detail(pk)
    [cluster] = detail["clusters"]
    box = review.padded_box(cluster, width=60, height=40)
    assert box["x1"] == cluster["boundingBox"]["x"] - review.REGION_PADDING
    assert box["x2"] <= 59 and box["y2"] <= 39

    result = review.add_region(store, "home", box, actor="tui", recompare=pk)

    c = _comparison(pk)
    assert (c.status, c.reason) == ("passed", "region-filtered")
    assert c.diff_percentage == detail["diffPercentage"]  # the pixels still differ
    item = result.items[0]
    assert (item["statusBefore"], item["statusAfter"]) == ("failed", "passed")
    [region] = queries_history.regions_for("home")
    assert region["id"] == item["regionId"]
    assert (region["source"], region["kind"], region["actor"]) == ("local", "confirmed", "tui")
    assert (region["x1"], region["y1"], region["x2"], region["y2"]) == tuple(box.values())
    assert queries_history.comparison_detail(pk)["confirmedRegions"]

    review.undo(store, actor="tui")
    assert queries_history.regions_for("home") == []
    c = _comparison(pk)
    assert (c.status, c.reason) == ("failed", "pixel-diff")
    assert queries_history.comparison_detail(pk)["clusters"] == detail["clusters"]


def test_a_local_region_auto_passes_later_comparisons_of_that_name(store):
    pk = _failed_home(store)
    cluster = queries_history.comparison_detail(pk)["clusters"][0]
    review.add_region(store, "home", review.padded_box(cluster))  # no recompare
    assert _comparison(pk).status == "failed"  # this one is left as it was

    ids = _run(store, {"home": png(WHITE, CHANGE)})
    c = _comparison(ids["home"])
    assert (c.status, c.reason) == ("passed", "region-filtered")

    ids = _run(store, {"home": png(WHITE, (0, 0, 8, 8))})  # a change elsewhere still fails
    assert _comparison(ids["home"]).status == "failed"


def test_deleting_a_local_region_recompares_and_undo_brings_it_back(store):
    pk = _failed_home(store)
    cluster = queries_history.comparison_detail(pk)["clusters"][0]
    added = review.add_region(store, "home", review.padded_box(cluster), recompare=pk)
    region_id = added.items[0]["regionId"]

    result = review.delete_region(store, region_id, actor="tui", recompare=pk)
    assert result.items[0]["statusAfter"] == "failed"
    assert _comparison(pk).status == "failed"
    assert Region.select().count() == 0

    review.undo(store, actor="tui")
    assert _comparison(pk).status == "passed"
    [region] = queries_history.regions_for("home")
    assert region["source"] == "local"


def test_region_input_errors_are_clear_and_change_nothing(store):
    pk = _failed_home(store)
    with pytest.raises(UsageError, match="x1 must be a number"):
        review.add_region(store, "home", {"x1": "a", "y1": 0, "x2": 1, "y2": 1})
    with pytest.raises(UsageError, match="reversed"):
        review.add_region(store, "home", {"x1": 9, "y1": 0, "x2": 1, "y2": 1})
    with pytest.raises(UsageError, match="needs x1"):
        review.add_region(store, "home", {"left": 1})
    with pytest.raises(UsageError, match="not a screenshot of"):
        review.add_region(store, "other", {"x1": 0, "y1": 0, "x2": 1, "y2": 1}, recompare=pk)
    with pytest.raises(NotFound):
        review.delete_region(store, 999)
    assert Region.select().count() == 0
    assert _comparison(pk).status == "failed"
    assert Decision.select().where(Decision.action.startswith("region")).count() == 0


def test_cloud_regions_cannot_be_deleted_here(store):
    _failed_home(store)
    region_id = store.call(
        lambda: Region.insert(
            name="home", kind="confirmed", source="cloud", x1=0, y1=0, x2=1, y2=1, data={}
        ).execute()
    )
    with pytest.raises(UsageError, match="comes from the cloud"):
        review.delete_region(store, region_id)
    assert Region.select().count() == 1


def test_recompare_refuses_an_older_builds_comparison(store):
    pk = _failed_home(store)
    _run(store, {"home": png(WHITE, CHANGE)})  # a newer build
    with pytest.raises(UsageError, match="older build"):
        review.add_region(store, "home", {"x1": 0, "y1": 0, "x2": 5, "y2": 5}, recompare=pk)


def test_a_region_decision_interrupted_before_done_is_finished_by_the_next_start(
    tmp_path, monkeypatch
):
    project = make_project(tmp_path)
    store = open_store(project)
    pk = _failed_home(store)
    from vizzly_tui.store import decisions

    def crash(project, decision):
        raise KeyboardInterrupt("killed before step 3")

    monkeypatch.setattr(decisions, "complete", crash)
    monkeypatch.setattr(decisions, "rollback", lambda *a, **k: None)  # as if killed outright
    with pytest.raises(KeyboardInterrupt):
        review.add_region(store, "home", {"x1": 15, "y1": 5, "x2": 34, "y2": 24}, recompare=pk)
    store.close()
    monkeypatch.undo()
    report = ensure_schema(project)
    assert any("region-add" in line for line in report.recovered)
    with open_store(project, write=False):
        assert Region.get().source == "local"
        assert Comparison.get_by_id(pk).status == "passed"
        assert Decision.get(Decision.action == "region-add").state == "done"
