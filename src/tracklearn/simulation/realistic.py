"""Realistic TrackML-like events: Pythia 8 collisions through the real detector.

The chain of one event (:meth:`RealisticSimulator.event`):

1. :class:`~tracklearn.simulation.pythia.PythiaSource`: hard process + Poisson
   pile-up, charged stable particles with pT > 0.1 GeV and |η| < 4;
2. :func:`~tracklearn.simulation.propagation.propagate` through the planar
   modules of ``detectors.csv`` in the fitted TrackML field map, with multiple
   scattering, ionisation loss and nuclear interactions;
3. secondaries of the nuclear interactions
   (:mod:`~tracklearn.simulation.secondaries`), propagated in turn;
4. :func:`~tracklearn.simulation.digitisation.digitise` into cells and centroid
   hits, plus noise hits;
5. TrackML tables (hits, cells, particles, truth) with TrackML particle ids and
   the TrackML weight rules (:mod:`~tracklearn.simulation.weights`).

Particle ids follow the TrackML bit layout (from the top: 12 bits vertex, 16
bits primary particle, 12 bits generation, 12 bits secondary, 12 bits
process): vertex = interaction + 1 (1 is the hard process when there is one),
generation 0 for generator particles (including decay products) and ≥ 1 for
secondaries made in the detector, which is what makes their hits weigh 0.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.edm import Cells, Event, Hits, Particles, Truth
from tracklearn.edm.detector import Detector
from tracklearn.geometry.field import TRACKML_FIELD, UniformField
from tracklearn.geometry.planar import ModuleLookup
from tracklearn.simulation.digitisation import DigitisationConfig, Digits, digitise, noise
from tracklearn.simulation.propagation import (
    Crossings,
    MagneticField,
    MaterialConfig,
    PropagationConfig,
    StartState,
    propagate,
)
from tracklearn.simulation.pythia import GeneratedParticles, PythiaConfig, PythiaSource
from tracklearn.simulation.secondaries import SecondaryConfig, make_secondaries
from tracklearn.simulation.weights import trackml_hit_weights
from tracklearn.typing import FloatArray, IntArray

log = logging.getLogger(__name__)

_HADRONS = np.array([211, 321, 2212, 3222, 3112, 3312, 3334], dtype=np.int64)
_VERTEX_SHIFT, _PRIMARY_SHIFT, _GENERATION_SHIFT, _SECONDARY_SHIFT = 52, 36, 24, 12
PROCESS_NUCLEAR = 1


def interaction_of(particle_id: npt.ArrayLike) -> IntArray:
    """Index of the collision a simulated particle comes from.

    0 is the hard process (when there is one), 1... the pile-up interactions;
    read from the vertex bits of the particle id, so secondaries inherit their
    parent's interaction.  Shapes: (P,) → (P,).
    """
    pid = np.asarray(particle_id, dtype=np.int64)
    return (pid >> _VERTEX_SHIFT) - 1


def particle_name(pdg: int) -> str:
    """PDG name of a particle type (``particle`` package), e.g. ``pi+``."""
    from particle import Particle
    from particle.particle import InvalidParticle, ParticleNotFound

    try:
        return str(Particle.from_pdgid(int(pdg)).name)
    except (ParticleNotFound, InvalidParticle, ValueError):
        return f"pdg {int(pdg)}"


class FieldConfig(BaseModel):
    """Magnetic field: the map fitted to real TrackML data, or uniform (toys)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["trackml", "uniform"] = "trackml"
    bz: float = 2.0  # T, only for kind = "uniform"

    def build(self) -> MagneticField:
        return TRACKML_FIELD if self.kind == "trackml" else UniformField(self.bz)


