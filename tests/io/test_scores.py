"""Scored edges on tracks, and the edge-/track-score files beside the tracks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tracklearn.edm import Event, Hits, ScoredEdges, TrackCandidates
from tracklearn.errors import DataError
from tracklearn.io import write_tracks
from tracklearn.io.scores import (
    edge_scores_path,
    read_edge_scores,
    track_scores_path,
    write_scores,
)


def _event(n: int = 6) -> Event:
    z = np.zeros(n)
    hits = Hits(
        hit_id=np.arange(10, 10 + n, dtype=np.int64),
        x=np.arange(n, dtype=np.float64),
        y=z, z=z,
        volume_id=np.full(n, 8, np.int32),
        layer_id=np.full(n, 2, np.int32),
        module_id=np.ones(n, np.int32),
    )  # fmt: skip
    return Event(event_id=7, hits=hits)


def _tracks(std: bool = True) -> TrackCandidates:
    # track 0: hits 0-2 (edges 0→1, 1→2), track 1: hits 3, 4 (edge 3→4); edge 2→3 crosses
    edges = ScoredEdges(
        np.array([0, 1, 2, 3]),
        np.array([1, 2, 3, 4]),
        np.array([0.9, 0.8, 0.3, 0.6], np.float32),
        np.array([0.05, 0.15, 0.2, 0.1], np.float32) if std else None,
        label_pt_min=0.9,
    )
    return TrackCandidates(np.array([0, 3, 5]), np.array([0, 1, 2, 3, 4]), 6, edges=edges)


def test_track_scores_average_the_edges_inside_each_track() -> None:
    mean, spread = _tracks().track_scores()
    np.testing.assert_allclose(mean, [0.85, 0.6], rtol=1e-6)
    np.testing.assert_allclose(spread, [0.1, 0.1], rtol=1e-6)
    _, no_std = _tracks(std=False).track_scores()
    assert np.all(np.isnan(no_std))
    # the scored edges survive attaching parameters
    assert _tracks().with_parameters(None).edges is not None


def test_scored_edges_are_validated() -> None:
    with pytest.raises(DataError, match="probabilities"):
        ScoredEdges(np.array([0]), np.array([1]), np.array([1.5], np.float32))
    with pytest.raises(DataError, match="score_std"):
        ScoredEdges(np.array([0]), np.array([1]), np.array([0.5], np.float32), np.array([-1.0]))
    with pytest.raises(DataError, match="outside"):
        TrackCandidates(np.array([0]), np.zeros(0, np.int64), 3, edges=_tracks().edges)


def test_score_files_round_trip_and_stale_files_are_removed(tmp_path: Path) -> None:
    event, tracks = _event(), _tracks()
    write_tracks(tmp_path, event, tracks)
    epath, tpath = edge_scores_path(tmp_path, 7), track_scores_path(tmp_path, 7)
    back = read_edge_scores(epath, event)
    np.testing.assert_array_equal(back.inner, [0, 1, 2, 3])
    np.testing.assert_array_equal(back.score, tracks.edges.score)  # type: ignore[union-attr]
    np.testing.assert_array_equal(back.score_std, tracks.edges.score_std)  # type: ignore[union-attr]
    assert back.label_pt_min == 0.9
    df = pd.read_csv(tpath)
    assert df.columns.tolist() == ["track_id", "n_hits", "score", "score_std"]
    assert df.track_id.tolist() == [1, 2] and df.n_hits.tolist() == [3, 2]
    np.testing.assert_allclose(df.score, [0.85, 0.6], rtol=1e-5)
    # tracks without scores into the same folder: no stale scores are left beside them
    write_tracks(tmp_path, event, tracks.with_edges(None))
    assert not epath.exists() and not tpath.exists()
    with pytest.raises(DataError, match="no scored edges"):
        write_scores(tmp_path, event, tracks.with_edges(None))


def test_reading_a_bad_edge_score_file_names_it(tmp_path: Path) -> None:
    bad = tmp_path / "event000000007-edge-scores.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(DataError, match="edge-scores.parquet"):
        read_edge_scores(bad, _event())
    pd.DataFrame({"hit_id_inner": [10], "score": [0.5]}).to_parquet(bad)
    with pytest.raises(DataError, match="missing column hit_id_outer"):
        read_edge_scores(bad, _event())
    pd.DataFrame({"hit_id_inner": [10], "hit_id_outer": [99], "score": [0.5]}).to_parquet(bad)
    with pytest.raises(DataError, match="not in the event"):
        read_edge_scores(bad, _event())
