"""Track following: extend seeds layer by layer along their local 3-hit helix.

From a seed's last three hits the follower takes the circle through them in
x-y and the slope dz/ds of the last two, finds where that helix next crosses
one of the layers that training particles reached next from the current layer
(the learned successor table), and picks the hit closest to the crossing
inside a window sized by the learned extrapolation errors (measurement, the
helix error that grows with the extrapolated distance, and multiple scattering
∝ distance / p).  Further hits on the same layer but another module (the
overlap duplicates a particle leaves where modules overlap) join the track.
The newest hit replaces the oldest of the three, so the helix follows the
falling field of the endcaps and the scattering of slow particles.  Following
stops after ``max_holes`` crossings inside active areas without a hit, after
half a turn, or when no successor layer is crossed.  Seeds are followed
outwards and then inwards (the same code on the reversed seed).
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np
import numpy.typing as npt

from tracklearn.fullspectrum.grid import HitGrid, cell_ranges
from tracklearn.fullspectrum.helix import arc_length, circle3, wrap
from tracklearn.fullspectrum.layers import LayerSurfaces
from tracklearn.typing import FloatArray, IntArray

#: most hits one track can hold
MAX_TRACK_HITS = 48

#: per-track statistics written by :func:`follow_seeds`, column order
TRACK_STATS: tuple[str, ...] = (
    "n_hits",
    "n_layers",
    "n_holes",  # crossings inside an active area without a hit
    "chi2_sum",  # Σ normalised squared residuals of the picked hits
    "chi2_max",
    "turn",  # |turning angle| covered [rad]
    "n_main",  # hits along the path; the overlap duplicates follow them in the hit list
)
N_TRACK_STATS = len(TRACK_STATS)


@nb.njit(cache=True, nogil=True, inline="always")
def _crossing(
    lay: int,
    px: float,
    py: float,
    pz: float,
    cx: float,
    cy: float,
    rho: float,
    sense: float,
    tz: float,
    barrel: npt.NDArray[np.bool_],
    position: FloatArray,
    t_min: FloatArray,
    t_max: FloatArray,
) -> tuple[float, float, float, float]:
    """(α, x, y, z) of the next crossing of layer ``lay`` along the helix, α = -1 if none.

    The helix starts at (px, py, pz), turns around (cx, cy) with radius ``rho``
    in the direction ``sense`` (+1 counter-clockwise) and climbs ``tz`` mm of z
    per mm of arc.  α is the turning angle [rad] to the crossing.
    """
    ax, ay = px - cx, py - cy
    a0 = math.atan2(ay, ax)
    if barrel[lay]:
        big_r = position[lay]
        d = math.hypot(cx, cy)
        if d < 1e-9 or d > rho + big_r or d < abs(rho - big_r):
            return -1.0, 0.0, 0.0, 0.0
        a = (big_r * big_r - rho * rho + d * d) / (2.0 * d)
        hh = big_r * big_r - a * a
        hc = math.sqrt(hh) if hh > 0.0 else 0.0
        ux, uy = cx / d, cy / d
        best = -1.0
        bx = 0.0
        by = 0.0
        for sgn in (-1.0, 1.0):
            qx = a * ux - sgn * hc * uy
            qy = a * uy + sgn * hc * ux
            ang = sense * (math.atan2(qy - cy, qx - cx) - a0)
            ang = ang % (2.0 * math.pi)
            if ang < 1e-7:
                ang += 2.0 * math.pi
            if best < 0.0 or ang < best:
                best, bx, by = ang, qx, qy
        zz = pz + tz * rho * best
        if zz < t_min[lay] or zz > t_max[lay]:
            return -1.0, 0.0, 0.0, 0.0
        return best, bx, by, zz
    zl = position[lay]
    if abs(tz) < 1e-9:
        return -1.0, 0.0, 0.0, 0.0
    ds = (zl - pz) / tz
    if ds <= 1e-6:
        return -1.0, 0.0, 0.0, 0.0
    ang = ds / rho
    if ang > math.pi:
        return -1.0, 0.0, 0.0, 0.0
    ca, sa = math.cos(sense * ang), math.sin(sense * ang)
    qx = cx + ca * ax - sa * ay
    qy = cy + sa * ax + ca * ay
    rr = math.hypot(qx, qy)
    if rr < t_min[lay] or rr > t_max[lay]:
        return -1.0, 0.0, 0.0, 0.0
    return ang, qx, qy, zl


@nb.njit(cache=True, nogil=True, inline="always")
def _helix_state(
    p1x: float, p1y: float, p2x: float, p2y: float, p2z: float, p3x: float, p3y: float, p3z: float
) -> tuple[float, float, float, float, float, float]:
    """(κ, cx, cy, ρ, sense, tz) of the local helix through three points (moving 1 → 2 → 3).

    Nearly straight triplets get a huge circle on the side they lean to.
    ``tz`` is the slope dz/ds of the last two points; ρ < 0 flags a degenerate state.
    """
    kap, cx, cy = circle3(p1x, p1y, p2x, p2y, p3x, p3y)
    ka = abs(kap)
    if ka < 1e-7:
        ka = 1e-7
        sgn = 1.0 if kap >= 0.0 else -1.0
        kap = sgn * ka
        nx, ny = -(p3y - p2y), (p3x - p2x)
        nn = math.hypot(nx, ny) + 1e-12
        cx = p3x + sgn * nx / nn / ka
        cy = p3y + sgn * ny / nn / ka
    rho = 1.0 / ka
    sense = 1.0 if kap > 0.0 else -1.0
    s23 = arc_length(ka, math.hypot(p3x - p2x, p3y - p2y))
    if s23 < 1e-6:
        return kap, cx, cy, -1.0, sense, 0.0
    return kap, cx, cy, rho, sense, (p3z - p2z) / s23


@nb.njit(cache=True, nogil=True, inline="always")
def _t_scale(is_barrel: bool, tz: float) -> float:
    """How the error along a layer grows with the track's slope dz/ds.

    On a barrel layer the z error is the arc-length error times sqrt(1 + tz²); on a
    disk the r error is the z-position error over the slope, sqrt(1 + 1/tz²).  The
    learned model describes the residual divided by this factor.
    """
    if is_barrel:
        return math.sqrt(1.0 + tz * tz)
    return math.sqrt(1.0 + 1.0 / max(tz * tz, 1e-4))


@nb.njit(cache=True, nogil=True, inline="always")
def _sigmas(
    src: int, lay: int, dist: float, p: float, tz: float, is_barrel: bool, sig: FloatArray
) -> tuple[float, float]:
    """Errors (r·φ, t) [mm] on layer ``lay`` extrapolated ``dist`` mm from a hit on ``src``.

    ``sig[src, lay, c]`` holds (a, b, c) of the learned model
    σ² = a + b·dist² + c·(dist/p)² for the coordinates c = 0 (r·φ) and 1 (t,
    divided by :func:`_t_scale`); p is the momentum [GeV].
    """
    u = dist * dist
    v = u / (p * p)
    s0 = math.sqrt(sig[src, lay, 0, 0] + sig[src, lay, 0, 1] * u + sig[src, lay, 0, 2] * v)
    s1 = math.sqrt(sig[src, lay, 1, 0] + sig[src, lay, 1, 1] * u + sig[src, lay, 1, 2] * v)
    return s0, s1 * _t_scale(is_barrel, tz)


@nb.njit(cache=True, nogil=True, inline="always")
def _residual(
    hx: float,
    hy: float,
    hz: float,
    is_barrel: bool,
    ex: float,
    ey: float,
    ez: float,
    tz: float,
    drds: float,
    dphids: float,
) -> tuple[float, float]:
    """Residual (r·φ, t) [mm] of a hit against the helix crossing (ex, ey, ez).

    The crossing is computed on the layer's nominal surface; the sensor of the
    hit sits slightly off it (staggered or flat modules), so the prediction is
    moved along the helix to the hit's own radius (barrel) or z (disk) first,
    to first order with the helix's dr/ds and dφ/ds at the crossing.
    """
    hr = math.hypot(hx, hy)
    er = math.hypot(ex, ey)
    if is_barrel:
        dsx = (hr - er) / drds if abs(drds) > 1e-3 else 0.0
    else:
        dsx = (hz - ez) / tz if abs(tz) > 1e-6 else 0.0
    phip = math.atan2(ey, ex) + dphids * dsx
    d_rphi = wrap(math.atan2(hy, hx) - phip) * hr
    if is_barrel:
        return d_rphi, hz - (ez + tz * dsx)
    return d_rphi, hr - (er + drds * dsx)


@nb.njit(cache=True, nogil=True, inline="always")
def _tangent(
    ex: float, ey: float, cx: float, cy: float, rho: float, sense: float
) -> tuple[float, float]:
    """dr/ds and dφ/ds [1/mm] of the helix at the point (ex, ey)."""
    dx = -sense * (ey - cy) / rho
    dy = sense * (ex - cx) / rho
    er2 = max(ex * ex + ey * ey, 1e-6)
    er = math.sqrt(er2)
    return (ex * dx + ey * dy) / er, (ex * dy - ey * dx) / er2


@nb.njit(cache=True, nogil=True)
def _follow_one(
    h1: int,
    h2: int,
    h3: int,
    out: IntArray,
    n_out: int,
    grid: HitGrid,
    surf: LayerSurfaces,
    used: npt.NDArray[np.bool_],
    succ_ptr: IntArray,
    succ: IntArray,
    sig: FloatArray,
    n_sigma: float,
    max_holes: int,
    trim_chi2: float,
    ranges: IntArray,
    stats: FloatArray,
) -> int:
    """Follow from hits h1 → h2 → h3 onwards; append picked hits to ``out``.

    When following stops on holes, a last picked hit with χ² above ``trim_chi2``
    is dropped: where a particle ends (it left the detector or stopped), the
    nearest hit of the next layer is usually someone else's.
    Returns the new length of ``out``; adds to ``stats`` (holes, χ², turn).
    """
    x, y, z, layer = grid.x, grid.y, grid.z, grid.layer
    barrel, position, depth = surf.barrel, surf.position, surf.depth
    t_min, t_max = surf.t_min, surf.t_max
    n_start = n_out
    p1x, p1y = x[h1], y[h1]
    p2x, p2y, p2z = x[h2], y[h2], z[h2]
    p3x, p3y, p3z = x[h3], y[h3], z[h3]
    cur_lay = layer[h3]
    h3_now = h3
    holes = 0
    turn = 0.0
    last_chi2 = 0.0
    stopped_on_holes = False
    # the current point: the last hit, or the crossing of the last missed layer
    qx, qy, qz = p3x, p3y, p3z
    # a track may turn back inwards (a looper) but never pass its point of closest
    # approach to the beam line and come out on the other side: once dr/ds < 0, it
    # must stay negative
    _k0, cx0, cy0, rho0, sense0, _tz0 = _helix_state(p1x, p1y, p2x, p2y, p2z, p3x, p3y, p3z)
    inwards = rho0 > 0.0 and _tangent(p3x, p3y, cx0, cy0, rho0, sense0)[0] < 0.0
    for _step in range(64):
        _kap, cx, cy, rho, sense, tz = _helix_state(p1x, p1y, p2x, p2y, p2z, p3x, p3y, p3z)
        if rho < 0.0:
            break
        # nearest crossing among the successor layers
        best_a = -1.0
        best_l = -1
        bx = 0.0
        by = 0.0
        bz = 0.0
        for k in range(succ_ptr[cur_lay], succ_ptr[cur_lay + 1]):
            lay = succ[k]
            a, ex, ey, ez = _crossing(lay, qx, qy, qz, cx, cy, rho, sense, tz,
                                      barrel, position, t_min, t_max)  # fmt: skip
            if a > 0.0 and (best_a < 0.0 or a < best_a):
                best_a, best_l, bx, by, bz = a, lay, ex, ey, ez
        if best_l < 0:
            break
        turn += best_a
        if turn > math.pi:
            break
        # distance from the last real hit, for the extrapolation error
        dist = best_a * rho + math.hypot(qx - p3x, qy - p3y)
        p = 0.6e-3 * rho * math.sqrt(1.0 + tz * tz)  # GeV at 2 T: an estimate is enough
        s_rphi, s_t = _sigmas(layer[h3_now], best_l, dist, p, tz, barrel[best_l], sig)
        drds, dphids = _tangent(bx, by, cx, cy, rho, sense)
        if drds < 0.0:
            inwards = True
        elif inwards:
            break
        is_b = barrel[best_l]
        br = math.hypot(bx, by)
        bphi = math.atan2(by, bx)
        # the window covers the sensors' offsets from the nominal surface too
        if is_b:
            dsx = depth[best_l] / max(abs(drds), 0.05)
            w_t = n_sigma * s_t + abs(tz) * dsx
        else:
            dsx = depth[best_l] / max(abs(tz), 0.05)
            w_t = n_sigma * s_t + abs(drds) * dsx
        w_phi = (n_sigma * s_rphi) / max(br, 1.0) + abs(dphids) * dsx
        t_pred = bz if is_b else br
        nr = cell_ranges(best_l, bphi - w_phi, bphi + w_phi, t_pred - w_t, t_pred + w_t,
                         grid, ranges)  # fmt: skip
        best_h = -1
        best_c = 1e30
        for q in range(nr):
            for h in range(ranges[q, 0], ranges[q, 1]):
                if used[h]:
                    continue
                du, dt = _residual(x[h], y[h], z[h], is_b, bx, by, bz, tz, drds, dphids)
                c2 = (du / s_rphi) ** 2 + (dt / s_t) ** 2
                if c2 < best_c:
                    best_c, best_h = c2, h
        if best_h < 0 or best_c > n_sigma * n_sigma:
            inside = (t_pred > t_min[best_l] + 5.0) and (t_pred < t_max[best_l] - 5.0)
            if inside:
                holes += 1
                if holes > max_holes:
                    stopped_on_holes = True
                    break
            qx, qy, qz = bx, by, bz
            cur_lay = best_l
            continue
        if n_out >= out.shape[0]:
            break
        out[n_out] = best_h
        n_out += 1
        last_chi2 = best_c
        stats[3] += best_c
        stats[4] = max(stats[4], best_c)
        p1x, p1y = p2x, p2y
        p2x, p2y, p2z = p3x, p3y, p3z
        p3x, p3y, p3z = x[best_h], y[best_h], z[best_h]
        h3_now = best_h
        qx, qy, qz = p3x, p3y, p3z
        cur_lay = best_l
    if stopped_on_holes and n_out > n_start and last_chi2 > trim_chi2:
        n_out -= 1
        stats[3] -= last_chi2
    stats[2] += holes
    stats[5] += turn
    return n_out


@nb.njit(cache=True, nogil=True)
def truth_residuals(
    chains: IntArray,
    x: FloatArray,
    y: FloatArray,
    z: FloatArray,
    layer: npt.NDArray[np.int32],
    barrel: npt.NDArray[np.bool_],
    position: FloatArray,
    t_min: FloatArray,
    t_max: FloatArray,
) -> FloatArray:
    """Residuals of the 4th hit of true 4-hit chains against the follower's prediction.

    Parameters
    ----------
    chains : int64, shape (K, 4)
        Hit rows of one particle on four consecutive distinct layers, in order.

    Returns
    -------
    float64, shape (K, 7)
        Layer of the 4th hit, distance extrapolated [mm], momentum estimate [GeV],
        residuals r·φ and t [mm] (t divided by :func:`_t_scale`), the slope dz/ds and
        the layer of the 3rd hit; rows whose layer is not crossed hold NaN residuals.
    """
    res = np.full((chains.shape[0], 7), np.nan)
    for k in range(chains.shape[0]):
        h1, h2, h3, h4 = chains[k, 0], chains[k, 1], chains[k, 2], chains[k, 3]
        _kap, cx, cy, rho, sense, tz = _helix_state(
            x[h1], y[h1], x[h2], y[h2], z[h2], x[h3], y[h3], z[h3]
        )
        lay = layer[h4]
        res[k, 0] = lay
        res[k, 6] = layer[h3]
        if rho < 0.0:
            continue
        a, ex, ey, ez = _crossing(lay, x[h3], y[h3], z[h3], cx, cy, rho, sense, tz,
                                  barrel, position, t_min - 50.0, t_max + 50.0)  # fmt: skip
        if a < 0.0:
            continue
        drds, dphids = _tangent(ex, ey, cx, cy, rho, sense)
        du, dt = _residual(x[h4], y[h4], z[h4], barrel[lay], ex, ey, ez, tz, drds, dphids)
        res[k, 1] = a * rho
        res[k, 2] = 0.6e-3 * rho * math.sqrt(1.0 + tz * tz)
        res[k, 3] = du
        res[k, 4] = dt / _t_scale(barrel[lay], tz)
        res[k, 5] = tz
    return res


@nb.njit(cache=True, nogil=True)
def follow_seeds(
    seeds: IntArray,
    grid: HitGrid,
    surf: LayerSurfaces,
    used: npt.NDArray[np.bool_],
    out_ptr: IntArray,
    out_lay: IntArray,
    in_ptr: IntArray,
    in_lay: IntArray,
    sigma: FloatArray,
    n_sigma: float,
    max_holes: int,
    trim_chi2: float,
    sig_dup: FloatArray,
    n_sigma_dup: float,
    skip_contained: bool = True,
) -> tuple[IntArray, FloatArray]:
    """Follow every seed outwards then inwards, then add the overlap duplicates.

    With ``skip_contained``, a seed whose three hits all lie on one candidate
    followed earlier (seeds come best first) is not followed again: it would
    rebuild that candidate (another seed of the same particle).  Its row stays
    empty (``n_hits`` 0).

    Parameters
    ----------
    seeds : int64, shape (S, 3)
        Sorted-hit indices, inner to outer.
    out_ptr, out_lay, in_ptr, in_lay
        CSR successor tables: the layers particles reach next from each layer,
        going outwards (``out``) and inwards (``in``).
    sigma : float64, shape (2, L, L, 2, 3)
        Extrapolation error models outwards and inwards (:func:`_sigmas`).

    Returns
    -------
    hits : int64, shape (S, MAX_TRACK_HITS)
        Hits of each candidate from its inner to its outer end, -1 padded.
    stats : float64, shape (S, N_TRACK_STATS), columns :data:`TRACK_STATS`
    """
    x, layer = grid.x, grid.layer
    n_seeds = seeds.shape[0]
    hits = np.full((n_seeds, MAX_TRACK_HITS), -1, np.int64)
    stats = np.zeros((n_seeds, N_TRACK_STATS), np.float64)
    ranges = np.empty((512, 2), np.int64)
    fwd = np.empty(MAX_TRACK_HITS, np.int64)
    dranges = np.empty((256, 2), np.int64)
    # hits consumed by earlier passes count as taken for the duplicate search
    no_owner = np.where(used, 0, -1).astype(np.int64)
    bwd = np.empty(MAX_TRACK_HITS, np.int64)
    claimed = np.full(len(x), -1, np.int64)
    for s in range(n_seeds):
        a, b, c = seeds[s, 0], seeds[s, 1], seeds[s, 2]
        if skip_contained and claimed[a] >= 0 and claimed[a] == claimed[b] == claimed[c]:
            continue
        st = stats[s]
        nf = _follow_one(a, b, c, fwd, 0, grid, surf, used, out_ptr, out_lay,
                         sigma[0], n_sigma, max_holes, trim_chi2, ranges, st)  # fmt: skip
        nb_ = _follow_one(c, b, a, bwd, 0, grid, surf, used, in_ptr, in_lay,
                          sigma[1], n_sigma, max_holes, trim_chi2, ranges, st)  # fmt: skip
        k = 0
        for j in range(nb_ - 1, -1, -1):
            if k < MAX_TRACK_HITS:
                hits[s, k] = bwd[j]
                k += 1
        for h in (a, b, c):
            if k < MAX_TRACK_HITS:
                hits[s, k] = h
                k += 1
        for j in range(nf):
            if k < MAX_TRACK_HITS:
                hits[s, k] = fwd[j]
                k += 1
        # overlap duplicates of every hit (not of the ones just added)
        n_main = k
        st[6] = n_main
        for j in range(n_main):
            for _rep in range(2):  # up to three hits of one particle on one layer
                if k >= MAX_TRACK_HITS:
                    break
                d = _best_duplicate(hits[s], n_main, k, j, no_owner, grid, surf, sig_dup,
                                    n_sigma_dup, dranges)  # fmt: skip
                if d < 0:
                    break
                hits[s, k] = d
                k += 1
        st[0] = k
        if skip_contained:
            for j in range(k):
                claimed[hits[s, j]] = s
        # distinct layers
        nl = 0
        for j in range(k):
            first = True
            for jj in range(j):
                if layer[hits[s, jj]] == layer[hits[s, j]]:
                    first = False
                    break
            if first:
                nl += 1
        st[1] = nl
    return hits, stats


@nb.njit(cache=True, nogil=True, inline="always")
def _local_helix_at(
    a: int, b: int, c: int, at: int, x: FloatArray, y: FloatArray, z: FloatArray
) -> tuple[float, float, float, bool]:
    """(tz, dr/ds, dφ/ds, ok) of the helix through hits a → b → c, at hit ``at``.

    ``at`` is one of the three hits; tz is the slope dz/ds from a to c.
    """
    kap, cx, cy = circle3(x[a], y[a], x[b], y[b], x[c], y[c])
    ka = abs(kap)
    s_ac = arc_length(ka, math.hypot(x[c] - x[a], y[c] - y[a]))
    if s_ac < 1e-6:
        return 0.0, 0.0, 0.0, False
    tz = (z[c] - z[a]) / s_ac
    er2 = max(x[at] * x[at] + y[at] * y[at], 1e-6)
    if ka < 1e-7:
        # straight: the tangent is the chord direction
        dx, dy = (x[c] - x[a]) / s_ac, (y[c] - y[a]) / s_ac
        return tz, (x[at] * dx + y[at] * dy) / math.sqrt(er2), (x[at] * dy - y[at] * dx) / er2, True
    drds, dphids = _tangent(x[at], y[at], cx, cy, 1.0 / ka, 1.0 if kap > 0.0 else -1.0)
    return tz, drds, dphids, True


@nb.njit(cache=True, nogil=True, inline="always")
def _neighbours(j: int, n: int) -> tuple[int, int, int]:
    """Positions (a, b, c) of three consecutive track hits around position j (0 ≤ j < n, n ≥ 3)."""
    if j == 0:
        return 0, 1, 2
    if j == n - 1:
        return n - 3, n - 2, n - 1
    return j - 1, j, j + 1


@nb.njit(cache=True, nogil=True)
def _best_duplicate(
    lst: IntArray,
    n_order: int,
    n: int,
    j: int,
    taken: IntArray,
    grid: HitGrid,
    surf: LayerSurfaces,
    sig_dup: FloatArray,
    n_sigma: float,
    ranges: IntArray,
) -> int:
    """The best overlap hit next to hit ``lst[j]`` of a track ``lst[:n]``, or -1.

    ``lst[:n_order]`` (n_order ≥ 3) are the track's hits in order along it (their
    neighbours define the local helix); ``lst[n_order:n]`` are duplicates added already.
    The helix through the hit and its neighbours on the track is moved to each
    hit of the same layer on another module near it that is not ``taken``
    (``taken[h] >= 0``) and not on a module the track already holds on that layer;
    the hit with the smallest residual within ``n_sigma`` of the learned spread
    ``sig_dup[layer]`` (r·φ, t) [mm] wins.
    """
    x, y, z, phi = grid.x, grid.y, grid.z, grid.phi
    layer, module = grid.layer, grid.module
    barrel, depth = surf.barrel, surf.depth
    ja, jb, jc = _neighbours(j, n_order)
    b = lst[j]
    tz, drds, dphids, ok = _local_helix_at(lst[ja], lst[jb], lst[jc], b, x, y, z)
    if not ok:
        return -1
    lay = layer[b]
    is_b = barrel[lay]
    br = math.hypot(x[b], y[b])
    if is_b:
        dsx = depth[lay] / max(abs(drds), 0.05)
        w_t = n_sigma * sig_dup[lay, 1] + abs(tz) * dsx
    else:
        dsx = depth[lay] / max(abs(tz), 0.05)
        w_t = n_sigma * sig_dup[lay, 1] + abs(drds) * dsx
    w_phi = n_sigma * sig_dup[lay, 0] / max(br, 1.0) + abs(dphids) * dsx
    t_b = z[b] if is_b else br
    nr = cell_ranges(lay, phi[b] - w_phi, phi[b] + w_phi, t_b - w_t, t_b + w_t, grid, ranges)
    best_h = -1
    best_c = n_sigma * n_sigma
    for q in range(nr):
        for h in range(ranges[q, 0], ranges[q, 1]):
            if taken[h] >= 0 or module[h] == module[b]:
                continue
            du, dt = _residual(x[h], y[h], z[h], is_b, x[b], y[b], z[b], tz, drds, dphids)
            c2 = (du / sig_dup[lay, 0]) ** 2 + (dt / sig_dup[lay, 1]) ** 2
            if c2 < best_c:
                clash = False
                for k in range(n):
                    if layer[lst[k]] == lay and module[lst[k]] == module[h]:
                        clash = True
                        break
                if not clash:
                    best_c, best_h = c2, h
    return best_h


@nb.njit(cache=True, nogil=True)
def pick_duplicates(
    track_ptr: IntArray,
    track_hits: IntArray,
    owner: IntArray,
    grid: HitGrid,
    surf: LayerSurfaces,
    sig_dup: FloatArray,
    n_sigma: float,
) -> IntArray:
    """Give each track the free overlap hits next to its own hits (:func:`_best_duplicate`).

    Parameters
    ----------
    track_ptr, track_hits
        CSR tracks in sorted-hit indices, ordered along each track.
    owner : int64, shape (N,)
        Track number of each hit (-1 free), updated in place.

    Returns
    -------
    int64, shape (N_added, 2)
        (track, hit) of every hit added.
    """
    ranges = np.empty((256, 2), np.int64)
    added = np.empty((len(owner), 2), np.int64)
    n_added = 0
    for t in range(len(track_ptr) - 1):
        beg, end = track_ptr[t], track_ptr[t + 1]
        n = end - beg
        if n < 3:
            continue
        lst = track_hits[beg:end]
        for j in range(n):
            h = _best_duplicate(lst, n, n, j, owner, grid, surf, sig_dup, n_sigma, ranges)
            if h >= 0:
                owner[h] = owner[lst[j]]
                added[n_added, 0] = owner[lst[j]]
                added[n_added, 1] = h
                n_added += 1
    return added[:n_added].copy()


@nb.njit(cache=True, nogil=True)
def truth_duplicate_residuals(
    triples: IntArray,
    dup: IntArray,
    at: IntArray,
    x: FloatArray,
    y: FloatArray,
    z: FloatArray,
    layer: npt.NDArray[np.int32],
    barrel: npt.NDArray[np.bool_],
) -> FloatArray:
    """Residuals (layer, r·φ, t) of true duplicate hits against :func:`pick_duplicates`' helix.

    Parameters
    ----------
    triples : int64, shape (K, 3)
        Three consecutive hits (a, b, c) of one particle on distinct layers.
    dup : int64, shape (K,)
        Another hit of the particle on the layer of hit ``at[k]``.
    at : int64, shape (K,)
        Which of the three hits (a, b or c) the duplicate belongs to.
    """
    res = np.full((len(dup), 3), np.nan)
    for k in range(len(dup)):
        a, b, c = triples[k, 0], triples[k, 1], triples[k, 2]
        h0 = at[k]
        tz, drds, dphids, ok = _local_helix_at(a, b, c, h0, x, y, z)
        lay = layer[h0]
        res[k, 0] = lay
        if not ok:
            continue
        h = dup[k]
        du, dt = _residual(x[h], y[h], z[h], barrel[lay], x[h0], y[h0], z[h0], tz, drds, dphids)
        res[k, 1] = du
        res[k, 2] = dt
    return res
