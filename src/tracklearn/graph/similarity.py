"""Similarity learning for hashing buckets: a hit embedding where hits of one track are close.

The embedding (:class:`~tracklearn.models.bucket_embedding.BucketEmbedding` or
:class:`~tracklearn.models.bucket_embedding.GatedBucketEmbedding` on
:func:`~tracklearn.graph.hashing.learned_features`) is trained with a
**triplet** loss ``relu(d(a, p) − d(a, n) + margin)`` or the **contrastive**
hinge loss of :func:`~tracklearn.graph.metric_learning.hinge_loss`:

* anchors ``a``: hits of particles with pT ≥ ``pt_min`` (sampled per event and epoch);
* positives ``p``: a hit of the same particle at most ``max_gap`` hits away along
  its track (hits ordered by distance from the production vertex, as
  :func:`~tracklearn.graph.truth.true_segments`): a bucket needs the hits of a
  track *near each other*, not the whole helix in one point, which a single hit
  cannot determine;
* negatives ``n``: one of the anchor's ``hard_k`` nearest hits in the current
  embedding that belongs to another particle (or is noise) -- the hits that
  would steal its bucket places; a random hit when there is none.

:func:`train_similarity` runs the loop on events in memory and returns the model
and its history; :func:`save_embedding` writes the weights and their ``.json``
(shape, inputs, helix weights, provenance) that :class:`~tracklearn.graph.hashing.LearnedSpace`
reads.  ``scripts/train_hashing_embedding.py`` makes the shipped model.

The optional in-bucket resolution (the paper's second step) is
:class:`PairClassifier`: an MLP that scores (query hit, bucket member) pairs
from both embeddings and their geometric differences; :func:`resolve_buckets`
keeps the members scoring ≥ a threshold.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import nn

from tracklearn import units as u
from tracklearn.edm import Buckets, Event
from tracklearn.errors import DataError
from tracklearn.geometry.coords import wrap_phi
from tracklearn.graph.hashing import DirectionConfig, HelixSpaceConfig, learned_features
from tracklearn.graph.metric_learning import EmbeddingModelConfig, hinge_loss
from tracklearn.io.atomic import atomic_path, write_text_atomic
from tracklearn.models.bucket_embedding import ARCHITECTURES
from tracklearn.typing import IntArray

__all__ = [
    "PairClassifier",
    "SimilarityConfig",
    "SimilarityHistory",
    "pair_features",
    "resolve_buckets",
    "save_embedding",
    "track_order",
    "train_pair_classifier",
    "train_similarity",
    "triplet_loss",
]

log = logging.getLogger(__name__)


class SimilarityConfig(BaseModel):
    """Training settings of the bucket embedding (see the module docstring).

    Attributes
    ----------
    architecture
        ``"residual"`` (:class:`~tracklearn.models.bucket_embedding.BucketEmbedding`:
        helix coordinates plus a learned correction) or ``"gated"``
        (:class:`~tracklearn.models.bucket_embedding.GatedBucketEmbedding`: a learned
        per-hit switch to the cluster's own direction; needs ``direction``).
    model
        Shape of the embedding MLP (its skip path carries the helix coordinates;
        the gated model's ``out_dim`` is 5).
    direction
        Where the clusters measure the dip angle
        (:class:`~tracklearn.graph.hashing.DirectionConfig`); the gated model's inputs.
    helix
        Weights of the helix coordinates the embedding starts from.
    use_cells
        Cluster-shape features as inputs (the events must have cells).
    loss
        ``"triplet"`` or ``"contrastive"``.
    margin
        Loss margin (embedding units).
    pt_min
        Anchors: hits of particles with pT ≥ this [GeV].
    max_gap
        ``positives="track"``: positives at most this many hits away along the track.
    positives, positive_k
        ``"track"`` (above) or ``"neighbours"``: a hit of the anchor's particle among
        its ``positive_k`` nearest embedded hits (the large-margin-nearest-neighbour
        choice: pull in the hits just outside the bucket, push out the intruders
        inside it); the track choice when there is none.
    displaced_weight, displaced_distance
        Anchors on particles produced more than ``displaced_distance`` [mm] from
        the nominal interaction point (secondaries, for which the helix space's
        "from the origin" assumption fails) are drawn ``displaced_weight`` times as often.
    anchors
        Anchors sampled per event and epoch.
    hard_k
        Negatives mined among the anchor's ``hard_k`` nearest embedded hits.
    random_negatives
        Fraction of the anchors whose negative is a random hit instead (keeps the
        embedding from collapsing while the mined negatives are still poor).
    batch
        Triplets per optimiser step.
    epochs, lr, seed, threads
        Loop settings (Adam; torch threads).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    architecture: Literal["residual", "gated"] = "residual"
    model: EmbeddingModelConfig = EmbeddingModelConfig(hidden=64, n_layers=3, out_dim=8)
    direction: DirectionConfig | None = None
    helix: HelixSpaceConfig = HelixSpaceConfig()
    use_cells: bool = True
    loss: Literal["triplet", "contrastive"] = "triplet"
    margin: float = Field(0.005, gt=0)
    lr: float = Field(1e-4, gt=0)
    pt_min: float = Field(1.0, ge=0)  # GeV
    max_gap: int = Field(1, ge=1)
    positives: Literal["track", "neighbours"] = "neighbours"
    positive_k: int = Field(30, ge=2)
    displaced_weight: float = Field(0.0, ge=0)
    displaced_distance: float = Field(10.0, gt=0)  # mm
    anchors: int = Field(20_000, ge=1)
    hard_k: int = Field(10, ge=1)
    random_negatives: float = Field(0.2, ge=0, le=1)
    batch: int = Field(2048, ge=1)
    epochs: int = Field(6, ge=1)
    seed: int = 0
    threads: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _gated_needs_direction(self) -> SimilarityConfig:
        if self.architecture == "gated" and (self.direction is None or not self.use_cells):
            raise ValueError("the gated embedding needs a direction config and use_cells")
        if self.direction is not None and not self.use_cells:
            raise ValueError("direction features need the cluster shapes (use_cells)")
        return self


@dataclass
class SimilarityHistory:
    """Mean training loss per epoch (and seconds per epoch)."""

    loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)


def triplet_loss(
    anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, margin: float
) -> torch.Tensor:
    """Mean of ``relu(|a − p| − |a − n| + margin)``.

    Shapes
    ------
    ``anchor, positive, negative`` ``(B, D)`` → scalar.
    """
    d_ap = torch.linalg.vector_norm(anchor - positive, dim=1)
    d_an = torch.linalg.vector_norm(anchor - negative, dim=1)
    return torch.relu(d_ap - d_an + margin).mean()


@dataclass(frozen=True)
class _TrackOrder:
    """Hits of kept particles sorted by (particle, distance from vertex)."""

    hits: IntArray  # hit rows in that order, shape (M,)
    particle: IntArray  # particle row of each, shape (M,)
    weight: npt.NDArray[np.float64]  # anchor sampling probability of each, shape (M,)


def track_order(event: Event, pt_min: float = 0.0) -> tuple[IntArray, IntArray]:
    """Hits of particles with pT ≥ ``pt_min`` [GeV] in track order.

    Returns ``(hits, particle)``: hit rows sorted by particle, then by 3D distance
    of the true position from the particle's production vertex; and the particle
    row of each.  Shapes: ``(M,)`` each.
    """
    if event.truth is None or event.particles is None:
        raise DataError(event.source, "similarity learning needs truth and particles")
    from tracklearn.metrics.buckets import _particle_rows

    t, p = event.truth, event.particles
    prow = _particle_rows(event)
    keep = prow >= 0
    keep[keep] = p.pt[prow[keep]] >= pt_min * u.GeV
    hit = np.flatnonzero(keep)
    pr = prow[hit]
    vtx = np.stack([p.vx, p.vy, p.vz], axis=1)[pr]
    pos = np.stack([t.tx, t.ty, t.tz], axis=1)[hit]
    order = np.lexsort((np.linalg.norm(pos - vtx, axis=1), pr))
    return hit[order].astype(np.int64), pr[order].astype(np.int64)


@dataclass(frozen=True)
class _EventData:
    feats: torch.Tensor
    order: _TrackOrder
    prow: IntArray  # particle row of every hit, -1 noise


def _prepare(event: Event, cfg: SimilarityConfig) -> _EventData:
    from tracklearn.metrics.buckets import _particle_rows

    hits, particle = track_order(event, cfg.pt_min)
    p = event.particles
    assert p is not None
    dist = np.sqrt(p.vx**2 + p.vy**2 + p.vz**2)[particle]
    w = np.where(dist > cfg.displaced_distance * u.mm, 1.0 + cfg.displaced_weight, 1.0)
    feats = torch.from_numpy(learned_features(event, cfg.helix, cfg.use_cells, cfg.direction))
    return _EventData(feats, _TrackOrder(hits, particle, w / w.sum()), _particle_rows(event))


def _triplets(
    model: nn.Module, d: _EventData, cfg: SimilarityConfig, rng: np.random.Generator
) -> tuple[IntArray, IntArray, IntArray]:
    """Anchor, positive and negative hit rows of one event (module docstring)."""
    from scipy.spatial import cKDTree

    o = d.order
    m = len(o.hits)
    n = len(d.prow)
    if m < 2:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    pos_a = rng.choice(m, size=min(cfg.anchors, m), p=o.weight)
    # positive: a random step of 1..max_gap forwards or backwards, staying on the particle
    step = rng.integers(1, cfg.max_gap + 1, size=len(pos_a)) * rng.choice([-1, 1], len(pos_a))
    pos_p = np.clip(pos_a + step, 0, m - 1)
    bad = o.particle[pos_p] != o.particle[pos_a]
    pos_p[bad] = np.clip(pos_a[bad] - step[bad], 0, m - 1)  # try the other direction
    ok = (o.particle[pos_p] == o.particle[pos_a]) & (pos_p != pos_a)
    a, p = o.hits[pos_a[ok]], o.hits[pos_p[ok]]
    with torch.no_grad():
        emb = model(d.feats).numpy()
    k = min(cfg.hard_k + 1, n)
    kq = min(max(k, cfg.positive_k + 1), n) if cfg.positives == "neighbours" else k
    _, nn_all = cKDTree(emb).query(emb[a], k=kq)
    nn_all = np.asarray(nn_all, dtype=np.int64).reshape(len(a), kq)
    if cfg.positives == "neighbours":
        same = (d.prow[nn_all] == d.prow[a][:, None]) & (nn_all != a[:, None])
        keys = np.where(same, rng.random(same.shape), -1.0)
        has = same.any(axis=1)
        p = np.where(has, nn_all[np.arange(len(a)), keys.argmax(axis=1)], p)
    nn_idx = nn_all[:, :k]
    other = (d.prow[nn_idx] != d.prow[a][:, None]) | (d.prow[nn_idx] < 0)
    # a random "other" neighbour per anchor: random keys, masked, argmax
    keys = np.where(other, rng.random(other.shape), -1.0)
    pick = keys.argmax(axis=1)
    neg = nn_idx[np.arange(len(a)), pick]
    none = ~other.any(axis=1) | (rng.random(len(a)) < cfg.random_negatives)
    neg[none] = rng.integers(0, n, size=int(none.sum()))
    return a, p, neg


def train_similarity(
    events: Sequence[Event], config: SimilarityConfig | None = None
) -> tuple[nn.Module, SimilarityHistory]:
    """Train the bucket embedding on ``events`` (with truth; cells if ``use_cells``).

    Returns the model (in eval mode) and the mean loss of every epoch.
    """
    cfg = config or SimilarityConfig()
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    data = [_prepare(ev, cfg) for ev in events]
    if not data:
        raise ValueError("no training events")
    model = ARCHITECTURES[cfg.architecture](data[0].feats.shape[1], **cfg.model.model_dump())
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    hist = SimilarityHistory()
    for epoch in range(cfg.epochs):
        t0 = time.perf_counter()
        losses: list[float] = []
        for i in rng.permutation(len(data)):
            d = data[i]
            model.eval()
            a, p, neg = _triplets(model, d, cfg, rng)
            model.train()
            order = rng.permutation(len(a))
            for s in range(0, len(order), cfg.batch):
                sel = order[s : s + cfg.batch]
                loss = _loss(model, d.feats, a[sel], p[sel], neg[sel], cfg)
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(float(loss.detach()))
        hist.loss.append(float(np.mean(losses)) if losses else float("nan"))
        hist.seconds.append(time.perf_counter() - t0)
        log.info("similarity epoch %d: loss %.4f (%.1f s)", epoch, hist.loss[-1], hist.seconds[-1])
    model.eval()
    return model, hist


def _loss(
    model: nn.Module,
    feats: torch.Tensor,
    a: IntArray,
    p: IntArray,
    n: IntArray,
    cfg: SimilarityConfig,
) -> torch.Tensor:
    idx = torch.from_numpy(np.concatenate([a, p, n]))
    emb = model(feats[idx])
    b = len(a)
    ea, ep, en = emb[:b], emb[b : 2 * b], emb[2 * b :]
    if cfg.loss == "triplet":
        return triplet_loss(ea, ep, en, cfg.margin)
    local = torch.arange(b)
    pairs = torch.cat([torch.stack([local, local + b]), torch.stack([local, local + 2 * b])], 1)
    y = torch.cat([torch.ones(b), torch.zeros(b)])
    return hinge_loss(emb, pairs, y, cfg.margin)


def save_embedding(
    model: nn.Module,
    config: SimilarityConfig,
    path: str | Path,
    provenance: dict[str, Any] | None = None,
) -> Path:
    """Write ``path`` (state dict, float32) and ``path.with_suffix('.json')`` atomically.

    The JSON holds ``in_features``, ``use_cells``, ``architecture``, ``model`` (the
    MLP shape), ``direction`` (or null), the training ``config`` and ``provenance``
    -- what :class:`~tracklearn.graph.hashing.LearnedSpace` needs to rebuild the model.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(model.state_dict(), tmp)
    meta = {
        "in_features": model.in_features,
        "use_cells": config.use_cells,
        "architecture": config.architecture,
        "model": config.model.model_dump(),
        "direction": config.direction.model_dump() if config.direction is not None else None,
        "helix": config.helix.model_dump(),
        "config": json.loads(config.model_dump_json()),
        "provenance": provenance or {},
    }
    write_text_atomic(path.with_suffix(".json"), json.dumps(meta, indent=2) + "\n")
    return path


# --------------------------------------------------------------------------- in-bucket resolution


def pair_features(
    points: npt.NDArray[np.float32], event: Event, src: IntArray, dst: IntArray
) -> torch.Tensor:
    """Features of hit pairs for :class:`PairClassifier`.

    Columns: the two embeddings' difference (absolute), their distance, and
    geometry: Δr / 1 m, Δφ (wrapped), Δz / 1 m, Δη_hit, r_src / 1 m, z_src / 1 m.

    Shapes
    ------
    ``points`` ``(N, D)``; ``src, dst`` ``(E,)`` → ``(E, D + 7)`` float32.
    """
    h = event.hits
    r, phi, z = h.r, h.phi, h.z
    eta = np.arcsinh(z / np.maximum(r, 1e-9))
    de = np.abs(points[src] - points[dst])
    dist = np.linalg.norm(points[src] - points[dst], axis=1, keepdims=True)
    dphi = wrap_phi(phi[dst] - phi[src])
    geo = np.stack(
        [
            (r[dst] - r[src]) / u.m,
            dphi,
            (z[dst] - z[src]) / u.m,
            eta[dst] - eta[src],
            r[src] / u.m,
            z[src] / u.m,
        ],
        axis=1,
    )
    out = np.concatenate([de, dist, geo], axis=1).astype(np.float32)
    return torch.from_numpy(out)


class PairClassifier(nn.Module):
    """MLP scoring whether a bucket member belongs to the query hit's particle.

    Shapes
    ------
    input ``(E, in_features)`` → logits ``(E,)``.
    """

    def __init__(self, in_features: int, hidden: int = 32, n_layers: int = 2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_features
        for _ in range(n_layers):
            layers += [nn.Linear(width, hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)
        self.in_features = in_features

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(x).squeeze(-1)
        return out


def _query_pairs(buckets: Buckets) -> tuple[IntArray, IntArray]:
    q = buckets.query[buckets.bucket_of_entry]
    m = buckets.hit_index
    ok = (q >= 0) & (q != m)
    return q[ok], m[ok]


def train_pair_classifier(
    samples: Sequence[tuple[Event, npt.NDArray[np.float32], Buckets]],
    epochs: int = 5,
    lr: float = 3e-3,
    batch: int = 8192,
    max_pairs: int = 400_000,
    seed: int = 0,
) -> tuple[PairClassifier, list[float]]:
    """Train :class:`PairClassifier` on (event, embedded points, buckets) samples.

    Labels: 1 when query and member belong to the same (non-noise) particle;
    binary cross-entropy with the positive class weighted by the class ratio.
    Returns the model (eval mode) and the mean loss per epoch.
    """
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    xs, ys = [], []
    for ev, pts, bk in samples:
        assert ev.truth is not None
        src, dst = _query_pairs(bk)
        if len(src) > max_pairs:
            sel = rng.choice(len(src), max_pairs, replace=False)
            src, dst = src[sel], dst[sel]
        pid = ev.truth.particle_id
        xs.append(pair_features(pts, ev, src, dst))
        ys.append(torch.from_numpy(((pid[src] == pid[dst]) & (pid[src] != 0)).astype(np.float32)))
    x, y = torch.cat(xs), torch.cat(ys)
    model = PairClassifier(x.shape[1])
    pos = float(y.sum())
    weight = torch.tensor((len(y) - pos) / max(pos, 1.0))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses: list[float] = []
    for _ in range(epochs):
        perm = torch.from_numpy(rng.permutation(len(y)))
        tot = []
        for s in range(0, len(y), batch):
            chunk = perm[s : s + batch]
            loss = nn.functional.binary_cross_entropy_with_logits(
                model(x[chunk]), y[chunk], pos_weight=weight
            )
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot.append(float(loss.detach()))
        losses.append(float(np.mean(tot)))
    model.eval()
    return model, losses


def resolve_buckets(
    model: PairClassifier,
    event: Event,
    points: npt.NDArray[np.float32],
    buckets: Buckets,
    threshold: float = 0.5,
) -> Buckets:
    """Keep, in every query bucket, the query and the members scoring ≥ ``threshold``.

    Shapes: ``points`` ``(N, D)``; output buckets with the same ``query``.
    """
    b = buckets.bucket_of_entry
    q = buckets.query[b]
    m = buckets.hit_index
    member = (q >= 0) & (q != m)
    keep = ~member
    if member.any():
        with torch.no_grad():
            score = torch.sigmoid(model(pair_features(points, event, q[member], m[member])))
        keep[np.flatnonzero(member)] = score.numpy() >= threshold
    sizes = np.bincount(b[keep], minlength=buckets.n_buckets)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    return Buckets(offsets=offsets, hit_index=m[keep], n_hits=buckets.n_hits, query=buckets.query)
