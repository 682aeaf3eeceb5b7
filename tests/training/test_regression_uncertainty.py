"""The Gaussian-NLL covariance head: it learns known σ, and covariance-only epochs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from tracklearn.models.toy import build_toy_model
from tracklearn.models.toy.conv_lstm_regression import SIGMA_MIN, chi2_full, gaussian_nll
from tracklearn.simulation.toy import ToyConfig, generate_toy
from tracklearn.training.loop import TrainConfig
from tracklearn.training.toy import predict_regression_full, train_regression


class _Head(nn.Module):
    """x → mean (2) and a lower-triangular Cholesky factor (softplus diagonal), as the model."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(1, 16), nn.Tanh(), nn.Linear(16, 5))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(x)
        d = nn.functional.softplus(out[:, 2:4]) + SIGMA_MIN
        zero = torch.zeros_like(d[:, 0])
        chol = torch.stack(
            [torch.stack([d[:, 0], zero], -1), torch.stack([out[:, 4], d[:, 1]], -1)], -2
        )
        return out[:, :2], chol


def test_gaussian_nll_head_recovers_known_sigma_and_correlation() -> None:
    # y = (sin 3x, x²) + noise with σ1 = 0.05 + 0.2 x, σ2 = 0.1 and correlation 0.6
    rng = np.random.default_rng(0)
    n = 4000
    x = rng.uniform(0.0, 1.0, n)
    s1, s2, rho = 0.05 + 0.2 * x, np.full(n, 0.1), 0.6
    z1, z2 = rng.standard_normal((2, n))
    noise = np.stack([s1 * z1, s2 * (rho * z1 + np.sqrt(1 - rho**2) * z2)], 1)
    y = np.stack([np.sin(3 * x), x**2], 1) + noise
    xt = torch.tensor(x[:, None], dtype=torch.float32)
    yt = torch.tensor(y[:, None, :], dtype=torch.float32)
    mask = torch.ones(n, 1, dtype=torch.bool)
    torch.manual_seed(0)
    head = _Head()
    opt = torch.optim.Adam(head.parameters(), lr=2e-2)
    # at a constant rate σ oscillates by ±15 % (where it ends depended on the thread count)
    decay = torch.optim.lr_scheduler.MultiStepLR(opt, [300, 400], 0.2)
    losses = []
    for _ in range(500):
        opt.zero_grad()
        mean, chol = head(xt)
        loss = gaussian_nll(mean[:, None], chol[:, None], yt, mask)
        loss.backward()
        opt.step()
        decay.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0] - 3.0
    with torch.no_grad():
        mean, chol = head(torch.tensor([[0.25], [0.75]]))
        cov = (chol @ chol.transpose(-1, -2)).numpy()
    sig = np.sqrt(np.diagonal(cov, axis1=-2, axis2=-1))
    np.testing.assert_allclose(sig[:, 0], [0.05 + 0.2 * 0.25, 0.05 + 0.2 * 0.75], rtol=0.10)
    np.testing.assert_allclose(sig[:, 1], [0.1, 0.1], rtol=0.10)
    corr = cov[:, 0, 1] / (sig[:, 0] * sig[:, 1])
    np.testing.assert_allclose(corr, [rho, rho], atol=0.1)
    # the full-covariance χ² of the training data has the χ²(2) mean of 2
    with torch.no_grad():
        m, c = head(xt)
        chi2 = chi2_full(m[:, None], c[:, None], yt)
    assert float(chi2.mean()) == pytest.approx(2.0, rel=0.1)


def test_covariance_epochs_train_only_the_covariance_head(tmp_path: Path) -> None:
    cfg = ToyConfig(n_layers=6, n_background=0)
    train_set, val_set = generate_toy(256, 1, cfg), generate_toy(64, 2, cfg)
    torch.manual_seed(0)
    model = build_toy_model(
        "conv_lstm_regression", n_layers=6, pixels=(50,), max_tracks=1, channels=(4,), hidden=16
    )
    before = {k: v.clone() for k, v in model.state_dict().items()}
    hist = train_regression(
        model, train_set, val_set,
        TrainConfig(epochs=2, lr=5e-3, threads=1, patience=2), tmp_path,
        batch_size=32, cov_epochs=2,
    )  # fmt: skip
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed == {"cov_head.weight", "cov_head.bias"}
    assert all(p.requires_grad for p in model.parameters())  # unfrozen again
    loss = hist.column("val_loss")
    assert loss[-1] < loss[0]


def test_mc_dropout_regression_adds_the_spread_of_the_means(tmp_path: Path) -> None:
    cfg = ToyConfig(n_layers=6, n_background=1)
    sample = generate_toy(64, 3, cfg)
    torch.manual_seed(0)
    model = build_toy_model(
        "conv_lstm_regression", n_layers=6, pixels=(50,), max_tracks=2, channels=(4,),
        hidden=16, dropout=0.2,
    )  # fmt: skip
    plain = predict_regression_full(model, sample)
    mc = predict_regression_full(model, sample, mc_samples=10)
    assert plain["cov"].shape == mc["cov"].shape == (64, 2, 2, 2)
    np.testing.assert_allclose(mc["cov"], mc["cov_aleatoric"] + mc["cov_epistemic"])
    assert np.all(mc["spread"] > 0)
    # every total covariance is positive definite, and the epistemic part only adds
    assert np.all(np.linalg.eigvalsh(mc["cov"]) > 0)
    assert np.all(np.linalg.eigvalsh(mc["cov_epistemic"]) > -1e-12)