class RealisticConfig(BaseModel):
    """Everything that defines a realistic event sample (besides seed and detector)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    generator: PythiaConfig = Field(default_factory=PythiaConfig)
    field: FieldConfig = Field(default_factory=FieldConfig)
    propagation: PropagationConfig = Field(default_factory=PropagationConfig)
    material: MaterialConfig = Field(default_factory=MaterialConfig)
    secondaries: SecondaryConfig = Field(default_factory=SecondaryConfig)
    digitisation: DigitisationConfig = Field(default_factory=DigitisationConfig)


@dataclass
class _ParticleList:
    """Growing particle arrays of one event (generator particles, then secondaries)."""

    pdg: list[IntArray]
    charge: list[FloatArray]
    mass: list[FloatArray]
    vertex: list[FloatArray]
    momentum: list[FloatArray]
    particle_id: list[IntArray]
    generation: list[IntArray]
    root: list[IntArray]

    def size(self) -> int:
        return int(sum(len(a) for a in self.pdg))

    def cat(self, name: str) -> npt.NDArray[Any]:
        return np.concatenate(getattr(self, name))


def _rank_in_group(group: IntArray) -> IntArray:
    """0-based rank of each element within its group value (stable)."""
    order = np.argsort(group, kind="stable")
    g = group[order]
    start = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    run = np.repeat(start, np.diff(np.r_[start, len(g)]))
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(g)) - run
    return rank


class RealisticSimulator:
    """Pythia initialised once; :meth:`event` makes one event from (seed, id)."""

    def __init__(
        self, config: RealisticConfig, detector: Detector, *, verbose: bool = False
    ) -> None:
        self.config = config
        self.detector = detector
        self.lookup = ModuleLookup.build(detector)
        self.field = config.field.build()
        self.source = PythiaSource(config.generator, verbose=verbose)

    def event(self, seed: int, event_id: int) -> Event:
        """Simulate event ``event_id`` of the sample with ``seed``."""
        gen = self.source.event(seed, event_id)
        rng = np.random.default_rng(np.random.SeedSequence([seed, event_id, 3]))
        return simulate_from_particles(gen, self, rng, event_id)


def simulate_from_particles(
    gen: GeneratedParticles,
    sim: RealisticSimulator,
    rng: np.random.Generator,
    event_id: int,
) -> Event:
    """Propagate, digitise and assemble the event of generated particles ``gen``."""
    cfg = sim.config
    det = sim.detector
    n0 = len(gen)
    number = _rank_in_group(gen.interaction) + 1
    pid0 = ((gen.interaction + 1) << _VERTEX_SHIFT) | (number << _PRIMARY_SHIFT)
    plist = _ParticleList(
        pdg=[gen.pdg],
        charge=[gen.charge],
        mass=[gen.mass],
        vertex=[np.stack([gen.vx, gen.vy, gen.vz], axis=1)],
        momentum=[np.stack([gen.px, gen.py, gen.pz], axis=1)],
        particle_id=[pid0.astype(np.int64)],
        generation=[np.zeros(n0, dtype=np.int64)],
        root=[np.arange(n0, dtype=np.int64)],
    )
    descendants = np.zeros(n0, dtype=np.int64)
    crossings: list[tuple[int, Crossings]] = []
    first = 0
    for generation in range(cfg.secondaries.max_generations + 1):
        vertex = plist.vertex[-1]
        mom = plist.momentum[-1]
        pdg = plist.pdg[-1]
        if len(pdg) == 0 and crossings:
            break
        start = StartState(
            x=vertex[:, 0],
            y=vertex[:, 1],
            z=vertex[:, 2],
            px=mom[:, 0],
            py=mom[:, 1],
            pz=mom[:, 2],
            q=plist.charge[-1],
            mass=plist.mass[-1],
            hadron=np.isin(np.abs(pdg), _HADRONS),
        )
        prop_cfg = cfg.propagation
        if generation == cfg.secondaries.max_generations:
            prop_cfg = prop_cfg.model_copy(update={"nuclear_interactions": False})
        cross, inter = propagate(start, sim.lookup, sim.field, rng, prop_cfg, cfg.material)
        crossings.append((first, cross))
        if len(inter.particle) == 0 or generation == cfg.secondaries.max_generations:
            break
        sec = make_secondaries(inter.particle, inter.position, inter.momentum, rng, cfg.secondaries)
        pt = np.hypot(sec.momentum[:, 0], sec.momentum[:, 1])
        eta = np.arcsinh(sec.momentum[:, 2] / np.maximum(pt, 1e-12))
        keep = (pt > cfg.generator.pt_min) & (np.abs(eta) < cfg.generator.eta_max)
        parent = first + sec.parent[keep]
        all_root = plist.cat("root")
        all_pid = plist.cat("particle_id")
        all_gen = plist.cat("generation")
        root = all_root[parent]
        serial = descendants[root] + _rank_in_group(root) + 1
        np.add.at(descendants, root, 1)
        top = all_pid[parent] >> _GENERATION_SHIFT >> 12 << 12 << _GENERATION_SHIFT
        pid = (
            top
            | ((all_gen[parent] + 1) << _GENERATION_SHIFT)
            | ((serial & 0xFFF) << _SECONDARY_SHIFT)
            | PROCESS_NUCLEAR
        )
        first = plist.size()
        plist.pdg.append(sec.pdg[keep])
        plist.charge.append(sec.charge[keep])
        plist.mass.append(sec.mass[keep])
        plist.vertex.append(sec.vertex[keep])
        plist.momentum.append(sec.momentum[keep])
        plist.particle_id.append(pid.astype(np.int64))
        plist.generation.append(all_gen[parent] + 1)
        plist.root.append(root)

    particle = np.concatenate([f + c.particle for f, c in crossings])
    module = np.concatenate([c.module for _, c in crossings])
    position = np.concatenate([c.position for _, c in crossings])
    momentum = np.concatenate([c.momentum for _, c in crossings])
    local = np.concatenate([c.local for _, c in crossings])
    local_dir = np.concatenate([c.local_dir for _, c in crossings])

    signal = digitise(det, module, local, local_dir, rng, cfg.digitisation)
    noisy = noise(det, rng, cfg.digitisation)
    return _assemble(event_id, det, plist, signal, noisy, particle, position, momentum)


def _assemble(
    event_id: int,
    det: Detector,
    plist: _ParticleList,
    signal: Digits,
    noisy: Digits,
    particle: IntArray,
    position: FloatArray,
    momentum: FloatArray,
) -> Event:
    n_sig = len(signal.module)
    module = np.concatenate([signal.module, noisy.module])
    pos = np.concatenate([signal.position, noisy.position])
    pidx = np.concatenate([particle[signal.source], np.full(len(noisy.module), -1)])
    tpos = np.concatenate([position[signal.source], noisy.position])
    tmom = np.concatenate([momentum[signal.source], np.zeros((len(noisy.module), 3))])
    # hit ids follow the detector order (volume, layer, module), as in TrackML,
    # so that the order of hits says nothing about which are noise
    order = np.argsort(module, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    hit_id = rank + 1

    particle_id = plist.cat("particle_id").astype(np.int64)
    vertex = plist.cat("vertex").astype(np.float64)
    mom = plist.cat("momentum").astype(np.float64)
    generation = plist.cat("generation").astype(np.int64)
    pt = np.hypot(mom[:, 0], mom[:, 1])
    weight = trackml_hit_weights(pidx, tpos, vertex, pt, generation == 0)
    hit_pid = np.zeros(len(pidx), dtype=np.int64)
    hit_pid[pidx >= 0] = particle_id[pidx[pidx >= 0]]

    hits = Hits(
        hit_id=hit_id[order],
        x=pos[order, 0],
        y=pos[order, 1],
        z=pos[order, 2],
        volume_id=det.volume_id[module[order]],
        layer_id=det.layer_id[module[order]],
        module_id=det.module_id[module[order]],
    )
    truth = Truth(
        hit_id=hit_id[order],
        particle_id=hit_pid[order],
        tx=tpos[order, 0],
        ty=tpos[order, 1],
        tz=tpos[order, 2],
        tpx=tmom[order, 0],
        tpy=tmom[order, 1],
        tpz=tmom[order, 2],
        weight=weight[order],
    )
    cell_hit = np.concatenate([signal.cell_hit, noisy.cell_hit + n_sig])
    cells_order = np.lexsort((signal.ch1.tolist() + noisy.ch1.tolist(), hit_id[cell_hit]))
    cells = Cells(
        hit_id=hit_id[cell_hit][cells_order],
        ch0=np.concatenate([signal.ch0, noisy.ch0])[cells_order].astype(np.int32),
        ch1=np.concatenate([signal.ch1, noisy.ch1])[cells_order].astype(np.int32),
        value=np.concatenate([signal.value, noisy.value])[cells_order].astype(np.float32),
    )
    nhits = np.bincount(pidx[pidx >= 0], minlength=len(particle_id))
    particles = Particles(
        particle_id=particle_id,
        vx=vertex[:, 0],
        vy=vertex[:, 1],
        vz=vertex[:, 2],
        px=mom[:, 0],
        py=mom[:, 1],
        pz=mom[:, 2],
        q=plist.cat("charge").astype(np.int32),
        nhits=nhits.astype(np.int32),
        particle_type=plist.cat("pdg").astype(np.int64),
    )
    return Event(
        event_id=event_id,
        hits=hits,
        truth=truth,
        particles=particles,
        cells=cells,
        source=f"simulated TrackML-like event {event_id}",
    )
