"""Column schemas shared by the event data model and the file readers.

Each table of the event data model (hits, cells, particles, truth) is a frozen
dataclass of equal-length 1-D numpy arrays.  Its :class:`Column` tuple is the one
place where names, dtypes and units are written down; the TrackML readers check
files against the same tuple.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from tracklearn.errors import DataError


@dataclass(frozen=True)
class Column:
    """One column of a table.

    Attributes
    ----------
    name
        Column name, as in the TrackML files.
    dtype
        numpy dtype the array is stored with.
    unit
        Human-readable unit (``""`` for ids and counts).
    finite
        Whether every value must be finite (floats only).
    optional
        Whether the column may be absent (then the field is ``None``).
    nonnegative
        Whether every value must be ``>= 0`` (detector ids, weights).
    """

    name: str
    dtype: str
    unit: str = ""
    finite: bool = True
    optional: bool = False
    nonnegative: bool = False

    @property
    def is_integer(self) -> bool:
        return np.dtype(self.dtype).kind in "iu"


def coerce_column(values: Any, col: Column, source: str) -> npt.NDArray[Any]:
    """Return ``values`` as a read-only 1-D array of ``col.dtype``, or raise :class:`DataError`.

    Integer columns accept integer input only (never floats, so 64-bit ids cannot
    be silently rounded); float columns accept integers or floats and must be
    finite when ``col.finite``.
    """
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise DataError(source, f"column {col.name!r} must be 1-D, got shape {arr.shape}")
    kind = arr.dtype.kind
    if col.is_integer:
        if kind == "f":
            if arr.size and not np.all(np.isfinite(arr)):
                raise DataError(source, f"column {col.name!r} has missing or NaN values")
            raise DataError(source, f"column {col.name!r} must hold integers, got floats")
        if kind not in "iub":
            raise DataError(source, f"column {col.name!r} must hold integers, got {arr.dtype}")
        target = np.dtype(col.dtype)
        if arr.size and kind in "iu":
            info = np.iinfo(target)
            lo, hi = int(arr.min()), int(arr.max())
            if lo < info.min or hi > info.max:
                raise DataError(source, f"column {col.name!r} has values outside {target}")
        out = arr.astype(target, copy=False)
    else:
        if kind not in "iuf":
            raise DataError(source, f"column {col.name!r} must be numeric, got {arr.dtype}")
        out = arr.astype(np.dtype(col.dtype), copy=False)
        if col.finite and out.size and not np.all(np.isfinite(out)):
            bad = int(np.count_nonzero(~np.isfinite(out)))
            raise DataError(source, f"column {col.name!r} has {bad} NaN or infinite values")
    if col.nonnegative and out.size and out.min() < 0:
        bad = int(np.count_nonzero(out < 0))
        raise DataError(
            source, f"column {col.name!r} has {bad} negative values (min {out.min()}); must be >= 0"
        )
    if out.flags.writeable:
        # Copy so that freezing never affects the caller's array; an array that is
        # already read-only with the right dtype is immutable and can be shared.
        out = out.copy()
        out.flags.writeable = False
    return out


class Table:
    """Mixin for struct-of-arrays dataclasses with a ``COLUMNS`` schema.

    Subclasses are frozen dataclasses whose fields are exactly the column names;
    ``__post_init__`` coerces dtypes, checks lengths and finiteness and makes the
    arrays read-only.
    """

    COLUMNS: ClassVar[tuple[Column, ...]]
    #: name used in error messages for objects built in memory
    SOURCE: ClassVar[str] = "table"

    def __post_init__(self) -> None:
        self._validate(self.SOURCE)

    def _validate(self, source: str) -> None:
        n: int | None = None
        for col in self.COLUMNS:
            value = getattr(self, col.name)
            if value is None:
                if not col.optional:
                    raise DataError(source, f"missing column {col.name!r}")
                continue
            arr = coerce_column(value, col, source)
            if n is None:
                n = len(arr)
            elif len(arr) != n:
                raise DataError(source, f"column {col.name!r} has {len(arr)} rows, expected {n}")
            object.__setattr__(self, col.name, arr)

    def __len__(self) -> int:
        return len(getattr(self, self.COLUMNS[0].name))

    @classmethod
    def column_names(cls, *, include_optional: bool = True) -> list[str]:
        return [c.name for c in cls.COLUMNS if include_optional or not c.optional]

    @classmethod
    def from_columns(cls, columns: dict[str, Any], source: str | None = None) -> Any:
        """Build the table from a mapping of column name to array-like.

        Extra keys are ignored; missing required columns raise :class:`DataError`
        naming ``source``.
        """
        src = source or cls.SOURCE
        kwargs: dict[str, Any] = {}
        for col in cls.COLUMNS:
            if col.name in columns:
                kwargs[col.name] = coerce_column(columns[col.name], col, src)
            elif col.optional:
                kwargs[col.name] = None
            else:
                raise DataError(src, f"missing column {col.name!r}")
        lengths = {len(v) for v in kwargs.values() if v is not None}
        if len(lengths) > 1:
            raise DataError(src, f"columns have different lengths {sorted(lengths)}")
        return cls(**kwargs)

    def to_columns(self) -> dict[str, npt.NDArray[Any]]:
        """Return the present columns as a dict (arrays are shared, read-only)."""
        out: dict[str, npt.NDArray[Any]] = {}
        for col in self.COLUMNS:
            value = getattr(self, col.name)
            if value is not None:
                out[col.name] = value
        return out

    def take(self, index: npt.ArrayLike) -> Any:
        """Return a new table with the rows ``index`` (integer array or boolean mask)."""
        idx = np.asarray(index)
        kwargs = {
            f.name: (None if getattr(self, f.name) is None else getattr(self, f.name)[idx])
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        }
        return type(self)(**kwargs)
