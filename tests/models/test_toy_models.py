"""Every toy model trains a step with falling loss; the Gaussian NLL and pulls are exact."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from tracklearn.errors import UnknownNameError
from tracklearn.models.toy import (
    SEEDED_MODELS,
    available_toy_models,
    build_toy_model,
    mask_to_hits,
)
from tracklearn.models.toy.conv_lstm_regression import gaussian_nll, pulls
from tracklearn.simulation.g2 import G2Config, generate_islands
from tracklearn.simulation.toy import TOY3D, ToyConfig, generate_toy
from tracklearn.training.loop import TrainConfig
from tracklearn.training.toy import (
    _seeded_loss,
    calibrate_regression,
    predict_regression,
    regression_targets,
    seeded_model,
    train_regression,
)


def _falls(model: torch.nn.Module, loss_fn: Callable[[torch.nn.Module], torch.Tensor]) -> None:
    torch.manual_seed(0)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    before = loss_fn(model)
    opt.zero_grad()
    before.backward()
    opt.step()
    after = loss_fn(model)
    assert torch.isfinite(before) and float(after.detach()) < float(before.detach())


@pytest.mark.parametrize("name", SEEDED_MODELS)
@pytest.mark.parametrize(
    "cfg",
    [ToyConfig(noise_prob=0.1, n_background=1), TOY3D.model_copy(update={"noise_prob": 0.02})],
    ids=["2d", "3d"],
)
def test_seeded_model_one_step_lowers_loss(name: str, cfg: ToyConfig) -> None:
    torch.manual_seed(1)
    s = generate_toy(8, 1, cfg)  # noise: a lone hit per layer would give loss 0
    model = seeded_model(name, s, mask_hits=True)
    h, sd, t = (torch.from_numpy(a) for a in (s.hits, s.seed, s.target))
    _falls(model, lambda m: _seeded_loss(m, h, sd, t, s.n_seed_layers))


def test_conv_autoencoder_seed_skip_sees_the_seed_at_full_resolution() -> None:
    torch.manual_seed(4)
    s = generate_toy(8, 4, ToyConfig(n_layers=20, n_seed_layers=5, n_background=2))
    model = seeded_model("conv_autoencoder", s, mask_hits=True, seed_skip=True)
    h, sd, t = (torch.from_numpy(a) for a in (s.hits, s.seed, s.target))
    _falls(model, lambda m: _seeded_loss(m, h, sd, t, s.n_seed_layers))
    # the bottleneck reads the pooled code (16 channels × 5 × 13) and the 20 × 50 seed image
    assert model.decoder[0].in_features == 16 * 5 * 13 + 20 * 50


@pytest.mark.parametrize("skips", [False, True], ids=["hep_trkx", "skips"])
@pytest.mark.parametrize(
    "cfg",
    [
        ToyConfig(n_layers=50, n_seed_layers=5, n_background=5, clean_seed_layers=True),
        TOY3D.model_copy(update={"noise_prob": 0.02}),
    ],
    ids=["2d_50x50", "3d"],
)
def test_conv_autoencoder_conv_decoder_one_step_lowers_loss(skips: bool, cfg: ToyConfig) -> None:
    torch.manual_seed(6)
    s = generate_toy(8, 6, cfg)
    model = seeded_model(
        "conv_autoencoder", s, mask_hits=True, channels=(8, 16, 32, 64), decoder="conv",
        skips=skips,
    )  # fmt: skip
    h, sd, t = (torch.from_numpy(a) for a in (s.hits, s.seed, s.target))
    assert model(h, sd).shape == h.shape  # odd sizes (50 → 25 → 13 → 7 → 4) come back exactly
    _falls(model, lambda m: _seeded_loss(m, h, sd, t, s.n_seed_layers))


def test_conv_autoencoder_conv_decoder_has_the_hep_trkx_layout() -> None:
    # HEP.TrkX build_convae_model: 3×3 convs 1→8→16→32→64, 64→64→32→16→8, 8→1 = 85 633
    # weights; ours reads 2 channels (hits, seed): 8 × 9 more in the first conv
    model = build_toy_model(
        "conv_autoencoder", n_layers=48, pixels=(48,), channels=(8, 16, 32, 64), decoder="conv"
    )
    assert sum(p.numel() for p in model.parameters()) == 85633 + 8 * 9
    with pytest.raises(ValueError, match="skips needs"):
        build_toy_model("conv_autoencoder", n_layers=10, pixels=(50,), skips=True)
    with pytest.raises(ValueError, match="decoder must be"):
        build_toy_model("conv_autoencoder", n_layers=10, pixels=(50,), decoder="deconv")


def test_regression_one_step_lowers_nll() -> None:
    torch.manual_seed(2)
    s = generate_toy(32, 2, ToyConfig(n_background=2))
    model = build_toy_model("conv_lstm_regression", n_layers=10, pixels=(50,), max_tracks=3)
    y_np, m_np = regression_targets(s, 3)
    x, y, m = torch.from_numpy(s.hits), torch.from_numpy(y_np).float(), torch.from_numpy(m_np)
    _falls(model, lambda mod: gaussian_nll(*mod(x), y, m))


def test_g2_finder_one_step_lowers_loss() -> None:
    torch.manual_seed(3)
    isl = generate_islands(2, 3, G2Config(tracks_per_fill=20))
    x, y = torch.from_numpy(isl.occupancy), torch.from_numpy(isl.labels(6))
    model = build_toy_model("g2_finder", n_straws=32, max_tracks=6, hidden=32)

    def loss(mod: torch.nn.Module) -> torch.Tensor:
        logits = mod(x)
        return torch.nn.functional.cross_entropy(
            logits.reshape(-1, 7), y.reshape(-1), ignore_index=-1
        )

    _falls(model, loss)


def test_gaussian_nll_and_pulls_by_hand() -> None:
    # Σ = diag(4, 1) (Cholesky diag(2, 1)), residual (2, 1): log|Σ| = log 4, r'Σ⁻¹r = 1 + 1
    mean = torch.zeros(1, 1, 2)
    chol = torch.tensor([[[[2.0, 0.0], [0.0, 1.0]]]])
    y = torch.tensor([[[2.0, 1.0]]])
    mask = torch.tensor([[True]])
    assert float(gaussian_nll(mean, chol, y, mask)) == pytest.approx(math.log(4) + 2)
    assert pulls(mean, chol, y).flatten().tolist() == pytest.approx([1.0, 1.0])
    # a correlated Σ = [[1, 0.5], [0.5, 1.25]] (Lc = [[1, 0], [0.5, 1]]), residual (1, 0)
    chol = torch.tensor([[[[1.0, 0.0], [0.5, 1.0]]]])
    sigma = np.array([[1.0, 0.5], [0.5, 1.25]])
    r = np.array([1.0, 0.0])
    want = math.log(np.linalg.det(sigma)) + r @ np.linalg.solve(sigma, r)
    got = gaussian_nll(mean, chol, torch.tensor([[[1.0, 0.0]]]), mask)
    assert float(got) == pytest.approx(want, rel=1e-6)
    # padded slots do not count
    two = gaussian_nll(
        torch.zeros(1, 2, 2), chol.expand(1, 2, 2, 2), torch.tensor([[[1.0, 0.0], [9.0, 9.0]]]),
        torch.tensor([[True, False]]),
    )  # fmt: skip
    assert float(two) == pytest.approx(want, rel=1e-6)


def test_calibration_gives_unit_pulls_on_its_validation_set() -> None:
    torch.manual_seed(5)
    val = generate_toy(64, 5, ToyConfig(n_background=1))
    model = build_toy_model("conv_lstm_regression", n_layers=10, pixels=(50,), max_tracks=2)
    _, sigma_raw, pull_raw, mask = predict_regression(model, val)
    scale = calibrate_regression(model, val)
    np.testing.assert_allclose(scale, pull_raw[mask].std(0), rtol=1e-5)
    _, sigma, pull, mask = predict_regression(model, val)
    np.testing.assert_allclose(pull[mask].std(0), 1.0, rtol=1e-4)
    np.testing.assert_allclose(sigma, sigma_raw * scale, rtol=1e-5)  # Σ → D Σ D
    # the scale is part of the saved weights
    assert torch.equal(model.state_dict()["sigma_scale"], torch.from_numpy(scale).float())


def test_mse_warmup_trains_the_means_only(tmp_path: Path) -> None:
    torch.manual_seed(6)
    s = generate_toy(64, 6, ToyConfig())
    model = build_toy_model("conv_lstm_regression", n_layers=10, pixels=(50,), max_tracks=1)
    mean_before = model.mean_head.weight.detach().clone()
    cov_before = model.cov_head.weight.detach().clone()
    cfg = TrainConfig(epochs=1, lr=1e-2, threads=1)
    train_regression(model, s, s, cfg, tmp_path, batch_size=16, warmup_epochs=1)
    assert not torch.equal(model.mean_head.weight, mean_before)  # the means moved
    assert torch.equal(model.cov_head.weight, cov_before)  # the Cholesky entries did not


def test_regression_targets_sorted_and_masked() -> None:
    s = generate_toy(20, 4, ToyConfig(n_background=2, poisson_background=True))
    y, m = regression_targets(s, 4)
    assert m.sum(1).tolist() == np.minimum(s.n_tracks, 4).tolist()
    for yi, mi in zip(y, m, strict=True):
        assert np.all(np.diff(yi[mi, 1]) >= 0)


def test_registry_and_hit_mask() -> None:
    assert set(SEEDED_MODELS) <= set(available_toy_models())
    with pytest.raises(UnknownNameError, match="bilstm"):
        build_toy_model("transformer")
    logits = torch.zeros(1, 1, 3)
    hits = torch.tensor([[[0.0, 1.0, 0.0]]])
    assert mask_to_hits(logits, hits).argmax(-1).item() == 1
