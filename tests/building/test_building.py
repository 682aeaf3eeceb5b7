"""Track building on hand-made graphs with exact answers."""

from __future__ import annotations

import numpy as np

from tracklearn.building import (
    ComponentsBuilder,
    WalkthroughBuilder,
    connected_component_labels,
    walkthrough_edges,
)
from tracklearn.edm import Graph


def _graph(n: int, edges: list[tuple[int, int]], hit_index: list[int] | None = None) -> Graph:
    hi = np.arange(n) if hit_index is None else np.array(hit_index)
    return Graph(
        hit_index=hi.astype(np.int64),
        x=np.zeros((n, 3), np.float32),
        edge_index=np.array(edges, dtype=np.int64).T.reshape(2, -1),
    )


def test_connected_components_on_a_known_graph() -> None:
    # two chains 0-1-2-3 and 4-5-6, a stray edge 3-4 below threshold, node 7 isolated
    g = _graph(8, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6)])
    scores = np.array([0.9, 0.8, 0.7, 0.1, 0.95, 0.6])
    labels = connected_component_labels(8, g.edge_index, scores >= 0.5)
    assert labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 2]
    tracks = ComponentsBuilder(threshold=0.5, min_hits=3)(g, scores, n_hits=8)
    assert [tracks.track(t).tolist() for t in range(tracks.n_tracks)] == [[0, 1, 2, 3], [4, 5, 6]]
    # with the stray edge kept, the two tracks merge
    merged = ComponentsBuilder(threshold=0.05, min_hits=3)(g, scores, n_hits=8)
    assert merged.n_tracks == 1 and merged.track(0).tolist() == list(range(7))


def test_components_map_nodes_to_event_hits() -> None:
    g = _graph(3, [(0, 1), (1, 2)], hit_index=[10, 4, 7])
    tracks = ComponentsBuilder(min_hits=2)(g, np.array([0.9, 0.9]), n_hits=12)
    assert tracks.n_hits == 12 and sorted(tracks.track(0).tolist()) == [4, 7, 10]


def test_walkthrough_resolves_branches_by_score() -> None:
    # 0 → 1 → 2 → 3 is the true track; 1 branches to 5 (lower score), 4 merges into 2
    # (lower score than 1 → 2), 5 → 6 continues the wrong branch.
    edges = [(0, 1), (1, 2), (2, 3), (1, 5), (4, 2), (5, 6)]
    scores = np.array([0.9, 0.8, 0.9, 0.6, 0.7, 0.9])
    g = _graph(7, edges)
    follow = walkthrough_edges(7, g.edge_index, scores, threshold=0.5)
    assert follow.tolist() == [True, True, True, False, False, True]
    tracks = WalkthroughBuilder(threshold=0.5, min_hits=2)(g, scores, n_hits=7)
    assert [tracks.track(t).tolist() for t in range(tracks.n_tracks)] == [[0, 1, 2, 3], [5, 6]]
    # connected components would merge everything into one track
    assert ComponentsBuilder(threshold=0.5, min_hits=2)(g, scores, n_hits=7).n_tracks == 1


def test_walkthrough_ties_and_thresholds() -> None:
    g = _graph(3, [(0, 1), (0, 2)])
    # equal scores: the lower edge index wins; below threshold nothing is followed
    assert walkthrough_edges(3, g.edge_index, np.array([0.7, 0.7]), 0.5).tolist() == [True, False]
    assert walkthrough_edges(3, g.edge_index, np.array([0.4, 0.3]), 0.5).tolist() == [False, False]
    empty = _graph(2, [])
    assert WalkthroughBuilder()(empty, np.zeros(0), n_hits=2).n_tracks == 0


def test_walkthrough_retries_the_next_best_edge_after_losing() -> None:
    # 0 → 2 (0.9) beats 1 → 2 (0.8) at hit 2; hit 1 then takes its next best 1 → 3 (0.6)
    g = _graph(4, [(0, 2), (1, 2), (1, 3)])
    follow = walkthrough_edges(4, g.edge_index, np.array([0.9, 0.8, 0.6]), 0.5)
    assert follow.tolist() == [True, False, True]
    one_round = walkthrough_edges(4, g.edge_index, np.array([0.9, 0.8, 0.6]), 0.5, max_rounds=1)
    assert one_round.tolist() == [True, False, False]
