"""Proton-proton collisions from the real Pythia 8: a hard process plus pile-up.

One :class:`PythiaSource` owns two Pythia instances (hard process and soft-QCD
pile-up) initialised once per process.  Every event re-seeds both from
``(seed, event_id)`` before generating, so an event's content depends only on
the seed and its id, not on which worker made it or in which order.

Kept particles: the stable (final-state) charged particles, with their true
production vertices (so displaced daughters of K⁰s, Λ, ... decays are
included), above the generator-level cuts ``pt_min`` and ``|η| < eta_max``
(the real TrackML particle lists have pT > 0.1 GeV and |η| < 4).  Each
interaction gets its own primary vertex drawn from a Gaussian luminous region.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.errors import ConfigError
from tracklearn.typing import FloatArray, IntArray

log = logging.getLogger(__name__)

#: Pythia settings of each named hard process.
HARD_PROCESSES: dict[str, tuple[str, ...]] = {
    "ttbar": ("Top:gg2ttbar = on", "Top:qqbar2ttbar = on"),
    "zmumu": (
        "WeakSingleBoson:ffbar2gmZ = on",
        "WeakZ0:gmZmode = 2",
        "23:onMode = off",
        "23:onIfAny = 13",
    ),
    "minbias": ("SoftQCD:inelastic = on",),
}

#: Largest seed Pythia accepts (``Random:seed``).
_PYTHIA_MAX_SEED = 900_000_000


class PythiaConfig(BaseModel):
    """Event generation: hard process, pile-up and luminous region."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hard_process: Literal["ttbar", "zmumu", "minbias", "none"] = "ttbar"
    pileup: float = Field(200.0, ge=0)  # mean number of pile-up interactions (Poisson)
    ecm: float = Field(14000.0, gt=0)  # GeV, centre-of-mass energy
    pt_min: float = Field(0.1, ge=0)  # GeV, generator-level cut on kept particles
    eta_max: float = Field(4.0, gt=0)  # generator-level cut on kept particles
    # mm, luminous region length (Gaussian σ); measured on the real TrackML
    # particle lists: the primary vertices of an event spread by σz ≈ 5.0–5.7 mm
    # (and ≈ 0.02 mm transversely), not by the ~50 mm of the real HL-LHC
    sigma_z: float = Field(5.5, ge=0)
    sigma_xy: float = Field(0.02, ge=0)  # mm, luminous region width (Gaussian σ)
    hard_settings: list[str] = Field(default_factory=list)  # extra Pythia strings
    # extra Pythia strings for pile-up; the default raises the MPI regularisation
    # scale from Monash's 2.28 GeV so that the charged multiplicity matches the
    # real TrackML particle lists (see benchmarks/results/simulation-validation.md)
    pileup_settings: list[str] = Field(
        default_factory=lambda: ["MultipartonInteractions:pT0Ref = 2.8"]
    )


@dataclass(frozen=True)
class GeneratedParticles:
    """Charged final-state particles of one event.  Shapes: (P,) each.

    ``interaction`` is 0 for the hard process and 1..n for pile-up; positions
    in mm, momenta in GeV.
    """

    pdg: IntArray
    charge: FloatArray
    mass: FloatArray
    vx: FloatArray
    vy: FloatArray
    vz: FloatArray
    px: FloatArray
    py: FloatArray
    pz: FloatArray
    interaction: IntArray
    n_interactions: int

    def __len__(self) -> int:
        return len(self.pdg)


@contextmanager
def _quiet(enabled: bool) -> Iterator[None]:
    """Silence C++ stdout/stderr (Pythia's banner) unless ``enabled`` is False."""
    if not enabled:
        yield
        return
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(devnull)
        os.close(saved[0])
        os.close(saved[1])


def event_seed(seed: int, event_id: int, stream: int) -> int:
    """A Pythia seed in [1, 9e8] for one event and stream (0 hard, 1 pile-up)."""
    state = np.random.SeedSequence([seed, event_id, stream]).generate_state(1, np.uint64)[0]
    return int(state % (_PYTHIA_MAX_SEED - 1)) + 1


