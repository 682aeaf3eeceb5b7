"""Metrics on the real (5 % subsampled) TrackML event of the shared data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _real import truth_labels, truth_tracks

from tracklearn.edm import Event, TrackCandidates
from tracklearn.metrics import evaluate_event, match_tracks, trackml_score

pytestmark = pytest.mark.realdata


def test_weights_are_subsampled(real_event: Event) -> None:
    assert real_event.truth is not None
    # the reason the score divides by the total weight instead of assuming 1
    assert float(real_event.truth.weight.sum()) == pytest.approx(0.0513, abs=5e-4)


def test_truth_as_submission_scores_one(real_event: Event) -> None:
    tracks = truth_tracks(real_event)
    assert trackml_score(real_event, tracks) == pytest.approx(1.0, abs=1e-12)
    m = evaluate_event(real_event, tracks)
    assert m.trackml_score == pytest.approx(1.0, abs=1e-12)
    assert m.efficiency == 1.0
    assert m.fake_rate == 0.0
    assert m.duplicate_rate == 0.0
    assert m.n_particles_target > 0
    assert m.n_tracks_matched == m.n_tracks


def test_truth_with_noise_as_a_track_still_scores_one(real_event: Event) -> None:
    # noise gathered into its own track: it has weight 0 and is never matched
    labels = truth_labels(real_event)
    labels = np.where(labels == 0, labels.max() + 1, labels)
    tracks = TrackCandidates.from_labels(labels)
    assert trackml_score(real_event, tracks) == pytest.approx(1.0, abs=1e-12)
    assert int(match_tracks(real_event, tracks).matched.sum()) == tracks.n_tracks - 1


def test_all_hits_in_one_track_scores_zero(real_event: Event) -> None:
    tracks = TrackCandidates.from_labels(np.ones(real_event.n_hits, dtype=np.int64))
    assert trackml_score(real_event, tracks) == 0.0


def test_one_hit_per_track_scores_zero(real_event: Event) -> None:
    tracks = TrackCandidates.from_labels(np.arange(1, real_event.n_hits + 1))
    assert trackml_score(real_event, tracks) == 0.0
    m = evaluate_event(real_event, tracks)
    assert m.efficiency == 0.0
    # The event has particles with a single hit: their one-hit track *is* matched
    # (1 > 0.5 both ways), but TrackML gives such short particles weight 0.
    assert real_event.truth is not None
    pid = real_event.truth.particle_id
    ids, counts = np.unique(pid[pid != 0], return_counts=True)
    singles = ids[counts == 1]
    assert m.n_tracks_matched == len(singles) > 0
    assert real_event.truth.weight[np.isin(pid, singles)].sum() == 0.0


def reference_score(labels: np.ndarray, event: Event) -> float:
    """The reference trackml-library algorithm, written with pandas group-bys.

    Every hit has a track (no unassigned hits), majority ties go to the smallest
    particle_id, purities are float ratios; normalised by the total weight.
    """
    assert event.truth is not None
    df = pd.DataFrame({"track": labels, "pid": event.truth.particle_id, "w": event.truth.weight})
    pair = df.groupby(["track", "pid"]).agg(n=("w", "size"), w=("w", "sum")).reset_index()
    pair = pair.sort_values(["track", "n", "pid"], ascending=[True, False, True])
    major = pair.drop_duplicates("track").copy()
    major["track_n"] = major["track"].map(df.groupby("track").size())
    major["pid_n"] = major["pid"].map(df["pid"].value_counts())
    good = (major["n"] / major["track_n"] > 0.5) & (major["n"] / major["pid_n"] > 0.5)
    return float(major.loc[good, "w"].sum() / df["w"].sum())


@pytest.mark.parametrize("p_move", [0.05, 0.2, 0.5])
def test_agrees_with_reference_algorithm(real_event: Event, p_move: float) -> None:
    rng = np.random.default_rng(7)
    labels = truth_labels(real_event) + 1  # noise -> track 1, particles -> 2, 3, ...
    move = rng.random(len(labels)) < p_move
    labels[move] = rng.integers(1, labels.max() + 1, int(move.sum()))
    tracks = TrackCandidates.from_labels(labels)
    expected = reference_score(labels, real_event)
    assert 0.0 < expected < 1.0
    assert trackml_score(real_event, tracks) == pytest.approx(expected, abs=1e-12)
