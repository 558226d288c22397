"""Start-up and memory benchmark: `python benchmarks/bench_startup.py` (about a minute).

Measured in one invocation, next to anchors measured in the same run:

  serve ready   launch of `vizzly-tui serve` to the first 200 from GET /health (median of
                --runs; the project's state.db exists, as on every start after the first);
                anchor: `vizzly tdd start` (the Vizzly CLI 0.29.6 daemon) to its /health,
                when node_modules is present;
  --version and `status`   wall time (median), anchor: `python -c pass`;
  peak RSS      VmHWM of `serve` after two runs of the real Vizzly JavaScript SDK sending
                bench_server.py's 50 screenshots (run 1 all new, run 2 a quarter changed).

Goals, checked at the end: serve ready in at most 400 ms; peak RSS at most 150 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from bench_server import build_shots, plan  # noqa: E402

from tests.interop.harness import (  # noqa: E402
    CLI_BIN,
    OurServer,
    UpstreamServer,
    clean_env,
    free_port,
    run_sdk,
)

READY_GOAL_MS = 400.0
SERVE = [sys.executable, "-m", "vizzly_tui"]
RSS_GOAL_MB = 150.0


def _wall(cmd: list[str], cwd: Path, env: dict[str, str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def _health_ms(port: int, t0: float, proc: subprocess.Popen[bytes] | None = None) -> float:
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before /health")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                r.read()
            return (time.perf_counter() - t0) * 1000
        except OSError:
            time.sleep(0.002)


def serve_ready_ms(project: Path, env: dict[str, str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        port = free_port()
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [*SERVE, "--project", str(project), "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            times.append(_health_ms(port, t0, proc))
        finally:
            proc.send_signal(2)
            proc.wait(30)
    return times


def upstream_ready_ms(root: Path) -> float | None:
    if not CLI_BIN.exists():
        return None
    server = UpstreamServer(root / "upstream" / "project", root / "upstream" / "home")
    with server:
        assert server.startup_seconds is not None
        return server.startup_seconds * 1000


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc status")


def serve_peak_rss_mb(root: Path, count: int) -> float | None:
    if not CLI_BIN.exists():
        print("peak RSS: node_modules missing (npm ci), not measured")
        return None
    shots = build_shots(count)
    server = OurServer(root / "rss" / "project", root / "rss" / "home")
    with server:
        assert server.proc is not None
        env = server.env(VIZZLY_SERVER_URL=server.url)
        for run in ("run1", "run2"):
            run_sdk(plan(shots, run, False), root / "rss", env, timeout=900, tag=run)
        return _vm_hwm_mb(server.proc.pid)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="launches to take the median of")
    parser.add_argument("--count", type=int, default=50, help="screenshots per SDK run")
    parser.add_argument("--no-rss", action="store_true", help="skip the SDK runs")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    project = root / "project"
    (project / ".vizzly").mkdir(parents=True)
    env = clean_env(root / "home")
    env["PYTHONPATH"] = str(REPO_ROOT)
    vt = [sys.executable, "-m", "vizzly_tui"]
    subprocess.run([*vt, "--project", str(project), "status"], env=env, check=True,
                   capture_output=True)  # fmt: skip

    anchor = _wall([sys.executable, "-c", "pass"], root, env, args.runs)
    version = _wall([*vt, "--version"], root, env, args.runs)
    status = _wall([*vt, "--project", str(project), "status"], root, env, args.runs)
    ready = serve_ready_ms(project, env, args.runs)
    ready_ms = statistics.median(ready)
    upstream = upstream_ready_ms(root)
    rss = None if args.no_rss else serve_peak_rss_mb(root, args.count)

    print(f"python -c pass (anchor)      {anchor:7.0f} ms")
    print(f"vizzly-tui --version         {version:7.0f} ms  ({version / anchor:.1f}x anchor)")
    print(f"vizzly-tui status            {status:7.0f} ms  ({status / anchor:.1f}x anchor)")
    print(f"serve launch -> /health      {ready_ms:7.0f} ms  median of {[round(t) for t in ready]}")
    if upstream is not None:
        print(f"vizzly tdd start -> /health  {upstream:7.0f} ms  (ours {ready_ms / upstream:.2f}x)")
    ok = ready_ms <= READY_GOAL_MS
    print(f"goal: serve ready in at most {READY_GOAL_MS:.0f} ms -> {'MET' if ok else 'NOT MET'}")
    if rss is not None:
        met = rss <= RSS_GOAL_MB
        ok &= met
        print(f"serve peak RSS, two SDK runs {rss:7.1f} MB")
        print(f"goal: peak RSS at most {RSS_GOAL_MB:.0f} MB -> {'MET' if met else 'NOT MET'}")
    if os.environ.get("KEEP_BENCH"):
        print(f"kept {root}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
