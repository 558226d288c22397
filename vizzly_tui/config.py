"""Settings and where each one came from.

Each setting is resolved on its own; the first of these sources that sets it wins:
command-line flags, environment variables, `vizzly.toml`, `[tool.vizzly]` in `pyproject.toml`,
the project's Vizzly CLI config (`vizzly.config.js` and the other names the Vizzly CLI looks
for), then the defaults.

Our own files (vizzly.toml, [tool.vizzly]) are strict: one that cannot be parsed raises
ConfigError. The Vizzly CLI's config is best effort, since reading it needs Node.js and may
depend on packages that are not installed: when it cannot be read we carry on and record a
notice. Every value that is read, from any source, is validated, even when a higher source
overrides it, so a broken file is reported rather than lurking until the override goes away.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import shutil
import subprocess
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

NODE_TIMEOUT_S = 10.0

DEFAULTS: Mapping[str, object] = MappingProxyType(
    {
        "threshold": 2.0,
        "min_cluster_size": 2,
        "port": 47392,
        "signature_properties": (),
        "max_body_bytes": 64 * 1024 * 1024,
        "max_pixels": 50_000_000,
    }
)
SETTING_NAMES: tuple[str, ...] = tuple(DEFAULTS)
ENV_VARS: Mapping[str, str] = MappingProxyType({n: f"VIZZLY_{n.upper()}" for n in SETTING_NAMES})


class ConfigError(ValueError):
    """A setting or config file that cannot be used; the message says which, why and where."""


@dataclass(frozen=True)
class Setting:
    name: str
    value: object
    source: str


@dataclass(frozen=True)
class Config:
    threshold: float
    min_cluster_size: int
    port: int
    signature_properties: tuple[str, ...]
    max_body_bytes: int
    max_pixels: int
    # Excluded from the hash because a mapping is unhashable; equality still compares it.
    sources: Mapping[str, str] = field(default_factory=dict, hash=False)
    notices: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "sources", MappingProxyType(dict(self.sources)))
        object.__setattr__(self, "signature_properties", tuple(self.signature_properties))
        object.__setattr__(self, "notices", tuple(self.notices))

    def settings(self) -> list[Setting]:
        """Every setting in a fixed order, with its source ("code" if built by hand)."""
        return [Setting(n, getattr(self, n), self.sources.get(n, "code")) for n in SETTING_NAMES]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable: {"settings": {name: {"value", "source"}}, "notices": [...]}."""
        settings = {
            s.name: {
                "value": list(s.value) if isinstance(s.value, tuple) else s.value,
                "source": s.source,
            }
            for s in self.settings()
        }
        return {"settings": settings, "notices": list(self.notices)}


# --- validation -----------------------------------------------------------------------------


class _Bad(Exception):
    """Why a value was rejected; load_config adds the setting, value and source."""


def _numeric(integer: bool, low: int, high: int | None = None) -> Callable[[object, bool], object]:
    kind = "an integer" if integer else "a number"
    rule = f"must be {kind} from {low} to {high}" if high else f"must be {kind} >= {low}"

    def coerce(value: object, text: bool) -> object:
        if text:
            try:
                value = (int if integer else float)(str(value))
            except ValueError:
                raise _Bad(rule) from None
        # bool is an int subclass, and TOML `port = true` must not read as 1.
        if isinstance(value, bool) or not isinstance(value, int if integer else int | float):
            raise _Bad(rule)
        if not (integer or math.isfinite(value)) or value < low or value > (high or math.inf):
            raise _Bad(rule)
        return value if integer else float(value)

    return coerce


def _names(value: object, text: bool) -> tuple[str, ...]:
    if text:
        value = [part.strip() for part in str(value).split(",") if part.strip()]
    ok = isinstance(value, list | tuple) and all(isinstance(p, str) and p.strip() for p in value)
    if not ok:
        raise _Bad("must be a list of non-empty strings")
    return tuple(value)  # type: ignore[arg-type]


_COERCE: dict[str, Callable[[object, bool], object]] = {
    "threshold": _numeric(False, 0),
    "min_cluster_size": _numeric(True, 1),
    "port": _numeric(True, 1, 65535),
    "signature_properties": _names,
    "max_body_bytes": _numeric(True, 1),
    "max_pixels": _numeric(True, 1),
}


def _show(value: object, text: bool) -> str:
    # Text (env, flag) is shown as typed; file values in JSON form, so that the string "2"
    # in a file does not look like the number 2 it was rejected for not being.
    if text and isinstance(value, str) and value and value.strip() == value:
        return value
    return repr(value) if text else json.dumps(value, default=repr)


