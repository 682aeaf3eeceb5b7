"""Event displays: x-y and r-z views with hits coloured by track."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from matplotlib.axes import Axes

from tracklearn.edm import Hits


def track_colours(labels: npt.NDArray[np.int64], seed: int = 0) -> npt.NDArray[np.float64]:
    """An RGBA colour per hit: one random hue per label, grey for label ≤ 0, shape (N, 4)."""
    from matplotlib import colormaps

    uniq, inv = np.unique(labels, return_inverse=True)
    rng = np.random.default_rng(seed)
    palette = colormaps["tab20"](rng.permutation(len(uniq)) % 20)
    colours = palette[inv]
    colours[labels <= 0] = (0.6, 0.6, 0.6, 0.5)
    return np.asarray(colours)


def track_segments(
    a: npt.NDArray[np.float64],
    b: npt.NDArray[np.float64],
    r: npt.NDArray[np.float64],
    labels: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Segments joining consecutive hits (in r) of each track, for a LineCollection.

    Returns the segments, shape (S, 2, 2) in the (a, b) plane, and the hit row each
    segment starts from (to colour it), shape (S,).  Unassigned hits (label ≤ 0) get none.
    """
    rows = np.flatnonzero(labels > 0)
    rows = rows[np.lexsort((r[rows], labels[rows]))]
    same = labels[rows[1:]] == labels[rows[:-1]]
    start, end = rows[:-1][same], rows[1:][same]
    seg = np.stack([np.stack([a[start], b[start]], 1), np.stack([a[end], b[end]], 1)], axis=1)
    return seg, start


def draw_event(
    ax_xy: Axes, ax_rz: Axes, hits: Hits, labels: npt.NDArray[np.int64], *, title: str = ""
) -> None:
    """Draw ``hits`` in x-y and r-z (signed r = r·sign(y)) coloured by ``labels``.

    Parameters
    ----------
    labels : shape (N,)
        Track (or particle) label per hit; ≤ 0 is drawn small and grey (noise or unassigned).
    """
    colours = track_colours(labels)
    assigned = labels > 0
    sizes = np.where(assigned, 1.5, 0.5)
    r_signed = hits.r * np.where(hits.y >= 0, 1.0, -1.0)
    from matplotlib.collections import LineCollection

    r = hits.r
    for ax, (a, b) in ((ax_xy, (hits.x, hits.y)), (ax_rz, (hits.z, r_signed))):
        seg, start = track_segments(a, b, r, labels)
        ax.add_collection(
            LineCollection(list(seg), colors=colours[start], linewidths=0.5, alpha=0.8)
        )
    ax_xy.scatter(hits.x, hits.y, s=sizes, c=colours, linewidths=0, rasterized=True)
    ax_xy.set_xlabel("x [mm]")
    ax_xy.set_ylabel("y [mm]")
    ax_xy.set_aspect("equal")
    ax_rz.scatter(hits.z, r_signed, s=sizes, c=colours, linewidths=0, rasterized=True)
    ax_rz.set_xlabel("z [mm]")
    ax_rz.set_ylabel("r · sign(y) [mm]")
    if title:
        ax_xy.set_title(f"{title} — x-y")
        ax_rz.set_title(f"{title} — r-z")
