"""Per-track and per-particle outputs of match_tracks."""

from __future__ import annotations

import numpy as np
import pytest
from _events import make_event, make_tracks

from tracklearn.errors import DataError
from tracklearn.metrics import double_majority, match_tracks


def test_double_majority_is_strict() -> None:
    # exactly half is not a majority, either way
    n_major = np.array([3, 3, 4, 4])
    n_track = np.array([6, 5, 7, 8])
    n_particle = np.array([5, 6, 7, 7])
    assert double_majority(n_major, n_track, n_particle).tolist() == [False, False, True, False]


def test_match_fields_by_hand() -> None:
    # rows 0-3: particle 7 (w 0.25 each); rows 4-5: particle 9 (w 0.5 each); row 6: noise
    event = make_event([7, 7, 7, 7, 9, 9, 0], [0.25] * 4 + [0.5] * 2 + [0.0])
    tracks = make_tracks([[0, 1, 2, 6], [4, 5, 3], [], [6], [0, 4]], event.n_hits)
    m = match_tracks(event, tracks)
    # track 0: 3 of 7 (+ noise) -> 2·3 > 4 and 2·3 > 4: matched, weight 0.75
    # track 1: 2 of 9 + 1 of 7 -> 2·2 > 3 and 2·2 > 2: matched, weight 1.0
    # track 2: empty -> majority 0, nothing
    # track 3: noise only -> majority 0, n_majority 1, never matched
    # track 4: one hit each of 7 and 9: tie -> smallest id 7; 2·1 > 2 fails
    assert m.majority_particle.tolist() == [7, 9, 0, 0, 7]
    assert m.n_hits.tolist() == [4, 3, 0, 1, 2]
    assert m.n_majority.tolist() == [3, 2, 0, 1, 1]
    assert m.majority_particle_hits.tolist() == [4, 2, 0, 1, 4]
    assert m.matched.tolist() == [True, True, False, False, False]
    np.testing.assert_allclose(m.majority_weight, [0.75, 1.0, 0.0, 0.0, 0.25])
    # particles table rows are [7, 9]
    assert m.n_matched_tracks.tolist() == [1, 1]
    assert m.majority_particle.dtype == np.int64


def test_large_particle_ids_survive() -> None:
    big = 2**62 + 1  # not representable in float64
    event = make_event([big] * 3 + [big + 1] * 3, [0.1] * 6)
    m = match_tracks(event, make_tracks([[0, 1, 2], [3, 4, 5]], event.n_hits))
    assert m.majority_particle.tolist() == [big, big + 1]
    assert m.matched.all()


def test_track_hit_count_must_match_event() -> None:
    event = make_event([1, 1], [0.5, 0.5])
    with pytest.raises(DataError, match="3 hits"):
        match_tracks(event, make_tracks([[0, 1]], 3))
