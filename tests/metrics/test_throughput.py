"""TrackML throughput-phase score."""

from __future__ import annotations

import math

import pytest

from tracklearn.metrics import throughput_score


def test_hand_values() -> None:
    # t = 600 s, A = 1: sqrt(ln 2) * 0.5 = 0.8325546 * 0.5
    assert throughput_score(600.0, 1.0) == pytest.approx(0.41627730557884884, rel=1e-12)
    # t = 6 s, A = 0.9: sqrt(ln 101) * 0.4 = 2.1482831 * 0.4
    assert throughput_score(6.0, 0.9) == pytest.approx(0.8593132622592308, rel=1e-12)
    assert throughput_score(1.0, 0.5) == 0.0


@pytest.mark.parametrize("t", [0.0, -1.0, math.nan, math.inf])
def test_rejects_bad_time(t: float) -> None:
    with pytest.raises(ValueError, match="seconds_per_event"):
        throughput_score(t, 0.9)
