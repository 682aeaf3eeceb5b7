"""Propagation: exact helix-plane crossings, stopping rules and material effects."""

from __future__ import annotations

import numpy as np
import pytest
from tests.simulation._planes import barrel_plane_detector

from tracklearn.geometry.field import UniformField
from tracklearn.geometry.planar import ModuleLookup
from tracklearn.simulation.propagation import PropagationConfig, StartState, propagate
from tracklearn.units import C_LIGHT_GEV_PER_T_MM

NO_MATERIAL = PropagationConfig(
    multiple_scattering=False, energy_loss=False, nuclear_interactions=False, max_turns=0.5
)


def _start(pt: float, pz: float, q: float, phi: float = 0.0, n: int = 1) -> StartState:
    return StartState(
        x=np.zeros(n),
        y=np.zeros(n),
        z=np.zeros(n),
        px=np.full(n, pt * np.cos(phi)),
        py=np.full(n, pt * np.sin(phi)),
        pz=np.full(n, pz),
        q=np.full(n, q),
        mass=np.full(n, 0.1396),
        hadron=np.ones(n, dtype=bool),
    )


@pytest.mark.parametrize("q", [1.0, -1.0])
def test_crossings_lie_on_the_analytic_helix(q: float) -> None:
    """q > 0 in +Bz turns clockwise: x = R sin φ, y = −q R (1 − cos φ), z = (pz/pT) R φ."""
    bz, pt, pz = 2.0, 1.0, 0.5
    distances = [30.0, 75.0, 120.0, 500.0, 900.0]
    det = barrel_plane_detector(distances, half_u=400.0, half_v=1000.0)
    lookup = ModuleLookup.build(det)
    cross, _ = propagate(
        _start(pt, pz, q), lookup, UniformField(bz), np.random.default_rng(0), NO_MATERIAL
    )
    assert cross.module.tolist() == list(range(len(distances)))
    radius = pt / (C_LIGHT_GEV_PER_T_MM * bz)
    d = np.asarray(distances)
    angle = np.arcsin(d / radius)
    expected = np.stack([d, -q * radius * (1 - np.cos(angle)), pz / pt * radius * angle], axis=1)
    np.testing.assert_allclose(cross.position, expected, atol=1e-6)
    # momentum keeps its magnitude and turns by the same angle
    np.testing.assert_allclose(np.hypot(cross.momentum[:, 0], cross.momentum[:, 1]), pt)
    np.testing.assert_allclose(np.arctan2(cross.momentum[:, 1], cross.momentum[:, 0]), -q * angle)
    # path length along the helix
    np.testing.assert_allclose(cross.path, radius * angle * np.hypot(1, pz / pt), rtol=1e-9)


def test_crossings_do_not_depend_on_the_step_size() -> None:
    det = barrel_plane_detector([33.0, 71.0, 117.0, 171.0], half_u=60.0, half_v=500.0)
    lookup = ModuleLookup.build(det)
    out = []
    for step in (5.0, 20.0, 47.0):
        cfg = NO_MATERIAL.model_copy(update={"step_mm": step})
        c, _ = propagate(
            _start(0.7, 0.3, -1.0), lookup, UniformField(2.0), np.random.default_rng(1), cfg
        )
        out.append(c.position)
    np.testing.assert_allclose(out[0], out[1], atol=1e-6)
    np.testing.assert_allclose(out[0], out[2], atol=1e-6)


def test_loopers_stop_after_max_turns_and_low_pt_is_not_propagated() -> None:
    # R = 0.3 GeV / (0.3 * 2 T) = 500 mm: the flat plane at x = 300 mm is crossed
    # at turning angles 36.9° (out) and 143.1° (back); x = 600 mm is out of reach
    det = barrel_plane_detector([300.0, 600.0], half_u=2000.0, half_v=5000.0)
    lookup = ModuleLookup.build(det)
    field = UniformField(2.0)
    rng = np.random.default_rng(2)
    for turns, expected in ((0.3, [0]), (0.5, [0, 0])):
        cfg = NO_MATERIAL.model_copy(update={"max_turns": turns})
        c, _ = propagate(_start(0.3, 0.0, 1.0), lookup, field, rng, cfg)
        assert c.module.tolist() == expected
    np.testing.assert_allclose(c.position[:, 0], 300.0, atol=1e-6)
    cfg = NO_MATERIAL.model_copy(update={"pt_min_propagate": 0.35})
    c, _ = propagate(_start(0.3, 0.0, 1.0), lookup, field, rng, cfg)
    assert len(c) == 0


def test_multiple_scattering_matches_highland() -> None:
    """Deflection after one thick plane: projected angle width = Highland θ0."""
    det = barrel_plane_detector([50.0, 51.0], half_u=500.0, half_v=500.0, thickness=1.0)
    lookup = ModuleLookup.build(det)
    n, p = 20000, 1.0
    cfg = PropagationConfig(energy_loss=False, nuclear_interactions=False)
    from tracklearn.geometry.material import MaterialConfig

    mat = MaterialConfig(x0_mm={8: 50.0})  # 1 mm / 50 mm = 2 % X0 per plane
    c, _ = propagate(
        _start(p, 0.0, 1.0, n=n), lookup, UniformField(0.0), np.random.default_rng(3), cfg, mat
    )
    second = c.module == 1
    # the track reaches the second plane 1 mm later: its local u is 1 mm × tan(angle)
    du = c.local[second, 0]
    beta = p / np.hypot(p, 0.1396)
    theta0 = 13.6e-3 / (beta * p) * np.sqrt(0.02) * (1 + 0.038 * np.log(0.02 / beta**2))
    assert np.std(du) == pytest.approx(theta0 * 1.0, rel=0.03)


def test_nuclear_interactions_stop_hadrons_at_the_expected_rate() -> None:
    det = barrel_plane_detector(
        [50.0 + 10 * i for i in range(10)], half_u=500.0, half_v=500.0, thickness=1.0
    )
    lookup = ModuleLookup.build(det)
    from tracklearn.geometry.material import MaterialConfig

    mat = MaterialConfig(default_lambda_mm=20.0)
    cfg = PropagationConfig(multiple_scattering=False, energy_loss=False)
    n = 20000
    c, inter = propagate(
        _start(5.0, 0.0, 1.0, n=n), lookup, UniformField(2.0), np.random.default_rng(4), cfg, mat
    )
    p_int = 1 - np.exp(-1.0 / 20.0)
    assert len(inter.particle) / n == pytest.approx(1 - (1 - p_int) ** 10, rel=0.05)
    # an interacting particle's last crossing is where it interacted
    last = np.r_[c.particle[1:] != c.particle[:-1], True]
    last_pos = dict(zip(c.particle[last].tolist(), c.position[last].tolist(), strict=True))
    for p, pos in zip(inter.particle.tolist(), inter.position, strict=True):
        np.testing.assert_allclose(last_pos[p], pos)
