"""Hashing buckets: exact / approximate indexes on hand-placed points, LSH, the
bucket builders, the graph builder, and the similarity learning of the embedding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from tests.graph._graph_events import hit_event

from tracklearn.edm import Buckets, Event
from tracklearn.errors import ConfigError, DataError
from tracklearn.graph.hashing import (
    BucketConfig,
    HashingGraphBuilder,
    HelixSpaceConfig,
    bucket_edges,
    knn,
    learned_features,
    lsh_codes,
    make_bucket_builder,
    query_first,
)
from tracklearn.graph.registry import make_builder
from tracklearn.graph.similarity import (
    SimilarityConfig,
    resolve_buckets,
    save_embedding,
    train_pair_classifier,
    train_similarity,
    triplet_loss,
)
from tracklearn.metrics.buckets import bucket_metrics
from tracklearn.metrics.targets import TargetSelection
from tracklearn.models.bucket_embedding import BucketEmbedding


def brute_force_knn(pts: np.ndarray, k: int) -> np.ndarray:
    d = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    return np.argsort(d, axis=1, kind="stable")[:, :k]


@pytest.mark.parametrize("index", ["exact", "kdtree"])
def test_exact_index_returns_the_true_neighbours(index: str) -> None:
    # distinct pairwise distances (random points), so the k nearest are unique
    pts = np.random.default_rng(3).uniform(0, 1, (300, 3)).astype(np.float32)
    got = knn(pts, 7, index)
    want = brute_force_knn(pts.astype(np.float64), 7)
    assert np.array_equal(np.sort(got, axis=1), np.sort(want, axis=1))
    assert np.array_equal(got[:, 0], np.arange(300))  # each point is its own nearest


def test_duplicate_points_still_list_their_own_row_first() -> None:
    rng = np.random.default_rng(6)
    base = rng.uniform(0, 1, (200, 3)).astype(np.float32)
    pts = np.concatenate([base, base[:50]])  # rows 200-249 sit on rows 0-49
    got = knn(pts, 6, "kdtree")
    assert np.array_equal(got[:, 0], np.arange(250))
    want = brute_force_knn(pts.astype(np.float64), 6)
    d = np.linalg.norm(pts[:, None] - pts[None], axis=2)
    # same distances row by row (ties may be listed in any order), each row sorted
    dg = np.take_along_axis(d, got, axis=1)
    assert np.allclose(dg, np.take_along_axis(d, want, axis=1))
    assert np.all(np.diff(dg, axis=1) >= 0)
    assert all(len(set(r)) == 6 for r in got)


def test_query_first_puts_a_missing_point_first_and_drops_the_farthest() -> None:
    table = np.array([[0, 5, 6], [2, 1, 7], [3, 8, 9], [4, -1, 2]])
    got = query_first(table)
    assert got.tolist() == [[0, 5, 6], [1, 2, 7], [2, 3, 8], [4, -1, 2]]
    assert table[1, 0] == 2  # the input is not changed


@pytest.mark.parametrize(
    ("index", "settings"),
    [("hnsw", {"ef_search": 128}), ("ivf", {"nprobe": 64, "train_points": 300})],
)
def test_approximate_indexes_find_almost_all_true_neighbours(index: str, settings: dict) -> None:
    pts = np.random.default_rng(4).uniform(0, 1, (2000, 4)).astype(np.float32)
    got = knn(pts, 10, index, **settings)
    want = brute_force_knn(pts.astype(np.float64), 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, want, strict=True)])
    assert recall > 0.97


def test_lsh_puts_identical_points_in_one_bucket() -> None:
    rng = np.random.default_rng(5)
    base = rng.normal(size=(50, 6)).astype(np.float32)
    pts = np.concatenate([base, base[:10], base[:10]])  # rows 50-69 repeat rows 0-9
    codes = lsh_codes(pts)
    assert np.array_equal(codes[50:60], codes[:10]) and np.array_equal(codes[60:], codes[:10])
    b = Buckets.from_labels(codes)
    bucket_of = np.empty(len(pts), dtype=np.int64)
    bucket_of[b.hit_index] = b.bucket_of_entry
    assert np.array_equal(bucket_of[50:60], bucket_of[:10])
    # far-apart points get different codes: more than one bucket
    assert b.n_buckets > 10
    # the LSH kNN index finds an identical copy at Hamming distance 0
    nn = knn(pts, 3, "lsh")
    for i in range(10):
        assert {i, 50 + i, 60 + i} == set(nn[i].tolist())


def test_unknown_index_or_space_lists_the_valid_names() -> None:
    with pytest.raises(ConfigError, match="valid: exact, hnsw, ivf, kdtree, lsh"):
        knn(np.zeros((3, 2)), 2, "annoy")
    with pytest.raises(ValueError, match="valid: helix, learned"):
        BucketConfig(space="made-up")
    with pytest.raises(ValueError, match="extra"):
        make_bucket_builder(space="helix", index="hnsw", index_settings={"m": 8, "bogus": 1})


# ---------------------------------------------------------------- a curling-track event

LAYERS_R = np.linspace(40.0, 400.0, 8)  # mm


def curled_event(n_tracks: int = 40, seed: int = 0, pt: float = 0.4) -> Event:
    """Tracks of one charge and pT [GeV] from the origin in 2 T, close in φ0 and η.

    All curl the same way, φ(r) = φ0 − asin(r / 2R): a hit's φ drifts with r by
    up to 0.25 rad, ten times the φ0 spacing, so in the hand-made space hits on
    one layer from neighbouring tracks are nearer than the track's own hits.
    """
    rng = np.random.default_rng(seed)
    radius = pt / (0.299792458e-3 * 2.0)  # mm
    phi0 = np.sort(rng.uniform(-0.5, 0.5, n_tracks))
    cot = rng.uniform(-0.05, 0.05, n_tracks)
    r = np.tile(LAYERS_R, n_tracks)
    track = np.repeat(np.arange(n_tracks), len(LAYERS_R))
    phi = phi0[track] - np.arcsin(r / (2 * radius))
    z = cot[track] * r
    layer = np.tile(2 * np.arange(1, len(LAYERS_R) + 1), n_tracks)
    return hit_event(
        r, phi, z, volume=np.full(len(r), 8), layer=layer, particle_id=track + 1,
        pt={i + 1: pt for i in range(n_tracks)},
    )  # fmt: skip


SEL = TargetSelection(pt_min=0.1)


def test_helix_buckets_graph_builder_and_registry() -> None:
    ev = curled_event()
    b = make_bucket_builder(space="helix", index="kdtree", k=5)(ev)
    assert b.n_buckets == ev.n_hits and (b.sizes == 5).all()
    assert np.array_equal(b.hit_index[b.offsets[:-1]], np.arange(ev.n_hits))
    edges = bucket_edges(b)
    assert (edges[0] < edges[1]).all()
    g = make_builder("hashing", space="helix", index="kdtree", k=5)(ev)
    assert isinstance(g.edge_index, np.ndarray) and g.edge_index.shape[1] == edges.shape[1]
    # oriented inner -> outer by sqrt(r^2 + z^2)
    hr = np.hypot(ev.hits.r, ev.hits.z)[g.hit_index]
    assert (hr[g.edge_index[0]] <= hr[g.edge_index[1]]).all()
    assert HashingGraphBuilder(make_bucket_builder(space="helix", index="exact", k=5))


def test_triplet_loss_values() -> None:
    a = torch.zeros(2, 2)
    p = torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    n = torch.tensor([[3.0, 0.0], [0.0, 0.5]])
    # relu(1 - 3 + 1) = 0 and relu(0 - 0.5 + 1) = 0.5
    assert float(triplet_loss(a, p, n, 1.0)) == pytest.approx(0.25)


TINY = SimilarityConfig(
    use_cells=False, pt_min=0.1, hard_k=5, anchors=2000, batch=256, epochs=1, lr=3e-3,
    margin=0.02, model={"hidden": 32, "n_layers": 2, "out_dim": 4},
    helix=HelixSpaceConfig(eta_weight=2.0, r_weight=0.2),
)  # fmt: skip


def test_embedding_one_step_lowers_the_triplet_loss() -> None:
    torch.manual_seed(0)
    ev = curled_event(seed=1)
    feats = torch.from_numpy(learned_features(ev, HelixSpaceConfig(), use_cells=False))
    model = BucketEmbedding(feats.shape[1], hidden=16, n_layers=2, out_dim=4)
    # an untrained model is the hand-made space: its skip path, zero correction
    assert torch.equal(model(feats), feats[:, :4])
    n = ev.n_hits
    a = torch.arange(0, n - 1)
    p = a + 1  # the next hit: same track except at track ends
    neg = (a + len(LAYERS_R) * 3) % n  # a hit three tracks away
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss() -> torch.Tensor:
        e = model(feats)
        return triplet_loss(e[a], e[p], e[neg], margin=0.05)

    before = loss()
    opt.zero_grad()
    before.backward()
    opt.step()
    assert float(loss().detach()) < float(before.detach())


@pytest.mark.parametrize(
    ("loss", "positives"),
    [("triplet", "neighbours"), ("triplet", "track"), ("contrastive", "track")],
)
def test_embedding_training_loss_falls(loss: str, positives: str) -> None:
    ev = curled_event(seed=1)
    cfg = TINY.model_copy(update={"loss": loss, "positives": positives, "epochs": 4})
    _, hist = train_similarity([ev], cfg)
    assert len(hist.loss) == 4 and hist.loss[-1] < hist.loss[0]


def test_tiny_trained_embedding_beats_the_hand_made_space(tmp_path: Path) -> None:
    train = [curled_event(seed=s) for s in (11, 12, 13)]
    test = curled_event(seed=2)  # a fixed event, never trained on
    model, hist = train_similarity(train, TINY.model_copy(update={"epochs": 12}))
    assert hist.loss[-1] < hist.loss[0]
    path = save_embedding(model, TINY, tmp_path / "emb.pt", {"test": True})
    hand = bucket_metrics(test, make_bucket_builder(space="helix", index="kdtree", k=5)(test), SEL)
    learned_builder = make_bucket_builder(
        space="learned", space_settings={"path": str(path)}, index="kdtree", k=5
    )
    learned = bucket_metrics(test, learned_builder(test), SEL)
    assert hand.efficiency < 0.8  # the curl defeats the analytical space at k = 5
    assert learned.efficiency > hand.efficiency + 0.1
    # in-bucket resolution: the pair classifier purifies the learned buckets
    pts = learned_builder.points(test)
    samples = [(ev, learned_builder.points(ev), learned_builder(ev)) for ev in train]
    clf, losses = train_pair_classifier(samples, epochs=20, batch=512)
    assert losses[-1] < losses[0]
    resolved = resolve_buckets(clf, test, pts, learned_builder(test))
    assert bucket_metrics(test, resolved, SEL).pure_efficiency >= learned.pure_efficiency


def test_learned_space_missing_file_is_a_data_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="missing"):
        make_bucket_builder(space="learned", space_settings={"path": str(tmp_path / "x.pt")})
