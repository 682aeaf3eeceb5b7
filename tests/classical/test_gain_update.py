"""The one Kalman gain update shared by the fitter and the CKF, on a hand case."""

from __future__ import annotations

import numpy as np

from tracklearn.classical.kalman import gain_update


def test_gain_update_exact_on_a_diagonal_case() -> None:
    # P = diag(4, 4, 1, 1, 1), V = diag(4, 12): S = diag(8, 16), K = diag(1/2, 1/4) on (l0, l1)
    x = np.array([[1.0, 2.0, 0.1, 1.0, 0.5]])
    p = np.diag([4.0, 4.0, 1.0, 1.0, 1.0])[None]
    r = np.array([[2.0, -4.0]])
    s_inv = np.linalg.inv(p[:, :2, :2] + np.diag([4.0, 12.0])[None])
    xu, pu = gain_update(x, p, r, s_inv)
    np.testing.assert_allclose(xu, [[2.0, 1.0, 0.1, 1.0, 0.5]], rtol=0, atol=1e-15)
    np.testing.assert_allclose(pu[0], np.diag([2.0, 3.0, 1.0, 1.0, 1.0]), rtol=0, atol=1e-15)


def test_gain_update_correlated_state_moves_with_the_measurement() -> None:
    # cov(l0, φ) = 1: a residual in l0 pulls φ by K[φ, l0] r = (1 / (2 + 2)) * 4 = 1
    p = np.eye(5)
    p[0, 0] = 2.0
    p[0, 2] = p[2, 0] = 1.0
    s_inv = np.linalg.inv(p[None, :2, :2] + np.diag([2.0, 1.0])[None])
    xu, pu = gain_update(np.zeros((1, 5)), p[None], np.array([[4.0, 0.0]]), s_inv)
    np.testing.assert_allclose(xu[0], [2.0, 0.0, 1.0, 0.0, 0.0], atol=1e-15)
    assert pu[0, 2, 2] == 0.75  # 1 - 1·1/4
