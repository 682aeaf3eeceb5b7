"""Track-parameter resolution and pulls of fitted tracks against truth.

Definitions (written once here)
-------------------------------
- **Which tracks**: tracks with fitted parameters that are double-majority
  matched (:func:`~tracklearn.metrics.match_tracks`) to a *target* particle
  (:class:`~tracklearn.metrics.TargetSelection`) produced within
  ``max_vertex_r`` [mm] of the beam line (secondaries from far out would need a
  propagation through material to define a true perigee).
- **True parameters**: the perigee of the helix through the particle's
  production vertex with its production momentum, in the field ``Bz`` at the
  vertex (:func:`~tracklearn.geometry.perigee.perigee_from_point`).
- **Residual** = fitted − true (φ wrapped to [-π, π)); **pull** = residual / σ
  with σ the square root of the fitted covariance's diagonal.
- **σ(pT)/pT** in a bin of true pT: half the central 68 % interval of
  ``pT_fit / pT_true − 1`` (:func:`central_half_width`; equals σ for a
  Gaussian and ignores tails).  The **barrel** is ``|η_true| < 1``.
- **Pull widths**: ``width_68`` (central half-width as above), ``std`` (all
  pulls) and the Gaussian fit ``core_mean`` / ``core_sigma`` (maximum
  likelihood, i.e. mean and standard deviation, of pulls with ``|pull| < 5``).
- **Coverage** (:mod:`tracklearn.metrics.calibration`): per parameter the
  fraction of pulls inside the central 68 % and 95 % intervals
  (``coverage_0.68``, ``coverage_0.95``; 0.68 / 0.95 when calibrated), and for
  the full covariance the fraction of ``χ² = rᵀ Σ⁻¹ r`` (5 parameters) below
  the 68 % / 95 % quantiles of χ²(5) (``covariance_coverage``).
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Event, TrackCandidates
from tracklearn.edm.track_parameters import PARAMETER_NAMES
from tracklearn.errors import DataError
from tracklearn.geometry.coords import wrap_phi
from tracklearn.geometry.field import TRACKML_FIELD, MagneticField
from tracklearn.geometry.perigee import perigee_from_point
from tracklearn.metrics.calibration import chi2_coverage, interval_coverage
from tracklearn.metrics.matching import match_tracks
from tracklearn.metrics.targets import TargetSelection, target_mask
from tracklearn.typing import FloatArray

__all__ = [
    "BARREL_ETA_MAX",
    "PT_EDGES",
    "Residuals",
    "central_half_width",
    "pt_resolution",
    "pull_widths",
    "resolution_summary",
    "track_residuals",
]

#: pT bin edges of the resolution table [GeV].
PT_EDGES: tuple[float, ...] = (1.0, 2.0, 5.0, 8.0, 12.0, 20.0, 50.0)
#: |η| below which a particle counts as barrel.
BARREL_ETA_MAX = 1.0
#: pulls beyond this are left out of the Gaussian core fit.
PULL_CLIP = 5.0


def central_half_width(x: npt.ArrayLike) -> float:
    """Half the central 68 % interval (16 %–84 % quantiles); NaN for < 5 values.

    >>> round(central_half_width(np.linspace(-1.0, 1.0, 101)), 6)
    0.68
    """
    v = np.asarray(x, dtype=np.float64)
    if len(v) < 5:
        return float("nan")
    lo, hi = np.quantile(v, [0.16, 0.84])
    return float(0.5 * (hi - lo))


@dataclass(frozen=True, eq=False)
class Residuals:
    """Fitted and true perigee parameters of matched tracks (module docstring).

    Attributes
    ----------
    event_id, track, particle_id : int64, shape (M,)
        Event, track number in its ``TrackCandidates`` and matched particle.
    pt_true : float64, shape (M,)
        True transverse momentum [GeV].
    eta_true : float64, shape (M,)
        True pseudorapidity.
    truth, fitted, sigma : float64, shape (M, 5)
        True and fitted ``(d0, z0, φ, θ, q/p)`` and the fitted standard
        deviations [mm, mm, rad, rad, e/GeV].
    cov : float64, shape (M, 5, 5), optional
        The fitted covariance (None: only ``sigma`` is known).
    """

    event_id: npt.NDArray[np.int64]
    track: npt.NDArray[np.int64]
    particle_id: npt.NDArray[np.int64]
    pt_true: FloatArray
    eta_true: FloatArray
    truth: FloatArray
    fitted: FloatArray
    sigma: FloatArray
    cov: FloatArray | None = None

    def __len__(self) -> int:
        return len(self.track)

    @property
    def residual(self) -> FloatArray:
        """Fitted − true, φ wrapped to [-π, π), shape (M, 5)."""
        d = self.fitted - self.truth
        d[:, 2] = wrap_phi(d[:, 2])
        return d

    @property
    def pull(self) -> FloatArray:
        """Residual / fitted σ, shape (M, 5)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return self.residual / self.sigma

    @property
    def chi2(self) -> FloatArray:
        """``rᵀ Σ⁻¹ r`` of the residual with the full covariance (diagonal without it), (M,)."""
        r = self.residual
        if self.cov is None:
            with np.errstate(divide="ignore", invalid="ignore"):
                return np.asarray(np.sum((r / self.sigma) ** 2, axis=1))
        out = np.full(len(r), np.nan)
        for i in range(len(r)):  # solve per track: a singular covariance gives NaN, not a crash
            with contextlib.suppress(np.linalg.LinAlgError):
                out[i] = float(r[i] @ np.linalg.solve(self.cov[i], r[i]))
        return out

    @property
    def pt_fit(self) -> FloatArray:
        return np.asarray(np.sin(self.fitted[:, 3]) / np.abs(self.fitted[:, 4]))

    @property
    def rel_pt(self) -> FloatArray:
        """``pT_fit / pT_true − 1``, shape (M,)."""
        return self.pt_fit / self.pt_true - 1.0

    @classmethod
    def concatenate(cls, parts: Sequence[Residuals]) -> Residuals:
        if not parts:
            z = np.zeros(0)
            zi = np.zeros(0, np.int64)
            e = np.zeros((0, 5))
            return cls(zi, zi, zi, z, z, e, e, e, np.zeros((0, 5, 5)))
        arrays: dict[str, Any] = {
            f: np.concatenate([getattr(p, f) for p in parts])
            for f in cls.__dataclass_fields__
            if f != "cov"
        }
        covs = [p.cov for p in parts]
        arrays["cov"] = None if any(c is None for c in covs) else np.concatenate(covs)  # type: ignore[arg-type]
        return cls(**arrays)


