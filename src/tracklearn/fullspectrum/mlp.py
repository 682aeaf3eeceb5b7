"""Small fully connected networks evaluated with numpy (no torch at reconstruction).

The full-spectrum tracker's classifiers are trained with torch
(:mod:`tracklearn.training.fullspectrum`) and stored as plain arrays; scoring a
few hundred thousand candidates this way takes milliseconds and keeps
``tracklearn reconstruct`` free of the torch import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from tracklearn.errors import DataError
from tracklearn.typing import FloatArray

F32 = npt.NDArray[np.float32]

#: rows per block in :meth:`NumpyMLP.logit` (bounds its memory: 2^17 rows × 64 floats = 32 MB)
BLOCK_ROWS = 1 << 17


@dataclass(frozen=True, eq=False)
class NumpyMLP:
    """A ReLU MLP with one logit output and standardised inputs.

    Attributes
    ----------
    weights : list of float32 arrays, shapes (F, H1), (H1, H2), ..., (Hk, 1)
    biases : list of float32 arrays, shapes (H1,), ..., (1,)
    mean, scale : float32, shape (F,)
        Inputs are ``(x - mean) / scale`` before the first layer.
    feature_names : tuple of str
        Name of each input column, in order.
    """

    weights: list[F32]
    biases: list[F32]
    mean: F32
    scale: F32
    feature_names: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.weights) != len(self.biases) or not self.weights:
            raise DataError("mlp", "weights and biases must be non-empty lists of equal length")
        n_in = len(self.feature_names)
        if self.weights[0].shape[0] != n_in or self.mean.shape != (n_in,):
            raise DataError("mlp", f"first layer and scaling must take {n_in} features")
        for w, b in zip(self.weights, self.biases, strict=True):
            if w.ndim != 2 or b.shape != (w.shape[1],):
                raise DataError("mlp", "layer shapes do not chain")
        if self.weights[-1].shape[1] != 1:
            raise DataError("mlp", "the last layer must have one output")

    def logit(self, features: npt.ArrayLike) -> FloatArray:
        """Logits, shape (N,), of features of shape (N, F).

        Rows are evaluated in blocks of :data:`BLOCK_ROWS`, so the hidden layers of
        millions of seeds never sit in memory at once.
        """
        x = np.asarray(features, np.float32)
        out = np.empty(len(x), np.float64)
        last = len(self.weights) - 1
        for start in range(0, len(x), BLOCK_ROWS):
            h = (x[start : start + BLOCK_ROWS] - self.mean) / self.scale
            for k, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
                h = h @ w + b
                if k < last:
                    np.maximum(h, 0.0, out=h)
            out[start : start + BLOCK_ROWS] = h[:, 0]
        return out

    def predict(self, features: npt.ArrayLike) -> FloatArray:
        """Probabilities, shape (N,)."""
        return np.asarray(0.5 * (1.0 + np.tanh(0.5 * self.logit(features))), np.float64)

    def save(self, path: str | Path) -> None:
        arrays: dict[str, npt.NDArray[np.generic]] = {
            "mean": self.mean,
            "scale": self.scale,
            "feature_names": np.array(self.feature_names),
        }
        for k, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            arrays[f"w{k}"] = w
            arrays[f"b{k}"] = b
        np.savez(path, **arrays)  # type: ignore[arg-type]

    @classmethod
    def load(cls, path: str | Path) -> NumpyMLP:
        try:
            with np.load(path) as f:
                n = sum(1 for k in f.files if k.startswith("w"))
                return cls(
                    [f[f"w{k}"].astype(np.float32) for k in range(n)],
                    [f[f"b{k}"].astype(np.float32) for k in range(n)],
                    f["mean"].astype(np.float32),
                    f["scale"].astype(np.float32),
                    tuple(str(s) for s in f["feature_names"]),
                )
        except (OSError, KeyError, ValueError) as exc:
            raise DataError(path, f"not a network file ({exc})") from None
