"""Reconstructed tracks on disk, in TrackML submission form.

``event<id>-tracks.csv`` has columns ``hit_id,track_id`` with one row per hit;
``track_id`` 0 means the hit is unassigned.  ``reconstruct`` also leaves
``event<id>-timing.json`` (wall seconds and peak RSS) for ``evaluate`` and,
for methods that fit their tracks, ``event<id>-track-params.parquet``
(:mod:`tracklearn.io.track_params`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from tracklearn.edm import Event, TrackCandidates
from tracklearn.errors import DataError
from tracklearn.io.atomic import atomic_path, write_text_atomic
from tracklearn.io.trackml import event_prefix_name, read_csv_checked


def tracks_path(out_dir: str | Path, event_id: int) -> Path:
    return Path(out_dir) / f"{event_prefix_name(event_id)}-tracks.csv"


def timing_path(out_dir: str | Path, event_id: int) -> Path:
    return Path(out_dir) / f"{event_prefix_name(event_id)}-timing.json"


def write_tracks(out_dir: str | Path, event: Event, tracks: TrackCandidates) -> Path:
    """Write ``tracks`` of ``event`` as ``hit_id,track_id`` (every hit once), atomically.

    Tracks that carry scored edges also get ``event<id>-edge-scores.parquet`` and
    ``event<id>-track-scores.csv`` (:mod:`tracklearn.io.scores`).
    """
    if tracks.n_hits != event.n_hits:
        raise DataError(
            event.source, f"tracks cover {tracks.n_hits} hits, event has {event.n_hits}"
        )
    labels = tracks.to_labels()
    path = tracks_path(out_dir, event.event_id)
    df = pd.DataFrame({"hit_id": event.hits.hit_id, "track_id": labels})
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)
    from tracklearn.io.scores import remove_scores, write_scores

    if tracks.edges is not None:  # classifier scores (and MC-dropout spreads) beside them
        write_scores(out_dir, event, tracks)
    else:  # never leave scores of an earlier run beside these tracks
        remove_scores(out_dir, event.event_id)
    return path


def read_tracks(path: str | Path, event: Event) -> TrackCandidates:
    """Read a submission file for ``event``; hits absent from the file are unassigned."""
    return read_tracks_labelled(path, event)[0]


def read_tracks_labelled(
    path: str | Path, event: Event
) -> tuple[TrackCandidates, npt.NDArray[np.int64]]:
    """Like :func:`read_tracks`, also returning the file's ``track_id`` of each track, (T,).

    Tracks are numbered in increasing ``track_id`` (as
    :meth:`~tracklearn.edm.TrackCandidates.from_labels` does).
    """
    name = str(path)
    df = read_csv_checked(path)
    for col in ("hit_id", "track_id"):
        if col not in df.columns:
            raise DataError(name, f"missing column {col}")
        if df[col].dtype.kind not in "iu":
            raise DataError(name, f"column {col!r} must hold integers (found {df[col].dtype})")
    hit_ids = df["hit_id"].to_numpy(np.int64)
    if len(np.unique(hit_ids)) != len(hit_ids):
        raise DataError(name, "duplicate hit_id rows")
    try:
        rows = event.hit_rows(hit_ids)
    except DataError as exc:
        raise DataError(name, exc.problem) from None
    labels = np.zeros(event.n_hits, dtype=np.int64)
    labels[rows] = df["track_id"].to_numpy(np.int64)
    return TrackCandidates.from_labels(labels), np.unique(labels[labels > 0])


def write_timing(out_dir: str | Path, event_id: int, info: dict[str, Any]) -> Path:
    path = timing_path(out_dir, event_id)
    write_text_atomic(path, json.dumps(info, indent=1, sort_keys=True))
    return path


def read_timing(out_dir: str | Path, event_id: int) -> dict[str, Any] | None:
    path = timing_path(out_dir, event_id)
    if not path.exists():
        return None
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(path, f"not valid JSON ({exc.msg})") from None
    return data
