"""Images of muons crossing a strip chamber (``tracklearn simulate --detector muon-chamber``).

Every image is one bunch crossing seen by the chamber of
:class:`~tracklearn.geometry.muon_chamber.MuonChamberGeometry`: the binary
voxels ``(layers, partitions, strips)`` that fired, and as truth the voxels of
the *triggering* muon (the highest-pT muon of the image).  Per muon:

* **spectrum**: pT uniform in ``[pt_min, pt_max]`` (5–100 GeV), a fraction
  ``tail_fraction`` of muons uniform in ``[tail_pt_min, pt_min)`` instead;
  charge ±1 with equal odds; the momentum is taken equal to pT (the chamber is
  a generic one: no η dependence);
* **entry**: a uniform point ``(x0, y0)`` on layer 0 (muons that would leave the
  chamber sideways before the last layer are drawn again, so every muon crosses
  all layers inside it); the direction points back
  to the interaction point (:func:`~tracklearn.geometry.muon_chamber.projective_slopes`)
  plus the bending by the field before the chamber, ``dx/dz += q · C · ∫B dl / pT``
  (``C`` = 0.2998 GeV / (T m));
* **multiple scattering**: a Highland angle for ``x0_before`` radiation lengths
  of material in front (on both slopes), and for ``x0_per_layer`` at every
  layer; ``field_in_chamber`` [T] curves the track inside the chamber;
* **digitisation**: the strip under the crossing point fires with cluster size
  1, 2 or 3 (probabilities ``cluster_size_probs``; size 2 adds the neighbour on
  the side of the crossing, size 3 both neighbours); every layer fires with
  probability ``layer_efficiency``;
* **noise**: ``noise_strips`` random voxels per image (Poisson mean), plus
  ``background_clusters`` clusters of 1…``background_cluster_max`` adjacent
  strips in one layer (neutron/photon-like background); optionally
  ``extra_muons`` more muons per image (Poisson mean, same spectrum).

Images are generated in chunks of :data:`CHUNK_IMAGES`; chunk ``k`` of seed
``s`` uses ``numpy.random.default_rng([s, k])``, so any number of images can be
streamed in batches (the 300,000 test images of the trigger bench are never
stored) and the same seed gives the same images bit for bit.

File format (``muon-chamber.npz``, :func:`save_muon_images`, numpy ``savez_compressed``):

* ``hits``, ``truth``: uint8 ``(N, L, P, S/8)``, the boolean voxels packed
  along the strips with ``numpy.packbits(..., axis=-1)`` (big bit order);
* ``pt_gev``: float32 ``(N,)``, pT of the triggering muon [GeV];
* ``charge``: int8 ``(N,)``, its charge [e];
* ``n_muons``: int16 ``(N,)``, muons in the image;
* ``shape``: int64 ``(4,)``, ``(N, L, P, S)``.

``simulation.json`` beside it holds the config and seed (``tracklearn simulate``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

from tracklearn import units as u
from tracklearn.errors import DataError
from tracklearn.geometry.muon_chamber import MuonChamberGeometry, projective_slopes
from tracklearn.io.atomic import atomic_path
from tracklearn.typing import BoolArray, FloatArray, IntArray

#: images per generation chunk (chunk k of seed s uses default_rng([s, k]))
CHUNK_IMAGES = 1000
#: seed of the held-out test images (never trained on): trigger bench, export metrics, provenance
TEST_SEED = 20261
#: file name written by ``tracklearn simulate --detector muon-chamber``
FILE_NAME = "muon-chamber.npz"
_KEYS = ("hits", "truth", "pt_gev", "charge", "n_muons", "shape")


class MuonChamberConfig(BaseModel):
    """Settings of the muon-chamber generator (see the module docstring)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    geometry: MuonChamberGeometry = MuonChamberGeometry()
    pt_min: float = Field(5.0, gt=0)  # GeV
    pt_max: float = Field(100.0, gt=0)  # GeV
    tail_fraction: float = Field(0.0, ge=0, le=1)  # muons drawn in [tail_pt_min, pt_min)
    tail_pt_min: float = Field(2.0, gt=0)  # GeV
    field_integral: float = Field(1.0, ge=0)  # T m, ∫B dl before the chamber (bends x)
    field_in_chamber: float = Field(0.0, ge=0)  # T, field inside the chamber (along y)
    x0_before: float = Field(20.0, ge=0)  # radiation lengths of material before the chamber
    x0_per_layer: float = Field(0.02, ge=0)  # radiation lengths per chamber layer
    cluster_size_probs: tuple[float, float, float] = (0.6, 0.3, 0.1)  # sizes 1, 2, 3
    layer_efficiency: float = Field(0.95, ge=0, le=1)
    noise_strips: float = Field(60.0, ge=0)  # random fired voxels per image (Poisson mean)
    background_clusters: float = Field(8.0, ge=0)  # background clusters per image (mean)
    background_cluster_max: int = Field(4, ge=1)  # strips of the widest background cluster
    extra_muons: float = Field(0.0, ge=0)  # extra muons per image (Poisson mean)

    @model_validator(mode="after")
    def _check(self) -> MuonChamberConfig:
        if self.pt_max <= self.pt_min:
            raise ValueError(f"pt_max {self.pt_max} must exceed pt_min {self.pt_min}")
        if self.tail_fraction > 0 and self.tail_pt_min >= self.pt_min:
            raise ValueError(f"tail_pt_min {self.tail_pt_min} must be below pt_min")
        probs = np.asarray(self.cluster_size_probs)
        if np.any(probs < 0) or not np.isclose(probs.sum(), 1.0):
            raise ValueError(f"cluster_size_probs {self.cluster_size_probs} must sum to 1")
        return self


