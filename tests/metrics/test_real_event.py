"""Metrics on the real (5 % subsampled) TrackML event of the shared data."""

from __future__ import annotations

import numpy as np
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
    # every particle here has at least 2 hits, so one hit never holds > 50 % of one
    tracks = TrackCandidates.from_labels(np.arange(1, real_event.n_hits + 1))
    assert trackml_score(real_event, tracks) == 0.0
    assert evaluate_event(real_event, tracks).efficiency == 0.0
