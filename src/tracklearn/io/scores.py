"""Classifier scores beside the tracks: edge scores and per-track scores.

Written by ``reconstruct`` for methods whose tracks carry
:class:`~tracklearn.edm.ScoredEdges` (``gnn`` with ``--mc-samples N`` or
``save_edge_scores``), next to ``event<id>-tracks.csv``:

``event<id>-edge-scores.parquet``
    One row per scored edge: ``hit_id_inner``, ``hit_id_outer`` (int64),
    ``score`` (float32, the mean over MC-dropout samples) and, with MC dropout,
    ``score_std`` (float32, their standard deviation).  The schema metadata
    ``label_pt_min`` records the classifier's definition of a true edge
    (both hits on one particle of pT ≥ that [GeV]; empty: any particle).

``event<id>-track-scores.csv``
    One row per track: ``track_id`` (its label in the tracks file), ``n_hits``,
    ``score`` (mean score of the edges inside the track) and ``score_std``
    (mean MC-dropout spread of those edges; empty without MC dropout).

:func:`~tracklearn.io.tracks.write_tracks` writes both when the tracks carry
edges and removes stale ones otherwise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tracklearn.edm import Event, ScoredEdges, TrackCandidates
from tracklearn.errors import DataError
from tracklearn.io.atomic import atomic_path
from tracklearn.io.trackml import event_prefix_name

__all__ = [
    "edge_scores_path",
    "read_edge_scores",
    "remove_scores",
    "track_scores_path",
    "write_scores",
]


def edge_scores_path(out_dir: str | Path, event_id: int) -> Path:
    return Path(out_dir) / f"{event_prefix_name(event_id)}-edge-scores.parquet"


def track_scores_path(out_dir: str | Path, event_id: int) -> Path:
    return Path(out_dir) / f"{event_prefix_name(event_id)}-track-scores.csv"


def write_scores(out_dir: str | Path, event: Event, tracks: TrackCandidates) -> list[Path]:
    """Write the edge- and track-score files of ``tracks.edges`` (atomically); return them."""
    edges = tracks.edges
    if edges is None:
        raise DataError(event.source, "tracks carry no scored edges")
    hid = event.hits.hit_id
    cols: dict[str, np.ndarray] = {
        "hit_id_inner": hid[edges.inner],
        "hit_id_outer": hid[edges.outer],
        "score": edges.score,
    }
    if edges.score_std is not None:
        cols["score_std"] = edges.score_std
    meta = {
        b"label_pt_min": b"" if edges.label_pt_min is None else str(edges.label_pt_min).encode()
    }
    table = pa.table(cols).replace_schema_metadata(meta)
    epath = edge_scores_path(out_dir, event.event_id)
    with atomic_path(epath) as tmp:
        pq.write_table(table, tmp)
    mean, spread = tracks.track_scores()
    df = pd.DataFrame(
        {
            "track_id": np.arange(1, tracks.n_tracks + 1, dtype=np.int64),
            "n_hits": tracks.lengths,
            "score": mean,
            "score_std": spread,
        }
    )
    tpath = track_scores_path(out_dir, event.event_id)
    with atomic_path(tpath) as tmp:
        df.to_csv(tmp, index=False, float_format="%.6g")
    return [epath, tpath]


def remove_scores(out_dir: str | Path, event_id: int) -> None:
    """Remove score files an earlier run left for ``event_id``."""
    edge_scores_path(out_dir, event_id).unlink(missing_ok=True)
    track_scores_path(out_dir, event_id).unlink(missing_ok=True)


def read_edge_scores(path: str | Path, event: Event) -> ScoredEdges:
    """Read an edge-score file of ``event`` (hit ids mapped back to hit rows)."""
    name = str(path)
    try:
        table = pq.read_table(path)
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataError(name, f"not a readable Parquet file ({exc})") from None
    for col in ("hit_id_inner", "hit_id_outer", "score"):
        if col not in table.column_names:
            raise DataError(name, f"missing column {col}")
    try:
        inner = event.hit_rows(table.column("hit_id_inner").to_numpy().astype(np.int64))
        outer = event.hit_rows(table.column("hit_id_outer").to_numpy().astype(np.int64))
    except DataError as exc:
        raise DataError(name, exc.problem) from None
    score = table.column("score").to_numpy().astype(np.float32)
    std = (
        table.column("score_std").to_numpy().astype(np.float32)
        if "score_std" in table.column_names
        else None
    )
    raw = (table.schema.metadata or {}).get(b"label_pt_min", b"")
    try:
        return ScoredEdges(inner, outer, score, std, float(raw) if raw else None)
    except DataError as exc:
        raise DataError(name, exc.problem) from None
