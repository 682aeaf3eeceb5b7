"""Each stage of the full-spectrum tracker on hand-made hits with known answers."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.fullspectrum._toy import RADII, toy_event, toy_table

from tracklearn.edm import Hits
from tracklearn.errors import DataError
from tracklearn.fullspectrum.features import majority_labels
from tracklearn.fullspectrum.follow import MAX_TRACK_HITS, follow_seeds, pick_duplicates
from tracklearn.fullspectrum.grid import build_grid, cell_ranges
from tracklearn.fullspectrum.helix import arc_length, circle3, wrap
from tracklearn.fullspectrum.layers import LayerTable
from tracklearn.fullspectrum.luminous import luminous_sigma
from tracklearn.fullspectrum.seeding import find_triplets
from tracklearn.fullspectrum.select import greedy_select
from tracklearn.fullspectrum.tables import csr_from_pairs, learn_tables
from tracklearn.geometry.coords import wrap_phi


def test_numba_wrap_is_wrap_phi() -> None:
    """The kernels' scalar wrap gives wrap_phi's answers exactly (±π, ±3π/2, ±2π, ±7)."""
    angles = [
        0.0,
        math.pi,
        -math.pi,
        1.5 * math.pi,
        -1.5 * math.pi,
        2 * math.pi,
        -2 * math.pi,
        7.0,
        -7.0,
    ]
    assert [wrap(a) for a in angles] == [float(wrap_phi(a)) for a in angles]
    assert wrap(math.pi) == -math.pi


def _grid(event, table):
    return build_grid(event.hits, table.index_of(event.hits), table)


def test_unknown_layer_is_a_one_line_error() -> None:
    table = toy_table()
    hits = Hits(
        hit_id=np.array([1]), x=np.array([1.0]), y=np.array([0.0]), z=np.array([0.0]),
        volume_id=np.array([42], np.int32), layer_id=np.array([3], np.int32),
        module_id=np.array([1], np.int32),
    )  # fmt: skip
    with pytest.raises(DataError, match="volume 42, layer 3"):
        table.index_of(hits, "ev.csv")


def test_layer_table_round_trip(tmp_path) -> None:
    t = toy_table()
    t.save(tmp_path / "layers.npz")
    back = LayerTable.load(tmp_path / "layers.npz")
    assert np.array_equal(back.key, t.key) and np.array_equal(back.barrel, t.barrel)
    assert np.allclose(back.position, t.position) and np.allclose(back.depth, t.depth)


def test_grid_window_returns_exactly_the_hits_inside() -> None:
    table = toy_table()
    ev = toy_event([], noise=3000, seed=3)
    g = _grid(ev, table)
    rng = np.random.default_rng(5)
    out = np.empty((4096, 2), np.int64)
    t_all = np.where(table.barrel[g.layer], g.z, g.r)
    for _ in range(200):
        lay = int(rng.integers(len(table)))
        c = rng.uniform(-np.pi, np.pi)
        w = rng.uniform(0.01, 1.0)
        t0 = rng.uniform(table.t_min[lay], table.t_max[lay])
        dt = rng.uniform(1.0, 300.0)
        n = cell_ranges(lay, c - w, c + w, t0 - dt, t0 + dt, g, out)
        got = np.concatenate([np.arange(a, b) for a, b in out[:n]] + [np.zeros(0, int)])
        dphi = np.abs((g.phi[got] - c + np.pi) % (2 * np.pi) - np.pi)
        inside_got = got[(dphi <= w) & (np.abs(t_all[got] - t0) <= dt)]
        dphi_all = np.abs((g.phi - c + np.pi) % (2 * np.pi) - np.pi)
        truth = np.nonzero((g.layer == lay) & (dphi_all <= w) & (np.abs(t_all - t0) <= dt))[0]
        assert set(inside_got.tolist()) == set(truth.tolist())


def test_circle_through_three_points() -> None:
    cx, cy, rad = 100.0, -50.0, 300.0
    a = np.array([0.1, 0.4, 0.9])  # counter-clockwise
    x, y = cx + rad * np.cos(a), cy + rad * np.sin(a)
    k, ox, oy = circle3(x[0], y[0], x[1], y[1], x[2], y[2])
    assert k == pytest.approx(1 / rad, rel=1e-9)
    assert (ox, oy) == (pytest.approx(cx), pytest.approx(cy))
    k2, _, _ = circle3(x[2], y[2], x[1], y[1], x[0], y[0])
    assert k2 == pytest.approx(-1 / rad, rel=1e-9)
    chord = 2 * rad * math.sin(0.4)
    assert arc_length(1 / rad, chord) == pytest.approx(0.8 * rad, rel=1e-9)


def _seed_tables(table: LayerTable, triplets: list[tuple[int, int, int]]):
    L = len(table)
    trip = np.array(triplets, np.int64)
    allowed = np.zeros((L, L, L), bool)
    allowed[trip[:, 0], trip[:, 1], trip[:, 2]] = True
    ip, il = csr_from_pairs(trip[:, [1, 0]], L)
    op, ol = csr_from_pairs(trip[:, [1, 2]], L)
    return np.unique(trip[:, 1]), ip, il, op, ol, allowed


def _triplets(g, table, triplets, pt_min=0.2, z0_max=20.0):
    mids, ip, il, op, ol, allowed = _seed_tables(table, triplets)
    used = np.zeros(g.n_hits, bool)
    return find_triplets(
        g, table.surfaces, used, mids, ip, il, op, ol, allowed, 0.6e-3 / pt_min, z0_max, 2.0,
        5.0, 0.03,
        0.005, 3.0, 4000,
    )  # fmt: skip


@pytest.mark.parametrize("pt", [0.3, 1.0, 20.0])
def test_seeding_finds_the_particles_first_three_hits(pt: float) -> None:
    table = toy_table()
    ev = toy_event([(pt, 0.7, 0.4, 1), (pt, -2.0, -0.2, -1)])
    g = _grid(ev, table)
    trip, feat = _triplets(g, table, [(0, 1, 2)])
    pid = ev.truth.particle_id[g.row]
    assert len(trip) == 2
    for t in trip:
        assert len(set(pid[t].tolist())) == 1
        assert list(g.layer[t]) == [0, 1, 2]
    # log10 |κ| of the seeds is the particles' curvature
    assert np.allclose(feat[:, 0], np.log10(0.299792458e-3 * 2.0 / pt), atol=0.01)


def test_seeding_respects_pt_min_and_z0() -> None:
    table = toy_table()
    ev = toy_event([(0.3, 0.7, 0.4, 1)])
    g = _grid(ev, table)
    assert len(_triplets(g, table, [(0, 1, 2)], pt_min=1.0)[0]) == 0
    assert len(_triplets(g, table, [(0, 1, 2)], pt_min=0.2)[0]) == 1


def _sigma_model(table: LayerTable, mm: float = 0.05) -> np.ndarray:
    sig = np.zeros((2, len(table), len(table), 2, 3))
    sig[..., 0] = mm**2
    return sig


def _follow(ev, table, seeds, used=None):
    g = _grid(ev, table)
    L = len(table)
    succ = np.array([(k, k + 1) for k in range(L - 1)] + [(k, len(RADII)) for k in range(4)])
    op, ol = csr_from_pairs(succ, L)
    ip, il = csr_from_pairs(succ[:, ::-1].copy(), L)
    used = np.zeros(g.n_hits, bool) if used is None else used
    # seeds given as event rows → sorted-hit indices
    inv = np.empty(g.n_hits, np.int64)
    inv[g.row] = np.arange(g.n_hits)
    hits, stats = follow_seeds(
        inv[np.asarray(seeds)], g, table.surfaces, used, op, ol, ip, il, _sigma_model(table),
        4.0, 1,
        16.0, np.full((L, 2), 0.05), 3.0,
    )  # fmt: skip
    return g, hits, stats


@pytest.mark.parametrize(("pt", "cot"), [(0.25, 0.2), (1.0, -0.5), (10.0, 0.9)])
def test_follower_recovers_every_hit_in_order(pt: float, cot: float) -> None:
    table = toy_table()
    ev = toy_event([(pt, 1.1, cot, 1)], noise=500, seed=1)
    rows = np.nonzero(ev.truth.particle_id == 1)[0]
    assert len(rows) >= 6
    # seed in the middle of the track: the follower must go both ways
    g, hits, stats = _follow(ev, table, [rows[2:5]])
    got = g.row[hits[0][hits[0] >= 0]]
    assert list(got) == list(rows)
    assert stats[0, 0] == len(rows) and stats[0, 2] == 0  # no holes
    assert hits.shape[1] == MAX_TRACK_HITS


def test_follower_steps_over_one_missing_layer_and_stops_after_two() -> None:
    table = toy_table()
    full = toy_event([(2.0, 0.3, 0.1, -1)])
    rows = np.nonzero(full.truth.particle_id == 1)[0]
    g = _grid(full, table)
    inv = np.empty(g.n_hits, np.int64)
    inv[g.row] = np.arange(g.n_hits)
    used = np.zeros(g.n_hits, bool)
    used[inv[rows[4]]] = True  # a missing hit (hole) on the 5th layer
    _, hits, stats = _follow(full, table, [rows[:3]], used)
    got = list(g.row[hits[0][hits[0] >= 0]])
    assert got == [r for r in rows if r != rows[4]] and stats[0, 2] == 1
    used[inv[rows[5]]] = True  # two holes in a row: following stops after the 4th hit
    _, hits, stats = _follow(full, table, [rows[:3]], used)
    assert list(g.row[hits[0][hits[0] >= 0]]) == list(rows[:4])


def test_overlap_duplicate_is_picked_up_and_an_outlier_is_not() -> None:
    table = toy_table()
    ev = toy_event([(1.5, 0.5, 0.3, 1)])
    rows = np.nonzero(ev.truth.particle_id == 1)[0]
    # add a hit on layer 3 of the same particle, 0.6 mm further out along its helix,
    # and one 3 mm away in r·φ: only the first may join the track
    x, y, z = ev.hits.x[rows], ev.hits.y[rows], ev.hits.z[rows]
    k = 3
    d = np.array([x[k + 1] - x[k - 1], y[k + 1] - y[k - 1], z[k + 1] - z[k - 1]])
    d /= np.hypot(d[0], d[1])  # per mm of transverse path (straight over 1 mm)
    r_k = np.hypot(x[k], y[k])
    ds = 0.6 * r_k / (x[k] * d[0] + y[k] * d[1])
    good = (x[k] + ds * d[0], y[k] + ds * d[1], z[k] + ds * d[2])
    phi_k = np.arctan2(y[k], x[k])
    bad = ((r_k + 0.6) * np.cos(phi_k + 3.0 / r_k), (r_k + 0.6) * np.sin(phi_k + 3.0 / r_k), z[k])
    from tracklearn.edm import Event

    h = ev.hits
    extra = np.array([good, bad])
    n = len(h) + 2
    hits = Hits(
        hit_id=np.arange(1, n + 1), x=np.r_[h.x, extra[:, 0]], y=np.r_[h.y, extra[:, 1]],
        z=np.r_[h.z, extra[:, 2]], volume_id=np.r_[h.volume_id, [8, 8]].astype(np.int32),
        layer_id=np.r_[h.layer_id, [2 * (k + 1)] * 2].astype(np.int32),
        module_id=np.r_[h.module_id, [900, 901]].astype(np.int32),
    )  # fmt: skip
    ev2 = Event(1, hits)
    g = _grid(ev2, table)
    inv = np.empty(g.n_hits, np.int64)
    inv[g.row] = np.arange(g.n_hits)
    owner = np.full(g.n_hits, -1, np.int64)
    owner[inv[rows]] = 0
    tptr = np.array([0, len(rows)])
    added = pick_duplicates(
        tptr, inv[rows], owner, g, table.surfaces, np.full((len(table), 2), 0.05), 3.0,
    )  # fmt: skip
    assert [int(g.row[a]) for a in added[:, 1]] == [n - 2]
    assert owner[inv[n - 1]] == -1


def test_greedy_selection_by_score_and_free_hits() -> None:
    hits = np.full((4, 5), -1, np.int64)
    hits[0, :4] = [0, 1, 2, 3]  # best
    hits[1, :4] = [2, 3, 4, 5]  # 2 of 4 free: below min_free = 3
    hits[2, :3] = [6, 7, 8]  # all free
    hits[3, :5] = [4, 5, 9, 10, 11]  # score below the minimum
    score = np.array([0.9, 0.8, 0.7, 0.1])
    owner = np.full(12, -1, np.int64)
    nxt, ptr, th = greedy_select(hits, score, score, owner, 5, 3, 0.5, 0.5)
    assert nxt == 7
    assert list(owner) == [5, 5, 5, 5, -1, -1, 6, 6, 6, -1, -1, -1]
    assert list(ptr) == [0, 4, 7] and list(th) == [0, 1, 2, 3, 6, 7, 8]


def test_majority_labels() -> None:
    particle = np.array([0, 0, 0, 1, 1, -1, 2])
    hpp = np.array([3, 4, 1])
    hits = np.array([[0, 1, 3, -1], [3, 4, 5, 0], [5, -1, -1, -1], [6, -1, -1, -1]])
    pur, comp, maj = majority_labels(hits, particle, hpp)
    assert list(maj) == [0, 1, -1, 2]
    assert np.allclose(pur, [2 / 3, 2 / 4, 0.0, 1.0])
    assert np.allclose(comp, [2 / 3, 2 / 4, 0.0, 1.0])


def test_luminous_region_length_is_measured() -> None:
    table = toy_table()
    rng = np.random.default_rng(2)
    for sigma in (5.0, 50.0):
        z0 = rng.normal(0.0, sigma, 1000)
        parts_x, parts_y, parts_z, lays = [], [], [], []
        for zz in z0:
            phi, cot = rng.uniform(-np.pi, np.pi), rng.uniform(-1, 1)
            for lay in (0, 1, 2, 3):
                r = RADII[lay]
                parts_x.append(r * np.cos(phi))
                parts_y.append(r * np.sin(phi))
                parts_z.append(zz + r * cot)
                lays.append(lay)
        n = len(lays)
        lay = np.array(lays)
        hits = Hits(
            hit_id=np.arange(1, n + 1), x=np.array(parts_x), y=np.array(parts_y),
            z=np.array(parts_z), volume_id=np.full(n, 8, np.int32),
            layer_id=(2 * (lay + 1)).astype(np.int32), module_id=np.ones(n, np.int32),
        )  # fmt: skip
        g = build_grid(hits, table.index_of(hits), table)
        est = luminous_sigma(g, table)
        assert est is not None and est == pytest.approx(sigma, rel=0.2)


def test_tables_learnt_from_toy_truth() -> None:
    table = toy_table()
    ev = toy_event([(1.0, 0.2 * k, 0.1 + 0.05 * k, 1 - 2 * (k % 2)) for k in range(30)])
    t = learn_tables([ev], table, min_successor_count=1)
    assert [tuple(x) for x in t.seed_triplets] == [(0, 1, 2)]
    assert {(k, k + 1) for k in range(len(RADII) - 1)} <= {tuple(s) for s in t.successors}
    assert np.all(np.isfinite(t.sigma)) and t.sigma.shape == (2, len(table), len(table), 2, 3)


def test_mlp_logits_do_not_depend_on_the_block_size(monkeypatch: pytest.MonkeyPatch) -> None:
    import tracklearn.fullspectrum.mlp as mlp

    rng = np.random.default_rng(3)
    net = mlp.NumpyMLP(
        mean=np.zeros(4, np.float32),
        scale=np.ones(4, np.float32),
        weights=[
            rng.standard_normal((4, 8)).astype(np.float32),
            rng.standard_normal((8, 1)).astype(np.float32),
        ],
        biases=[np.zeros(8, np.float32), np.full(1, 0.5, np.float32)],
        feature_names=("a", "b", "c", "d"),
    )
    x = rng.standard_normal((23, 4))
    whole = net.logit(x)
    monkeypatch.setattr(mlp, "BLOCK_ROWS", 5)
    blocks = net.logit(x)
    assert np.allclose(whole, blocks, rtol=1e-6, atol=1e-6)  # BLAS may sum small blocks apart
    h = np.maximum(x.astype(np.float32) @ net.weights[0], 0) @ net.weights[1] + 0.5
    assert np.allclose(whole, h[:, 0], rtol=1e-5)
