"""Calibration metrics on hand-made inputs with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from tracklearn.metrics.calibration import (
    apply_temperature,
    chi2_coverage,
    expected_calibration_error,
    fit_temperature,
    interval_coverage,
    logit,
    nll,
    pull_coverage_summary,
    reliability_curve,
)


def test_reliability_curve_hand_computed() -> None:
    # bin [0.1, 0.2): scores 0.15, 0.15, 0.15, 0.15 with 1 of 4 positive → gap |0.25 - 0.15|
    # bin [0.9, 1.0]: scores 0.9, 1.0 (1.0 falls in the last bin), both positive → gap 0.05
    p = [0.15, 0.15, 0.15, 0.15, 0.9, 1.0]
    y = [1, 0, 0, 0, 1, 1]
    c = reliability_curve(p, y, n_bins=10)
    assert c.count.tolist() == [0, 4, 0, 0, 0, 0, 0, 0, 0, 2]
    assert c.confidence[1] == pytest.approx(0.15)
    assert c.accuracy[1] == pytest.approx(0.25)
    assert c.confidence[9] == pytest.approx(0.95)
    assert c.accuracy[9] == 1.0
    assert np.isnan(c.accuracy[0])  # empty bins are NaN, not 0
    assert c.ece == pytest.approx((4 * 0.10 + 2 * 0.05) / 6)
    assert expected_calibration_error(p, y) == pytest.approx(c.ece)
    assert c.to_dict()["count"][1] == 4.0


def test_perfectly_calibrated_scores_have_zero_ece_and_empty_input_nan() -> None:
    # in each bin the fraction of positives equals the mean score exactly
    p = np.repeat([0.25, 0.75], 4)
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    assert expected_calibration_error(p, y) == 0.0
    assert np.isnan(expected_calibration_error([], []))


def test_bad_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="probabilities"):
        reliability_curve([1.2], [1])
    with pytest.raises(ValueError, match="0 or 1"):
        reliability_curve([0.5], [2])
    with pytest.raises(ValueError, match="labels"):
        reliability_curve([0.5, 0.5], [1])
    with pytest.raises(ValueError, match="both positive and negative"):
        fit_temperature([0.2, 0.7], [1, 1])
    with pytest.raises(ValueError, match="positive"):
        apply_temperature([0.5], 0.0)


def test_temperature_recovers_known_overconfidence() -> None:
    # labels drawn from σ(z): the scores σ(2z) are over-confident by exactly T = 2
    rng = np.random.default_rng(0)
    z = rng.normal(0.0, 2.0, 50_000)
    y = (rng.random(len(z)) < 1 / (1 + np.exp(-z))).astype(float)
    over = 1 / (1 + np.exp(-2 * z))
    t = fit_temperature(over, y)
    assert t == pytest.approx(2.0, rel=0.05)
    fixed = apply_temperature(over, t)
    assert expected_calibration_error(fixed, y) < 0.01 < expected_calibration_error(over, y)
    assert nll(fixed, y) < nll(over, y)
    # scaling keeps the ranking (scores clipped at 1 - 1e-7 tie) and σ(logit(p)) = p at T = 1
    assert np.all(np.diff(fixed[np.argsort(over)]) >= 0)
    np.testing.assert_allclose(apply_temperature(over, 1.0), over, atol=1e-6)
    assert logit([0.5])[0] == 0.0


def test_interval_coverage_known_values() -> None:
    assert interval_coverage([0.5, -0.5, 1.5, -2.5]) == {"0.68": 0.5, "0.95": 0.75}
    # exactly at the boundary counts as outside; NaN pulls are dropped
    assert interval_coverage([1.96, np.nan], levels=(0.95,)) == {"0.95": 0.0}
    rng = np.random.default_rng(1)
    cov = interval_coverage(rng.standard_normal(200_000))
    assert cov["0.68"] == pytest.approx(0.68, abs=0.005)
    assert cov["0.95"] == pytest.approx(0.95, abs=0.003)
    # too-small errors: pulls twice as wide cover much less
    wide = interval_coverage(2 * rng.standard_normal(200_000))
    assert wide["0.68"] == pytest.approx(0.383, abs=0.005)


def test_chi2_coverage_of_a_correlated_gaussian() -> None:
    rng = np.random.default_rng(2)
    cov = np.array([[1.0, 0.8], [0.8, 2.0]])
    r = rng.multivariate_normal([0, 0], cov, 100_000)
    chi2 = np.einsum("ni,ij,nj->n", r, np.linalg.inv(cov), r)
    got = chi2_coverage(chi2, dof=2)
    assert got["0.68"] == pytest.approx(0.68, abs=0.005)
    assert got["0.95"] == pytest.approx(0.95, abs=0.003)
    # ignoring the correlation (diagonal only) mis-states the coverage
    diag = np.sum(r**2 / np.diag(cov), axis=1)
    assert abs(chi2_coverage(diag, dof=2)["0.68"] - 0.68) > 0.02


def test_pull_coverage_summary() -> None:
    s = pull_coverage_summary(np.r_[np.linspace(-1, 1, 101), np.nan])
    assert s["n"] == 101 and s["mean"] == pytest.approx(0.0, abs=1e-12)
    assert s["width_68"] == pytest.approx(0.68)
    assert s["coverage_0.95"] == 1.0
    assert np.isnan(pull_coverage_summary([])["std"])
