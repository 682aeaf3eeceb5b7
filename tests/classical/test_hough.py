"""Hough transform: the peak sits at a generated helix's cell; tracks are found."""

from __future__ import annotations

import numpy as np
import pytest

from tracklearn.classical.hough import HoughConfig, HoughReconstructor, HoughTransform
from tracklearn.edm import Event, Hits
from tracklearn.geometry.helix import alpha_at_radius, helix_point, radius_of_curvature
from tracklearn.metrics import evaluate_event
from tracklearn.pipeline.registry import available_methods
from tracklearn.simulation.quick import QuickConfig, generate_event

RADII = (32.0, 72.0, 116.0, 172.0, 260.0, 360.0, 500.0, 660.0)  # mm


def helix_xy(pt: float, q: float, phi0: float) -> tuple[np.ndarray, np.ndarray]:
    """Exact crossings of a helix from the origin with barrel cylinders (B = 2 T)."""
    big_r = radius_of_curvature(pt, q, 2.0)
    h = -np.sign(q * 2.0)
    xs, ys = [], []
    for r in RADII:
        a = alpha_at_radius(r, np.zeros(1), np.zeros(1), np.array([phi0]), np.array([big_r]), h)
        x, y, _ = helix_point(a, 0.0, 0.0, 0.0, phi0, 1.0, big_r, h)
        xs.append(x)
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


@pytest.mark.parametrize(("j", "f"), [(7, 100), (40, 600), (63, 1023), (32, 0)])
def test_accumulator_peak_is_the_generated_cell(j: int, f: int) -> None:
    transform = HoughTransform(HoughConfig())
    qpt = transform.qpt_centres()[j]
    phi0 = transform.phi_centres()[f]
    q = 1.0 if qpt > 0 else -1.0
    x, y = helix_xy(abs(1.0 / qpt), q, phi0)
    acc = transform.accumulator(x, y, np.arange(len(RADII), dtype=np.int64))
    assert acc[j, f] == len(RADII)
    # the only cell with every layer
    assert np.count_nonzero(acc == len(RADII)) == 1
    assert np.unravel_index(np.argmax(acc), acc.shape) == (j, f)


def test_one_hit_per_layer_counts() -> None:
    transform = HoughTransform(HoughConfig())
    x, y = helix_xy(5.0, 1.0, 0.3)
    # every hit twice on its layer: the layer count stays the number of layers
    acc = transform.accumulator(
        np.r_[x, x], np.r_[y, y], np.r_[np.arange(8), np.arange(8)].astype(np.int64)
    )
    assert acc.max() == len(RADII)


def test_quick_event_tracks_are_found() -> None:
    event = generate_event(3, np.random.default_rng(3), QuickConfig(n_particles=200))
    m = evaluate_event(event, HoughReconstructor()(event))
    # measured 0.964 / 0.097 (pT > 1 GeV targets)
    assert m.efficiency >= 0.9
    assert m.fake_rate <= 0.15


def test_empty_event_gives_no_tracks() -> None:
    hits = Hits(
        hit_id=np.zeros(0, np.int64),
        x=np.zeros(0),
        y=np.zeros(0),
        z=np.zeros(0),
        volume_id=np.zeros(0, np.int32),
        layer_id=np.zeros(0, np.int32),
        module_id=np.zeros(0, np.int32),
    )
    tracks = HoughReconstructor()(Event(event_id=0, hits=hits))
    assert tracks.n_tracks == 0


def test_hough_is_registered_and_rejects_unknown_keys() -> None:
    assert "hough" in available_methods()
    with pytest.raises(ValueError, match="n_qpt"):
        HoughConfig.model_validate({"n_qpt": 3})
