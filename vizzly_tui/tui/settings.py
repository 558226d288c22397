"""The user's settings for the app: $XDG_CONFIG_HOME/vizzly-tui/config.toml.

    theme = "textual-dark"
    default_filter = "needs-review"      # needs-review | failed | new | rejected | all
    [keys]
    accept = "a,enter"                   # binding id = comma-separated keys

A broken file never stops the app: each problem becomes a notice and the default is used.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from vizzly_tui.tui.data import FILTERS


@dataclass(frozen=True)
class Settings:
    keymap: dict[str, str] = field(default_factory=dict)
    theme: str | None = None
    default_filter: str | None = None
    problems: tuple[str, ...] = ()
    path: Path | None = None


def config_path(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser() / ".config")
    return Path(base) / "vizzly-tui" / "config.toml"


def load_settings(path: Path | None = None) -> Settings:
    """Read the config file; a missing file is the defaults, a bad value a problem."""
    path = path or config_path()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return Settings(path=path)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return Settings(problems=(f"{path}: not read ({exc}); using defaults",), path=path)
    problems: list[str] = []
    keymap: dict[str, str] = {}
    keys = raw.get("keys", {})
    if not isinstance(keys, dict):
        problems.append(f'{path}: [keys] must be a table of binding id = "key,key"')
        keys = {}
    for binding_id, value in keys.items():
        if isinstance(value, list):
            value = ",".join(str(v) for v in value)
        # "a, ,b" is two keys; ",," none: a binding left with no key could not be used.
        keys = [k for k in value.replace(" ", "").split(",") if k] if isinstance(value, str) else []
        if not keys:
            problems.append(f'{path}: keys.{binding_id} must be a string like "a,enter"')
            continue
        keymap[str(binding_id)] = ",".join(keys)
    theme = raw.get("theme")
    if theme is not None and not isinstance(theme, str):
        problems.append(f"{path}: theme must be a string")
        theme = None
    default_filter = raw.get("default_filter")
    if default_filter is not None and default_filter not in FILTERS:
        problems.append(
            f"{path}: default_filter {default_filter!r} is not one of {', '.join(FILTERS)}"
        )
        default_filter = None
    unknown = sorted(set(raw) - {"keys", "theme", "default_filter"})
    if unknown:
        problems.append(f"{path}: unknown settings ignored: {', '.join(unknown)}")
    return Settings(keymap, theme, default_filter, tuple(problems), path)
