"""CKF chain: ambiguity resolution by hand, and the chain on the real event."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tracklearn.classical.ckf import CKFReconstructor, resolve_ambiguity
from tracklearn.io.trackml import read_event
from tracklearn.metrics import evaluate_event
from tracklearn.pipeline.registry import available_methods


def test_ambiguity_keeps_the_longest_and_drops_tracks_sharing_too_much() -> None:
    # equal lengths, so the lowest χ²/ndf goes first: track 1 is accepted; track 0
    # shares hits 3 and 4 with it (2 > max_shared, dropped); track 2 shares only
    # hit 4 (kept); track 3 is shorter than min_hits
    tracks = [[0, 1, 2, 3, 4], [3, 4, 5, 6, 7], [4, 8, 9, 10, 11], [12, 13]]
    offsets = np.r_[0, np.cumsum([len(t) for t in tracks])]
    flat = np.concatenate(tracks)
    quality = np.array([1.0, 0.5, 2.0, 0.1])
    got = resolve_ambiguity(offsets, flat, quality, 14, min_hits=5, max_shared=1)
    assert got.tolist() == [1, 2]
    # with no sharing allowed track 2 goes too; with 2 allowed track 0 stays
    assert resolve_ambiguity(offsets, flat, quality, 14, 5, 0).tolist() == [1]
    assert resolve_ambiguity(offsets, flat, quality, 14, 5, 2).tolist() == [1, 0, 2]


def test_ckf_is_registered() -> None:
    assert "ckf" in available_methods()


def test_ckf_on_the_real_event_finds_most_targets_with_few_fakes(real_prefix: Path) -> None:
    event = read_event(real_prefix)
    tracks = CKFReconstructor()(event)
    m = evaluate_event(event, tracks)
    # measured 0.75 / 0.0 on the 5 % subsample event (its particles have few hits)
    assert m.efficiency >= 0.70
    assert m.fake_rate <= 0.05
    assert m.duplicate_rate <= 0.05
