"""Review actions as a user sees them: files, statuses, the decision log, and undo."""

from __future__ import annotations

import pytest

from tests.storehelpers import open_seeded
from vizzly_tui import review
from vizzly_tui.errors import FilesError, NotFound, UsageError
from vizzly_tui.store import decisions, queries
from vizzly_tui.store.models import Baseline, BaselineVersion, Comparison, Decision


@pytest.fixture
def seeded(tmp_path):
    store, names = open_seeded(tmp_path, 4)
    yield store, names
    store.close()


def _file(store, folder, name):
    return (store.project.vizzly_dir / folder / f"{name}.png").read_bytes()


def _status(name):
    return Comparison.get(Comparison.name == name).status


def test_accept_copies_current_over_baseline_and_records_it(seeded):
    store, names = seeded
    result = review.accept(store, [names[0]])
    assert result.count == 1
    assert _file(store, "baselines", names[0]) == _file(store, "current", names[0])
    assert _status(names[0]) == "passed"
    assert _status(names[1]) == "failed"
    baseline = Baseline.get(Baseline.signature == f"{names[0]}|1280|chrome")
    assert baseline.sha256 == decisions.files.sha256_bytes(_file(store, "current", names[0]))
    decision = Decision.get()
    assert (decision.action, decision.actor, decision.state) == ("accept", "cli", "done")
    assert decision.status_before == "failed"
    # The previous baseline bytes are kept, content-addressed, for undo.
    assert store.project.object_path(decision.baseline_sha_before).read_bytes() == (
        b"baseline-" + names[0].encode()
    )
    assert BaselineVersion.select().count() == 1


def test_accept_by_id_signature_and_name(seeded):
    store, names = seeded
    c1 = Comparison.get(Comparison.name == names[1])
    review.accept(store, [c1.cid, f"{names[2]}|1280|chrome", names[3]])
    assert [_status(n) for n in names] == ["failed", "passed", "passed", "passed"]


def test_unknown_key_changes_nothing(seeded):
    store, names = seeded
    with pytest.raises(NotFound, match="nope"):
        review.accept(store, [names[0], "nope"])
    assert _status(names[0]) == "failed"
    assert Decision.select().count() == 0


def test_accept_all_takes_failed_and_new_but_not_rejected(seeded):
    store, names = seeded
    review.reject(store, [names[0]])
    store.call(lambda: Comparison.update(status="new").where(Comparison.name == names[1]).execute())
    result = review.accept(store, all_=True)
    assert result.count == 3
    assert [_status(n) for n in names] == ["rejected", "passed", "passed", "passed"]
    assert _file(store, "baselines", names[0]) == b"baseline-" + names[0].encode()


def test_reject_changes_only_the_status(seeded):
    store, names = seeded
    review.reject(store, [names[0]])
    assert _status(names[0]) == "rejected"
    assert _file(store, "baselines", names[0]) == b"baseline-" + names[0].encode()
    assert queries.summary(1)["rejected"] == 1


def test_undo_restores_the_previous_baseline_bytes_and_status(seeded):
    store, names = seeded
    review.accept(store, all_=True)
    result = review.undo(store)
    assert result.count == 4
    for name in names:
        assert _status(name) == "failed"
        assert _file(store, "baselines", name) == b"baseline-" + name.encode()
    c = Comparison.get(Comparison.name == names[0])
    assert c.diff_percentage == 1.5 and c.diff == f"/images/diffs/{names[0]}.png"
    # Undo of undo is not a thing: the next undo reverses the batch before, if any.
    with pytest.raises(NotFound, match="nothing to undo"):
        review.undo(store)


def test_undo_reverses_only_the_newest_batch(seeded):
    store, names = seeded
    review.accept(store, [names[0]])
    review.reject(store, [names[1]])
    review.undo(store)
    assert _status(names[0]) == "passed"
    assert _status(names[1]) == "failed"
    review.undo(store)
    assert _status(names[0]) == "failed"


