"""Terminal tables, progress bars and event displays for the CLI."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tracklearn.edm import Event
from tracklearn.errors import ConfigError


def event_summary(event: Event) -> dict[str, Any]:
    """One row describing ``event``: hits, volumes, particles, noise, weights."""
    vols, counts = np.unique(event.hits.volume_id, return_counts=True)
    row: dict[str, Any] = {
        "event": event.event_id,
        "hits": event.n_hits,
        "volumes": " ".join(f"{v}:{c}" for v, c in zip(vols, counts, strict=True)),
        "cells": "-" if event.cells is None else len(event.cells),
        "particles": "-" if event.particles is None else len(event.particles),
    }
    if event.truth is not None:
        row["noise frac"] = f"{np.mean(event.truth.particle_id == 0):.3f}"
        row["weight sum"] = f"{event.truth.weight.sum():.4f}"
    if event.particles is not None:
        row["pT>1 GeV"] = int(np.count_nonzero(event.particles.pt >= 1.0))
    return row


def print_table(title: str, rows: Sequence[dict[str, Any]]) -> None:
    """Print ``rows`` (dicts with the same keys) as a rich table."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=escape(title))
    keys = list(dict.fromkeys(k for r in rows for k in r))
    # escape: rich would read cells like "mean pT [GeV]" as markup and drop "[GeV]"
    for k in keys:
        table.add_column(escape(str(k)), justify="right")
    for r in rows:
        table.add_row(*(escape(_fmt(r.get(k, ""))) for k in keys))
    console = Console()
    if not console.is_terminal:
        console = Console(width=160)  # logs: do not squeeze the table to 80 columns
    console.print(table)


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


@contextlib.contextmanager
def progress_bar(description: str, total: int) -> Iterator[Callable[[], None]]:
    """A rich progress bar on stderr; yields a function that advances it by one."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        disable=not console.is_terminal,  # logs and pipes get the summary line only
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda: progress.advance(task)


def display_event(prefix: Path, out: Path, tracks_dir: Path | None) -> Path:
    """Write a display of the event; the suffix of ``out`` chooses the kind.

    ``.png``, ``.pdf``, ``.svg``: x-y and r-z views, hits coloured by track, else by
    true particle.  ``.html``: one self-contained interactive page (3D, x-y, r-z)
    coloured by match status when there are tracks and truth
    (:mod:`tracklearn.plotting.html` says what is drawn).
    """
    from tracklearn.io import (
        read_event,
        read_tracks,
        read_tracks_labelled,
        save_figure,
    )
    from tracklearn.io.tracks import find_tracks_file

    suffix = out.suffix.lower()
    if suffix not in {".png", ".pdf", ".svg", ".html"}:
        raise ConfigError(f"{out}: display writes .png, .pdf, .svg or .html")
    if suffix == ".html":
        from tracklearn.plotting.html import event_layers, write_html_display

        event = read_event(prefix, parts=("hits", "truth", "particles"))
        tracks = track_ids = None
        if tracks_dir is not None:
            path = find_tracks_file(tracks_dir, event.event_id)
            tracks, track_ids = read_tracks_labelled(path, event)
        layers, what = event_layers(event, tracks, track_ids)
        return write_html_display(out, event.hits, layers, title=f"event {event.event_id}: {what}")

    from matplotlib.figure import Figure

    from tracklearn.plotting.display import draw_event

    event = read_event(prefix, parts=("hits", "truth"))
    if tracks_dir is not None:
        labels = read_tracks(find_tracks_file(tracks_dir, event.event_id), event).to_labels()
        what = "reconstructed tracks"
    elif event.truth is not None:
        _, labels = np.unique(event.truth.particle_id, return_inverse=True)
        labels = np.where(event.truth.particle_id == 0, 0, labels)
        what = "true particles"
    else:
        labels = np.zeros(event.n_hits, dtype=np.int64)
        what = "hits (no truth)"
    fig = Figure(figsize=(13, 6.2), layout="constrained")
    ax_xy, ax_rz = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
    draw_event(ax_xy, ax_rz, event.hits, labels, title=f"event {event.event_id}: {what}")
    save_figure(fig, out, dpi=130)
    return out


def format_cell(v: Any) -> str:
    """A table cell: floats to 3 significant digits (whole numbers from 1000 on)."""
    if not isinstance(v, float):
        return str(v)
    return f"{v:.0f}" if 1000 <= abs(v) < 1e15 else f"{v:.3g}"


def markdown_table(
    rows: Sequence[Mapping[str, Any]], keys: Sequence[str] | None = None
) -> list[str]:
    """Lines of a Markdown table: floats to 3 significant digits (whole numbers from 1000
    on, never an exponent there), missing cells ``–``.

    ``keys`` are the columns in order (default: the keys of the first row).
    """
    keys = list(keys) if keys is not None else (list(rows[0]) if rows else [])
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        cells = []
        for k in keys:
            v = r.get(k, "–")
            cells.append(format_cell(v))
        lines.append("| " + " | ".join(cells) + " |")
    return lines
