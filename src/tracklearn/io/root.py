"""ROOT files (written and read with uproot): events, tracks and track parameters.

Events
------
``tracklearn simulate --format root`` writes **one file per event**,
``event000001000.root``, holding the TTrees ``hits``, ``cells`` (when the event
has cells), ``particles`` and ``truth``: one entry per row of the TrackML table,
one branch per TrackML column, with the column names and dtypes of the event
data model (``hit_id`` int64, ``x`` float64 [mm], ``volume_id`` int32, ...).
Every tree also has an ``event_id`` branch (int64, the same in every entry).

Why one file per event, and flat trees with ``event_id``:

* it is the TrackML layout, where an *event prefix* names an event: the prefix
  ``dir/event000001000`` names ``dir/event000001000.root`` as it names
  ``dir/event000001000-hits.csv``, so every command that takes events reads ROOT
  events unchanged, and a folder may mix the formats;
* each event is written atomically on its own, so the realistic simulation
  writes its events in parallel workers and a rerun resumes where it stopped (a
  single file for many events could only be written at the end, as the Parquet
  store is);
* the ``event_id`` branch makes many files one data set in ROOT itself:
  ``TChain c("hits"); c.Add("dir/event*.root");`` or
  ``uproot.concatenate("dir/event*.root:hits")`` give every hit of every event,
  with its event, and flat trees (one entry per hit, as the ACTS ROOT writers
  do) work directly with ``TTree::Draw("x:y", "event_id == 1000")`` and RDataFrame.

Tracks
------
``tracklearn reconstruct --format root`` writes ``event<id>-tracks.root`` with the
TTree ``tracks`` (``event_id``, ``hit_id``, ``track_id``: the CSV submission's
columns, one entry per hit, ``track_id`` 0 = unassigned) and, when the tracks
were fitted, the TTree ``track_params`` with exactly the columns and dtypes of
``event<id>-track-params.parquet`` (:mod:`tracklearn.io.track_params`); its
title states the perigee convention and the units.

Reading
-------
Every problem is a one-line :class:`~tracklearn.errors.DataError` naming the
file (and the tree, as ``file.root:hits``): missing file, empty, truncated or
corrupt file, missing tree or branch, a branch that is not one number per entry,
wrong dtype or NaN (the checks of the event data model, as for CSV and Parquet).
Trees written as RNTuples (uproot's default for ``file["name"] = {...}``) are
read too.  Every write is atomic (:func:`tracklearn.io.atomic.atomic_path`).

uproot is imported only when a ROOT file is read or written.
"""

from __future__ import annotations

import contextlib
import struct
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Event, TrackParameters
from tracklearn.edm._table import Table
from tracklearn.errors import DataError, TracklearnError
from tracklearn.io.atomic import atomic_path
from tracklearn.io.event_parts import PARTS, event_prefix_name
from tracklearn.io.track_params import COLUMNS as PARAM_COLUMNS
from tracklearn.io.track_params import CONVENTION, params_from_columns, track_params_columns

__all__ = [
    "ROOT_SUFFIX",
    "event_root_path",
    "read_event_root",
    "read_track_params_root",
    "read_tracks_root",
    "tracks_root_path",
    "write_event_root",
    "write_tracks_root",
]

ROOT_SUFFIX = ".root"
#: the tree of a tracks file, and of its fitted parameters
TRACKS_TREE = "tracks"
PARAMS_TREE = "track_params"
#: what a ROOT file's trees may be (uproot reads both the same way)
_TREE_CLASSES = ("TTree", "ROOT::RNTuple")


def _uproot() -> Any:
    try:
        import uproot  # only ROOT files need it
    except ImportError:  # pragma: no cover - uproot is a dependency of tracklearn
        raise TracklearnError(
            "ROOT files need uproot (pip install uproot; it is in requirements.lock)"
        ) from None
    return uproot


def _read_errors() -> tuple[type[BaseException], ...]:
    """What uproot raises for a damaged file: short reads (OSError), a bad header
    (ValueError), undecodable objects, and failed decompression of a basket."""
    import cramjam  # uproot's decompression library

    uproot = _uproot()
    return (
        OSError,
        ValueError,
        EOFError,
        zlib.error,
        cramjam.DecompressionError,
        uproot.deserialization.DeserializationError,
    )


def event_root_path(out_dir: str | Path, event_id: int) -> Path:
    """``out_dir/event000001000.root``: the ROOT file of one event."""
    return Path(out_dir) / f"{event_prefix_name(event_id)}{ROOT_SUFFIX}"


def tracks_root_path(out_dir: str | Path, event_id: int) -> Path:
    """``out_dir/event000001000-tracks.root``: tracks (and parameters) of one event."""
    return Path(out_dir) / f"{event_prefix_name(event_id)}-tracks{ROOT_SUFFIX}"


