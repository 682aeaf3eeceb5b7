"""Aggregation of per-event metrics: counts summed, rates recomputed."""

from __future__ import annotations

import json

import pytest
from _events import abc_event, make_tracks

from tracklearn.metrics import DESIGN_KEYS, TrackingMetrics, aggregate, evaluate_event

#: the metrics.json keys exactly as DESIGN.md lists them
EXPECTED_KEYS = [
    "trackml_score",
    "efficiency",
    "fake_rate",
    "duplicate_rate",
    "n_particles_target",
    "n_tracks",
    "n_tracks_matched",
]


def two_events() -> tuple[TrackingMetrics, TrackingMetrics]:
    event = abc_event()
    # event 1 ("noise dilutes below majority"): score 0.7, 3 targets, 2 matched,
    # 3 tracks all >= 5 hits, 1 fake, 0 duplicates
    m1 = evaluate_event(
        event,
        make_tracks([[0, 1, 2, 3, 16, 17, 18, 19], [*range(6, 11)], [*range(11, 16)]], 20),
    )
    # event 2 ("shared hits give a duplicate"): score 0.9, 3 targets, 3 matched,
    # 4 tracks of which 2 have >= 5 hits, 0 fakes, 4 matched tracks, 1 duplicate
    m2 = evaluate_event(
        event,
        make_tracks([[0, 1, 2, 3], [2, 3, 4, 5], [*range(6, 11)], [*range(11, 16)]], 20),
    )
    return m1, m2


def test_aggregate_two_events_by_hand() -> None:
    m1, m2 = two_events()
    total = aggregate([m1, m2])
    assert total.n_events == 2
    assert total.trackml_score == pytest.approx((0.7 + 0.9) / 2)
    assert total.n_particles_target == 6
    assert total.n_particles_matched == 5
    assert total.efficiency == pytest.approx(5 / 6)
    assert total.n_tracks == 7
    assert total.n_tracks_min_hits == 5
    assert total.n_fake == 1
    assert total.fake_rate == pytest.approx(1 / 5)
    assert total.n_tracks_matched == 6
    assert total.n_duplicate == 1
    assert total.duplicate_rate == pytest.approx(1 / 6)


def test_aggregate_of_aggregates_keeps_the_event_mean() -> None:
    m1, m2 = two_events()
    nested = aggregate([aggregate([m1, m2]), m2])
    assert nested.trackml_score == pytest.approx((0.7 + 0.9 + 0.9) / 3)
    assert aggregate([]).n_events == 0


def test_to_dict_has_design_keys_first_and_is_json() -> None:
    m1, _ = two_events()
    d = m1.to_dict()
    assert list(d)[: len(EXPECTED_KEYS)] == EXPECTED_KEYS
    for key in ("n_particles_matched", "n_tracks_min_hits", "n_fake", "n_duplicate"):
        assert key in d
    assert json.loads(json.dumps(d)) == d


def test_design_keys_match_design_md() -> None:
    assert list(DESIGN_KEYS) == EXPECTED_KEYS
