"""Seed classifier: beats a stated accuracy on generated seeds; bad input fails clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tracklearn.classical.seed_classifier import (
    SeedClassifier,
    SeedClassifierError,
    confusion_matrix,
    prune,
    train_seed_classifier,
    training_seeds,
)
from tracklearn.classical.seeding import SeedFinder, Seeds
from tracklearn.edm import Event
from tracklearn.errors import DataError
from tracklearn.geometry.field import UniformField
from tracklearn.simulation.quick import QuickConfig, generate_event

FIELD = UniformField(2.0)


def _data(ids: range) -> tuple[np.ndarray, np.ndarray]:
    finder = SeedFinder(field=FIELD)
    rng = np.random.default_rng(0)
    parts = [
        training_seeds(
            generate_event(i, np.random.default_rng(i), QuickConfig(n_particles=300)), finder, rng
        )
        for i in ids
    ]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def test_confusion_matrix_by_hand() -> None:
    cm = confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]))
    assert cm.tolist() == [[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]


def test_classifier_beats_stated_accuracy_and_prunes() -> None:
    x, y = _data(range(4))
    xt, yt = _data(range(100, 102))
    clf = train_seed_classifier(x, y, field=FIELD)
    cm = confusion_matrix(yt, clf.predict(xt))
    # measured diagonal 99.6 / 91.0 / 82.6 % (mean 0.911)
    assert np.diag(cm).mean() > 0.85
    assert cm[0, 0] > 0.95
    event = generate_event(100, np.random.default_rng(100), QuickConfig(n_particles=300))
    seeds = SeedFinder(field=FIELD)(event.hits)
    mask = prune(seeds, event, clf)
    assert mask.dtype == bool and mask.shape == (len(seeds),)
    assert 0 < mask.sum() <= len(seeds)


def test_no_seeds_give_clear_errors(small_event: Event) -> None:
    with pytest.raises(SeedClassifierError, match="no seeds"):
        train_seed_classifier(np.zeros((0, 17)), np.zeros(0, np.int64))
    x, y = _data(range(1))
    clf = train_seed_classifier(x, y, field=FIELD)
    with pytest.raises(SeedClassifierError, match="no seeds"):
        prune(Seeds.empty(), small_event, clf)


def _helix_event() -> Event:
    """Four exact pixel-barrel crossings of one 3 GeV helix from the origin."""
    from tracklearn.edm import Hits
    from tracklearn.geometry.helix import alpha_at_radius, helix_point, radius_of_curvature

    radius = radius_of_curvature(3.0, 1.0, 2.0)
    pts = [
        helix_point(
            alpha_at_radius(r, np.zeros(1), np.zeros(1), np.array([0.4]), np.array([radius]), -1.0),
            0.0,
            0.0,
            5.0,
            0.4,
            0.3,
            radius,
            -1.0,
        )
        for r in (32.0, 72.0, 116.0, 172.0)
    ]
    x, y, z = (np.concatenate([p[i] for p in pts]) for i in range(3))
    n = len(x)
    ids = np.arange(1, n + 1, dtype=np.int64)
    hits = Hits(
        hit_id=ids,
        x=x,
        y=y,
        z=z,
        volume_id=np.full(n, 8, np.int32),
        layer_id=np.array([2, 4, 6, 8], np.int32),
        module_id=np.zeros(n, np.int32),
    )
    return Event(0, hits)


def test_pruning_keeps_a_generated_helix_seed_and_survives_save_load(tmp_path: Path) -> None:
    x, y = _data(range(4))
    clf = train_seed_classifier(x, y, field=FIELD)
    event = _helix_event()
    seeds = SeedFinder(field=FIELD)(event.hits)
    assert len(seeds) >= 2
    assert prune(seeds, event, clf).all()
    # stored as plain arrays, the classifier predicts the same classes
    clf.save(tmp_path / "clf.npz")
    loaded = SeedClassifier.load(tmp_path / "clf.npz", FIELD)
    assert np.array_equal(loaded.predict(x), clf.predict(x))


def test_loading_a_bad_classifier_file_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "clf.npz"
    path.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="clf.npz"):
        SeedClassifier.load(path)


def test_shipped_classifier_keeps_a_helix_seed_and_is_a_ckf_option() -> None:
    from tracklearn.classical.ckf import CKFConfig, CKFReconstructor
    from tracklearn.classical.seed_classifier import default_classifier_path
    from tracklearn.geometry.field import TRACKML_FIELD

    clf = SeedClassifier.load(default_classifier_path(), TRACKML_FIELD)
    event = _helix_event()  # made in a uniform 2 T field, ≈ the TrackML map at r < 200 mm
    seeds = SeedFinder(field=TRACKML_FIELD)(event.hits)
    assert len(seeds) >= 2
    assert prune(seeds, event, clf).all()
    reco = CKFReconstructor(CKFConfig(seed_classifier="default"))
    assert reco.seed_filter is not None
    assert reco.seeds(event).hits.tolist() == seeds.hits.tolist()
