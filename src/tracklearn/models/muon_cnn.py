"""CNN muon trigger: per-voxel segmentation of strip-chamber images.

The chamber image ``(L, P, S)`` (layers × partitions × strips, binary) is read
as an ``L``-channel picture of ``P × S`` pixels: every convolution sees all
layers at once, so a straight or gently bent line of fired strips across the
layers is a local pattern.  ``len(channels)`` convolutions of ``kernel``
(partitions × strips) with growing strip dilations widen the field of view
along the bending direction cheaply; a 1 × 1 convolution returns one logit per
layer and pixel.  The trigger marks the fired voxels whose probability is at
least the model's threshold (:func:`muon_voxels`).

Trained with the weighted binary cross-entropy of :func:`weighted_bce`
(``tracklearn train muon_cnn``, :mod:`tracklearn.training.muon`).
"""

from __future__ import annotations

import torch
from torch import nn

from tracklearn.errors import ConfigError
from tracklearn.models.registry import register_model


@register_model("muon_cnn")
class MuonCNN(nn.Module):
    """Segment chamber images: one logit per voxel (the muon's or not).

    Parameters
    ----------
    n_layers
        Chamber layers ``L`` (input and output channels).
    channels
        Width of every hidden convolution.
    kernel
        Kernel size (partitions, strips) of the hidden convolutions (odd).
    dilations
        Strip dilation of each hidden convolution (one per entry of ``channels``).

    Shapes
    ------
    x (B, L, P, S) float (0 or 1) → logits (B, L, P, S).
    """

    def __init__(
        self,
        n_layers: int = 6,
        channels: tuple[int, ...] = (16, 16, 16),
        kernel: tuple[int, int] = (3, 7),
        dilations: tuple[int, ...] = (1, 2, 4),
    ) -> None:
        super().__init__()
        if len(channels) != len(dilations) or not channels:
            raise ConfigError(f"muon_cnn: {len(channels)} channels but {len(dilations)} dilations")
        if kernel[0] % 2 == 0 or kernel[1] % 2 == 0:
            raise ConfigError(f"muon_cnn: kernel {tuple(kernel)} must be odd")
        layers: list[nn.Module] = []
        width = n_layers
        for c, d in zip(channels, dilations, strict=True):
            pad = (kernel[0] // 2, d * (kernel[1] // 2))
            k = (int(kernel[0]), int(kernel[1]))
            layers += [nn.Conv2d(width, c, k, padding=pad, dilation=(1, d)), nn.ReLU()]
            width = c
        layers.append(nn.Conv2d(width, n_layers, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.net(x)
        return out


def weighted_bce(
    logits: torch.Tensor, target: torch.Tensor, beta: float, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """Mean of ``−(β p log p̂ + (1 − p) log(1 − p̂))`` with ``p̂ = sigmoid(logits)``.

    Computed from the logits (``log p̂ = −softplus(−z)``, ``log(1 − p̂) =
    −softplus(z)``) so it stays finite for confident predictions.  With
    ``mask`` the mean runs over the voxels where it is true (the fired
    voxels: an unfired voxel is never the muon's).

    Shapes: ``logits``, ``target`` (and ``mask``) the same shape → scalar.

    >>> z = torch.tensor([0.0, 2.0]); p = torch.tensor([1.0, 0.0])
    >>> round(float(weighted_bce(z, p, beta=3.0)), 4)  # (3 ln 2 + ln(1 + e²)) / 2
    2.1041
    """
    nn_f = nn.functional
    loss = beta * target * nn_f.softplus(-logits) + (1 - target) * nn_f.softplus(logits)
    if mask is None:
        return loss.mean()
    m = mask.to(loss.dtype)
    return (loss * m).sum() / m.sum().clamp(min=1.0)