def _accept(name: str, value: object, where: str, text: bool) -> object:
    try:
        return _COERCE[name](value, text)
    except _Bad as bad:
        raise ConfigError(f"{name}: {_show(value, text)} from {where} is invalid: {bad}") from None


# --- sources --------------------------------------------------------------------------------

# A layer maps setting name -> (validated value, source label).
_Layer = dict[str, tuple[object, str]]


def _camel(name: str) -> str:
    first, *rest = name.split("_")
    return first + "".join(part.title() for part in rest)


# The Vizzly CLI's own shape: the only keys upstream reads for these settings, so the only
# ones we take from its config (a flat `threshold` there is ignored upstream, and by us).
_VIZZLY_KEYS: dict[tuple[str, ...], str] = {
    ("comparison", "threshold"): "threshold",
    ("comparison", "minClusterSize"): "min_cluster_size",
    ("server", "port"): "port",
    ("signatureProperties",): "signature_properties",
}
# Our TOML files take the Vizzly shape as well as flat snake_case and camelCase names.
_TOML_KEYS: dict[tuple[str, ...], str] = {
    **_VIZZLY_KEYS,
    ("comparison", "min_cluster_size"): "min_cluster_size",
    **{(name,): name for name in SETTING_NAMES},
    **{(_camel(name),): name for name in SETTING_NAMES},
}
_NESTED_TABLES = ("comparison", "server")


def _collect(
    table: Mapping[str, Any],
    label: str,
    keys: Mapping[tuple[str, ...], str],
    notices: list[str] | None,
    wrapper: str | None = None,
) -> _Layer:
    """The settings in one file's table. `notices` is None where unknown keys are normal.

    `wrapper` names a table whose content counts as top level (`[vizzly]` in vizzly.toml).
    """
    layer: _Layer = {}
    seen: dict[str, str] = {}

    def visit(tbl: Mapping[str, Any], prefix: tuple[str, ...], base: tuple[str, ...]) -> None:
        for key, value in tbl.items():
            rel = (*prefix, key)
            dotted = ".".join((*base, *rel))
            name = keys.get(rel)
            if name is None and isinstance(value, dict) and not prefix:
                if key in _NESTED_TABLES:
                    visit(value, rel, base)
                    continue
                if key == wrapper and not base:
                    visit(value, (), (key,))
                    continue
            if name is None:
                if notices is not None:
                    notices.append(f"{label}: unknown key {dotted!r} was ignored")
                continue
            # Two spellings of one setting in one file: refuse to guess which was meant.
            if name in seen:
                raise ConfigError(f"{name} is set twice in {label}: {seen[name]} and {dotted}")
            seen[name] = dotted
            layer[name] = (_accept(name, value, f"{label} ({dotted})", text=False), label)

    visit(table, (), ())
    return layer


def _from_flags(flags: Mapping[str, object]) -> _Layer:
    layer: _Layer = {}
    for key, value in flags.items():
        name = key.replace("-", "_")
        if name not in _COERCE:
            raise TypeError(f"unknown setting in flags: {key!r}")
        if value is None:
            continue
        source = f"flag --{name.replace('_', '-')}"
        layer[name] = (_accept(name, value, source, text=isinstance(value, str)), source)
    return layer


def _from_env(environ: Mapping[str, str]) -> _Layer:
    layer: _Layer = {}
    for name, var in ENV_VARS.items():
        raw = environ.get(var)
        # An empty variable (`VIZZLY_PORT= cmd`) is the shell's way of leaving it unset.
        if raw is None or not raw.strip():
            continue
        source = f"env {var}"
        layer[name] = (_accept(name, raw, source, text=True), source)
    return layer


def _read_toml(path: Path) -> dict[str, Any] | None:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path} could not be read: {exc.strerror or exc}") from None


def _from_vizzly_toml(root: Path, notices: list[str]) -> _Layer:
    doc = _read_toml(root / "vizzly.toml")
    if doc is None:
        return {}
    return _collect(doc, "vizzly.toml", _TOML_KEYS, notices, wrapper="vizzly")


def _from_pyproject(root: Path, notices: list[str]) -> _Layer:
    doc = _read_toml(root / "pyproject.toml")
    tool = doc.get("tool") if doc else None
    table = tool.get("vizzly") if isinstance(tool, dict) else None
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise ConfigError(f"{root / 'pyproject.toml'}: [tool.vizzly] must be a table")
    return _collect(table, "pyproject.toml [tool.vizzly]", _TOML_KEYS, notices)


