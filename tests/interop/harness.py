"""Run a Vizzly-compatible TDD server and the real JavaScript SDK against it.

Shared by the interop tests (tests/interop/) and the server benchmark (benchmarks/bench_server.py):
one place that knows how to start and stop our server (`vizzly-tui serve`) and the Vizzly CLI's
daemon (`vizzly tdd start`, pinned in package.json), and how to run the SDK script.

Every process started here talks to loopback only, runs with VIZZLY_HOME pointing into a
temporary folder (never the real ~/.vizzly) and is stopped by its own pid.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = REPO_ROOT / "node_modules"
CLI_PACKAGE = NODE_MODULES / "@vizzly-testing" / "cli"
CLI_BIN = CLI_PACKAGE / "bin" / "vizzly.js"
SDK_SCRIPT = Path(__file__).resolve().parent / "sdk_send.mjs"

FIXTURES_DIR = REPO_ROOT.parent / "shared" / "fixtures" / "vizzly-0.29.6"
HTTP_DIR = FIXTURES_DIR / "http"

# Where the captured fixtures' project lived; absolute paths in sdk-*-result.json carry it.
CAPTURED_PROJECT = "/home/dev/storefront"


def node_missing_reason() -> str | None:
    """Why the SDK cannot be run here, or None when node and the pinned package are installed."""
    if shutil.which("node") is None:
        return "node is not installed (the interop tests drive the Vizzly JS SDK with node)"
    if not CLI_BIN.exists():
        return (
            f"{CLI_PACKAGE.relative_to(REPO_ROOT)} is missing: run `npm ci` in the repo root "
            "(package-lock.json pins @vizzly-testing/cli 0.29.6)"
        )
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env(home: Path, **extra: str | None) -> dict[str, str]:
    """The caller's environment without any VIZZLY_* variable, plus VIZZLY_HOME=home.

    Keyword arguments are added (a None value leaves the variable out).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("VIZZLY_")}
    home.mkdir(parents=True, exist_ok=True)
    env["VIZZLY_HOME"] = str(home)
    env["NO_COLOR"] = "1"
    env.pop("FORCE_COLOR", None)
    for key, value in extra.items():
        if value is not None:
            env[key] = value
    return env


