"""The one layer code: injective on (volume, layer), undone by split_layer_key."""

from __future__ import annotations

import numpy as np

from tracklearn.edm import layer_key, split_layer_key


def test_layer_key_round_trip_and_no_collisions() -> None:
    vol = np.array([7, 8, 8, 13, 2**20])
    lay = np.array([2, 2, 14, 2, 100_000])
    keys = layer_key(vol, lay)
    assert len(np.unique(keys)) == 5  # volume*1000+layer would merge (7, 1002)-like pairs
    assert [split_layer_key(k) for k in keys] == list(zip(vol.tolist(), lay.tolist(), strict=True))
    # a negative layer (possible in memory) stays inside the layer bits
    assert split_layer_key(layer_key([8], [-1])[0])[0] == 8
