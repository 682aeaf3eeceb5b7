"""Golden cases for the edge metrics (hand-computed)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.graph._graph_events import hit_event

from tracklearn.edm import Event
from tracklearn.metrics.edges import edge_metrics, label_metrics, target_segments

NAN = float("nan")
VOLS = [8, 8, 8, 8, 13]
LAYS = [2, 4, 6, 8, 2]


def _event(noise_only: bool = False) -> Event:
    # rows 0-4: particle 1 (target, pT 10); rows 5-9: particle 2 (pT 0.5); row 10: noise
    r = [30, 70, 110, 170, 260, 32, 72, 112, 172, 262, 50]
    phi = [0.0] * 5 + [1.0] * 5 + [2.0]
    pid = [1] * 5 + [2] * 5 + [0]
    if noise_only:
        pid = [0] * 11
    return hit_event(r, phi, [0.0] * 11, VOLS * 2 + [8], LAYS * 2 + [4], pid, pt={2: 0.5})


SEG1 = [[0, 1, 2, 3], [1, 2, 3, 4]]
SEG2 = [[5, 6, 7, 8], [6, 7, 8, 9]]
FAKES = [[0, 0], [10, 6]]


def _cat(*parts: list[list[int]]) -> np.ndarray:
    return np.concatenate([np.array(p, dtype=np.int64).reshape(2, -1) for p in parts], axis=1)


# name: (edges, efficiency, purity, n_edges)
CASES = {
    "empty graph": (_cat([[], []]), 0.0, NAN, 0),
    "perfect": (_cat(SEG1), 1.0, 1.0, 4),
    "reversed edge still joins the pair": (_cat([[1, 1, 2, 3], [0, 2, 3, 4]]), 1.0, 1.0, 4),
    "non-target segments and fakes": (_cat(SEG1, SEG2, FAKES), 1.0, 0.8, 10),
    "half the segments plus a skip edge": (_cat([[0, 1, 0], [1, 2, 2]]), 0.5, 1.0, 3),
    "only fakes": (_cat(FAKES), 0.0, 0.0, 2),
}


@pytest.mark.parametrize("name", list(CASES))
def test_edge_metrics_golden(name: str) -> None:
    edges, eff, pur, n = CASES[name]
    m = edge_metrics(_event(), edges)
    assert m.n_target_segments == 4 and m.n_edges == n
    np.testing.assert_equal(m.edge_efficiency, eff)
    np.testing.assert_equal(m.edge_purity, pur)
    assert math.isnan(m.roc_auc)


def test_target_segments_are_those_of_target_particles() -> None:
    assert target_segments(_event()).tolist() == SEG1
    assert target_segments(_event(noise_only=True)).shape == (2, 0)


def test_all_noise_event_has_nan_efficiency() -> None:
    m = edge_metrics(_event(noise_only=True), _cat(SEG1))
    assert math.isnan(m.edge_efficiency) and m.edge_purity == 0.0


def test_scored_edges() -> None:
    edges = _cat(SEG1, FAKES)
    scores = np.array([0.9, 0.8, 0.3, 0.7, 0.6, 0.1])
    m = edge_metrics(_event(), edges, scores, threshold=0.5)
    # positives {.9, .8, .3, .7} vs negatives {.6, .1}: 7 of 8 pairs ordered
    assert m.roc_auc == pytest.approx(0.875)
    assert m.edge_efficiency_at_threshold == 0.75 and m.edge_purity_at_threshold == 0.75
    assert m.edge_efficiency == 1.0 and m.edge_purity == pytest.approx(4 / 6)
    lm = label_metrics([1, 1, 1, 1, 0, 0], scores, threshold=0.5)
    assert lm["edge_efficiency"] == 0.75 and lm["edge_purity"] == 0.75
    assert lm["roc_auc"] == pytest.approx(0.875) and lm["n_edges"] == 6
    with pytest.raises(ValueError, match="scores"):
        edge_metrics(_event(), edges, scores[:2])