# The places the Vizzly CLI (cosmiconfig, module name "vizzly") looks, in its order: the first
# one present is the project's config and the rest are not read.
_VIZZLY_FILES = (
    "package.json", ".vizzlyrc", ".vizzlyrc.json", ".vizzlyrc.yaml", ".vizzlyrc.yml",
    ".vizzlyrc.js", ".vizzlyrc.ts", ".vizzlyrc.mjs", ".vizzlyrc.cjs",
    "vizzly.config.js", "vizzly.config.ts", "vizzly.config.mjs", "vizzly.config.cjs",
)  # fmt: skip


def _from_vizzly_config(root: Path, node: _Node, notices: list[str]) -> _Layer:
    for name in _VIZZLY_FILES:
        path = root / name
        if not path.is_file():
            continue
        label = name
        if name.endswith((".yaml", ".yml")):
            notices.append(f"{name} was not read: YAML is not supported (use vizzly.toml)")
            return {}
        if name in ("package.json", ".vizzlyrc", ".vizzlyrc.json"):
            try:
                data: Any = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                notices.append(f"{name} was not read: not valid JSON: {exc}")
                return {}
            if name == "package.json":
                if not isinstance(data, dict) or "vizzly" not in data:
                    continue  # a package.json without "vizzly" is not a config, as upstream
                data, label = data["vizzly"], 'package.json "vizzly"'
        else:
            data = _evaluate_js(path, node, notices)
            if data is None:
                return {}
        if not isinstance(data, dict):
            notices.append(f"{label} was not read: it is not an object")
            return {}
        return _collect(data, label, _VIZZLY_KEYS, None)
    return {}


# Runs in node: import the config file (ESM or CommonJS alike, through import()), take
# `default ?? module` as upstream does, and print it as JSON after a marker, so that anything
# the file itself prints cannot be mistaken for the result.
# `@vizzly-testing/cli` is often not installed in a project that uses vizzly-tui, and
# `defineConfig` from it only returns its argument; when (and only when) it cannot be found, a
# stand-in doing the same is supplied: for import through a resolve hook, for require() by
# wrapping Module._load.
_NODE_SCRIPT = r"""
import * as nodeModule from 'node:module';
import { pathToFileURL } from 'node:url';
const [file, mark] = process.argv.slice(1);
const wanted = /^@vizzly-testing\/cli(\/config)?$/;
const shim = 'globalThis.__vizzlyTuiShim = true;'
  + 'export const defineConfig = (c) => c; export default defineConfig;';
const hooks = `const shim = ${JSON.stringify('data:text/javascript,' + encodeURIComponent(shim))};
export async function resolve(specifier, context, next) {
  try { return await next(specifier, context); } catch (err) {
    if (${wanted}.test(specifier) && err?.code === 'ERR_MODULE_NOT_FOUND') {
      return { url: shim, shortCircuit: true };
    }
    throw err;
  }
}`;
try { nodeModule.register?.('data:text/javascript,' + encodeURIComponent(hooks)); } catch {}
const Module = nodeModule.default;
const load = Module._load;
Module._load = function (request, ...rest) {
  try { return load.call(this, request, ...rest); } catch (err) {
    if (wanted.test(request) && err?.code === 'MODULE_NOT_FOUND'
        && String(err.message).includes(`'${request}'`)) {
      globalThis.__vizzlyTuiShim = true;
      const defineConfig = (c) => c;
      return { defineConfig, default: defineConfig };
    }
    throw err;
  }
};
// Errors are left uncaught on purpose: only node's own report of them gives the line of a
// syntax error in an ES module.
const mod = await import(pathToFileURL(file).href);
let config = mod.default ?? { ...mod };
if (config && typeof config === 'object' && config.default) config = config.default;
const kind = Array.isArray(config) ? 'an array' : config === null ? 'null' : typeof config;
const out = kind === 'object'
  ? { config: JSON.parse(JSON.stringify(config)), shimmed: !!globalThis.__vizzlyTuiShim }
  : { error: `it exports ${kind} instead of a config object` };
process.stdout.write('\n' + mark + JSON.stringify(out) + '\n', () => process.exit(0));
"""


_LOCATION = re.compile(r"^(?:file://)?(?P<path>.+):(?P<line>\d+)$")
_ERROR_LINE = re.compile(r"^(?:[A-Z]\w*)?(?:Error|Exception)\b")


