from __future__ import annotations

import numpy as np

from tracklearn.plotting.display import track_colours, track_segments


def test_segments_join_consecutive_hits_of_each_track() -> None:
    a = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    b = np.zeros(5)
    r = np.array([3.0, 1.0, 2.0, 9.0, 5.0])
    labels = np.array([1, 1, 1, 0, 2])
    seg, start = track_segments(a, b, r, labels)
    # track 1 ordered by r: rows 1, 2, 0 -> segments 1-2 and 2-0; track 2 has one hit
    assert start.tolist() == [1, 2]
    np.testing.assert_array_equal(seg[:, :, 0], [[1.0, 2.0], [2.0, 0.0]])


def test_unassigned_hits_are_grey() -> None:
    c = track_colours(np.array([0, 3, 3, -1]))
    assert c.shape == (4, 4)
    np.testing.assert_allclose(c[0], (0.6, 0.6, 0.6, 0.5))
    np.testing.assert_array_equal(c[1], c[2])
