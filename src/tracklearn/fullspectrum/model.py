"""The full-spectrum tracker's model folder: typed spec, tables and networks.

A model folder holds::

    model.json        FullSpectrumSpec: the passes and the files below (no path outside)
    layers.npz        LayerTable (layer kinds and extents, from detectors.csv)
    tables.npz        TrackerTables (seed triplets, successors, error models)
    seed_<pass>.npz   seed classifier of each pass (NumpyMLP), optional
    track_<pass>.npz  candidate classifier of each pass (NumpyMLP), optional
    provenance.json   how it was made (written by the training script)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tracklearn.config import validation_problems
from tracklearn.errors import ConfigError, DataError
from tracklearn.fullspectrum.layers import LayerTable
from tracklearn.fullspectrum.mlp import NumpyMLP
from tracklearn.fullspectrum.tables import TrackerTables

#: the shipped model (trained by ``make train-default``)
DEFAULT_MODEL = "tracklearn.fullspectrum:default"


class PassConfig(BaseModel):
    """One seeding → following → selection pass (units in the comments)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    # "first": the first three layers particles cross, with the beam-line constraint;
    # "chain": any three consecutive layers (displaced particles)
    seeds: Literal["first", "chain"] = "first"
    pt_min: float = Field(0.1, gt=0)  # GeV, lowest pT the seed windows reach (at 2 T)
    d0_max: float = Field(2.0, gt=0)  # mm, largest transverse impact parameter seeded
    z0_max: float | None = Field(None, gt=0)  # mm; None: from each event's luminous region
    margin_t: float = Field(5.0, ge=0)  # mm added to the seed windows along the layers
    cot_tol: float = Field(0.005, ge=0)  # slope difference always allowed in a triplet
    n_sigma_ms: float = Field(3.0, gt=0)  # multiple-scattering tolerance of triplet slopes
    max_doublets: int = Field(4000, ge=16)  # per middle hit and side
    seed_min_score: float = Field(0.0, ge=0, le=1)  # seeds below are not followed
    accept_min_score: float = Field(0.0, ge=0, le=1)  # candidates below are never tracks


class SelectionConfig(BaseModel):
    """Following and hit-assignment settings shared by all passes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_sigma: float = Field(5.0, gt=0)  # follower window and hit acceptance, in σ (68 % widths)
    max_holes: int = Field(1, ge=0)  # crossings without a hit before following stops
    trim_chi2: float = Field(4.0, ge=0)  # a last hit above this χ² goes when following stops
    n_sigma_dup: float = Field(3.0, gt=0)  # overlap-duplicate acceptance, in σ
    min_free: int = Field(3, ge=1)  # free hits a candidate needs to become a track
    min_free_frac: float = Field(0.5, ge=0, le=1)  # ... as a fraction of its hits
    # candidates are visited by decreasing logit + rank_per_hit · n_hits (logit: the
    # classifier's): among near-certain duplicates of one particle the longest goes first
    rank_per_hit: float = Field(0.1, ge=0)


class FullSpectrumSpec(BaseModel):
    """``model.json``: everything a model folder holds besides arrays."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["tracklearn.fullspectrum/1"] = "tracklearn.fullspectrum/1"
    passes: tuple[PassConfig, ...]
    selection: SelectionConfig = SelectionConfig()
    luminous_sigma_factor: float = Field(5.0, gt=0)  # z0 window = factor × fitted σz
    luminous_min_z0: float = Field(20.0, gt=0)  # mm, smallest automatic z0 window
    luminous_max_z0: float = Field(250.0, gt=0)  # mm, largest automatic z0 window


@dataclass(frozen=True, eq=False)
class FullSpectrumModel:
    """A loaded model folder."""

    spec: FullSpectrumSpec
    layers: LayerTable
    tables: TrackerTables
    seed_nets: dict[str, NumpyMLP]
    track_nets: dict[str, NumpyMLP]
    folder: Path

    @classmethod
    def load(cls, folder: str | Path) -> FullSpectrumModel:
        """Load a model folder (see the module docstring); bad files raise one-line errors."""
        folder = _resolve(folder)
        spec_path = folder / "model.json"
        if not spec_path.exists():
            raise DataError(spec_path, "file does not exist (not a fullspectrum model folder)")
        try:
            spec = FullSpectrumSpec.model_validate(json.loads(spec_path.read_text()))
        except json.JSONDecodeError as exc:
            raise DataError(spec_path, f"not valid JSON ({exc.msg})") from None
        except ValidationError as exc:
            raise ConfigError(f"{spec_path}: invalid ({validation_problems(exc)})") from None
        layers = LayerTable.load(folder / "layers.npz")
        tables = TrackerTables.load(folder / "tables.npz")
        if tables.n_layers != len(layers):
            raise DataError(folder / "tables.npz", "tables and layers disagree on the layer count")
        seed_nets: dict[str, NumpyMLP] = {}
        track_nets: dict[str, NumpyMLP] = {}
        for p in spec.passes:
            for prefix, nets in (("seed", seed_nets), ("track", track_nets)):
                path = folder / f"{prefix}_{p.name}.npz"
                if path.exists():
                    nets[p.name] = NumpyMLP.load(path)
        return cls(spec, layers, tables, seed_nets, track_nets, folder)

    def save(self, folder: str | Path) -> None:
        """Write everything but the provenance into ``folder`` (created)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "model.json").write_text(self.spec.model_dump_json(indent=2) + "\n")
        self.layers.save(folder / "layers.npz")
        self.tables.save(folder / "tables.npz")
        for name, net in self.seed_nets.items():
            net.save(folder / f"seed_{name}.npz")
        for name, net in self.track_nets.items():
            net.save(folder / f"track_{name}.npz")


def _resolve(folder: str | Path) -> Path:
    if str(folder) == DEFAULT_MODEL:
        return Path(str(resources.files("tracklearn.fullspectrum") / "default"))
    return Path(folder)
