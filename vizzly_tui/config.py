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
Finding and evaluating the Vizzly CLI's config file is vizzly_tui.config_js's job.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from vizzly_tui.config_js import Node, read_vizzly_config

# How long node may take to evaluate a JS config; read by load_config on each call.
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


def _from_vizzly_config(root: Path, node: Node, notices: list[str]) -> _Layer:
    # Reading the file (and running node for it) is config_js's; unknown keys are normal
    # there (the Vizzly CLI has many settings we do not share), so they get no notice.
    found = read_vizzly_config(root, node, notices)
    if found is None:
        return {}
    data, label = found
    return _collect(data, label, _VIZZLY_KEYS, None)


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
        runner = Node(
            shutil.which("node", path=environ.get("PATH")) if node == "auto" else node,
            None if env is None else dict(env),
            "Node.js is not on PATH" if node == "auto" else "running Node.js was turned off",
            NODE_TIMEOUT_S,
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
