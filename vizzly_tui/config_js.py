"""Reading the Vizzly CLI's own config: vizzly.config.js, .vizzlyrc, package.json "vizzly".

Its one job is to find the project's Vizzly CLI config where the Vizzly CLI looks for it
and return the object it holds: JSON files are parsed here, JavaScript ones are evaluated
with Node.js when it is present. This is best effort: a config that cannot be read (no
node, YAML, a syntax error, a missing package) yields None and a notice, never an error.
Which keys of the object count as settings, and their validation, is vizzly_tui.config's.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Node:
    """How to run Node.js for a JS config, or why it cannot be run."""

    executable: str | None
    env: dict[str, str] | None  # None: inherit ours
    missing: str  # why there is no executable, for the notice
    timeout: float  # seconds before node is stopped


# The places the Vizzly CLI (cosmiconfig, module name "vizzly") looks, in its order: the first
# one present is the project's config and the rest are not read.
_VIZZLY_FILES = (
    "package.json", ".vizzlyrc", ".vizzlyrc.json", ".vizzlyrc.yaml", ".vizzlyrc.yml",
    ".vizzlyrc.js", ".vizzlyrc.ts", ".vizzlyrc.mjs", ".vizzlyrc.cjs",
    "vizzly.config.js", "vizzly.config.ts", "vizzly.config.mjs", "vizzly.config.cjs",
)  # fmt: skip


def read_vizzly_config(
    root: Path, node: Node, notices: list[str]
) -> tuple[dict[str, Any], str] | None:
    """The project's Vizzly CLI config and its label, or None (with a notice if unreadable).

    The object is returned as found: which of its keys count is for the caller to decide.
    """
    for name in _VIZZLY_FILES:
        path = root / name
        if not path.is_file():
            continue
        label = name
        if name.endswith((".yaml", ".yml")):
            notices.append(f"{name} was not read: YAML is not supported (use vizzly.toml)")
            return None
        if name in ("package.json", ".vizzlyrc", ".vizzlyrc.json"):
            try:
                data: Any = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                notices.append(f"{name} was not read: not valid JSON: {exc}")
                return None
            if name == "package.json":
                if not isinstance(data, dict) or "vizzly" not in data:
                    continue  # a package.json without "vizzly" is not a config, as upstream
                data, label = data["vizzly"], 'package.json "vizzly"'
        else:
            data = _evaluate_js(path, node, notices)
            if data is None:
                return None
        if not isinstance(data, dict):
            notices.append(f"{label} was not read: it is not an object")
            return None
        return data, label
    return None


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


def _evaluate_js(path: Path, node: Node, notices: list[str]) -> object | None:
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
            timeout=node.timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        notices.append(f"{path.name} was not read: node did not finish in {node.timeout:g} s")
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
