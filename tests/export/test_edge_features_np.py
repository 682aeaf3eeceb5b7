"""The numpy front-end of the edge models equals the torch one (what the ONNX networks see)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tracklearn.export import edge_features as np_features
from tracklearn.export.edge_features import model_inputs_np
from tracklearn.models import _features as torch_features
from tracklearn.models._features import model_inputs


def _layered_graph(seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Hits on 5 radii (m) with edges between neighbouring layers and same-layer overlaps."""
    rng = np.random.default_rng(seed)
    r = np.repeat([0.03, 0.07, 0.12, 0.17, 0.26], 12)
    x = np.stack([r, rng.uniform(-0.3, 0.3, len(r)), rng.uniform(-1, 1, len(r))], 1)
    layer = np.repeat(np.arange(5), 12)
    pairs = [(i, j) for i in range(len(r)) for j in range(len(r))
             if layer[j] == layer[i] + 1 and rng.random() < 0.3]  # fmt: skip
    pairs += [(0, 1), (13, 14)]  # same-layer overlaps (|dr| < 5 mm)
    ei = np.array(pairs, dtype=np.int64).T
    d = x[ei[1]] - x[ei[0]]
    ea = np.stack([d[:, 0], d[:, 1], d[:, 2], np.hypot(d[:, 1], d[:, 2])], 1)
    return x.astype(np.float32), ei, ea.astype(np.float32)


@pytest.mark.parametrize("name", ["in_paper", "invariant", "invariant_ctx"])
@pytest.mark.parametrize("chunk", [None, 7])
def test_numpy_front_end_matches_torch(name: str, chunk: int | None,
                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    if chunk is not None:  # small pair chunks: the chunked search and its ties agree too
        monkeypatch.setattr(np_features, "_PAIR_CHUNK", chunk)
        monkeypatch.setattr(torch_features, "_PAIR_CHUNK", chunk)
    x, ei, ea = _layered_graph()
    xn, en = model_inputs_np(name, x, ei, ea)
    xt, et = model_inputs(name, torch.from_numpy(x), torch.from_numpy(ei), torch.from_numpy(ea))
    assert xn.dtype == np.float32 and en.shape == tuple(et.shape)
    assert np.abs(xn - xt.numpy()).max() == 0.0
    assert np.abs(en - et.numpy()).max() <= 1e-6
    if name == "invariant_ctx":
        assert en[:, 11].sum() > 10 and en[:, 15].sum() > 10  # continuations were found


def test_feature_constants_are_the_torch_ones() -> None:
    for key in ("FEATURE_SETS", "_SMALL_DR_M", "_SLOPE_SCALE", "_COT_SCALE", "_PAIR_CHUNK"):
        assert getattr(np_features, key) == getattr(torch_features, key)
