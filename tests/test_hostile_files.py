"""Files that are not what they claim (a follow-up probe of issue 7): a state.db that is a
FIFO or a link, and an image folder holding a hard link to the database."""

from __future__ import annotations

import os

import pytest

from tests.damagehelpers import cli, digest, recorded_project


def test_a_fifo_in_place_of_state_db_is_refused_not_waited_on(tmp_path):
    project = recorded_project(tmp_path, count=2)
    project.db_path.rename(tmp_path / "saved.db")
    os.mkfifo(project.db_path)
    # Opening a FIFO for reading blocks until a writer appears: every command used to hang.
    for command in (("status",), ("accept", "--all"), ("db", "status")):
        result = cli(tmp_path, *command, timeout=10)
        assert result.returncode == 3, (command, result.stderr)
        assert "not a regular file" in result.stderr
        assert "internal error" not in result.stderr


@pytest.mark.parametrize("dangling", [False, True], ids=["to a file", "dangling"])
def test_a_state_db_that_is_a_symlink_is_not_followed_out_of_vizzly(tmp_path, dangling):
    project = recorded_project(tmp_path / "proj", count=2)
    elsewhere = tmp_path / "elsewhere.db"
    if dangling:
        project.db_path.unlink()
    else:
        project.db_path.rename(elsewhere)
        before = digest(elsewhere)
    project.db_path.symlink_to(elsewhere)
    result = cli(tmp_path / "proj", "accept", "--all", timeout=10)
    assert result.returncode == 3, result.stderr
    assert "symbolic link" in result.stderr
    # Nothing was written outside .vizzly/: no file created, none changed, no -wal beside it.
    assert sorted(p.name for p in tmp_path.iterdir()) == (
        ["proj"] if dangling else ["elsewhere.db", "proj"]
    )
    if not dangling:
        assert digest(elsewhere) == before
