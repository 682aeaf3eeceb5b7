"""TrackML CSV(.gz) events: strict reading and writing.

File layout (as in the TrackML challenge): an event *prefix* such as
``data/event000001000`` names ``event000001000-{hits,cells,particles,truth}.csv``
(or ``.csv.gz``).  Every problem with a file raises :class:`DataError` whose
message names the file and the problem in one line.

The same functions read the Parquet event store (:mod:`tracklearn.io.parquet`): a
store folder stands for all its events, and ``store/event000001000`` (a prefix with
no CSV files, in a folder holding ``hits.parquet``) for one of them.  They also
read ROOT events (:mod:`tracklearn.io.root`): the prefix ``dir/event000001000``
names ``dir/event000001000.root`` when there are no CSV files of that event.
"""

from __future__ import annotations

import gzip
import logging
import re
import zlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from tracklearn.datapaths import shared_data_dir
from tracklearn.edm import Detector, Event, Hits, Truth
from tracklearn.edm._table import Table
from tracklearn.errors import ConfigError, DataError
from tracklearn.io.atomic import atomic_path
from tracklearn.io.event_parts import PARTS, STORE_MARKER, event_prefix_name

log = logging.getLogger(__name__)

_EVENT_RE = re.compile(r"event(\d+)$")
_ROOT_EVENT_RE = re.compile(r"event\d+\.root$")

T = TypeVar("T", bound=Table)


def event_id_from_prefix(prefix: str | Path) -> int:
    """The integer id in an event prefix: ``.../event000001000`` → 1000."""
    m = _EVENT_RE.search(Path(prefix).name)
    if not m:
        raise DataError(prefix, "not an event prefix (expected a name like event000001000)")
    return int(m.group(1))


def part_path(prefix: str | Path, part: str) -> Path | None:
    """Existing file for ``part`` of the event (``.csv`` or ``.csv.gz``), or None.

    Both present is ambiguous (which one is the event?) and raises :class:`DataError`
    naming both.
    """
    prefix = Path(prefix)
    found = [
        p
        for ext in (".csv", ".csv.gz")
        if (p := prefix.parent / f"{prefix.name}-{part}{ext}").exists()
    ]
    if len(found) > 1:
        raise DataError(
            found[0], f"both {found[0].name} and {found[1].name} exist; remove one of them"
        )
    return found[0] if found else None


def _normalise_prefix(path: str | Path) -> Path:
    """A prefix, or one of its files (``event1-hits.csv.gz``, ``event1.root``) → ``event1``."""
    p = Path(path)
    m = re.match(r"(event\d+)(-(hits|cells|particles|truth|tracks)\.csv(\.gz)?|\.root)$", p.name)
    return p.parent / m.group(1) if m else p


def root_event_file(prefix: str | Path) -> Path | None:
    """The event's ROOT file (``prefix.root``) when it exists, else None.

    A ROOT file beside CSV hits of the same event is ambiguous (which one is the
    event?) and raises :class:`DataError` naming both.
    """
    prefix = Path(prefix)
    path = prefix.parent / f"{prefix.name}.root"
    if not path.is_file():
        return None
    csv = part_path(prefix, "hits")
    if csv is not None:
        raise DataError(path, f"both {path.name} and {csv.name} exist; remove one of them")
    return path


def _store_of(prefix: Path) -> Path | None:
    """The Parquet store that holds the event ``prefix`` when it has no CSV hits file."""
    from tracklearn.io.parquet import is_store  # pyarrow: imported when needed

    if (
        part_path(prefix, "hits") is None
        and root_event_file(prefix) is None
        and is_store(prefix.parent)
    ):
        return prefix.parent
    return None


def _store_prefixes(store: Path) -> set[Path]:
    from tracklearn.io.parquet import store_event_ids

    return {store / event_prefix_name(i) for i in store_event_ids(store)}