def track_residuals(
    event: Event,
    tracks: TrackCandidates,
    *,
    targets: TargetSelection | None = None,
    field: MagneticField = TRACKML_FIELD,
    max_vertex_r: float = 10.0,  # mm
) -> Residuals:
    """Residuals of the fitted tracks of ``event`` matched to target particles.

    Parameters
    ----------
    event
        Event with ``truth`` and ``particles``.
    tracks
        Track candidates carrying ``parameters``.
    targets
        Target-particle cuts (default ``TargetSelection()``).
    field
        Field whose ``Bz`` at each vertex defines the true helix.
    max_vertex_r
        Particles produced further from the beam line [mm] are left out.
    """
    if tracks.parameters is None:
        raise DataError(event.source, "tracks have no fitted parameters")
    if event.particles is None:
        raise DataError(event.source, "resolutions need the particles table")
    par = tracks.parameters
    match = match_tracks(event, tracks)
    parts = event.particles
    is_target = target_mask(event, targets)
    order = np.argsort(parts.particle_id, kind="stable")
    pid = match.majority_particle[par.track]
    pos = np.clip(np.searchsorted(parts.particle_id[order], pid), 0, max(len(order) - 1, 0))
    row = order[pos] if len(order) else np.zeros(len(pid), np.int64)
    ok = match.matched[par.track] & (pid != 0)
    if len(order):
        ok &= parts.particle_id[row] == pid
        ok &= is_target[row]
        ok &= np.hypot(parts.vx[row], parts.vy[row]) < max_vertex_r
        ok &= parts.q[row] != 0
    else:
        ok[:] = False
    sel = np.flatnonzero(ok)
    r = row[sel]
    bz = field.bz(np.hypot(parts.vx[r], parts.vy[r]), parts.vz[r])
    truth = perigee_from_point(
        parts.vx[r], parts.vy[r], parts.vz[r], parts.px[r], parts.py[r], parts.pz[r], parts.q[r], bz
    ).reshape(-1, 5)
    return Residuals(
        event_id=np.full(len(sel), event.event_id, dtype=np.int64),
        track=par.track[sel],
        particle_id=pid[sel],
        pt_true=parts.pt[r],
        eta_true=parts.eta[r],
        truth=truth,
        fitted=par.vector[sel],
        sigma=par.sigma[sel],
        cov=par.cov[sel],
    )


