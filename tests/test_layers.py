"""Import discipline, checked in fresh interpreters (sys.modules after the import):

- start-up: `serve` must answer /health fast, so the server imports no numpy/scipy/Pillow
  (the engine loads at the first screenshot, or in the background once listening);
  `--version` and `status` load neither the engine nor the HTTP stack;
- layers (architecture.md): the store knows nothing of HTTP or Textual, the engine nothing
  of the database, the review actions nothing of the server or the app.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO_ROOT
from tests.storehelpers import open_seeded

HEAVY = ("numpy", "scipy", "PIL", "aiohttp", "textual", "peewee", "peewee_migrate")


def _loaded(code: str, *args: str) -> set[str]:
    """Run `code` in a new interpreter; return which HEAVY or vizzly_tui.* modules it left
    loaded (printed at exit, so commands that end in SystemExit are covered too)."""
    prologue = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print('\\nMODULES' + json.dumps(sorted(m for m in sys.modules "
        f"if m.split('.')[0] in {HEAVY!r} or m.startswith('vizzly_tui.')))))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", prologue + code, *args],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=120,
    )
    marker = ran.stdout.rfind("MODULES")
    assert ran.returncode == 0 and marker >= 0, ran.stdout + ran.stderr
    return set(json.loads(ran.stdout[marker + len("MODULES") :]))


def _top(modules: set[str]) -> set[str]:
    return {m.split(".")[0] for m in modules}


def test_importing_the_server_loads_no_numpy_scipy_or_pillow():
    loaded = _top(_loaded("import vizzly_tui.server.runner, vizzly_tui.server.app"))
    assert "aiohttp" in loaded  # the check itself works
    assert not loaded & {"numpy", "scipy", "PIL"}


def test_version_and_status_load_neither_the_engine_nor_the_http_stack(tmp_path):
    store, _ = open_seeded(tmp_path, 2)
    store.close()
    code = "from vizzly_tui.cli import main\nmain(sys.argv[1:])"
    version = _loaded(code, "--version")
    status = _loaded(code, "--project", str(tmp_path), "status")
    assert "peewee" in _top(status)  # status did read the store
    for loaded in (version, status):
        assert not _top(loaded) & {"numpy", "scipy", "PIL", "aiohttp", "textual"}
        assert not {m for m in loaded if m.startswith("vizzly_tui.engine")}


def test_the_store_imports_no_http_or_textual():
    code = (
        "import pkgutil, importlib, vizzly_tui.store as s\n"
        "for m in pkgutil.iter_modules(s.__path__):\n"
        "    importlib.import_module('vizzly_tui.store.' + m.name)\n"
    )
    loaded = _loaded(code)
    assert "vizzly_tui.store.queries_history" in loaded and "vizzly_tui.store.gc" in loaded
    assert not _top(loaded) & {"aiohttp", "textual"}
    assert not {m for m in loaded if m.startswith(("vizzly_tui.server", "vizzly_tui.tui"))}


def test_the_engine_imports_no_database():
    code = (
        "import pkgutil, importlib, vizzly_tui.engine as e\n"
        "for m in pkgutil.iter_modules(e.__path__):\n"
        "    importlib.import_module('vizzly_tui.engine.' + m.name)\n"
    )
    loaded = _loaded(code)
    assert "numpy" in _top(loaded)
    assert not _top(loaded) & {"peewee", "peewee_migrate", "aiohttp", "textual"}
    # Of the rest of vizzly_tui, only the status names (which import nothing).
    ours = {
        m for m in loaded if m.startswith("vizzly_tui.") and not m.startswith("vizzly_tui.engine")
    }
    assert ours <= {"vizzly_tui.statuses"}, ours


@pytest.mark.parametrize(
    "code",
    [
        "import vizzly_tui.review as r; r.add_region",
        "from vizzly_tui.review import restore_baseline_version",
        "import vizzly_tui.review_history",  # first, on its own: no circular import
        # Each module of the actions first, on its own: no circular import either.
        "import vizzly_tui.review_batch; import vizzly_tui.review as r; r.add_region",
        "import vizzly_tui.review_accept; import vizzly_tui.review as r; r.add_region",
        "import vizzly_tui.review_remove; import vizzly_tui.review as r; r.add_region",
        "import vizzly_tui.review_undo; import vizzly_tui.review as r; r.add_region",
    ],
)
def test_review_actions_import_no_server_or_app(code):
    loaded = _loaded(code)
    assert {
        "vizzly_tui.review",
        "vizzly_tui.review_history",
        "vizzly_tui.review_batch",
        "vizzly_tui.review_accept",
        "vizzly_tui.review_remove",
        "vizzly_tui.review_undo",
    } <= loaded
    assert not _top(loaded) & {"aiohttp", "textual"}
    assert not {m for m in loaded if m.startswith(("vizzly_tui.server", "vizzly_tui.tui"))}
