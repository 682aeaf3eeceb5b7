"""Parquet event store: many events in one folder, one Parquet file per table.

``store/hits.parquet`` (and ``truth``, ``particles``, ``cells``) hold the rows of
every event with an extra ``event_id`` column; reading one event filters on it.
``tracklearn simulate --format parquet`` writes a store; every command that reads
events accepts it: the folder stands for all its events and ``store/event000001000``
(a prefix with no CSV files beside it) for one (see
:func:`tracklearn.io.trackml.find_events` and :func:`~tracklearn.io.trackml.read_event`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracklearn.edm import Event
from tracklearn.edm._table import Table
from tracklearn.errors import DataError
from tracklearn.io.atomic import atomic_path
from tracklearn.io.event_parts import PARTS, STORE_MARKER

#: what reading a damaged Parquet file raises (ArrowInvalid is also a ValueError)
_READ_ERRORS = (pa.ArrowException, OSError, ValueError)


def write_store(events: Iterable[Event], store: str | Path) -> Path:
    """Write ``events`` to the folder ``store`` (replacing its tables atomically)."""
    store = Path(store)
    store.mkdir(parents=True, exist_ok=True)
    batches: dict[str, list[pa.Table]] = {p: [] for p in PARTS}
    for ev in events:
        for part in PARTS:
            table = getattr(ev, part)
            if table is None:
                continue
            cols = table.to_columns()
            n = len(table)
            arrays = {"event_id": np.full(n, ev.event_id, dtype=np.int64), **cols}
            batches[part].append(pa.table(arrays))
    if not batches["hits"]:
        raise DataError(store, "no events to write")
    for part, tables in batches.items():
        if not tables:
            continue
        table = pa.concat_tables(tables, promote_options="default")
        with atomic_path(store / f"{part}.parquet") as tmp:
            pq.write_table(table, tmp, compression="zstd")
    return store


def is_store(folder: str | Path) -> bool:
    """Whether ``folder`` is a Parquet event store (holds ``hits.parquet``)."""
    return (Path(folder) / STORE_MARKER).is_file()


def _read(path: Path, **kwargs: object) -> pa.Table:
    """``pq.read_table`` whose failures are one-line :class:`DataError`\\s naming ``path``."""
    try:
        return pq.read_table(path, **kwargs)
    except _READ_ERRORS as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(path, f"unreadable Parquet file, truncated or corrupt? ({msg})") from None


def store_event_ids(store: str | Path) -> list[int]:
    """Event ids present in the store."""
    path = Path(store) / STORE_MARKER
    if not path.exists():
        raise DataError(path, "file does not exist (not a tracklearn Parquet store)")
    if path.stat().st_size == 0:
        raise DataError(path, "file is empty")
    ids = _read(path, columns=["event_id"]).column("event_id")
    return sorted(int(i) for i in pc.unique(ids).to_pylist())


def table_source(store: str | Path, part: str, event_id: int) -> str:
    """How errors name one event's rows of a store table: ``store/hits.parquet[event 1000]``."""
    return f"{Path(store) / f'{part}.parquet'}[event {event_id}]"


def read_store_tables(
    store: str | Path, event_id: int, parts: Sequence[str] = tuple(PARTS)
) -> dict[str, Table]:
    """The tables ``parts`` of one event that the store holds (absent ones are left out).

    A table file that is missing, or holds no rows of the event, counts as absent,
    except ``cells``, which may be empty.  A damaged file or a bad column raises
    :class:`DataError` naming the file.
    """
    store = Path(store)
    tables: dict[str, Table] = {}
    for part in dict.fromkeys(parts):
        path = store / f"{part}.parquet"
        if not path.exists():
            continue
        if path.stat().st_size == 0:
            raise DataError(path, "file is empty")
        t = _read(path, filters=[("event_id", "=", event_id)])
        if t.num_rows or part == "cells":
            cols = {name: t.column(name).to_numpy() for name in t.column_names}
            cols.pop("event_id", None)
            tables[part] = PARTS[part].from_columns(
                cols, source=table_source(store, part, event_id)
            )
    return tables
