"""The length of an event's luminous region, measured from its own hits.

The two real TrackML releases spread their primary vertices along z by
σ ≈ 5.5 mm (Kaggle) and σ ≈ 49 mm (CodaLab); a seeding window fixed for one
loses tracks or wastes time on the other.  Straight lines through nearly
aligned hit pairs of the two innermost barrel layers point back to the beam
line at the vertices' z; random pairs, measured with the same window moved far
away in azimuth (where no particle's pairs lie), are subtracted, and the spread
of what remains measures σz per event.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.optimize import curve_fit

from tracklearn.fullspectrum.grid import HitGrid
from tracklearn.fullspectrum.layers import LayerTable

FloatArray = npt.NDArray[np.float64]

#: azimuth difference of the pairs used [rad] (pT above about 1 GeV at 2 T)
PAIR_DPHI = 0.01
#: offset of the background window [rad]: no particle above 0.05 GeV bends that much
SIDEBAND = 0.3
#: |z0| range histogrammed [mm], and its bin width
Z0_RANGE = 400.0
BIN = 2.0
#: fewer signal pairs than this: no measurement
MIN_SIGNAL = 30.0


def luminous_sigma(grid: HitGrid, table: LayerTable) -> float | None:
    """σz [mm] of the primary vertices, or None when the event has too few pairs."""
    barrels = np.nonzero(table.barrel)[0]
    if len(barrels) < 2:
        return None
    inner = barrels[np.argsort(table.position[barrels])[:2]]
    a0, a1 = grid.layer_start[inner[0]], grid.layer_start[inner[0] + 1]
    b0, b1 = grid.layer_start[inner[1]], grid.layer_start[inner[1] + 1]
    if a1 - a0 < 2 or b1 - b0 < 2:
        return None
    pa = grid.phi[a0:a1]
    oa = np.argsort(pa)
    pa = pa[oa]
    ra, za = grid.r[a0:a1][oa], grid.z[a0:a1][oa]
    pb, rb, zb = grid.phi[b0:b1], grid.r[b0:b1], grid.z[b0:b1]
    edges = np.arange(-Z0_RANGE, Z0_RANGE + BIN, BIN)
    # φ is periodic: pad the sorted inner layer by one turn on both sides
    pa = np.concatenate([pa - 2 * np.pi, pa, pa + 2 * np.pi])
    ra, za = np.tile(ra, 3), np.tile(za, 3)

    def z0_hist(offset: float) -> npt.NDArray[np.float64]:
        lo = np.searchsorted(pa, pb + offset - PAIR_DPHI)
        hi = np.searchsorted(pa, pb + offset + PAIR_DPHI)
        cnt = hi - lo
        ib = np.repeat(np.arange(len(pb)), cnt)
        ia = np.repeat(lo - np.cumsum(cnt) + cnt, cnt) + np.arange(cnt.sum())
        z0 = za[ia] - ra[ia] * (zb[ib] - za[ia]) / (rb[ib] - ra[ia])
        return np.histogram(z0, edges)[0].astype(np.float64)

    offsets = (SIDEBAND, -SIDEBAND, 2 * SIDEBAND, -2 * SIDEBAND)
    background = sum(z0_hist(o) for o in offsets) / len(offsets)
    signal = z0_hist(0.0) - background
    if signal.sum() < MIN_SIGNAL:
        return None
    # a Gaussian over what background the sidebands leave (a constant)
    centres = 0.5 * (edges[1:] + edges[:-1])

    def model(z: FloatArray, amp: float, mu: float, sigma: float, c: float) -> FloatArray:
        return amp * np.exp(-0.5 * ((z - mu) / sigma) ** 2) + c

    peak = float(centres[np.argmax(np.convolve(signal, np.ones(5) / 5, mode="same"))])
    start = (float(signal.max()), peak, 10.0, 0.0)
    try:
        popt, _cov = curve_fit(
            model, centres, signal, p0=start,
            bounds=([0.0, -Z0_RANGE, 0.5, -np.inf], [np.inf, Z0_RANGE, Z0_RANGE, np.inf]),
        )  # fmt: skip
    except (RuntimeError, ValueError):
        return None
    amp, _mu, sigma, _c = popt
    if amp * sigma * np.sqrt(2 * np.pi) / BIN < MIN_SIGNAL:
        return None
    return float(sigma)
