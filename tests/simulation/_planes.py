"""Hand-built planar detectors for exact tests."""

from __future__ import annotations

import numpy as np

from tracklearn.edm.detector import Detector


def barrel_plane_detector(
    distances: list[float],
    half_u: float = 50.0,
    half_v: float = 200.0,
    thickness: float = 0.15,
    pitch: tuple[float, float] = (0.05, 0.05),
    phi: float = 0.0,
    max_half_u: float | None = None,
    volume: int | list[int] = 8,
) -> Detector:
    """One flat module per layer, normal along (cos φ, sin φ, 0) at distance d.

    Local axes: u = (−sin φ, cos φ, 0), v = z, w = the normal.  ``volume``: the
    volume id of every layer, or one per layer.
    """
    n = len(distances)
    c, s = np.cos(phi), np.sin(phi)
    d = np.asarray(distances, dtype=np.float64)
    cols = {
        "volume_id": np.broadcast_to(np.asarray(volume), (n,)).copy(),
        "layer_id": 2 * np.arange(1, n + 1),
        "module_id": np.ones(n, dtype=np.int64),
        "cx": d * c,
        "cy": d * s,
        "cz": np.zeros(n),
        "rot_xu": np.full(n, -s),
        "rot_xv": np.zeros(n),
        "rot_xw": np.full(n, c),
        "rot_yu": np.full(n, c),
        "rot_yv": np.zeros(n),
        "rot_yw": np.full(n, s),
        "rot_zu": np.zeros(n),
        "rot_zv": np.ones(n),
        "rot_zw": np.zeros(n),
        "module_t": np.full(n, thickness),
        "module_minhu": np.full(n, half_u),
        "module_maxhu": np.full(n, half_u if max_half_u is None else max_half_u),
        "module_hv": np.full(n, half_v),
        "pitch_u": np.full(n, pitch[0]),
        "pitch_v": np.full(n, pitch[1]),
    }
    return Detector.from_columns(cols, "test detector")
