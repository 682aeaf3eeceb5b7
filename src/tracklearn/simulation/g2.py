"""Muon g-2 style fills in a straw station, time islands and overlay augmentation.

A *fill* holds many tracks at random times; each track follows
``x(z) = x0 + tx·z + κ·z²/2`` (the small-angle arc of a charged track in a
field ``B`` along y, ``κ = q · C · B / p``) and hits one straw per layer
crossed.  Hit times are the track time plus flight time plus a drift time;
noise hits are uniform in the fill; crosstalk copies a hit to a neighbouring
straw a few ns later.  Hits are grouped into time islands
(:func:`~tracklearn.geometry.toy.time_islands`), and each island becomes a
``(L, S)`` image whose cells carry the index of the track owning them
(tracks ordered by mean straw, the slot order the track finder learns).

Overlay augmentation (:func:`isolated_tracks`, :func:`overlay_islands`) cuts
isolated, well-measured tracks out of low-occupancy fills and stacks them
into synthetic high-occupancy islands with fresh noise and crosstalk.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn import units as u
from tracklearn.geometry.toy import G2Geometry, time_islands
from tracklearn.io.npz import load_npz_arrays
from tracklearn.typing import FloatArray, IntArray

C_MM_PER_NS = 299.792458  # speed of light [mm/ns]


class G2Config(BaseModel):
    """Settings of the g-2 fill generator."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    n_modules: int = Field(8, ge=1)
    layers_per_module: int = Field(4, ge=1)
    n_straws: int = Field(32, ge=2)
    pitch: float = Field(5.0, gt=0)  # mm
    field: float = Field(1.45, ge=0)  # T
    p_min: float = Field(1.0, gt=0)  # GeV
    p_max: float = Field(3.0, gt=0)  # GeV
    max_angle: float = Field(0.15, ge=0)  # |tx| at z = 0 [rad]
    tracks_per_fill: float = Field(30.0, ge=0)  # Poisson mean
    fill_length: float = Field(2000.0, gt=0)  # ns
    max_drift: float = Field(30.0, ge=0)  # ns, uniform drift time
    hit_efficiency: float = Field(0.97, ge=0, le=1)
    noise_per_fill: float = Field(40.0, ge=0)  # Poisson mean of noise hits
    crosstalk_prob: float = Field(0.02, ge=0, le=1)  # per real hit
    window: float = Field(100.0, gt=0)  # ns, time-island length
    max_tracks: int = Field(6, ge=1)  # track slots per island (more: ignored in training)

    def geometry(self) -> G2Geometry:
        return G2Geometry(self.n_modules, self.layers_per_module, self.n_straws, self.pitch)


@dataclass(frozen=True)
class G2Fill:
    """Hits of one fill (struct of arrays). Shapes: (H,) each.

    Attributes
    ----------
    layer, straw
        Layer in ``[0, L)`` and straw in ``[0, S)`` (int64).
    t
        Hit time [ns] from the start of the fill.
    particle_id
        Track number (1, 2, ...) or 0 for noise and crosstalk.
    """

    layer: IntArray
    straw: IntArray
    t: FloatArray
    particle_id: IntArray

    def __post_init__(self) -> None:
        n = len(self.t)
        if not all(len(a) == n for a in (self.layer, self.straw, self.particle_id)):
            raise ValueError("G2Fill arrays differ in length")


def _noise(
    cfg: G2Config, n: int, rng: np.random.Generator, t0: float, t1: float
) -> tuple[IntArray, IntArray, FloatArray]:
    layers = rng.integers(0, cfg.n_modules * cfg.layers_per_module, n)
    straws = rng.integers(0, cfg.n_straws, n)
    return layers, straws, rng.uniform(t0, t1, n)


def _crosstalk(
    cfg: G2Config, layer: IntArray, straw: IntArray, t: FloatArray, rng: np.random.Generator
) -> tuple[IntArray, IntArray, FloatArray]:
    pick = rng.random(len(t)) < cfg.crosstalk_prob
    side = rng.choice(np.array([-1, 1]), int(pick.sum()))
    s = straw[pick] + side
    ok = (s >= 0) & (s < cfg.n_straws)
    return layer[pick][ok], s[ok], t[pick][ok] + rng.uniform(1.0, 5.0, int(ok.sum()))


