"""Target particles: the particles a tracking efficiency is measured on.

Definition (DESIGN.md, "Target particles"): a particle is a target when it is not
noise, ``pT >= pt_min``, ``|eta| <= eta_max`` with ``eta = asinh(pz / pT)`` from the
particles table, and its hits in the event lie on at least ``min_layers`` distinct
layers, a layer being one ``(volume_id, layer_id)`` pair.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.edm import Event, layer_key
from tracklearn.errors import DataError

__all__ = ["TargetSelection", "n_layers_per_particle", "particle_eta", "target_mask"]


class TargetSelection(BaseModel):
    """Cuts that define target particles (see the module docstring for the definition).

    Noise (``particle_id == 0``) is never a target: it is not in the particles table.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    pt_min: float = Field(default=1.0, ge=0.0)  # GeV
    eta_max: float = Field(default=4.0, ge=0.0)  # dimensionless pseudorapidity
    min_layers: int = Field(default=5, ge=0)  # distinct (volume_id, layer_id) pairs


def _require_truth(event: Event, what: str) -> None:
    if event.truth is None or event.particles is None:
        raise DataError(event.source, f"{what} needs truth and particles")


def n_layers_per_particle(event: Event) -> npt.NDArray[np.int64]:
    """Number of distinct detector layers each particle has hits on.

    A layer is one ``(volume_id, layer_id)`` pair; several hits of a particle on the
    same layer (overlapping modules) count once.

    Parameters
    ----------
    event
        Event with ``truth`` and ``particles``.

    Returns
    -------
    numpy.ndarray
        int64, aligned with ``event.particles`` rows; 0 for particles without hits.

    Shapes
    ------
    P = ``len(event.particles)``; output ``(P,)``.
    """
    _require_truth(event, "counting layers per particle")
    assert event.truth is not None and event.particles is not None
    pid = event.truth.particle_id
    particle_ids = event.particles.particle_id
    n_particles = len(particle_ids)
    real = pid != 0
    if n_particles == 0 or not np.any(real):
        return np.zeros(n_particles, dtype=np.int64)
    # Row of each hit's particle in the particles table (Event guarantees presence).
    order = np.argsort(particle_ids, kind="stable")
    prow = order[np.searchsorted(particle_ids[order], pid[real])]
    # Number the layers 0..L-1, then encode (particle row, layer) as one int64
    # so that np.unique removes repeated hits on the same layer.
    layer = layer_key(event.hits.volume_id[real], event.hits.layer_id[real])
    layer_code, layer_inv = np.unique(layer, return_inverse=True)
    pairs = np.unique(prow.astype(np.int64) * len(layer_code) + layer_inv)
    return np.bincount(pairs // len(layer_code), minlength=n_particles).astype(np.int64)


def particle_eta(event: Event) -> npt.NDArray[np.float64]:
    """Pseudorapidity ``asinh(pz / pT)`` of each particle, shape ``(P,)``.

    ``pT == 0`` gives ``±inf`` (or NaN when also ``pz == 0``) without a warning;
    such particles fail any finite ``eta_max`` cut.
    """
    _require_truth(event, "particle eta")
    assert event.particles is not None
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(event.particles.eta, dtype=np.float64)


def target_mask(event: Event, sel: TargetSelection | None = None) -> npt.NDArray[np.bool_]:
    """Which particles are targets (see the module docstring for the definition).

    Parameters
    ----------
    event
        Event with ``truth`` and ``particles``.
    sel
        Cuts; ``TargetSelection()`` (pT ≥ 1 GeV, |η| ≤ 4, ≥ 5 layers) when None.

    Returns
    -------
    numpy.ndarray
        bool, shape ``(P,)``, aligned with ``event.particles`` rows.
    """
    sel = TargetSelection() if sel is None else sel
    _require_truth(event, "target selection")
    assert event.particles is not None
    pt = event.particles.pt
    eta = particle_eta(event)
    n_layers = n_layers_per_particle(event)
    # NaN eta compares False, so it is never a target.
    return (pt >= sel.pt_min) & (np.abs(eta) <= sel.eta_max) & (n_layers >= sel.min_layers)
