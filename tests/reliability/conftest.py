"""The reliability suite's scale: a short CI version, and a long one with `--long`."""

from __future__ import annotations

import pytest

SHORT_KILLS, LONG_KILLS = 10, 200
SHORT_CASES, LONG_CASES = 300, 10_000


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/reliability/" in item.nodeid.replace("\\", "/"):
            item.add_marker(pytest.mark.reliability)


@pytest.fixture(scope="session")
def kills(pytestconfig: pytest.Config) -> int:
    chosen = pytestconfig.getoption("--kills")
    if chosen:
        return int(chosen)
    return LONG_KILLS if pytestconfig.getoption("--long") else SHORT_KILLS


@pytest.fixture(autouse=True)
def _kill_deadline(pytestconfig: pytest.Config):
    """`--kill-minutes M`: each crash scenario's kill loop (helpers.rounds) stops after M
    minutes from the scenario's start."""
    import time

    from tests.reliability import helpers

    minutes = pytestconfig.getoption("--kill-minutes")
    helpers.DEADLINE[0] = time.monotonic() + minutes * 60 if minutes else None
    yield
    helpers.DEADLINE[0] = None


@pytest.fixture(scope="session")
def fuzz_cases(pytestconfig: pytest.Config) -> int:
    chosen = pytestconfig.getoption("--fuzz-cases")
    if chosen:
        return int(chosen)
    return LONG_CASES if pytestconfig.getoption("--long") else SHORT_CASES


@pytest.fixture(scope="session")
def long_run(pytestconfig: pytest.Config) -> bool:
    """True with `--long`: crash scenarios whose size drives their time use the larger size."""
    return bool(pytestconfig.getoption("--long"))
