"""Tiny hand-built events for the metric tests."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Event, Hits, Particles, TrackCandidates, Truth


def make_event(
    particle_id: Sequence[int],
    weight: Sequence[float] | None = None,
    *,
    volume_id: npt.ArrayLike | None = None,
    layer_id: npt.ArrayLike | None = None,
    momenta: dict[int, tuple[float, float, float]] | None = None,
    extra_particles: Sequence[int] = (),
) -> Event:
    """An event with one hit per entry of ``particle_id`` (0 = noise).

    By default every hit is on its own layer (volume 8, layer 2, 4, 6, ...), so a
    particle with ``k`` hits has ``k`` distinct layers, and every particle has
    pT = 10 GeV, η = 0 (px = 10, py = pz = 0).  ``momenta`` overrides (px, py, pz)
    [GeV] per particle_id; ``extra_particles`` adds particles without hits.
    """
    pid = np.asarray(particle_id, dtype=np.int64)
    n = len(pid)
    w = np.zeros(n) if weight is None else np.asarray(weight, dtype=np.float64)
    vol = np.full(n, 8) if volume_id is None else np.asarray(volume_id)
    lay = 2 * np.arange(1, n + 1) if layer_id is None else np.asarray(layer_id)
    zeros = np.zeros(n)
    hits = Hits.from_columns(
        {
            "hit_id": np.arange(1, n + 1),
            "x": zeros,
            "y": zeros,
            "z": zeros,
            "volume_id": vol.astype(np.int32),
            "layer_id": lay.astype(np.int32),
            "module_id": np.ones(n, np.int32),
        }
    )
    truth = Truth.from_columns(
        {
            "hit_id": np.arange(1, n + 1),
            "particle_id": pid,
            **{c: zeros for c in ("tx", "ty", "tz", "tpx", "tpy", "tpz")},
            "weight": w,
        }
    )
    ids = np.union1d(np.unique(pid[pid != 0]), np.asarray(extra_particles, dtype=np.int64))
    mom = momenta or {}
    p = np.array([mom.get(int(i), (10.0, 0.0, 0.0)) for i in ids], dtype=np.float64).reshape(-1, 3)
    zp = np.zeros(len(ids))
    particles = Particles.from_columns(
        {
            "particle_id": ids,
            "vx": zp,
            "vy": zp,
            "vz": zp,
            "px": p[:, 0],
            "py": p[:, 1],
            "pz": p[:, 2],
            "q": np.ones(len(ids), np.int32),
            "nhits": np.array([np.count_nonzero(pid == i) for i in ids], np.int32),
        }
    )
    return Event(event_id=0, hits=hits, truth=truth, particles=particles)


def make_tracks(tracks: Sequence[Sequence[int]], n_hits: int) -> TrackCandidates:
    """CSR tracks from lists of hit rows (a row may appear in several tracks)."""
    lengths = [len(t) for t in tracks]
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    hit_index = np.array([h for t in tracks for h in t], dtype=np.int64)
    return TrackCandidates(offsets=offsets, hit_index=hit_index, n_hits=n_hits)


def abc_event() -> Event:
    """The standard event of the golden tests (table in ``test_golden.py``).

    A (11): rows 0-5, weight 0.05 each; B (22): rows 6-10, 0.06 each;
    C (33): rows 11-15, 0.08 each; noise: rows 16-19, weight 0.  Total weight 1.0.
    """
    pid = [11] * 6 + [22] * 5 + [33] * 5 + [0] * 4
    w = [0.05] * 6 + [0.06] * 5 + [0.08] * 5 + [0.0] * 4
    return make_event(pid, w)
