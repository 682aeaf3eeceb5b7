"""Hit weights for the TrackML score of simulated events.

This is the simple scheme of the built-in quick generator: noise hits and
hits of particles with fewer than 4 hits weigh 0; otherwise a hit weighs
``w_pt(pT)``, growing linearly from 0.2 at pT ≤ 0.5 GeV to 1 at pT ≥ 3 GeV,
so high-pT particles matter more as in TrackML.  Weights are normalised to sum 1.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def hit_weights(
    particle_index: npt.NDArray[np.int64],
    particle_pt: npt.NDArray[np.float64],
    min_hits: int = 4,
) -> npt.NDArray[np.float64]:
    """Weight of every hit, shape (N,).

    Parameters
    ----------
    particle_index : shape (N,)
        Row of the hit's particle in ``particle_pt``, -1 for noise.
    particle_pt : shape (P,)
        Transverse momentum of each particle [GeV].
    min_hits
        Particles with fewer hits than this weigh 0.
    """
    n_particles = len(particle_pt)
    is_signal = particle_index >= 0
    counts = np.bincount(particle_index[is_signal], minlength=n_particles)
    w_pt = np.clip(0.2 + 0.8 * (particle_pt - 0.5) / 2.5, 0.2, 1.0)
    w = np.zeros(len(particle_index), dtype=np.float64)
    idx = particle_index[is_signal]
    w[is_signal] = np.where(counts[idx] >= min_hits, w_pt[idx], 0.0)
    total = w.sum()
    return w / total if total > 0 else w
