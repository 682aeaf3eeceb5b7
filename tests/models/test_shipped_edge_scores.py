"""The shipped edge models score a fixed graph exactly as they did before the front-end
became a graph transform (issue 17): the numbers below were computed at 013cedf, when
every model's ``forward`` still computed its own input features."""

from __future__ import annotations

import numpy as np
import pytest
from tests.models._helix_graph import helix_graph

from tracklearn.datapaths import DEFAULT_MODEL
from tracklearn.models.edge_model import EdgeModel

#: edges whose scores are pinned (of 1025)
EDGES = [0, 100, 250, 500, 750, 1000]
#: per model folder: sum of the scores, sum of their squares, the scores of EDGES (013cedf)
BEFORE: dict[str, tuple[float, float, tuple[float, ...]]] = {
    "filter": (401.96013, 311.923581, (0.336726516, 0.0100057088, 0.00840438157,
                                       0.985951781, 0.197591096, 0.0455317646)),
    ".": (722.236263, 689.403632, (0.373054177, 0.00101930997, 0.00103294523,
                                   0.998457789, 0.997398138, 0.999008119)),
    "in_graphs": (610.619485, 580.112781, (0.641644061, 0.000607502472, 0.00049508363,
                                           0.984452248, 0.98762697, 0.992217183)),
}  # fmt: skip
#: MC dropout of the classifier (5 samples, rate 0.1, seed 3): mean, then spread (013cedf)
BEFORE_MC = {
    "mean": (712.89529, 665.572938, (0.244948089, 0.00118474429, 0.00163704285,
                                     0.994817793, 0.986109257, 0.999244034)),
    "std": (59.5959328, 13.8125369, (0.146221265, 0.000689926383, 0.00111587322,
                                     0.00470617646, 0.0184155889, 0.000292502984)),
}  # fmt: skip


def _check(scores: np.ndarray, want: tuple[float, float, tuple[float, ...]]) -> None:
    s = scores.astype(np.float64)
    assert s.shape == (1025,)
    np.testing.assert_allclose(s[EDGES], want[2], rtol=0, atol=1e-6)
    assert float(s.sum()) == pytest.approx(want[0], abs=1e-4)
    assert float((s * s).sum()) == pytest.approx(want[1], abs=1e-4)


@pytest.fixture(scope="module")
def graph():  # type: ignore[no-untyped-def]
    g = helix_graph()
    assert (g.n_nodes, g.n_edges) == (496, 1025)
    return g


@pytest.mark.parametrize("folder", sorted(BEFORE))
def test_shipped_models_score_as_before(folder: str, graph) -> None:  # type: ignore[no-untyped-def]
    if not (DEFAULT_MODEL / folder / "model.json").exists():
        pytest.skip(f"no shipped model {folder}")
    _check(EdgeModel.load(DEFAULT_MODEL / folder).scores(graph), BEFORE[folder])


def test_shipped_classifier_mc_dropout_as_before(graph) -> None:  # type: ignore[no-untyped-def]
    mean, std = EdgeModel.load(DEFAULT_MODEL).scores_mc(graph, 5, rate=0.1, seed=3)
    _check(mean, BEFORE_MC["mean"])
    _check(std, BEFORE_MC["std"])