def generate_fill(seed: int, cfg: G2Config = G2Config()) -> G2Fill:  # noqa: B008
    """One fill; depends only on ``(seed, cfg)``. Shapes: see :class:`G2Fill`."""
    rng = np.random.default_rng(seed)
    geom = cfg.geometry()
    n_tr = int(rng.poisson(cfg.tracks_per_fill))
    width = cfg.n_straws * cfg.pitch
    x0 = rng.uniform(0, width, n_tr)
    tx = rng.uniform(-cfg.max_angle, cfg.max_angle, n_tr)
    p = rng.uniform(cfg.p_min, cfg.p_max, n_tr) * u.GeV
    q = rng.choice(np.array([-1.0, 1.0]), n_tr)
    kappa = q * u.C_LIGHT_GEV_PER_T_MM * cfg.field / p  # 1/mm
    t_track = rng.uniform(0, cfg.fill_length, n_tr)
    z = geom.layer_z  # (L,)
    x = x0[:, None] + tx[:, None] * z + 0.5 * kappa[:, None] * z**2  # (T, L)
    layer = np.broadcast_to(np.arange(geom.n_layers), x.shape)
    straw = geom.straw_of(x, layer)
    seen = (straw >= 0) & (rng.random(x.shape) < cfg.hit_efficiency)
    t_hit = t_track[:, None] + z / C_MM_PER_NS + rng.uniform(0, cfg.max_drift, x.shape)
    pid = np.broadcast_to(np.arange(1, n_tr + 1)[:, None], x.shape)
    lay, stw, t, ids = layer[seen], straw[seen], t_hit[seen], pid[seen]
    nl, ns_, nt = _noise(cfg, int(rng.poisson(cfg.noise_per_fill)), rng, 0.0, cfg.fill_length)
    cl, cs, ct = _crosstalk(cfg, lay, stw, t, rng)
    return G2Fill(
        np.concatenate([lay, nl, cl]).astype(np.int64),
        np.concatenate([stw, ns_, cs]).astype(np.int64),
        np.concatenate([t, nt, ct]),
        np.concatenate([ids, np.zeros(len(nl) + len(cl), np.int64)]).astype(np.int64),
    )


@dataclass(frozen=True)
class G2Islands:
    """Time islands as images.

    Attributes
    ----------
    occupancy
        1 where a straw has at least one hit. Shapes: (N, L, S) float32.
    owner
        -1 empty cell, 0 noise, ``k ≥ 1`` the k-th track of the island in
        slot order (mean straw ascending). The earliest hit owns a cell.
        Shapes: (N, L, S) int64.
    n_tracks
        Tracks with at least one hit in the island. Shapes: (N,) int64.
    """

    occupancy: npt.NDArray[np.float32]
    owner: IntArray
    n_tracks: IntArray

    def __post_init__(self) -> None:
        if self.owner.shape != self.occupancy.shape or len(self.n_tracks) != len(self.owner):
            raise ValueError("G2Islands arrays differ in shape")

    def __len__(self) -> int:
        return len(self.n_tracks)

    def labels(self, max_tracks: int) -> IntArray:
        """Training labels: ``owner`` with tracks beyond ``max_tracks`` set to -1 (ignored)."""
        out: IntArray = np.where(self.owner > max_tracks, -1, self.owner)
        return out

    def subset(self, rows: IntArray | slice) -> G2Islands:
        return G2Islands(self.occupancy[rows], self.owner[rows], self.n_tracks[rows])

    @staticmethod
    def concat(parts: list[G2Islands]) -> G2Islands:
        return G2Islands(
            np.concatenate([p.occupancy for p in parts]),
            np.concatenate([p.owner for p in parts]),
            np.concatenate([p.n_tracks for p in parts]),
        )


def _image(
    layer: IntArray, straw: IntArray, t: FloatArray, pid: IntArray, n_layers: int, n_straws: int
) -> tuple[npt.NDArray[np.float32], IntArray, int]:
    """Encode one island's hits; tracks renumbered 1..n by mean straw."""
    occ = np.zeros((n_layers, n_straws), np.float32)
    owner = np.full((n_layers, n_straws), -1, np.int64)
    tracks = np.unique(pid[pid > 0])
    mean_straw = np.array([straw[pid == k].mean() for k in tracks])
    slot = np.zeros(int(pid.max(initial=0)) + 1, np.int64)
    slot[tracks[np.lexsort((tracks, mean_straw))]] = np.arange(1, len(tracks) + 1)
    order = np.argsort(-t, kind="stable")  # latest first, so the earliest hit is written last
    occ[layer, straw] = 1.0
    owner[layer[order], straw[order]] = slot[pid[order]]
    return occ, owner, len(tracks)