class PythiaSource:
    """Initialised Pythia generators for a configuration (one per process)."""

    def __init__(self, config: PythiaConfig, verbose: bool = False) -> None:
        try:
            import pythia8mc
        except ImportError as exc:  # pragma: no cover - pinned dependency
            raise ConfigError("pythia8mc is not installed (pin pythia8mc==8.317.2)") from exc
        if config.hard_process == "none" and config.pileup == 0:
            raise ConfigError("nothing to generate: hard_process is 'none' and pileup is 0")
        self.config = config
        self.verbose = verbose
        with _quiet(not verbose):
            self._hard = (
                None
                if config.hard_process == "none"
                else self._make(
                    pythia8mc, HARD_PROCESSES[config.hard_process], config.hard_settings
                )
            )
            self._pileup = (
                self._make(pythia8mc, HARD_PROCESSES["minbias"], config.pileup_settings)
                if config.pileup > 0
                else None
            )
        self._charge: dict[int, float] = {}
        self._mass: dict[int, float] = {}

    def _make(self, module: object, process: tuple[str, ...], extra: list[str]) -> object:
        pythia = module.Pythia("", self.verbose)  # type: ignore[attr-defined]
        settings = [
            f"Beams:eCM = {self.config.ecm}",
            "Next:numberCount = 0",
            "Random:setSeed = on",
            *process,
            *extra,
        ]
        if not self.verbose:
            settings.append("Print:quiet = on")
        for s in settings:
            if not pythia.readString(s):
                raise ConfigError(f"Pythia rejected the setting {s!r}")
        if not pythia.init():
            raise ConfigError("Pythia failed to initialise; run with --verbose to see why")
        return pythia

    def _properties(self, pdg: IntArray, pythia: object) -> tuple[FloatArray, FloatArray]:
        """Charge [e] and mass [GeV] of every PDG id (cached per id).

        From the ``particle`` package (PDG data); ids it does not know (Pythia's
        internal codes) fall back to Pythia's own particle data.
        """
        from particle import Particle
        from particle.particle import InvalidParticle, ParticleNotFound

        data = pythia.particleData  # type: ignore[attr-defined]
        uniq, inverse = np.unique(pdg, return_inverse=True)
        for code in uniq:
            c = int(code)
            if c in self._charge:
                continue
            try:
                info = Particle.from_pdgid(c)
                q, mass_mev = info.charge, info.mass
            except (ParticleNotFound, InvalidParticle, ValueError):
                q, mass_mev = None, None
            self._charge[c] = float(q) if q is not None else float(data.charge(c))
            self._mass[c] = mass_mev * 1e-3 if mass_mev is not None else float(data.m0(c))
        charges: FloatArray = np.array([self._charge[int(c)] for c in uniq])[inverse]
        masses: FloatArray = np.array([self._mass[int(c)] for c in uniq])[inverse]
        return charges, masses

    def _generate(self, pythia: object, n: int, seed: int) -> dict[str, npt.NDArray]:
        import awkward as ak

        pythia.rndm.init(seed)  # type: ignore[attr-defined]
        with _quiet(not self.verbose):
            batch = pythia.nextBatch(n)  # type: ignore[attr-defined]
        prt = batch.prt
        counts = ak.num(prt).to_numpy()
        flat = ak.flatten(prt)
        status = flat.status.to_numpy()
        pdg = flat.id.to_numpy().astype(np.int64)
        vprod = flat.vProd
        out = {
            "pdg": pdg,
            "status": status,
            "px": flat.p.px.to_numpy(),
            "py": flat.p.py.to_numpy(),
            "pz": flat.p.pz.to_numpy(),
            "vx": ak.fill_none(vprod.px, 0.0).to_numpy(),
            "vy": ak.fill_none(vprod.py, 0.0).to_numpy(),
            "vz": ak.fill_none(vprod.pz, 0.0).to_numpy(),
            "interaction": np.repeat(np.arange(n, dtype=np.int64), counts),
        }
        if len(counts) != n:
            raise ConfigError(f"Pythia produced {len(counts)} of {n} requested events")
        return out

    def event(self, seed: int, event_id: int) -> GeneratedParticles:
        """Generate one collision event (hard process + Poisson pile-up)."""
        cfg = self.config
        rng = np.random.default_rng(np.random.SeedSequence([seed, event_id, 2]))
        n_pileup = int(rng.poisson(cfg.pileup)) if cfg.pileup > 0 else 0
        parts: list[dict[str, npt.NDArray]] = []
        first = 0
        if self._hard is not None:
            parts.append(self._generate(self._hard, 1, event_seed(seed, event_id, 0)))
            first = 1
        if n_pileup:
            d = self._generate(self._pileup, n_pileup, event_seed(seed, event_id, 1))
            d["interaction"] = d["interaction"] + first
            parts.append(d)
        n_int = first + n_pileup
        if not parts:  # no hard process and a Poisson draw of 0 pile-up interactions
            empty_f = np.zeros(0)
            empty_i = np.zeros(0, dtype=np.int64)
            return GeneratedParticles(
                empty_i,
                empty_f,
                empty_f,
                empty_f,
                empty_f,
                empty_f,
                empty_f,
                empty_f,
                empty_f,
                empty_i,
                0,
            )
        cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        pythia = self._hard if self._hard is not None else self._pileup
        charge, mass = self._properties(cat["pdg"], pythia)
        px, py, pz = cat["px"], cat["py"], cat["pz"]
        pt = np.hypot(px, py)
        eta = np.arcsinh(pz / np.maximum(pt, 1e-12))
        keep = (cat["status"] > 0) & (charge != 0) & (pt > cfg.pt_min) & (np.abs(eta) < cfg.eta_max)
        # primary vertex of every interaction in the luminous region
        vertex = rng.normal(size=(n_int, 3)) * np.array([cfg.sigma_xy, cfg.sigma_xy, cfg.sigma_z])
        inter = cat["interaction"][keep]
        return GeneratedParticles(
            pdg=cat["pdg"][keep],
            charge=charge[keep],
            mass=mass[keep],
            vx=cat["vx"][keep] + vertex[inter, 0],
            vy=cat["vy"][keep] + vertex[inter, 1],
            vz=cat["vz"][keep] + vertex[inter, 2],
            px=px[keep],
            py=py[keep],
            pz=pz[keep],
            interaction=inter,
            n_interactions=n_int,
        )
