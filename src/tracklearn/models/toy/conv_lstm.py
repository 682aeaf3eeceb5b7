"""Convolutional LSTM over layers: our translation-equivariant seeded hit classifier.

The HEP.TrkX LSTMs read a layer as a flat vector, so they must learn every
pixel position separately.  Here the LSTM state is itself an image of the
layer (``hidden`` channels per cell) and the gates are convolutions along the
pixel axes (kernel wide enough for the steepest track's move per layer), so
what is learnt at one position holds at every position.  A forward and a
backward pass are combined by a 1×1 convolution into one score per cell.
"""

from __future__ import annotations

import torch
from torch import nn

from tracklearn.models.toy import mask_to_hits, register_toy_model


class _Cell(nn.Module):
    def __init__(self, c_in: int, hidden: int, kernel: int, nd: int) -> None:
        super().__init__()
        conv = {1: nn.Conv1d, 2: nn.Conv2d}[nd]
        self.gates = conv(c_in + hidden, 4 * hidden, kernel, padding=kernel // 2)
        self.hidden = hidden

    def forward(self, xs: list[torch.Tensor]) -> list[torch.Tensor]:
        b, spatial = xs[0].shape[0], xs[0].shape[2:]
        h = xs[0].new_zeros(b, self.hidden, *spatial)
        c = torch.zeros_like(h)
        out = []
        for x in xs:
            i, f, g, o = self.gates(torch.cat([x, h], 1)).chunk(4, dim=1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            out.append(h)
        return out


@register_toy_model("conv_lstm")
class ConvLSTMClassifier(nn.Module):
    """Bidirectional convolutional LSTM over layers, one score per cell.

    Parameters
    ----------
    n_layers, pixels
        Layers ``L`` and the pixel grid of one layer (1-D or 2-D).
    hidden
        State channels per cell.
    kernel
        Gate convolution width [pixels]; must exceed twice the largest track
        move per layer (toy2d: ≤ 50 / 9 ≈ 5.6 pixels, so 13).

    Shapes
    ------
    ``hits``, ``seed`` (B, L, C) with ``C = prod(pixels)`` → logits (B, L, C).
    """

    def __init__(
        self,
        n_layers: int,
        pixels: tuple[int, ...],
        hidden: int = 8,
        kernel: int = 13,
        mask_hits: bool = False,
    ) -> None:
        super().__init__()
        nd = len(pixels)
        self.fwd = _Cell(2, hidden, kernel, nd)
        self.bwd = _Cell(2 + hidden, hidden, kernel, nd)
        self.head = {1: nn.Conv1d, 2: nn.Conv2d}[nd](2 * hidden, 1, 1)
        self.pixels = pixels
        self.mask_hits = mask_hits

    def forward(self, hits: torch.Tensor, seed: torch.Tensor) -> torch.Tensor:
        b, n_layers, _ = hits.shape
        x = torch.stack([hits, seed], dim=2).reshape(b, n_layers, 2, *self.pixels)
        xs = list(x.unbind(1))
        f = self.fwd(xs)  # the backward pass also sees the forward state
        bwd = self.bwd([torch.cat([a, h], 1) for a, h in zip(xs, f, strict=True)][::-1])[::-1]
        logits = torch.stack(
            [self.head(torch.cat([a, c], 1)) for a, c in zip(f, bwd, strict=True)], dim=1
        ).reshape(hits.shape)
        return mask_to_hits(logits, hits) if self.mask_hits else logits
