"""Settings come from flags, env, vizzly.toml, pyproject.toml, vizzly.config.js and defaults."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from vizzly_tui import config as config_module
from vizzly_tui import config_js
from vizzly_tui.config import (
    DEFAULTS,
    SETTING_NAMES,
    Config,
    ConfigError,
    Setting,
    format_config,
    load_config,
)

NODE = shutil.which("node")
needs_node = pytest.mark.skipif(NODE is None, reason="Node.js is not on PATH")

ESM_CONFIG = """\
export default {
  comparison: { threshold: 0.5, minClusterSize: 4 },
  server: { port: 5001 },
  signatureProperties: ['theme', 'device'],
  build: { environment: 'test' },
};
"""
CJS_CONFIG = """\
module.exports = { comparison: { threshold: 1.5 }, server: { port: 5002 } };
"""


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# --- defaults and each source on its own ----------------------------------------------------


def test_defaults_without_a_project():
    config = load_config(None, env={})
    assert (config.threshold, config.min_cluster_size, config.port) == (2.0, 2, 47392)
    assert config.signature_properties == ()
    assert config.max_body_bytes == 64 * 1024 * 1024
    assert config.max_pixels == 50_000_000
    assert dict(config.sources) == {name: "default" for name in SETTING_NAMES}
    assert config.notices == ()


def test_defaults_in_an_empty_project(tmp_path):
    config = load_config(tmp_path, env={})
    assert [s.value for s in config.settings()] == [
        v if not isinstance(v, tuple) else () for v in DEFAULTS.values()
    ]
    assert config.notices == ()


def test_flags():
    flags = {
        "threshold": 0.75,
        "min_cluster_size": 3,
        "port": 8080,
        "signature_properties": ["theme"],
        "max_body_bytes": 1024,
        "max_pixels": 1000,
    }
    config = load_config(None, flags=flags, env={})
    assert config.threshold == 0.75
    assert config.min_cluster_size == 3
    assert config.port == 8080
    assert config.signature_properties == ("theme",)
    assert (config.max_body_bytes, config.max_pixels) == (1024, 1000)
    assert config.sources["min_cluster_size"] == "flag --min-cluster-size"
    assert config.sources["threshold"] == "flag --threshold"


def test_flags_as_text_none_and_dashed_keys():
    flags = {"threshold": "1.5", "port": None, "signature-properties": "theme, device"}
    config = load_config(None, flags=flags, env={})
    assert config.threshold == 1.5
    assert config.sources["port"] == "default"
    assert config.signature_properties == ("theme", "device")
    assert config.sources["signature_properties"] == "flag --signature-properties"


def test_an_unknown_flag_is_a_programming_error():
    with pytest.raises(TypeError, match="json"):
        load_config(None, flags={"json": True}, env={})


def test_env():
    env = {
        "VIZZLY_THRESHOLD": "0.25",
        "VIZZLY_MIN_CLUSTER_SIZE": "5",
        "VIZZLY_PORT": "6000",
        "VIZZLY_SIGNATURE_PROPERTIES": "theme, device,,",
        "VIZZLY_MAX_BODY_BYTES": "2048",
        "VIZZLY_MAX_PIXELS": "4096",
    }
    config = load_config(None, env=env)
    assert config.threshold == 0.25
    assert config.min_cluster_size == 5
    assert config.port == 6000
    assert config.signature_properties == ("theme", "device")
    assert (config.max_body_bytes, config.max_pixels) == (2048, 4096)
    assert config.sources["port"] == "env VIZZLY_PORT"


def test_empty_env_variables_count_as_unset():
    config = load_config(None, env={"VIZZLY_PORT": "", "VIZZLY_THRESHOLD": "  "})
    assert config.sources["port"] == config.sources["threshold"] == "default"


def test_env_none_means_os_environ(monkeypatch):
    monkeypatch.setenv("VIZZLY_PORT", "7001")
    assert load_config(None).port == 7001


def test_vizzly_toml_flat_snake_case(tmp_path):
    write(
        tmp_path,
        "vizzly.toml",
        'threshold = 1.0\nmin_cluster_size = 3\nport = 7000\nsignature_properties = ["a"]\n'
        "max_body_bytes = 100\nmax_pixels = 200\n",
    )
    config = load_config(tmp_path, env={})
    assert (config.threshold, config.min_cluster_size, config.port) == (1.0, 3, 7000)
    assert config.signature_properties == ("a",)
    assert (config.max_body_bytes, config.max_pixels) == (100, 200)
    assert set(config.sources.values()) == {"vizzly.toml"}
    assert config.notices == ()


def test_vizzly_toml_camel_case_and_vizzly_table(tmp_path):
    write(
        tmp_path,
        "vizzly.toml",
        '[vizzly]\nminClusterSize = 6\nsignatureProperties = ["theme"]\nmaxBodyBytes = 10\n'
        "maxPixels = 20\nthreshold = 3\n",
    )
    config = load_config(tmp_path, env={})
    assert config.min_cluster_size == 6
    assert config.signature_properties == ("theme",)
    assert (config.max_body_bytes, config.max_pixels) == (10, 20)
    assert config.threshold == 3.0 and isinstance(config.threshold, float)


def test_vizzly_toml_nested_vizzly_shape(tmp_path):
    write(
        tmp_path,
        "vizzly.toml",
        "[comparison]\nthreshold = 0.5\nminClusterSize = 7\n[server]\nport = 7100\n",
    )
    config = load_config(tmp_path, env={})
    assert (config.threshold, config.min_cluster_size, config.port) == (0.5, 7, 7100)
    assert config.sources["port"] == "vizzly.toml"


def test_vizzly_toml_nested_under_vizzly_table(tmp_path):
    write(tmp_path, "vizzly.toml", "[vizzly.comparison]\nmin_cluster_size = 8\n")
    assert load_config(tmp_path, env={}).min_cluster_size == 8


def test_unknown_toml_keys_are_reported_not_fatal(tmp_path):
    write(tmp_path, "vizzly.toml", "treshold = 1\n[server]\ntimeout = 5\n")
    config = load_config(tmp_path, env={})
    assert config.threshold == 2.0
    assert "vizzly.toml: unknown key 'treshold' was ignored" in config.notices
    assert "vizzly.toml: unknown key 'server.timeout' was ignored" in config.notices


def test_one_setting_spelt_twice_in_a_file_is_an_error(tmp_path):
    write(tmp_path, "vizzly.toml", "min_cluster_size = 2\n[comparison]\nminClusterSize = 3\n")
    with pytest.raises(ConfigError, match=r"min_cluster_size is set twice in vizzly\.toml"):
        load_config(tmp_path, env={})


def test_pyproject_tool_vizzly(tmp_path):
    write(
        tmp_path,
        "pyproject.toml",
        '[project]\nname = "x"\n[tool.vizzly]\nthreshold = 1.75\nminClusterSize = 4\n'
        "[tool.vizzly.server]\nport = 7200\n",
    )
    config = load_config(tmp_path, env={})
    assert (config.threshold, config.min_cluster_size, config.port) == (1.75, 4, 7200)
    assert config.sources["port"] == "pyproject.toml [tool.vizzly]"


def test_pyproject_without_tool_vizzly_is_ignored(tmp_path):
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n[tool.ruff]\nline-length = 100\n')
    config = load_config(tmp_path, env={})
    assert config.sources["threshold"] == "default"
    assert config.notices == ()


# --- precedence ------------------------------------------------------------------------------


@needs_node
def test_precedence_across_all_sources(tmp_path):
    # A staircase: each source sets one setting more than the one above it, so each setting's
    # winner is a different source.
    write(
        tmp_path,
        "vizzly.config.js",
        "export default { comparison: { threshold: 5, minClusterSize: 5 },"
        " server: { port: 5005 }, signatureProperties: ['from-js'] };\n",
    )
    write(
        tmp_path,
        "pyproject.toml",
        "[tool.vizzly]\nthreshold = 4\nmin_cluster_size = 4\nport = 4004\n"
        'signature_properties = ["from-pyproject"]\nmax_body_bytes = 4444\n',
    )
    write(
        tmp_path,
        "vizzly.toml",
        "threshold = 3\nmin_cluster_size = 3\nport = 3003\nmax_body_bytes = 3333\n",
    )
    env = {"VIZZLY_THRESHOLD": "2.5", "VIZZLY_MIN_CLUSTER_SIZE": "7", "VIZZLY_MAX_PIXELS": "99"}
    config = load_config(tmp_path, flags={"threshold": 1.0}, env=env)
    assert config.threshold == 1.0
    assert config.min_cluster_size == 7
    assert config.port == 3003
    assert config.max_body_bytes == 3333
    assert config.max_pixels == 99
    assert config.signature_properties == ("from-pyproject",)
    assert dict(config.sources) == {
        "threshold": "flag --threshold",
        "min_cluster_size": "env VIZZLY_MIN_CLUSTER_SIZE",
        "port": "vizzly.toml",
        "signature_properties": "pyproject.toml [tool.vizzly]",
        "max_body_bytes": "vizzly.toml",
        "max_pixels": "env VIZZLY_MAX_PIXELS",
    }

    # Take the top layers away one by one and the next one down shows through.
    assert load_config(tmp_path, env=env).threshold == 2.5
    assert load_config(tmp_path, env={}).threshold == 3.0
    (tmp_path / "vizzly.toml").unlink()
    assert load_config(tmp_path, env={}).threshold == 4.0
    (tmp_path / "pyproject.toml").unlink()
    config = load_config(tmp_path, env={})
    assert (config.threshold, config.sources["threshold"]) == (5.0, "vizzly.config.js")
    assert config.signature_properties == ("from-js",)


# --- threshold 0 is a value, not "unset" -----------------------------------------------------


def _zero_layers(tmp_path: Path, top: str) -> tuple[dict, dict]:
    """Set threshold 0 in source `top` and 3 in every source below it."""
    order = ["flags", "env", "vizzly.toml", "pyproject", "js"]
    below = order[order.index(top) + 1 :]
    value = {name: ("0" if name == top else "3") for name in order}
    flags = {"threshold": 0.0} if top == "flags" else {}
    env = {"VIZZLY_THRESHOLD": value["env"]} if "env" in [top, *below] else {}
    if top == "vizzly.toml" or "vizzly.toml" in below:
        write(tmp_path, "vizzly.toml", f"[comparison]\nthreshold = {value['vizzly.toml']}\n")
    if top == "pyproject" or "pyproject" in below:
        write(tmp_path, "pyproject.toml", f"[tool.vizzly]\nthreshold = {value['pyproject']}\n")
    if NODE is not None:
        write(
            tmp_path,
            "vizzly.config.js",
            f"export default {{ comparison: {{ threshold: {value['js']} }} }};\n",
        )
    return flags, env


@pytest.mark.parametrize("top", ["flags", "env", "vizzly.toml", "pyproject", "js"])
def test_threshold_zero_stays_zero_from_every_source(tmp_path, top):
    if top == "js" and NODE is None:
        pytest.skip("Node.js is not on PATH")
    flags, env = _zero_layers(tmp_path, top)
    config = load_config(tmp_path, flags=flags, env=env)
    assert config.threshold == 0.0
    assert config.sources["threshold"] != "default"


def test_threshold_zero_as_flag_text():
    config = load_config(None, flags={"threshold": "0"}, env={"VIZZLY_THRESHOLD": "3"})
    assert config.threshold == 0.0
    assert config.sources["threshold"] == "flag --threshold"


# --- invalid values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("flags", "env", "expected"),
    [
        ({"threshold": -1}, {}, "threshold: -1 from flag --threshold is invalid"),
        ({"port": "http"}, {}, "port: http from flag --port is invalid"),
        ({"min_cluster_size": 0}, {}, "min_cluster_size: 0 from flag --min-cluster-size"),
        ({"signature_properties": [1]}, {}, "signature_properties: [1] from flag"),
        ({}, {"VIZZLY_THRESHOLD": "-1"}, "threshold: -1 from env VIZZLY_THRESHOLD is invalid"),
        ({}, {"VIZZLY_THRESHOLD": "abc"}, "threshold: abc from env VIZZLY_THRESHOLD"),
        ({}, {"VIZZLY_THRESHOLD": "nan"}, "threshold: nan from env VIZZLY_THRESHOLD"),
        ({}, {"VIZZLY_PORT": "65536"}, "port: 65536 from env VIZZLY_PORT"),
        ({}, {"VIZZLY_PORT": "80.5"}, "port: 80.5 from env VIZZLY_PORT"),
        ({}, {"VIZZLY_MIN_CLUSTER_SIZE": "0"}, "min_cluster_size: 0 from env"),
        ({}, {"VIZZLY_MAX_BODY_BYTES": "0"}, "max_body_bytes: 0 from env VIZZLY_MAX_BODY"),
        ({}, {"VIZZLY_MAX_PIXELS": "-5"}, "max_pixels: -5 from env VIZZLY_MAX_PIXELS"),
    ],
)
def test_invalid_flag_and_env_values(flags, env, expected):
    with pytest.raises(ConfigError) as caught:
        load_config(None, flags=flags, env=env)
    assert expected in str(caught.value)


def test_the_message_says_what_is_allowed():
    with pytest.raises(ConfigError) as caught:
        load_config(None, env={"VIZZLY_THRESHOLD": "-1"})
    assert str(caught.value) == (
        "threshold: -1 from env VIZZLY_THRESHOLD is invalid: must be a number >= 0"
    )


@pytest.mark.parametrize(
    ("file", "text", "expected"),
    [
        ("vizzly.toml", "threshold = -0.5", "threshold: -0.5 from vizzly.toml (threshold)"),
        ("vizzly.toml", 'threshold = "2"', 'threshold: "2" from vizzly.toml (threshold)'),
        ("vizzly.toml", "port = true", "port: true from vizzly.toml (port)"),
        ("vizzly.toml", "port = 8080.0", "port: 8080.0 from vizzly.toml (port)"),
        (
            "vizzly.toml",
            "[comparison]\nminClusterSize = 0",
            "min_cluster_size: 0 from vizzly.toml (comparison.minClusterSize)",
        ),
        ("vizzly.toml", 'signature_properties = "a"', 'signature_properties: "a" from vizzly'),
        ("vizzly.toml", 'signature_properties = [""]', 'signature_properties: [""] from'),
        ("vizzly.toml", "max_pixels = 0", "max_pixels: 0 from vizzly.toml"),
        (
            "pyproject.toml",
            "[tool.vizzly]\nport = 0",
            "port: 0 from pyproject.toml [tool.vizzly] (port)",
        ),
        (
            "pyproject.toml",
            "[tool.vizzly]\nmax_body_bytes = -1",
            "max_body_bytes: -1 from pyproject.toml [tool.vizzly]",
        ),
    ],
)
def test_invalid_toml_values(tmp_path, file, text, expected):
    write(tmp_path, file, text + "\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, env={})
    assert expected in str(caught.value)
    assert "is invalid: must be" in str(caught.value)


def test_an_overridden_invalid_value_is_still_an_error(tmp_path):
    write(tmp_path, "vizzly.toml", "port = 0\n")
    with pytest.raises(ConfigError, match=r"port: 0 from vizzly\.toml"):
        load_config(tmp_path, flags={"port": 8000}, env={})


@pytest.mark.parametrize("file", ["vizzly.toml", "pyproject.toml"])
def test_bad_toml_names_the_file_and_the_parser_message(tmp_path, file):
    path = write(tmp_path, file, "threshold = = 1\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, env={})
    message = str(caught.value)
    assert str(path) in message
    assert "is not valid TOML" in message
    assert "line 1" in message  # from tomllib


def test_tool_vizzly_must_be_a_table(tmp_path):
    write(tmp_path, "pyproject.toml", "[tool]\nvizzly = 3\n")
    with pytest.raises(ConfigError, match=r"\[tool\.vizzly\] must be a table"):
        load_config(tmp_path, env={})


@needs_node
def test_invalid_value_in_vizzly_config_js(tmp_path):
    write(tmp_path, "vizzly.config.js", "export default { comparison: { threshold: 'high' } };\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, env={})
    assert str(caught.value) == (
        'threshold: "high" from vizzly.config.js (comparison.threshold) is invalid: '
        "must be a number >= 0"
    )


# --- vizzly.config.js and the other Vizzly CLI config files ----------------------------------


@needs_node
def test_vizzly_config_js_esm_export_default(tmp_path):
    write(tmp_path, "vizzly.config.js", ESM_CONFIG)
    config = load_config(tmp_path, env={})
    assert (config.threshold, config.min_cluster_size, config.port) == (0.5, 4, 5001)
    assert config.signature_properties == ("theme", "device")
    assert config.sources["port"] == "vizzly.config.js"
    assert config.sources["max_pixels"] == "default"
    assert config.notices == ()


@needs_node
def test_vizzly_config_js_commonjs_module_exports(tmp_path):
    write(tmp_path, "vizzly.config.js", CJS_CONFIG)
    config = load_config(tmp_path, env={})
    assert (config.threshold, config.port) == (1.5, 5002)
    assert config.notices == ()


@needs_node
@pytest.mark.parametrize(("name", "text"), [("vizzly.config.mjs", ESM_CONFIG),
                                            ("vizzly.config.cjs", CJS_CONFIG)])  # fmt: skip
def test_mjs_and_cjs_names(tmp_path, name, text):
    write(tmp_path, name, text)
    config = load_config(tmp_path, env={})
    assert config.sources["port"] == name


@needs_node
def test_vizzly_config_js_flat_keys_are_not_vizzly_keys(tmp_path):
    # Upstream reads comparison.threshold only; a flat `threshold` there does nothing.
    write(tmp_path, "vizzly.config.js", "export default { threshold: 0.1, port: 1 };\n")
    config = load_config(tmp_path, env={})
    assert config.sources["threshold"] == config.sources["port"] == "default"


@needs_node
def test_what_the_config_file_prints_does_not_matter(tmp_path):
    write(
        tmp_path,
        "vizzly.config.js",
        "console.log('{\"config\": 1}'); process.stdout.write('noise');\n" + ESM_CONFIG,
    )
    assert load_config(tmp_path, env={}).port == 5001


@needs_node
def test_the_config_file_runs_in_the_project_root(tmp_path):
    write(tmp_path, "port.json", '{"port": 5123}\n')
    write(
        tmp_path,
        "vizzly.config.cjs",
        "const fs = require('fs');\n"
        "module.exports = { server: JSON.parse(fs.readFileSync('port.json', 'utf8')) };\n",
    )
    assert load_config(tmp_path, env={}).port == 5123


@needs_node
def test_syntax_error_gives_a_notice_not_a_crash(tmp_path):
    write(tmp_path, "vizzly.config.js", "export default {\n  comparison: { threshold: 1 }\n")
    config = load_config(tmp_path, env={})
    assert config.sources["threshold"] == "default"
    (notice,) = config.notices
    assert notice.startswith("vizzly.config.js was not read: SyntaxError: ")
    assert "(line " in notice


@needs_node
def test_commonjs_syntax_error_names_the_line(tmp_path):
    write(tmp_path, "vizzly.config.cjs", "\nmodule.exports = { a: 1,, };\n")
    (notice,) = load_config(tmp_path, env={}).notices
    assert notice == "vizzly.config.cjs was not read: SyntaxError: Unexpected token ',' (line 2)"


@needs_node
def test_a_throwing_config_gives_a_notice(tmp_path):
    write(tmp_path, "vizzly.config.mjs", "throw new Error('no token\\nsecond line');\n")
    (notice,) = load_config(tmp_path, env={}).notices
    assert notice == "vizzly.config.mjs was not read: Error: no token (line 1)"


@needs_node
def test_process_exit_in_the_config_gives_a_notice(tmp_path):
    write(tmp_path, "vizzly.config.mjs", "process.exit(3);\n")
    (notice,) = load_config(tmp_path, env={}).notices
    assert notice == "vizzly.config.mjs was not read: node exited with code 3 and no result"


@needs_node
def test_a_config_that_is_not_an_object_gives_a_notice(tmp_path):
    write(tmp_path, "vizzly.config.mjs", "export default () => ({});\n")
    (notice,) = load_config(tmp_path, env={}).notices
    assert notice == (
        "vizzly.config.mjs was not read: it exports function instead of a config object"
    )


@needs_node
def test_a_config_that_never_finishes_is_stopped(tmp_path, monkeypatch):
    monkeypatch.setattr(config_module, "NODE_TIMEOUT_S", 0.5)
    write(tmp_path, "vizzly.config.mjs", "while (true) {}\n")
    (notice,) = load_config(tmp_path, env={}).notices
    assert notice == "vizzly.config.mjs was not read: node did not finish in 0.5 s"


def test_without_node_on_path_a_notice(tmp_path):
    write(tmp_path, "vizzly.config.js", ESM_CONFIG)
    write(tmp_path, "vizzly.toml", "port = 7000\n")
    config = load_config(tmp_path, env={"PATH": str(tmp_path / "no-node-here")})
    assert config.port == 7000
    assert config.sources["threshold"] == "default"
    assert config.notices == ("vizzly.config.js was not read: Node.js is not on PATH",)


def test_without_node_when_which_finds_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(config_module.shutil, "which", lambda *args, **kwargs: None)
    write(tmp_path, "vizzly.config.js", ESM_CONFIG)
    config = load_config(tmp_path, env={})
    assert config.notices == ("vizzly.config.js was not read: Node.js is not on PATH",)


def test_node_none_never_runs_node(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("node was run")

    monkeypatch.setattr(config_js.subprocess, "run", fail)
    write(tmp_path, "vizzly.config.js", ESM_CONFIG)
    config = load_config(tmp_path, env={}, node=None)
    assert config.notices == ("vizzly.config.js was not read: running Node.js was turned off",)


def test_a_node_that_cannot_run_gives_a_notice(tmp_path):
    write(tmp_path, "vizzly.config.js", ESM_CONFIG)
    missing = str(tmp_path / "bin" / "node")
    (notice,) = load_config(tmp_path, env={}, node=missing).notices
    assert notice.startswith(f"vizzly.config.js was not read: could not run {missing}: ")


DEFINE_CONFIG_ESM = """\
import { defineConfig } from '@vizzly-testing/cli/config';
export default defineConfig({ comparison: { threshold: 0 }, server: { port: 5300 } });
"""
DEFINE_CONFIG_CJS = """\
const { defineConfig } = require('@vizzly-testing/cli/config');
module.exports = defineConfig({ comparison: { threshold: 0 }, server: { port: 5301 } });
"""
SHIM_NOTICE = (
    ": @vizzly-testing/cli is not installed; its defineConfig was replaced by one that "
    "returns the config unchanged"
)


@needs_node
@pytest.mark.parametrize(
    ("name", "text", "port"),
    [("vizzly.config.js", DEFINE_CONFIG_ESM, 5300), ("vizzly.config.cjs", DEFINE_CONFIG_CJS, 5301)],
)
def test_define_config_from_an_uninstalled_package_is_stood_in_for(tmp_path, name, text, port):
    write(tmp_path, name, text)
    config = load_config(tmp_path, env={})
    assert (config.threshold, config.port) == (0.0, port)
    assert config.notices == (name + SHIM_NOTICE,)


@needs_node
@pytest.mark.parametrize(("name", "text"), [("vizzly.config.js", DEFINE_CONFIG_ESM),
                                            ("vizzly.config.cjs", DEFINE_CONFIG_CJS)])  # fmt: skip
def test_an_installed_define_config_is_the_one_used(tmp_path, name, text):
    package = tmp_path / "node_modules" / "@vizzly-testing" / "cli"
    write(
        package,
        "package.json",
        json.dumps(
            {
                "name": "@vizzly-testing/cli",
                "exports": {"./config": {"import": "./config.mjs", "require": "./config.cjs"}},
            }
        ),
    )
    # A recognisable defineConfig: it adds minClusterSize, which the stand-in would not.
    body = "(c) => ({ ...c, comparison: { ...c.comparison, minClusterSize: 9 } })"
    write(package, "config.mjs", f"export const defineConfig = {body};\n")
    write(package, "config.cjs", f"exports.defineConfig = {body};\n")
    write(tmp_path, name, text)
    config = load_config(tmp_path, env={})
    assert config.min_cluster_size == 9
    assert config.notices == ()


@needs_node
def test_other_missing_imports_are_reported(tmp_path):
    write(tmp_path, "vizzly.config.mjs", "import 'not-a-real-package';\nexport default {};\n")
    (notice,) = load_config(tmp_path, env={}).notices
    assert notice.startswith("vizzly.config.mjs was not read: Error [ERR_MODULE_NOT_FOUND]: ")
    assert "not-a-real-package" in notice


@needs_node
def test_the_first_vizzly_file_found_is_the_only_one_read(tmp_path):
    # Upstream's cosmiconfig order puts .vizzlyrc.json before vizzly.config.js.
    write(tmp_path, "vizzly.config.js", ESM_CONFIG)
    write(tmp_path, ".vizzlyrc.json", '{"server": {"port": 5400}}')
    config = load_config(tmp_path, env={})
    assert config.port == 5400
    assert config.sources["port"] == ".vizzlyrc.json"
    assert config.sources["threshold"] == "default"


def test_package_json_vizzly_key(tmp_path):
    write(tmp_path, "package.json", '{"name": "app", "vizzly": {"comparison": {"threshold": 0}}}')
    config = load_config(tmp_path, env={}, node=None)
    assert (config.threshold, config.sources["threshold"]) == (0.0, 'package.json "vizzly"')


@needs_node
def test_a_package_json_without_vizzly_is_passed_over(tmp_path):
    write(tmp_path, "package.json", '{"name": "app", "type": "module"}')
    write(tmp_path, "vizzly.config.js", ESM_CONFIG)
    assert load_config(tmp_path, env={}).sources["port"] == "vizzly.config.js"


def test_unreadable_vizzly_files_give_notices(tmp_path):
    write(tmp_path, ".vizzlyrc.yaml", "server:\n  port: 1\n")
    (notice,) = load_config(tmp_path, env={}).notices
    assert notice == ".vizzlyrc.yaml was not read: YAML is not supported (use vizzly.toml)"
    (tmp_path / ".vizzlyrc.yaml").unlink()
    write(tmp_path, ".vizzlyrc.json", "{oops")
    (notice,) = load_config(tmp_path, env={}).notices
    assert notice.startswith(".vizzlyrc.json was not read: not valid JSON: ")


# --- the Config object and its output --------------------------------------------------------


def test_settings_to_dict_and_format(tmp_path):
    write(tmp_path, "vizzly.toml", 'signature_properties = ["theme", "device"]\n')
    write(tmp_path, "vizzly.config.js", ESM_CONFIG)
    config = load_config(tmp_path, flags={"port": 9000}, env={"PATH": str(tmp_path / "nothing")})
    assert config.settings()[2] == Setting("port", 9000, "flag --port")
    data = json.loads(json.dumps(config.to_dict()))
    assert data["settings"]["signature_properties"] == {
        "value": ["theme", "device"],
        "source": "vizzly.toml",
    }
    assert data["settings"]["threshold"] == {"value": 2.0, "source": "default"}
    assert list(data["settings"]) == list(SETTING_NAMES)
    assert data["notices"] == ["vizzly.config.js was not read: Node.js is not on PATH"]

    lines = format_config(config).splitlines()
    assert lines[0].split() == ["setting", "value", "source"]
    assert lines[1].split() == ["threshold", "2.0", "default"]
    assert lines[3].split() == ["port", "9000", "flag", "--port"]
    assert "theme, device" in lines[4] and lines[4].endswith("vizzly.toml")
    assert lines[-2:] == ["notices:", "  - vizzly.config.js was not read: Node.js is not on PATH"]


def test_format_without_notices_has_no_notice_section():
    text = format_config(load_config(None, env={}))
    assert "notices" not in text
    assert "(none)" in text  # empty signature_properties


def test_config_is_immutable_and_hashable():
    config = load_config(None, env={})
    with pytest.raises(AttributeError):
        config.port = 1  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.sources["port"] = "x"  # type: ignore[index]
    assert hash(config) == hash(load_config(None, env={}))
    built = Config(1.0, 2, 3, ["a"], 4, 5)  # type: ignore[arg-type]
    assert built.signature_properties == ("a",)
    assert built.settings()[0] == Setting("threshold", 1.0, "code")
