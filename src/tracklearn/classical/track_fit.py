"""Track parameters from a Kalman fit, for the tracks of any method.

:func:`parameters_from_fit` turns a :class:`~tracklearn.classical.kalman.TrackFit`
into the event data model's :class:`~tracklearn.edm.TrackParameters` (the fit's
perigee is already in its ``(d0, z0, φ, θ, q/p)`` order and convention).
:class:`TrackFitter` fits the tracks of any reconstruction method (``dbscan``,
``hough``, ``gnn``, ...) with the fitter of the ``ckf`` chain, so that
``tracklearn reconstruct --fit`` writes their parameters too.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

from tracklearn.classical.kalman import TrackFit
from tracklearn.edm import Event, TrackCandidates, TrackParameters
from tracklearn.errors import DataError

log = logging.getLogger(__name__)

#: a Kalman fit needs at least this many hits
MIN_FIT_HITS = 3


def parameters_from_fit(fit: TrackFit, track: npt.ArrayLike | None = None) -> TrackParameters:
    """Perigee parameters of the successfully fitted rows of ``fit``.

    Parameters
    ----------
    fit
        Fit of ``T`` tracks.
    track : int, shape (T,), optional
        Track number of each fitted row (default ``0..T-1``).

    Rows whose fit failed (``fit.ok`` False, or a covariance with a negative
    variance) get no parameter row.
    """
    n = len(fit.chi2)
    tr = np.arange(n, dtype=np.int64) if track is None else np.asarray(track, dtype=np.int64)
    with np.errstate(invalid="ignore"):
        diag = np.einsum("kii->ki", fit.perigee_cov)
        good = (
            fit.ok
            & np.all(np.isfinite(fit.perigee), axis=1)
            & np.all(np.isfinite(fit.perigee_cov), axis=(1, 2))
            & np.all(diag >= 0, axis=1)
            & np.isfinite(fit.chi2)
            & (fit.perigee[:, 4] != 0)
        )
    if not good.all():
        log.debug("%d of %d track fits failed", int((~good).sum()), n)
    rows = np.flatnonzero(good)
    return TrackParameters.from_arrays(
        tr[rows], fit.perigee[rows], fit.perigee_cov[rows], fit.chi2[rows], fit.ndf[rows]
    )


class TrackFitter:
    """Fit the tracks of any method with the ``ckf`` chain's Kalman fitter.

    Needs events in the TrackML geometry (the real events and
    ``simulate --detector trackml``): measurements are placed on the detector
    modules.  Tracks with fewer than 3 hits get no parameters.

    Parameters
    ----------
    ckf
        The CKF reconstructor whose detector, field and fit settings are used
        (default: ``CKFReconstructor()``, the shared TrackML geometry).
    """

    def __init__(self, ckf: object | None = None) -> None:
        from tracklearn.classical.ckf import CKFReconstructor

        self.ckf = ckf if isinstance(ckf, CKFReconstructor) else CKFReconstructor()

    def __call__(self, event: Event, tracks: TrackCandidates) -> TrackCandidates:
        """``tracks`` with :attr:`~TrackCandidates.parameters` from a fresh fit."""
        fittable = np.flatnonzero(tracks.lengths >= MIN_FIT_HITS)
        if len(fittable) == 0:
            return tracks.with_parameters(TrackParameters.empty())
        parts = [tracks.track(int(t)) for t in fittable]
        sub = TrackCandidates(
            offsets=np.r_[0, np.cumsum([len(p) for p in parts])].astype(np.int64),
            hit_index=np.concatenate(parts),
            n_hits=tracks.n_hits,
        )
        try:
            fit = self.ckf.fit_tracks(event, sub)
        except DataError as exc:  # e.g. quick-detector events: no TrackML modules
            raise DataError(
                exc.source, f"{exc.problem} (fitting tracks needs the TrackML geometry)"
            ) from None
        return tracks.with_parameters(parameters_from_fit(fit, fittable))
