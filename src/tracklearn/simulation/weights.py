"""TrackML challenge hit weights, reproduced exactly from a real event.

The TrackML score (arXiv:1904.06778) counts each correctly assigned hit with a
weight.  The paper describes the weights only qualitatively (early and late hits
of a track matter more, high-pT particles matter more, some particles do not
count); the exact rules below were measured on the real event
``shared/data/trackml/event000000001`` (a 5 % particle subsample of one TrackML
event carrying the original weights) and reproduce all its 5,527 hit weights:
the 1,227 zero weights exactly and the 4,300 nonzero ones to 4.8e-6 relative,
which is the resolution of the file (weights are printed with 6 significant
digits; the largest error is 0.59 units of the last printed digit).

The rules, for a hit of particle ``p`` in an event:

1. **Zero-weight particles.**  Noise hits, hits of particles with fewer than 4
   hits, and hits of *secondary* particles (made by the detector simulation in a
   material interaction) weigh 0.  In TrackML ids the secondaries are exactly
   those whose generation field, bits 24-35 of ``particle_id``, is nonzero (see
   :func:`trackml_generation`).  No vertex-position cut reproduces this:
   weighted particles are produced up to r = 526 mm (decays of generator-level
   particles) and zero-weight secondaries as close as r = 19 mm.
2. **Hit order.**  A particle's hits are ranked by ``|z_hit - v_z|``, the
   longitudinal distance of the true hit position from the production vertex.
   This is not the 3D distance from the vertex: the two differ only for
   particles with ``pz ≈ 0`` (2 particles of the event, with ``|pz/pT| < 0.02``),
   and only ``|Δz|`` reproduces their weights.
3. **Order weight.**  The hit of rank ``i`` (0-based) on a track of ``n`` hits
   gets ``f(i / (n - 1))``, where ``f`` linearly interpolates the values
   ``10, 8, 6, 5, 3, 3, 3, 5, 6`` at ``u = 0, 1/8, ..., 1``: a ramp from 10 down
   to 6 at u = 1/4, to 5 at 3/8 and to 3 at 1/2; a plateau of 3 to u = 3/4;
   then up to 5 at 7/8 and to 6 at the last hit (:func:`order_weights`).
4. **pT weight.**  ``w_pt = 0.2`` for pT ≤ 0.5 GeV, rising linearly to 1 at
   pT = 3 GeV, then 1 (:func:`pt_weight`); pT is the particle's transverse
   momentum at production.
5. **Normalisation.**  The order weights are normalised per particle, so a
   particle's hits add up to ``w_pt``; then all weights of the event are scaled
   to sum 1.  (In the real event the per-particle sums are ``w_pt × 4.94045e-4``
   to 1e-6, i.e. the full event had Σ w_pt = 2024.1.)
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tracklearn import units as u
from tracklearn.edm import Particles, Truth
from tracklearn.errors import DataError

#: order weight at u = 0, 1/8, ..., 1 (u = rank / (n_hits - 1)), linearly interpolated
ORDER_KNOTS: npt.NDArray[np.float64] = np.array([10.0, 8.0, 6.0, 5.0, 3.0, 3.0, 3.0, 5.0, 6.0])
PT_LOW: float = 0.5 * u.GeV  # below: pt weight W_PT_LOW
PT_HIGH: float = 3.0 * u.GeV  # above: pt weight W_PT_HIGH
W_PT_LOW: float = 0.2
W_PT_HIGH: float = 1.0
MIN_HITS: int = 4  # particles with fewer hits weigh 0

_GENERATION_SHIFT = 24
_GENERATION_MASK = 0xFFF


def order_weights(n_hits: int) -> npt.NDArray[np.float64]:
    """Unnormalised TrackML order weight of each hit of a track of ``n_hits`` hits.

    The hit of rank ``i`` (0 = closest to the production vertex, see
    :func:`trackml_hit_weights`) weighs ``f(i / (n_hits - 1))`` with ``f`` the
    piecewise-linear interpolation of :data:`ORDER_KNOTS` (10, 8, 6, 5, 3, 3, 3,
    5, 6 at u = 0, 1/8, ..., 1).  The first hit always weighs 10 and the last 6.

    Parameters
    ----------
    n_hits
        Number of hits of the track, at least 1 (a single hit weighs 10).

    Returns
    -------
    numpy.ndarray
        Shape (n_hits,), dimensionless.

    Examples
    --------
    >>> order_weights(5).tolist()
    [10.0, 6.0, 3.0, 3.0, 6.0]
    >>> order_weights(4).round(4).tolist()
    [10.0, 5.3333, 3.0, 6.0]
    """
    if n_hits < 1:
        raise ValueError(f"n_hits must be at least 1, got {n_hits}")
    return _profile(np.arange(n_hits, dtype=np.float64), np.full(n_hits, n_hits))


def _profile(rank: npt.NDArray[np.float64], n: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Order weight of rank ``rank`` in a track of ``n`` hits, elementwise."""
    span = np.maximum(n - 1, 1)  # a one-hit track has u = 0
    grid = rank * (len(ORDER_KNOTS) - 1) / span
    return np.interp(grid, np.arange(len(ORDER_KNOTS), dtype=np.float64), ORDER_KNOTS)


