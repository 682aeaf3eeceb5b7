"""Read named arrays from a ``.npz`` file with a one-line error naming the file."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tracklearn.errors import DataError


def load_npz_arrays(path: str | Path, keys: Sequence[str], what: str) -> dict[str, Any]:
    """The arrays ``keys`` of ``path``; :class:`DataError` if the file or a key is missing.

    ``what`` names the kind of file in the error (e.g. ``"toy sample"``).
    """
    path = Path(path)
    if not path.exists():
        raise DataError(path, f"no such {what} (make one with tracklearn simulate)")
    with np.load(path) as f:
        missing = [k for k in keys if k not in f.files]
        if missing:
            raise DataError(path, f"missing array {missing[0]!r}")
        return {k: f[k] for k in keys}
