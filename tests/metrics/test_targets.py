"""Target-particle selection: pT, η and distinct-layer cuts."""

from __future__ import annotations

import math

import numpy as np
import pydantic
import pytest
from _events import make_event

from tracklearn.metrics import TargetSelection, n_layers_per_particle, target_mask


def test_cuts_by_hand() -> None:
    # Every particle has 5 hits on 5 distinct layers unless stated.
    pid = [1] * 5 + [2] * 5 + [3] * 5 + [4] * 5 + [5] * 5 + [6] * 6 + [7] * 4
    n = len(pid)
    layer = 2 * np.arange(1, n + 1)
    # particle 6: 6 hits but only 4 distinct layers (two layers hit twice)
    six = np.arange(25, 31)
    layer[six] = [2, 2, 4, 4, 6, 8]
    eta41 = math.sinh(4.1)  # pz / pT giving |η| = 4.1
    event = make_event(
        pid,
        layer_id=layer,
        momenta={
            1: (1.0, 0.0, 0.0),  # pT = 1 GeV exactly: passes (>=)
            2: (0.6, 0.79, 0.0),  # pT = sqrt(0.36 + 0.6241) = 0.992 GeV: fails
            3: (2.0, 0.0, -2.0 * eta41),  # η = -4.1: fails
            4: (2.0, 0.0, 2.0 * math.sinh(3.9)),  # η = 3.9: passes
            5: (0.0, 0.0, 5.0),  # pT = 0: η infinite, fails (and no warning)
        },
        extra_particles=[8],  # in the particles table, no hits
    )
    # particles rows: 1..8; particle 7 has only 4 hits
    assert n_layers_per_particle(event).tolist() == [5, 5, 5, 5, 5, 4, 4, 0]
    assert target_mask(event).tolist() == [True, False, False, True, False, False, False, False]
    loose = TargetSelection(pt_min=0.0, eta_max=5.0, min_layers=4)
    assert target_mask(event, loose).tolist() == [True, True, True, True, False, True, True, False]


def test_same_layer_number_in_two_volumes_counts_twice() -> None:
    # layer_id 2 in volumes 7, 8, 9, 12, 13: five distinct (volume, layer) pairs
    event = make_event([1] * 5, volume_id=[7, 8, 9, 12, 13], layer_id=[2] * 5)
    assert n_layers_per_particle(event).tolist() == [5]
    assert target_mask(event).tolist() == [True]


def test_noise_is_never_counted() -> None:
    event = make_event([0] * 6 + [1] * 2)
    assert n_layers_per_particle(event).tolist() == [2]
    assert target_mask(event, TargetSelection(min_layers=0, pt_min=0)).tolist() == [True]


def test_selection_is_strict_and_frozen() -> None:
    with pytest.raises(pydantic.ValidationError):
        TargetSelection(pt_mim=2.0)  # type: ignore[call-arg]
    sel = TargetSelection()
    with pytest.raises(pydantic.ValidationError):
        sel.pt_min = 2.0
    assert (sel.pt_min, sel.eta_max, sel.min_layers) == (1.0, 4.0, 5)
