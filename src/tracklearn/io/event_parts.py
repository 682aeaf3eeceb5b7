"""Names shared by the TrackML CSV reader and the Parquet event store.

Both :mod:`tracklearn.io.trackml` and :mod:`tracklearn.io.parquet` import them
from here, so that the store module never imports the CSV reader (which
imports the store: the two would form an import cycle).
"""

from __future__ import annotations

from tracklearn.edm import Cells, Hits, Particles, Truth
from tracklearn.edm._table import Table

__all__ = ["PARTS", "STORE_MARKER", "event_prefix_name"]

#: the tables of an event, by part name
PARTS: dict[str, type[Table]] = {
    "hits": Hits,
    "cells": Cells,
    "particles": Particles,
    "truth": Truth,
}
#: the table whose presence makes a folder a Parquet event store (:mod:`tracklearn.io.parquet`)
STORE_MARKER = "hits.parquet"


def event_prefix_name(event_id: int) -> str:
    """``1000`` → ``event000001000`` (the TrackML 9-digit form)."""
    return f"event{event_id:09d}"