def test_delete_removes_files_and_rows_and_undo_brings_them_back(seeded):
    store, names = seeded
    review.delete(store, [names[0]])
    for folder in ("baselines", "current", "diffs"):
        assert not (store.project.vizzly_dir / folder / f"{names[0]}.png").exists()
    assert Comparison.select().where(Comparison.name == names[0]).count() == 0
    review.undo(store)
    assert _status(names[0]) == "failed"
    assert _file(store, "current", names[0]) == b"current-" + names[0].encode()
    assert _file(store, "diffs", names[0]) == b"diff-" + names[0].encode()


def test_reset_clears_everything_and_undo_restores_it(seeded):
    store, names = seeded
    review.accept(store, [names[0]])  # one real baseline row
    review.reset(store)
    assert Comparison.select().count() == 0
    assert Baseline.select().count() == 0
    assert list(store.project.baselines_dir.glob("*.png")) == []
    review.undo(store)
    assert Comparison.select().count() == 4
    assert Baseline.select().count() == 1
    assert _file(store, "baselines", names[0]) == _file(store, "current", names[0])
    assert _file(store, "baselines", names[1]) == b"baseline-" + names[1].encode()


def test_missing_current_file_is_a_clear_error_and_changes_nothing(seeded):
    store, names = seeded
    (store.project.current_dir / f"{names[2]}.png").unlink()
    with pytest.raises(NotFound, match="Current screenshot not found"):
        review.accept(store, all_=True)
    assert [_status(n) for n in names] == ["failed"] * 4
    assert Decision.select().count() == 0


def test_a_batch_that_fails_half_way_is_undone_whole(seeded, monkeypatch):
    store, names = seeded
    real = decisions.apply_files
    calls = {"n": 0}

    def flaky(project, decision, *, forward=True):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(project, decision, forward=forward)

    monkeypatch.setattr(decisions, "apply_files", flaky)
    with pytest.raises(FilesError, match="disk full"):
        review.accept(store, all_=True)
    assert Decision.select().where(Decision.state == "pending").count() == 0
    for name in names:
        assert _status(name) == "failed"
        assert _file(store, "baselines", name) == b"baseline-" + name.encode()


@pytest.mark.parametrize("actor", ["http", "tui"])
def test_a_failed_batch_is_logged_as_rolled_back_by_its_own_actor(seeded, monkeypatch, actor):
    store, _ = seeded
    real = decisions.apply_files
    calls = {"n": 0}

    def flaky(project, decision, *, forward=True):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full")
        return real(project, decision, forward=forward)

    monkeypatch.setattr(decisions, "apply_files", flaky)
    with pytest.raises(FilesError, match="disk full"):
        review.accept(store, all_=True, actor=actor)
    undos = list(Decision.select().where(Decision.action == "undo"))
    assert len(undos) == 2  # the two accepts applied before the failure were undone
    assert {d.actor for d in undos} == {actor}
    assert {d.actor for d in Decision.select()} == {actor}  # nothing in the log says "cli"


def test_actions_need_targets(seeded):
    store, _ = seeded
    with pytest.raises(UsageError):
        review.accept(store, [])
    with pytest.raises(ValueError):
        review.reject(store, ["x"], actor="browser")


def test_accept_refuses_a_current_image_that_changed_since_it_was_compared(seeded):
    store, names = seeded
    from vizzly_tui.store.files import sha256_bytes

    def record_sha():
        for name in names:
            data = (store.project.current_dir / f"{name}.png").read_bytes()
            Comparison.update(current_sha256=sha256_bytes(data)).where(
                Comparison.name == name
            ).execute()

    store.call(record_sha)
    (store.project.current_dir / f"{names[0]}.png").write_bytes(b"re-sent, not yet compared")
    # Named: refused, nothing changes.
    with pytest.raises(review.StaleComparison, match="changed since it was compared"):
        review.accept(store, [names[0], names[1]])
    assert [_status(n) for n in names] == ["failed"] * 4
    assert _file(store, "baselines", names[1]) == b"baseline-" + names[1].encode()
    # --all: the others are accepted, the re-sent one is skipped and reported (issue 7).
    result = review.accept(store, all_=True)
    assert [s["name"] for s in result.skipped] == [names[0]]
    assert [_status(n) for n in names] == ["failed"] + ["passed"] * 3
    assert _file(store, "baselines", names[0]) == b"baseline-" + names[0].encode()
