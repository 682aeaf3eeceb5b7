"""Parquet event store: many events in one folder, one Parquet file per table.

``store/hits.parquet`` (and ``truth``, ``particles``, ``cells``) hold the rows of
every event with an extra ``event_id`` column; reading one event filters on it.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tracklearn.edm import Event
from tracklearn.errors import DataError
from tracklearn.io.atomic import atomic_path
from tracklearn.io.trackml import PARTS


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


def store_event_ids(store: str | Path) -> list[int]:
    """Event ids present in the store."""
    path = Path(store) / "hits.parquet"
    if not path.exists():
        raise DataError(path, "file does not exist (not a tracklearn Parquet store)")
    ids = pq.read_table(path, columns=["event_id"]).column("event_id")
    return sorted(int(i) for i in pc.unique(ids).to_pylist())


def read_store_event(store: str | Path, event_id: int) -> Event:
    """Read one event from the store."""
    store = Path(store)
    tables = {}
    for part, cls in PARTS.items():
        path = store / f"{part}.parquet"
        if not path.exists():
            if part == "hits":
                raise DataError(path, "file does not exist (not a tracklearn Parquet store)")
            continue
        try:
            t = pq.read_table(path, filters=[("event_id", "=", event_id)])
        except (pa.ArrowInvalid, OSError) as exc:
            raise DataError(path, f"unreadable Parquet file ({exc})") from None
        if t.num_rows == 0 and part == "hits":
            raise DataError(path, f"no hits for event {event_id}")
        if t.num_rows or part == "cells":
            cols = {name: t.column(name).to_numpy() for name in t.column_names}
            tables[part] = cls.from_columns(cols, source=str(path))
    return Event(event_id=event_id, source=f"{store}[event {event_id}]", **tables)
