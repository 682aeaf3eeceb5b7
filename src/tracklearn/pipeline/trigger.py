"""Muon-trigger inference on chamber images (``tracklearn trigger``).

A trigger algorithm maps fired voxels ``(N, L, P, S)`` to the voxels it
assigns to the muon.  Registered algorithms:

* ``cnn``: the CNN of a model folder (default: the one shipped in
  ``tracklearn/models/muon_trigger``), with ``backend`` ``torch`` or
  ``onnxruntime`` (then the folder is an export, ``tracklearn export``, and
  torch is never imported; ``precision`` ``fp32`` or ``int8``);
* ``roads``: the pattern look-up baseline (:mod:`tracklearn.classical.muon_roads`).

:func:`run_trigger` writes ``trigger.npz`` (the assigned voxels, packed as the
images are: ``muon``, uint8 ``(N, L, P, S/8)``, plus ``shape``) and
``trigger-metrics.json`` (efficiency and fake rate per pT bin and overall,
:mod:`tracklearn.metrics.muon_trigger`, with the time per image).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.config import validate
from tracklearn.datapaths import DEFAULT_MUON_MODEL
from tracklearn.errors import UnknownNameError
from tracklearn.io.atomic import atomic_path, write_text_atomic
from tracklearn.metrics.muon_trigger import TriggerCounts, fake, matched, voxel_counts
from tracklearn.provenance import provenance
from tracklearn.simulation.muon_chamber import load_muon_images

TriggerFn = Callable[[npt.NDArray[np.bool_]], npt.NDArray[np.bool_]]

TRIGGER_METHODS = ("cnn", "roads")
#: images per call of the trigger in run_trigger
BATCH_IMAGES = 1000


class CNNTriggerConfig(BaseModel):
    """Settings of the ``cnn`` trigger."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str | None = None  # model folder (or export folder); None = the shipped one
    backend: Literal["torch", "onnxruntime"] = "torch"
    precision: Literal["fp32", "int8"] = "fp32"  # onnxruntime only
    threads: int = Field(2, ge=1)


def make_trigger(method: str, config: dict[str, Any] | None = None) -> TriggerFn:
    """The trigger algorithm ``method`` with ``config``; an unknown name lists the valid ones."""
    if method == "roads":
        from tracklearn.classical.muon_roads import RoadConfig, RoadTrigger

        return RoadTrigger(validate(RoadConfig, config, "roads config"))
    if method != "cnn":
        raise UnknownNameError("trigger method", method, list(TRIGGER_METHODS))
    cfg = validate(CNNTriggerConfig, config, "cnn trigger config")
    folder = Path(cfg.model) if cfg.model else DEFAULT_MUON_MODEL
    if cfg.backend == "onnxruntime":  # no torch import on this path
        from tracklearn.export.runtime import OrtMuonTrigger

        return OrtMuonTrigger.load(folder, cfg.precision, cfg.threads)
    import torch

    from tracklearn.models.muon_model import MuonCNNModel

    torch.set_num_threads(cfg.threads)
    return MuonCNNModel.load(folder)


def run_trigger(
    data: str | Path,
    out: str | Path,
    method: str = "cnn",
    config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run ``method`` on the images of ``data``; write the outputs of the module docstring.

    Returns the summary stored in ``trigger-metrics.json``.
    """
    trigger = make_trigger(method, config)
    images = load_muon_images(data)
    out = Path(out)
    counts = TriggerCounts()
    parts = []
    hit_m, fake_m = [], []
    t0 = time.perf_counter()
    for i in range(0, len(images), BATCH_IMAGES):
        hits, truth = images.hits[i : i + BATCH_IMAGES], images.truth[i : i + BATCH_IMAGES]
        pred = trigger(hits)
        parts.append(np.packbits(pred, axis=-1))
        tp, p, m = voxel_counts(pred, truth)
        pt = images.pt_gev[i : i + BATCH_IMAGES]
        counts.add(pt, tp, p, m)
        hit_m.append(matched(tp, p)[(pt >= 10.0) & (p > 0)])
        fake_m.append(fake(tp, m)[m > 0])
    seconds = time.perf_counter() - t0
    n = len(images)
    eff10, fakes = np.concatenate(hit_m), np.concatenate(fake_m)
    summary = {
        "method": method,
        "config": config or {},
        "n_images": n,
        "efficiency_pt10": float(eff10.mean()) if len(eff10) else float("nan"),
        "fake_rate": float(fakes.mean()) if len(fakes) else float("nan"),
        "seconds_per_image": seconds / max(n, 1),
        "bins": counts.rates(),
        "provenance": provenance(),
    }
    with atomic_path(out / "trigger.npz") as tmp, tmp.open("wb") as fh:
        np.savez_compressed(
            fh, muon=np.concatenate(parts), shape=np.asarray(images.hits.shape, np.int64)
        )
    write_text_atomic(out / "trigger-metrics.json", json.dumps(summary, indent=2) + "\n")
    return summary
