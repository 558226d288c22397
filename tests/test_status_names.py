"""Status names live in vizzly_tui.statuses: no module spells one as a string literal where
it means a status (a comparison with a `status`/`state`, a `status=`/`state=` argument, a
`"status": ...` entry, an SQL `state = '...'`), and every value the tool stores is a member.

The checker reads the syntax tree, not the text: "error" and "passed" are also JSON keys
and messages, which are not statuses and must not trip it. The command line (cli*, its
output being reworked elsewhere) is left out.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT
from tests.server.conftest import png
from tests.storehelpers import make_project
from vizzly_tui import review
from vizzly_tui.capture import capture, finish_build, start_build
from vizzly_tui.statuses import BuildStatus, ComparisonStatus, DecisionState
from vizzly_tui.store.models import Build, Comparison, Decision
from vizzly_tui.store.store import open_store

VALUES = frozenset(str(m) for enum in (ComparisonStatus, BuildStatus, DecisionState) for m in enum)
# Names that hold a status or a state (or a set of them): status, c.state, status_after,
# initial_status, ACCEPT_ALL_STATUSES, STATUS_KEYS.
STATUS_NAME = re.compile(r"(^|_)(status|statuses|state|states)(_|$)", re.IGNORECASE)
SQL = re.compile(
    r"\b(status|state)\s*(=|!=|<>|\bin\b|\bnot in\b)\s*\(?\s*'(?P<value>[a-z-]+)'",
    re.IGNORECASE,
)
PACKAGE = REPO_ROOT / "vizzly_tui"


def _name(node: ast.AST) -> str | None:
    """The identifier a value is read from: `status`, `c.status`, `row["status"]`."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant):
        return node.slice.value if isinstance(node.slice.value, str) else None
    return None


def _is_status_name(node: ast.AST) -> bool:
    name = _name(node)
    return name is not None and bool(STATUS_NAME.search(name))


def _literals(node: ast.AST) -> list[str]:
    """The status values spelled in `node`: a string, or a tuple/list/set of them."""
    items = node.elts if isinstance(node, ast.Tuple | ast.List | ast.Set) else [node]
    return [
        i.value
        for i in items
        if isinstance(i, ast.Constant) and isinstance(i.value, str) and i.value in VALUES
    ]


def _spelled(node: ast.AST) -> list[str]:
    """The status values `node` spells as strings where it means a status."""
    if isinstance(node, ast.Compare):
        sides = [node.left, *node.comparators]
        if any(_is_status_name(s) for s in sides):
            return [v for s in sides for v in _literals(s)]
    elif isinstance(node, ast.keyword):
        if node.arg and STATUS_NAME.search(node.arg):
            return _literals(node.value)
    elif isinstance(node, ast.Assign):
        if any(_is_status_name(t) for t in node.targets):
            return _literals(node.value)
    elif isinstance(node, ast.Dict):
        return [
            v
            for key, value in zip(node.keys, node.values, strict=True)
            if isinstance(key, ast.Constant) and _is_status_name(ast.Name(str(key.value)))
            for v in _literals(value)
        ]
    elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
        args = node.args
        named = [*args.posonlyargs, *args.args]
        pairs = list(zip(named[len(named) - len(args.defaults) :], args.defaults, strict=True))
        pairs += [(a, d) for a, d in zip(args.kwonlyargs, args.kw_defaults, strict=True) if d]
        return [v for a, d in pairs if STATUS_NAME.search(a.arg) for v in _literals(d)]
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [m["value"] for m in SQL.finditer(node.value) if m["value"] in VALUES]
    return []


def literal_statuses(source: str) -> list[tuple[int, str]]:
    """(line, literal) for every status spelled as a string where a status is meant."""
    return [
        (getattr(node, "lineno", 0), value)
        for node in ast.walk(ast.parse(source))
        for value in _spelled(node)
    ]


@pytest.mark.parametrize(
    "snippet",
    [
        'if c.status == "failed": pass',
        'if row["status"] in ("new", "baseline-created"): pass',
        'Decision.select().where(Decision.state != "done")',
        'Decision.update(state="superseded")',
        'decisions.begin(status_after="passed")',
        'record["status"] = "error"',
        'build = {"kind": "import", "status": "imported"}',
        'def finish(store, status="finished"): pass',
        'def stop(*, status: str = "interrupted"): pass',
        'ACCEPT_ALL_STATUSES = ("failed", "new")',
        "conn.execute(\"UPDATE decision SET state = 'failed' WHERE state = 'pending'\")",
        "conn.execute(\"SELECT 1 FROM decision WHERE state IN ('pending', 'failed')\")",
    ],
)
def test_the_checker_finds_a_status_spelled_as_a_literal(snippet):
    assert literal_statuses(snippet), snippet


@pytest.mark.parametrize(
    "snippet",
    [
        'counts = {"passed": 0, "failed": 0, "errors": 0}',  # JSON keys, not statuses
        'if "error" in result: pass',
        'report.add("error", "database", "damaged")',  # a severity
        'return json_error(500, body["error"])',
        'health = {"status": "ok"}',  # not one of ours
        "if c.status == ComparisonStatus.FAILED: pass",
    ],
)
def test_the_checker_leaves_other_strings_alone(snippet):
    assert literal_statuses(snippet) == [], snippet


def _checked_modules() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE.rglob("*.py")
        if p.name != "statuses.py" and not p.relative_to(PACKAGE).parts[0].startswith("cli")
    )


def test_no_module_spells_a_status_as_a_string():
    modules = _checked_modules()
    assert PACKAGE / "review.py" in modules and PACKAGE / "store" / "decisions.py" in modules
    found = [
        f"{path.relative_to(REPO_ROOT)}:{line}: {value!r}"
        for path in modules
        for line, value in literal_statuses(path.read_text(encoding="utf-8"))
    ]
    assert found == [], "use vizzly_tui.statuses instead of:\n" + "\n".join(found)


def test_every_status_and_state_the_tool_stores_is_a_member(tmp_path):
    """Screenshots new, unchanged, changed and with a broken baseline, then the review
    actions: every status and state they leave in the database is a named one."""
    store = open_store(make_project(tmp_path))
    try:
        build = start_build(store, "run")
        shots = [("same", None), ("same", None), ("changed", None), ("changed", (200, 0, 0))]
        for name, block in [*shots, ("broken", None)]:
            capture(store, build.id, name, png(block=block))
        [broken] = store.project.baselines_dir.glob("broken_*.png")
        broken.write_bytes(b"not a png")
        capture(store, build.id, "broken", png())
        review.reject(store, ["changed"])
        review.accept(store, ["changed"], actor="tui")
        review.undo(store, actor="http")
        review.accept(store, all_=True)
        finish_build(store, build.id)
        comparisons = {c.status for c in Comparison.select()}
        comparisons |= {c.initial_status for c in Comparison.select()}
        decisions = list(Decision.select())
        builds = {b.status for b in Build.select()}
    finally:
        store.close()
    assert comparisons >= {"new", "passed", "error"}  # the flow did record each kind
    assert comparisons <= set(ComparisonStatus)
    assert {d.state for d in decisions} <= set(DecisionState)
    before_after = {s for d in decisions for s in (d.status_before, d.status_after) if s}
    assert before_after >= {"failed", "rejected", "passed"}
    assert before_after <= set(ComparisonStatus)
    assert builds == {"finished"} and builds <= set(BuildStatus)