def pt_weight(pt: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """TrackML transverse-momentum weight.

    0.2 for pT ≤ 0.5 GeV, linear from 0.2 to 1 between 0.5 and 3 GeV
    (``0.2 + 0.32 (pT - 0.5 GeV) / GeV``), 1 above 3 GeV.

    Parameters
    ----------
    pt : shape (P,)
        Transverse momentum at production [GeV].

    Returns
    -------
    numpy.ndarray
        Shape (P,), dimensionless, in [0.2, 1].

    Examples
    --------
    >>> pt_weight([0.1, 0.5, 1.75, 3.0, 10.0]).round(12).tolist()
    [0.2, 0.2, 0.6, 1.0, 1.0]
    """
    pt = np.asarray(pt, dtype=np.float64)
    slope = (W_PT_HIGH - W_PT_LOW) / (PT_HIGH - PT_LOW)
    return np.clip(W_PT_LOW + slope * (pt - PT_LOW), W_PT_LOW, W_PT_HIGH)


def trackml_generation(particle_id: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Generation field of TrackML particle ids: 0 for generator-level particles.

    TrackML ids pack, from the top, 12 bits of vertex, 16 of primary particle,
    12 of generation, 12 of secondary and 12 of process number.  The generation
    (bits 24-35) is nonzero exactly for particles made by the detector
    simulation, whose hits weigh 0.  Layout inferred from the ids of 39 real
    events (generation 0 for 76-78 % of particles, else a small count 1-4; the
    lower 24 bits are zero exactly when the generation is).

    Parameters
    ----------
    particle_id : int64, shape (P,)
        TrackML particle ids (never pass them through float64).

    Returns
    -------
    numpy.ndarray
        int64, shape (P,).
    """
    pid = np.asarray(particle_id, dtype=np.int64)
    return (pid >> _GENERATION_SHIFT) & _GENERATION_MASK


def trackml_hit_weights(
    particle_index: npt.NDArray[np.integer],
    hit_positions: npt.NDArray[np.floating],
    particle_vertex: npt.NDArray[np.floating],
    particle_pt: npt.NDArray[np.floating],
    particle_is_primary: npt.NDArray[np.bool_] | None = None,
    *,
    min_hits: int = MIN_HITS,
) -> npt.NDArray[np.float64]:
    """TrackML weight of every hit of an event, normalised to sum 1.

    Applies the rules of the module docstring: hits of noise, of particles with
    fewer than ``min_hits`` hits and of non-primary particles weigh 0; the other
    hits weigh ``w_pt(pT) · f(rank) / Σ_track f``, hits being ranked by
    ``|z - v_z|`` within their particle; finally everything is scaled to sum 1.
    Agreement with the real TrackML event: every hit to the 6 printed digits
    (max relative error 4.8e-6, see ``scripts/check_trackml_weights.py``).

    Parameters
    ----------
    particle_index : int, shape (N,)
        Row of the hit's particle in the particle arrays, -1 for noise.
    hit_positions : float, shape (N, 3)
        True hit position x, y, z [mm] (only z is used for the ordering).
    particle_vertex : float, shape (P, 3)
        Production vertex vx, vy, vz [mm].
    particle_pt : float, shape (P,)
        Transverse momentum at production [GeV].
    particle_is_primary : bool, shape (P,), optional
        False for secondaries (weight 0); all True when omitted.  For TrackML
        ids use ``trackml_generation(particle_id) == 0``.
    min_hits
        Particles with fewer hits weigh 0.

    Returns
    -------
    numpy.ndarray
        float64, shape (N,), summing to 1 (all zeros if no hit has weight).

    Notes
    -----
    Ties in ``|z - v_z|`` keep the input order of the hits.
    """
    pidx = np.asarray(particle_index, dtype=np.int64)
    pos = np.asarray(hit_positions, dtype=np.float64)
    vertex = np.asarray(particle_vertex, dtype=np.float64)
    pt = np.asarray(particle_pt, dtype=np.float64)
    n_particles = len(pt)
    if pos.shape != (len(pidx), 3) or vertex.shape != (n_particles, 3):
        raise ValueError(
            f"expected hit_positions ({len(pidx)}, 3) and particle_vertex ({n_particles}, 3), "
            f"got {pos.shape} and {vertex.shape}"
        )
    if pidx.size and (pidx.min() < -1 or pidx.max() >= n_particles):
        raise ValueError(f"particle_index must be -1 or in [0, {n_particles})")
    primary = (
        np.ones(n_particles, dtype=bool)
        if particle_is_primary is None
        else np.asarray(particle_is_primary, dtype=bool)
    )

    weights = np.zeros(len(pidx), dtype=np.float64)
    hit = np.flatnonzero(pidx >= 0)
    p = pidx[hit]
    # Sort the signal hits by particle, then by |z - vz| within the particle, so each
    # particle's hits form one contiguous run in increasing order.
    order = np.lexsort((np.abs(pos[hit, 2] - vertex[p, 2]), p))
    hit, p = hit[order], p[order]
    # The rank of a hit in its run is its position minus the run's first position;
    # the run starts are the exclusive cumulative sum of the hit counts per particle.
    counts = np.bincount(p, minlength=n_particles)
    starts = np.cumsum(counts) - counts
    rank = np.arange(len(p), dtype=np.float64) - starts[p]
    raw = _profile(rank, counts[p])
    # Per-particle normalisation: divide by the sum of the raw profile over the run.
    track_sum = np.bincount(p, weights=raw, minlength=n_particles)
    keep = (counts >= min_hits) & primary
    factor = np.divide(
        pt_weight(pt) * keep, track_sum, out=np.zeros(n_particles), where=track_sum > 0
    )
    weights[hit] = raw * factor[p]
    total = weights.sum()
    return weights / total if total > 0 else weights


def weights_for_event(
    truth: Truth,
    particles: Particles,
    particle_is_primary: npt.NDArray[np.bool_] | None = None,
) -> npt.NDArray[np.float64]:
    """TrackML weights of the hits of ``truth``, from tracklearn tables.

    Uses the true hit positions ``truth.tz``, the production vertices and pT of
    ``particles`` and, unless ``particle_is_primary`` is given, the TrackML id
    encoding (:func:`trackml_generation`) to find secondaries.

    Parameters
    ----------
    truth
        Per-hit truth, shape (N,) columns; ``particle_id == 0`` is noise.
    particles
        Particle table, shape (P,) columns; must hold every nonzero
        ``truth.particle_id``.
    particle_is_primary : bool, shape (P,), optional
        Override of the primary flag (needed for ids that are not TrackML-encoded).

    Returns
    -------
    numpy.ndarray
        float64, shape (N,), aligned with ``truth`` rows, summing to 1.

    Raises
    ------
    DataError
        If a hit's particle is missing from ``particles``.
    """
    pids = particles.particle_id
    signal = np.flatnonzero(truth.particle_id != 0)
    wanted = truth.particle_id[signal]
    # Look the ids up in a sorted view (int64 throughout: ids do not survive float64).
    sorter = np.argsort(pids, kind="stable")
    at = np.minimum(np.searchsorted(pids, wanted, sorter=sorter), max(len(pids) - 1, 0))
    rows = sorter[at] if len(pids) else at
    if len(wanted) and (len(pids) == 0 or not np.array_equal(pids[rows], wanted)):
        raise DataError(truth.SOURCE, "some hits belong to particles missing from particles")
    particle_index = np.full(len(truth), -1, dtype=np.int64)
    particle_index[signal] = rows
    if particle_is_primary is None:
        particle_is_primary = trackml_generation(pids) == 0
    return trackml_hit_weights(
        particle_index,
        np.column_stack([truth.tx, truth.ty, truth.tz]),
        np.column_stack([particles.vx, particles.vy, particles.vz]),
        particles.pt,
        particle_is_primary,
    )