@dataclass(frozen=True)
class MuonImages:
    """A batch of chamber images with the truth of their triggering muon.

    Attributes
    ----------
    hits
        Fired voxels, bool, shape (N, L, P, S).
    truth
        Voxels fired by the triggering muon (a subset of ``hits``), same shape.
    pt_gev
        pT of the triggering muon [GeV], float64 (N,).
    charge
        Its charge [e], int8 (N,).
    n_muons
        Muons in the image, int16 (N,).
    """

    hits: BoolArray
    truth: BoolArray
    pt_gev: FloatArray
    charge: npt.NDArray[np.int8]
    n_muons: npt.NDArray[np.int16]

    def __post_init__(self) -> None:
        n = len(self.pt_gev)
        if self.hits.ndim != 4 or self.hits.shape != self.truth.shape or len(self.hits) != n:
            raise ValueError(
                f"hits {self.hits.shape} and truth {self.truth.shape} must be (N, L, P, S) "
                f"with N = {n}"
            )
        if self.hits.dtype != np.bool_ or self.truth.dtype != np.bool_:
            raise ValueError("hits and truth must be bool")
        if len(self.charge) != n or len(self.n_muons) != n:
            raise ValueError("charge and n_muons must have one entry per image")
        if not np.all(np.isfinite(self.pt_gev)) or np.any(self.pt_gev <= 0):
            raise ValueError("pt_gev must be finite and positive")
        if np.any(self.truth & ~self.hits):
            raise ValueError("truth voxels must be hits")

    def __len__(self) -> int:
        return len(self.pt_gev)

    def subset(self, index: npt.ArrayLike) -> MuonImages:
        """The images at ``index`` (indices or a boolean mask)."""
        i = np.asarray(index)
        return MuonImages(
            self.hits[i], self.truth[i], self.pt_gev[i], self.charge[i], self.n_muons[i]
        )

    @staticmethod
    def concat(parts: list[MuonImages]) -> MuonImages:
        """The images of ``parts`` in order."""
        return MuonImages(
            np.concatenate([p.hits for p in parts]),
            np.concatenate([p.truth for p in parts]),
            np.concatenate([p.pt_gev for p in parts]),
            np.concatenate([p.charge for p in parts]),
            np.concatenate([p.n_muons for p in parts]),
        )


def _highland(x_over_x0: float, p: FloatArray) -> FloatArray:
    """Plane-projected multiple-scattering angle [rad] of a β = 1 muon of momentum ``p`` [GeV]."""
    if x_over_x0 <= 0:
        return np.zeros_like(p)
    out: FloatArray = 13.6 * u.MeV / p * np.sqrt(x_over_x0) * (1.0 + 0.038 * np.log(x_over_x0))
    return out


