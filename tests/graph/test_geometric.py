"""IN-style geometric graphs and their features on hand-placed hits."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.graph._graph_events import hit_event

from tracklearn.edm import Event
from tracklearn.graph.features import edge_features, node_features, wrap_phi
from tracklearn.graph.geometric import (
    GeometricConfig,
    GeometricGraphBuilder,
    layer_numbers,
    layer_pairs,
    layers_of,
    window_pairs,
)

PI = math.pi
# name: (r, phi, z, volume, layer, particle)
HITS = {
    "a": (30.0, 0.0, 0.0, 8, 2, 1),
    "b": (70.0, 0.01, 0.0, 8, 4, 1),  # a→b slope 0.00025, z0 0
    "c": (70.0, 0.05, 0.0, 8, 4, 0),  # a→c slope 0.00125: cut
    "d": (70.0, -0.02, 100.0, 8, 4, 2),  # a→d slope 0.0005, z0 -75
    "e": (110.0, 0.02, 0.0, 8, 6, 1),  # b→e 0.00025; c→e, d→e cut
    "f": (30.0, PI - 0.005, 0.0, 8, 2, 3),  # f→g across phi = ±pi
    "g": (70.0, -PI + 0.005, 0.0, 8, 4, 3),
    "h": (71.0, 0.011, 0.0, 8, 4, 1),  # second hit of particle 1 on layer 1
    "s": (260.0, 0.0, 0.0, 13, 2, 1),  # strip barrel: outside the pixel sets
}
NAMES = list(HITS)


def _event() -> Event:
    cols = list(zip(*HITS.values(), strict=True))
    return hit_event(*cols[:6], pt={2: 0.5})  # type: ignore[arg-type]


def _named_edges(graph_edges: np.ndarray, hit_index: np.ndarray) -> set[str]:
    rows = hit_index[graph_edges]
    return {NAMES[i] + NAMES[j] for i, j in rows.T.tolist()}


def test_node_and_edge_features_use_the_in_paper_scaling() -> None:
    ev = _event()
    x = node_features(ev)
    assert x.dtype == np.float32 and x.shape == (len(HITS), 3)
    np.testing.assert_allclose(x[0], [0.030, 0.0, 0.0], atol=1e-7)
    np.testing.assert_allclose(x[3], [0.070, -0.02 / PI, 0.1], atol=1e-7)
    ea = edge_features(x, np.array([[0, 5], [1, 6]]))
    assert ea.dtype == np.float32 and ea.shape == (2, 4)
    # a→b: dr 0.04 m, dphi 0.01 rad, same eta → dR = 0.01
    np.testing.assert_allclose(ea[0], [0.04, 0.01 / PI, 0.0, 0.01], rtol=1e-5, atol=1e-7)
    # f→g wraps: dphi = +0.01 rad, not -2pi + 0.01
    np.testing.assert_allclose(ea[1], [0.04, 0.01 / PI, 0.0, 0.01], rtol=1e-4, atol=1e-6)


def test_edge_features_eta_difference() -> None:
    # two hits at the same phi: (r=100, z=0) → (r=100, z=100 sinh(1)): deta = 1
    x = np.array([[0.1, 0.0, 0.0], [0.1, 0.0, 0.1 * math.sinh(1.0)]], dtype=np.float32)
    ea = edge_features(x, np.array([[0], [1]]))
    np.testing.assert_allclose(ea[0, 3], 1.0, rtol=1e-6)


def test_wrap_phi_range() -> None:
    d = wrap_phi(np.array([0.0, PI + 0.1, -PI - 0.1, 2 * PI]))
    np.testing.assert_allclose(d, [0.0, -PI + 0.1, PI - 0.1, 0.0], atol=1e-12)


def test_layer_sets_match_the_in_graphs() -> None:
    assert layers_of("pixel")[4] == (7, 14) and layers_of("pixel")[11] == (9, 2)
    pairs = set(layer_pairs("pixel"))
    assert {(0, 1), (1, 2), (2, 3), (4, 5), (11, 12), (3, 4), (0, 11)} <= pairs
    assert (5, 4) not in pairs and (0, 2) not in pairs
    assert layer_numbers([8, 9, 13], [2, 14, 2], "pixel").tolist() == [0, 17, -1]
    # "all": every pair goes between known layers, none twice
    all_pairs = layer_pairs("all")
    assert len(all_pairs) == len(set(all_pairs))


def test_geometric_graph_exact_edges_and_labels() -> None:
    ev = _event()
    g = GeometricGraphBuilder(GeometricConfig(layer_set="pixel_barrel", z0_max=100.0))(ev)
    assert NAMES[int(g.hit_index[-1])] == "h" and "s" not in {NAMES[i] for i in g.hit_index}
    got = _named_edges(g.edge_index, g.hit_index)
    assert got == {"ab", "ad", "ah", "fg", "be", "he"}
    assert g.y is not None and g.edge_attr is not None and g.edge_attr.shape == (6, 4)
    labels = dict(zip(_named_edges_list(g), g.y.tolist(), strict=True))
    assert labels == {"ab": 1.0, "ad": 0.0, "ah": 1.0, "fg": 1.0, "be": 1.0, "he": 1.0}
    tight = GeometricGraphBuilder(GeometricConfig(layer_set="pixel_barrel", z0_max=50.0))(ev)
    assert _named_edges(tight.edge_index, tight.hit_index) == {"ab", "ah", "fg", "be", "he"}


def _named_edges_list(g: object) -> list[str]:
    rows = g.hit_index[g.edge_index]  # type: ignore[attr-defined]
    return [NAMES[i] + NAMES[j] for i, j in rows.T.tolist()]


def test_truth_filter_drops_noise_low_pt_and_duplicates() -> None:
    ev = _event()
    cfg = GeometricConfig(layer_set="pixel_barrel", z0_max=100.0, truth_pt_min=1.0)
    g = GeometricGraphBuilder(cfg)(ev)
    assert sorted(NAMES[i] for i in g.hit_index) == ["a", "b", "e", "f", "g"]
    assert _named_edges(g.edge_index, g.hit_index) == {"ab", "fg", "be"}
    assert g.y is not None and g.y.tolist() == [1.0, 1.0, 1.0]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_window_search_equals_brute_force_and_is_rotation_invariant(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    layer = rng.integers(0, 4, n)
    r = np.array([32.0, 72.0, 116.0, 172.0])[layer] + rng.uniform(-1, 1, n)
    phi = rng.uniform(-PI, PI, n)
    z = rng.uniform(-300, 300, n)
    builder = GeometricGraphBuilder(GeometricConfig(phi_slope_max=0.003, z0_max=200.0))
    got = {tuple(e) for e in builder.candidate_edges(r, phi, z, layer).T.tolist()}
    # brute force over all pairs of adjacent layers
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    i, j = i.ravel(), j.ravel()
    dr = r[j] - r[i]
    ok = layer[j] == layer[i] + 1
    with np.errstate(divide="ignore", invalid="ignore"):
        ok &= np.abs(wrap_phi(phi[j] - phi[i]) / dr) < 0.003
        ok &= np.abs(z[i] - r[i] * (z[j] - z[i]) / dr) < 200.0
    assert got == set(zip(i[ok].tolist(), j[ok].tolist(), strict=True))
    assert len(got) > 0
    rotated = wrap_phi(phi + 2.5)
    got_rot = {tuple(e) for e in builder.candidate_edges(r, rotated, z, layer).T.tolist()}
    assert got_rot == got


def test_window_pairs_wrap_and_full_circle() -> None:
    inner, outer = window_pairs(np.array([PI - 0.01]), np.array([-PI + 0.01, 0.0]), np.array([0.1]))
    assert inner.tolist() == [0] and outer.tolist() == [0]
    # a window wider than the circle lists every outer hit exactly once
    inner, outer = window_pairs(np.array([0.0]), np.array([-3.0, 0.0, 3.0]), np.array([10.0]))
    assert sorted(outer.tolist()) == [0, 1, 2]