def tree_source(path: str | Path, tree: str) -> str:
    """How errors name a tree: ``dir/event000001000.root:hits`` (uproot's own notation)."""
    return f"{path}:{tree}"


def _title(part: str, table: type[Table]) -> str:
    units = ", ".join(f"{c.name} [{c.unit}]" for c in table.COLUMNS if c.unit)
    return f"TrackML {part}, one entry per row" + (f"; {units}" if units else "")


def _write_tree(f: Any, name: str, columns: Mapping[str, npt.NDArray[Any]], title: str) -> None:
    """One flat TTree: a branch per column, in order, with the arrays' dtypes."""
    tree = f.mktree(name, {k: v.dtype for k, v in columns.items()}, title=title)
    tree.extend({k: np.ascontiguousarray(v) for k, v in columns.items()})


def write_event_root(event: Event, out_dir: str | Path) -> Path:
    """Write ``event`` to ``out_dir/event<id>.root`` atomically; returns the path.

    One TTree per present table (``hits``, ``cells``, ``particles``, ``truth``),
    each with ``event_id`` first and then the TrackML columns with their dtypes.
    """
    uproot = _uproot()
    path = event_root_path(out_dir, event.event_id)
    with atomic_path(path) as tmp, uproot.recreate(tmp) as f:
        for part, table_type in PARTS.items():
            table = getattr(event, part)
            if table is None:
                continue
            ids = np.full(len(table), event.event_id, dtype=np.int64)
            _write_tree(f, part, {"event_id": ids, **table.to_columns()}, _title(part, table_type))
    return path


def _check_header(path: Path, size: int) -> None:
    """A ROOT file starts with ``root``, its version, ``fBEGIN`` and ``fEND``, the offset of
    the end of the file (32-bit, or 64-bit from version 1000000): a file shorter than
    ``fEND`` lost its tail (an interrupted copy or download)."""
    with path.open("rb") as f:
        head = f.read(21)
    if head[:4] != b"root":
        raise DataError(path, f"not a ROOT file (starts with {head[:4]!r}, not b'root')")
    if len(head) < 16:
        raise DataError(path, f"truncated ROOT file ({size} bytes, shorter than its header)")
    (version,) = struct.unpack(">i", head[4:8])
    large = version >= 1_000_000
    if large and len(head) < 21:
        raise DataError(path, f"truncated ROOT file ({size} bytes, shorter than its header)")
    (end,) = struct.unpack(">q", head[12:20]) if large else struct.unpack(">i", head[12:16])
    if size < end:
        raise DataError(path, f"truncated ROOT file ({size} of {end} bytes)")


@contextlib.contextmanager
def _open(path: str | Path) -> Iterator[Any]:
    """Open a ROOT file; a missing, empty, truncated or corrupt one raises :class:`DataError`.

    Errors while reading inside the ``with`` block are reported the same way.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(path, "file does not exist")
    if path.is_dir():
        raise DataError(path, "is a folder, not a file")
    size = path.stat().st_size
    if size == 0:
        raise DataError(path, "file is empty")
    uproot = _uproot()
    errors = _read_errors()
    try:
        _check_header(path, size)
        # a Path (not a str) is never split at a colon into file and object names
        with uproot.open(path) as f:
            yield f
    except PermissionError:
        raise DataError(path, "permission denied (file not readable)") from None
    except errors as exc:
        text = str(exc).strip()
        msg = text.splitlines()[0].strip() if text else type(exc).__name__
        raise DataError(path, f"unreadable ROOT file, truncated or corrupt? ({msg})") from None


def _trees(f: Any) -> dict[str, Any]:
    """The file's trees by name (highest cycle), TTrees and RNTuples."""
    names = f.classnames(cycle=False, recursive=False)
    return {name: f[name] for name, cls in names.items() if cls in _TREE_CLASSES}


def _read_branches(
    tree: Any,
    source: str,
    wanted: Sequence[str],
    required: Sequence[str],
) -> dict[str, npt.NDArray[Any]]:
    """The branches ``wanted`` that ``tree`` has (``required`` ones must be there).

    Each must hold one number per entry; its dtype is kept (the event data model
    checks it, as for CSV columns).
    """
    present = set(tree.keys())
    missing = [b for b in required if b not in present]
    if missing:
        raise DataError(source, f"missing branch(es) {', '.join(missing)}")
    names = [b for b in wanted if b in present]
    arrays = tree.arrays(names, library="np") if names else {}
    out: dict[str, npt.NDArray[Any]] = {}
    for name in names:
        arr = arrays[name]
        if arr.dtype == object or arr.ndim != 1:
            typename = tree.typenames().get(name, str(arr.dtype))
            raise DataError(
                source,
                f"branch {name!r} must hold one number per entry (a flat tree), found {typename}",
            )
        out[name] = arr
    return out


