"""What the app says after a decision, including what it had to leave alone."""

from __future__ import annotations

from vizzly_tui.review import ActionResult
from vizzly_tui.tui.decide import result_text


def test_a_partial_undo_names_what_it_left_alone_and_why():
    result = ActionResult("undo", "b1")
    result.items.append({"name": "two", "signature": "two|1280|chrome", "undid": "accept"})
    result.skipped.append(
        {"name": "three", "reason": "three was captured again after this accept; review it"}
    )
    text = result_text("undo", result)
    assert text.startswith("Undid (accept) two")
    assert "Left alone, 1: three" in text and "captured again" in text


def test_a_complete_decision_says_nothing_was_left():
    result = ActionResult("accept", "b2")
    result.items.append({"name": "home", "statusBefore": "failed", "statusAfter": "passed"})
    text = result_text("accept", result)
    assert "Left alone" not in text and "failed → passed" in text
