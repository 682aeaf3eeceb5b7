"""Module map on a hand-built event: the learned table and the edges are known exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tests.graph._graph_events import hit_event

from tracklearn.edm import Event
from tracklearn.edm.detector import module_key
from tracklearn.errors import DataError
from tracklearn.graph.module_map import (
    ModuleMap,
    ModuleMapConfig,
    ModuleMapGraphBuilder,
    build_module_map,
)

# name: (r, phi, z, layer, module, particle)
HITS = {
    "A": (30.0, 0.00, 0.0, 2, 1, 1),
    "B": (70.0, 0.01, 10.0, 4, 1, 1),
    "C": (110.0, 0.02, 20.0, 6, 1, 1),
    "D": (30.0, 0.10, 0.0, 2, 1, 2),
    "E": (70.0, 0.30, 0.0, 4, 2, 2),
    "F": (30.0, 0.05, 0.0, 2, 1, 3),
    "G": (70.0, 0.07, 20.0, 4, 1, 3),
}
EXTRA = {
    "H": (70.0, 0.015, 15.0, 4, 1, 0),  # inside the A→(8,4,1) window
    "N": (172.0, 0.0, 0.0, 8, 5, 0),  # module never seen in training
}
TINY = {"margin": 0.0, "dphi_margin": 1e-6, "dz_margin": 1e-4, "z0_margin": 1e-4}


def _event(hits: dict[str, tuple[float, ...]], pt2: float = 10.0) -> Event:
    r, phi, z, lay, mod, pid = zip(*hits.values(), strict=True)
    return hit_event(r, phi, z, [8] * len(r), lay, pid, pt={2: pt2}, module=mod)  # type: ignore[arg-type]


def _names(edges: np.ndarray, names: list[str]) -> set[str]:
    return {names[i] + names[j] for i, j in edges.T.tolist()}


def test_map_table_is_exact() -> None:
    no_abs = {"dphi_margin": 0.0, "dz_margin": 0.0, "z0_margin": 0.0, "phi_slope_margin": 0.0}
    mm = build_module_map([_event(HITS)], ModuleMapConfig(margin=0.5, **no_abs))
    keys = module_key([8, 8, 8, 8], [2, 4, 4, 6], [1, 1, 2, 1])
    assert mm.modules.tolist() == sorted(keys.tolist())
    assert mm.pair_src.tolist() == [0, 0, 1] and mm.pair_dst.tolist() == [1, 2, 3]
    assert mm.n_seen.tolist() == [2, 1, 1]
    # pair (8,2,1)→(8,4,1): dphi [0.01, 0.02], dz [10, 20], z0 [-15, -7.5], slope
    # [0.00025, 0.0005], each widened by half its width on both sides
    np.testing.assert_allclose(mm.lo[0], [0.005, 5.0, -18.75, 0.000125], rtol=1e-5)
    np.testing.assert_allclose(mm.hi[0], [0.025, 25.0, -3.75, 0.000625], rtol=1e-5)
    # a pair seen once with margin 0.5 and no absolute margin: a point window
    np.testing.assert_allclose(mm.lo[1], mm.hi[1])


def test_module_map_edges_are_exact() -> None:
    mm = build_module_map([_event(HITS)], ModuleMapConfig(**TINY))
    test_hits = {**HITS, **EXTRA}
    g = ModuleMapGraphBuilder(mm)(_event(test_hits))
    names = list(test_hits)
    assert g.n_nodes == len(test_hits)
    assert _names(g.edge_index, names) == {"AB", "BC", "DE", "FG", "AH"}
    assert g.y is not None and g.edge_attr is not None and g.edge_attr.shape == (5, 4)
    pairs = g.edge_index.T.tolist()
    got = {names[i] + names[j]: y for (i, j), y in zip(pairs, g.y.tolist(), strict=True)}
    assert got == {"AB": 1.0, "BC": 1.0, "DE": 1.0, "FG": 1.0, "AH": 0.0}


def test_pt_threshold_drops_pairs_of_slow_particles() -> None:
    mm = build_module_map([_event(HITS, pt2=0.5)], ModuleMapConfig(pt_min=1.0, **TINY))
    assert mm.n_pairs == 2 and mm.n_seen.tolist() == [2, 1]
    g = ModuleMapGraphBuilder(mm)(_event(HITS))
    assert _names(g.edge_index, list(HITS)) == {"AB", "BC", "FG"}


def test_save_load_round_trip(tmp_path: Path) -> None:
    mm = build_module_map([_event(HITS)], ModuleMapConfig(**TINY))
    path = mm.save(tmp_path / "mm.npz", extra={"train_events": ["x"]})
    assert (tmp_path / "mm.json").exists()
    back = ModuleMap.load(path)
    for field in ("modules", "pair_src", "pair_dst", "n_seen"):
        np.testing.assert_array_equal(getattr(back, field), getattr(mm, field))
    # windows are stored at half precision, rounded outwards: never narrower, ~1e-3 wider
    ok = ~np.isnan(mm.lo)
    assert np.all(back.lo[ok] <= mm.lo[ok]) and np.all(back.hi[ok] >= mm.hi[ok])
    np.testing.assert_allclose(back.lo, mm.lo, rtol=2e-3, atol=1e-7)
    np.testing.assert_allclose(back.hi, mm.hi, rtol=2e-3, atol=1e-7)
    assert np.array_equal(np.isnan(back.lo), np.isnan(mm.lo))
    assert back.config == mm.config
    with pytest.raises(DataError, match="missing"):
        ModuleMap.load(tmp_path / "nope.npz")


def test_module_map_stage_builds_and_validates(tmp_path: Path) -> None:
    from tracklearn.io.trackml import write_event
    from tracklearn.training.stages import get_stage

    data = tmp_path / "data"
    for i in range(3):
        ev = _event(HITS)
        write_event(Event(event_id=i, hits=ev.hits, truth=ev.truth, particles=ev.particles), data)
    metrics = get_stage("module_map")({**TINY, "val_events": 1}, data, tmp_path / "out", False)
    assert metrics["n_pairs"] == 3
    # targets need 5 layers, so these 3-hit particles give no target segments
    assert np.isnan(metrics["val_edge_efficiency"])
    assert metrics["val_edge_purity"] == 1.0 and metrics["val_edges_per_event"] == 4
    assert ModuleMap.load(tmp_path / "out" / "module_map.npz").n_pairs == 3


def test_augmentation_needs_a_detector() -> None:
    from tracklearn.errors import ConfigError

    with pytest.raises(ConfigError, match="detector"):
        build_module_map([_event(HITS)], ModuleMapConfig(rotations=2))


def test_reflection_adds_mirrored_pairs(shared_data: Path) -> None:
    from tracklearn.io.trackml import read_detector

    det = read_detector(shared_data / "trackml" / "detectors.csv.gz")
    # one particle through the positive pixel endcap: disks (9,2) -> (9,4), z > 0
    ev = hit_event([60.0, 60.0], [0.3, 0.3], [620.0, 720.0], [9, 9], [2, 4], [1, 1])
    mm = build_module_map([ev], ModuleMapConfig(reflect=True, **TINY), det)
    assert mm.n_pairs == 2
    vols = sorted((mm.modules[mm.pair_src] >> 48).tolist())
    assert vols == [7, 9]
    mirrored = int(np.flatnonzero((mm.modules[mm.pair_src] >> 48) == 7)[0])
    # z -> -z flips dz (100 mm) but keeps dphi (0)
    np.testing.assert_allclose(mm.lo[mirrored, 1], -100.0, atol=1e-3)
    np.testing.assert_allclose(mm.lo[mirrored, 0], 0.0, atol=1e-5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_application_equals_brute_force(seed: int) -> None:
    from tracklearn.graph.module_map import segment_quantities

    rng = np.random.default_rng(seed)
    n = 120
    lay = rng.choice([2, 4, 6], n)
    r = {2: 30.0, 4: 70.0, 6: 110.0}
    rr = np.array([r[x] for x in lay]) + rng.uniform(-1, 1, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    z = rng.uniform(-50, 50, n)
    mod = rng.integers(1, 4, n)
    pid = np.repeat(np.arange(1, n // 3 + 1), 3)[:n]
    train = hit_event(rr, phi, z, [8] * n, lay, pid, module=mod)
    # wide windows (incl. dphi windows past ±pi) from random "particles"
    mm = build_module_map([train], ModuleMapConfig(margin=0.3))
    test = hit_event(rr[::-1], phi[::-1], z[::-1], [8] * n, lay[::-1], pid, module=mod[::-1])
    got = {tuple(e) for e in ModuleMapGraphBuilder(mm).candidate_edges(test).T.tolist()}
    h = test.hits
    keys = module_key(h.volume_id, h.layer_id, h.module_id)
    m = mm.module_index(keys)
    index = {
        pq: k for k, pq in enumerate(zip(mm.pair_src.tolist(), mm.pair_dst.tolist(), strict=True))
    }
    i, j = (a.ravel() for a in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    p = np.array([index.get((a, b), -1) for a, b in zip(m[i].tolist(), m[j].tolist(), strict=True)])
    i, j, p = i[p >= 0], j[p >= 0], p[p >= 0]
    q = segment_quantities(h.r, h.phi, h.z, i, j)
    ok = ~np.any((q < mm.lo[p]) | (q > mm.hi[p]), axis=1)
    assert got == set(zip(i[ok].tolist(), j[ok].tolist(), strict=True))
    assert len(got) > 10


def test_range_correction_widens_by_width_over_n_minus_one() -> None:
    no_abs = {"dphi_margin": 0.0, "dz_margin": 0.0, "z0_margin": 0.0, "phi_slope_margin": 0.0}
    mm = build_module_map(
        [_event(HITS)], ModuleMapConfig(margin=0.0, range_correction=True, **no_abs)
    )
    # pair (8,2,1)->(8,4,1) seen twice: dphi [0.01, 0.02] widened by 0.01 / (2 - 1)
    np.testing.assert_allclose(mm.lo[0, 0], 0.0, atol=1e-7)
    np.testing.assert_allclose(mm.hi[0, 0], 0.03, rtol=1e-5)
    np.testing.assert_allclose(mm.lo[1], mm.hi[1])  # seen once: nothing to extrapolate


def test_shipped_config_is_valid() -> None:
    import yaml

    raw = yaml.safe_load((Path(__file__).parents[2] / "configs/gnn/module_map.yaml").read_text())
    raw.pop("val_events")
    cfg = ModuleMapConfig(**raw)
    assert cfg.pt_min == 0.4 and cfg.reflect


def test_half_precision_windows_round_outwards_even_beyond_the_float16_range() -> None:
    from tracklearn.graph.module_map import _half

    lo = np.array([-1e6, -1.2345, 0.1, 1e6, np.nan], np.float32)
    hi = np.array([-1e6, -1.2345, 0.1, 1e6, np.nan], np.float32)
    lo16, hi16 = _half(lo, -np.inf).astype(np.float64), _half(hi, np.inf).astype(np.float64)
    assert np.all(lo16[:4] <= lo[:4]) and np.all(hi16[:4] >= hi[:4])
    assert lo16[0] == -np.inf and hi16[3] == np.inf  # overflow only outwards
    assert np.isfinite(lo16[3]) and np.isfinite(hi16[0])  # the other side is clipped
    assert np.isnan(lo16[4]) and np.isnan(hi16[4])
