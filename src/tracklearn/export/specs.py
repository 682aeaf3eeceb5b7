"""Export specs of every network tracklearn trains (see :mod:`tracklearn.export.spec`).

* edge models (``filter_mlp``, ``interaction_network``, ``edge_network``): the
  exported network is the model's ``forward``, which starts after the input
  front-end (a graph transform, :mod:`tracklearn.models.feature_transform`); the
  runtime computes the front-end in numpy (:mod:`tracklearn.export.edge_features`);
* the muon-trigger CNN (``muon_cnn``): images in, voxel logits out;
* the toy models (``toy_<name>`` for the seeded HEP.TrkX classifiers,
  ``toy_conv_lstm_regression``, ``g2_finder``): events in, per-layer scores out.

``meta`` (the unit's metadata, :class:`tracklearn.export.units.ExportUnit`)
carries what the model alone does not know: the image shape of the toys, the
number of seed layers.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

import numpy as np
from torch import nn

from tracklearn.export.spec import Arrays, ExportSpec, register_export_spec
from tracklearn.models._features import feature_dims
from tracklearn.models.toy import SEEDED_MODELS

# ---------------------------------------------------------------- edge models


def _edge_dims(module: nn.Module, meta: Mapping[str, Any]) -> tuple[int, int]:
    features = str(getattr(module, "features", "in_paper"))
    if features != "in_paper":
        return feature_dims(features)
    kwargs = meta.get("kwargs", {})
    return int(kwargs.get("node_dim", 3)), int(kwargs.get("edge_dim", 4))


def _edge_inputs(module: nn.Module, meta: Mapping[str, Any], size: int,
                 rng: np.random.Generator) -> Arrays:  # fmt: skip
    """A random graph of ``size`` nodes and ``4 · size`` edges (features after the front-end)."""
    f, d = _edge_dims(module, meta)
    n, e = max(size, 2), 4 * max(size, 2)
    return {
        "x": rng.normal(size=(n, f)).astype(np.float32),
        "edge_index": rng.integers(0, n, size=(2, e)).astype(np.int64),
        "edge_attr": rng.normal(size=(e, d)).astype(np.float32),
    }


for _name in ("filter_mlp", "interaction_network", "edge_network"):
    register_export_spec(
        _name,
        ExportSpec(
            input_names=("x", "edge_index", "edge_attr"),
            output_names=("logits",),
            dynamic_axes={
                "x": {0: "nodes"},
                "edge_index": {1: "edges"},
                "edge_attr": {0: "edges"},
                "logits": {0: "edges"},
            },
            example_inputs=_edge_inputs,
            front_end="edge",
            quantize_op_types=("MatMul", "Gemm"),
            keep_first_float=True,  # features of mixed scales (m, rad/m, flags, log distances)
        ),
    )

# ---------------------------------------------------------------- muon trigger


def _muon_inputs(module: nn.Module, meta: Mapping[str, Any], size: int,
                 rng: np.random.Generator) -> Arrays:  # fmt: skip
    """``size`` random chamber images with 0.5 % of the voxels fired."""
    shape = tuple(meta.get("image_shape", (6, 8, 384)))
    return {"hits": (rng.random((max(size, 1), *shape)) < 0.005).astype(np.float32)}


register_export_spec(
    "muon_cnn",
    ExportSpec(
        input_names=("hits",),
        output_names=("logits",),
        dynamic_axes={"hits": {0: "batch"}, "logits": {0: "batch"}},
        example_inputs=_muon_inputs,
        quantize_op_types=("Conv",),
    ),
)

# ---------------------------------------------------------------- fullspectrum classifiers


def _candidate_inputs(module: nn.Module, meta: Mapping[str, Any], size: int,
                      rng: np.random.Generator) -> Arrays:  # fmt: skip
    """``size`` feature rows spread like the training data (its mean and scale)."""
    mean = np.asarray(meta["mean"], np.float32)
    scale = np.asarray(meta["scale"], np.float32)
    x = mean + scale * rng.standard_normal((max(size, 1), len(mean))).astype(np.float32)
    return {"features": x.astype(np.float32)}


register_export_spec(
    "candidate_mlp",
    ExportSpec(
        input_names=("features",),
        output_names=("logits",),
        dynamic_axes={"features": {0: "batch"}, "logits": {0: "batch"}},
        example_inputs=_candidate_inputs,
        keep_first_float=True,  # features of mixed scales (mm, rad, counts)
    ),
)

# ---------------------------------------------------------------- toy models


def _toy_shape(meta: Mapping[str, Any]) -> tuple[int, int]:
    return int(meta["n_layers"]), int(np.prod(meta["pixels"]))


def _seeded_inputs(module: nn.Module, meta: Mapping[str, Any], size: int,
                   rng: np.random.Generator) -> Arrays:  # fmt: skip
    """Random events: 10 % of the cells fired, a one-cell seed on each seed layer."""
    n_layers, n_cells = _toy_shape(meta)
    b = max(size, 1)
    hits = (rng.random((b, n_layers, n_cells)) < 0.1).astype(np.float32)
    seed = np.zeros_like(hits)
    n_seed = int(meta.get("n_seed_layers", 1))
    cells = rng.integers(0, n_cells, size=(b, n_seed))
    seed[np.arange(b)[:, None], np.arange(n_seed)[None, :], cells] = 1.0
    hits[:, :n_seed] = np.maximum(hits[:, :n_seed], seed[:, :n_seed])
    return {"hits": hits, "seed": seed}


def _seeded_core(module: nn.Module, meta: Mapping[str, Any]) -> nn.Module:
    core = copy.deepcopy(module).eval()
    if hasattr(core, "n_seed_layers"):  # the track follower: a fixed count, not read from data
        core.n_seed_layers = int(meta.get("n_seed_layers", 1))  # type: ignore[assignment]
    return core


def _hits_inputs(module: nn.Module, meta: Mapping[str, Any], size: int,
                 rng: np.random.Generator) -> Arrays:  # fmt: skip
    n_layers, n_cells = _toy_shape(meta)
    return {"hits": (rng.random((max(size, 1), n_layers, n_cells)) < 0.1).astype(np.float32)}


def _g2_inputs(module: nn.Module, meta: Mapping[str, Any], size: int,
               rng: np.random.Generator) -> Arrays:  # fmt: skip
    shape = (max(size, 1), int(meta["n_layers"]), int(meta["n_straws"]))
    return {"occupancy": (rng.random(shape) < 0.1).astype(np.float32)}


_BATCH = {0: "batch"}
for _name in SEEDED_MODELS:
    register_export_spec(
        f"toy_{_name}",
        ExportSpec(
            input_names=("hits", "seed"),
            output_names=("logits",),
            dynamic_axes={"hits": _BATCH, "seed": _BATCH, "logits": _BATCH},
            example_inputs=_seeded_inputs,
            core=_seeded_core,
            quantize_op_types=("Conv", "MatMul", "Gemm"),
        ),
    )
register_export_spec(
    "toy_conv_lstm_regression",
    ExportSpec(
        input_names=("hits",),
        output_names=("mean", "chol"),
        dynamic_axes={"hits": _BATCH, "mean": _BATCH, "chol": _BATCH},
        example_inputs=_hits_inputs,
    ),
)
register_export_spec(
    "g2_finder",
    ExportSpec(
        input_names=("occupancy",),
        output_names=("logits",),
        dynamic_axes={"occupancy": _BATCH, "logits": _BATCH},
        example_inputs=_g2_inputs,
    ),
)