def get_json(url: str, timeout: float = 2.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def wait_for_health(
    port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None
) -> dict[str, Any]:
    """Poll GET /health until it answers 200; fail early when `proc` exits."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServerError(f"server exited with code {proc.returncode} before /health answered")
        try:
            body = get_json(f"http://127.0.0.1:{port}/health", timeout=1.0)
            if isinstance(body, dict):
                return body
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError) as exc:
            last_error = exc
        time.sleep(0.05)
    raise ServerError(f"/health on port {port} did not answer within {timeout}s: {last_error!r}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def kill_pid(pid: int, grace: float = 5.0) -> None:
    """SIGTERM one process we started, then SIGKILL it if it outlives `grace` seconds."""
    if not pid_alive(pid):
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


class ServerError(RuntimeError):
    """The server under test did not start or stop as it should."""


class TddServer:
    """A Vizzly-compatible TDD server on 127.0.0.1:<port> for the project `project`."""

    kind = "abstract"

    def __init__(self, project: Path, home: Path, port: int | None = None) -> None:
        self.project = project
        self.home = home
        self.port = port or free_port()
        self.log_path = project.parent / f"{self.kind}-server-{self.port}.log"
        self.startup_seconds: float | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, **extra: str | None) -> dict[str, str]:
        return clean_env(self.home, **extra)

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def __enter__(self) -> TddServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class OurServer(TddServer):
    """`vizzly-tui --project DIR serve --port N`, a foreground process stopped with SIGINT."""

    kind = "vizzly-tui"

    def __init__(
        self,
        project: Path,
        home: Path,
        port: int | None = None,
        extra_args: list[str] | None = None,
    ) -> None:
        super().__init__(project, home, port)
        self.extra_args = extra_args or []
        self.proc: subprocess.Popen[bytes] | None = None
        self.returncode: int | None = None

    def command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "vizzly_tui",
            "--project",
            str(self.project),
            "serve",
            "--port",
            str(self.port),
            *self.extra_args,
        ]

    def start(self) -> None:
        self.project.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                self.command(),
                cwd=self.project,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            # The port the server really took is the one in its server.json (it moves on to the
            # next free port when the asked one is taken, e.g. grabbed since free_port()).
            self.port = self._wait_for_server_json(self.proc, timeout=30.0)
            wait_for_health(self.port, timeout=30.0, proc=self.proc)
        except ServerError as exc:
            raise ServerError(f"{exc}\n--- server output ---\n{self.log()}") from exc
        self.startup_seconds = time.monotonic() - t0

    def _wait_for_server_json(self, proc: subprocess.Popen[bytes], timeout: float) -> int:
        path = self.project / ".vizzly" / "server.json"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ServerError(f"server exited with code {proc.returncode} before listening")
            try:
                info = json.loads(path.read_text())
                if info.get("pid") == proc.pid:
                    return int(info["port"])
            except (OSError, ValueError, KeyError, TypeError):
                pass
            time.sleep(0.05)
        raise ServerError(f"{path} naming pid {proc.pid} did not appear within {timeout}s")

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            self.returncode = None if proc is None else proc.returncode
            return
        proc.send_signal(signal.SIGINT)
        try:
            self.returncode = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            self.returncode = proc.wait(timeout=10)


class UpstreamServer(TddServer):
    """The Vizzly CLI's daemon, as users run it: `vizzly tdd start --port N` / `vizzly tdd stop`."""

    kind = "vizzly-cli"

    def __init__(self, project: Path, home: Path, port: int | None = None) -> None:
        super().__init__(project, home, port)
        self.pid: int | None = None

    def _cli(self, *args: str, timeout: float) -> int:
        """Run `vizzly ARGS` in the project; its output goes to the log file.

        Output goes to a file, not a pipe: the daemon child `tdd start` spawns inherits the
        descriptors and would hold a pipe open for as long as it runs.
        """
        with self.log_path.open("ab") as log:
            return subprocess.run(
                ["node", str(CLI_BIN), *args],
                cwd=self.project,
                env=self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
                check=False,
            ).returncode

    def start(self) -> None:
        self.project.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        code = self._cli("tdd", "start", "--port", str(self.port), timeout=90)
        pid_file = self.project / ".vizzly" / "server.pid"
        if pid_file.exists():
            self.pid = int(pid_file.read_text().strip())
        if code != 0:
            raise ServerError(f"vizzly tdd start exited {code}:\n{self.log()}")
        wait_for_health(self.port, timeout=30.0)
        self.startup_seconds = time.monotonic() - t0

    def stop(self) -> None:
        pid_file = self.project / ".vizzly" / "server.pid"
        if self.pid is None and pid_file.exists():
            self.pid = int(pid_file.read_text().strip())
        if self.pid is None:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._cli("tdd", "stop", timeout=30)
        kill_pid(self.pid)
        self.pid = None


SERVER_KINDS: dict[str, type[TddServer]] = {"ours": OurServer, "upstream": UpstreamServer}


def run_sdk(
    plan: dict[str, Any],
    workdir: Path,
    env: dict[str, str],
    cwd: Path | None = None,
    timeout: float = 120.0,
    tag: str = "sdk",
) -> dict[str, Any]:
    """Run tests/interop/sdk_send.mjs with `plan`; return its result plus `stderr`."""
    workdir.mkdir(parents=True, exist_ok=True)
    plan_path = workdir / f"{tag}-plan.json"
    out_path = workdir / f"{tag}-out.json"
    plan_path.write_text(json.dumps(plan, indent=2))
    out_path.unlink(missing_ok=True)
    done = subprocess.run(
        ["node", str(SDK_SCRIPT), str(plan_path), str(out_path)],
        cwd=cwd or workdir,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    expected_code = int(plan.get("exit_code", 0))
    if done.returncode != expected_code or not out_path.exists():
        raise RuntimeError(
            f"SDK script exited {done.returncode}:\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        )
    result: dict[str, Any] = json.loads(out_path.read_text())
    result["stderr"] = done.stderr
    return result


def sdk_command(plan: dict[str, Any], workdir: Path, tag: str) -> tuple[list[str], Path]:
    """The command line that runs the SDK script for `plan` (for `run -- COMMAND`)."""
    workdir.mkdir(parents=True, exist_ok=True)
    plan_path = workdir / f"{tag}-plan.json"
    out_path = workdir / f"{tag}-out.json"
    plan_path.write_text(json.dumps(plan, indent=2))
    out_path.unlink(missing_ok=True)
    return ["node", str(SDK_SCRIPT), str(plan_path), str(out_path)], out_path


def unpack_current_images(scenario: str, dest: Path) -> Path:
    """Extract `project/.vizzly/current/*.png` of a fixture tarball into `dest`; return `dest`.

    These are the PNGs the SDK sent in that scenario's run (named by their signature file name).
    """
    archive = FIXTURES_DIR / f"{scenario}.tar.gz"
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if member.isfile() and parts[-2:-1] == ("current",) and parts[-1].endswith(".png"):
                source = tar.extractfile(member)
                assert source is not None
                (dest / parts[-1]).write_bytes(source.read())
    return dest


def captured(name: str) -> dict[str, Any]:
    """One captured `http/sdk-*-result.json` (what the SDK returned with the Vizzly CLI)."""
    result: dict[str, Any] = json.loads((HTTP_DIR / name).read_text())
    return result


def plan_from_capture(capture: dict[str, Any], images: Path) -> dict[str, Any]:
    """The screenshots a captured run sent, with the fixture PNG each one carried."""
    screenshots = []
    for entry in capture["results"]:
        image = images / Path(entry["sdk_return"]["current"]).name
        screenshots.append(
            {
                "name": entry["name"],
                "image": str(image),
                "send_as": entry["sent_as"],
                "options": entry["options"],
            }
        )
    return {"screenshots": screenshots}


def normalise_paths(value: Any, project: Path) -> Any:
    """Replace this machine's project folder by the captured one, recursively."""
    prefixes = sorted({str(project), str(project.resolve())}, key=len, reverse=True)
    if isinstance(value, str):
        for prefix in prefixes:
            if value == prefix or value.startswith(prefix + os.sep):
                return CAPTURED_PROJECT + value[len(prefix) :]
        return value
    if isinstance(value, list):
        return [normalise_paths(v, project) for v in value]
    if isinstance(value, dict):
        return {k: normalise_paths(v, project) for k, v in value.items()}
    return value
