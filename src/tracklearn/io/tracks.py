"""Reconstructed tracks on disk, in TrackML submission form.

``event<id>-tracks.csv`` has columns ``hit_id,track_id`` with one row per hit;
``track_id`` 0 means the hit is unassigned.  ``reconstruct --format root`` writes
``event<id>-tracks.root`` instead (TTree ``tracks``, the same columns; the fitted
parameters in its TTree ``track_params``: :mod:`tracklearn.io.root`); readers
take either (:func:`find_tracks_file`).  ``reconstruct`` also leaves
``event<id>-timing.json`` (wall seconds and peak RSS) for ``evaluate`` and,
for methods that fit their tracks and CSV output, ``event<id>-track-params.parquet``
(:mod:`tracklearn.io.track_params`).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from tracklearn.edm import Event, TrackCandidates
from tracklearn.errors import ConfigError, DataError
from tracklearn.io.atomic import atomic_path, write_text_atomic
from tracklearn.io.trackml import event_prefix_name, read_csv_checked

#: the formats ``reconstruct`` writes tracks in (``--format``)
TRACK_FORMATS = ("csv", "root")


def tracks_path(out_dir: str | Path, event_id: int, fmt: str = "csv") -> Path:
    """``out_dir/event<id>-tracks.csv`` (or ``.root`` for ``fmt="root"``)."""
    if fmt not in TRACK_FORMATS:
        raise ConfigError(f"unknown tracks format {fmt!r}; valid: {', '.join(TRACK_FORMATS)}")
    return Path(out_dir) / f"{event_prefix_name(event_id)}-tracks.{fmt}"


def find_tracks_file(out_dir: str | Path, event_id: int) -> Path:
    """The event's tracks file in ``out_dir``: ``.csv`` or ``.root``, whichever exists.

    Both present is ambiguous and raises :class:`DataError` naming both; neither
    returns the CSV path (reading it then says that it does not exist).
    """
    found = [p for fmt in TRACK_FORMATS if (p := tracks_path(out_dir, event_id, fmt)).exists()]
    if len(found) > 1:
        raise DataError(
            found[0], f"both {found[0].name} and {found[1].name} exist; remove one of them"
        )
    return found[0] if found else tracks_path(out_dir, event_id)


def timing_path(out_dir: str | Path, event_id: int) -> Path:
    return Path(out_dir) / f"{event_prefix_name(event_id)}-timing.json"


def write_tracks(
    out_dir: str | Path, event: Event, tracks: TrackCandidates, fmt: str = "csv"
) -> Path:
    """Write ``tracks`` of ``event`` as ``hit_id,track_id`` (every hit once), atomically.

    ``fmt="root"`` writes ``event<id>-tracks.root`` instead, with the tracks'
    fitted parameters (when they have some) as its ``track_params`` tree
    (:func:`tracklearn.io.root.write_tracks_root`); the other tracks file of the
    event is removed, so a folder never holds both.  Tracks that carry scored edges
    also get ``event<id>-edge-scores.parquet`` and ``event<id>-track-scores.csv``
    (:mod:`tracklearn.io.scores`).
    """
    path = tracks_path(out_dir, event.event_id, fmt)
    if tracks.n_hits != event.n_hits:
        raise DataError(
            event.source, f"tracks cover {tracks.n_hits} hits, event has {event.n_hits}"
        )
    labels = tracks.to_labels()
    if fmt == "root":
        from tracklearn.io.root import write_tracks_root

        write_tracks_root(out_dir, event.event_id, event.hits.hit_id, labels, tracks.parameters)
    else:
        df = pd.DataFrame({"hit_id": event.hits.hit_id, "track_id": labels})
        with atomic_path(path) as tmp:
            df.to_csv(tmp, index=False)
    for other in TRACK_FORMATS:
        if other != fmt:
            tracks_path(out_dir, event.event_id, other).unlink(missing_ok=True)
    from tracklearn.io.scores import remove_scores, write_scores

    if tracks.edges is not None:  # classifier scores (and MC-dropout spreads) beside them
        write_scores(out_dir, event, tracks)
    else:  # never leave scores of an earlier run beside these tracks
        remove_scores(out_dir, event.event_id)
    return path


def read_tracks(path: str | Path, event: Event) -> TrackCandidates:
    """Read a submission file (``.csv`` or ``.root``) for ``event``.

    A file that leaves out hits of the event, or lists hits of another, raises
    :class:`DataError`.
    """
    return read_tracks_labelled(path, event)[0]


def read_tracks_labelled(
    path: str | Path, event: Event
) -> tuple[TrackCandidates, npt.NDArray[np.int64]]:
    """Like :func:`read_tracks`, also returning the file's ``track_id`` of each track, (T,).

    Tracks are numbered in increasing ``track_id`` (as
    :meth:`~tracklearn.edm.TrackCandidates.from_labels` does).  A ``.root`` file
    is read from its ``tracks`` tree (:mod:`tracklearn.io.root`), with the same checks.
    """
    name = str(path)
    columns: dict[str, npt.NDArray[Any]]
    if Path(path).suffix == ".root":
        from tracklearn.io.root import read_tracks_root, tree_source

        hit_col, track_col = read_tracks_root(path, event.event_id)
        name = tree_source(path, "tracks")
        columns = {"hit_id": hit_col, "track_id": track_col}
    else:
        df = read_csv_checked(path)
        for col in ("hit_id", "track_id"):
            if col not in df.columns:
                raise DataError(name, f"missing column {col}")
            if df[col].dtype.kind not in "iu":
                raise DataError(name, f"column {col!r} must hold integers (found {df[col].dtype})")
        columns = {col: df[col].to_numpy() for col in ("hit_id", "track_id")}
    for col, values in columns.items():  # the ROOT branches (CSV columns are checked above)
        if values.dtype.kind not in "iu":
            raise DataError(name, f"branch {col!r} must hold integers (found {values.dtype})")
    hit_ids = columns["hit_id"].astype(np.int64)
    track_ids = columns["track_id"].astype(np.int64)
    if len(np.unique(hit_ids)) != len(hit_ids):
        raise DataError(name, "duplicate hit_id rows")
    if len(track_ids) and track_ids.min() < 0:
        n_neg = int(np.count_nonzero(track_ids < 0))
        raise DataError(name, f"{n_neg} rows with a negative track_id (0 means unassigned)")
    try:
        rows = event.hit_rows(hit_ids)
    except DataError as exc:
        raise DataError(name, f"{exc.problem} (tracks of another event?)") from None
    if len(rows) != event.n_hits:  # every hit_id is in the event and unique: some are missing
        missing = np.setdiff1d(event.hits.hit_id, hit_ids)
        raise DataError(
            name,
            f"covers {len(rows)} of the event's {event.n_hits} hits (first missing hit_id "
            f"{int(missing[0])}): a submission lists every hit, track_id 0 if unassigned "
            "(tracks of another event?)",
        )
    labels = np.zeros(event.n_hits, dtype=np.int64)
    labels[rows] = track_ids
    return TrackCandidates.from_labels(labels), np.unique(labels[labels > 0])


def hits_digest(event: Event) -> str:
    """A short fingerprint of the event's hits (ids and positions).

    ``reconstruct`` stores it in the timing file and ``evaluate`` checks it, so
    tracks of another event with the same hit ids are not scored silently.
    """
    h = hashlib.sha1(usedforsecurity=False)
    for arr in (event.hits.hit_id, event.hits.x, event.hits.y, event.hits.z):
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()[:16]


def write_timing(out_dir: str | Path, event_id: int, info: dict[str, Any]) -> Path:
    path = timing_path(out_dir, event_id)
    write_text_atomic(path, json.dumps(info, indent=1, sort_keys=True))
    return path


#: numeric entries of a timing file (each optional: other tools write only some)
TIMING_NUMBERS = ("time_s", "peak_rss_mb")


def read_timing(out_dir: str | Path, event_id: int) -> dict[str, Any] | None:
    """The event's timing file as a dict, or None when there is none.

    ``time_s`` and ``peak_rss_mb`` may be absent (a file written by another tool);
    when present they must be finite numbers >= 0, else :class:`DataError`.
    """
    path = timing_path(out_dir, event_id)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(path, f"not valid JSON ({exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(path, f"cannot read ({exc})") from None
    if not isinstance(data, dict):
        raise DataError(path, f"must hold a JSON object, found {type(data).__name__}")
    for key in TIMING_NUMBERS:
        if key not in data:
            continue
        v = data[key]
        if isinstance(v, bool) or not isinstance(v, int | float) or not v >= 0 or v == math.inf:
            raise DataError(path, f"{key} must be a finite number >= 0, found {v!r}")
    return data
