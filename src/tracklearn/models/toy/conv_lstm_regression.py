"""Conv + LSTM end to end: detector image → up to K track parameters with covariances.

The convolutional encoder summarises the image; an LSTM unrolled for ``K``
steps (the encoding as input at every step) emits one track per step: a mean
``f`` (2 parameters) and a lower-triangular Cholesky factor ``Lc`` of its
covariance ``Σ = Lc Lcᵀ``.  The diagonal of ``Lc`` is ``softplus(·) + σ_min``:
positive, linear for large values and without the overflow of ``exp``.
Training minimises the Gaussian negative log-likelihood (:func:`gaussian_nll`).
The means and the covariance come from separate linear heads on the LSTM
output (``mean_head``, ``cov_head``), so that the covariance can be trained on
its own once the means have converged (``training.toy.train_regression``,
``cov_epochs``).  ``dropout > 0`` adds dropout on the image encoding and the
LSTM output, for MC dropout (:mod:`tracklearn.models.mc_dropout`).

``sigma_scale`` (a buffer, saved with the weights, 1 by default) multiplies
row ``i`` of ``Lc`` by ``s_i``, i.e. ``Σ → D Σ D`` with ``D = diag(s)``: the
per-parameter calibration that
:func:`tracklearn.training.toy.calibrate_regression` fits on a validation
set so that the pulls there have unit width.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from tracklearn.models.toy import register_toy_model

#: floor of the Cholesky diagonal [fraction of the detector width]
SIGMA_MIN = 1e-3


@register_toy_model("conv_lstm_regression")
class ConvLSTMRegressor(nn.Module):
    """Image → ``max_tracks`` × (mean, Cholesky factor).

    Shapes
    ------
    ``hits`` (B, L, C) → ``mean`` (B, K, 2), ``chol`` (B, K, 2, 2) (lower triangular).
    """

    sigma_scale: torch.Tensor  # (2,) calibration of the σ of (slope, intercept)

    def __init__(
        self,
        n_layers: int,
        pixels: tuple[int, ...],
        max_tracks: int = 4,
        channels: tuple[int, ...] = (8, 16),
        hidden: int = 64,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        nd = 1 + len(pixels)
        conv = {2: nn.Conv2d, 3: nn.Conv3d}[nd]
        pool = {2: nn.MaxPool2d, 3: nn.MaxPool3d}[nd]
        blocks: list[nn.Module] = []
        c_in, shape = 1, [n_layers, *pixels]
        for c in channels:
            blocks += [conv(c_in, c, 3, padding=1), nn.ReLU(), pool(2, ceil_mode=True)]
            c_in, shape = c, [math.ceil(s / 2) for s in shape]
        self.encoder = nn.Sequential(
            *blocks, nn.Flatten(), nn.Linear(c_in * math.prod(shape), hidden), nn.ReLU()
        )
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.lstm = nn.LSTM(hidden, hidden, batch_first=True)
        self.mean_head = nn.Linear(hidden, 2)
        self.cov_head = nn.Linear(hidden, 3)  # 2 diagonal + 1 off-diagonal Cholesky entries
        self.shape = (n_layers, *pixels)
        self.max_tracks = max_tracks
        self.register_buffer("sigma_scale", torch.ones(2))

    def features(self, hits: torch.Tensor) -> torch.Tensor:
        """LSTM output per track slot.  Shapes: (B, L, C) → (B, K, hidden)."""
        enc = self.drop(self.encoder(hits.reshape(hits.shape[0], 1, *self.shape)))
        h, _ = self.lstm(enc[:, None, :].expand(-1, self.max_tracks, -1))
        out: torch.Tensor = self.drop(h)
        return out

    def heads(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Means and Cholesky factors from :meth:`features`.  Shapes: (B, K, 2), (B, K, 2, 2)."""
        mean = self.mean_head(h)
        c = self.cov_head(h)
        diag = nn.functional.softplus(c[..., :2]) + SIGMA_MIN
        d0, d1 = diag[..., 0], diag[..., 1]
        zero = torch.zeros_like(d0)
        chol = torch.stack([torch.stack([d0, zero], -1), torch.stack([c[..., 2], d1], -1)], dim=-2)
        return mean, chol * self.sigma_scale[:, None]

    def forward(self, hits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.heads(self.features(hits))


def gaussian_nll(
    mean: torch.Tensor, chol: torch.Tensor, y: torch.Tensor, mask: torch.Tensor
) -> torch.Tensor:
    """Mean over real tracks of ``log|Σ| + (y − f)ᵀ Σ⁻¹ (y − f)`` with ``Σ = Lc Lcᵀ``.

    ``log|Σ| = 2 Σ log diag(Lc)`` and ``(y − f)ᵀ Σ⁻¹ (y − f) = |Lc⁻¹ (y − f)|²``
    (a triangular solve, no explicit inverse).

    Shapes: ``mean``, ``y`` (B, K, D); ``chol`` (B, K, D, D); ``mask`` (B, K) bool
    (False for padded slots).
    """
    r = (y - mean).unsqueeze(-1)
    z = torch.linalg.solve_triangular(chol, r, upper=False).squeeze(-1)
    logdet = 2 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
    nll = logdet + (z**2).sum(-1)
    m = mask.to(nll.dtype)
    return (nll * m).sum() / m.sum().clamp(min=1)


def pulls(mean: torch.Tensor, chol: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``(y − f) / σ`` per parameter, σ² the diagonal of ``Σ``.

    Shapes: as :func:`gaussian_nll`; returns (B, K, D).
    """
    sigma = torch.sqrt((chol**2).sum(-1))  # diag(Lc Lcᵀ)_i = Σ_j Lc_ij²
    return (y - mean) / sigma


def chi2_full(mean: torch.Tensor, chol: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``χ² = (y − f)ᵀ Σ⁻¹ (y − f)`` per track with the full covariance.

    Shapes: as :func:`gaussian_nll`; returns (B, K).  For calibrated
    covariances it follows χ² with ``D`` degrees of freedom.
    """
    r = (y - mean).unsqueeze(-1)
    z = torch.linalg.solve_triangular(chol, r, upper=False).squeeze(-1)
    out: torch.Tensor = (z**2).sum(-1)
    return out
