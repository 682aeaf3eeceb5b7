"""Kalman fit: exact on noiseless helices, unit pulls with scattering, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from tracklearn.classical.kalman import (
    FitError,
    KalmanConfig,
    KalmanFitter,
    TrackFit,
    hit_surfaces,
    local_position,
    module_surfaces,
)
from tracklearn.edm import Detector
from tracklearn.geometry.field import TRACKML_FIELD, UniformField
from tracklearn.geometry.helix import alpha_at_radius, helix_point, radius_of_curvature
from tracklearn.geometry.planar import ModuleLookup
from tracklearn.simulation.propagation import (
    MaterialConfig,
    PropagationConfig,
    StartState,
    propagate,
)

RADII = np.array([32.0, 72, 116, 172, 260, 360, 500, 660, 820, 1020])  # mm

# (pt [GeV], q, φ0, cot θ, z0 [mm], d0 [mm])
TRACKS = [
    (1.5, 1, 0.4, 0.3, 12.0, 0.05),
    (20.0, -1, -2.9, -1.5, -40.0, -0.5),
    (5.0, 1, 3.1, 0.0, 0.0, 0.0),
]


def helix_crossings(
    pt: float, q: float, phi0: float, cot: float, z0: float, d0: float
) -> np.ndarray:
    """Exact points of a uniform-field (2 T) helix at the barrel radii, shape (10, 3)."""
    radius = radius_of_curvature(pt, q, 2.0)
    h = -np.sign(q * 2.0)
    vx, vy = -d0 * np.sin(phi0), d0 * np.cos(phi0)  # the perigee point: d0 = PCA · (-sinφ, cosφ)
    pts = []
    for r in RADII:
        a = alpha_at_radius(
            r, np.array([vx]), np.array([vy]), np.array([phi0]), np.array([radius]), np.array([h])
        )
        pts.append(np.array(helix_point(a, vx, vy, z0, phi0, cot, radius, h)).ravel())
    return np.array(pts)


def truth_perigee(pt: float, q: float, phi0: float, cot: float, z0: float, d0: float) -> np.ndarray:
    theta = np.arctan2(1.0, cot)
    return np.array([d0, z0, phi0, theta, q * np.sin(theta) / pt])


def fit_points(xyz: np.ndarray, offsets: np.ndarray, field: object, **cfg: object) -> TrackFit:
    surf = hit_surfaces(xyz[:, 0], xyz[:, 1], xyz[:, 2], np.zeros(len(xyz), bool))
    meas = local_position(surf, xyz)
    cov = np.tile(np.diag([0.01**2, 0.05**2]), (len(xyz), 1, 1))
    return KalmanFitter(field, KalmanConfig(**cfg)).fit(meas, cov, surf, offsets)  # type: ignore[arg-type]


def test_noiseless_helices_are_recovered_to_numerical_precision() -> None:
    xyz = np.concatenate([helix_crossings(*t) for t in TRACKS])
    offsets = np.arange(0, len(xyz) + 1, len(RADII))
    fit = fit_points(xyz, offsets, UniformField(2.0), multiple_scattering=False)
    assert fit.ok.all()
    for t, per in zip(TRACKS, fit.perigee, strict=True):
        np.testing.assert_allclose(per, truth_perigee(*t), rtol=0, atol=1e-9)
    assert np.all(fit.chi2 < 1e-12)
    np.testing.assert_allclose(fit.pt, [t[0] for t in TRACKS], rtol=1e-10)
    np.testing.assert_array_equal(fit.charge, [t[1] for t in TRACKS])


@pytest.fixture(scope="module")
def trackml_lookup(shared_data: object) -> ModuleLookup:
    from tracklearn.io.trackml import load_detector

    return ModuleLookup.build(load_detector(None))


#: a fixed material budget (1.5–2 % X0 per module) for the pull test.  With the
#: data-tuned default (less pixel-barrel material) the θ pull is 1.18: open
#: question noted on issue 5.
MATERIAL = MaterialConfig(
    x0_mm={7: 10.0, 8: 10.0, 9: 10.0, 12: 12.5, 13: 12.5, 14: 12.5, 16: 17.5, 17: 17.5, 18: 17.5}
)


def simulated_muons(
    lookup: ModuleLookup, n: int, seed: int, scattering: bool
) -> tuple[np.ndarray, object, np.ndarray]:
    """Muons from the beamline through the TrackML detector in the fitted field map."""
    rng = np.random.default_rng(seed)
    pt = rng.uniform(2.0, 20.0, n)
    eta = rng.uniform(-2.5, 2.5, n)
    phi = rng.uniform(-np.pi, np.pi, n)
    q = rng.choice([-1.0, 1.0], n)
    z0 = rng.normal(0.0, 30.0, n)
    zeros = np.zeros(n)
    start = StartState(
        zeros,
        zeros,
        z0,
        pt * np.cos(phi),
        pt * np.sin(phi),
        pt * np.sinh(eta),
        q,
        np.full(n, 0.10566),
        np.zeros(n, bool),
    )
    cfg = PropagationConfig(
        step_mm=5.0, energy_loss=False, nuclear_interactions=False, multiple_scattering=scattering
    )
    crossings, _ = propagate(start, lookup, TRACKML_FIELD, rng, cfg, MATERIAL)
    theta = np.arctan2(1.0, np.sinh(eta))
    truth = np.stack([zeros, z0, phi, theta, q * np.sin(theta) / pt], axis=1)
    return truth, crossings, rng.standard_normal((len(crossings), 2))


def fit_crossings(
    lookup: ModuleLookup,
    truth: np.ndarray,
    crossings: object,
    noise: np.ndarray,
    smear: bool,
    config: KalmanConfig | None = None,
) -> tuple[TrackFit, np.ndarray]:
    det: Detector = lookup.detector
    cr = crossings
    n = len(truth)
    sig = np.stack([det.pitch_u[cr.module], det.pitch_v[cr.module]], axis=1) / np.sqrt(12.0)  # type: ignore[attr-defined]
    meas = cr.local[:, :2] + (noise * sig if smear else 0.0)  # type: ignore[attr-defined]
    cov = np.zeros((len(meas), 2, 2))
    cov[:, 0, 0], cov[:, 1, 1] = sig[:, 0] ** 2, sig[:, 1] ** 2
    counts = np.bincount(cr.particle, minlength=n)  # type: ignore[attr-defined]
    keep = counts >= 5
    rows = np.isin(cr.particle, np.flatnonzero(keep))  # type: ignore[attr-defined]
    offsets = np.r_[0, np.cumsum(counts[keep])]
    surf = module_surfaces(det, cr.module[rows], MATERIAL)  # type: ignore[attr-defined]
    cfg = (config or KalmanConfig()).model_copy(update={"material": MATERIAL})
    fit = KalmanFitter(TRACKML_FIELD, cfg).fit(meas[rows], cov[rows], surf, offsets)
    return fit, truth[keep]


def test_noiseless_tracks_in_the_field_map_are_recovered(trackml_lookup: ModuleLookup) -> None:
    truth, cr, noise = simulated_muons(trackml_lookup, 30, seed=5, scattering=False)
    # both sides treat the field piecewise (simulator: 5 mm steps); with 20 mm fit
    # steps the discretisations agree to ~1e-5 relative, far below the resolution
    cfg = KalmanConfig(step_mm=20.0, multiple_scattering=False)
    fit, truth = fit_crossings(trackml_lookup, truth, cr, noise, smear=False, config=cfg)
    assert fit.ok.all() and len(truth) > 20
    np.testing.assert_allclose(fit.perigee[:, 2:4], truth[:, 2:4], atol=5e-7)
    np.testing.assert_allclose(fit.perigee[:, :2], truth[:, :2], atol=1e-4)
    np.testing.assert_allclose(fit.perigee[:, 4], truth[:, 4], rtol=2e-5)


def test_pulls_have_unit_width_with_scattering(trackml_lookup: ModuleLookup) -> None:
    truth, cr, noise = simulated_muons(trackml_lookup, 400, seed=3, scattering=True)
    fit, truth = fit_crossings(trackml_lookup, truth, cr, noise, smear=True)
    assert fit.ok.mean() > 0.99
    d = truth[fit.ok] - fit.perigee[fit.ok]
    d[:, 2] = (d[:, 2] + np.pi) % (2 * np.pi) - np.pi
    pulls = d / np.sqrt(np.einsum("kii->ki", fit.perigee_cov[fit.ok]))
    # covariances are exactly symmetric (track-parameter files refuse others)
    cov = fit.perigee_cov[fit.ok]
    assert np.array_equal(cov, np.transpose(cov, (0, 2, 1)))
    np.testing.assert_allclose(pulls.std(axis=0), 1.0, atol=0.1)
    np.testing.assert_allclose(pulls.mean(axis=0), 0.0, atol=0.15)
    chi2_ndf = fit.chi2[fit.ok].sum() / fit.ndf[fit.ok].sum()
    assert chi2_ndf == pytest.approx(1.0, abs=0.1)


def test_fit_with_the_analytic_jacobian_matches_finite_differences(
    trackml_lookup: ModuleLookup, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the analytic transport Jacobian neglects the field gradient; in the fit that
    # moves the perigee by < 1e-2 of its errors (measured ≤ 5e-3 on 400 muons,
    # errors ≤ 2 % apart) against the finite-difference Jacobian it replaced
    from tests.classical._fd_transport import transport_fd

    import tracklearn.classical.kalman as kalman

    truth, cr, noise = simulated_muons(trackml_lookup, 100, seed=3, scattering=True)
    fit, _ = fit_crossings(trackml_lookup, truth, cr, noise, smear=True)
    monkeypatch.setattr(kalman, "transport", transport_fd)
    fit_fd, _ = fit_crossings(trackml_lookup, truth, cr, noise, smear=True)
    assert fit.ok.all() and fit_fd.ok.all()
    sigma_fd = np.sqrt(np.einsum("kii->ki", fit_fd.perigee_cov))
    sigma = np.sqrt(np.einsum("kii->ki", fit.perigee_cov))
    d = fit.perigee - fit_fd.perigee
    d[:, 2] = (d[:, 2] + np.pi) % (2 * np.pi) - np.pi
    assert np.abs(d / sigma_fd).max() < 0.02
    np.testing.assert_allclose(sigma, sigma_fd, rtol=0.05)


def test_fewer_than_three_hits_is_a_clear_error() -> None:
    xyz = helix_crossings(*TRACKS[0])[:2]
    with pytest.raises(FitError, match="track 0 has 2 hits"):
        fit_points(xyz, np.array([0, 2]), UniformField(2.0))


def test_nan_covariance_is_a_clear_error() -> None:
    xyz = helix_crossings(*TRACKS[0])
    surf = hit_surfaces(xyz[:, 0], xyz[:, 1], xyz[:, 2], np.zeros(len(xyz), bool))
    cov = np.tile(np.eye(2) * 1e-4, (len(xyz), 1, 1))
    cov[3, 0, 0] = np.nan
    with pytest.raises(FitError, match="covariance"):
        KalmanFitter(UniformField(2.0)).fit(
            local_position(surf, xyz), cov, surf, np.array([0, len(xyz)])
        )


def test_a_track_whose_transport_blows_up_is_flagged_not_fatal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # regression: a transport that blew up (a looper: Jacobian entries of ~1e8) gave a
    # numerically singular 2×2 innovation matrix, and np.linalg.inv stopped the fit of
    # every track in the batch (low-pT secondaries of simulated events as truth tracks)
    import tracklearn.classical.kalman as kalman

    real_transport = kalman.transport
    calls = []

    def blown_up(x, surf_from, surf_to, *args, **kwargs):  # type: ignore[no-untyped-def]
        out, jac, good = real_transport(x, surf_from, surf_to, *args, **kwargs)
        calls.append(len(out))
        if len(calls) == 1:  # the first transport of the first track fails
            jac = jac.copy()
            jac[0] = 1e9  # rank one and huge
        return out, jac, good

    monkeypatch.setattr(kalman, "transport", blown_up)
    xyz = np.concatenate([helix_crossings(*t) for t in TRACKS])
    offsets = np.arange(0, len(xyz) + 1, len(RADII))
    fit = fit_points(xyz, offsets, UniformField(2.0), multiple_scattering=False, iterations=1)
    assert not fit.ok[0]
    assert fit.ok[1:].all()
    np.testing.assert_allclose(fit.perigee[1], truth_perigee(*TRACKS[1]), atol=1e-6)
