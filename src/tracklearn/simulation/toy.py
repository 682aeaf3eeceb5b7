"""Event generators for the HEP.TrkX toy detectors (toy2d, toy3d, cylindrical).

Every event holds one *signal* track (the one a seeded model must follow),
``n_background`` other straight tracks (fixed or Poisson) and uniform noise
(each pixel independently on with probability ``noise_prob``).  Hits are
binary.  The signal track's hits on the first ``n_seed_layers`` layers are the
*seed* given to the models.

Source of the reference definition: the HEP.TrkX ``discrete_extraps`` toy code
(``data.py``, ``toy/LSTM_Toy2D.ipynb``, ``toy/Torch_LSTM_Toy2D.ipynb``,
``toy/Conv2D_Toy2D.ipynb``; the 3D scripts ``runLSTM.py``/``runConv.py``).  Our
reading of it:

* their 2D toy ("1D detector layers") is 50 layers × 50 pixels (48 × 48 in the
  conv notebook) with ``seed_size = 5`` seed layers: ``ToyConfig(n_layers=50,
  n_seed_layers=5, clean_seed_layers=True)`` (the reference settings of the toy
  bench, ``bench.REFERENCE_SETTINGS``); the 3D scripts use 10 planes of 32 × 32;
* noise is a per-pixel Bernoulli probability (``generate_uniform_noise(n, shape,
  prob, skip_layers=5)``: ``random_sample(...) < prob``), not a fixed hit count;
  "1 track + 20 % noise" is ``noise_prob = 0.2`` (``LSTM_Toy2D.ipynb``:
  ``noise_prob = 0.2``, "20% uniform binary noise hits"); the 3D scripts default
  to ``0.01``;
* background tracks are straight tracks from uniform entry/exit points, a fixed
  number per event in the 2D notebooks (``num_bkg_tracks = 5``), Poisson in the
  3D scripts;
* **noise and background hits are removed from the seed layers**
  (``skip_layers``): the first layers hold the signal track only, which is how
  their models (no separate seed input) know which track to follow.
  ``clean_seed_layers=True`` reproduces this;
* the models score every pixel of a layer with a softmax and the published
  "hit classification accuracy" multiplies the scores by the hit image before
  the arg-max (``preds * events``), i.e. only hit pixels can be chosen
  (``mask_hits=True`` of our models), and counts every layer, the seed layers
  included (``calc_hit_accuracy`` with ``num_seed_layers=0``);
* their track hits pixel ``round(m·l + b)`` with entry and exit uniform in
  ``[0, P − 1)``; ours ``floor`` of a position with entry and exit uniform in
  ``[0, P)`` — the same pixel statistics up to the half-weight edge pixels.

Track parameters: ``slope`` [pixels per layer] and ``intercept`` [pixels,
position on layer 0] of the first transverse axis, the quantities the
end-to-end regression predicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field

from tracklearn.geometry.toy import (
    CylinderToyGeometry,
    PixelToyGeometry,
    cylinder_track_pixels,
    embed_layer_index,
    straight_track_cells,
)
from tracklearn.io.npz import load_npz_arrays
from tracklearn.typing import FloatArray, IntArray


class ToyConfig(BaseModel):
    """Settings of the pixel toys; ``pixels=[50]`` is toy2d, ``[32, 32]`` toy3d."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["pixel", "cylinder"] = "pixel"
    n_layers: int = Field(10, ge=2)
    pixels: tuple[int, ...] = (50,)  # pixel kind: pixels per transverse axis
    pixels_inner: int = Field(8, ge=1)  # cylinder kind: pixels of the innermost layer
    embedding: int = Field(64, ge=2)  # cylinder kind: fixed φ bins per layer
    max_curvature: float = Field(0.05, ge=0)  # cylinder kind: |dφ/dr| [rad per layer]
    n_background: float = Field(0.0, ge=0)  # background tracks per event
    poisson_background: bool = False  # draw the count from Poisson(n_background)
    noise_prob: float = Field(0.0, ge=0, lt=1)  # per-pixel noise probability
    n_seed_layers: int = Field(3, ge=1)
    clean_seed_layers: bool = False  # HEP.TrkX: no noise/background hits on the seed layers


TOY2D = ToyConfig()
TOY3D = ToyConfig(pixels=(32, 32))
TOY_CYLINDER = ToyConfig(kind="cylinder")


@dataclass(frozen=True)
class ToySample:
    """A batch of toy events (struct of arrays).

    Attributes
    ----------
    hits
        Binary hit images. Shapes: (N, L, C) float32, ``C`` cells per layer
        (``P`` for toy2d, ``32·32`` flattened for toy3d, ``E`` for the cylinder).
    seed
        The signal hits on the seed layers. Shapes: (N, L, C) float32.
    target
        Cell of the signal track on each layer (always a hit). Shapes: (N, L) int64.
    params
        ``(slope, intercept)`` of every track, signal first, NaN padded
        [pixels per layer, pixels]. Shapes: (N, K, 2) float64.
    n_tracks
        Tracks per event, signal included. Shapes: (N,) int64.
    pixels
        Transverse image shape of one layer (for the conv models), e.g. ``(50,)``.
    n_seed_layers
        Layers carrying the seed; accuracies count only the later layers.
    """

    hits: npt.NDArray[np.float32]
    seed: npt.NDArray[np.float32]
    target: IntArray
    params: FloatArray
    n_tracks: IntArray
    pixels: tuple[int, ...]
    n_seed_layers: int

    def __post_init__(self) -> None:
        n, n_layers, n_cells = self.hits.shape
        if self.seed.shape != self.hits.shape or self.target.shape != (n, n_layers):
            raise ValueError("seed/target shapes do not match hits")
        if int(np.prod(self.pixels)) != n_cells:
            raise ValueError(f"pixels {self.pixels} do not flatten to {n_cells} cells")
        if len(self.n_tracks) != n or self.params.shape[:1] != (n,):
            raise ValueError("n_tracks/params length differ from hits")

    def __len__(self) -> int:
        return len(self.n_tracks)

    def subset(self, rows: IntArray | slice) -> ToySample:
        """A new sample with the given events."""
        return ToySample(
            self.hits[rows],
            self.seed[rows],
            self.target[rows],
            self.params[rows],
            self.n_tracks[rows],
            self.pixels,
            self.n_seed_layers,
        )


