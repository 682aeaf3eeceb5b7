"""The ``tracklearn`` command.  Each subcommand parses, loads config, calls the library.

Exit codes: 0 success, 1 a user or data error (one clear line on stderr), 2 usage.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tracklearn.errors import ConfigError, TracklearnError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Track finding for particle-physics trackers: classical and machine learning, "
    "measured the same way.",
)

EventsArg = Annotated[
    list[Path], typer.Argument(help="Event prefixes (dir/event000001000), event files or folders.")
]


def _load_yaml(path: Path | None) -> dict[str, Any] | None:
    from tracklearn.config import load_yaml

    return None if path is None else load_yaml(path)


def _methods_help() -> str:
    # imported lazily: reading the registry imports the method modules
    from tracklearn.pipeline import DEFAULT_METHOD, available_methods

    lines = [f"{name}: {desc}" for name, desc in available_methods().items()]
    return f"Reconstruction method (default {DEFAULT_METHOD}). Available: " + "; ".join(lines)


@app.command()
def info(
    events: EventsArg,
    detector: Annotated[
        Path | None,
        typer.Option(help="TrackML detectors.csv(.gz): check every hit's module exists."),
    ] = None,
) -> None:
    """Print a summary table of each event (hits per volume, particles, noise, weights)."""
    from tracklearn.io import find_events, read_detector, read_event
    from tracklearn.report import event_summary, print_table

    det = None if detector is None else read_detector(detector)
    rows = [event_summary(read_event(p, detector=det)) for p in find_events(events)]
    print_table("events", rows)


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Output folder.")],
    detector: Annotated[
        str,
        typer.Option(
            help="quick (built-in cylinders, toy physics) or trackml (Pythia 8 + the real "
            "TrackML geometry and field map); toys, settings by --config only: toy2d "
            "(10 layers x 50 pixels), toy3d (10 x 32 x 32), toy_cylinder (variable-size "
            "layers), g2 (straw station; --events fills, written as 100 ns time islands)."
        ),
    ] = "quick",
    events: Annotated[int, typer.Option(min=1, help="Number of events.")] = 10,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same events.")] = 1,
    pileup: Annotated[
        float | None, typer.Option(min=0, help="trackml: mean pile-up interactions (μ).")
    ] = None,
    pt_min: Annotated[
        float | None, typer.Option(min=0, help="trackml: generator-level pT cut [GeV].")
    ] = None,
    process: Annotated[
        str | None, typer.Option(help="trackml: hard process (ttbar, zmumu, minbias, none).")
    ] = None,
    geometry: Annotated[
        Path | None,
        typer.Option(help="trackml: detectors.csv(.gz); default <shared data>/trackml."),
    ] = None,
    particles: Annotated[int | None, typer.Option(help="quick: particles per event.")] = None,
    noise: Annotated[float | None, typer.Option(help="quick: noise hits per hit.")] = None,
    config: Annotated[
        Path | None, typer.Option(help="YAML config (see configs/simulation/).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="csv, csv.gz or parquet.")] = "csv.gz",
    first_event_id: Annotated[int, typer.Option(help="Id of the first event.")] = 1000,
    workers: Annotated[int, typer.Option(min=1, help="trackml: parallel processes.")] = 1,
    verbose: Annotated[bool, typer.Option(help="Show Pythia's own output.")] = False,
) -> None:
    """Generate events with truth and write them in TrackML format."""
    from tracklearn.report import progress_bar
    from tracklearn.simulation.run import simulate_to_disk

    toy = {"n_particles": particles, "noise_fraction": noise}
    real = {
        "generator.pileup": pileup,
        "generator.pt_min": pt_min,
        "generator.hard_process": process,
    }
    given, other = (toy, real) if detector == "quick" else (real, toy)
    if detector in ("toy2d", "toy3d", "toy_cylinder", "g2"):  # HEP.TrkX / g-2 toys
        given, other = {}, {**toy, **real}
    if any(v is not None for v in other.values()):
        flags = ", ".join(k for k, v in other.items() if v is not None)
        raise ConfigError(f"option(s) for {flags} do not apply to --detector {detector}")
    with progress_bar(f"simulate ({detector})", events) as advance:
        written = simulate_to_disk(
            detector=detector,
            n_events=events,
            seed=seed,
            out=out,
            fmt=fmt,
            config=_load_yaml(config),
            overrides={k: v for k, v in given.items() if v is not None},
            first_event_id=first_event_id,
            workers=workers,
            geometry=geometry,
            verbose=verbose,
            on_done=lambda _id: advance(),
        )
    typer.echo(f"wrote {written} events to {out}")


@app.command(
    help="Reconstruct tracks; writes event<id>-tracks.csv (hit_id,track_id) per event and, "
    "for methods that fit their tracks (ckf, or any method with --fit), "
    "event<id>-track-params.parquet (perigee d0, z0, phi, theta, q/p, pT, eta, charge, "
    "chi2, ndf and the 15 upper-triangle covariance entries; one row per fitted track)."
)
def reconstruct(
    events: EventsArg,
    out: Annotated[Path, typer.Option(help="Output folder for tracks and timing.")],
    method: Annotated[str | None, typer.Option(help=_methods_help())] = None,
    config: Annotated[Path | None, typer.Option(help="YAML config of the method.")] = None,
    model: Annotated[Path | None, typer.Option(help="Trained model (ML methods).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Events processed in parallel.")] = 1,
    fit: Annotated[
        bool,
        typer.Option(
            help="Kalman-fit the tracks of methods that do not fit (dbscan, hough, gnn, ...) "
            "and write their parameters too (TrackML geometry only; counts in the time)."
        ),
    ] = False,
    mc_samples: Annotated[
        int,
        typer.Option(
            min=0,
            help="MC-dropout samples of the edge classifier (gnn): tracks from the mean score; "
            "writes event<id>-edge-scores.parquet (score, score_std) and "
            "event<id>-track-scores.csv. 0: off.",
        ),
    ] = 0,
) -> None:
    from tracklearn.io import find_events
    from tracklearn.pipeline import DEFAULT_METHOD, get_method
    from tracklearn.pipeline.run import reconstruct_events
    from tracklearn.report import progress_bar

    name = method or DEFAULT_METHOD
    cfg = _load_yaml(config) or {}
    if model is not None:
        cfg = {**cfg, "model": str(model)}
    if mc_samples:
        cfg = {**cfg, "mc_samples": mc_samples}
    get_method(name, cfg or None)  # fail fast on an unknown name or a bad config
    prefixes = find_events(events)
    with progress_bar(f"reconstruct ({name})", len(prefixes)) as advance:
        runs = reconstruct_events(
            prefixes,
            name,
            out,
            config=cfg or None,
            workers=workers,
            fit=fit,
            on_done=lambda r: advance(),
        )
    failed = [r for r in runs if r.error]
    for r in failed:
        typer.echo(f"error: {r.error}", err=True)
    ok = [r for r in runs if not r.error]
    if ok:
        mean_t = sum(r.time_s for r in ok) / len(ok)
        peak = max(r.peak_rss_mb for r in ok)
        typer.echo(
            f"{len(ok)} events reconstructed with {name}: {mean_t:.2f} s/event, "
            f"peak RSS {peak:.0f} MB; tracks in {out}"
        )
    if failed:
        raise typer.Exit(1)


@app.command()
def methods() -> None:
    """List the registered reconstruction methods."""
    from tracklearn.pipeline import DEFAULT_METHOD, available_methods

    for name, desc in available_methods().items():
        star = " (default)" if name == DEFAULT_METHOD else ""
        typer.echo(f"{name}{star}: {desc}")


@app.command()
def evaluate(
    truth: Annotated[list[Path], typer.Option(help="Events with truth (prefixes or folders).")],
    tracks: Annotated[Path, typer.Option(help="Folder with event<id>-tracks.csv files.")],
    out: Annotated[Path, typer.Option(help="Output folder: metrics.json, plots, summary.md.")],
    pt_min: Annotated[float, typer.Option(help="Target particles: minimum pT [GeV].")] = 1.0,
    eta_max: Annotated[float, typer.Option(help="Target particles: maximum |eta|.")] = 4.0,
    min_layers: Annotated[int, typer.Option(help="Target particles: minimum distinct layers.")] = 5,
    val_truth: Annotated[
        list[Path] | None,
        typer.Option(help="Validation events with truth: fit a temperature to their edge scores."),
    ] = None,
    val_tracks: Annotated[
        Path | None,
        typer.Option(help="reconstruct output (edge scores) of the --val-truth events."),
    ] = None,
) -> None:
    """Score tracks against truth: metrics.json, efficiency plots and a summary table.

    When the tracks folder also holds event<id>-track-params.parquet (ckf, or
    reconstruct --fit), adds resolution.json (sigma(pT)/pT per pT bin for the barrel
    |eta|<1 and all, pull widths of d0, z0, phi, theta, q/p), resolution_pt.png and
    pulls.png.  Edge-score files (reconstruct --mc-samples N, or gnn save_edge_scores)
    add calibration.json and reliability.png (reliability diagram, ECE, MC-dropout
    spread against errors); --val-truth with --val-tracks fits a temperature on
    those validation events and reports the test scores before and after it.
    """
    from tracklearn.evaluation import evaluate_folder
    from tracklearn.metrics import TargetSelection
    from tracklearn.report import print_table

    targets = TargetSelection(pt_min=pt_min, eta_max=eta_max, min_layers=min_layers)
    if (val_truth is None) != (val_tracks is None):
        typer.echo("error: --val-truth and --val-tracks go together", err=True)
        raise typer.Exit(2)
    validation = (val_truth, val_tracks) if val_truth and val_tracks else None
    result = evaluate_folder(truth, tracks, out, targets, validation=validation)
    print_table("metrics", result.table_rows())
    typer.echo(f"metrics: {result.metrics_path}")
    if result.resolution is not None:
        from tracklearn.evaluation import resolution_lines

        for line in resolution_lines(result.resolution):
            typer.echo(line)
        typer.echo(f"resolution: {result.resolution_path}")
    if result.calibration is not None:
        from tracklearn.evaluation import calibration_lines

        for line in calibration_lines(result.calibration):
            typer.echo(line)
    typer.echo(f"plots:   {', '.join(str(p) for p in result.plots)}")


@app.command()
def display(
    event: Annotated[Path, typer.Argument(help="Event prefix or file.")],
    out: Annotated[Path, typer.Option(help="Output image (.png, .pdf or .svg).")],
    tracks: Annotated[
        Path | None, typer.Option(help="Tracks folder; default: colour by truth.")
    ] = None,
) -> None:
    """Draw x-y and r-z views of an event, hits coloured by track (or by true particle)."""
    from tracklearn.report import display_event

    display_event(event, out, tracks)
    typer.echo(f"wrote {out}")


@app.command()
def bench(
    out: Annotated[Path, typer.Option(help="Folder for the result tables.")] = Path(
        "benchmarks/results"
    ),
    quick: Annotated[bool, typer.Option(help="Small version (seconds, for tests).")] = False,
    data: Annotated[
        Path | None,
        typer.Option(help="Shared real data (default $TRACKLEARN_DATA or ../shared/data)."),
    ] = None,
    suite: Annotated[
        list[str] | None,
        typer.Option(
            help="Suites to run (repeatable): simulation, baselines, graphs, gnn, classical, "
            "toys, hashing, uncertainty. Default: simulation and baselines."
        ),
    ] = None,
) -> None:
    """Benchmark the methods on generated and real events; write benchmarks/results/*.md."""
    from tracklearn.bench.suites import run_suites

    logging.getLogger("tracklearn").setLevel(logging.INFO)  # one line per step
    for path in run_suites(out, suite or ["simulation", "baselines"], quick=quick, data=data):
        typer.echo(f"wrote {path}")


@app.command("validate-simulation")
def validate_simulation(
    sim_dir: Annotated[Path, typer.Argument(help="Folder of simulated TrackML-format events.")],
    out: Annotated[Path, typer.Option(help="Output folder: PNGs, validation.json, table.")],
    real: Annotated[
        Path | None,
        typer.Option(
            help="Real TrackML folder with hits_only/, particles_only/ "
            "(default <shared data>/trackml)."
        ),
    ] = None,
    table: Annotated[
        Path | None,
        typer.Option(
            help="Also write the table here (benchmarks/results/simulation-validation.md)."
        ),
    ] = None,
    note: Annotated[list[str] | None, typer.Option(help="Known limitation (repeatable).")] = None,
) -> None:
    """Compare simulated events with real TrackML data; floors FAIL in the table, exit 0."""
    from tracklearn.datapaths import shared_data_dir
    from tracklearn.report import print_table, progress_bar
    from tracklearn.validate_simulation import find_inputs, run_validation

    inputs = find_inputs(sim_dir, real or shared_data_dir() / "trackml")
    with progress_bar("read events", inputs.n_events) as advance:
        report = run_validation(inputs, out, table=table, notes=note or (), on_event=advance)
    print_table("simulation vs real TrackML", report.table_rows())
    res = report.result
    typer.echo(f"floors: {res.n_judged - res.n_failed}/{res.n_judged} pass; report in {out}")


@app.command(help="Train a stage (filter, edge_classifier, ...) on a folder of simulated events.")
def train(
    stage: Annotated[str, typer.Argument(help="Stage name (see tracklearn.training.stages).")],
    config: Annotated[Path, typer.Option(help="YAML config (see configs/gnn/).")],
    data: Annotated[Path, typer.Option(help="Folder of events with truth.")],
    out: Annotated[Path, typer.Option(help="Output folder: checkpoints, curves, model.")],
    resume: Annotated[bool, typer.Option(help="Continue from out/checkpoint.pt.")] = False,
) -> None:
    """Train one stage; the output folder holds the model, its config and curves."""
    from tracklearn.config import load_yaml
    from tracklearn.training.stages import get_stage

    metrics = get_stage(stage)(load_yaml(config), data, out, resume)
    typer.echo(" ".join(f"{k}={v:.4g}" for k, v in metrics.items()) + f"; model in {out}")


@app.command("evaluate-edges")
def evaluate_edges(
    graph_dir: Annotated[
        Path, typer.Argument(help="Folder of graph files (searched recursively).")
    ],
    out: Annotated[Path, typer.Option(help="Output folder for edge_metrics.json.")],
    fmt: Annotated[str, typer.Option("--format", help="Graph file format: in-npz.")] = "in-npz",
    model: Annotated[Path | None, typer.Option(help="Trained model (default: shipped).")] = None,
    threshold: Annotated[float | None, typer.Option(help="Edge-score cut.")] = None,
) -> None:
    """Edge efficiency, purity and ROC AUC of the edge classifier on pre-built graphs."""
    from tracklearn.models.evaluate_edges import evaluate_edge_files

    res = evaluate_edge_files(graph_dir, out, model, fmt, threshold)
    typer.echo(
        f"{res['n_files']} files, {res['n_edges']:.0f} edges: efficiency "
        f"{res['edge_efficiency']:.4f}, purity {res['edge_purity']:.4f}, AUC {res['roc_auc']:.4f}"
    )


def main() -> None:
    """Entry point: turn our errors into one line on stderr and exit code 1."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app()
    except TracklearnError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
