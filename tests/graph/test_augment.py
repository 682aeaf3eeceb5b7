"""Symmetry augmentation: module lookup on the real TrackML geometry."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tracklearn.edm.detector import module_key
from tracklearn.graph.augment import ModuleLocator
from tracklearn.io.trackml import read_detector, read_event


@pytest.fixture(scope="module")
def locator(shared_data: Path) -> ModuleLocator:
    return ModuleLocator(read_detector(shared_data / "trackml" / "detectors.csv.gz"))


def test_locate_finds_the_module_of_every_real_hit(
    locator: ModuleLocator, real_prefix: Path
) -> None:
    h = read_event(real_prefix).hits
    got = locator.locate(h.volume_id, h.layer_id, h.positions)
    assert np.mean(got == module_key(h.volume_id, h.layer_id, h.module_id)) > 0.999
    same = locator.transformed_keys(h.volume_id, h.layer_id, h.positions, 0.0, reflect=False)
    np.testing.assert_array_equal(same, got)


def test_mirror_layers(locator: ModuleLocator) -> None:
    assert locator.mirror_layer(8, 2) == (8, 2)
    assert locator.mirror_layer(7, 14) == (9, 2) and locator.mirror_layer(9, 2) == (7, 14)
    assert locator.mirror_layer(12, 12) == (14, 2) and locator.mirror_layer(18, 12) == (16, 2)


def test_rotation_and_reflection_round_trip(locator: ModuleLocator, real_prefix: Path) -> None:
    h = read_event(real_prefix).hits
    sel = h.volume_id == 9
    vol, lay, xyz = h.volume_id[sel], h.layer_id[sel], h.positions[sel]
    original = module_key(vol, lay, h.module_id[sel])
    mirrored = locator.transformed_keys(vol, lay, xyz, 0.0, reflect=True)
    assert np.all((mirrored >> 48) == 7)  # z -> -z: positive pixel endcap to the negative one
    back = locator.transformed_keys(
        mirrored >> 48, (mirrored >> 32) & 0xFFFF, xyz * [1.0, 1.0, -1.0], 0.0, reflect=True
    )
    assert np.mean(back == original) > 0.999
    c, s = np.cos(0.5), np.sin(0.5)
    turned = np.stack([c * xyz[:, 0] - s * xyz[:, 1], s * xyz[:, 0] + c * xyz[:, 1], xyz[:, 2]], 1)
    moved = locator.transformed_keys(vol, lay, xyz, 0.5, reflect=False)
    assert np.mean(moved == original) < 0.1  # most hits now on other modules
    np.testing.assert_array_equal(moved, locator.locate(vol, lay, turned))
    assert np.mean(locator.transformed_keys(vol, lay, turned, -0.5, False) == original) > 0.999
