"""The `reported` project (failed, new and passed comparisons) for every report test."""

from tests.report.test_report import reported  # noqa: F401 - a fixture, shared
