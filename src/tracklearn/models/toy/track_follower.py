"""Track follower: a convolutional next-layer filter over the track found so far (ours).

On layer ``l`` every cell is scored from the track's cells on the previous
``history`` layers and the hits of layer ``l``, by a small convolution along
the pixel axes, so the same rule holds at every position (the HEP.TrkX
models have to learn each position separately).  The chosen cell is fed back
for the next layer: greedily at inference, the true cells in training
(teacher forcing: pass ``track``).  The seed layers are copied from the seed.
"""

from __future__ import annotations

import torch
from torch import nn

from tracklearn.models.toy import mask_to_hits, register_toy_model


@register_toy_model("track_follower")
class TrackFollower(nn.Module):
    """Convolutional next-layer filter, decoded layer by layer.

    Parameters
    ----------
    n_layers, pixels
        Layers ``L`` and the pixel grid of one layer (1-D or 2-D).
    history
        Previous track layers seen when scoring a layer.
    channels
        Width of the hidden convolutions.
    mask_hits
        Score only hit cells.
    beam
        Beam width at inference: keep the ``beam`` most probable partial
        tracks (sum of per-layer log-probabilities) instead of the single
        greedy one, so a wrong choice at an ambiguous layer can be undone by
        the layers after it.  The returned scores are the per-layer
        log-probabilities along the best track, its cells set to 0 (the top).

    Shapes
    ------
    ``hits``, ``seed`` (B, L, C); optional ``track`` (B, L, C) one-hot true
    cells (training) → logits (B, L, C).
    """

    teacher_forced = True

    def __init__(
        self,
        n_layers: int,
        pixels: tuple[int, ...],
        history: int = 9,
        channels: int = 16,
        mask_hits: bool = True,
        beam: int = 1,
    ) -> None:
        super().__init__()
        conv = {1: nn.Conv1d, 2: nn.Conv2d}[len(pixels)]
        # dilations 1, 2, 4, 8 with kernel 9: receptive field ±60 cells, enough to
        # see 9 layers back along the steepest toy2d track (5.6 cells per layer)
        blocks: list[nn.Module] = []
        c_in = history + 1
        for d in (1, 2, 4, 8):
            blocks += [conv(c_in, channels, 9, padding=4 * d, dilation=d), nn.ReLU()]
            c_in = channels
        self.net = nn.Sequential(*blocks, conv(channels, 1, 1))
        self.history = history
        self.pixels = pixels
        self.mask_hits = mask_hits
        self.beam = beam
        #: seed layers when known in advance (set for ONNX export, where the count
        #: cannot be read from the data); None = count the layers holding a seed
        self.n_seed_layers: int | None = None

    def _score(self, past: torch.Tensor, layer_hits: torch.Tensor) -> torch.Tensor:
        b = layer_hits.shape[0]  # not len(): a traced batch size stays symbolic
        x = torch.cat([past, layer_hits[:, None]], 1).reshape(b, self.history + 1, *self.pixels)
        return self.net(x).reshape(b, -1)

    def forward(
        self, hits: torch.Tensor, seed: torch.Tensor, track: torch.Tensor | None = None
    ) -> torch.Tensor:
        n_seed = self.n_seed_layers
        if n_seed is None:
            n_seed = int(seed.sum((0, 2)).gt(0).sum())  # layers holding a seed
        if track is None and self.beam > 1:
            return self._beam_search(hits, seed, n_seed)
        n_layers = hits.shape[1]
        # layers before the first are empty (zeros), so every layer sees `history` slots
        pad = [torch.zeros_like(seed[:, 0])] * self.history
        if track is not None:
            track = torch.cat([torch.stack(pad, 1), track], 1)
        chosen = pad + [seed[:, k] for k in range(n_seed)]
        scores = [10.0 * seed[:, k] for k in range(n_seed)]
        for layer in range(n_seed, n_layers):
            if track is not None:
                prev = track[:, layer : layer + self.history]
            else:
                prev = torch.stack(chosen[layer : layer + self.history], 1)
            s = self._score(prev, hits[:, layer])
            if self.mask_hits:
                s = s.masked_fill(hits[:, layer] <= 0, -1e4)
            scores.append(s)
            chosen.append(torch.nn.functional.one_hot(s.argmax(-1), s.shape[-1]).to(hits.dtype))
        logits = torch.stack(scores, 1)
        return mask_to_hits(logits, hits) if self.mask_hits else logits

    def _beam_search(self, hits: torch.Tensor, seed: torch.Tensor, n_seed: int) -> torch.Tensor:
        b, n_layers, n_cells = hits.shape
        w = self.beam
        # beams: (B, W, history) past cells as one-hot images, score (B, W), log-probs kept
        pad = torch.zeros(b, w, self.history, n_cells, dtype=hits.dtype)
        seeds = seed[:, :n_seed, None].expand(b, n_seed, w, n_cells).transpose(1, 2)
        past = torch.cat([pad, seeds], 2)  # (B, W, history + n_seed, C)
        score = torch.full((b, w), -1e9)
        score[:, 0] = 0.0  # one live beam at the start: the seed
        layer_scores: list[torch.Tensor] = []  # (B, W, C) log-probs of each layer
        for layer in range(n_seed, n_layers):
            prev = past[:, :, -self.history :].reshape(b * w, self.history, n_cells)
            cur = hits[:, layer, None].expand(b, w, n_cells).reshape(b * w, n_cells)
            s = self._score(prev, cur)
            if self.mask_hits:
                s = s.masked_fill(cur <= 0, -1e4)
            logp = torch.log_softmax(s, -1).reshape(b, w, n_cells)
            total = (score[:, :, None] + logp).reshape(b, w * n_cells)
            score, flat = total.topk(w, dim=-1)
            parent, cell = flat // n_cells, flat % n_cells
            rows = torch.arange(b)[:, None]
            chosen = torch.nn.functional.one_hot(cell, n_cells).to(hits.dtype)
            past = torch.cat([past[rows, parent], chosen[:, :, None]], 2)
            layer_scores = [ls[rows, parent] for ls in layer_scores] + [logp[rows, parent]]
        best = score.argmax(-1)
        rows1 = torch.arange(b)
        path = past[rows1, best, self.history :]  # (B, L, C) one-hot cells of the best track
        out = torch.stack([ls[rows1, best] for ls in layer_scores], 1)
        out = torch.cat([10.0 * seed[:, :n_seed], out.masked_fill(path[:, n_seed:] > 0, 0.0)], 1)
        return out
