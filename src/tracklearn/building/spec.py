"""The typed contents of a ``gnn`` model folder's ``pipeline.json``.

``pipeline.json`` names the graph builder and its settings (files bundled with the
model are named relative to the folder), the filter and classifier sub-folders, and
the track building (:class:`BuildingSpec`).  ``tracklearn train edge_classifier``
writes it, the ``gnn`` method and ``tracklearn export`` read it with
:meth:`GNNPipelineSpec.load`: unknown keys, wrong types and paths outside the model
folder are one-line errors naming the file.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tracklearn.building.registry import track_builder_names
from tracklearn.config import validation_problems
from tracklearn.errors import ConfigError, DataError

__all__ = ["BuildingSpec", "GNNPipelineSpec"]


class BuildingSpec(BaseModel):
    """Track building used by the ``gnn`` method with this classifier."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: str = "walkthrough"  # a registered track builder (tracklearn.building)
    min_hits: int = Field(3, ge=1)
    threshold: float | None = Field(None, ge=0, le=1)  # edge-score cut; None: the max-F1 one
    # hybrid builder: edges joining chains need this score (None: the threshold)
    extend_threshold: float | None = Field(None, ge=0, le=1)
    # hybrid builder: below the threshold only chains spanning this many layers grow
    extend_min_layers: int | None = Field(None, ge=0)
    # keep candidates crossing at least this many detector layers (None: keep all)
    min_layers: int | None = Field(None, ge=0)
    # GeV: drop candidates whose circle-fit pT is below this (None: keep all); see
    # tracklearn.building.selection
    pt_min: float | None = Field(None, ge=0)
    bz: float = Field(2.0, gt=0)  # T: field used for that pT estimate

    @field_validator("method")
    @classmethod
    def _known_method(cls, name: str) -> str:
        if name not in track_builder_names():
            valid = ", ".join(track_builder_names())
            raise ValueError(f"unknown track building method {name!r}; valid: {valid}")
        return name


def _inside(path: str) -> str:
    p = PurePosixPath(path)
    if p.is_absolute() or ".." in p.parts:
        raise ValueError(f"{path!r} is not inside the model folder")
    return path


class GNNPipelineSpec(BaseModel):
    """``pipeline.json``: graph builder → (filter) → edge classifier → track building."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    builder: str
    builder_config: dict[str, Any] = Field(default_factory=dict)
    filter: str | None = None  # sub-folder of the filter model (None: no filter)
    classifier: str = "."  # sub-folder of the edge classifier
    building: BuildingSpec = Field(default_factory=BuildingSpec)

    @field_validator("filter", "classifier")
    @classmethod
    def _relative(cls, path: str | None) -> str | None:
        return None if path is None else _inside(path)

    @field_validator("builder_config")
    @classmethod
    def _bundled_files(cls, config: dict[str, Any]) -> dict[str, Any]:
        for key in ("path", "checkpoint"):  # files bundled with the model
            if isinstance(config.get(key), str):
                _inside(config[key])
        return config

    def builder_config_in(self, folder: str | Path) -> dict[str, Any]:
        """The builder settings with the bundled files named by their path under ``folder``."""
        config = dict(self.builder_config)
        for key in ("path", "checkpoint"):
            if isinstance(config.get(key), str):
                config[key] = str(Path(folder) / config[key])
        return config

    @classmethod
    def load(cls, folder: str | Path) -> GNNPipelineSpec:
        """Read and check ``folder/pipeline.json``."""
        path = Path(folder) / "pipeline.json"
        if not path.exists():
            raise ConfigError(f"{folder}: not a gnn model folder (no pipeline.json)")
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except json.JSONDecodeError as exc:
            raise DataError(path, f"not valid JSON ({exc.msg})") from None
        except ValidationError as exc:
            raise ConfigError(f"{path}: invalid ({validation_problems(exc)})") from None
