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


@pytest.mark.parametrize("command", [("status",), ("accept", "--all")], ids=" ".join)
def test_damage_past_the_quick_check_size_is_reported_with_what_to_do(
    tmp_path, monkeypatch, command
):
    """A state.db over 64 MB is not checked at open: the damage is met by a statement, and
    the user must read the same message (what happened, what to do) as below that size."""
    from click.testing import CliRunner

    from tests.damagehelpers import overwrite, page_of
    from vizzly_tui.cli import main
    from vizzly_tui.store import bootstrap

    project = recorded_project(tmp_path)
    offset, size = page_of(project.db_path, "comparison")
    overwrite(project.db_path, offset, bytes(range(256)) * (size // 256))
    damaged = digest(project.db_path)
    monkeypatch.setattr(bootstrap, "QUICK_CHECK_MAX_BYTES", 0)  # as if the file were larger
    result = CliRunner().invoke(main, ["--project", str(tmp_path), *command])
    assert result.exit_code == 3, result.output
    assert "damaged" in result.output
    assert "backup" in result.output and "rename" in result.output
    assert result.output.count("is damaged") == 1, result.output
    assert digest(project.db_path) == damaged
