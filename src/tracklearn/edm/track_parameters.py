"""Fitted track parameters at the perigee, one row per fitted track.

Convention (the ACTS perigee, as :mod:`tracklearn.classical.kalman` fits it)
------------------------------------------------------------------------------
The reference line is the beam line (the global z axis, ``x = y = 0``).  The
parameters are given at the point of closest approach (PCA) of the track to it
in the transverse plane:

``d0`` [mm]
    Signed transverse impact parameter: ``d0 = -x_PCA sin φ + y_PCA cos φ``,
    i.e. the PCA's coordinate along ``(-sin φ, cos φ, 0)``.
``z0`` [mm]
    z of the PCA.
``phi`` [rad]
    Azimuth of the momentum at the PCA, in ``[-π, π]``.
``theta`` [rad]
    Polar angle of the momentum, in ``[0, π]``; ``η = -ln tan(θ/2)``.
``qop`` [e/GeV]
    Charge over momentum ``q/p``.

The covariance is 5×5 in exactly this order ``(d0, z0, φ, θ, q/p)``, units the
products of the above (mm², mm·rad, …, e²/GeV²).  Derived quantities
(``pt = sin θ / |q/p|`` [GeV], ``eta``, ``charge = sign(q/p)`` [e], ``p``) are
properties, never stored, so they cannot disagree with the fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from tracklearn.errors import DataError
from tracklearn.typing import FloatArray

#: Parameter names in covariance order, with their units.
PARAMETER_NAMES: tuple[str, ...] = ("d0", "z0", "phi", "theta", "qop")
PARAMETER_UNITS: tuple[str, ...] = ("mm", "mm", "rad", "rad", "e/GeV")

#: relative asymmetry of a covariance tolerated (and then removed) by the validation
_SYMMETRY_RTOL = 1e-6


@dataclass(frozen=True, eq=False)
class TrackParameters:
    """Perigee parameters, covariance and fit quality of fitted tracks.

    Only tracks with a successful fit have a row; ``track`` says which track of
    the :class:`~tracklearn.edm.TrackCandidates` each row belongs to.

    Attributes
    ----------
    track : int64, shape (M,)
        Track number (0-based row in the owning ``TrackCandidates``), unique.
    d0, z0 : float64, shape (M,)
        Transverse and longitudinal impact parameters [mm] (module docstring).
    phi, theta : float64, shape (M,)
        Momentum direction at the perigee [rad].
    qop : float64, shape (M,)
        Charge over momentum [e/GeV], non-zero.
    cov : float64, shape (M, 5, 5)
        Covariance of ``(d0, z0, phi, theta, qop)``: finite, symmetric (made
        exactly symmetric on construction), non-negative diagonal.
    chi2 : float64, shape (M,)
        χ² of the fit.
    ndf : int64, shape (M,)
        Degrees of freedom (2 per 2-D hit minus 5).

    >>> p = TrackParameters.from_arrays([0], [[0.0, 1.0, 0.5, np.pi / 2, -0.1]],
    ...                                 np.eye(5)[None] * 1e-4, [3.0], [5])
    >>> p.pt.round(6).tolist(), p.charge.tolist(), p.eta.round(6).tolist()
    ([10.0], [-1], [0.0])
    """

    track: npt.NDArray[np.int64]
    d0: FloatArray
    z0: FloatArray
    phi: FloatArray
    theta: FloatArray
    qop: FloatArray
    cov: FloatArray
    chi2: FloatArray
    ndf: npt.NDArray[np.int64]

    SOURCE: ClassVar[str] = "track parameters"

    def __post_init__(self) -> None:
        src = self.SOURCE
        track = np.asarray(self.track)
        if track.ndim != 1:
            raise DataError(src, f"track must be 1-D, got shape {track.shape}")
        if track.size and track.dtype.kind not in "iu":
            raise DataError(src, f"track must hold integers, got {track.dtype}")
        m = len(track)
        track = track.astype(np.int64)
        if m and track.min() < 0:
            raise DataError(src, "track numbers must be >= 0")
        if len(np.unique(track)) != m:
            raise DataError(src, "a track has more than one parameter row")
        values: dict[str, npt.NDArray[np.generic]] = {"track": track}
        for name in (*PARAMETER_NAMES, "chi2"):
            arr = np.asarray(getattr(self, name))
            if arr.dtype.kind not in "iuf":
                raise DataError(src, f"{name} must be numeric, got {arr.dtype}")
            arr = arr.astype(np.float64)
            if arr.shape != (m,):
                raise DataError(src, f"{name} must have shape ({m},), got {arr.shape}")
            bad = ~np.isfinite(arr)
            if bad.any():
                t = int(track[np.flatnonzero(bad)[0]])
                raise DataError(src, f"{name} of track {t} is NaN or infinite")
            values[name] = arr
        ndf = np.asarray(self.ndf)
        if ndf.shape != (m,) or (ndf.size and ndf.dtype.kind not in "iu"):
            raise DataError(src, f"ndf must be integers of shape ({m},)")
        values["ndf"] = ndf.astype(np.int64)
        if m and (values["theta"].min() < 0 or values["theta"].max() > np.pi):
            raise DataError(src, "theta outside [0, pi]")
        if np.any(values["qop"] == 0):
            raise DataError(src, "qop is 0 (infinite momentum)")
        values["cov"] = _checked_covariance(self.cov, track, src)
        for name, arr in values.items():
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)

    # ------------------------------------------------------------------ build
    @classmethod
    def from_arrays(
        cls,
        track: npt.ArrayLike,
        params: npt.ArrayLike,
        cov: npt.ArrayLike,
        chi2: npt.ArrayLike,
        ndf: npt.ArrayLike,
    ) -> TrackParameters:
        """Build from a ``(M, 5)`` parameter matrix in ``(d0, z0, φ, θ, q/p)`` order."""
        par = np.asarray(params, dtype=np.float64)
        if par.ndim != 2 or par.shape[1] != 5:
            raise DataError(cls.SOURCE, f"params must have shape (M, 5), got {par.shape}")
        return cls(
            track=np.asarray(track),
            d0=par[:, 0],
            z0=par[:, 1],
            phi=par[:, 2],
            theta=par[:, 3],
            qop=par[:, 4],
            cov=np.asarray(cov, dtype=np.float64),
            chi2=np.asarray(chi2, dtype=np.float64),
            ndf=np.asarray(ndf),
        )

    @classmethod
    def empty(cls) -> TrackParameters:
        z = np.zeros(0)
        return cls(np.zeros(0, np.int64), z, z, z, z, z, np.zeros((0, 5, 5)), z, z.astype(np.int64))

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return len(self.track)

    @property
    def vector(self) -> FloatArray:
        """Parameters as a matrix in covariance order, shape (M, 5)."""
        return np.stack([getattr(self, n) for n in PARAMETER_NAMES], axis=1)

    @property
    def sigma(self) -> FloatArray:
        """Standard deviations ``sqrt(diag(cov))``, shape (M, 5)."""
        return np.sqrt(np.einsum("kii->ki", self.cov))

    @property
    def pt(self) -> FloatArray:
        """Transverse momentum sin θ / |q/p| [GeV], shape (M,)."""
        return np.asarray(np.sin(self.theta) / np.abs(self.qop))

    @property
    def p(self) -> FloatArray:
        """Momentum 1 / |q/p| [GeV] (unit charge), shape (M,)."""
        return np.asarray(1.0 / np.abs(self.qop))

    @property
    def eta(self) -> FloatArray:
        """Pseudorapidity -ln tan(θ/2), shape (M,)."""
        return np.asarray(-np.log(np.tan(0.5 * self.theta)))

    @property
    def charge(self) -> npt.NDArray[np.int64]:
        """Charge sign(q/p) [e], shape (M,)."""
        return np.sign(self.qop).astype(np.int64)

    def take(self, rows: npt.ArrayLike) -> TrackParameters:
        """Rows ``rows`` (integer array or boolean mask), as a new table."""
        r = np.asarray(rows)
        return TrackParameters(
            self.track[r],
            self.d0[r],
            self.z0[r],
            self.phi[r],
            self.theta[r],
            self.qop[r],
            self.cov[r],
            self.chi2[r],
            self.ndf[r],
        )

    def renumbered(self, track: npt.ArrayLike) -> TrackParameters:
        """The same rows owned by other track numbers (same length)."""
        return TrackParameters(
            np.asarray(track),
            self.d0,
            self.z0,
            self.phi,
            self.theta,
            self.qop,
            self.cov,
            self.chi2,
            self.ndf,
        )


def _checked_covariance(cov: npt.ArrayLike, track: npt.NDArray[np.int64], src: str) -> FloatArray:
    """Validate ``(M, 5, 5)`` covariances; return them exactly symmetric (new array)."""
    c = np.asarray(cov)
    m = len(track)
    if c.shape != (m, 5, 5):
        raise DataError(src, f"cov must have shape ({m}, 5, 5), got {c.shape}")
    if c.dtype.kind not in "iuf":
        raise DataError(src, f"cov must be numeric, got {c.dtype}")
    c = c.astype(np.float64)
    finite = np.all(np.isfinite(c), axis=(1, 2))
    if not finite.all():
        t = int(track[np.flatnonzero(~finite)[0]])
        raise DataError(src, f"covariance of track {t} has NaN or infinite entries")
    diag = np.einsum("kii->ki", c)
    neg = np.any(diag < 0, axis=1)
    if neg.any():
        t = int(track[np.flatnonzero(neg)[0]])
        raise DataError(src, f"covariance of track {t} has a negative variance")
    ct = np.transpose(c, (0, 2, 1))
    # compare off-diagonal terms to the geometric mean of their variances
    scale = np.sqrt(diag[:, :, None] * diag[:, None, :])
    asym = np.abs(c - ct) > _SYMMETRY_RTOL * scale + 1e-300
    if asym.any():
        t = int(track[np.flatnonzero(asym.any(axis=(1, 2)))[0]])
        raise DataError(src, f"covariance of track {t} is not symmetric")
    # 0.5 (a + b) is exactly commutative in IEEE arithmetic: the result is
    # exactly symmetric, so storing the upper triangle round-trips bit for bit
    out: FloatArray = 0.5 * (c + ct)
    return out
