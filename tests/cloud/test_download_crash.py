"""A download interrupted by a crash: the next start finishes it or rolls it back whole,
through the same recovery as every other decision (store.recovery)."""

from __future__ import annotations

import asyncio

from tests.cloud.conftest import CLOUD_CART, CLOUD_HOME, LOCAL
from tests.cloud.test_download import baseline_files, rows, sha
from vizzly_tui.cloud.download import DownloadRequest, fetch, install_arguments
from vizzly_tui.store import cloud_download, decisions, files
from vizzly_tui.store.models import Build, Decision
from vizzly_tui.store.store import open_store


def crash_mid_download(project, *, files_written: bool, lose_object: str | None = None):
    """Record the pending decision (and maybe write its files), then "crash": no complete."""
    fetched = asyncio.run(fetch(project, DownloadRequest(build_id="build-1")))
    with open_store(project) as store:
        arguments = install_arguments(project, fetched, 2.0)

        def half() -> None:
            with store.db.atomic():
                decision = cloud_download.begin_download(
                    project, batch="b", actor="cli", **arguments
                )
            if files_written:
                decisions.apply_files(project, decision)

        store.call(half, transaction=False)
    if lose_object:
        project.object_path(lose_object).unlink()


def test_a_crash_after_the_files_is_finished_at_the_next_start(project, cloud):
    crash_mid_download(project, files_written=True)
    with open_store(project) as store:  # recovery runs on open
        assert any(
            "finished interrupted download" in line for line in store.bootstrap_report.recovered
        )
        assert Decision.get(Decision.action == "download").state == "done"
        assert Build.select().where(Build.kind == "baseline-cloud").count() == 1
    assert set(rows(project).values()) == {sha(CLOUD_HOME), sha(CLOUD_CART)}
    assert set(baseline_files(project).values()) == {sha(CLOUD_HOME), sha(CLOUD_CART)}


def test_a_crash_with_a_lost_object_is_rolled_back_whole(project, cloud):
    before_files, before_rows = baseline_files(project), rows(project)
    crash_mid_download(project, files_written=False, lose_object=sha(CLOUD_CART))
    with open_store(project):
        assert Decision.get(Decision.action == "download").state == "rolled-back"
        assert not Build.select().where(Build.kind == "baseline-cloud").exists()
    assert baseline_files(project) == before_files
    assert rows(project) == before_rows
    assert set(before_rows.values()) == {files.sha256_bytes(LOCAL)}
