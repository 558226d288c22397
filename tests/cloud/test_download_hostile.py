"""A hostile or buggy cloud API, and a busy project around a download."""

from __future__ import annotations

import pytest

from tests.cloud.test_download import refused


@pytest.mark.parametrize(
    ("key", "value"), [("width", float("nan")), ("viewport_width", float("inf"))]
)
def test_nan_or_infinity_in_the_response_is_refused_as_not_json(project, cloud, key, value):
    # Python's json module would accept these non-standard literals; the database then
    # refused them as "malformed JSON", blaming the project's database.
    original = cloud.shot_json

    def shot_json(shot, build_id):
        return {**original(shot, build_id), key: value}

    cloud.shot_json = shot_json
    refused(project, cloud, "did not answer JSON")
