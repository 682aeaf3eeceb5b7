"""A trained muon-trigger CNN on disk: ``model.json`` + ``weights.pt`` (as edge models).

``model.json`` holds ``model`` (registry name, ``muon_cnn``), ``kwargs``,
``threshold`` (the probability at or above which a fired voxel is the muon's),
``simulation`` (the generator config of the training images, so that test
images come from the same chamber) and what training recorded (``beta``,
validation metrics, provenance).  Written by ``tracklearn train muon_cnn``,
read by ``tracklearn trigger`` and ``tracklearn export``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from tracklearn.errors import ConfigError
from tracklearn.io.atomic import atomic_path, write_text_atomic
from tracklearn.models.edge_model import MODEL_FILE, WEIGHTS_FILE
from tracklearn.models.registry import get_model

#: images per forward pass in :meth:`MuonCNNModel.probabilities`
BATCH_IMAGES = 256


@dataclass
class MuonCNNModel:
    """A muon-trigger network with its decision threshold and metadata.

    Attributes
    ----------
    module
        Maps hits ``(B, L, P, S)`` float to logits of the same shape.
    name, kwargs
        Registry name and constructor arguments of ``module``.
    threshold
        Probability at or above which a fired voxel is assigned to the muon.
    info
        Everything else ``model.json`` holds (``simulation``, ``beta``, metrics).
    """

    module: torch.nn.Module
    name: str
    kwargs: dict[str, Any]
    threshold: float
    info: dict[str, Any]

    @torch.no_grad()
    def probabilities(self, hits: npt.NDArray[np.bool_]) -> npt.NDArray[np.float32]:
        """Per-voxel muon probability. Shapes: (N, L, P, S) bool → same, float32."""
        self.module.eval()
        out = [
            torch.sigmoid(self.module(torch.from_numpy(hits[i : i + BATCH_IMAGES]).float()))
            .numpy()
            .astype(np.float32)
            for i in range(0, len(hits), BATCH_IMAGES)
        ]
        return np.concatenate(out) if out else np.zeros(hits.shape, np.float32)

    def __call__(self, hits: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Voxels assigned to the muon: fired and probability ≥ threshold (Shapes as hits)."""
        return (self.probabilities(hits) >= self.threshold) & hits

    def save(self, folder: str | Path) -> Path:
        """Write ``model.json`` and ``weights.pt`` into ``folder`` (atomically); return it."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"model": self.name, "kwargs": self.kwargs, "threshold": self.threshold, **self.info}
        with atomic_path(folder / WEIGHTS_FILE) as tmp:
            torch.save(self.module.state_dict(), tmp)
        write_text_atomic(folder / MODEL_FILE, json.dumps(meta, indent=2, default=str) + "\n")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> MuonCNNModel:
        """Read a folder written by :meth:`save`."""
        folder = Path(folder)
        if not (folder / MODEL_FILE).exists() or not (folder / WEIGHTS_FILE).exists():
            raise ConfigError(
                f"{folder}: not a trained muon-trigger model ({MODEL_FILE}, {WEIGHTS_FILE})"
            )
        meta = json.loads((folder / MODEL_FILE).read_text())
        if meta.get("model") != "muon_cnn":
            raise ConfigError(f"{folder}: model {meta.get('model')!r} is not a muon_cnn")
        module = get_model(meta["model"], **meta["kwargs"])
        state = torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        module.load_state_dict(state)
        module.eval()
        info = {k: v for k, v in meta.items() if k not in ("model", "kwargs", "threshold")}
        return cls(module, meta["model"], dict(meta["kwargs"]), float(meta["threshold"]), info)
