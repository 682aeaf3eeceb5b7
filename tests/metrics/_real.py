"""Truth-as-submission helpers for the metric tests."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Event, TrackCandidates


def truth_labels(event: Event) -> npt.NDArray[np.int64]:
    """One label per hit numbering the particles from 1; noise hits get 0 (unassigned)."""
    assert event.truth is not None
    pid = event.truth.particle_id
    _, inv = np.unique(pid, return_inverse=True)
    return np.where(pid == 0, 0, inv + 1).astype(np.int64)


def truth_tracks(event: Event) -> TrackCandidates:
    """Truth as submission: one track per particle, noise unassigned."""
    return TrackCandidates.from_labels(truth_labels(event))
