"""Load the real TrackML event for metric tests (a stand-in until io/ has a reader)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

from tracklearn.edm import Event, Hits, Particles, TrackCandidates, Truth

EVENT = "trackml/event000000001"


def load_real_event(shared_data: Path) -> Event:
    """Event 1 of the shared data with hits, truth and particles."""
    prefix = shared_data / EVENT
    # particle_id is a 64-bit id: read it as int64, never through float64.
    ids = {"particle_id": "int64", "hit_id": "int64"}
    hits = pd.read_csv(f"{prefix}-hits.csv.gz", dtype=ids)
    truth = pd.read_csv(f"{prefix}-truth.csv.gz", dtype=ids)
    particles = pd.read_csv(f"{prefix}-particles.csv.gz", dtype=ids)
    return Event(
        event_id=1,
        hits=Hits.from_columns({c: hits[c].to_numpy() for c in hits.columns}),
        truth=Truth.from_columns({c: truth[c].to_numpy() for c in truth.columns}),
        particles=Particles.from_columns({c: particles[c].to_numpy() for c in particles.columns}),
        source=str(prefix),
    )


def truth_labels(event: Event) -> npt.NDArray[np.int64]:
    """One label per hit numbering the particles from 1; noise hits get 0 (unassigned)."""
    assert event.truth is not None
    pid = event.truth.particle_id
    _, inv = np.unique(pid, return_inverse=True)
    return np.where(pid == 0, 0, inv + 1).astype(np.int64)


def truth_tracks(event: Event) -> TrackCandidates:
    """Truth as submission: one track per particle, noise unassigned."""
    return TrackCandidates.from_labels(truth_labels(event))
