"""Fitted track parameters on disk: ``event<id>-track-params.parquet``.

(``reconstruct --format root`` writes the same columns as the ``track_params``
tree of ``event<id>-tracks.root``: :mod:`tracklearn.io.root`.)

One row per fitted track (tracks without a fit have no row).  Columns:

=================  =======  ====================================================
column             dtype    meaning
=================  =======  ====================================================
``event_id``       int64    event number
``track_id``       int64    the track's label in ``event<id>-tracks.csv``
``d0``, ``z0``     float64  impact parameters at the perigee [mm]
``phi``, ``theta`` float64  momentum direction at the perigee [rad]
``qop``            float64  charge / momentum [e/GeV]
``pt``             float64  sin θ / |q/p| [GeV] (derived, for convenience)
``eta``            float64  -ln tan(θ/2) (derived)
``charge``         int8     sign(q/p) [e] (derived)
``chi2``           float64  χ² of the fit
``ndf``            int64    degrees of freedom
``cov_<a>_<b>``    float64  covariance of parameters a, b: the 15 entries of the
                            upper triangle (a before or equal to b in the order
                            d0, z0, phi, theta, qop), e.g. ``cov_d0_d0``,
                            ``cov_d0_z0``, …, ``cov_qop_qop``
=================  =======  ====================================================

The perigee is taken with respect to the beam line (x = y = 0); the sign of
``d0`` and all conventions are those of :mod:`tracklearn.edm.track_parameters`.
The derived columns are recomputed on reading (never trusted), so a
write/read round trip reproduces the parameters and covariance bit for bit.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from tracklearn.edm import TrackParameters
from tracklearn.edm.track_parameters import PARAMETER_NAMES, PARAMETER_UNITS
from tracklearn.errors import DataError
from tracklearn.io.atomic import atomic_path
from tracklearn.io.event_parts import event_prefix_name

#: (row, column) of the 15 stored covariance entries, upper triangle row by row
COV_INDEX: tuple[tuple[int, int], ...] = tuple(
    (i, j) for i, j in itertools.product(range(5), range(5)) if i <= j
)
#: their column names
COV_COLUMNS: tuple[str, ...] = tuple(
    f"cov_{PARAMETER_NAMES[i]}_{PARAMETER_NAMES[j]}" for i, j in COV_INDEX
)
#: every column, in file order
COLUMNS: tuple[str, ...] = (
    "event_id",
    "track_id",
    *PARAMETER_NAMES,
    "pt",
    "eta",
    "charge",
    "chi2",
    "ndf",
    *COV_COLUMNS,
)
#: the conventions of the parameters, stored with them (Parquet metadata, ROOT tree title)
CONVENTION = (
    "perigee w.r.t. the beam line (x = y = 0); d0 = PCA . (-sin phi, cos phi, 0); "
    "covariance order d0, z0, phi, theta, qop"
)
#: their units, stored the same way
UNITS = ", ".join(f"{n} [{u}]" for n, u in zip(PARAMETER_NAMES, PARAMETER_UNITS, strict=True))
_METADATA = {b"tracklearn.convention": CONVENTION.encode(), b"tracklearn.units": UNITS.encode()}


def track_params_path(out_dir: str | Path, event_id: int) -> Path:
    return Path(out_dir) / f"{event_prefix_name(event_id)}-track-params.parquet"


def track_params_columns(
    event_id: int, params: TrackParameters, track_id: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """The file's columns (:data:`COLUMNS`, in order) for ``params`` of event ``event_id``.

    ``track_id`` is each row's label in the tracks file; by default
    ``params.track + 1``, which is what :func:`~tracklearn.io.tracks.write_tracks`
    writes for track ``params.track``.
    """
    tid = params.track + 1 if track_id is None else np.asarray(track_id, dtype=np.int64)
    if tid.shape != params.track.shape:
        raise DataError("track parameters", "track_id must have one entry per row")
    cols: dict[str, np.ndarray] = {
        "event_id": np.full(len(params), event_id, dtype=np.int64),
        "track_id": tid,
        **{n: getattr(params, n) for n in PARAMETER_NAMES},
        "pt": params.pt,
        "eta": params.eta,
        "charge": params.charge.astype(np.int8),
        "chi2": params.chi2,
        "ndf": params.ndf,
    }
    for name, (i, j) in zip(COV_COLUMNS, COV_INDEX, strict=True):
        cols[name] = params.cov[:, i, j]
    return cols


def write_track_params(
    out_dir: str | Path, event_id: int, params: TrackParameters, track_id: np.ndarray | None = None
) -> Path:
    """Write ``params`` of event ``event_id`` atomically; returns the path.

    ``track_id`` as in :func:`track_params_columns`.
    """
    cols = track_params_columns(event_id, params, track_id)
    table = pa.table(cols).replace_schema_metadata(_METADATA)
    path = track_params_path(out_dir, event_id)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")
    return path


def read_track_params(path: str | Path) -> tuple[np.ndarray, TrackParameters]:
    """Read a parameter file: ``(track_id (M,), parameters)``.

    The returned table's ``track`` is ``track_id - 1`` (the track number
    ``reconstruct`` wrote); callers that read the tracks file themselves map
    ``track_id`` to their own track rows.

    Raises
    ------
    DataError
        Unreadable file, missing column, wrong dtype, or invalid values
        (NaN covariance, ...), naming the file.
    """
    name = str(path)
    if not Path(path).exists():
        raise DataError(name, "file does not exist")
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise DataError(name, f"unreadable Parquet file ({exc})") from None
    missing = [c for c in COLUMNS if c not in table.column_names]
    if missing:
        raise DataError(name, f"missing column {missing[0]!r}")
    return params_from_columns(
        name, {c: table.column(c).to_numpy(zero_copy_only=False) for c in COLUMNS}
    )


def params_from_columns(
    name: str, cols: Mapping[str, np.ndarray[Any, Any]]
) -> tuple[np.ndarray, TrackParameters]:
    """Check the columns of a parameter file (every one of :data:`COLUMNS`) and build
    ``(track_id (M,), parameters)`` as :func:`read_track_params` returns them;
    problems raise :class:`DataError` naming ``name``."""
    for c in ("event_id", "track_id", "ndf"):
        if cols[c].dtype.kind not in "iu":
            raise DataError(name, f"column {c!r} must hold integers (found {cols[c].dtype})")
    tid = cols["track_id"].astype(np.int64)
    if len(tid) and tid.min() < 1:
        raise DataError(name, "track_id must be >= 1 (0 means unassigned in the tracks file)")
    cov = np.empty((len(tid), 5, 5))
    for c, (i, j) in zip(COV_COLUMNS, COV_INDEX, strict=True):
        cov[:, i, j] = cov[:, j, i] = cols[c]
    try:
        # validated with the file's track_id, so that errors name the row users see
        params = TrackParameters(
            track=tid,
            **{n: cols[n] for n in PARAMETER_NAMES},
            cov=cov,
            chi2=cols["chi2"],
            ndf=cols["ndf"],
        )
    except DataError as exc:
        raise DataError(name, exc.problem.replace("track ", "track_id ", 1)) from None
    return tid, params.renumbered(tid - 1)
