"""A trained edge model on disk: ``model.json`` (name, arguments, threshold) + ``weights.pt``.

Written by the ``filter`` and ``edge_classifier`` training stages and read by the
``gnn`` reconstruction method and ``tracklearn evaluate-edges``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import torch
from torch_geometric.data import Batch, Data

from tracklearn.edm import Graph
from tracklearn.errors import ConfigError
from tracklearn.io.atomic import atomic_path, write_text_atomic
from tracklearn.models.adapter import to_data, to_numpy
from tracklearn.models.feature_transform import FeatureTransform
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
        Maps ``(x, edge_index, edge_attr)``, after its front-end (:attr:`transform`),
        to one logit per edge.
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

    @property
    def transform(self) -> FeatureTransform:
        """The input front-end of ``module`` as a graph transform (its ``features``)."""
        return FeatureTransform.of(self.module)

    def inputs(self, graph: Graph) -> Data:
        """``graph`` as the module's inputs: converted and transformed, once."""
        return self.transform(to_data(graph))

    def _logits(self, data: Data) -> torch.Tensor:
        """Logits of transformed inputs ``data`` (a graph or a batch), shape (E,)."""
        if not getattr(self.module, "per_edge", False):
            out: torch.Tensor = self.module(data.x, data.edge_index, data.edge_attr)
            return out
        # a per-edge model (no message passing) runs in chunks: the activations of
        # millions of edges at once would spill every cache and cost GBs.  The
        # front-end was computed on the whole graph before.
        ei, ea = data.edge_index, data.edge_attr
        return torch.cat(
            [
                self.module(data.x, ei[:, i : i + CHUNK_EDGES], ea[i : i + CHUNK_EDGES])
                for i in range(0, ei.shape[1], CHUNK_EDGES)
            ]
        )

    @torch.no_grad()
    def scores(self, graph: Graph) -> npt.NDArray[np.float32]:
        """Edge probabilities in [0, 1], shape (E,)."""
        if graph.n_edges == 0:
            return np.zeros(0, np.float32)
        self.module.eval()
        return to_numpy(torch.sigmoid(self._logits(self.inputs(graph))))

    @torch.no_grad()
    def scores_batched(
        self, graphs: Sequence[Graph], graphs_per_batch: int = 8
    ) -> list[npt.NDArray[np.float32]]:
        """Edge probabilities of many graphs, ``graphs_per_batch`` at a time (one
        ``torch_geometric.data.Batch`` each: the graphs side by side, never connected).

        The same scores as :meth:`scores` graph by graph, up to float rounding.
        Shapes: one (E_i,) array per graph.
        """
        if graphs_per_batch < 1:
            raise ConfigError(f"graphs_per_batch must be >= 1, got {graphs_per_batch}")
        self.module.eval()
        out: list[npt.NDArray[np.float32]] = []
        for i in range(0, len(graphs), graphs_per_batch):
            group = graphs[i : i + graphs_per_batch]
            batch = Batch.from_data_list([self.inputs(g) for g in group])
            if batch.num_edges == 0:
                out += [np.zeros(0, np.float32) for _ in group]
                continue
            s = to_numpy(torch.sigmoid(self._logits(batch)))
            out += np.split(s, np.cumsum([g.n_edges for g in group])[:-1])
        return out

    def scores_mc(
        self, graph: Graph, n_samples: int, *, rate: float | None = None, seed: int = 0
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """MC-dropout edge probabilities: mean and standard deviation over ``n_samples``.

        ``rate`` None samples with the model's own dropout (a model trained
        without dropout raises :class:`~tracklearn.errors.ConfigError`); see
        :func:`tracklearn.models.mc_dropout.mc_dropout`.  The inputs are
        transformed once, not per sample.  Shapes: (E,), (E,).
        """
        from tracklearn.models.mc_dropout import mc_dropout

        if graph.n_edges == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        data = self.inputs(graph)
        mean, std = mc_dropout(
            self.module,
            lambda: torch.sigmoid(self._logits(data)),
            n_samples,
            rate=rate,
            seed=seed,
        )
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
