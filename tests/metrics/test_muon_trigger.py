"""Muon-trigger metrics on hand-made images: matched (TP/P > 0.6), fake, pT bins."""

from __future__ import annotations

import numpy as np
import pytest

from tracklearn.metrics.muon_trigger import (
    PT_EDGES_GEV,
    TriggerCounts,
    fake,
    matched,
    voxel_counts,
)


def _images() -> tuple[np.ndarray, np.ndarray]:
    """Five images of 10 voxels; the muon is voxels 0-4 (P = 5) except in the last one."""
    truth = np.zeros((5, 10), bool)
    truth[:4, :5] = True
    pred = np.zeros((5, 10), bool)
    pred[0, :5] = True  # perfect: TP 5/5
    pred[1, :3] = True  # 3/5 = 0.6 exactly: not matched (strictly more than 0.6 needed)
    pred[1, 5:7] = True  # ... and 2 noise voxels: precision 3/5 ≤ 0.6: fake
    pred[2, :4] = True  # 4/5: matched; with one noise voxel precision 4/5: not fake
    pred[2, 9] = True
    pred[3, 6:9] = True  # all noise: not matched, fake
    pred[4, :2] = True  # an image without the muon's voxels (P = 0): not counted
    return pred, truth


def test_voxel_counts_and_the_definitions() -> None:
    pred, truth = _images()
    tp, p, m = voxel_counts(pred, truth)
    assert tp.tolist() == [5, 3, 4, 0, 0] and p.tolist() == [5, 5, 5, 5, 0]
    assert m.tolist() == [5, 5, 5, 3, 2]
    assert matched(tp, p).tolist() == [True, False, True, False, False]
    assert fake(tp, m).tolist() == [False, True, False, True, True]
    with pytest.raises(ValueError, match="differ"):
        voxel_counts(pred, truth[:, :5])


def test_counts_per_pt_bin() -> None:
    pred, truth = _images()
    pt = np.array([5.0, 7.4, 12.0, 99.0, 50.0])
    c = TriggerCounts()
    c.add_images(pt, pred, truth)
    rows = {r["pt_lo"]: r for r in c.rates()}
    # 5 and 7.4 GeV share the first 5-GeV bin [2.5, 7.5) (half filled by a 5-100 GeV spectrum)
    assert rows[2.5]["n_images"] == 2 and rows[2.5]["efficiency"] == 0.5
    assert rows[2.5]["fake_rate"] == 0.5
    assert rows[7.5]["efficiency"] == 1.0 and rows[7.5]["fake_rate"] == 0.0
    assert rows[97.5]["efficiency"] == 0.0 and rows[97.5]["fake_rate"] == 1.0
    assert rows[47.5]["n_images"] == 0 and rows[47.5]["fake_rate"] == 1.0  # P = 0: fake only
    assert c.efficiency() == pytest.approx(2 / 4) and c.fake_rate() == pytest.approx(3 / 5)
    assert c.efficiency(pt_min=7.5) == pytest.approx(1 / 2)
    lo, hi = rows[7.5]["efficiency_lo"], rows[7.5]["efficiency_hi"]
    assert lo < 1.0 and hi == 1.0
    other = TriggerCounts()
    other.add_images(pt, pred, truth)
    c.merge(other)
    assert c.total_images == 8 and c.efficiency() == pytest.approx(0.5)


def test_bins_are_5_gev_centred_on_multiples_of_5() -> None:
    assert PT_EDGES_GEV[:3].tolist() == [0.0, 2.5, 7.5] and PT_EDGES_GEV[-1] == 102.5
    assert np.allclose(np.diff(PT_EDGES_GEV[1:]), 5.0)
