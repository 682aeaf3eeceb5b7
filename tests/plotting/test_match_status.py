"""Match status of tracks and hits: hand-computed cases and agreement with the metrics.

Event ``ABC`` of the golden metric tests (``tests/metrics/_events.py``): A (11) rows
0-5, B (22) rows 6-10, C (33) rows 11-15, noise rows 16-19; every particle a target.
"""

from __future__ import annotations

import pytest
from tests.metrics._events import abc_event, make_event, make_tracks
from tests.plotting._tracks import messy_tracks

from tracklearn.edm import Event, TrackCandidates
from tracklearn.metrics import evaluate_event
from tracklearn.plotting.match_status import STATUSES, match_status

R = range

#: tracks (hit rows) -> {status: (n, n_hits)}; statuses not listed are (0, 0)
CASES = {
    "perfect": (
        [list(R(6)), list(R(6, 11)), list(R(11, 16))],
        {"matched": (3, 16), "other": (4, 4)},
    ),
    # 3 hits of A + 3 of B: no particle holds more than half of the track -> fake;
    # A and B then have no matched track -> missed with all their hits
    "two particles in one track": (
        [[0, 1, 2, 6, 7, 8], list(R(11, 16))],
        {"matched": (1, 5), "fake": (1, 6), "missed": (2, 11), "other": (4, 4)},
    ),
    # the 4-hit track of A is matched too (4/4 and 4/6): a duplicate of the 6-hit one
    "duplicate": (
        [list(R(6)), [0, 1, 2, 3], list(R(6, 11)), list(R(11, 16))],
        {"matched": (3, 16), "duplicate": (1, 4), "other": (4, 4)},
    ),
    # a 2-hit noise track is unmatched but too short to be a fake
    "short noise track": (
        [[16, 17]],
        {"short": (1, 2), "missed": (3, 16), "other": (2, 2)},
    ),
    # 4 hits of C in a 2-hit-noise track (4/6 and 4/5): matched; C's fifth hit is "other"
    "matched with noise": (
        [[11, 12, 13, 14, 16, 17]],
        {"matched": (1, 6), "missed": (2, 11), "other": (3, 3)},
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_counts_of_hand_computed_cases(name: str) -> None:
    tracks, expect = CASES[name]
    event = abc_event()
    counts = match_status(event, make_tracks(tracks, event.n_hits)).counts()
    assert list(counts) == list(STATUSES)
    got = {k: (c.n, c.n_hits) for k, c in counts.items()}
    assert got == {k: expect.get(k, (0, 0)) for k in STATUSES}


def test_duplicate_tie_keeps_the_first_track() -> None:
    event = abc_event()
    status = match_status(event, make_tracks([[0, 1, 2, 3], [2, 3, 4, 5]], event.n_hits))
    assert status.track_status.tolist() == [0, 1]  # matched, duplicate
    assert status.track_particle.tolist() == [11, 11]


def test_empty_event() -> None:
    event = make_event([], [])
    counts = match_status(event, TrackCandidates.empty(0)).counts()
    assert all((c.n, c.n_hits) == (0, 0) for c in counts.values())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_counts_agree_with_the_metrics(small_event: Event, seed: int) -> None:
    tracks = messy_tracks(small_event, seed)
    m = evaluate_event(small_event, tracks)
    counts = match_status(small_event, tracks).counts()
    assert counts["fake"].n == m.n_fake
    assert counts["duplicate"].n == m.n_duplicate
    assert counts["matched"].n + counts["duplicate"].n == m.n_tracks_matched
    assert counts["missed"].n == m.n_particles_target - m.n_particles_matched
    assert sum(counts[s].n for s in ("matched", "duplicate", "fake", "short")) == m.n_tracks
    assert m.n_fake > 0 and m.n_duplicate > 0  # the case exercises every track status
