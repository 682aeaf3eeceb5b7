"""Road (pattern look-up) muon trigger on hand-placed strips."""

from __future__ import annotations

import numpy as np

from tracklearn.classical.muon_roads import RoadConfig, RoadTrigger


def _image() -> np.ndarray:
    return np.zeros((1, 6, 8, 384), bool)


def test_a_slanted_track_is_found_and_isolated_noise_is_not_marked() -> None:
    hits = _image()
    track = [(layer, 3, 100 + 2 * layer) for layer in range(6)]  # 2 strips per layer
    for layer, part, strip in track:
        hits[0, layer, part, strip] = True
    hits[0, 1, 3, 101] = True  # a cluster neighbour of the track: inside the road
    hits[0, 2, 3, 150] = True  # noise far from it
    hits[0, 4, 6, 20] = True
    pred = RoadTrigger()(hits)
    got = sorted(map(tuple, np.argwhere(pred[0]).tolist()))
    assert got == sorted([*track, (1, 3, 101)])


def test_too_few_layers_do_not_fire() -> None:
    hits = _image()
    for layer in (0, 2, 5):  # 3 layers < min_layers = 4
        hits[0, layer, 0, 50] = True
    assert not RoadTrigger()(hits).any()
    assert RoadTrigger(RoadConfig(min_layers=3))(hits).sum() == 3


def test_a_track_crossing_two_partitions_is_found_whole() -> None:
    hits = _image()
    for layer in range(6):
        hits[0, layer, 4 if layer < 3 else 5, 200] = True
    assert RoadTrigger()(hits).sum() == 6
    # one partition at a time sees 3 layers: below min_layers, the muon is lost
    assert RoadTrigger(RoadConfig(partition_pairs=False))(hits).sum() == 0
