"""The track fitter: Kalman fit + smoother of the tracks of any method.

:class:`TrackFitter` places each track's hits on their detector modules and
fits them with :class:`~tracklearn.classical.kalman.KalmanFitter`: the final
fit of the ``ckf`` chain (which uses this fitter; this module never imports
the CKF) and of the tracks of any other method (``dbscan``, ``hough``,
``gnn``, ...), so that ``tracklearn reconstruct --fit`` writes their
parameters too.  :func:`parameters_from_fit` turns a
:class:`~tracklearn.classical.kalman.TrackFit` into the event data model's
:class:`~tracklearn.edm.TrackParameters` (the fit's perigee is already in its
``(d0, z0, φ, θ, q/p)`` order and convention).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tracklearn.classical.kalman import (
    KalmanConfig,
    KalmanFitter,
    TrackFit,
    local_position,
    module_surfaces,
)
from tracklearn.edm import Detector, Event, TrackCandidates, TrackParameters
from tracklearn.errors import DataError
from tracklearn.geometry.field import TRACKML_FIELD, MagneticField
from tracklearn.typing import FloatArray, IntArray

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


def measurement_sigma(detector: Detector, module: IntArray) -> FloatArray:
    """Hit resolution along module u, v [mm]: pitch / √12.  (N,) → (N, 2)."""
    return np.stack([detector.pitch_u[module], detector.pitch_v[module]], axis=1) / np.sqrt(12.0)


class TrackFitter:
    """Kalman fit + smoother of tracks whose hits lie on detector modules.

    Needs events in the TrackML geometry (the real events and
    ``simulate --detector trackml``): measurements are placed on the detector
    modules.  Tracks with fewer than 3 hits get no parameters.

    Parameters
    ----------
    detector
        Module geometry (default: the shared TrackML ``detectors.csv``, or the
        file ``detector_path``).
    field
        Magnetic field map.
    kalman
        Fitter settings (default: :class:`~tracklearn.classical.kalman.KalmanConfig`).
    detector_path
        ``detectors.csv(.gz)`` read when ``detector`` is None.
    """

    def __init__(
        self,
        detector: Detector | None = None,
        field: MagneticField = TRACKML_FIELD,
        kalman: KalmanConfig | None = None,
        detector_path: str | Path | None = None,
    ) -> None:
        if detector is None:
            from tracklearn.io.trackml import load_detector

            detector = load_detector(Path(detector_path) if detector_path else None)
        self.detector = detector
        self.field = field
        self.config = kalman or KalmanConfig()
        self.fitter = KalmanFitter(field, self.config)

    def fit(self, event: Event, tracks: TrackCandidates) -> TrackFit:
        """Final Kalman fit + smoother of every track (hits in track order).

        Tracks must have ≥ 3 hits.  Hits are ordered by distance from the origin
        within each track (track files do not keep the order), right for tracks
        from the collision region.
        """
        h = event.hits
        module = self.detector.check_hits(h.volume_id, h.layer_id, h.module_id, event.source)
        xyz = h.positions
        sigma = measurement_sigma(self.detector, module)
        dist = np.linalg.norm(xyz[tracks.hit_index], axis=1)
        order = np.lexsort((dist, tracks.track_of_entry()))
        rows = tracks.hit_index[order]
        surf = module_surfaces(self.detector, module[rows], self.config.material)
        meas = local_position(surf, xyz[rows])
        mcov = np.zeros((len(rows), 2, 2))
        mcov[:, 0, 0] = sigma[rows, 0] ** 2
        mcov[:, 1, 1] = sigma[rows, 1] ** 2
        return self.fitter.fit(meas, mcov, surf, tracks.offsets)

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
            fit = self.fit(event, sub)
        except DataError as exc:  # e.g. quick-detector events: no TrackML modules
            raise DataError(
                exc.source, f"{exc.problem} (fitting tracks needs the TrackML geometry)"
            ) from None
        return tracks.with_parameters(parameters_from_fit(fit, fittable))
