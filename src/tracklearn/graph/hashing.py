"""Hashing / approximate-nearest-neighbour buckets of hits (Amrouche et al.).

A perfect hash ``h(hit) = track`` does not exist; an approximate one puts the
hits of a track into the same small bucket.  Here every hit queries its ``k``
nearest neighbours in a *space* through an *index*; its bucket is itself plus
those neighbours (:class:`~tracklearn.edm.Buckets`).

Spaces (registry :func:`get_space`):

* ``helix`` -- the hand-made, analytical space: ``(cos φ, sin φ, w_η·η_hit,
  w_r·r/1 m)`` with ``η_hit = asinh(z / r)``; hits of a high-pT track from the
  beam line share φ and η_hit and differ in r (the "required analytical
  transform" of the hashing talk; the weights are tuned on training events);
* ``learned`` -- a trained embedding of the hit and its cluster shape
  (:func:`learned_features`), trained so that nearby hits of one particle are close
  (:mod:`tracklearn.graph.similarity`): either the helix coordinates plus a learned
  correction (:class:`~tracklearn.models.bucket_embedding.BucketEmbedding`) or a
  learned per-hit switch between the helix coordinates and those of the cluster's
  own direction, where the cluster measures it (the shipped one:
  :class:`~tracklearn.models.bucket_embedding.GatedBucketEmbedding`,
  :class:`DirectionConfig`), for particles made away from the beam line.

Indexes (registry :func:`get_index`; all faiss except ``kdtree``):

* ``exact`` -- ``IndexFlatL2``, brute force (the reference);
* ``kdtree`` -- scipy ``cKDTree``, also exact, fast in a few dimensions;
* ``ivf`` -- ``IndexIVFFlat``: k-means cells, ``nprobe`` cells searched;
* ``hnsw`` -- ``IndexHNSWFlat``: a hierarchical navigable small-world graph;
* ``lsh`` -- ``IndexLSH``: random-projection locality-sensitive hashing, the
  sign of ``nbits`` random projections; neighbours by Hamming distance of the
  codes (:func:`lsh_codes` gives the codes themselves, hits with equal codes
  share a hash bucket).

A :class:`BucketBuilder` is ``builder(event) -> Buckets``; :func:`make_bucket_builder`
builds one from a :class:`BucketConfig` (``space``, ``index``, ``k``).
:class:`HashingGraphBuilder` (graph builder ``hashing``) turns buckets into
candidate edges (query hit → bucket members), oriented inner → outer.
Metrics: :mod:`tracklearn.metrics.buckets`.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, field_validator

from tracklearn import units as u
from tracklearn.edm import Buckets, Event, Graph
from tracklearn.errors import DataError, UnknownNameError
from tracklearn.typing import Float32Array, IntArray

__all__ = [
    "DEFAULT_EMBEDDING",
    "BucketBuilder",
    "BucketConfig",
    "DirectionConfig",
    "HashingGraphBuilder",
    "HelixSpace",
    "HelixSpaceConfig",
    "LearnedSpace",
    "LearnedSpaceConfig",
    "available_indexes",
    "available_spaces",
    "bucket_edges",
    "bucket_seed_filter",
    "direction_features",
    "direction_from_detector",
    "get_index",
    "get_space",
    "knn",
    "learned_features",
    "lsh_codes",
    "make_bucket_builder",
    "query_first",
]

log = logging.getLogger(__name__)

#: the shipped learned embedding (``scripts/train_hashing_embedding.py``)
DEFAULT_EMBEDDING: Path = Path(__file__).resolve().parents[1] / "data" / "hashing_embedding.pt"


# --------------------------------------------------------------------------- indexes


#: ``index(points, k) -> neighbours``: the ``k`` nearest points of every point.
#: Shapes: ``points`` ``(N, D)`` float32 → ``(N, k)`` int64 rows of ``points`` (nearest
#: first, a point usually first in its own row -- not always with duplicates, which
#: :func:`query_first` mends; -1 where fewer were found).
KnnIndex = Callable[[Float32Array, int], IntArray]


class ExactIndexConfig(BaseModel):
    """faiss ``IndexFlatL2``: exact brute-force search."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class KDTreeIndexConfig(BaseModel):
    """scipy ``cKDTree``: exact search; ``workers`` threads answer the queries
    (``BucketBuilder`` sets it to its ``threads`` unless given)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    leafsize: int = Field(32, ge=1)
    workers: int = Field(1, ge=1)


class IVFIndexConfig(BaseModel):
    """faiss ``IndexIVFFlat``: ``nlist = cells_per_sqrt_n · sqrt(N)`` k-means cells.

    Attributes
    ----------
    cells_per_sqrt_n
        Cells per square root of the number of points.
    nprobe
        Cells visited per query.
    train_points
        At most this many points train the k-means quantiser (seeded sample).
    seed
        Seed of that sample and of faiss's k-means.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    cells_per_sqrt_n: float = Field(1.0, gt=0)
    nprobe: int = Field(8, ge=1)
    train_points: int = Field(20_000, ge=100)
    seed: int = 0


