"""Validate simulated events against real TrackML data: read, compare, write a report.

This is the library side of ``tracklearn validate-simulation``.  The statistics
are in :mod:`tracklearn.simulation.validation`, the plots in
:mod:`tracklearn.plotting.validation`.  Real data (``--real``, default
``<shared data>/trackml``) is read from two sub-folders:

- ``hits_only/``: full real events with hits and particles (hit-level and
  particle-level statistics);
- ``particles_only/``: further real particle lists (particle-level only; optional).

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
from tracklearn.errors import DataError
from tracklearn.io import atomic_path, event_id_from_prefix, find_events, read_event, read_table
from tracklearn.io.atomic import write_text_atomic
from tracklearn.provenance import provenance
from tracklearn.simulation.validation import (
    FLOOR_PT_SPECTRUM,
    PARTICLE_DEFINITION,
    PT_FLOOR_RANGE,
    PT_MIN,
    HitEventStats,
    ParticleEventStats,
    Sample,
    ValidationResult,
    ValidationRow,
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
    """

    sim_dir: Path
    real_dir: Path
    sim_events: tuple[Path, ...]
    real_hit_events: tuple[Path, ...]
    real_particle_files: tuple[Path, ...] = ()

    @property
    def n_events(self) -> int:
        """Events to read in all (for a progress bar)."""
        return len(self.sim_events) + len(self.real_hit_events) + len(self.real_particle_files)


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
    return ValidationInputs(
        sim_dir=sim,
        real_dir=real,
        sim_events=tuple(find_events([sim])),
        real_hit_events=tuple(find_events([hits_only])),
        real_particle_files=tuple(particle_files),
    )


def read_sample(
    hit_events: Sequence[Path],
    particle_files: Sequence[Path] = (),
    on_event: Callable[[], None] | None = None,
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
    """
    hits: list[HitEventStats] = []
    particles: list[ParticleEventStats] = []
    for prefix in hit_events:
        event = read_event(
            prefix, parts=("hits", "truth", "particles"), require=("hits", "particles")
        )
        assert event.particles is not None  # required above
        truth_pid = None if event.truth is None else event.truth.particle_id
        hits.append(hit_event_stats(event.event_id, event.hits, event.particles, truth_pid))
        particles.append(particle_event_stats(event.event_id, event.particles))
        if on_event:
            on_event()
    for path in particle_files:
        event_id = event_id_from_prefix(path.name.split("-")[0])
        particles.append(particle_event_stats(event_id, read_table(path, Particles)))
        if on_event:
            on_event()
    return Sample(tuple(hits), tuple(particles))


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

    Returns
    -------
    ValidationReport
        Floors that fail are reported in it, not raised.
    """
    sim = read_sample(inputs.sim_events, on_event=on_event)
    real = read_sample(inputs.real_hit_events, inputs.real_particle_files, on_event=on_event)
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
    text = markdown(result, inputs, plots)
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
        with validation_style():
            wide = len(comparison.labels) > 12
            fig = Figure(figsize=(12 if wide else 8, 7), layout="constrained")
            ax, ax_ratio = add_ratio_axes(fig)
            plot_sim_vs_real(ax, ax_ratio, comparison, **kw)
            hit_level = name in _HIT_LEVEL_PLOTS
            n_real = n["real_hits"] if hit_level else n["real_particles"]
            n_sim = n["sim_hits"] if hit_level else n["sim_particles"]
            ax.set_title(f"{n_sim} simulated vs {n_real} real events", fontsize="medium")
            path = out / f"{name}.png"
            with atomic_path(path) as tmp:
                fig.savefig(tmp, dpi=100, format="png")
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


def markdown(result: ValidationResult, inputs: ValidationInputs, plots: Sequence[Path]) -> str:
    """The report: table, definitions, notes and plot list as Markdown."""
    n = result.n_events
    lines = [
        "# Simulation validation against real TrackML data",
        "",
        f"Simulated: {n['sim_hits']} events from `{inputs.sim_dir}`. "
        f"Real: {n['real_hits']} full events with hits (`hits_only`) for hit-level rows, "
        f"{n['real_particles']} particle lists (`hits_only` + `particles_only`) for "
        f"particle-level rows, from `{inputs.real_dir}`.",
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
        "- Plots: entries per event, error bars Poisson (√N / events); values outside the "
        "axis range are counted in the first or last bin.",
        "",
        "## Notes (known limitations)",
        "",
    ]
    lines += [f"- {note}" for note in result.notes] or ["- none given"]
    lines += ["", "## Plots", "", *(f"- `{p.name}`" for p in plots), ""]
    return "\n".join(lines)
