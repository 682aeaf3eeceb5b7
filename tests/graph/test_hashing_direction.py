"""The gated bucket embedding: cluster-direction coordinates and the learned switch to them.

Known answers: the pixel barrel of the real TrackML geometry measures the dip angle
(0.05625 mm pitch / 0.15 mm thickness per cell); a straight particle made 300 mm
down the beam line has the z0 and dip of its line in the direction coordinates;
and a tiny trained gated embedding finds such particles that the helix space,
built for particles from the beam line, misses.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch
from tests.graph._graph_events import hit_event

from tracklearn.edm import Event
from tracklearn.edm.hits import Cells
from tracklearn.graph.hashing import (
    DirectionConfig,
    HelixSpaceConfig,
    direction_features,
    direction_from_detector,
    learned_features,
    make_bucket_builder,
)
from tracklearn.graph.similarity import SimilarityConfig, save_embedding, train_similarity
from tracklearn.io.trackml import load_detector
from tracklearn.metrics.buckets import particle_bucket_found
from tracklearn.models.bucket_embedding import GatedBucketEmbedding

LAYERS_R = np.array([32.0, 72.0, 116.0, 172.0])  # mm, the TrackML pixel-barrel radii
PIXEL = DirectionConfig(cot_per_cell={8: 0.375}, z0_scale=5.0)


def test_trackml_geometry_measures_the_dip_in_the_pixel_barrel_only() -> None:
    cfg = direction_from_detector(load_detector(None))
    assert cfg.cot_per_cell == {8: pytest.approx(0.375)}


def line_event(seed: int, n_prompt: int = 30, n_displaced: int = 6) -> Event:
    """Straight tracks through 4 pixel-barrel layers: ``n_prompt`` from the origin and
    ``n_displaced`` made at z = ±300 mm, all with small dips; every hit's cluster is
    as long in ch1 as its dip makes it (the crossing length over the pitch)."""
    rng = np.random.default_rng(seed)
    n = n_prompt + n_displaced
    phi0 = rng.uniform(-0.3, 0.3, n)
    z0 = np.concatenate([np.zeros(n_prompt), rng.choice([-300.0, 300.0], n_displaced)])
    cot = np.concatenate(
        [
            rng.uniform(-0.3, 0.3, n_prompt),
            rng.uniform(0.5, 1.5, n_displaced) * np.sign(z0[n_prompt:]),
        ]
    )
    r = np.tile(LAYERS_R, n)
    track = np.repeat(np.arange(n), len(LAYERS_R))
    z = z0[track] + cot[track] * r
    ev = hit_event(
        r, phi0[track], z, volume=np.full(len(r), 8), layer=np.tile([2, 4, 6, 8], n),
        particle_id=track + 1, pt={i + 1: 2.0 for i in range(n)},
    )  # fmt: skip
    span = np.rint(np.abs(cot[track]) / 0.375).astype(int) + 1
    hit = np.repeat(ev.hits.hit_id, span)
    ch1 = np.concatenate([np.arange(s) for s in span]).astype(np.int32)
    cells = Cells(
        hit_id=hit, ch0=np.zeros(len(hit), np.int32), ch1=ch1,
        value=np.ones(len(hit), np.float32),
    )  # fmt: skip
    assert ev.particles is not None
    particles = dataclasses.replace(ev.particles, vz=z0[ev.particles.particle_id - 1])
    return Event(ev.event_id, ev.hits, ev.truth, particles, cells=cells)


def test_direction_features_recover_the_line_of_a_displaced_particle() -> None:
    ev = line_event(seed=1, n_prompt=0, n_displaced=3)
    span = np.bincount(ev.hit_rows(ev.cells.hit_id), minlength=ev.n_hits).astype(float)
    d = direction_features(ev, HelixSpaceConfig(), span, PIXEL)
    assert d.shape == (ev.n_hits, 6) and (d[:, 5] == 1).all()
    # the measured cot (quantised to 0.375 per cell) puts z0 within r·0.19 of the truth
    z0 = d[:, 4] / 5.0 * 1000.0  # mm
    assert np.all(np.abs(np.abs(z0) - 300.0) <= ev.hits.r * 0.19 + 1e-6)
    # every hit of one particle has the same direction coordinates
    pid = ev.truth.particle_id
    for p in np.unique(pid):
        assert np.ptp(d[pid == p, 2]) == pytest.approx(0.0, abs=1e-6)
    # a hit outside the listed volumes keeps its helix coordinates and gets mask 0
    other = DirectionConfig(cot_per_cell={13: 4.8})
    d2 = direction_features(ev, HelixSpaceConfig(), span, other)
    feats = learned_features(ev, HelixSpaceConfig(), use_cells=True)
    assert np.allclose(d2[:, :4], feats[:, :4]) and (d2[:, 4:] == 0).all()


def test_untrained_gated_embedding_is_the_helix_space_and_needs_directions() -> None:
    ev = line_event(seed=2)
    x = torch.from_numpy(learned_features(ev, HelixSpaceConfig(), True, PIXEL))
    model = GatedBucketEmbedding(x.shape[1])
    out = model(x).detach()
    helix, direction = x[:, :4], x[:, -6:-2]
    # gate sigmoid(-4) = 0.018 at the start: 1.8 % of the way to the direction coordinates
    assert torch.allclose(out[:, :4], helix + 0.018 * (direction - helix), atol=1e-3)
    x[:, -1] = 0  # no direction coordinates: exactly the helix space
    assert torch.equal(model(x)[:, :4], x[:, :4])
    with pytest.raises(ValueError, match="direction config"):
        SimilarityConfig(architecture="gated")


def test_tiny_gated_embedding_finds_displaced_particles_the_helix_space_misses(
    tmp_path: Path,
) -> None:
    cfg = SimilarityConfig(
        architecture="gated", direction=PIXEL, pt_min=0.1, displaced_weight=10.0,
        model={"hidden": 16, "n_layers": 2, "out_dim": 5}, anchors=2000, batch=256,
        epochs=30, lr=1e-2, margin=0.02, hard_k=5, positive_k=5,
    )  # fmt: skip
    train = [line_event(seed=s) for s in (11, 12, 13)]
    model, hist = train_similarity(train, cfg)
    assert hist.loss[-1] < hist.loss[0]
    path = save_embedding(model, cfg, tmp_path / "gated.pt", {"test": True})
    test = line_event(seed=3)  # never trained on
    displaced = np.abs(test.particles.vz) > 100

    def found(space: str) -> float:
        ss = {"path": str(path)} if space == "learned" else {}
        b = make_bucket_builder(space=space, space_settings=ss, index="kdtree", k=4)
        f, _ = particle_bucket_found(test, b(test))
        return float(f[displaced].mean())

    assert found("helix") <= 0.5
    assert found("learned") >= found("helix") + 0.3