def pt_resolution(
    res: Residuals, pt_edges: Sequence[float] = PT_EDGES, eta_max: float | None = None
) -> list[dict[str, Any]]:
    """σ(pT)/pT per true-pT bin, optionally for ``|η_true| < eta_max`` only.

    One dict per bin: ``pt_lo``, ``pt_hi`` [GeV], ``n`` tracks, ``sigma_pt_over_pt``
    (central half-width, NaN under 5 tracks) and ``median`` of ``pT_fit/pT_true − 1``.
    """
    keep = np.ones(len(res), bool) if eta_max is None else np.abs(res.eta_true) < eta_max
    rel = res.rel_pt
    out = []
    for lo, hi in itertools.pairwise(pt_edges):
        m = keep & (res.pt_true >= lo) & (res.pt_true < hi)
        out.append(
            {
                "pt_lo": float(lo),
                "pt_hi": float(hi),
                "n": int(m.sum()),
                "sigma_pt_over_pt": central_half_width(rel[m]),
                "median": float(np.median(rel[m])) if m.any() else float("nan"),
            }
        )
    return out


def pull_widths(res: Residuals) -> dict[str, dict[str, float]]:
    """Per parameter: ``n``, ``mean``, ``std``, ``width_68``, ``core_mean``, ``core_sigma``,
    ``coverage_0.68``, ``coverage_0.95``."""
    pulls = res.pull
    out: dict[str, dict[str, float]] = {}
    for j, name in enumerate(PARAMETER_NAMES):
        p = pulls[:, j]
        p = p[np.isfinite(p)]
        core = p[np.abs(p) < PULL_CLIP]
        out[name] = {
            "n": float(len(p)),
            "mean": float(p.mean()) if len(p) else float("nan"),
            "std": float(p.std()) if len(p) else float("nan"),
            "width_68": central_half_width(p),
            "core_mean": float(core.mean()) if len(core) else float("nan"),
            "core_sigma": float(core.std()) if len(core) > 1 else float("nan"),
            **{f"coverage_{k}": v for k, v in interval_coverage(p).items()},
        }
    return out


def resolution_summary(res: Residuals, pt_edges: Sequence[float] = PT_EDGES) -> dict[str, Any]:
    """Everything ``resolution.json`` holds (see the module docstring)."""
    return {
        "n_tracks": len(res),
        "pt_resolution": {
            "barrel": pt_resolution(res, pt_edges, BARREL_ETA_MAX),
            "all": pt_resolution(res, pt_edges),
        },
        "pulls": pull_widths(res),
        "covariance_coverage": chi2_coverage(res.chi2, len(PARAMETER_NAMES)),
        "residual_width_68": {
            name: central_half_width(res.residual[:, j]) for j, name in enumerate(PARAMETER_NAMES)
        },
        "definitions": {
            "tracks": "fitted tracks double-majority matched to target particles with "
            "production vertex r < max_vertex_r",
            "truth": "perigee of the helix through the production vertex with the production "
            "momentum, Bz at the vertex",
            "sigma_pt_over_pt": "half the central 68% interval of pT_fit/pT_true - 1",
            "barrel": f"|eta_true| < {BARREL_ETA_MAX}",
            "pull": "(fitted - true) / sqrt(cov_ii); width_68 = half the central 68% "
            f"interval; core_mean/core_sigma = Gaussian ML fit of |pull| < {PULL_CLIP}",
            "coverage": "coverage_q = fraction of |pull| < the central-q quantile of N(0, 1); "
            "covariance_coverage = fraction of chi2 = r^T cov^-1 r below the q quantile of "
            "chi2(5)",
            "units": "d0, z0 [mm]; phi, theta [rad]; qop [e/GeV]; pt [GeV]",
        },
    }
