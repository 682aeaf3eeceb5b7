"""Track selection by circle-fit pT: known circles, straight lines, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from tracklearn.building.selection import estimate_pt, select_tracks
from tracklearn.edm import TrackCandidates
from tracklearn.errors import DataError
from tracklearn.units import C_LIGHT_GEV_PER_T_MM


def _arc(pt: float, phi0: float, n: int, bz: float = 2.0, charge: int = 1) -> np.ndarray:
    """n points at r = 30…1000 mm on the circle of a track from the origin."""
    radius = pt / (C_LIGHT_GEV_PER_T_MM * bz)
    r = np.linspace(30.0, 1000.0, n)
    phi = phi0 - charge * np.arcsin(r / (2 * radius))  # chord-angle of a circle through 0
    return np.stack([r * np.cos(phi), r * np.sin(phi)], axis=1)


def test_circle_fit_recovers_the_generated_pt() -> None:
    pts = [_arc(1.0, 0.3, 10), _arc(5.0, -2.0, 8, charge=-1), _arc(0.5, 1.0, 6)]
    xy = np.concatenate(pts)
    labels = np.repeat([1, 2, 3], [10, 8, 6])
    tracks = TrackCandidates.from_labels(labels)
    pt = estimate_pt(xy[:, 0], xy[:, 1], tracks, 2.0)
    assert pt == pytest.approx([1.0, 5.0, 0.5], rel=1e-9)


def test_straight_or_single_hit_tracks_are_not_cut() -> None:
    x = np.array([100.0, 200.0, 300.0, 50.0])
    y = np.array([100.0, 200.0, 300.0, 7.0])
    tracks = TrackCandidates.from_labels([1, 1, 1, 2])
    pt = estimate_pt(x, y, tracks, 2.0)
    assert np.isinf(pt).all()


def test_select_tracks_keeps_order_and_hits() -> None:
    tracks = TrackCandidates.from_labels([1, 2, 1, 3, 3, 2])
    sel = select_tracks(tracks, [True, False, True])
    assert sel.n_tracks == 2 and sel.n_hits == 6
    assert sel.track(0).tolist() == [0, 2] and sel.track(1).tolist() == [3, 4]
    with pytest.raises(DataError, match="shape"):
        select_tracks(tracks, [True])
    with pytest.raises(DataError, match="Bz"):
        estimate_pt(np.zeros(6), np.zeros(6), tracks, 0.0)