def fill_islands(fill: G2Fill, cfg: G2Config = G2Config()) -> G2Islands:  # noqa: B008
    """Split a fill into time islands of ``cfg.window`` ns and encode them."""
    isl = time_islands(fill.t, cfg.window)
    geom = cfg.geometry()
    occs, owners, counts = [], [], []
    for k in range(int(isl.max(initial=-1)) + 1):
        m = isl == k
        occ, owner, n = _image(
            fill.layer[m], fill.straw[m], fill.t[m], fill.particle_id[m],
            geom.n_layers, geom.n_straws,
        )  # fmt: skip
        occs.append(occ)
        owners.append(owner)
        counts.append(n)
    shape = (0, geom.n_layers, geom.n_straws)
    return G2Islands(
        np.stack(occs) if occs else np.zeros(shape, np.float32),
        np.stack(owners) if owners else np.zeros(shape, np.int64),
        np.asarray(counts, dtype=np.int64),
    )


def generate_islands(n_fills: int, seed: int, cfg: G2Config = G2Config()) -> G2Islands:  # noqa: B008
    """Islands of ``n_fills`` fills (fill ``i`` uses seed ``seed * 100003 + i``)."""
    return G2Islands.concat(
        [fill_islands(generate_fill(seed * 100003 + i, cfg), cfg) for i in range(n_fills)]
    )


def isolated_tracks(islands: G2Islands, min_layers: int = 24) -> list[IntArray]:
    """Isolated, well-measured tracks: alone in their island, on ≥ ``min_layers`` layers.

    Returns one ``(h, 2)`` array of ``(layer, straw)`` cells per track.
    """
    out: list[IntArray] = []
    for k in np.flatnonzero(islands.n_tracks == 1):
        cells = np.argwhere(islands.owner[k] == 1)
        if len(np.unique(cells[:, 0])) >= min_layers:
            out.append(cells.astype(np.int64))
    return out


def overlay_islands(
    tracks: list[IntArray],
    n_islands: int,
    seed: int,
    cfg: G2Config = G2Config(),  # noqa: B008
    n_tracks_range: tuple[int, int] = (2, 8),
    noise_hits: float = 4.0,
    max_shift: int = 8,
) -> G2Islands:
    """Synthetic high-occupancy islands from isolated ``tracks``.

    Each island stacks ``n ~ U[n_tracks_range]`` randomly chosen tracks, each
    shifted by a random whole number of straws in ``[-max_shift, max_shift]``
    (a parallel shift of x0, which keeps the stagger pattern), then adds
    Poisson(``noise_hits``) noise hits and ``cfg.crosstalk_prob`` crosstalk.
    Overlapping cells keep the earlier-listed track.
    """
    if not tracks:
        raise ValueError("no isolated tracks to overlay")
    rng = np.random.default_rng(seed)
    geom = cfg.geometry()
    parts = []
    for _ in range(n_islands):
        n = int(rng.integers(n_tracks_range[0], n_tracks_range[1] + 1))
        lays, stws, pids = [], [], []
        for k, idx in enumerate(rng.integers(0, len(tracks), n)):
            cells = tracks[int(idx)]
            s = cells[:, 1] + int(rng.integers(-max_shift, max_shift + 1))
            ok = (s >= 0) & (s < geom.n_straws)
            lays.append(cells[ok, 0])
            stws.append(s[ok])
            pids.append(np.full(int(ok.sum()), k + 1))
        lay, stw, pid = np.concatenate(lays), np.concatenate(stws), np.concatenate(pids)
        t = pid.astype(np.float64)  # listing order: earlier track owns shared cells
        nl, ns_, _ = _noise(cfg, int(rng.poisson(noise_hits)), rng, 0.0, 1.0)
        cl, cs, _ = _crosstalk(cfg, lay, stw, t, rng)
        extra = len(nl) + len(cl)
        occ, owner, n_in = _image(
            np.concatenate([lay, nl, cl]), np.concatenate([stw, ns_, cs]),
            np.concatenate([t, np.full(extra, 1e9)]),
            np.concatenate([pid, np.zeros(extra, np.int64)]),
            geom.n_layers, geom.n_straws,
        )  # fmt: skip
        parts.append(G2Islands(occ[None], owner[None], np.array([n_in])))
    return G2Islands.concat(parts)


def save_islands(islands: G2Islands, path: str | Path) -> None:
    """Write islands to ``.npz`` atomically."""
    from tracklearn.io.atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(
            fh,
            occupancy=islands.occupancy.astype(np.uint8),
            owner=islands.owner.astype(np.int16),
            n_tracks=islands.n_tracks,
        )


def load_islands(path: str | Path) -> G2Islands:
    """Read islands written by :func:`save_islands`."""
    f = load_npz_arrays(path, ("occupancy", "owner", "n_tracks"), "g2 island file")
    return G2Islands(
        f["occupancy"].astype(np.float32),
        f["owner"].astype(np.int64),
        f["n_tracks"].astype(np.int64),
    )
