"""Binned efficiency with Clopper-Pearson intervals."""

from __future__ import annotations

import numpy as np
import pytest
from _events import make_event, make_tracks
from hypothesis import given, settings
from hypothesis import strategies as st

from tracklearn.metrics import TargetSelection, clopper_pearson, efficiency_curve
from tracklearn.metrics.curves import ParticleTable, particle_table


def test_curve_by_hand() -> None:
    values = [0.5, 1.5, 1.6, 2.5, 2.6, 2.7, 2.8]
    passed = [True, True, False, True, True, True, False]
    c = efficiency_curve(values, passed, bins=[0, 1, 2, 3, 4])
    assert c.n_total.tolist() == [1, 2, 4, 0]
    assert c.n_pass.tolist() == [1, 1, 3, 0]
    np.testing.assert_allclose(c.efficiency[:3], [1.0, 0.5, 0.75])
    assert np.isnan(c.efficiency[3]) and np.isnan(c.lower[3]) and np.isnan(c.upper[3])
    ok = ~np.isnan(c.efficiency)
    assert np.all(c.lower[ok] <= c.efficiency[ok])
    assert np.all(c.efficiency[ok] <= c.upper[ok])
    assert c.upper[0] == 1.0  # k = n
    np.testing.assert_allclose(c.centers, [0.5, 1.5, 2.5, 3.5])


def test_clopper_pearson_known_value() -> None:
    # k = 0 of n: lower 0, upper = 1 - (alpha/2)^(1/n)
    alpha = 1 - 0.6826894921370859
    lo, up = clopper_pearson([0], [10])
    assert lo[0] == 0.0
    assert up[0] == pytest.approx(1 - (alpha / 2) ** (1 / 10))
    # symmetric in k <-> n - k
    lo1, up1 = clopper_pearson([3], [10])
    lo2, up2 = clopper_pearson([7], [10])
    assert lo1[0] == pytest.approx(1 - up2[0])
    assert up1[0] == pytest.approx(1 - lo2[0])


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-5, 5, allow_nan=False), st.booleans()), min_size=0, max_size=60),
    st.integers(1, 8),
)
def test_efficiency_is_bounded_by_its_interval(entries: list[tuple[float, bool]], n: int) -> None:
    values = np.array([e[0] for e in entries], dtype=np.float64)
    passed = np.array([e[1] for e in entries], dtype=bool)
    c = efficiency_curve(values, passed, bins=np.linspace(-5, 5, n + 1))
    assert c.n_total.sum() == len(entries)
    ok = c.n_total > 0
    assert np.all(np.isnan(c.efficiency[~ok]))
    eff = c.efficiency[ok]
    assert np.all((eff >= 0) & (eff <= 1))
    assert np.all(c.lower[ok] <= eff + 1e-12)
    assert np.all(eff <= c.upper[ok] + 1e-12)
    assert np.all((c.lower[ok] >= 0) & (c.upper[ok] <= 1))


def test_particle_table_and_accumulation() -> None:
    # particle 1: 6 hits, pT 10, matched; particle 2: 5 hits, pT 2, unmatched;
    # particle 3: 5 hits, pT 0.5 (not a target by default)
    event = make_event(
        [1] * 6 + [2] * 5 + [3] * 5,
        [0.1] * 16,
        momenta={2: (2.0, 0.0, 0.0), 3: (0.5, 0.0, 0.0)},
    )
    tracks = make_tracks([list(range(6)), [6, 7]], event.n_hits)
    table = particle_table(event, tracks, TargetSelection())
    assert table.particle_id.tolist() == [1, 2]
    np.testing.assert_allclose(table.pt, [10.0, 2.0])
    np.testing.assert_allclose(table.eta, [0.0, 0.0])
    assert table.matched.tolist() == [True, False]
    both = ParticleTable.concatenate([table, table])
    assert len(both) == 4
    c = efficiency_curve(both.pt, both.matched, bins=[0, 5, 20])
    assert c.n_total.tolist() == [2, 2]
    assert c.efficiency.tolist() == [0.0, 1.0]
    assert len(ParticleTable.concatenate([])) == 0
