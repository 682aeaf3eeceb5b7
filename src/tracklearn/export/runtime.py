"""Run exported networks with onnxruntime, without importing torch.

An exported unit folder (``tracklearn export``) holds ``model.onnx`` (fp32),
optionally ``model.int8.onnx`` and ``model.pruned.onnx``, the original
``model.json`` and ``export.json`` (inputs, outputs, front-end, files, the
checks made at export).  This module reads them with numpy and onnxruntime
only, so the ``onnxruntime`` backends of ``tracklearn reconstruct`` and
``tracklearn trigger`` run in a process where torch is never imported (a
test checks ``sys.modules``):

* :class:`OnnxNetwork`: one session, ``run({name: array}) -> [outputs]``;
* :class:`OrtEdgeModel`: the drop-in twin of
  :class:`~tracklearn.models.edge_model.EdgeModel` (``scores(graph)``,
  ``threshold``) with the numpy front-end of
  :mod:`tracklearn.export.edge_features`;
* :class:`OrtMuonTrigger`: the twin of
  :class:`~tracklearn.models.muon_model.MuonCNNModel` (``probabilities``, call).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Graph
from tracklearn.errors import ConfigError
from tracklearn.export.edge_features import model_inputs_np

EXPORT_FILE = "export.json"
#: file of each precision inside a unit folder
FILES = {"fp32": "model.onnx", "int8": "model.int8.onnx", "pruned": "model.pruned.onnx"}
Precision = Literal["fp32", "int8", "pruned"]
#: edges scored at once by a per-edge model (as EdgeModel.CHUNK_EDGES)
CHUNK_EDGES = 65_536
#: images per call in OrtMuonTrigger.probabilities
BATCH_IMAGES = 256


def make_session(path: str | Path, threads: int = 1) -> Any:
    """An onnxruntime CPU session of ``path`` with ``threads`` intra-op threads."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # errors only
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def read_export(folder: str | Path) -> dict[str, Any]:
    """``export.json`` of an exported unit folder; a clear error when it is missing."""
    path = Path(folder) / EXPORT_FILE
    if not path.exists():
        raise ConfigError(
            f"{Path(folder)}: no ONNX export here ({EXPORT_FILE} missing); make one with "
            f"tracklearn export MODEL_DIR --format onnx --out DIR"
        )
    out: dict[str, Any] = json.loads(path.read_text())
    return out


class OnnxNetwork:
    """One exported network of a unit folder at a given precision."""

    def __init__(self, folder: str | Path, precision: Precision = "fp32", threads: int = 1) -> None:
        self.folder = Path(folder)
        self.info = read_export(self.folder)
        name = self.info.get("files", {}).get(precision)
        if name is None or not (self.folder / name).exists():
            have = sorted(self.info.get("files", {}))
            hint = " (export with --int8)" if precision == "int8" else ""
            raise ConfigError(
                f"{self.folder}: no {precision} model in this export (has: {', '.join(have)}){hint}"
            )
        self.precision = precision
        self.session = make_session(self.folder / name, threads)
        self.input_names: list[str] = [i.name for i in self.session.get_inputs()]

    def run(self, inputs: Mapping[str, npt.NDArray[Any]]) -> list[npt.NDArray[Any]]:
        """Outputs of the network, in the order of ``export.json``'s ``outputs``."""
        out: list[npt.NDArray[Any]] = self.session.run(
            None, {k: inputs[k] for k in self.input_names}
        )
        return out


def _sigmoid(z: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    out: npt.NDArray[np.float32] = (0.5 * (1.0 + np.tanh(0.5 * z))).astype(np.float32)
    return out


@dataclass
class OrtEdgeModel:
    """An exported edge model with its threshold (the torch-free ``EdgeModel``).

    Attributes
    ----------
    network
        The exported network (inputs after the front-end).
    features
        Name of the numpy front-end (:func:`~tracklearn.export.edge_features.model_inputs_np`).
    threshold
        Edge-score cut chosen at training.
    per_edge
        Scores of one edge do not depend on the others: scored in chunks.
    """

    network: OnnxNetwork
    features: str
    threshold: float
    per_edge: bool

    @classmethod
    def load(
        cls, folder: str | Path, precision: Precision = "fp32", threads: int = 1
    ) -> OrtEdgeModel:
        """Read an exported edge-model unit folder."""
        net = OnnxNetwork(folder, precision, threads)
        info = net.info
        if info.get("front_end") != "edge":
            raise ConfigError(f"{folder}: {info.get('model')!r} is not an exported edge model")
        return cls(net, str(info["features"]), float(info["threshold"]), bool(info["per_edge"]))

    def _logits(self, x: npt.NDArray[Any], ei: npt.NDArray[np.int64],
                ea: npt.NDArray[Any]) -> npt.NDArray[np.float32]:  # fmt: skip
        """Logits of front-end outputs ``x``, ``ea``."""
        out = self.network.run({"x": x, "edge_index": ei, "edge_attr": ea})[0]
        return np.asarray(out, np.float32)

    def scores(self, graph: Graph) -> npt.NDArray[np.float32]:
        """Edge probabilities in [0, 1], shape (E,) (as ``EdgeModel.scores``)."""
        if graph.n_edges == 0:
            return np.zeros(0, np.float32)
        if graph.edge_attr is None:
            raise ConfigError(f"graph of event {graph.event_id}: edge_attr is needed by the models")
        ei = np.ascontiguousarray(graph.edge_index, np.int64)
        x = np.ascontiguousarray(graph.x, np.float32)
        ea = np.ascontiguousarray(graph.edge_attr, np.float32)
        # the front-end once on the whole graph, as the torch model's FeatureTransform
        xf, ef = model_inputs_np(self.features, x, ei, ea)
        if not self.per_edge:
            return _sigmoid(self._logits(xf, ei, ef))
        parts = [
            _sigmoid(self._logits(xf, ei[:, i : i + CHUNK_EDGES], ef[i : i + CHUNK_EDGES]))
            for i in range(0, graph.n_edges, CHUNK_EDGES)
        ]
        return np.concatenate(parts)


@dataclass
class OrtMuonTrigger:
    """An exported muon-trigger CNN with its threshold (the torch-free ``MuonCNNModel``)."""

    network: OnnxNetwork
    threshold: float

    @classmethod
    def load(
        cls, folder: str | Path, precision: Precision = "fp32", threads: int = 1
    ) -> OrtMuonTrigger:
        """Read an exported ``muon_cnn`` unit folder."""
        net = OnnxNetwork(folder, precision, threads)
        if net.info.get("model") != "muon_cnn":
            raise ConfigError(f"{folder}: {net.info.get('model')!r} is not an exported muon_cnn")
        return cls(net, float(net.info["threshold"]))

    def probabilities(self, hits: npt.NDArray[np.bool_]) -> npt.NDArray[np.float32]:
        """Per-voxel muon probability. Shapes: (N, L, P, S) bool → same, float32."""
        out = [
            _sigmoid(self.network.run({"hits": hits[i : i + BATCH_IMAGES].astype(np.float32)})[0])
            for i in range(0, len(hits), BATCH_IMAGES)
        ]
        return np.concatenate(out) if out else np.zeros(hits.shape, np.float32)

    def __call__(self, hits: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Voxels assigned to the muon: fired and probability ≥ threshold."""
        return (self.probabilities(hits) >= self.threshold) & hits
