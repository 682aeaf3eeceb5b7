"""What the full-spectrum tracker learns from simulated truth besides its networks.

* **Seed layer triplets**: the first three layers each particle crosses, weighted
  by the particle's TrackML score weight; seeding uses the triplets that carry
  almost all of it (and nothing else), so it never combines layers no particle
  links.
* **Successor layers**: which layer a particle reaches next from each layer
  (outwards; inwards is the reverse), so that the follower only intersects its
  helix with layers that can come next.
* **Extrapolation errors**: per direction (outwards, inwards) and pair of
  layers (from the last hit's layer to the next), σ² = a + b·d² + c·(d/p)² of
  the residual of the next hit against the 3-hit helix after a distance d at
  momentum p, in r·φ and along the layer (t), fitted to the 68 % half-widths of
  true hit chains in bins of p, with the follower's own prediction code; pairs
  seen too rarely take the fit of their target layer.
* **Overlap spread**: per layer, the residual of a particle's second hit on a
  layer (module overlaps) against the local helix at its first.

Everything is stored in one ``.npz`` in the model folder.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy.optimize import nnls

from tracklearn.edm import Event
from tracklearn.errors import DataError
from tracklearn.fullspectrum.follow import truth_duplicate_residuals, truth_residuals
from tracklearn.fullspectrum.layers import LayerTable
from tracklearn.fullspectrum.truth import particle_sequences
from tracklearn.typing import FloatArray, IntArray

log = logging.getLogger(__name__)


#: smallest number of training chains a layer needs for its own error fit
MIN_FIT_CHAINS = 200


def csr_from_pairs(pairs: IntArray, n: int) -> tuple[IntArray, IntArray]:
    """CSR (ptr, targets) of directed pairs ``(a, b)`` grouped by ``a`` (duplicates dropped)."""
    pairs = np.unique(pairs.reshape(-1, 2), axis=0)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(pairs[:, 0], minlength=n), out=ptr[1:])
    return ptr, pairs[:, 1].astype(np.int64).copy()


@dataclass(frozen=True, eq=False)
class TrackerTables:
    """Learned geometry of the tracker (see the module docstring).

    Attributes
    ----------
    seed_triplets : int64, shape (K, 3)
        Layer triplets (inner, middle, outer) used for seeding.
    seed_weight : float64, shape (K,)
        Share of the training events' score weight whose first three layers they are.
    chain_triplets : int64, shape (J, 3)
        Consecutive layer triplets anywhere along particles (seeds of displaced tracks).
    successors : int64, shape (E, 2)
        Directed layer pairs (from, to) seen along particles, outwards.
    sigma : float64, shape (2, L, L, 2, 3)
        Extrapolation error model (a [mm²], b, c [GeV²]) per direction (outwards,
        inwards), layer of the last hit, layer of the next, and coordinate (r·φ, t);
        σ is the 68 % half-width.
    sigma_dup : float64, shape (L, 2)
        Spread [mm] of overlap hits (r·φ, t) around the local helix.
    """

    seed_triplets: IntArray
    seed_weight: FloatArray
    chain_triplets: IntArray
    successors: IntArray
    sigma: FloatArray
    sigma_dup: FloatArray

    def __post_init__(self) -> None:
        n = self.sigma.shape[1] if self.sigma.ndim == 5 else -1
        if self.sigma.shape != (2, n, n, 2, 3) or self.sigma_dup.shape != (n, 2):
            raise DataError("tracker tables", "sigma must be (2, L, L, 2, 3) and sigma_dup (L, 2)")
        for name in ("seed_triplets", "chain_triplets", "successors"):
            arr = getattr(self, name)
            if arr.size and (arr.min() < 0 or arr.max() >= n):
                raise DataError("tracker tables", f"{name} names a layer outside [0, {n})")
        if not (np.all(np.isfinite(self.sigma)) and np.all(self.sigma_dup > 0)):
            raise DataError("tracker tables", "error models must be finite and positive")

    @property
    def n_layers(self) -> int:
        return int(self.sigma.shape[1])

    def successor_csr(self, inwards: bool = False) -> tuple[IntArray, IntArray]:
        """(ptr, layers) of the layers that follow each layer, outwards or inwards."""
        pairs = self.successors[:, ::-1] if inwards else self.successors
        return csr_from_pairs(np.ascontiguousarray(pairs), self.n_layers)

    def save(self, path: str | Path) -> None:
        np.savez(
            path,
            seed_triplets=self.seed_triplets,
            seed_weight=self.seed_weight,
            chain_triplets=self.chain_triplets,
            successors=self.successors,
            sigma=self.sigma,
            sigma_dup=self.sigma_dup,
        )

    @classmethod
    def load(cls, path: str | Path) -> TrackerTables:
        try:
            with np.load(path) as f:
                return cls(**{k: f[k] for k in f.files})
        except (OSError, KeyError, ValueError, TypeError) as exc:
            raise DataError(path, f"not tracker tables ({exc})") from None


@dataclass
class _Collected:
    first: dict[tuple[int, int, int], float]
    chains3: set[tuple[int, int, int]]
    succ: dict[tuple[int, int], int]
    residuals: list[FloatArray]  # outwards
    residuals_in: list[FloatArray]
    dup_residuals: list[FloatArray]
    weight: float = 0.0


def _collect(
    event: Event, layer: npt.NDArray[np.int32], table: LayerTable, acc: _Collected
) -> None:
    assert event.truth is not None
    seq = particle_sequences(event, layer)
    h = event.hits
    w = event.truth.weight
    rows = seq.rows
    owner = np.repeat(np.arange(len(seq)), np.diff(seq.ptr))
    pw = np.bincount(owner, weights=w[rows], minlength=len(seq))
    acc.weight += float(pw.sum())
    d_rows = rows[seq.first_on_layer]
    d_own = owner[seq.first_on_layer]
    d_lay = layer[d_rows].astype(np.int64)
    # first three layers of each particle
    start = np.searchsorted(d_own, np.arange(len(seq)))
    n_d = np.bincount(d_own, minlength=len(seq))
    ok = n_d >= 3
    s0 = start[ok]
    trips = np.stack([d_lay[s0], d_lay[s0 + 1], d_lay[s0 + 2]], 1)
    keys, inv = np.unique(trips, axis=0, return_inverse=True)
    sums = np.bincount(inv.reshape(-1), weights=pw[ok], minlength=len(keys))
    for k_, s_ in zip(map(tuple, keys.tolist()), sums.tolist(), strict=True):
        acc.first[k_] = acc.first.get(k_, 0.0) + s_
    # consecutive pairs, triplets and 4-chains along each particle
    same1 = d_own[1:] == d_own[:-1]
    for a, b in np.unique(np.stack([d_lay[:-1][same1], d_lay[1:][same1]], 1), axis=0).tolist():
        acc.succ[(a, b)] = acc.succ.get((a, b), 0) + 1
    same2 = same1[1:] & same1[:-1]
    acc.chains3.update(
        map(
            tuple,
            np.unique(np.stack([d_lay[:-2], d_lay[1:-1], d_lay[2:]], 1)[same2], axis=0).tolist(),
        )
    )
    same3 = same2[1:] & same2[:-1] if len(same2) > 1 else np.zeros(0, bool)
    idx = np.nonzero(same3)[0]
    chains = np.stack([d_rows[idx], d_rows[idx + 1], d_rows[idx + 2], d_rows[idx + 3]], 1)
    backwards = np.ascontiguousarray(chains[:, ::-1])
    for ch, dest in ((chains, acc.residuals), (backwards, acc.residuals_in)):
        dest.append(
            truth_residuals(
                ch, h.x, h.y, h.z, layer, table.barrel, table.position, table.t_min, table.t_max
            )
        )
    # overlap duplicates: each later hit on a layer against the particle's first hit there
    extra = np.nonzero(~seq.first_on_layer)[0]
    if len(extra):
        e_own = owner[extra]
        e_lay = layer[rows[extra]].astype(np.int64)
        dkey = d_own * 1000 + d_lay  # unique: one first hit per particle and layer
        sidx = np.argsort(dkey)
        qk = e_own * 1000 + e_lay
        sp = np.minimum(np.searchsorted(dkey[sidx], qk), len(dkey) - 1)
        pos = sidx[sp]
        good = (dkey[pos] == qk) & (n_d[e_own] >= 3)
        pos, extra, e_own = pos[good], extra[good], e_own[good]
        j = pos - start[e_own]
        n = n_d[e_own]
        mid = np.clip(j, 1, n - 2)  # neighbours j-1, j, j+1 inside the particle
        base = start[e_own] + mid
        trip_rows = np.stack([d_rows[base - 1], d_rows[base], d_rows[base + 1]], 1)
        acc.dup_residuals.append(
            truth_duplicate_residuals(
                trip_rows, rows[extra], d_rows[pos], h.x, h.y, h.z, layer, table.barrel
            )
        )


#: momentum bins [GeV] of the error fit
P_BINS = np.array([0.0, 0.15, 0.2, 0.3, 0.45, 0.7, 1.0, 1.5, 2.5, 5.0, 1e9])


def _fit_one(s: FloatArray) -> FloatArray:
    """(a, b, c) for r·φ and t, shape (2, 3), from residual rows (layer, d, p, r·φ, t)."""
    out = np.zeros((2, 3))
    rows = []
    for lo, hi in itertools.pairwise(P_BINS):
        q = s[(s[:, 2] >= lo) & (s[:, 2] < hi)]
        if len(q) < 15:
            continue
        rows.append(
            (
                float(np.median(q[:, 1])),
                float(np.median(q[:, 2])),
                len(q),
                *np.percentile(np.abs(q[:, 3:5]), 68.27, axis=0),
            )
        )
    if not rows:
        out[:, 0] = 1.0  # never reached in training: a wide 1 mm window
        return out
    arr = np.array(rows)
    d, p, n = arr[:, 0], arr[:, 1], arr[:, 2]
    design = np.stack([np.ones_like(d), d**2, (d / p) ** 2], 1)
    w = np.sqrt(n)[:, None]
    for c in range(2):
        q2 = arr[:, 3 + c] ** 2
        coef, _res = nnls(design * w / q2[:, None], w[:, 0])  # relative errors: weight 1/q²
        out[c] = coef
    out[:, 0] += 1e-6
    return out


def _fit_sigma(res: FloatArray, table: LayerTable) -> FloatArray:
    """Fits of the 68 % half-widths of residuals in momentum bins, shape (L, L, 2, 3).

    Per (from, to) layer pair with enough chains, else per target layer (else per
    target volume).
    """
    res = res[~np.isnan(res[:, 3])]
    n_layers = len(table)
    volume = table.key // 1000
    lay = res[:, 0].astype(np.int64)
    src = res[:, 6].astype(np.int64)
    per_layer = np.zeros((n_layers, 2, 3))
    for k in range(n_layers):
        s = res[lay == k]
        if len(s) < MIN_FIT_CHAINS:
            s = res[np.isin(lay, np.nonzero(volume == volume[k])[0])]
        per_layer[k] = _fit_one(s)
    sig = np.broadcast_to(per_layer, (n_layers, n_layers, 2, 3)).copy()
    pair = src * n_layers + lay
    keys, counts = np.unique(pair, return_counts=True)
    for key in keys[counts >= MIN_FIT_CHAINS]:
        sig[key // n_layers, key % n_layers] = _fit_one(res[pair == key])
    return sig


def _fit_dup(res: FloatArray, table: LayerTable) -> FloatArray:
    res = res[~np.isnan(res[:, 1])]
    volume = table.key // 1000
    lay = res[:, 0].astype(np.int64)
    out = np.full((len(table), 2), 1.0)
    for k in range(len(table)):
        s = res[lay == k]
        if len(s) < 100:
            s = res[np.isin(lay, np.nonzero(volume == volume[k])[0])]
        if len(s) < 10:
            continue
        for c in range(2):
            out[k, c] = max(float(np.percentile(np.abs(s[:, 1 + c]), 90)) / 1.645, 0.01)
    return out


def learn_tables(
    events: Iterable[Event],
    table: LayerTable,
    *,
    seed_coverage: float = 0.998,
    min_successor_count: int = 3,
) -> TrackerTables:
    """Learn the tracker's tables from simulated events with truth.

    Parameters
    ----------
    events
        Training events (truth and particles required).
    table
        The layers.
    seed_coverage
        Keep the most weighted first-layer triplets until they hold this share of the
        weight of particles with at least three layers.
    min_successor_count
        A layer pair must be seen this many times (over all events) to be a successor.
    """
    acc = _Collected({}, set(), {}, [], [], [])
    n_ev = 0
    for ev in events:
        _collect(ev, table.index_of(ev.hits, ev.source), table, acc)
        n_ev += 1
    if n_ev == 0 or not acc.first:
        raise DataError("training events", "no particle with three layers to learn from")
    keys = np.array(list(acc.first), np.int64)
    wts = np.array(list(acc.first.values()))
    order = np.argsort(-wts)
    cum = np.cumsum(wts[order]) / wts.sum()
    n_keep = int(np.searchsorted(cum, seed_coverage) + 1)
    keep = order[:n_keep]
    succ = np.array([k for k, v in acc.succ.items() if v >= min_successor_count], np.int64)
    res_out = np.concatenate(acc.residuals)
    res_in = np.concatenate(acc.residuals_in)
    dres = np.concatenate(acc.dup_residuals) if acc.dup_residuals else np.zeros((0, 3))
    tables = TrackerTables(
        seed_triplets=keys[keep],
        seed_weight=wts[keep] / acc.weight,
        chain_triplets=np.array(sorted(acc.chains3), np.int64).reshape(-1, 3),
        successors=succ.reshape(-1, 2),
        sigma=np.stack([_fit_sigma(res_out, table), _fit_sigma(res_in, table)]),
        sigma_dup=_fit_dup(dres, table),
    )
    log.info(
        "learned tables from %d events: %d seed triplets (%.4f of the weight), %d successor pairs",
        n_ev, n_keep, float(cum[n_keep - 1]), len(succ),
    )  # fmt: skip
    return tables
