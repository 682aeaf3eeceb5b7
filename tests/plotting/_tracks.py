"""Reconstructed-looking tracks for the display tests."""

from __future__ import annotations

import numpy as np
from tests.metrics._events import make_tracks

from tracklearn.edm import Event, TrackCandidates


def messy_tracks(event: Event, seed: int) -> TrackCandidates:
    """Truth tracks spoiled at random: hits moved to other tracks or dropped, and a
    shorter copy of every third track (sharing hits: duplicates)."""
    assert event.truth is not None
    rng = np.random.default_rng(seed)
    labels = event.truth.particle_id.copy()
    move = rng.random(len(labels)) < 0.2
    labels[move] = rng.choice(labels, int(move.sum()))
    labels[rng.random(len(labels)) < 0.05] = 0
    base = TrackCandidates.from_labels(labels)
    tracks = [base.track(t).tolist() for t in range(base.n_tracks)]
    extra = [t[: len(t) * 3 // 4] for t in tracks[::3] if len(t) >= 4]
    return make_tracks(tracks + extra, event.n_hits)
