"""The simulated event sets the benchmark suites share, each made once per run.

Training events use seed 1, held-out events seed 2 (so suites compare the same
events); :func:`training_events` remakes the first training events of the shipped
``gnn`` model.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

__all__ = ["simulated_events", "training_events"]


def simulated_events(
    work: Path,
    name: str,
    pileup: float,
    n: int,
    seed: int,
    geometry: Path,
    sigma_z: float | None = None,
) -> Path:
    """``work/name``: ``n`` tt̄ + μ=``pileup`` events (noise scaled with μ), made once.

    ``sigma_z`` [mm] changes the length of the luminous region (default 5.5 mm).
    """
    from tracklearn.parallel.simulate import simulate_to_disk

    folder = work / name
    if not folder.exists():
        log.info("bench: simulating %s (%d events, μ=%g, seed %d)", name, n, pileup, seed)
        simulate_to_disk(
            detector="trackml",
            n_events=n,
            seed=seed,
            out=folder,
            fmt="csv",
            geometry=geometry,
            workers=2,
            overrides={
                "generator.pileup": pileup,
                "digitisation.noise_hits": 17_630.0 * pileup / 200.0,
                **({"generator.sigma_z": sigma_z} if sigma_z is not None else {}),
            },
            first_event_id=1000 * seed,
        )
    return folder


def training_events(work: Path, geometry: Path, n: int) -> Path:
    """``work/mu200_train_default``: the first ``n`` training events of the shipped ``gnn``
    model (``scripts/train_default.sh``: tt̄ + μ=200, seed 101, ids from 1000), made once."""
    from tracklearn.parallel.simulate import simulate_to_disk

    folder = work / "mu200_train_default"
    if not folder.exists():
        log.info("bench: simulating %d training events of the default model (seed 101)", n)
        simulate_to_disk(detector="trackml", n_events=n, seed=101, out=folder, fmt="csv",
                         geometry=geometry, workers=2, overrides={"generator.pileup": 200.0},
                         first_event_id=1000)  # fmt: skip
    return folder