def _pixel_tracks(
    geom: PixelToyGeometry, n: int, rng: np.random.Generator
) -> tuple[IntArray, FloatArray]:
    """Cells (n, L) and (slope, intercept) (n, 2) of tracks entering and leaving the grid."""
    dims = np.asarray(geom.pixels, dtype=np.float64)
    entry = rng.uniform(0, 1, (n, len(dims))) * dims
    exit_ = rng.uniform(0, 1, (n, len(dims))) * dims
    cells = straight_track_cells(geom, entry, exit_)
    slope = (exit_[:, 0] - entry[:, 0]) / (geom.n_layers - 1)
    return cells, np.stack([slope, entry[:, 0]], axis=1)


def _cylinder_tracks(
    geom: CylinderToyGeometry, n: int, cfg: ToyConfig, rng: np.random.Generator
) -> tuple[IntArray, FloatArray]:
    phi0 = rng.uniform(0, 2 * np.pi, n)
    curv = rng.uniform(-cfg.max_curvature, cfg.max_curvature, n)
    pix = cylinder_track_pixels(geom, phi0, curv)
    cells = embed_layer_index(pix, geom.layer_pixels[None, :], geom.embedding)
    return cells, np.stack([curv, phi0], axis=1)


def generate_toy(n_events: int, seed: int, cfg: ToyConfig = TOY2D) -> ToySample:
    """``n_events`` toy events; the same ``(seed, cfg)`` gives the same events.

    Shapes: see :class:`ToySample`.
    """
    rng = np.random.default_rng(seed)
    if cfg.n_seed_layers >= cfg.n_layers:
        raise ValueError("n_seed_layers must be smaller than n_layers")
    n_bg = (
        rng.poisson(cfg.n_background, n_events)
        if cfg.poisson_background
        else np.full(n_events, round(cfg.n_background))
    ).astype(np.int64)
    n_tracks = n_bg + 1
    total = int(n_tracks.sum())
    if cfg.kind == "pixel":
        pixels = tuple(cfg.pixels)
        cells, params = _pixel_tracks(PixelToyGeometry(cfg.n_layers, pixels), total, rng)
    else:
        cyl = CylinderToyGeometry(cfg.n_layers, cfg.pixels_inner, cfg.embedding)
        pixels = (cfg.embedding,)
        cells, params = _cylinder_tracks(cyl, total, cfg, rng)
    n_cells = int(np.prod(pixels))
    event_of = np.repeat(np.arange(n_events), n_tracks)
    first = np.cumsum(n_tracks) - n_tracks  # the signal is each event's first track
    hits = (rng.random((n_events, cfg.n_layers, n_cells)) < cfg.noise_prob).astype(np.float32)
    layer = np.broadcast_to(np.arange(cfg.n_layers), cells.shape)
    ok = cells >= 0
    hits[np.broadcast_to(event_of[:, None], cells.shape)[ok], layer[ok], cells[ok]] = 1.0
    target = cells[first]
    seed_img = np.zeros_like(hits)
    rows = np.arange(n_events)
    for layer_k in range(cfg.n_seed_layers):
        seed_img[rows, layer_k, target[:, layer_k]] = 1.0
    if cfg.clean_seed_layers:  # only the signal track on the seed layers (HEP.TrkX)
        hits[:, : cfg.n_seed_layers] = seed_img[:, : cfg.n_seed_layers]
    k_max = int(n_tracks.max()) if n_events else 1
    padded = np.full((n_events, k_max, 2), np.nan)
    slot = np.arange(total) - first[event_of]
    padded[event_of, slot] = params
    return ToySample(hits, seed_img, target, padded, n_tracks, pixels, cfg.n_seed_layers)


def save_toy(sample: ToySample, path: str | Path) -> None:
    """Write a sample as a compressed ``.npz`` (what ``tracklearn simulate`` writes)."""
    from tracklearn.io.atomic import atomic_path

    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(
            fh,
            hits=sample.hits.astype(np.uint8),
            seed=sample.seed.astype(np.uint8),
            target=sample.target,
            params=sample.params,
            n_tracks=sample.n_tracks,
            pixels=np.asarray(sample.pixels),
            n_seed_layers=np.asarray(sample.n_seed_layers),
        )


def load_toy(path: str | Path) -> ToySample:
    """Read a sample written by :func:`save_toy`; a missing key raises :class:`DataError`."""
    keys = ("hits", "seed", "target", "params", "n_tracks", "pixels", "n_seed_layers")
    f = load_npz_arrays(path, keys, "toy sample")
    return ToySample(
        f["hits"].astype(np.float32),
        f["seed"].astype(np.float32),
        f["target"].astype(np.int64),
        f["params"].astype(np.float64),
        f["n_tracks"].astype(np.int64),
        tuple(int(p) for p in f["pixels"]),
        int(f["n_seed_layers"]),
    )
