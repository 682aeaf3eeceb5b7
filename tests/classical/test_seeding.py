"""Triplet seeding: finds the triplet of a generated helix, rejects random hits."""

from __future__ import annotations

import numpy as np
import pytest

from tracklearn.classical.seeding import SeedFinder, SeedingConfig, circle_curvature
from tracklearn.edm import Hits
from tracklearn.geometry.field import UniformField
from tracklearn.geometry.helix import alpha_at_radius, helix_point, radius_of_curvature

RADII = (32.0, 72.0, 116.0, 172.0)  # mm, TrackML pixel barrel


def helix_hits(
    pt: float, q: float, phi0: float, cot: float, z0: float, b: float = 2.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact crossings of a helix from (0, 0, z0) with the pixel barrel cylinders."""
    R = radius_of_curvature(pt, q, b)
    h = -np.sign(q * b)
    pts = []
    for r in RADII:
        a = alpha_at_radius(r, np.zeros(1), np.zeros(1), np.array([phi0]), np.array([R]), h)
        pts.append(helix_point(a, 0.0, 0.0, z0, phi0, cot, R, h))
    x, y, z = (np.concatenate([p[i] for p in pts]) for i in range(3))
    return x, y, z


def make_hits(x: np.ndarray, y: np.ndarray, z: np.ndarray, layer: np.ndarray) -> Hits:
    n = len(x)
    return Hits(
        hit_id=np.arange(1, n + 1, dtype=np.int64),
        x=x.astype(np.float64),
        y=y.astype(np.float64),
        z=z.astype(np.float64),
        volume_id=np.full(n, 8, np.int32),
        layer_id=layer.astype(np.int32),
        module_id=np.zeros(n, np.int32),
    )


def finder() -> SeedFinder:
    return SeedFinder(SeedingConfig(), field=UniformField(2.0))


@pytest.mark.parametrize(("pt", "q", "phi0", "cot"), [(2.0, 1, 0.3, 0.5), (10.0, -1, -3.1, -2.0)])
def test_finds_helix_triplets_with_its_parameters(
    pt: float, q: float, phi0: float, cot: float
) -> None:
    x, y, z = helix_hits(pt, q, phi0, cot, z0=20.0)
    hits = make_hits(x, y, z, np.array([2, 4, 6, 8]))
    seeds = finder()(hits)
    assert len(seeds) >= 1
    # the consecutive triplet (layers 1-2-3) is among them, with the helix parameters
    rows = {tuple(r) for r in seeds.hits.tolist()}
    assert (0, 1, 2) in rows
    i = [tuple(r) for r in seeds.hits.tolist()].index((0, 1, 2))
    assert seeds.pt[i] == pytest.approx(pt, rel=1e-6)
    assert seeds.charge[i] == q
    assert seeds.cot_theta[i] == pytest.approx(cot, rel=1e-3)
    assert seeds.z0[i] == pytest.approx(20.0, abs=0.05)
    assert seeds.d0[i] == pytest.approx(0.0, abs=1e-6)
    assert np.angle(np.exp(1j * (seeds.phi[i] - phi0))) == pytest.approx(0.0, abs=1e-6)


def test_rejects_low_pt_and_displaced_tracks() -> None:
    x, y, z = helix_hits(0.5, 1, 0.3, 0.5, z0=0.0)  # below pt_min
    assert len(finder()(make_hits(x, y, z, np.array([2, 4, 6, 8])))) == 0
    x, y, z = helix_hits(5.0, 1, 0.3, 0.5, z0=400.0)  # outside the collision region
    assert len(finder()(make_hits(x, y, z, np.array([2, 4, 6, 8])))) == 0


def test_random_hits_give_few_seeds_and_a_helix_is_still_found() -> None:
    rng = np.random.default_rng(1)
    n = 400  # per layer
    r = np.repeat(np.array(RADII), n)
    phi = rng.uniform(-np.pi, np.pi, len(r))
    z = rng.uniform(-400, 400, len(r))
    layer = np.repeat(np.array([2, 4, 6, 8]), n)
    hx, hy, hz = helix_hits(3.0, -1, 1.0, 0.2, z0=-30.0)
    hits = make_hits(
        np.r_[r * np.cos(phi), hx],
        np.r_[r * np.sin(phi), hy],
        np.r_[z, hz],
        np.r_[layer, [2, 4, 6, 8]],
    )
    seeds = finder()(hits)
    helix_rows = set(range(len(r), len(r) + 4))
    pure = np.array([set(s) <= helix_rows for s in seeds.hits.tolist()])
    assert pure.sum() >= 2
    # random combinations pass rarely: far fewer than the ~10⁷ triplets available
    assert (~pure).sum() < 0.05 * len(r)


def test_circle_curvature_sign_and_d0() -> None:
    # counter-clockwise points on the unit circle centred at (0, 2): d0 = 1, κ = 1
    a = np.array([-0.5, 0.0, 0.5]) - np.pi / 2
    x, y = np.cos(a), 2 + np.sin(a)
    kappa, d0 = circle_curvature(*(np.array([v]) for v in (x[0], y[0], x[1], y[1], x[2], y[2])))
    assert kappa[0] == pytest.approx(1.0)
    assert d0[0] == pytest.approx(1.0)


def test_empty_hits_give_no_seeds() -> None:
    e = np.zeros(0)
    assert len(finder()(make_hits(e, e, e, e.astype(int)))) == 0


def displaced_helix_hits(pt: float, q: float, phi0: float, cot: float, d0: float) -> Hits:
    """Pixel-barrel crossings of a helix with transverse impact parameter ``d0`` [mm]."""
    R = radius_of_curvature(pt, q, 2.0)
    h = -np.sign(q * 2.0)
    vx, vy = -d0 * np.sin(phi0), d0 * np.cos(phi0)  # perigee point
    pts = []
    for r in RADII:
        a = alpha_at_radius(
            r, np.array([vx]), np.array([vy]), np.array([phi0]), np.array([R]), np.array([h])
        )
        pts.append(helix_point(a, vx, vy, 0.0, phi0, cot, R, h))
    x, y, z = (np.concatenate([p[i] for p in pts]) for i in range(3))
    return make_hits(x, y, z, np.array([2, 4, 6, 8]))


def test_displaced_helix_needs_the_wide_impact_parameter_pass() -> None:
    # d0 = 8 mm: outside the default |d0| ≤ 2 mm, inside the CKF's second pass
    # (d0_max = d0_window = 10 mm): its φ window must allow the d0/r shift too
    hits = displaced_helix_hits(1.5, -1, 0.7, 0.2, d0=8.0)
    assert len(finder()(hits)) == 0
    # a wide d0 cut alone misses the innermost triplet: its φ window is too narrow
    narrow = SeedFinder(SeedingConfig(d0_max=10.0), field=UniformField(2.0))(hits)
    assert (0, 1, 2) not in {tuple(r) for r in narrow.hits.tolist()}
    wide = SeedFinder(SeedingConfig(d0_max=10.0, d0_window=10.0), field=UniformField(2.0))
    seeds = wide(hits)
    assert (0, 1, 2) in {tuple(r) for r in seeds.hits.tolist()}
    i = [tuple(r) for r in seeds.hits.tolist()].index((0, 1, 2))
    assert abs(seeds.d0[i]) == pytest.approx(8.0, abs=0.05)


def test_only_usable_hits_are_space_points() -> None:
    x, y, z = helix_hits(2.0, 1, 0.3, 0.5, z0=20.0)
    hits = make_hits(x, y, z, np.array([2, 4, 6, 8]))
    usable = np.array([True, False, True, True])  # the layer-2 hit is taken
    rows = {tuple(r) for r in finder()(hits, usable).hits.tolist()}
    assert rows and all(1 not in r for r in rows)
