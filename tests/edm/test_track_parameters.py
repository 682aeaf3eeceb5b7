"""TrackParameters: validation errors, derived quantities, attachment to TrackCandidates."""

from __future__ import annotations

import numpy as np
import pytest

from tracklearn.edm import TrackCandidates, TrackParameters
from tracklearn.errors import DataError


def make(m: int = 3, seed: int = 0, **over: object) -> TrackParameters:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(m, 5, 5))
    cov = a @ np.transpose(a, (0, 2, 1)) * 1e-4  # positive definite
    kw: dict[str, object] = {
        "track": np.arange(m),
        "d0": rng.normal(size=m),
        "z0": rng.normal(size=m),
        "phi": rng.uniform(-np.pi, np.pi, m),
        "theta": rng.uniform(0.1, 3.0, m),
        "qop": rng.choice([-1.0, 1.0], m) * rng.uniform(0.05, 1.0, m),
        "cov": cov,
        "chi2": rng.uniform(0, 20, m),
        "ndf": np.full(m, 15),
    }
    kw.update(over)
    return TrackParameters(**kw)  # type: ignore[arg-type]


def test_derived_quantities_by_hand() -> None:
    # θ = π/2 (η = 0), q/p = -0.1 e/GeV: pT = 10 GeV, charge -1; θ = 2 atan(e^-1): η = 1
    p = TrackParameters.from_arrays(
        [4, 7],
        [[0.0, 1.0, 0.5, np.pi / 2, -0.1], [0.0, 0.0, 0.0, 2 * np.arctan(np.exp(-1.0)), 0.5]],
        np.tile(np.eye(5) * 1e-4, (2, 1, 1)),
        [1.0, 2.0],
        [5, 7],
    )
    np.testing.assert_allclose(p.pt, [10.0, np.sin(2 * np.arctan(np.exp(-1.0))) / 0.5])
    np.testing.assert_allclose(p.eta, [0.0, 1.0], atol=1e-12)
    assert p.charge.tolist() == [-1, 1]
    np.testing.assert_allclose(p.sigma, 1e-2)
    assert p.vector.shape == (2, 5) and p.vector[0, 4] == -0.1


def test_nan_covariance_is_a_clear_error() -> None:
    p = make()
    cov = p.cov.copy()
    cov[1, 2, 3] = np.nan
    with pytest.raises(DataError, match=r"track parameters: covariance of track 1 has NaN"):
        make(cov=cov)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"d0": np.array([0.0, np.inf, 0.0])}, "d0 of track 1 is NaN or infinite"),
        ({"z0": np.zeros(2)}, r"z0 must have shape \(3,\)"),
        ({"cov": np.zeros((3, 4, 4))}, r"cov must have shape \(3, 5, 5\)"),
        ({"track": np.array([0, 1, 1])}, "more than one parameter row"),
        ({"track": np.array([0.0, 1.0, 2.0])}, "track must hold integers"),
        ({"theta": np.array([0.1, 3.5, 1.0])}, r"theta outside \[0, pi\]"),
        ({"qop": np.array([0.1, 0.0, 1.0])}, "qop is 0"),
        ({"ndf": np.array([1.0, 2.0, 3.0])}, "ndf must be integers"),
    ],
)
def test_bad_values_are_clear_errors(change: dict[str, object], message: str) -> None:
    with pytest.raises(DataError, match=message):
        make(**change)


def test_negative_variance_and_asymmetric_covariance_are_errors() -> None:
    cov = make().cov.copy()
    cov[2, 4, 4] = -1e-6
    with pytest.raises(DataError, match="track 2 has a negative variance"):
        make(cov=cov)
    cov = make().cov.copy()
    cov[0, 0, 1] += 0.1 * np.sqrt(cov[0, 0, 0] * cov[0, 1, 1])
    with pytest.raises(DataError, match="track 0 is not symmetric"):
        make(cov=cov)


def test_covariance_is_made_exactly_symmetric_and_read_only() -> None:
    cov = make().cov.copy()
    cov[0, 0, 1] *= 1 + 1e-12  # rounding-level asymmetry, as after J C Jᵀ
    p = make(cov=cov)
    assert np.array_equal(p.cov, np.transpose(p.cov, (0, 2, 1)))
    assert not p.cov.flags.writeable and not p.d0.flags.writeable


def test_track_candidates_carry_parameters_of_existing_tracks_only() -> None:
    tracks = TrackCandidates.from_labels([1, 1, 1, 2, 2, 2, 0])
    assert tracks.parameters is None
    with_p = tracks.with_parameters(make(2))
    assert with_p.parameters is not None and len(with_p.parameters) == 2
    assert np.array_equal(with_p.hit_index, tracks.hit_index)
    with pytest.raises(DataError, match="parameters refer to track 2 of 2"):
        tracks.with_parameters(make(3))


def test_take_and_empty() -> None:
    p = make(4)
    sub = p.take(np.array([3, 1]))
    assert sub.track.tolist() == [3, 1]
    np.testing.assert_array_equal(sub.cov[0], p.cov[3])
    assert len(TrackParameters.empty()) == 0
