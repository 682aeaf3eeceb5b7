"""Secondary particles from nuclear interactions of hadrons in the detector.

A simple parametrised model, tuned on the real TrackML particle lists: there,
~28 % of the particles with pT > 0.1 GeV are produced away from the beam line
(r > 1 mm) by the detector simulation (non-zero generation field in their ids);
in the real event with particle types they are π± and protons (no e±), with a
soft spectrum (median pT 0.22 GeV).  Here an interacting hadron stops and
emits ``1 + Poisson(multiplicity − 1)`` charged hadrons (π± or protons) with
momenta drawn from an exponential of mean ``p_mean`` (capped at the parent's
momentum) and directions spread around the parent's by a Gaussian polar angle
of width ``angular_spread``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.geometry.coords import perpendicular_basis
from tracklearn.typing import FloatArray, IntArray

PION_MASS = 0.13957  # GeV
PROTON_MASS = 0.93827  # GeV


class SecondaryConfig(BaseModel):
    """Nuclear-interaction secondaries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    multiplicity: float = Field(2.2, ge=1)  # mean charged secondaries per interaction
    proton_fraction: float = Field(0.35, ge=0, le=1)
    p_mean: float = Field(0.3, gt=0)  # GeV, mean momentum of a secondary
    angular_spread: float = Field(1.2, gt=0)  # rad, Gaussian polar angle to the parent
    max_generations: int = Field(2, ge=0)  # secondaries of secondaries, ...


@dataclass(frozen=True)
class Secondaries:
    """New particles.  Shapes: (S,) / (S, 3)."""

    parent: IntArray
    pdg: IntArray
    charge: FloatArray
    mass: FloatArray
    vertex: FloatArray
    momentum: FloatArray


def make_secondaries(
    parent: IntArray,
    position: FloatArray,
    momentum: FloatArray,
    rng: np.random.Generator,
    config: SecondaryConfig | None = None,
) -> Secondaries:
    """Secondaries of interactions at ``position`` with parent ``momentum`` [GeV]."""
    cfg = config or SecondaryConfig()
    n_int = len(parent)
    count = 1 + rng.poisson(cfg.multiplicity - 1.0, n_int)
    owner = np.repeat(np.arange(n_int, dtype=np.int64), count)
    n = len(owner)
    p_parent = np.linalg.norm(momentum, axis=1)
    p = np.minimum(rng.exponential(cfg.p_mean, n), p_parent[owner])
    axis = momentum[owner] / np.maximum(p_parent[owner], 1e-12)[:, None]
    e1, e2 = perpendicular_basis(axis)
    theta = np.abs(rng.normal(0.0, cfg.angular_spread, n))
    phi = rng.uniform(-np.pi, np.pi, n)
    direction = axis * np.cos(theta)[:, None] + np.sin(theta)[:, None] * (
        e1 * np.cos(phi)[:, None] + e2 * np.sin(phi)[:, None]
    )
    proton = rng.random(n) < cfg.proton_fraction
    charge = np.where(proton, 1.0, rng.choice([-1.0, 1.0], n))
    pdg = np.where(proton, 2212, 211 * charge.astype(np.int64))
    mass = np.where(proton, PROTON_MASS, PION_MASS)
    return Secondaries(
        parent=parent[owner],
        pdg=pdg.astype(np.int64),
        charge=charge,
        mass=mass,
        vertex=position[owner],
        momentum=direction * p[:, None],
    )