def _node_failure(proc: subprocess.CompletedProcess[str], file_name: str) -> str:
    """The first line of node's error report, with the line number when it is in the file."""
    lines = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
    why = next((line for line in lines if _ERROR_LINE.match(line)), None)
    if why is None:
        # No error report: the file ended the process itself, e.g. with process.exit().
        return lines[0] if lines else f"node exited with code {proc.returncode} and no result"
    where = _LOCATION.match(lines[0])
    if where and where["path"].rsplit("/", 1)[-1] == file_name:
        why += f" (line {where['line']})"
    return why


@dataclass(frozen=True)
class _Node:
    executable: str | None
    env: dict[str, str] | None  # None: inherit ours
    missing: str  # why there is no executable, for the notice


def _evaluate_js(path: Path, node: _Node, notices: list[str]) -> object | None:
    """The object a JS config exports, or None with a notice saying why it was not read."""
    if node.executable is None:
        notices.append(f"{path.name} was not read: {node.missing}")
        return None
    mark = f"@@vizzly-tui-config-{secrets.token_hex(8)}@@"
    command = [node.executable, "--no-warnings", "--input-type=module", "-e", _NODE_SCRIPT, "--"]
    try:
        proc = subprocess.run(
            [*command, str(path), mark],
            cwd=path.parent,
            env=node.env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=NODE_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired:
        notices.append(f"{path.name} was not read: node did not finish in {NODE_TIMEOUT_S:g} s")
        return None
    except OSError as exc:
        notices.append(
            f"{path.name} was not read: could not run {node.executable}: {exc.strerror or exc}"
        )
        return None
    _, found, tail = proc.stdout.rpartition(mark)
    if not found:
        notices.append(f"{path.name} was not read: {_node_failure(proc, path.name)}")
        return None
    result = json.loads(tail)
    if "error" in result:
        notices.append(f"{path.name} was not read: {result['error']}")
        return None
    if result.get("shimmed"):
        notices.append(
            f"{path.name}: @vizzly-testing/cli is not installed; its defineConfig was "
            "replaced by one that returns the config unchanged"
        )
    return result["config"]


# --- entry points ---------------------------------------------------------------------------


def load_config(
    project_root: Path | None,
    flags: Mapping[str, object] | None = None,
    env: Mapping[str, str] | None = None,
    *,
    node: str | Literal["auto"] | None = "auto",
) -> Config:
    """Resolve every setting. Raises ConfigError for any invalid value or unparseable TOML.

    `flags`: setting name (or its --flag-name) -> value from the command line; None values
    count as not given, text is parsed as env values are, a key that is no setting raises
    TypeError.
    `env`: None means os.environ; a mapping given here is also the environment node runs in.
    `project_root`: None reads no project file. `node`: "auto" looks for `node` on the PATH
    of `env`; None never runs node; a string is the node executable to run.
    """
    environ = os.environ if env is None else env
    notices: list[str] = []
    layers = [_from_flags(flags or {}), _from_env(environ)]
    if project_root is not None:
        root = Path(project_root).resolve()
        runner = _Node(
            shutil.which("node", path=environ.get("PATH")) if node == "auto" else node,
            None if env is None else dict(env),
            "Node.js is not on PATH" if node == "auto" else "running Node.js was turned off",
        )
        layers.append(_from_vizzly_toml(root, notices))
        layers.append(_from_pyproject(root, notices))
        layers.append(_from_vizzly_config(root, runner, notices))

    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    for name in SETTING_NAMES:
        values[name], sources[name] = next(
            (layer[name] for layer in layers if name in layer), (DEFAULTS[name], "default")
        )
    return Config(**values, sources=sources, notices=tuple(notices))  # type: ignore[arg-type]


def _display(value: object) -> str:
    if isinstance(value, tuple):
        return ", ".join(value) if value else "(none)"
    return str(value)


def format_config(config: Config) -> str:
    """A table of setting, value and source, followed by the notices, if any."""
    rows = [("setting", "value", "source")]
    rows += [(s.name, _display(s.value), s.source) for s in config.settings()]
    name_w = max(len(row[0]) for row in rows)
    value_w = max(len(row[1]) for row in rows)
    lines = [f"{a:<{name_w}}  {b:<{value_w}}  {c}".rstrip() for a, b, c in rows]
    if config.notices:
        lines += ["", "notices:", *(f"  - {notice}" for notice in config.notices)]
    return "\n".join(lines)
