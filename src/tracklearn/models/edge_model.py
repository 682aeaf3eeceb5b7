"""A trained edge model on disk: ``model.json`` (name, arguments, threshold) + ``weights.pt``.

Written by the ``filter`` and ``edge_classifier`` training stages and read by the
``gnn`` reconstruction method and ``tracklearn evaluate-edges``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch

from tracklearn.edm import Graph
from tracklearn.errors import ConfigError
from tracklearn.io.atomic import atomic_path, write_text_atomic
from tracklearn.models.adapter import to_numpy, to_tensors
from tracklearn.models.registry import get_model

MODEL_FILE = "model.json"
WEIGHTS_FILE = "weights.pt"
#: edges scored at once by a per-edge model (``module.per_edge``)
CHUNK_EDGES = 65_536


@dataclass
class EdgeModel:
    """A torch edge model with its decision threshold.

    Attributes
    ----------
    module
        Maps ``(x, edge_index, edge_attr)`` to one logit per edge.
    name, kwargs
        Registry name and constructor arguments of ``module``.
    threshold
        Score (probability) at or above which an edge is kept, chosen on validation.
    info
        Everything else ``model.json`` holds (validation metrics, data config).
    """

    module: torch.nn.Module
    name: str
    kwargs: dict[str, Any]
    threshold: float
    info: dict[str, Any]

    @torch.no_grad()
    def scores(self, graph: Graph) -> npt.NDArray[np.float32]:
        """Edge probabilities in [0, 1], shape (E,)."""
        if graph.n_edges == 0:
            return np.zeros(0, np.float32)
        self.module.eval()
        t = to_tensors(graph)
        if not getattr(self.module, "per_edge", False):
            return to_numpy(torch.sigmoid(self.module(t.x, t.edge_index, t.edge_attr)))
        # a per-edge model (no message passing) runs in chunks: the activations of
        # millions of edges at once would spill every cache and cost GBs
        out = [
            torch.sigmoid(
                self.module(
                    t.x, t.edge_index[:, i : i + CHUNK_EDGES], t.edge_attr[i : i + CHUNK_EDGES]
                )
            )
            for i in range(0, t.n_edges, CHUNK_EDGES)
        ]
        return to_numpy(torch.cat(out))

    def scores_mc(
        self, graph: Graph, n_samples: int, *, rate: float | None = None, seed: int = 0
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """MC-dropout edge probabilities: mean and standard deviation over ``n_samples``.

        ``rate`` None samples with the model's own dropout (a model trained
        without dropout raises :class:`~tracklearn.errors.ConfigError`); see
        :func:`tracklearn.models.mc_dropout.mc_dropout`.  Shapes: (E,), (E,).
        """
        from tracklearn.models.mc_dropout import mc_dropout

        if graph.n_edges == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        t = to_tensors(graph)
        per_edge = getattr(self.module, "per_edge", False)

        def forward() -> torch.Tensor:
            if not per_edge:
                return torch.sigmoid(self.module(t.x, t.edge_index, t.edge_attr))
            chunks = [
                torch.sigmoid(
                    self.module(
                        t.x, t.edge_index[:, i : i + CHUNK_EDGES], t.edge_attr[i : i + CHUNK_EDGES]
                    )
                )
                for i in range(0, t.n_edges, CHUNK_EDGES)
            ]
            return torch.cat(chunks)

        mean, std = mc_dropout(self.module, forward, n_samples, rate=rate, seed=seed)
        self.module.eval()
        return to_numpy(mean), to_numpy(std)

    def save(self, folder: str | Path) -> Path:
        """Write ``model.json`` and ``weights.pt`` into ``folder`` (atomically); return it."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"model": self.name, "kwargs": self.kwargs, "threshold": self.threshold, **self.info}
        with atomic_path(folder / WEIGHTS_FILE) as tmp:
            torch.save(self.module.state_dict(), tmp)
        write_text_atomic(folder / MODEL_FILE, json.dumps(meta, indent=2, default=str))
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> EdgeModel:
        """Read a model folder written by :meth:`save`."""
        folder = Path(folder)
        if not (folder / MODEL_FILE).exists() or not (folder / WEIGHTS_FILE).exists():
            raise ConfigError(f"{folder}: not a trained edge model ({MODEL_FILE}, {WEIGHTS_FILE})")
        meta = json.loads((folder / MODEL_FILE).read_text())
        module = get_model(meta["model"], **meta["kwargs"])
        state = torch.load(folder / WEIGHTS_FILE, map_location="cpu", weights_only=True)
        module.load_state_dict(state)
        module.eval()
        info = {k: v for k, v in meta.items() if k not in ("model", "kwargs", "threshold")}
        return cls(module, meta["model"], dict(meta["kwargs"]), float(meta["threshold"]), info)
