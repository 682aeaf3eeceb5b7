"""Array type aliases shared by the package (written once, imported everywhere).

``FloatArray`` is float64 (positions [mm], momenta [GeV], angles [rad], ...);
``Float32Array`` holds model features; ``IntArray`` is int64 (row numbers, ids);
``BoolArray`` holds masks.
"""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["BoolArray", "Float32Array", "FloatArray", "IntArray"]

FloatArray: TypeAlias = npt.NDArray[np.float64]
Float32Array: TypeAlias = npt.NDArray[np.float32]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]
