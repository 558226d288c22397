"""The review app's queries at scale: `python benchmarks/bench_queries.py [--rows 100000]`.

One build of N comparisons (names with 1-3 browser variants, statuses mixed as in a real run:
mostly passed, some failed/new/rejected/error) is written through the store's writer, then
each query the comparisons pane runs is timed (median of 15):

  ours     the stored review order of migration 002 (priority, group priority and diff kept
           by triggers, one index): first page, a page at offset 5000, "needs review" page,
           a name search, a browser filter, the count for the pager, index_of (cursor kept
           across a refresh);
  anchor   the same first page ordered by a priority computed per query (what the store did
           before 002), measured in the same run.

Also printed: the insert rate with the triggers against the same insert into a copy of the
table without them (what a capture or a legacy import pays for the stored order).
Goals at 100,000 rows: every pane query under 10 ms, except a name search (a substring
match reads every name of the build) under 30 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import peewee as pw  # noqa: E402

from vizzly_tui.project import Project  # noqa: E402
from vizzly_tui.store import queries_history as qh  # noqa: E402
from vizzly_tui.store.models import Build, Comparison  # noqa: E402
from vizzly_tui.store.store import open_store  # noqa: E402

GOAL_MS = 10.0
SEARCH_GOAL_MS = 30.0
STATUSES = ["passed"] * 80 + ["failed"] * 10 + ["new"] * 6 + ["rejected"] * 2 + ["error"] * 2
COLUMNS = (
    "build_id, cid, name, signature, file_name, status, properties, diff_percentage, "
    "timestamp, updated_at, has_diff_clusters, has_confirmed_regions"
)


def rows(build_id: int, count: int) -> list[tuple]:
    rng = random.Random(7)
    out: list[tuple] = []
    i = 0
    while len(out) < count:
        name = f"page-{i:06d}"
        for browser in ("chrome", "firefox", "webkit")[: rng.randint(1, 3)]:
            status = rng.choice(STATUSES)
            diff = None if status == "new" else round(rng.random() * 10, 3)
            props = f'{{"browser": "{browser}", "viewport_width": {rng.choice((375, 1280))}}}'
            out.append(
                (
                    build_id,
                    f"{i:010x}{browser[:2]}",
                    name,
                    f"{name}|{browser}",
                    f"{name}.png",
                    status,
                    props,
                    diff,
                    1,
                    1,
                    0,
                    0,
                )
            )
        i += 1
    return out[:count]


def insert(db: pw.Database, table: str, data: list[tuple]) -> float:
    marks = ", ".join("?" * len(data[0]))
    t0 = time.perf_counter()
    for start in range(0, len(data), 5000):
        with db.atomic():  # a savepoint when the caller holds a transaction
            db.cursor().executemany(
                f'INSERT INTO "{table}" ({COLUMNS}) VALUES ({marks})', data[start : start + 5000]
            )
    return time.perf_counter() - t0


def timed(fn, repeat: int = 15) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def computed_first_page(build_id: int) -> list:
    first = pw.fn.COALESCE(Comparison.initial_status, Comparison.status)
    rank = pw.Case(
        None,
        (
            (first == "failed", 3),
            (first.in_(("new", "baseline-created")), 2),
            (first == "passed", 1),
        ),
        0,
    )
    query = (
        Comparison.select()
        .where(Comparison.build == build_id)
        .order_by(
            rank.desc(),
            pw.fn.COALESCE(Comparison.diff_percentage, -1).desc(),
            Comparison.name,
            Comparison.id,
        )
        .limit(100)
    )
    return list(query.tuples())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-queries-"))
    (root / ".vizzly").mkdir()
    store = open_store(Project(root))
    build_id = store.call(lambda: Build.create(kind="run", uid="bench", started_at=1).id)
    data = rows(build_id, args.rows)

    def load() -> tuple[float, float]:
        db = store.db
        assert db is not None
        with_triggers = insert(db, "comparison", data)
        # The same insert into a second build with the triggers dropped, rolled back after.
        other = [(build_id + 1, *row[1:]) for row in data]
        with db.atomic() as txn:
            Build.create(kind="run", uid="anchor", started_at=0)
            for name in ("insert", "update", "delete"):
                db.execute_sql(f'DROP TRIGGER "comparison_order_{name}"')
            without = insert(db, "comparison", other)
            txn.rollback()
        return with_triggers, without

    with_triggers, without = store.call(load, transaction=False)
    store.call(lambda: store.db.execute_sql("ANALYZE"))
    print(
        f"insert {args.rows} rows: {args.rows / with_triggers:,.0f} rows/s with the order "
        f"triggers, {args.rows / without:,.0f} rows/s without ({with_triggers / without:.1f}x)"
    )

    flt = qh.ComparisonFilter
    first = qh.page_comparisons(build_id, limit=100)
    cases = {
        "first page (review order)": lambda: qh.page_comparisons(build_id, limit=100),
        "page at offset 5000": lambda: qh.page_comparisons(build_id, limit=100, offset=5000),
        "needs-review page": lambda: qh.page_comparisons(build_id, flt("needs-review")),
        "name search 'page-0123'": lambda: qh.page_comparisons(build_id, flt(search="page-0123")),
        "browser filter": lambda: qh.page_comparisons(build_id, flt(browser="webkit")),
        "count (pager)": lambda: qh.count_comparisons(build_id),
        "count needs-review": lambda: qh.count_comparisons(build_id, flt("needs-review")),
        "status counts": lambda: qh.status_counts(build_id),
        "index_of (cursor)": lambda: qh.index_of(build_id, first[50].id),
    }
    anchor = timed(lambda: computed_first_page(build_id))
    print(f"{'anchor: first page, computed order':<38}{anchor:8.2f} ms")
    worst = 0.0
    search = 0.0
    for label, fn in cases.items():
        ms = timed(fn)
        if label.startswith("name search"):
            search = ms
        else:
            worst = max(worst, ms)
        print(f"{label:<38}{ms:8.2f} ms  ({ms / anchor:.2f}x anchor)")
    store.close()
    met = worst <= GOAL_MS and search <= SEARCH_GOAL_MS
    print(
        f"goals at {args.rows:,} rows: pane queries under {GOAL_MS:.0f} ms (worst {worst:.2f}), "
        f"name search under {SEARCH_GOAL_MS:.0f} ms ({search:.2f}) -> "
        f"{'MET' if met else 'NOT MET'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