def _check_event_id(ids: npt.NDArray[Any] | None, event_id: int, source: str) -> None:
    if ids is None or len(ids) == 0:
        return
    if ids.dtype.kind not in "iu":
        raise DataError(source, f"branch 'event_id' must hold integers, got {ids.dtype}")
    bad = ids != event_id
    if bad.any():
        raise DataError(
            source,
            f"event_id branch holds {int(ids[np.argmax(bad)])}, but the file is event {event_id}",
        )


def read_event_root(
    path: str | Path,
    event_id: int,
    parts: Sequence[str] = tuple(PARTS),
    require: Sequence[str] = ("hits",),
) -> dict[str, Table]:
    """The tables ``parts`` of the event file ``path`` that it holds (absent trees left out).

    The trees ``require`` must be there.  A tree with no entries is an error (as
    a CSV file with no rows), except ``cells``.  A damaged file, a missing tree or
    branch, a bad dtype or NaN raises :class:`DataError` naming the file and tree.
    """
    tables: dict[str, Table] = {}
    with _open(path) as f:
        trees = _trees(f)
        for part in require:
            if part not in trees:
                raise DataError(path, f"no tree {part!r} (holds: {_list(trees)})")
        for part in dict.fromkeys([*require, *parts]):
            if part not in trees:
                continue
            table = PARTS[part]
            source = tree_source(path, part)
            tree = trees[part]
            if tree.num_entries == 0 and part != "cells":
                raise DataError(source, "tree has no entries")
            cols = _read_branches(
                tree,
                source,
                ["event_id", *table.column_names()],
                table.column_names(include_optional=False),
            )
            _check_event_id(cols.pop("event_id", None), event_id, source)
            tables[part] = table.from_columns(cols, source=source)
    return tables


def write_tracks_root(
    out_dir: str | Path,
    event_id: int,
    hit_id: npt.NDArray[np.int64],
    track_id: npt.NDArray[np.int64],
    params: TrackParameters | None = None,
) -> Path:
    """Write ``event<id>-tracks.root`` atomically; returns the path.

    Parameters
    ----------
    hit_id, track_id
        One entry per hit of the event, (N,); ``track_id`` 0 = unassigned.
    params
        Fitted parameters of the tracks (track ``t`` has ``track_id`` ``t + 1``),
        written as the ``track_params`` tree; None writes no such tree.
    """
    uproot = _uproot()
    path = tracks_root_path(out_dir, event_id)
    ids = np.full(len(hit_id), event_id, dtype=np.int64)
    with atomic_path(path) as tmp, uproot.recreate(tmp) as f:
        _write_tree(
            f,
            TRACKS_TREE,
            {
                "event_id": ids,
                "hit_id": np.asarray(hit_id, dtype=np.int64),
                "track_id": np.asarray(track_id, dtype=np.int64),
            },
            "reconstructed tracks (TrackML submission): one entry per hit, track_id 0 = unassigned",
        )
        if params is not None:
            _write_tree(
                f,
                PARAMS_TREE,
                track_params_columns(event_id, params),
                f"fitted track parameters, one entry per track; {CONVENTION}",
            )
    return path


def read_tracks_root(path: str | Path, event_id: int) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """``(hit_id, track_id)`` of the ``tracks`` tree of ``path``, as stored (unchecked dtypes).

    The caller (:func:`tracklearn.io.tracks.read_tracks_labelled`) checks them
    against the event as it does a CSV submission.
    """
    source = tree_source(path, TRACKS_TREE)
    with _open(path) as f:
        trees = _trees(f)
        if TRACKS_TREE not in trees:
            raise DataError(path, f"no tree {TRACKS_TREE!r} (holds: {_list(trees)})")
        cols = _read_branches(
            trees[TRACKS_TREE], source, ["event_id", "hit_id", "track_id"], ["hit_id", "track_id"]
        )
    _check_event_id(cols.get("event_id"), event_id, source)
    return cols["hit_id"], cols["track_id"]


def read_track_params_root(path: str | Path) -> tuple[np.ndarray, TrackParameters] | None:
    """The ``track_params`` tree of a tracks file as ``(track_id (M,), parameters)``.

    None when the file has no such tree (the tracks were not fitted).  Checked
    as :func:`tracklearn.io.track_params.read_track_params` checks a Parquet file.
    """
    source = tree_source(path, PARAMS_TREE)
    with _open(path) as f:
        trees = _trees(f)
        if PARAMS_TREE not in trees:
            return None
        cols = _read_branches(trees[PARAMS_TREE], source, PARAM_COLUMNS, PARAM_COLUMNS)
    return params_from_columns(source, cols)


def _list(trees: Mapping[str, Any]) -> str:
    return ", ".join(sorted(trees)) or "no trees"
