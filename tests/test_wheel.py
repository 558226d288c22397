"""A wheel built from this tree and installed into a fresh venv finds and runs migrations."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT


@pytest.mark.slow
def test_installed_wheel_ships_and_runs_the_migrations(tmp_path):
    dist = tmp_path / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    wheel = next(dist.glob("vizzly_tui-*.whl"))
    # Every package of the source tree is in the wheel (the list in pyproject.toml is
    # explicit: a new folder left out of it works in an editable install and nowhere else).
    with zipfile.ZipFile(wheel) as archive:
        shipped = {Path(n).parent for n in archive.namelist() if n.endswith("__init__.py")}
    source = {
        p.parent.relative_to(REPO_ROOT) for p in (REPO_ROOT / "vizzly_tui").rglob("__init__.py")
    }
    assert source - shipped == set(), "packages missing from the wheel (pyproject.toml)"
    assert (Path("vizzly_tui") / "tui" / "app.tcss").as_posix() in archive.namelist()

    # A fresh venv; the runtime dependencies come from the environment running this test
    # (often itself a venv, which `system_site_packages` would not see: that flag reaches the
    # base interpreter only), so the test needs no network, but vizzly_tui itself must come
    # from the wheel. A .pth line appends the outer site-packages after the venv's own, and
    # the outer editable install's finder is not activated by a plain path line.
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    inner_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    outer = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(inner_site) / "outer-env.pth").write_text("\n".join(sorted(outer)) + "\n")
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, install.stderr

    project = tmp_path / "project"
    (project / ".vizzly").mkdir(parents=True)
    script = (
        "import vizzly_tui, sys; print(vizzly_tui.__file__);"
        "from vizzly_tui.cli import main; sys.argv=['vizzly-tui','--project',sys.argv[1],"
        "'db','migrate']; main()"
    )
    ran = subprocess.run(
        [str(python), "-c", script, str(project)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    first_line, rest = ran.stdout.split("\n", 1)
    assert str(env_dir) in first_line, "vizzly_tui was not imported from the installed wheel"
    assert "applied: 001_initial" in rest
    assert (project / ".vizzly" / "state.db").exists()