def _draw_pt(rng: np.random.Generator, n: int, cfg: MuonChamberConfig) -> FloatArray:
    pt = rng.uniform(cfg.pt_min, cfg.pt_max, n)
    tail = rng.random(n) < cfg.tail_fraction
    pt[tail] = rng.uniform(cfg.tail_pt_min, cfg.pt_min, int(tail.sum()))
    return pt


def muon_crossings(
    cfg: MuonChamberConfig,
    x0: FloatArray,
    y0: FloatArray,
    pt: FloatArray,
    charge: FloatArray,
    rng: np.random.Generator | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Crossing points ``x``, ``y`` [mm] of muons on every layer.

    ``x0``, ``y0`` [mm] are the crossing points on layer 0, ``pt`` [GeV] and
    ``charge`` [e] as in the module docstring.  With ``rng=None`` there is no
    multiple scattering (the deterministic path).  Shapes: (M,) each → (M, L) each.
    """
    g = cfg.geometry
    p = np.asarray(pt, dtype=np.float64)
    q = np.asarray(charge, dtype=np.float64)
    sx, sy = projective_slopes(g, x0, y0)
    sx = sx + q * u.C_LIGHT_GEV_PER_T_MM * (cfg.field_integral * u.m) / p
    if rng is not None:
        theta = _highland(cfg.x0_before, p)
        sx = sx + rng.normal(0.0, 1.0, len(p)) * theta
        sy = sy + rng.normal(0.0, 1.0, len(p)) * theta
    # curvature inside the chamber: d²x/dz² = q C B / p (small-angle)
    kappa = q * u.C_LIGHT_GEV_PER_T_MM * cfg.field_in_chamber / p
    dz = g.layer_pitch
    xs, ys = [np.asarray(x0, dtype=np.float64)], [np.asarray(y0, dtype=np.float64)]
    theta_layer = _highland(cfg.x0_per_layer, p)
    for _ in range(g.n_layers - 1):  # 5 steps, vectorised over muons
        if rng is not None:
            sx = sx + rng.normal(0.0, 1.0, len(p)) * theta_layer
            sy = sy + rng.normal(0.0, 1.0, len(p)) * theta_layer
        xs.append(xs[-1] + sx * dz + 0.5 * kappa * dz**2)
        ys.append(ys[-1] + sy * dz)
        sx = sx + kappa * dz
    return np.stack(xs, axis=1), np.stack(ys, axis=1)


def cluster_voxels(
    g: MuonChamberGeometry, x: FloatArray, y: FloatArray, size: IntArray
) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Voxels fired by crossings at ``x``, ``y`` [mm] with cluster sizes ``size`` (1, 2 or 3).

    Size 2 adds the neighbour strip on the side of the crossing within its
    strip, size 3 both neighbours; strips outside the chamber are dropped, as
    are crossings with ``size == 0`` (inefficient layers).  Shapes: ``x``,
    ``y``, ``size`` (M, L); returns flat ``(muon, layer, partition, strip)``
    index arrays.

    >>> g = MuonChamberGeometry()
    >>> m, l, p, s = cluster_voxels(g, np.array([[10.7]]), np.array([[50.0]]), np.array([[2]]))
    >>> s.tolist(), p.tolist()
    ([10, 11], [0, 0])
    """
    m_idx, l_idx = np.nonzero(size > 0)
    xs, ys, k = x[m_idx, l_idx], y[m_idx, l_idx], size[m_idx, l_idx]
    strip = g.strip_index(xs)
    part = g.partition_index(ys)
    ok = (strip >= 0) & (part >= 0)
    m_idx, l_idx, xs, k, strip, part = m_idx[ok], l_idx[ok], xs[ok], k[ok], strip[ok], part[ok]
    right = (xs / g.strip_pitch - strip) >= 0.5
    # offsets per cluster: size 1 → (0), size 2 → (0, ±1), size 3 → (0, -1, +1)
    second = np.where(k == 2, np.where(right, 1, -1), -1)
    offsets = [(np.ones_like(k, dtype=bool), 0), (k >= 2, second), (k == 3, 1)]
    out: list[list[IntArray]] = [[], [], [], []]
    for use, off in offsets:
        s = strip[use] + (off[use] if isinstance(off, np.ndarray) else off)
        inside = (s >= 0) & (s < g.n_strips)
        for lst, arr in zip(out, (m_idx[use], l_idx[use], part[use], s), strict=True):
            lst.append(arr[inside])
    cat = [np.concatenate(a).astype(np.int64) for a in out]
    return cat[0], cat[1], cat[2], cat[3]


def _inside_crossings(
    cfg: MuonChamberConfig, pt: FloatArray, charge: FloatArray, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray]:
    """Crossings of muons that stay inside the chamber on every layer.

    Entry points are uniform on layer 0; a muon that leaves the chamber
    sideways is drawn again (entry and scattering, same pT and charge) until
    every muon is inside.  Shapes: (M,) → (M, L), (M, L).
    """
    g = cfg.geometry
    m = len(pt)
    x = np.empty((m, g.n_layers))
    y = np.empty((m, g.n_layers))
    todo = np.arange(m)
    for _ in range(100):  # a muon near an edge is redrawn; a few rounds suffice
        x0 = rng.uniform(0.0, g.width, len(todo))
        y0 = rng.uniform(0.0, g.height, len(todo))
        xt, yt = muon_crossings(cfg, x0, y0, pt[todo], charge[todo], rng)
        x[todo], y[todo] = xt, yt
        out = np.any((xt < 0) | (xt >= g.width) | (yt < 0) | (yt >= g.height), axis=1)
        todo = todo[out]
        if len(todo) == 0:
            return x, y
    raise ValueError("muons do not fit in the chamber: check the geometry and the pT range")


def _chunk(n: int, rng: np.random.Generator, cfg: MuonChamberConfig) -> MuonImages:
    g = cfg.geometry
    n_mu = 1 + rng.poisson(cfg.extra_muons, n) if cfg.extra_muons > 0 else np.ones(n, np.int64)
    image = np.repeat(np.arange(n), n_mu)
    m = len(image)
    pt = _draw_pt(rng, m, cfg)
    charge = rng.choice(np.array([-1.0, 1.0]), m)
    x, y = _inside_crossings(cfg, pt, charge, rng)
    size = 1 + rng.choice(3, size=(m, g.n_layers), p=np.asarray(cfg.cluster_size_probs))
    size[rng.random((m, g.n_layers)) >= cfg.layer_efficiency] = 0
    mu, layer, part, strip = cluster_voxels(g, x, y, size)
    # the triggering muon of an image: its highest-pT muon (muons of an image are contiguous)
    order = np.lexsort((-pt, image))
    first = np.searchsorted(image[order], np.arange(n))
    trigger = order[first]
    is_trigger = np.zeros(m, bool)
    is_trigger[trigger] = True

    hits = np.zeros((n, *g.shape), bool)
    truth = np.zeros((n, *g.shape), bool)
    img = image[mu]
    hits[img, layer, part, strip] = True
    t = is_trigger[mu]
    truth[img[t], layer[t], part[t], strip[t]] = True
    # noise: single voxels uniform over the image
    n_noise = rng.poisson(cfg.noise_strips, n)
    k = int(n_noise.sum())
    hits[
        np.repeat(np.arange(n), n_noise),
        rng.integers(0, g.n_layers, k),
        rng.integers(0, g.n_partitions, k),
        rng.integers(0, g.n_strips, k),
    ] = True
    # background clusters: 1 ... background_cluster_max adjacent strips in one layer
    n_bkg = rng.poisson(cfg.background_clusters, n)
    k = int(n_bkg.sum())
    if k:
        width = rng.integers(1, cfg.background_cluster_max + 1, k)
        start = rng.integers(0, g.n_strips, k)
        owner = np.repeat(np.arange(k), width)
        within = np.arange(len(owner)) - np.repeat(np.cumsum(width) - width, width)
        s = start[owner] + within
        keep = s < g.n_strips
        hits[
            np.repeat(np.repeat(np.arange(n), n_bkg), width)[keep],
            np.repeat(rng.integers(0, g.n_layers, k), width)[keep],
            np.repeat(rng.integers(0, g.n_partitions, k), width)[keep],
            s[keep],
        ] = True
    return MuonImages(
        hits,
        truth,
        pt[trigger].astype(np.float64),
        charge[trigger].astype(np.int8),
        n_mu.astype(np.int16),
    )


def iter_muon_images(
    n: int, seed: int, cfg: MuonChamberConfig | None = None, *, first_chunk: int = 0
) -> Iterator[MuonImages]:
    """``n`` images in batches of at most :data:`CHUNK_IMAGES` (see the module docstring)."""
    cfg = cfg or MuonChamberConfig()
    done, k = 0, first_chunk
    while done < n:
        size = min(CHUNK_IMAGES, n - done)
        yield _chunk(size, np.random.default_rng([seed, k]), cfg)
        done += size
        k += 1


def generate_muon_images(
    n: int, seed: int, cfg: MuonChamberConfig | None = None, *, first_chunk: int = 0
) -> MuonImages:
    """``n`` images in one :class:`MuonImages` (the batches of :func:`iter_muon_images`)."""
    return MuonImages.concat(list(iter_muon_images(n, seed, cfg, first_chunk=first_chunk)))


def save_muon_images(images: MuonImages | Iterable[MuonImages], path: str | Path) -> Path:
    """Write images in the format of the module docstring (atomically); return the path.

    ``images`` may be an iterable of batches (:func:`iter_muon_images`): each
    is packed as it comes, so only the packed bits of all images sit in memory.
    """
    path = Path(path)
    parts = [images] if isinstance(images, MuonImages) else images
    packed: dict[str, list[npt.NDArray[Any]]] = {k: [] for k in _KEYS[:-1]}
    shape: tuple[int, ...] | None = None
    for part in parts:
        packed["hits"].append(np.packbits(part.hits, axis=-1))
        packed["truth"].append(np.packbits(part.truth, axis=-1))
        packed["pt_gev"].append(part.pt_gev.astype(np.float32))
        packed["charge"].append(part.charge.astype(np.int8))
        packed["n_muons"].append(part.n_muons.astype(np.int16))
        shape = part.hits.shape[1:] if shape is None else shape
    if shape is None:
        raise ValueError("no images to save")
    arrays = {k: np.concatenate(v) for k, v in packed.items()}
    arrays["shape"] = np.asarray((len(arrays["pt_gev"]), *shape), np.int64)
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]
    return path


