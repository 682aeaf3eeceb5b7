"""Validate simulated events against real TrackML data: read, compare, write a report.

This is the library side of ``tracklearn validate-simulation``.  The statistics
are in :mod:`tracklearn.simulation.validation`, the plots in
:mod:`tracklearn.plotting.validation`.  Real data (``--real``, default
``<shared data>/trackml``) is read from two sub-folders:

- ``hits_only/``: full real events with hits and particles (hit-level and
  particle-level statistics);
- ``particles_only/``: further real particle lists (particle-level only; optional);

and the cluster-shape rows from the events with cells directly in it (the 5 %
event ``event000000001``, with truth and particles), against the geometry
``detectors.csv(.gz)`` beside them.

Every input is read and checked before anything is written, so bad input
leaves no partial report.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tracklearn.edm import Particles
from tracklearn.edm.detector import Detector
from tracklearn.errors import DataError
from tracklearn.io import event_id_from_prefix, find_events, read_event, read_table
from tracklearn.io.atomic import save_figure, write_text_atomic
from tracklearn.io.trackml import part_path
from tracklearn.provenance import provenance
from tracklearn.simulation.validation import (
    CLUSTER_DEFINITION,
    CLUSTER_FLOOR_SIGMAS,
    CLUSTER_PT_MIN,
    FLOOR_CLUSTER,
    FLOOR_PT_SPECTRUM,
    PARTICLE_DEFINITION,
    PT_FLOOR_RANGE,
    PT_MIN,
    ClusterStats,
    HitEventStats,
    ParticleEventStats,
    Sample,
    ValidationResult,
    ValidationRow,
    cluster_stats,
    compare_samples,
    hit_event_stats,
    particle_event_stats,
)

log = logging.getLogger(__name__)

MD_NAME = "simulation-validation.md"
JSON_NAME = "validation.json"
_PARTICLES_RE = re.compile(r"(event\d+)-particles\.csv(\.gz)?$")


@dataclass(frozen=True)
class ValidationInputs:
    """The event files a validation will read.

    Attributes
    ----------
    sim_dir, real_dir
        The folders given.
    sim_events
        Simulated event prefixes (hits and particles required, truth optional).
    real_hit_events
        Real event prefixes with hits and particles (``real_dir/hits_only``).
    real_particle_files
        Further real ``particles`` files (``real_dir/particles_only``).
    real_cell_events
        Real event prefixes with cells, truth and particles (directly in
        ``real_dir``): cluster shapes only.
    geometry
        ``real_dir/detectors.csv(.gz)`` when present (needed for cluster shapes).
    """

    sim_dir: Path
    real_dir: Path
    sim_events: tuple[Path, ...]
    real_hit_events: tuple[Path, ...]
    real_particle_files: tuple[Path, ...] = ()
    real_cell_events: tuple[Path, ...] = ()
    geometry: Path | None = None

    @property
    def n_events(self) -> int:
        """Events to read in all (for a progress bar)."""
        real = len(self.real_hit_events) + len(self.real_particle_files)
        return len(self.sim_events) + real + len(self.real_cell_events)


def find_inputs(sim_dir: str | Path, real_dir: str | Path) -> ValidationInputs:
    """List the simulated and real events, failing early on missing ones.

    Raises
    ------
    DataError
        ``sim_dir`` is not a folder or holds no events; ``real_dir/hits_only``
        holds no real events.
    """
    sim, real = Path(sim_dir), Path(real_dir)
    if not sim.is_dir():
        raise DataError(sim, "simulation folder does not exist")
    hits_only = real / "hits_only"
    if not hits_only.is_dir():
        raise DataError(hits_only, "no real data: folder of real TrackML events does not exist")
    particles_only = real / "particles_only"
    particle_files: list[Path] = []
    if particles_only.is_dir():
        particle_files = sorted(p for p in particles_only.iterdir() if _PARTICLES_RE.search(p.name))
    cell_events = sorted(
        prefix
        for prefix in (_normalise(p) for p in real.glob("event*-cells.csv*"))
        if all(part_path(prefix, part) for part in ("hits", "truth", "particles"))
    )
    geometry = next(
        (g for g in (real / "detectors.csv.gz", real / "detectors.csv") if g.is_file()), None
    )
    return ValidationInputs(
        sim_dir=sim,
        real_dir=real,
        sim_events=tuple(find_events([sim])),
        real_hit_events=tuple(find_events([hits_only])),
        real_particle_files=tuple(particle_files),
        real_cell_events=tuple(cell_events),
        geometry=geometry,
    )


def _normalise(path: Path) -> Path:
    """``dir/event000000001-cells.csv.gz`` → ``dir/event000000001``."""
    return path.with_name(path.name.split("-")[0])


def read_sample(
    hit_events: Sequence[Path],
    particle_files: Sequence[Path] = (),
    on_event: Callable[[], None] | None = None,
    *,
    cell_events: Sequence[Path] | None = None,
    detector: Detector | None = None,
) -> Sample:
    """Read events into a :class:`Sample`.

    Parameters
    ----------
    hit_events
        Event prefixes with hits and particles (truth is used when present).
    particle_files
        Further particles files (particle-level statistics only).
    on_event
        Called after each event or file is read.
    cell_events
        Event prefixes whose cells give the cluster shapes (they need truth and
        particles); None: those of ``hit_events`` that have cells and truth.
    detector
        Geometry for the cluster shapes; without it the sample has none.
    """
    hits: list[HitEventStats] = []
    particles: list[ParticleEventStats] = []
    clusters: list[ClusterStats] = []
    with_cells = detector is not None and cell_events is None
    for prefix in hit_events:
        parts = (
            ("hits", "truth", "particles", "cells")
            if with_cells
            else ("hits", "truth", "particles")
        )
        event = read_event(prefix, parts=parts, require=("hits", "particles"))
        assert event.particles is not None  # required above
        truth_pid = None if event.truth is None else event.truth.particle_id
        hits.append(hit_event_stats(event.event_id, event.hits, event.particles, truth_pid))
        particles.append(particle_event_stats(event.event_id, event.particles))
        if with_cells and event.cells is not None and truth_pid is not None:
            assert detector is not None
            clusters.append(
                cluster_stats(event.hits, event.cells, truth_pid, event.particles, detector)
            )
        if on_event:
            on_event()
    for path in particle_files:
        event_id = event_id_from_prefix(path.name.split("-")[0])
        particles.append(particle_event_stats(event_id, read_table(path, Particles)))
        if on_event:
            on_event()
    if detector is not None:
        for prefix in cell_events or ():
            event = read_event(
                prefix,
                parts=("hits", "truth", "particles", "cells"),
                require=("hits", "truth", "particles", "cells"),
            )
            assert event.truth is not None and event.particles is not None
            assert event.cells is not None
            clusters.append(
                cluster_stats(
                    event.hits, event.cells, event.truth.particle_id, event.particles, detector
                )
            )
            if on_event:
                on_event()
    cluster_sample = ClusterStats.concat(clusters) if clusters else None
    return Sample(tuple(hits), tuple(particles), cluster_sample)


@dataclass
class ValidationReport:
    """What :func:`run_validation` computed and wrote."""

    result: ValidationResult
    json_path: Path
    markdown_paths: list[Path]
    plots: list[Path] = field(default_factory=list)

    def table_rows(self) -> list[dict[str, str]]:
        """The table as rows of strings (for :func:`tracklearn.report.print_table`)."""
        return [dict(zip(HEADER, _cells(r), strict=True)) for r in self.result.rows]


def run_validation(
    inputs: ValidationInputs,
    out_dir: str | Path,
    *,
    table: str | Path | None = None,
    notes: Iterable[str] = (),
    on_event: Callable[[], None] | None = None,
    command: str = "tracklearn validate-simulation",
    sim_label: str | None = None,
) -> ValidationReport:
    """Compare the simulated events with the real ones and write the report.

    Parameters
    ----------
    inputs
        From :func:`find_inputs`.
    out_dir
        Receives ``validation.json``, ``simulation-validation.md`` and one PNG
        per quantity.
    table
        Also write the Markdown report here (e.g.
        ``benchmarks/results/simulation-validation.md``).
    notes
        Known limitations of the simulation, listed in the report.
    on_event
        Called after each event is read (progress).
    command
        What wrote the report (its first line names it, the date and the git revision).
    sim_label
        How the report names the simulated events (default: their folder).

    Returns
    -------
    ValidationReport
        Floors that fail are reported in it, not raised.
    """
    detector = None
    if inputs.geometry is not None and inputs.real_cell_events:
        from tracklearn.io.trackml import read_detector

        detector = read_detector(inputs.geometry)
    sim = read_sample(inputs.sim_events, on_event=on_event, detector=detector)
    real = read_sample(
        inputs.real_hit_events,
        inputs.real_particle_files,
        on_event=on_event,
        cell_events=inputs.real_cell_events,
        detector=detector,
    )
    result = compare_samples(real, sim, notes)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots = write_plots(result, out)
    doc = {
        "sim_dir": str(inputs.sim_dir),
        "real_dir": str(inputs.real_dir),
        **result.to_dict(),
        "plots": [p.name for p in plots],
        "provenance": provenance(),
    }
    json_path = out / JSON_NAME
    write_text_atomic(json_path, json.dumps(doc, indent=1, allow_nan=False))
    text = markdown(result, inputs, plots, command=command, sim_label=sim_label)
    md_paths = [out / MD_NAME, *([] if table is None else [Path(table)])]
    for p in md_paths:
        write_text_atomic(p, text)
    return ValidationReport(result, json_path, md_paths, plots)


def write_plots(result: ValidationResult, out: Path) -> list[Path]:
    """One PNG per binned comparison, with a sim/real ratio panel."""
    from matplotlib.figure import Figure

    from tracklearn.plotting.validation import (
        add_ratio_axes,
        plot_kwargs,
        plot_sim_vs_real,
        validation_style,
    )

    paths = []
    n = result.n_events
    for name, comparison in result.histograms.items():
        kw = plot_kwargs(name)
        if name == "pt":
            kw = {**kw, "floor": FLOOR_PT_SPECTRUM, "floor_range": PT_FLOOR_RANGE}
        if name.startswith("cluster_"):
            kw = {**kw, "sim_label": "simulation, |η| reweighted", "real_label": "real (5 % event)"}
            if "per_volume" in name or "_eta" in name:
                kw["floor"] = FLOOR_CLUSTER
        with validation_style():
            wide = len(comparison.labels) > 12
            fig = Figure(figsize=(12 if wide else 8, 7), layout="constrained")
            ax, ax_ratio = add_ratio_axes(fig)
            plot_sim_vs_real(ax, ax_ratio, comparison, **kw)
            if name.startswith("cluster_"):
                title = (
                    f"{n['sim_cells']} sim. vs {n['real_cells']} real event, "
                    f"primaries $p_T$ > {CLUSTER_PT_MIN:g} GeV"
                )
            else:
                hit_level = name in _HIT_LEVEL_PLOTS
                n_real = n["real_hits"] if hit_level else n["real_particles"]
                n_sim = n["sim_hits"] if hit_level else n["sim_particles"]
                title = f"{n_sim} simulated vs {n_real} real events"
            ax.set_title(title, fontsize="small" if name.startswith("cluster_") else "medium")
            path = out / f"{name}.png"
            save_figure(fig, path, dpi=100)
        paths.append(path)
    return paths


_HIT_LEVEL_PLOTS = frozenset(
    {"hits_per_event", "hits_per_volume", "hits_per_layer", "module_occupancy", "noise_fraction"}
)

HEADER = (
    "quantity",
    "real mean (± spread over events)",
    "sim mean",
    "sim/real",
    "floor",
    "pass",
)


def _num(x: float) -> str:
    if x != x:  # NaN
        return "–"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}"


def _cells(row: ValidationRow) -> tuple[str, ...]:
    status = {None: "–", True: "PASS", False: "FAIL"}[row.passed]
    ratio = row.ratio
    return (
        row.quantity,
        f"{_num(row.real_mean)} ± {_num(row.real_spread)}",
        _num(row.sim_mean),
        "–" if ratio != ratio else f"{ratio:.3f}",
        "–" if row.floor is None else f"±{row.floor:.0%}",
        status,
    )


def markdown(
    result: ValidationResult,
    inputs: ValidationInputs,
    plots: Sequence[Path],
    *,
    command: str = "tracklearn validate-simulation",
    sim_label: str | None = None,
) -> str:
    """The report: table, definitions, notes and plot list as Markdown."""
    n = result.n_events
    prov = provenance()
    lines = [
        "# Simulation validation against real TrackML data",
        "",
        f"Written by `{command}` on {str(prov['created_utc'])[:10]} (tracklearn "
        f"{prov['tracklearn_version']}, git {prov['git_revision']}).",
        "",
        f"Simulated: {n['sim_hits']} events from {sim_label or f'`{inputs.sim_dir}`'}. "
        f"Real: {n['real_hits']} full events with hits (`hits_only`) for hit-level rows, "
        f"{n['real_particles']} particle lists (`hits_only` + `particles_only`) for "
        f"particle-level rows, from `{inputs.real_dir}`"
        + (
            f"; cluster rows: {n['real_cells']} real event with cells "
            f"({', '.join(f'`{p.name}`' for p in inputs.real_cell_events)}) vs "
            f"{n['sim_cells']} simulated."
            if n.get("real_cells")
            else "."
        ),
        "",
        f"**Floors: {result.n_judged - result.n_failed} of {result.n_judged} pass.**",
        "",
        "| " + " | ".join(HEADER) + " |",
        "| " + " | ".join("---" for _ in HEADER) + " |",
    ]
    # a bare "|" (as in |eta|) would split a Markdown cell
    lines += [
        "| " + " | ".join(c.replace("|", r"\|") for c in _cells(r)) + " |" for r in result.rows
    ]
    lines += [
        "",
        "## Definitions",
        "",
        f"- **Particles** (every particle-level row and plot, both sides): {PARTICLE_DEFINITION}.",
        "- **Means** are over events; the spread is the standard deviation over real events.",
        "- **Floor**: allowed |sim/real − 1|, inclusive; rows with `–` are reported, not judged.",
        f"- **pT spectrum**: particles per event in log pT bins (5 per decade); every bin "
        f"from {PT_FLOOR_RANGE[0]:g} to {PT_FLOOR_RANGE[1]:g} GeV must be within "
        f"±{FLOOR_PT_SPECTRUM:.0%}; the row shows the worst bin.",
        "- **Noise**: real events have no truth, so their noise is estimated as "
        "hits − Σ particles.nhits; simulated noise is given both that way and from truth "
        "(`particle_id == 0`).",
        f"- **pT cut**: the real lists carry a generator cut at pT = {PT_MIN} GeV.",
        f"- **Clusters**: {CLUSTER_DEFINITION}. The real side is the one real event with "
        "cells (a 5 % subsample), so its ± is the standard error of the mean over its hits; "
        f"a cluster row passes within ±{FLOOR_CLUSTER:.0%} or, where that event is too "
        f"small for it, within {CLUSTER_FLOOR_SIGMAS:g} standard errors of sim − real "
        "(the row's floor).",
        "- Plots: entries per event, error bars Poisson (√N / events); values outside the "
        "axis range are counted in the first or last bin.",
        "",
        "## Notes (known limitations)",
        "",
    ]
    lines += [f"- {note}" for note in result.notes] or ["- none given"]
    lines += ["", "## Plots", "", *(f"- `{p.name}`" for p in plots), ""]
    return "\n".join(lines)
