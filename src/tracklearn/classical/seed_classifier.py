"""ML seed classifier: an MLP labels triplet seeds good / medium / bad.

Following the seed-classification talk ("Track seed classification using NNs"):

* **good** seeds have all three hits from one particle;
* **medium** seeds are good seeds with one hit replaced by a nearby hit of another
  particle on the same layer;
* **bad** seeds have two hits replaced by hits of other particles further away
  (up to ``bad_offset`` φ-neighbours instead of ``max_offset``).  With the same
  nearby replacement for both, medium and bad seeds overlap (measured 72 % / 45 %
  on the diagonal for those two classes): three points always fit a circle.

The distorted seeds are made from good seeds of simulated events with truth, so the
three classes come in equal numbers and need no hand labelling.  The features of a
seed are computed from its three hits alone (:func:`seed_features`), so the same
function serves the training seeds and the :class:`~tracklearn.classical.seeding.Seeds`
of the seed finder.  :func:`prune` returns the mask of seeds whose predicted class is in
``keep``; :func:`seed_filter` wraps it as the ``seed_filter`` hook of
:class:`~tracklearn.classical.ckf.CKFReconstructor` (``CKFConfig.seed_classifier``
loads one from a file).

For pruning inside the CKF the distorted seeds are not enough: the seed finder's
own wrong triplets (hits of several particles that pass every cut) look different
from a good seed with one hit swapped.  :func:`finder_seeds` labels the finder's
seeds of a training event by truth (all three hits of one particle: good; else
bad) so they can join the training set.  A fitted classifier is stored as plain
arrays (:meth:`SeedClassifier.save`, ``.npz``: scaler and MLP weights, no
pickle) and evaluated with numpy (:class:`NumpyMLP`).

Shapes: ``N`` hits, ``S`` seeds, ``F`` features (:data:`FEATURE_NAMES`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tracklearn.classical.seeding import SeedFinder, Seeds, circle_curvature, layer_index
from tracklearn.edm import Event, Hits
from tracklearn.errors import DataError, TracklearnError
from tracklearn.geometry.coords import wrap_phi
from tracklearn.geometry.field import TRACKML_FIELD, MagneticField
from tracklearn.typing import FloatArray, IntArray
from tracklearn.units import C_LIGHT_GEV_PER_T_MM

#: Class names, index = label.
CLASSES: tuple[str, ...] = ("good", "medium", "bad")

#: Columns of :func:`seed_features`.
FEATURE_NAMES: tuple[str, ...] = (
    "q_over_pt",  # 1/GeV, signed curvature as charge / pT
    "d0",  # mm, signed transverse impact parameter of the circle
    "z0",  # mm, bottom doublet line at r = 0
    "cot_theta",  # mean doublet slope
    "delta_cot",  # cot θ (middle-top) - cot θ (bottom-middle)
    "z_residual",  # mm, middle z minus the bottom-top straight line at the middle radius
    "r_bottom",  # mm
    "r_middle",  # mm
    "r_top",  # mm
    "dphi_bm",  # rad, azimuth difference middle - bottom
    "dphi_mt",  # rad, azimuth difference top - middle
    # each hit pair alone, as a track from the origin: a pair of one particle is
    # consistent (plausible z0 and pT) even when the third hit is foreign
    "z0_bm",  # mm, z at r = 0 of the bottom-middle line
    "z0_mt",  # mm
    "z0_bt",  # mm
    "qpt_bm",  # 1/GeV, q/pT of the circle through the origin and the two hits
    "qpt_mt",  # 1/GeV
    "qpt_bt",  # 1/GeV
)


class SeedClassifierError(TracklearnError):
    """The seed classifier got input it cannot use (no seeds, no truth, one class)."""


def seed_features(
    hits: Hits,
    bottom: IntArray,
    middle: IntArray,
    top: IntArray,
    field: MagneticField = TRACKML_FIELD,
) -> FloatArray:
    """Features of triplets from their hit rows (see :data:`FEATURE_NAMES`).

    Parameters
    ----------
    hits
        The event's hits.
    bottom, middle, top : int64, shape (S,)
        Hit rows of each seed.
    field
        Field map; ``Bz`` at the middle hit converts curvature to q/pT.

    Returns
    -------
    float64, shape (S, F)
    """
    x, y, z = hits.x, hits.y, hits.z
    b, m, t = bottom, middle, top
    kappa, d0 = circle_curvature(x[b], y[b], x[m], y[m], x[t], y[t])
    rb, rm, rt = np.hypot(x[b], y[b]), np.hypot(x[m], y[m]), np.hypot(x[t], y[t])
    bz = np.abs(field.bz(rm, z[m]))
    # κ > 0 (counter-clockwise) in a field along +z is a negative charge
    q_over_pt = -kappa / (C_LIGHT_GEV_PER_T_MM * np.maximum(bz, 1e-3))
    sbm = np.maximum(np.hypot(x[m] - x[b], y[m] - y[b]), 1e-9)
    smt = np.maximum(np.hypot(x[t] - x[m], y[t] - y[m]), 1e-9)
    cot_b = (z[m] - z[b]) / sbm
    cot_t = (z[t] - z[m]) / smt
    z0 = z[b] - cot_b * rb
    frac = (rm - rb) / np.where(rt != rb, rt - rb, 1.0)
    z_res = z[m] - (z[b] + frac * (z[t] - z[b]))
    phib, phim, phit = np.arctan2(y[b], x[b]), np.arctan2(y[m], x[m]), np.arctan2(y[t], x[t])
    dphi_bm = wrap_phi(phim - phib)
    dphi_mt = wrap_phi(phit - phim)
    pairs = []
    for i, j in ((b, m), (m, t), (b, t)):
        ri, rj = np.hypot(x[i], y[i]), np.hypot(x[j], y[j])
        dr = np.where(rj != ri, rj - ri, 1e-9)
        pairs.append(z[i] - (z[j] - z[i]) / dr * ri)
    for i, j in ((b, m), (m, t), (b, t)):
        k_pair, _ = circle_curvature(np.zeros(len(i)), np.zeros(len(i)), x[i], y[i], x[j], y[j])
        pairs.append(-k_pair / (C_LIGHT_GEV_PER_T_MM * np.maximum(bz, 1e-3)))
    feats = np.stack(
        [
            q_over_pt,
            d0,
            z0,
            0.5 * (cot_b + cot_t),
            cot_t - cot_b,
            z_res,
            rb,
            rm,
            rt,
            dphi_bm,
            dphi_mt,
            *pairs,
        ],
        axis=1,
    )
    # bound the long tails of distorted seeds (straight lines, far hits) for the scaler
    out: FloatArray = np.clip(np.nan_to_num(feats), -1e4, 1e4)
    return out


def _nearby_other(
    hits: Hits,
    rows: IntArray,
    particle: IntArray,
    layer: IntArray,
    rng: np.random.Generator,
    max_offset: int,
) -> IntArray:
    """A hit of another particle near each of ``rows`` on the same layer (-1 if none).

    Hits are sorted by (layer, φ); the replacement is the hit ``±1..max_offset``
    places away in that order, so it is a φ-neighbour on the same layer.
    """
    phi = np.arctan2(hits.y, hits.x)
    order = np.lexsort((phi, layer))
    pos = np.empty(len(order), np.int64)
    pos[order] = np.arange(len(order))
    off = rng.integers(1, max_offset + 1, len(rows)) * rng.choice(np.array([-1, 1]), len(rows))
    cand_pos = pos[rows] + off
    ok = (cand_pos >= 0) & (cand_pos < len(order))
    cand = order[np.clip(cand_pos, 0, len(order) - 1)]
    ok &= (layer[cand] == layer[rows]) & (particle[cand] != particle[rows])
    return np.where(ok, cand, -1).astype(np.int64)


def training_seeds(
    event: Event,
    finder: SeedFinder,
    rng: np.random.Generator,
    max_offset: int = 3,
    bad_offset: int = 30,
) -> tuple[FloatArray, IntArray]:
    """Features and labels of good, medium and bad seeds of one simulated event.

    Parameters
    ----------
    event
        An event with truth.
    finder
        Seed finder giving the candidate triplets; those with one particle are good.
    rng
        Chooses the replaced hits and the neighbours.
    max_offset
        Medium seeds: the replacement hit is at most this many φ-neighbours away.
    bad_offset
        Bad seeds: the two replacement hits are at most this many φ-neighbours away
        (further than for medium seeds: "swapped and shifted").

    Returns
    -------
    features : float64, shape (K, F)
    labels : int64, shape (K,)
        Index into :data:`CLASSES`.
    """
    if event.truth is None:
        raise SeedClassifierError(f"event {event.event_id} has no truth to label seeds with")
    hits = event.hits
    pid = event.truth.particle_id
    seeds = finder(hits)
    trip = seeds.hits
    good = (pid[trip[:, 0]] != 0) & (pid[trip] == pid[trip[:, :1]]).all(axis=1)
    trip = trip[good]
    layer = layer_index(hits)
    sets = [trip]
    labels = [np.zeros(len(trip), np.int64)]
    for label, n_swap, reach in ((1, 1, max_offset), (2, 2, bad_offset)):
        # choose n_swap distinct positions (of bottom, middle, top) per seed
        which = np.argsort(rng.random((len(trip), 3)), axis=1)[:, :n_swap]
        new = trip.copy()
        ok = np.ones(len(trip), bool)
        for k in range(n_swap):
            col = which[:, k]
            rows = trip[np.arange(len(trip)), col]
            repl = _nearby_other(hits, rows, pid, layer, rng, reach)
            ok &= repl >= 0
            new[np.arange(len(trip)), col] = np.where(repl >= 0, repl, rows)
        sets.append(new[ok])
        labels.append(np.full(int(ok.sum()), label, np.int64))
    allt = np.concatenate(sets)
    feats = seed_features(hits, allt[:, 0], allt[:, 1], allt[:, 2], finder.field)
    return feats, np.concatenate(labels)


def finder_seeds(event: Event, finder: SeedFinder) -> tuple[FloatArray, IntArray]:
    """Features of the seed finder's seeds of ``event`` and their truth labels.

    Label 0 (good) when the three hits belong to one particle, 2 (bad) otherwise.
    Shapes: (S, F), (S,).
    """
    if event.truth is None:
        raise SeedClassifierError(f"event {event.event_id} has no truth to label seeds with")
    seeds = finder(event.hits)
    pid = event.truth.particle_id[seeds.hits]
    good = (pid[:, 0] != 0) & (pid == pid[:, :1]).all(axis=1)
    feats = seed_features(event.hits, seeds.bottom, seeds.middle, seeds.top, finder.field)
    return feats, np.where(good, 0, 2).astype(np.int64)


@dataclass(frozen=True)
class NumpyMLP:
    """Standard scaler + ReLU MLP + softmax from stored arrays (what ``save`` writes)."""

    mean: FloatArray  # (F,)
    scale: FloatArray  # (F,)
    weights: tuple[FloatArray, ...]  # (F, H1), (H1, H2), ..., (Hk, C)
    biases: tuple[FloatArray, ...]

    def predict_proba(self, features: FloatArray) -> FloatArray:
        """Class probabilities, shape (S, C)."""
        a = (features - self.mean) / self.scale
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            a = np.maximum(a @ w + b, 0.0)
        z = a @ self.weights[-1] + self.biases[-1]
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        out: FloatArray = e / e.sum(axis=1, keepdims=True)
        return out

    def predict(self, features: FloatArray) -> IntArray:
        return np.asarray(np.argmax(self.predict_proba(features), axis=1), dtype=np.int64)


@dataclass(frozen=True)
class SeedClassifier:
    """A fitted scaler + MLP; :meth:`predict` gives labels in :data:`CLASSES` order."""

    model: Any  # sklearn Pipeline(StandardScaler, MLPClassifier) or a NumpyMLP
    field: MagneticField = TRACKML_FIELD

    def save(self, path: Path) -> None:
        """Write the scaler and MLP weights as ``.npz`` (atomically)."""
        from tracklearn.io.atomic import atomic_path

        m = self._numpy()
        arrays: dict[str, FloatArray] = {"mean": m.mean, "scale": m.scale}
        for i, (w, b) in enumerate(zip(m.weights, m.biases, strict=True)):
            arrays[f"w{i}"] = w
            arrays[f"b{i}"] = b
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]  # numpy stubs: kwargs typed as allow_pickle

    @classmethod
    def load(cls, path: Path, field: MagneticField = TRACKML_FIELD) -> SeedClassifier:
        """Read a classifier written by :meth:`save`."""
        try:
            with np.load(path) as z:
                n = sum(1 for k in z.files if k.startswith("w"))
                model = NumpyMLP(
                    np.asarray(z["mean"], np.float64),
                    np.asarray(z["scale"], np.float64),
                    tuple(np.asarray(z[f"w{i}"], np.float64) for i in range(n)),
                    tuple(np.asarray(z[f"b{i}"], np.float64) for i in range(n)),
                )
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(str(path), f"not a seed classifier file: {exc}") from exc
        if model.mean.shape != (len(FEATURE_NAMES),) or model.weights[-1].shape[1] != len(CLASSES):
            raise DataError(str(path), "seed classifier has the wrong number of features/classes")
        return cls(model, field)

    def _numpy(self) -> NumpyMLP:
        if isinstance(self.model, NumpyMLP):
            return self.model
        scaler, mlp = self.model[0], self.model[-1]
        return NumpyMLP(
            np.asarray(scaler.mean_, np.float64),
            np.asarray(scaler.scale_, np.float64),
            tuple(np.asarray(w, np.float64) for w in mlp.coefs_),
            tuple(np.asarray(b, np.float64) for b in mlp.intercepts_),
        )

    def predict(self, features: FloatArray) -> IntArray:
        """Class index of each seed, shape (S,), from features of shape (S, F)."""
        if features.ndim != 2 or features.shape[1] != len(FEATURE_NAMES) or not len(features):
            raise SeedClassifierError(
                f"expected features of shape (S > 0, {len(FEATURE_NAMES)}), got {features.shape}"
            )
        return np.asarray(self.model.predict(features), dtype=np.int64)

    def predict_proba(self, features: FloatArray) -> FloatArray:
        """Class probabilities of each seed, shape (S, 3)."""
        self.predict(features[:1])  # shape check
        return np.asarray(self.model.predict_proba(features), dtype=np.float64)


def train_seed_classifier(
    features: FloatArray,
    labels: IntArray,
    seed: int = 0,
    hidden: tuple[int, ...] = (64, 64),
    max_iter: int = 300,
    field: MagneticField = TRACKML_FIELD,
) -> SeedClassifier:
    """Fit a standard-scaled MLP on seed features.

    Parameters
    ----------
    features : float64, shape (K, F)
    labels : int64, shape (K,)
        Index into :data:`CLASSES`; all three classes must be present.
    seed
        Seeds the MLP's initialisation and batch order.
    hidden
        Hidden layer widths.
    max_iter
        Epochs of Adam at most (early stopping on a 10 % validation split).
    field
        Stored with the classifier for :func:`prune`.
    """
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if len(features) == 0:
        raise SeedClassifierError("no seeds to train on")
    present = np.unique(labels)
    if len(present) != len(CLASSES):
        raise SeedClassifierError(
            f"training needs all classes {CLASSES}, got {[CLASSES[i] for i in present]}"
        )
    model = make_pipeline(
        StandardScaler(),
        MLPClassifier(
            hidden_layer_sizes=hidden, max_iter=max_iter, early_stopping=True, random_state=seed
        ),
    )
    model.fit(features, labels)
    return SeedClassifier(model, field)


def confusion_matrix(true: IntArray, pred: IntArray) -> FloatArray:
    """Row-normalised 3×3 confusion matrix: rows true class, columns predicted.

    Returns float64, shape (3, 3); a row with no seeds is all zero.
    """
    n = len(CLASSES)
    counts = np.bincount(true * n + pred, minlength=n * n).reshape(n, n).astype(np.float64)
    total = counts.sum(axis=1, keepdims=True)
    out: FloatArray = np.divide(counts, total, out=np.zeros_like(counts), where=total > 0)
    return out


def prune(
    seeds: Seeds,
    event: Event,
    classifier: SeedClassifier,
    keep: Sequence[str] = ("good",),
    min_drop_prob: float | None = None,
) -> npt.NDArray[np.bool_]:
    """Mask of the seeds whose predicted class is in ``keep``, shape (S,).

    With ``min_drop_prob`` a seed is dropped only when the classes not in ``keep``
    have at least that probability together (a more cautious cut than argmax).

    Raises :class:`SeedClassifierError` for no seeds and
    :class:`~tracklearn.errors.DataError` for an unknown class name.
    """
    unknown = [k for k in keep if k not in CLASSES]
    if unknown:
        raise DataError("prune", f"unknown seed classes {unknown}; valid: {list(CLASSES)}")
    if len(seeds) == 0:
        raise SeedClassifierError("no seeds to classify")
    feats = seed_features(event.hits, seeds.bottom, seeds.middle, seeds.top, classifier.field)
    wanted = np.array([CLASSES.index(k) for k in keep], np.int64)
    if min_drop_prob is None:
        return np.isin(classifier.predict(feats), wanted)
    prob = classifier.predict_proba(feats)
    drop = 1.0 - prob[:, wanted].sum(axis=1)
    return np.asarray(drop < min_drop_prob)


def default_classifier_path() -> Path:
    """The shipped classifier (``tracklearn/data/seed_classifier.npz``; provenance in
    ``seed_classifier.json`` beside it)."""
    return Path(__file__).resolve().parents[1] / "data" / "seed_classifier.npz"


def seed_filter(
    classifier: SeedClassifier,
    keep: Sequence[str] = ("good",),
    min_drop_prob: float | None = None,
) -> Callable[[Seeds, Event], npt.NDArray[np.bool_]]:
    """:func:`prune` as a ``CKFReconstructor.seed_filter`` (``(seeds, event) -> mask``)."""

    def _filter(seeds: Seeds, event: Event) -> npt.NDArray[np.bool_]:
        return prune(seeds, event, classifier, keep, min_drop_prob)

    return _filter