def load_muon_images(path: str | Path) -> MuonImages:
    """Read a file written by :func:`save_muon_images` (a folder: its ``muon-chamber.npz``).

    Raises
    ------
    DataError
        When the file is missing, truncated or not in this format.
    """
    path = Path(path)
    if path.is_dir():
        path = path / FILE_NAME
    if not path.exists():
        raise DataError(path, "file does not exist (make it with tracklearn simulate "
                              "--detector muon-chamber)")  # fmt: skip
    keys = _KEYS
    try:
        with np.load(path) as z:
            missing = [k for k in keys if k not in z.files]
            if missing:
                raise DataError(path, f"not a muon-chamber file (missing {', '.join(missing)})")
            arrays = {k: z[k] for k in keys}
    except DataError:
        raise
    except Exception as exc:  # zipfile / pickle / OS errors of a damaged file
        raise DataError(path, f"cannot read ({type(exc).__name__}: {exc})") from None
    shape = tuple(int(v) for v in arrays["shape"])
    if len(shape) != 4:
        raise DataError(path, f"shape {shape} is not (N, L, P, S)")
    try:
        hits = np.unpackbits(arrays["hits"], axis=-1, count=shape[3]).astype(bool)
        truth = np.unpackbits(arrays["truth"], axis=-1, count=shape[3]).astype(bool)
        return MuonImages(
            hits.reshape(shape),
            truth.reshape(shape),
            arrays["pt_gev"].astype(np.float64),
            arrays["charge"].astype(np.int8),
            arrays["n_muons"].astype(np.int16),
        )
    except ValueError as exc:
        raise DataError(path, str(exc)) from None
