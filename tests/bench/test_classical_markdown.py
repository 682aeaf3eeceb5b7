"""classical.md states the load the run saw, not a fixed claim about the cores."""

from __future__ import annotations

from tracklearn.bench.classical import _markdown


def test_classical_report_states_the_measured_load() -> None:
    row = {"dataset": "d", "method": "ckf", "events": 1, "hits/event": 10, "s/event": 1.0,
           "peak RSS MB": 1, "efficiency": 1.0, "fake_rate": 0.0, "duplicate_rate": 0.0,
           "trackml_score": 1.0}  # fmt: skip
    text = _markdown([row], [], [], (0.5, 1.5))
    assert "load average 0.5 before and 1.5 after the run" in text
    assert "shared with other jobs" not in text
