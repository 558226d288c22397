"""Hostile input, continuously (issue 10): hypothesis drives a real `serve` with request
bodies, headers, PNG bytes and names, and the bootstrap with mutated legacy JSON.

Invariants after every case: no 5xx (the server's own faults are the only 500s, and none is
expected), `/health` answers, nothing is written outside `.vizzly/`, and the bootstrap never
raises and logs what it skipped. Fixed seed (derandomize); `--fuzz-cases N` or `--long`.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.conftest import unpack_scenario
from tests.reliability.helpers import ServeProcess, record, tree

REVIEW_ROUTES = (
    "/api/baseline/accept",
    "/api/baseline/reject",
    "/api/baseline/delete",
    "/api/baseline/accept-all",
    "/api/baseline/reset",
    "/accept-baseline",
    "/flush",
)
COUNTS: dict[str, int] = {}


def _settings(cases: int) -> settings:
    return settings(
        max_examples=cases,
        derandomize=True,  # a fixed seed: the same cases in every run, in CI and here
        deadline=None,
        database=None,  # no .hypothesis/ folder in the working tree
        suppress_health_check=list(HealthCheck),
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    server = ServeProcess(base / "proj", base / "home")
    outside = tree(base, skip="proj/.vizzly")
    yield server
    err = server.stop()
    assert "Traceback" not in err, err[-3000:]
    after = tree(base, skip="proj/.vizzly")
    # The home folder holds the server registry (servers.db), which serve keeps by design.
    changed = {k for k in set(outside) ^ set(after) if not k.startswith("home/")}
    assert not changed, f"written outside .vizzly/: {sorted(changed)}"


def _check(server: ServeProcess, target: str, status: int, answer: bytes) -> None:
    COUNTS[target] = COUNTS.get(target, 0) + 1
    assert status < 500, (target, status, answer[:300])
    assert server.healthy(), target


# --- strategies -----------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
odd_names = st.sampled_from(
    [
        "..",
        "../x",
        "/etc/passwd",
        "a/b",
        "a\\b",
        ".hidden",
        "\x00",
        " ",
        "x" * 256,
        "\U0001f600" * 130,
        "CON",
        "name\nwith newline",
        "%2e%2e",
        "\ud800",
    ]
)
names = st.one_of(st.text(max_size=60), odd_names, json_values)


def _png(mode: str, size: tuple[int, int] = (30, 20), **opts: object) -> bytes:
    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG", **opts)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _with_ihdr(data: bytes, width: int, height: int) -> bytes:
    ihdr = struct.pack(">II", width, height) + data[24:29]
    return data[:8] + _chunk(b"IHDR", ihdr) + data[33:]


def _apng(data: bytes) -> bytes:
    # An animation control chunk right after IHDR: decoders see an APNG.
    return data[:33] + _chunk(b"acTL", struct.pack(">II", 2, 0)) + data[33:]


BASE_PNGS = [
    _png("RGB"),
    _png("RGBA"),
    _png("L"),
    _png("LA"),
    _png("P"),
    _png("1"),
    _png("I;16"),
    _png("RGB", (1, 1)),
]


@st.composite
def png_bytes(draw: st.DrawFn) -> bytes:
    data = draw(st.sampled_from(BASE_PNGS))
    how = draw(st.sampled_from(["as is", "truncate", "flip", "bad crc", "huge", "apng", "zero"]))
    if how == "truncate":
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "flip":
        at = draw(st.integers(0, len(data) - 1))
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1 :]
    if how == "bad crc":
        return data[:29] + b"\0\0\0\0" + data[33:]
    if how == "huge":
        side = st.integers(0, 2**31 - 1) | st.sampled_from([0, 1, 65535, 100_000, 2**31 - 1])
        return _with_ihdr(data, draw(side), draw(side))
    if how == "apng":
        return _apng(data)
    if how == "zero":
        return b""
    return data


images = st.one_of(
    png_bytes().map(lambda b: base64.b64encode(b).decode()),
    st.text(max_size=40),
    json_values,
)
screenshot_bodies = st.fixed_dictionaries(
    {"name": names, "image": images},
    optional={
        "type": st.sampled_from(["base64", "file", "url", "", None, 7]),
        "properties": json_values,
        "threshold": json_values,
        "minClusterSize": json_values,
        "fullPage": json_values,
        "buildId": json_values,
    },
)
content_types = st.sampled_from(
    [
        "application/json",
        "text/plain",
        "application/octet-stream",
        "",
        "application/json; charset=latin-1",
        "multipart/form-data; boundary=x",
        "application/x-www-form-urlencoded",
    ]
)
header_names = st.sampled_from(
    [
        "X-Anything",
        "Accept",
        "Accept-Encoding",
        "Content-Encoding",
        "Transfer-Encoding-X",
        "Cookie",
        "Authorization",
        "Origin",
        "Referer",
        "X-Forwarded-For",
        "Expect-X",
    ]
)
header_values = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40
) | st.sampled_from(["gzip", "deflate", "br", "http://127.0.0.1", "null", "*"])
extra_headers = st.dictionaries(header_names, header_values, max_size=3)


# --- the server -------------------------------------------------------------------------------


def test_screenshot_bodies(served, fuzz_cases):
    @_settings(fuzz_cases)
    @given(body=screenshot_bodies)
    def case(body):
        status, answer = served.post_json("/screenshot", body)
        _check(served, "POST /screenshot JSON bodies", status, answer)

    case()


def test_png_bytes(served, fuzz_cases):
    @_settings(fuzz_cases)
    @given(data=png_bytes(), name=st.sampled_from(["png-a", "png-b"]))
    def case(data, name):
        body = {"name": name, "image": base64.b64encode(data).decode(), "type": "base64"}
        status, answer = served.post_json("/screenshot", body)
        _check(served, "PNG bytes", status, answer)

    case()


def test_raw_bodies_and_headers(served, fuzz_cases):
    @_settings(fuzz_cases)
    @given(
        path=st.sampled_from(("/screenshot", *REVIEW_ROUTES, "/api/baselines/download")),
        body=st.binary(max_size=300) | st.text(max_size=200).map(str.encode),
        content_type=content_types,
        headers=extra_headers,
    )
    def case(path, body, content_type, headers):
        all_headers = {**headers, "Content-Type": content_type}
        try:
            status, answer = served.request("POST", path, body, all_headers)
        except ConnectionError:
            status, answer = 400, b"connection closed"  # refusing to talk is not a fault
        _check(served, "raw bodies and headers", status, answer)

    case()


def test_review_route_bodies(served, fuzz_cases):
    @_settings(fuzz_cases)
    @given(
        path=st.sampled_from(REVIEW_ROUTES),
        body=st.one_of(
            json_values,
            st.fixed_dictionaries({"id": st.one_of(st.text(max_size=20), json_values)}),
            st.fixed_dictionaries({"ids": st.lists(st.text(max_size=20), max_size=3)}),
        ),
        origin=st.sampled_from([None, "http://127.0.0.1", "http://localhost:3000"]),
    )
    def case(path, body, origin):
        headers = {"Origin": origin} if origin else {}
        status, answer = served.post_json(path, body, **headers)
        _check(served, "review route bodies", status, answer)

    case()


def test_read_routes(served, fuzz_cases):
    segment = st.text(max_size=30).map(lambda s: s.encode("utf-8", "surrogatepass"))

    @_settings(fuzz_cases)
    @given(
        kind=st.sampled_from(
            [
                "/api/comparison/",
                "/images/current/",
                "/images/baselines/",
                "/images/",
                "/images/diffs/",
            ]
        ),
        raw=segment,
    )
    def case(kind, raw):
        from urllib.parse import quote_from_bytes

        path = kind + quote_from_bytes(raw, safe="/%.")
        status, answer = served.request("GET", path or "/")
        _check(served, "GET comparison and image paths", status, answer)

    case()


def test_zz_figures():
    """Not a check: hands the case counts to the README figures (VIZZLY_RELIABILITY_FIGURES)."""
    for target, cases in COUNTS.items():
        record(f"fuzz: {target}", cases=cases)


# --- the bootstrap ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def legacy_project(tmp_path_factory):
    return unpack_scenario("scenario-b-second-run", tmp_path_factory.mktemp("legacy"))


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for i, inner in enumerate(value[:5]):
            found += _paths(inner, (*prefix, i))
    return found


def _mutated(draw: st.DrawFn, text: str) -> str:
    how = draw(st.sampled_from(["truncate", "retype", "drop", "garbage", "bytes"]))
    if how == "truncate":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    if how == "bytes":
        at = draw(st.integers(0, max(0, len(text) - 1)))
        return text[:at] + draw(st.text(max_size=5)) + text[at + 1 :]
    data = json.loads(text)
    path = draw(st.sampled_from(_paths(data)))
    if not path:
        return json.dumps(draw(json_values))
    parent = data
    for key in path[:-1]:
        parent = parent[key]
    last = path[-1]
    if how == "retype":
        parent[last] = draw(json_values)
    elif how == "drop":
        del parent[last]
    elif isinstance(parent, dict):
        parent[draw(st.text(max_size=10))] = draw(json_values)
    else:
        parent.append(draw(json_values))
    return json.dumps(data)


def test_mutated_legacy_json(legacy_project, fuzz_cases):
    from vizzly_tui.project import Project
    from vizzly_tui.store.bootstrap import ensure_schema
    from vizzly_tui.store.store import open_store

    sources = sorted(p.relative_to(legacy_project) for p in legacy_project.rglob("*.json"))
    sources = [s for s in sources if s.parts[0] == ".vizzly"]

    @st.composite
    def mutation(draw: st.DrawFn) -> tuple[Path, str]:
        rel = draw(st.sampled_from(sources))
        return rel, _mutated(draw, (legacy_project / rel).read_text())

    # A third of the server's count: each case bootstraps a whole project (~0.2 s).
    @_settings(max(20, fuzz_cases // 3))
    @given(change=mutation())
    def case(change):
        rel, text = change
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp) / "project"
            shutil.copytree(legacy_project, root)
            (root / rel).write_text(text)
            before = tree(root, skip=".vizzly")
            report = ensure_schema(Project(root))  # must not raise
            assert report.created
            with open_store(Project(root), write=False) as store:
                assert store.exists
            assert tree(root, skip=".vizzly") == before
        COUNTS["mutated legacy JSON (bootstrap)"] = (
            COUNTS.get("mutated legacy JSON (bootstrap)", 0) + 1
        )

    case()
    record(
        "fuzz: mutated legacy JSON (bootstrap)",
        cases=COUNTS.get("mutated legacy JSON (bootstrap)", 0),
    )


def test_a_broken_compressed_body_is_one_warning_line_not_a_traceback(tmp_path):
    """Regression (found by this suite): a refused request whose deflate body is garbage made
    aiohttp log an "Unhandled exception" traceback while draining it."""
    server = ServeProcess(tmp_path / "proj", tmp_path / "home")
    try:
        for path, encoding in (
            ("/api/baseline/accept", "deflate"),
            ("/screenshot", "deflate"),
            ("/screenshot", "br"),
        ):
            status, _ = server.request(
                "POST",
                path,
                b"\x01\x02 not deflate at all",
                {
                    "Content-Encoding": encoding,
                    "Content-Type": "application/json",
                    "Origin": "http://evil.example" if path != "/screenshot" else "null",
                },
            )
            assert status in (400, 403)
            assert server.healthy()
        # Regression (found by the long run): a cut deflate stream left the request waiting
        # for the end of a body that had fully arrived, now and then; never unanswered now.
        for _ in range(5):
            status, answer = server.request(
                "POST",
                "/accept-baseline",
                b"R\xb1\xd5",
                {"Content-Encoding": "deflate", "Content-Type": "application/json"},
                timeout=15,
            )
            assert status == 400, answer
            assert server.healthy()
    finally:
        err = server.stop()
    assert "Traceback" not in err, err
    assert "could not be read" in err