def find_events(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders and files into sorted, unique event prefixes (those with hits).

    A folder holds TrackML CSV events and ROOT events (``event<id>.root``), or is
    a Parquet store (``hits.parquet``): its events are ``folder/event<id>`` either
    way.  A table file of a store (``store/hits.parquet``) stands for all the
    store's events.

    Raises :class:`DataError` for a path that does not exist, a folder with no
    events, an event both in CSV and in ROOT, or a folder holding both CSV or ROOT
    events and a store.
    """
    out: set[Path] = set()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            in_csv = {_normalise_prefix(f) for f in p.glob("event*-hits.csv*")}
            in_root = {
                _normalise_prefix(f) for f in p.glob("event*.root") if _ROOT_EVENT_RE.match(f.name)
            }
            for prefix in sorted(in_csv & in_root)[:1]:
                root_event_file(prefix)  # raises: names both files
            found = in_csv | in_root
            if (p / STORE_MARKER).is_file():
                if found:
                    kinds = [k for k, s in (("TrackML CSV", in_csv), ("ROOT", in_root)) if s]
                    raise DataError(
                        p,
                        f"holds both {' and '.join(kinds)} events and a Parquet store "
                        f"({STORE_MARKER}); keep one of them",
                    )
                found = _store_prefixes(p)
            if not found:
                raise DataError(
                    p,
                    "no event*-hits.csv(.gz) or event*.root files or Parquet store "
                    f"({STORE_MARKER}) in this folder",
                )
            out |= found
        elif p.suffix == ".parquet" and p.stem in PARTS and p.is_file():
            if not (p.parent / STORE_MARKER).is_file():
                raise DataError(p, f"no {STORE_MARKER} beside it (not a tracklearn Parquet store)")
            out |= _store_prefixes(p.parent)
        else:
            prefix = _normalise_prefix(p)
            store = _store_of(prefix)
            if store is not None and _EVENT_RE.search(prefix.name):
                if prefix not in _store_prefixes(store):
                    raise DataError(p, f"no such event in the Parquet store {store}")
            elif part_path(prefix, "hits") is None and root_event_file(prefix) is None:
                raise DataError(p, "no such event (missing hits file)")
            out.add(prefix)
    return sorted(out)


def read_csv_checked(path: str | Path) -> pd.DataFrame:
    """Open a CSV(.gz) as a DataFrame; unreadable files raise :class:`DataError` naming them."""
    path = Path(path)
    name = str(path)
    if not path.exists():
        raise DataError(name, "file does not exist")
    if path.is_dir():
        raise DataError(name, "is a folder, not a file")
    if path.stat().st_size == 0:
        raise DataError(name, "file is empty")
    try:
        return pd.read_csv(path, compression="infer", low_memory=False)
    except PermissionError:
        raise DataError(name, "permission denied (file not readable)") from None
    except OSError as exc:
        if isinstance(exc, gzip.BadGzipFile):
            raise DataError(name, f"truncated or corrupt gzip file ({exc})") from None
        raise DataError(name, f"cannot read ({exc.strerror or exc})") from None
    except (EOFError, zlib.error) as exc:
        raise DataError(name, f"truncated or corrupt gzip file ({exc})") from None
    except pd.errors.EmptyDataError:
        raise DataError(name, "file is empty (no header)") from None
    except pd.errors.ParserError as exc:
        msg = str(exc).strip().splitlines()[-1]
        raise DataError(name, f"malformed CSV, possibly truncated ({msg})") from None
    except UnicodeDecodeError:
        raise DataError(name, "not a text CSV file (undecodable bytes)") from None


def read_table(path: str | Path, table: type[T], *, allow_empty: bool = False) -> T:
    """Read one CSV(.gz) into ``table``, checking columns, dtypes and finiteness."""
    name = str(path)
    df = read_csv_checked(path)
    missing = [c for c in table.column_names(include_optional=False) if c not in df.columns]
    if missing:
        raise DataError(name, f"missing column(s) {', '.join(missing)}")
    if len(df) == 0 and not allow_empty:
        raise DataError(name, "file has a header but no rows")
    columns: dict[str, Any] = {c: df[c].to_numpy() for c in df.columns if isinstance(c, str)}
    return table.from_columns(columns, source=name)


def read_detector(path: str | Path) -> Detector:
    """Read a TrackML ``detectors.csv(.gz)`` into a :class:`Detector`."""
    return read_table(path, Detector)


def read_event(
    prefix: str | Path,
    parts: Sequence[str] = ("hits", "truth", "particles", "cells"),
    *,
    require: Sequence[str] = ("hits",),
    detector: Detector | None = None,
) -> Event:
    """Read the available ``parts`` of one event.

    Parameters
    ----------
    prefix
        Event prefix (``dir/event000001000``) or the path of one of its files.
    parts
        Tables to read when present.  ``hits`` is always read.
    require
        Tables that must exist; a missing one raises :class:`DataError`.
    detector
        If given, every hit's (volume, layer, module) must be a module of it.

    Truth rows are reordered to follow the hits' order; a truth file whose
    ``hit_id``\\s differ from the hits' raises :class:`DataError`.  A prefix with
    no CSV files in a Parquet store folder is read from the store, and one with a
    ROOT file (``prefix.root``) from its trees, with the same checks.
    """
    prefix = _normalise_prefix(prefix)
    event_id = event_id_from_prefix(prefix)
    for part in set(parts) | set(require):
        if part not in PARTS:
            raise DataError(prefix, f"unknown event part {part!r}; valid: {', '.join(PARTS)}")
    wanted = list(dict.fromkeys(["hits", *parts, *require]))
    tables: dict[str, Any] = {}
    names: dict[str, str] = {}
    store = _store_of(prefix)
    root_file = None if store is not None else root_event_file(prefix)
    if root_file is not None:
        from tracklearn.io.root import read_event_root, tree_source  # uproot: when needed

        tables = dict(read_event_root(root_file, event_id, wanted, require))
        names = {part: tree_source(root_file, part) for part in wanted}
    elif store is not None:
        from tracklearn.io.parquet import read_store_tables, table_source

        tables = read_store_tables(store, event_id, wanted)
        names = {part: table_source(store, part, event_id) for part in wanted}
        for part in require:
            if part not in tables:
                what = "hits" if part == "hits" else f"{part} rows"
                raise DataError(store / f"{part}.parquet", f"no {what} for event {event_id}")
    else:
        for part in wanted:
            path = part_path(prefix, part)
            if path is None:
                if part in require:
                    raise DataError(f"{prefix}-{part}.csv(.gz)", "file does not exist")
                continue
            tables[part] = read_table(path, PARTS[part], allow_empty=part == "cells")
            names[part] = str(path)
    hits: Hits = tables["hits"]
    hits_name = names["hits"]
    n_unique = len(np.unique(hits.hit_id))
    if n_unique != len(hits):
        raise DataError(hits_name, f"{len(hits) - n_unique} duplicate hit_id values")
    if detector is not None:
        rows = detector.check_hits(hits.volume_id, hits.layer_id, hits.module_id, hits_name)
        detector.check_hit_positions(rows, hits.positions, hits.hit_id, hits_name)
    check_hit_scale(hits, hits_name)
    truth: Truth | None = tables.get("truth")
    if truth is not None:
        truth = _align_truth(truth, hits, names["truth"])
    try:
        return Event(
            event_id=event_id,
            hits=hits,
            truth=truth,
            particles=tables.get("particles"),
            cells=tables.get("cells"),
            source=hits_name,
        )
    except DataError as exc:
        raise DataError(str(prefix), exc.problem) from None


#: no tracker is larger than this [mm]: coordinates beyond it are in the wrong unit
MAX_COORDINATE = 100_000.0
#: an event whose hits all lie this close to the origin is suspicious [mm]
MIN_EXTENT = 10.0


def check_hit_scale(hits: Hits, source: str) -> None:
    """Sanity checks of the coordinate unit when no detector geometry is known.

    Coordinates beyond :data:`MAX_COORDINATE` (100 m) raise :class:`DataError`
    (they are not in mm, and would overflow the maths); an event of more than 10
    hits that all lie within :data:`MIN_EXTENT` of the origin (metres?) gets a
    warning.  With a geometry, :meth:`Detector.check_hit_positions` is exact.
    """
    if len(hits) == 0:
        return
    pos = hits.positions
    extent = float(np.abs(pos).max())
    if extent > MAX_COORDINATE:
        raise DataError(
            source,
            f"hit coordinates reach {extent:.3g} mm ({extent / 1e6:.3g} km), larger than any "
            "tracker: coordinates must be in mm (are they in µm?)",
        )
    if len(hits) > 10 and extent < MIN_EXTENT:
        log.warning(
            "%s: every hit lies within %.3g mm of the origin: coordinates must be in mm "
            "(are they in metres?)",
            source,
            extent,
        )


def _align_truth(truth: Truth, hits: Hits, source: str) -> Truth:
    if len(truth) != len(hits):
        raise DataError(source, f"truth has {len(truth)} rows but hits has {len(hits)}")
    if np.array_equal(truth.hit_id, hits.hit_id):
        return truth
    t_order = np.argsort(truth.hit_id, kind="stable")
    h_order = np.argsort(hits.hit_id, kind="stable")
    if not np.array_equal(truth.hit_id[t_order], hits.hit_id[h_order]):
        raise DataError(source, "truth hit_ids do not match the hits file")
    # row j of the result must be the truth row whose hit_id equals hits.hit_id[j]
    take = np.empty(len(hits), dtype=np.int64)
    take[h_order] = t_order
    return truth.take(take)


def write_table(path: str | Path, table: Table) -> Path:
    """Write ``table`` as CSV (gzip if the name ends in ``.gz``), atomically."""
    df = pd.DataFrame(table.to_columns())
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, compression="infer")
    return Path(path)


def write_event(event: Event, out_dir: str | Path, *, compress: bool = True) -> Path:
    """Write every present table of ``event`` under ``out_dir``; return the prefix."""
    out_dir = Path(out_dir)
    prefix = out_dir / event_prefix_name(event.event_id)
    ext = ".csv.gz" if compress else ".csv"
    for part in PARTS:
        table = getattr(event, part)
        if table is not None:
            write_table(prefix.parent / f"{prefix.name}-{part}{ext}", table)
    return prefix


def read_store_event(store: str | Path, event_id: int) -> Event:
    """One event of a Parquet store (every table it holds, checked as the CSV reader does)."""
    from tracklearn.io.parquet import is_store

    store = Path(store)
    if not is_store(store):
        raise DataError(store / STORE_MARKER, "no such file (not a tracklearn Parquet store)")
    return read_event(store / event_prefix_name(event_id), parts=tuple(PARTS))


def default_detector_path() -> Path:
    """``<shared data>/trackml/detectors.csv.gz`` (TrackML geometry, not shipped)."""
    return shared_data_dir() / "trackml" / "detectors.csv.gz"


def load_detector(path: str | Path | None) -> Detector:
    """The TrackML geometry from ``path`` (default :func:`default_detector_path`)."""
    p = Path(path) if path is not None else default_detector_path()
    if not p.exists():
        raise ConfigError(
            f"{p}: detector geometry not found; pass --geometry PATH/detectors.csv(.gz) "
            "(the TrackML detectors.csv is not shipped with tracklearn)"
        )
    return read_detector(p)
