"""Track selection after building: by estimated pT, or by the layers a track crosses.

Layers: a target particle crosses at least 5 detector layers
(:mod:`tracklearn.metrics.targets`), and on the mu = 200 validation events the
candidates on fewer layers are mostly pieces of particles just below 1 GeV,
which count as fakes; :func:`n_layers_per_track` counts them for a cut.

pT:

An edge classifier trained to keep the segments of fast particles (pT above
~1 GeV) still joins pieces of slower ones; such a piece holds too few of its
particle's hits to be matched and counts as a fake.  A rough pT per candidate,
from a circle through its hits and the beam line, removes them cheaply.

The circle ``x² + y² + D x + E y = 0`` passes through the origin (the beam
line); ``D`` and ``E`` minimise ``Σ (x² + y² + D x + E y)²`` over the track's
hits (the algebraic Kåsa fit), solved for every track at once from per-track
sums (``np.bincount``), so there is no loop over tracks.  Radius
``R = ½ √(D² + E²)`` [mm] and ``pT = 0.3 · Bz · R`` (GeV, T, m).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tracklearn.edm import TrackCandidates
from tracklearn.errors import DataError
from tracklearn.typing import FloatArray
from tracklearn.units import C_LIGHT_GEV_PER_T_MM


def estimate_pt(
    x: npt.ArrayLike, y: npt.ArrayLike, tracks: TrackCandidates, bz_tesla: float
) -> FloatArray:
    """Transverse momentum [GeV] of each track from a circle through its hits and the origin.

    Parameters
    ----------
    x, y
        Hit coordinates [mm], shape (n_hits,), rows as in ``tracks``.
    tracks
        Candidates; tracks with fewer than 2 hits get ``inf`` (not constrained).
    bz_tesla
        Field along the beam [T] (> 0).

    Returns
    -------
    numpy.ndarray
        float64 (T,); ``inf`` for a straight line or a track with < 2 hits.
    """
    if bz_tesla <= 0:
        raise DataError("track selection", f"Bz must be > 0 T, got {bz_tesla}")
    xs, ys = np.asarray(x, np.float64), np.asarray(y, np.float64)
    if xs.shape != (tracks.n_hits,) or ys.shape != (tracks.n_hits,):
        raise DataError("track selection", f"x, y need shape ({tracks.n_hits},)")
    t = tracks.track_of_entry()
    hx, hy = xs[tracks.hit_index], ys[tracks.hit_index]
    rho2 = hx**2 + hy**2
    n = tracks.n_tracks

    def s(w: FloatArray) -> FloatArray:
        return np.bincount(t, weights=w, minlength=n).astype(np.float64)

    sxx, sxy, syy = s(hx * hx), s(hx * hy), s(hy * hy)
    bx, by = -s(hx * rho2), -s(hy * rho2)
    det = sxx * syy - sxy**2
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (bx * syy - by * sxy) / det
        e = (sxx * by - sxy * bx) / det
        radius = 0.5 * np.hypot(d, e)
    pt = C_LIGHT_GEV_PER_T_MM * bz_tesla * radius
    bad = ~np.isfinite(pt) | (tracks.lengths < 2) | (np.abs(det) <= 1e-12 * (sxx * syy + 1e-300))
    pt[bad] = np.inf
    out: FloatArray = pt
    return out


def select_tracks(tracks: TrackCandidates, keep: npt.ArrayLike) -> TrackCandidates:
    """Only the tracks where ``keep`` (bool, shape (T,)) is true, in their order."""
    mask = np.asarray(keep, dtype=bool)
    if mask.shape != (tracks.n_tracks,):
        raise DataError("track selection", f"keep needs shape ({tracks.n_tracks},)")
    entries = mask[tracks.track_of_entry()]
    offsets = np.r_[0, np.cumsum(tracks.lengths[mask])].astype(np.int64)
    return TrackCandidates(
        offsets=offsets, hit_index=tracks.hit_index[entries], n_hits=tracks.n_hits
    )


def n_layers_per_track(tracks: TrackCandidates, layer: npt.ArrayLike) -> npt.NDArray[np.int64]:
    """Number of distinct detector layers among each track's hits, shape (T,).

    ``layer`` is one code per hit of the event (shape (n_hits,); see
    :func:`tracklearn.edm.layer_key`); overlap hits on one layer count once.

    >>> tr = TrackCandidates(offsets=np.array([0, 3, 4]), hit_index=np.arange(4), n_hits=4)
    >>> n_layers_per_track(tr, [7, 7, 9, 7]).tolist()
    [2, 1]
    """
    codes = np.asarray(layer)
    if codes.shape != (tracks.n_hits,):
        raise DataError("track selection", f"layer needs shape ({tracks.n_hits},)")
    _, layer_id = np.unique(codes, return_inverse=True)
    n_layers = max(int(layer_id.max()) + 1, 1) if len(layer_id) else 1
    # one int64 per (track, layer) pair; unique pairs counted per track
    pairs = np.unique(tracks.track_of_entry() * n_layers + layer_id[tracks.hit_index])
    return np.bincount(pairs // n_layers, minlength=tracks.n_tracks).astype(np.int64)
