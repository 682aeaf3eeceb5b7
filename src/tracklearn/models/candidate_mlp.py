"""Classifier of seeds and track candidates of the full-spectrum tracker."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from tracklearn.fullspectrum.mlp import NumpyMLP
from tracklearn.models.registry import register_model


@register_model("candidate_mlp")
class CandidateMLP(nn.Module):
    """ReLU MLP from standardised per-object features to one logit.

    Plain linear layers (no normalisation layers) so that the trained network
    maps one to one onto :class:`~tracklearn.fullspectrum.mlp.NumpyMLP`, which
    reconstruction evaluates without torch.

    Parameters
    ----------
    n_features
        Number of input features F.
    hidden
        Widths of the hidden layers.
    mean, scale
        Input standardisation, shape (F,) each (stored as buffers).

    Shapes
    ------
    features (N, F) → logits (N,).
    """

    def __init__(
        self,
        n_features: int,
        hidden: tuple[int, ...] = (64, 64),
        mean: np.ndarray | None = None,
        scale: np.ndarray | None = None,
    ) -> None:
        super().__init__()
        self.register_buffer(
            "mean", torch.as_tensor(np.zeros(n_features) if mean is None else mean).float()
        )
        self.register_buffer(
            "scale", torch.as_tensor(np.ones(n_features) if scale is None else scale).float()
        )
        layers: list[nn.Module] = []
        width = n_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        mean: torch.Tensor = self.mean  # type: ignore[assignment]
        scale: torch.Tensor = self.scale  # type: ignore[assignment]
        out: torch.Tensor = self.net((features - mean) / scale).squeeze(-1)
        return out

    @classmethod
    def from_numpy(cls, net: NumpyMLP) -> CandidateMLP:
        """The torch network of a :class:`NumpyMLP` (for ONNX export), same outputs."""
        hidden = tuple(int(w.shape[1]) for w in net.weights[:-1])
        model = cls(len(net.feature_names), hidden, net.mean, net.scale)
        lin = [m for m in model.net if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for layer, w, b in zip(lin, net.weights, net.biases, strict=True):
                layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(w.T)))
                layer.bias.copy_(torch.from_numpy(b))
        return model.eval()

    def to_numpy(self, feature_names: tuple[str, ...]) -> NumpyMLP:
        """The same network as a :class:`NumpyMLP` (weights transposed to (in, out))."""
        lin = [m for m in self.net if isinstance(m, nn.Linear)]
        return NumpyMLP(
            [m.weight.detach().numpy().T.astype(np.float32).copy() for m in lin],
            [m.bias.detach().numpy().astype(np.float32).copy() for m in lin],
            self.mean.numpy().astype(np.float32).copy(),  # type: ignore[operator]
            self.scale.numpy().astype(np.float32).copy(),  # type: ignore[operator]
            feature_names,
        )
