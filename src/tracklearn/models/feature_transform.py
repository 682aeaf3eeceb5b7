"""An edge model's input front-end as a graph transform, applied once per graph.

The edge models (:mod:`~tracklearn.models.filter_mlp`,
:mod:`~tracklearn.models.interaction_network`, :mod:`~tracklearn.models.edge_network`)
take inputs that are already transformed: their ``forward`` never computes
features.  Each model records the name of its front-end in ``features`` (it is
saved in ``model.json``), so whoever feeds the model applies
``FeatureTransform.of(module)`` to a graph first, once: a training loop before
its epochs, inference before the model (and before every MC-dropout sample).
The maths is in :mod:`tracklearn.models._features` (its float32 numpy twin,
for the torch-free ONNX runtime, in :mod:`tracklearn.export.edge_features`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch_geometric.data import Data
from torch_geometric.transforms import BaseTransform

from tracklearn.models._features import feature_dims, model_inputs

__all__ = ["FeatureTransform"]


class FeatureTransform(BaseTransform):
    """Replace a graph's IN-paper features by the inputs of front-end ``name``.

    Like every torch-geometric transform it returns a new ``Data`` and leaves its
    input unchanged; ``edge_index``, ``y`` and anything else are shared, not copied.

    Parameters
    ----------
    name
        ``"in_paper"``, ``"invariant"`` or ``"invariant_ctx"`` (see
        :mod:`tracklearn.models._features`); an unknown name fails listing them.

    Shapes
    ------
    ``x`` (N, 3), ``edge_index`` (2, E), ``edge_attr`` (E, 4) →
    ``x`` (N, F'), ``edge_attr`` (E, D') with ``(F', D') = feature_dims(name)``.

    Examples
    --------
    >>> import torch
    >>> from torch_geometric.data import Data
    >>> g = Data(x=torch.tensor([[0.1, 0.0, 0.0], [0.2, 0.0, 0.1]]),
    ...          edge_index=torch.tensor([[0], [1]]),
    ...          edge_attr=torch.tensor([[0.1, 0.0, 0.1, 0.0]]))
    >>> t = FeatureTransform("invariant")(g)
    >>> tuple(t.x.shape), tuple(t.edge_attr.shape), tuple(g.x.shape)
    ((2, 2), (1, 8), (2, 3))
    """

    def __init__(self, name: str = "in_paper") -> None:
        feature_dims(name)  # an unknown name fails here, listing the valid ones
        self.name = name

    @classmethod
    def of(cls, module: torch.nn.Module) -> FeatureTransform:
        """The front-end an edge model was built for (its ``features``; default ``in_paper``)."""
        return cls(str(getattr(module, "features", "in_paper")))

    def forward(self, data: Any) -> Data:
        """Transform ``data`` (a shallow copy made by ``__call__``)."""
        data.x, data.edge_attr = model_inputs(self.name, data.x, data.edge_index, data.edge_attr)
        out: Data = data
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"
