"""The hybrid builder and the builder registry on hand-made graphs with exact answers."""

from __future__ import annotations

import numpy as np
import pytest

from tracklearn.building import (
    ComponentsBuilder,
    HybridBuilder,
    WalkthroughBuilder,
    clean_component_mask,
    join_units,
    make_track_builder,
    track_builder_names,
)
from tracklearn.building.selection import n_layers_per_track
from tracklearn.edm import Graph, layer_key
from tracklearn.errors import DataError, UnknownNameError


def _graph(n: int, edges: list[tuple[int, int]]) -> Graph:
    return Graph(
        hit_index=np.arange(n, dtype=np.int64),
        x=np.zeros((n, 3), np.float32),
        edge_index=np.array(edges, dtype=np.int64).T.reshape(2, -1),
    )


def _tracks(tracks) -> list[list[int]]:  # type: ignore[no-untyped-def]
    return sorted(sorted(tracks.track(t).tolist()) for t in range(tracks.n_tracks))


# one particle over layers 1..4 with an overlap pair (hits 1 and 2) on layer 2:
# 0 → 1, 0 → 2, 1 → 2 (same layer), 1 → 3, 2 → 3, 3 → 4
OVERLAP_EDGES = [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3), (3, 4)]
OVERLAP_LAYERS = np.array([1, 2, 2, 3, 4])


def test_a_branching_overlap_component_stays_one_track() -> None:
    g = _graph(5, OVERLAP_EDGES)
    scores = np.array([0.95, 0.9, 0.9, 0.95, 0.9, 0.95])
    tracks = HybridBuilder(threshold=0.5, min_hits=3)(g, scores, 5, layer=OVERLAP_LAYERS)
    assert _tracks(tracks) == [[0, 1, 2, 3, 4]]
    # a one-successor walk keeps only one hit of the pair on the chain
    walk = WalkthroughBuilder(threshold=0.5, min_hits=1)(g, scores, 5)
    assert _tracks(walk) == [[0, 1, 3, 4], [2]]


def test_a_merged_pair_is_split_by_layer_and_score() -> None:
    # particle A: 0 → 1 → 2 → 3, particle B: 4 → 5 → 6 → 7 on layers 1..4, and a
    # wrong edge 1 → 6 above the threshold that merges them into one component
    edges = [(0, 1), (1, 2), (2, 3), (4, 5), (5, 6), (6, 7), (1, 6)]
    layers = np.array([1, 2, 3, 4, 1, 2, 3, 4])
    scores = np.array([0.99, 0.95, 0.98, 0.99, 0.97, 0.98, 0.92])
    g = _graph(8, edges)
    assert ComponentsBuilder(threshold=0.9, min_hits=3)(g, scores, 8).n_tracks == 1
    tracks = HybridBuilder(threshold=0.9, min_hits=3)(g, scores, 8, layer=layers)
    assert _tracks(tracks) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    # the score decides: if the wrong edge beats 1 → 2 and 5 → 6, it is followed
    wrong_first = scores.copy()
    wrong_first[6] = 0.999
    swapped = HybridBuilder(threshold=0.9, min_hits=2)(g, wrong_first, 8, layer=layers)
    assert _tracks(swapped) == [[0, 1, 6, 7], [2, 3], [4, 5]]


def test_split_tracks_are_joined_below_the_threshold_but_never_on_a_used_layer() -> None:
    # 0 → 1 → 2 | 3 → 4 on layers 1..5, the middle edge 2 → 3 scores only 0.6
    g = _graph(5, [(0, 1), (1, 2), (2, 3), (3, 4)])
    scores = np.array([0.99, 0.99, 0.6, 0.99])
    layers = np.array([1, 2, 3, 4, 5])
    assert _tracks(HybridBuilder(0.9, 2)(g, scores, 5, layer=layers)) == [[0, 1, 2], [3, 4]]
    joined = HybridBuilder(0.9, 2, extend_threshold=0.5)(g, scores, 5, layer=layers)
    assert _tracks(joined) == [[0, 1, 2, 3, 4]]
    # hit 4 on layer 2 again: the piece 3-4 would take a layer twice and stays apart
    clash = HybridBuilder(0.9, 2, extend_threshold=0.5)(
        g, scores, 5, layer=np.array([1, 2, 3, 4, 2])
    )
    assert _tracks(clash) == [[0, 1, 2], [3, 4]]
    # below the threshold only a chain already spanning 3 layers may grow: 0-1-2 does
    grow = HybridBuilder(0.9, 2, extend_threshold=0.5, extend_min_layers=3)
    assert _tracks(grow(g, scores, 5, layer=layers)) == [[0, 1, 2, 3, 4]]
    short = HybridBuilder(0.9, 2, extend_threshold=0.5, extend_min_layers=4)
    assert _tracks(short(g, scores, 5, layer=layers)) == [[0, 1, 2], [3, 4]]


def test_chains_grow_only_at_their_ends() -> None:
    # units {0}, {1}, {2}, {3} on layers 1..4: 0 → 1 → 2 are joined first; 3 → 1
    # enters the middle of that chain (its first unit is 0) and is refused, although
    # the layers would allow it
    unit = np.array([0, 1, 2, 3])
    ei = np.array([[0, 1, 3], [1, 2, 1]])
    labels = join_units(unit, ei, np.array([0.9, 0.8, 0.7]), np.array([1, 2, 3, 4]), 0.5, 0.5)
    assert labels[0] == labels[1] == labels[2] != labels[3]


def test_clean_components_and_hybrid_input_checks() -> None:
    # two clusters on layer 5 make component 1 unclean; one cluster per layer is clean
    comp = np.array([0, 0, 0, 1, 1, 1])
    clus = np.array([0, 1, 1, 2, 3, 4])
    lay = np.array([4, 5, 5, 4, 5, 5])
    assert clean_component_mask(comp, clus, lay).tolist() == [True] * 3 + [False] * 3
    g = _graph(5, OVERLAP_EDGES)
    with pytest.raises(DataError, match="layers"):
        HybridBuilder()(g, np.full(6, 0.9), 5)
    with pytest.raises(DataError, match="layers of the 5 hits"):
        HybridBuilder()(g, np.full(6, 0.9), 5, layer=OVERLAP_LAYERS[:4])
    empty = _graph(2, [])
    assert HybridBuilder()(empty, np.zeros(0), 2, layer=np.zeros(2, np.int64)).n_tracks == 0


def test_registry_builds_by_name_and_lists_valid_names() -> None:
    assert {"components", "walkthrough", "hybrid"} <= set(track_builder_names())
    b = make_track_builder("hybrid", threshold=0.7, min_hits=4, extend_threshold=0.6)
    assert b == HybridBuilder(threshold=0.7, min_hits=4, extend_threshold=0.6)
    with pytest.raises(UnknownNameError, match="valid: components, hybrid, walkthrough"):
        make_track_builder("hybird", threshold=0.5, min_hits=3)


def test_layers_per_track_counts_overlaps_once() -> None:
    g = _graph(5, OVERLAP_EDGES)
    tracks = ComponentsBuilder(0.5, 1)(g, np.full(6, 0.9), 5)
    codes = layer_key([8, 8, 8, 8, 13], [2, 4, 4, 6, 2])
    assert n_layers_per_track(tracks, codes).tolist() == [4]
    with pytest.raises(DataError, match="shape"):
        n_layers_per_track(tracks, codes[:3])