class HNSWIndexConfig(BaseModel):
    """faiss ``IndexHNSWFlat``: ``m`` links per node, ``ef_construction``, ``ef_search``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    m: int = Field(16, ge=2)
    ef_construction: int = Field(40, ge=1)
    ef_search: int = Field(64, ge=1)


class LSHIndexConfig(BaseModel):
    """faiss ``IndexLSH``: ``nbits`` random projections (signs), Hamming neighbours.

    ``rotate`` applies a random rotation first (faiss's ``rotate_data``);
    ``train_thresholds`` puts each projection's threshold at its median on the
    points (otherwise 0).  faiss seeds its random projection itself (fixed).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    nbits: int = Field(64, ge=1)
    rotate: bool = True
    train_thresholds: bool = True


def _faiss() -> Any:
    import faiss

    return faiss


def _search(index: Any, pts: Float32Array, k: int) -> IntArray:
    _, nn = index.search(pts, k)
    return np.asarray(nn, dtype=np.int64)


def _exact(cfg: ExactIndexConfig) -> KnnIndex:
    def run(pts: Float32Array, k: int) -> IntArray:
        index = _faiss().IndexFlatL2(pts.shape[1])
        index.add(pts)
        return _search(index, pts, k)

    return run


def _kdtree(cfg: KDTreeIndexConfig) -> KnnIndex:
    def run(pts: Float32Array, k: int) -> IntArray:
        from scipy.spatial import cKDTree

        _, nn = cKDTree(pts, leafsize=cfg.leafsize).query(pts, k=k, workers=cfg.workers)
        out = np.asarray(nn, dtype=np.int64).reshape(len(pts), k)
        out[out >= len(pts)] = -1  # cKDTree marks missing neighbours with N
        return out

    return run


def _ivf(cfg: IVFIndexConfig) -> KnnIndex:
    def run(pts: Float32Array, k: int) -> IntArray:
        faiss = _faiss()
        n, d = pts.shape
        nlist = max(1, min(n // 39, round(cfg.cells_per_sqrt_n * math.sqrt(n))))
        quantizer = faiss.IndexFlatL2(d)
        index = faiss.IndexIVFFlat(quantizer, d, nlist)
        index.cp.seed = cfg.seed
        rng = np.random.default_rng(cfg.seed)
        sample = pts if n <= cfg.train_points else pts[rng.choice(n, cfg.train_points, False)]
        index.train(np.ascontiguousarray(sample))
        index.add(pts)
        index.nprobe = min(cfg.nprobe, nlist)
        return _search(index, pts, k)

    return run


def _hnsw(cfg: HNSWIndexConfig) -> KnnIndex:
    def run(pts: Float32Array, k: int) -> IntArray:
        index = _faiss().IndexHNSWFlat(pts.shape[1], cfg.m)
        index.hnsw.efConstruction = cfg.ef_construction
        index.add(pts)
        index.hnsw.efSearch = max(cfg.ef_search, k)
        return _search(index, pts, k)

    return run


def _lsh_index(d: int, cfg: LSHIndexConfig, pts: Float32Array) -> Any:
    index = _faiss().IndexLSH(d, cfg.nbits, cfg.rotate, cfg.train_thresholds)
    if not index.is_trained:
        index.train(pts)
    return index


def _lsh(cfg: LSHIndexConfig) -> KnnIndex:
    def run(pts: Float32Array, k: int) -> IntArray:
        index = _lsh_index(pts.shape[1], cfg, pts)
        index.add(pts)
        return _search(index, pts, k)

    return run


def lsh_codes(points: npt.ArrayLike, config: LSHIndexConfig | None = None) -> IntArray:
    """Random-projection LSH code of every point (faiss ``IndexLSH``), as an integer label.

    Points with equal codes fall in one hash bucket
    (:meth:`~tracklearn.edm.Buckets.from_labels`); identical points always do.
    Codes longer than 63 bits are folded into distinct labels with ``np.unique``.

    Shapes
    ------
    ``points`` ``(N, D)`` → ``(N,)`` int64.
    """
    cfg = config or LSHIndexConfig()
    pts = np.ascontiguousarray(points, dtype=np.float32)
    if len(pts) == 0:
        return np.zeros(0, dtype=np.int64)
    index = _lsh_index(pts.shape[1], cfg, pts)
    codes = np.asarray(index.sa_encode(pts), dtype=np.uint8)
    _, labels = np.unique(codes, axis=0, return_inverse=True)
    return np.asarray(labels, dtype=np.int64).reshape(-1)


_INDEXES: dict[str, tuple[type[BaseModel], Callable[[Any], KnnIndex]]] = {
    "exact": (ExactIndexConfig, _exact),
    "kdtree": (KDTreeIndexConfig, _kdtree),
    "ivf": (IVFIndexConfig, _ivf),
    "hnsw": (HNSWIndexConfig, _hnsw),
    "lsh": (LSHIndexConfig, _lsh),
}


def available_indexes() -> list[str]:
    """Names of the nearest-neighbour indexes, sorted."""
    return sorted(_INDEXES)


def get_index(name: str, **settings: Any) -> KnnIndex:
    """The index ``name`` with its config fields ``settings``; an unknown name lists the valid."""
    if name not in _INDEXES:
        raise UnknownNameError("nearest-neighbour index", name, available_indexes())
    cfg_cls, factory = _INDEXES[name]
    return factory(cfg_cls(**settings))


def query_first(neighbours: npt.ArrayLike) -> IntArray:
    """The neighbour table with every row's own point in column 0.

    An index lists a point's duplicates (other points at distance 0) in any
    order, so a point is not always first in its own row.  Where it is listed
    later it swaps places with column 0 (both at distance 0, so the row stays
    sorted by distance); where it is missing (an approximate index) it is put
    first and the row's farthest neighbour drops out.  Rows with ``-1`` are left
    as they are.  :meth:`~tracklearn.edm.Buckets.from_neighbours` then takes the
    table as it stands instead of deduplicating every row.

    Shapes
    ------
    ``(N, k)`` int → ``(N, k)`` int64 (a copy where rows change).
    """
    nn = np.asarray(neighbours, dtype=np.int64)
    if nn.ndim != 2 or nn.shape[1] == 0:
        return nn
    rows = np.arange(len(nn), dtype=np.int64)
    bad = np.flatnonzero((nn[:, 0] != rows) & (nn >= 0).all(axis=1))
    if not len(bad):
        return nn
    nn = nn.copy()
    sub, own = nn[bad], rows[bad]
    at = sub == own[:, None]
    listed = at.any(axis=1)
    j = at.argmax(axis=1)
    i = np.flatnonzero(listed)
    sub[i, j[i]] = sub[i, 0]
    sub[~listed, 1:] = sub[~listed, :-1]
    sub[:, 0] = own
    nn[bad] = sub
    return nn


def knn(points: npt.ArrayLike, k: int, index: str = "exact", **settings: Any) -> IntArray:
    """``k`` nearest neighbours of every point (itself included) with index ``index``.

    Shapes
    ------
    ``points`` ``(N, D)`` → ``(N, min(k, N))`` int64.
    """
    pts = np.ascontiguousarray(points, dtype=np.float32)
    k = min(k, len(pts))
    if k < 1:
        return np.zeros((len(pts), 0), dtype=np.int64)
    return query_first(get_index(index, **settings)(pts, k))


# --------------------------------------------------------------------------- spaces


class Space(Protocol):
    """``space(event) -> points``: coordinates of every hit, shape ``(N, D)`` float32."""

    def __call__(self, event: Event) -> Float32Array: ...


class HelixSpaceConfig(BaseModel):
    """Weights of the hand-made space ``(cos φ, sin φ, eta_weight·η_hit, r_weight·r/1 m)``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # tuned on two training events (seed 1) for the bucket efficiency at k = 10 and 20
    eta_weight: float = Field(2.0, ge=0)
    r_weight: float = Field(0.2, ge=0)


class HelixSpace:
    """The hand-made space (module docstring); pure numpy, no training."""

    def __init__(self, config: HelixSpaceConfig | None = None) -> None:
        self.config = config or HelixSpaceConfig()

    def __call__(self, event: Event) -> Float32Array:
        h, c = event.hits, self.config
        r = h.r
        phi = h.phi
        eta = np.arcsinh(h.z / np.maximum(r, 1e-9))
        cols = [np.cos(phi), np.sin(phi), c.eta_weight * eta, c.r_weight * r / u.m]
        return np.stack(cols, axis=1).astype(np.float32)


class DirectionConfig(BaseModel):
    """Where a hit's cluster measures its particle's dip angle, for the gated embedding.

    In a barrel module whose v axis runs along z, a particle crossing the sensor
    (thickness t) at dip angle θ leaves a cluster about ``t·|cot θ| / pitch_v + 1``
    cells long in v (``ch1``): so ``|cot θ| ≈ (cells − 1) · pitch_v / t``, whichever
    vertex the particle came from (measured: correlation 0.99 with the true
    ``|cot θ|`` on pixel-barrel hits of particles made far from the beam line too).

    Attributes
    ----------
    cot_per_cell
        Volume id → ``pitch_v / t`` of its modules (only volumes listed here get
        direction coordinates): :func:`direction_from_detector` picks the barrel
        volumes where a cell resolves ``|cot θ|`` better than ``max_cot_per_cell``.
    z0_scale
        Scale of ``z0`` (z where the hit's line crosses the beam axis) [1/m].
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    cot_per_cell: dict[int, float]
    z0_scale: float = Field(5.0, gt=0)


def direction_from_detector(
    detector: Any, max_cot_per_cell: float = 1.0, z0_scale: float = 5.0
) -> DirectionConfig:
    """The :class:`DirectionConfig` of a geometry (:class:`~tracklearn.edm.Detector`).

    A volume qualifies when its modules' v axis runs along z (median ``|rot_zv|`` >
    0.9: barrel) and ``pitch_v / module_t`` (median) is below ``max_cot_per_cell``.
    On the TrackML geometry that is the pixel barrel (volume 8: 0.05625 / 0.15 = 0.375).
    """
    cot: dict[int, float] = {}
    vol = np.asarray(detector.volume_id)
    for v in np.unique(vol):
        sel = vol == v
        barrel = float(np.median(np.abs(detector.rot_zv[sel]))) > 0.9
        ratio = float(np.median(detector.pitch_v[sel] / detector.module_t[sel]))
        if barrel and ratio < max_cot_per_cell:
            cot[int(v)] = round(ratio, 6)
    return DirectionConfig(cot_per_cell=cot, z0_scale=z0_scale)


def direction_features(
    event: Event, helix: HelixSpaceConfig, span_v: npt.NDArray[np.floating], cfg: DirectionConfig
) -> Float32Array:
    """Direction coordinates of every hit (module docstring of :class:`DirectionConfig`).

    Columns: ``(cos φ, sin φ, eta_weight·asinh(cot), r_weight·r/1 m)`` with the
    cluster's ``cot θ`` (signed as z) where the hit's volume is in ``cot_per_cell``,
    else the hit's helix coordinates; then ``z0_scale · z0 / 1 m`` with ``z0 = z −
    r·cot`` (0 elsewhere); then 1 where the hit has direction coordinates, else 0.
    ``span_v`` is each hit's cluster length in ``ch1`` cells.

    Shapes
    ------
    ``span_v`` ``(N,)`` → ``(N, 6)`` float32.
    """
    h = event.hits
    per_cell = np.zeros(event.n_hits)
    for v, c in cfg.cot_per_cell.items():
        per_cell[h.volume_id == v] = c
    mask = (per_cell > 0) & (np.asarray(span_v) > 0)
    r, z = h.r, h.z
    cot = np.where(mask, per_cell * np.maximum(np.asarray(span_v) - 1.0, 0.0), 0.0) * np.sign(z)
    base = HelixSpace(helix)(event)
    alt = np.stack(
        [base[:, 0], base[:, 1], helix.eta_weight * np.arcsinh(cot), helix.r_weight * r / u.m],
        axis=1,
    )
    alt = np.where(mask[:, None], alt, base)
    z0 = np.where(mask, cfg.z0_scale * (z - r * cot) / u.m, 0.0)
    return np.concatenate([alt, z0[:, None], mask[:, None]], axis=1).astype(np.float32)


def learned_features(
    event: Event,
    helix: HelixSpaceConfig,
    use_cells: bool,
    direction: DirectionConfig | None = None,
) -> Float32Array:
    """Inputs of the learned embedding: the helix-space coordinates, then
    :func:`~tracklearn.graph.metric_learning.hit_features` (r, cos φ, sin φ, z and,
    with ``use_cells``, the cluster shape), then with ``direction`` (which needs
    cells) the 6 columns of :func:`direction_features`.

    Shapes
    ------
    output ``(N, 8)``, ``(N, 12)`` or ``(N, 18)`` float32; the first 4 columns are
    ``HelixSpace``'s.
    """
    from tracklearn.graph.metric_learning import CELL_SPAN_SCALE, hit_features

    if direction is not None and not use_cells:
        raise ValueError("direction features need the cluster shapes (use_cells)")
    parts = [HelixSpace(helix)(event), hit_features(event, use_cells)]
    if direction is not None:
        span_v = parts[1][:, 6] * CELL_SPAN_SCALE  # the ch1 extent column of hit_features
        parts.append(direction_features(event, helix, span_v, direction))
    return np.concatenate(parts, axis=1).astype(np.float32)


class LearnedSpaceConfig(BaseModel):
    """Where the learned embedding is read from (``.pt`` with its ``.json`` beside it)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: Path = DEFAULT_EMBEDDING
    threads: int = Field(1, ge=1)


class LearnedSpace:
    """A trained :class:`~tracklearn.models.bucket_embedding.BucketEmbedding` on every hit.

    The weights file ``X.pt`` (a state dict) comes with ``X.json``: the model's
    ``architecture`` (``residual`` when absent, or ``gated``) and shape (``model``:
    ``hidden``, ``n_layers``, ``out_dim``), the ``helix`` weights of its skip
    coordinates, ``use_cells``, the ``direction`` config of a gated model and the
    provenance of its training (:func:`~tracklearn.graph.similarity.save_embedding`).
    """

    def __init__(self, config: LearnedSpaceConfig | None = None) -> None:
        import torch

        from tracklearn.models.bucket_embedding import ARCHITECTURES

        self.config = config or LearnedSpaceConfig()
        path = Path(self.config.path)
        meta_path = path.with_suffix(".json")
        if not path.exists() or not meta_path.exists():
            raise DataError(path, "embedding weights or their .json description are missing")
        try:
            meta = json.loads(meta_path.read_text())
            self.use_cells = bool(meta["use_cells"])
            self.helix = HelixSpaceConfig(**meta["helix"])
            d = meta.get("direction")
            self.direction = DirectionConfig(**d) if d is not None else None
            arch = meta.get("architecture", "residual")
            if arch not in ARCHITECTURES:
                raise ValueError(f"unknown architecture {arch!r}")
            self.model = ARCHITECTURES[arch](int(meta["in_features"]), **meta["model"])
            state = torch.load(path, map_location="cpu", weights_only=True)
            self.model.load_state_dict(state)
        except (KeyError, ValueError, RuntimeError, TypeError) as exc:
            raise DataError(path, f"not a bucket embedding: {exc}") from exc
        self.model.eval()
        self.meta = meta

    def __call__(self, event: Event) -> Float32Array:
        import torch

        torch.set_num_threads(self.config.threads)
        feats = torch.from_numpy(
            learned_features(event, self.helix, self.use_cells, self.direction)
        )
        with torch.no_grad():
            out: Float32Array = self.model(feats).numpy().astype(np.float32)
        return out


_SPACES: dict[str, tuple[type[BaseModel], Callable[[Any], Space]]] = {
    "helix": (HelixSpaceConfig, HelixSpace),
    "learned": (LearnedSpaceConfig, LearnedSpace),
}


def available_spaces() -> list[str]:
    """Names of the bucket spaces, sorted."""
    return sorted(_SPACES)


def get_space(name: str, **settings: Any) -> Space:
    """The space ``name`` with its config fields ``settings``; an unknown name lists the valid."""
    if name not in _SPACES:
        raise UnknownNameError("bucket space", name, available_spaces())
    cfg_cls, factory = _SPACES[name]
    return factory(cfg_cls(**settings))


# --------------------------------------------------------------------------- builders


class BucketConfig(BaseModel):
    """A bucket builder: a space, an index and the bucket size.

    Attributes
    ----------
    space, space_settings
        Registered space name (``helix``, ``learned``) and its config fields.
    index, index_settings
        Registered index name (``exact``, ``kdtree``, ``ivf``, ``hnsw``, ``lsh``) and
        its config fields.
    k
        Hits per bucket: the query hit and its ``k - 1`` nearest neighbours.
    threads
        faiss (OpenMP) threads.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    space: str = "learned"
    space_settings: dict[str, Any] = Field(default_factory=dict)
    index: str = "hnsw"
    index_settings: dict[str, Any] = Field(default_factory=dict)
    k: int = Field(30, ge=1)
    threads: int = Field(1, ge=1)

    @field_validator("space")
    @classmethod
    def _known_space(cls, v: str) -> str:
        if v not in _SPACES:
            raise ValueError(f"unknown bucket space {v!r}; valid: {', '.join(available_spaces())}")
        return v

    @field_validator("index")
    @classmethod
    def _known_index(cls, v: str) -> str:
        if v not in _INDEXES:
            raise ValueError(f"unknown index {v!r}; valid: {', '.join(available_indexes())}")
        return v


class BucketBuilder:
    """``builder(event) -> Buckets``: every hit's ``k`` nearest neighbours in a space.

    ``timings`` holds the seconds of the last call: ``space`` (coordinates) and
    ``index`` (building and querying the index).

    Shapes
    ------
    ``Buckets`` with ``B = N`` buckets of at most ``k`` hits each.
    """

    def __init__(self, config: BucketConfig) -> None:
        self.config = config
        self.space = get_space(config.space, **config.space_settings)
        settings = dict(config.index_settings)
        if config.index == "kdtree":
            settings.setdefault("workers", config.threads)
        self.index = get_index(config.index, **settings)
        self.timings: dict[str, float] = {}

    def points(self, event: Event) -> Float32Array:
        """Coordinates of every hit in the space, shape ``(N, D)``."""
        return np.ascontiguousarray(self.space(event), dtype=np.float32)

    def neighbours(self, points: Float32Array) -> IntArray:
        """Neighbour table of the points, shape ``(N, min(k, N))``, each row's own
        point first (:func:`query_first`)."""
        k = min(self.config.k, len(points))
        if k < 1:
            return np.zeros((len(points), 0), dtype=np.int64)
        faiss = _faiss()
        old = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(self.config.threads)
        try:
            return query_first(self.index(points, k))
        finally:
            faiss.omp_set_num_threads(old)

    def __call__(self, event: Event) -> Buckets:
        import time

        t0 = time.perf_counter()
        pts = self.points(event)
        t1 = time.perf_counter()
        nn = self.neighbours(pts)
        t2 = time.perf_counter()
        self.timings = {"space": t1 - t0, "index": t2 - t1}
        return Buckets.from_neighbours(nn, event.n_hits)


def make_bucket_builder(**settings: Any) -> BucketBuilder:
    """``BucketBuilder(BucketConfig(**settings))``."""
    return BucketBuilder(BucketConfig(**settings))


# --------------------------------------------------------------------------- as a graph


def bucket_edges(buckets: Buckets) -> IntArray:
    """Undirected edges query → member of every query bucket, each once as ``(i, j)``, i < j.

    Hash buckets (``query == -1``) are skipped.  Shapes: output ``(2, E)`` int64,
    sorted by ``(i, j)``.
    """
    q = buckets.query[buckets.bucket_of_entry]
    m = buckets.hit_index
    ok = (q >= 0) & (q != m)
    lo, hi = np.minimum(q[ok], m[ok]), np.maximum(q[ok], m[ok])
    n = max(buckets.n_hits, 1)
    keys = np.unique(lo * n + hi)
    return np.stack([keys // n, keys % n]).astype(np.int64)


class HashingGraphBuilder:
    """Graph builder ``hashing``: edges between each hit and the members of its bucket.

    Edges are oriented inner → outer by ``sqrt(r² + z²)``
    (:func:`~tracklearn.graph.metric_learning.orient_pairs`); node and edge
    features as the other builders (:func:`~tracklearn.graph.assemble.event_graph`).
    """

    def __init__(self, buckets: BucketBuilder) -> None:
        self.buckets = buckets

    def candidate_edges(self, event: Event) -> IntArray:
        """Edges (hit rows, inner → outer), shape ``(2, E)``."""
        from tracklearn.graph.metric_learning import orient_pairs

        pairs = bucket_edges(self.buckets(event))
        return orient_pairs(pairs, event.hits.r, event.hits.z)

    def __call__(self, event: Event) -> Graph:
        from tracklearn.graph.assemble import event_graph

        return event_graph(event, self.candidate_edges(event))


def bucket_seed_filter(
    builder: BucketBuilder,
) -> Callable[[Event], Callable[[IntArray], npt.NDArray[np.bool_]]]:
    """Buckets as seeds: a seed filter for the ``fullspectrum`` method that keeps the
    triplets whose inner and outer hits are in the middle hit's bucket.

    ``filter(event)`` builds the event's buckets once and returns ``keep(triplets)``;
    ``triplets`` are ``(S, 3)`` event hit rows (inner, middle, outer) → ``(S,)`` bool.
    Pass it as ``FullSpectrumReconstructor(model, config, seed_filter=...)``.
    """

    def for_event(event: Event) -> Callable[[IntArray], npt.NDArray[np.bool_]]:
        nn = builder.neighbours(builder.points(event))

        def keep(triplets: IntArray) -> npt.NDArray[np.bool_]:
            t = np.asarray(triplets, dtype=np.int64)
            out = np.zeros(len(t), dtype=bool)
            for s in range(0, len(t), 65_536):  # (chunk, k) tables, not (S, k) at once
                c = t[s : s + 65_536]
                members = nn[c[:, 1]]
                out[s : s + len(c)] = (members == c[:, 0:1]).any(axis=1) & (
                    members == c[:, 2:3]
                ).any(axis=1)
            return out

        return keep

    return for_event
