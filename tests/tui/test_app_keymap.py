"""A user's [keys] that cannot work as written: the app says so instead of dropping keys."""

from __future__ import annotations

from vizzly_tui.tui.settings import load_settings

from .apphelpers import loaded, make_app, prepare, screen_text, settle

SCENARIO = "scenario-b-second-run"


def test_a_binding_with_no_key_is_a_problem(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text('[keys]\naccept = ",, ,"\nreject = "x"\n')
    settings = load_settings(config)
    assert settings.keymap == {"reject": "x"}  # accept keeps its default key
    assert any("keys.accept" in p for p in settings.problems)


async def test_unknown_binding_ids_and_taken_keys_are_named(scenario_project, tmp_path):
    config = tmp_path / "config.toml"
    # "accpet" is a typo; "r" is reject's key, which would leave reject without a key.
    config.write_text('[keys]\naccpet = "y"\naccept = "r"\n')
    app = make_app(prepare(scenario_project(SCENARIO)), settings=load_settings(config))
    async with app.run_test(size=(160, 40), notifications=True) as pilot:
        await loaded(pilot)
        await settle(pilot, lambda: "accpet" in screen_text(app))
        await settle(pilot, lambda: "reject" in screen_text(app) and "lost" in screen_text(app))
