"""The ``tracklearn`` command.  Each subcommand parses, loads config, calls the library.

Exit codes: 0 success, 1 a user or data error (one clear line on stderr), 2 usage.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tracklearn.errors import ConfigError, RunInterrupted, TracklearnError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Track finding for particle-physics trackers: classical and machine learning, "
    "measured the same way.",
)

EventsArg = Annotated[
    list[Path],
    typer.Argument(
        help="Event prefixes (dir/event000001000), event files (CSV, or ROOT event<id>.root "
        "from simulate --format root), folders of them, or a Parquet store folder (simulate "
        "--format parquet; store/event000001000 is one event)."
    ),
]


def _load_yaml(path: Path | None) -> dict[str, Any] | None:
    from tracklearn.config import load_yaml

    return None if path is None else load_yaml(path)


def _methods_help() -> str:
    # imported lazily: reading the registry imports the method modules
    from tracklearn.pipeline import DEFAULT_METHOD, available_methods

    lines = [f"{name}: {desc}" for name, desc in available_methods().items()]
    return f"Reconstruction method (default {DEFAULT_METHOD}). Available: " + "; ".join(lines)


def _scheduler(value: str | None) -> str | None:
    """Validate ``--scheduler`` at parse time (a bad value is a usage error, exit 2)."""
    if value is None:
        return None
    from tracklearn.parallel.scheduler import parse_scheduler

    try:
        parse_scheduler(value)
    except ConfigError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value


WorkersOpt = Annotated[
    int,
    typer.Option(
        min=1, help="Local processes, events in parallel (capped at the cores, with a warning)."
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        callback=_scheduler,
        help="Run on Dask: local[:N] starts N worker processes here (loopback only); "
        "tcp://HOST:PORT joins a cluster started with `dask scheduler` / `dask worker` "
        "(workers need tracklearn and the same paths). A worker that dies is replaced and "
        "its events retried.",
    ),
]
ForceOpt = Annotated[
    bool,
    typer.Option(
        help="Redo every event, and replace the outputs of an earlier run with other "
        "settings. Without it, a rerun resumes: events already done are skipped."
    ),
]


def _parallel_args(workers: int, scheduler: str | None) -> Any:
    from tracklearn.parallel.scheduler import parse_scheduler

    if scheduler is not None and workers != 1:
        raise typer.BadParameter("give --workers or --scheduler, not both")
    return None if scheduler is None else parse_scheduler(scheduler)


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
            "layers), g2 (straw station; --events fills, written as 100 ns time islands), "
            "muon-chamber (6 layers x 8 partitions x 384 strips; --events images, written "
            "as muon-chamber.npz)."
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
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="csv or csv.gz (TrackML files per event), parquet (one store for all events: "
            "hits.parquet, ...) or root (event<id>.root per event: TTrees hits, cells, "
            "particles, truth with the TrackML columns and an event_id branch).",
        ),
    ] = "csv.gz",
    first_event_id: Annotated[int, typer.Option(help="Id of the first event.")] = 1000,
    workers: Annotated[
        int, typer.Option(min=1, help="trackml: local processes (capped at the cores).")
    ] = 1,
    scheduler: SchedulerOpt = None,
    force: ForceOpt = False,
    verbose: Annotated[bool, typer.Option(help="Show Pythia's own output.")] = False,
) -> None:
    """Generate events with truth and write them in TrackML format.

    trackml: events run in parallel (--workers or --scheduler); rerunning the same
    command resumes, simulation.json is written last.
    """
    from tracklearn.parallel.simulate import simulate_to_disk
    from tracklearn.report import progress_bar

    spec = _parallel_args(workers, scheduler)
    toy = {"n_particles": particles, "noise_fraction": noise}
    real = {
        "generator.pileup": pileup,
        "generator.pt_min": pt_min,
        "generator.hard_process": process,
    }
    given, other = (toy, real) if detector == "quick" else (real, toy)
    if detector in ("toy2d", "toy3d", "toy_cylinder", "g2", "muon-chamber"):  # toys
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
            scheduler=spec,
            force=force,
            geometry=geometry,
            verbose=verbose,
            on_done=lambda _id: advance(),
        )
    typer.echo(f"wrote {written} events to {out}")


@app.command(
    help="Reconstruct tracks; writes event<id>-tracks.csv (hit_id,track_id) per event and, "
    "for methods that fit their tracks (ckf, or any method with --fit), "
    "event<id>-track-params.parquet (perigee d0, z0, phi, theta, q/p, pT, eta, charge, "
    "chi2, ndf and the 15 upper-triangle covariance entries; one row per fitted track); "
    "with --format root, event<id>-tracks.root instead, holding both as the TTrees tracks "
    "and track_params. "
    "Rerunning the same command resumes (only events without outputs are done); "
    "run.json is written last, when every event succeeded; Ctrl-C keeps finished events."
)
def reconstruct(
    events: EventsArg,
    out: Annotated[Path, typer.Option(help="Output folder for tracks and timing.")],
    method: Annotated[str | None, typer.Option(help=_methods_help())] = None,
    config: Annotated[Path | None, typer.Option(help="YAML config of the method.")] = None,
    model: Annotated[Path | None, typer.Option(help="Trained model (ML methods).")] = None,
    workers: WorkersOpt = 1,
    scheduler: SchedulerOpt = None,
    force: ForceOpt = False,
    fit: Annotated[
        bool,
        typer.Option(
            help="Kalman-fit the tracks of methods that do not fit (dbscan, hough, gnn, ...) "
            "and write their parameters too (TrackML geometry only; counts in the time)."
        ),
    ] = False,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="Tracks file: csv (event<id>-tracks.csv, parameters in "
            "event<id>-track-params.parquet) or root (event<id>-tracks.root: TTree tracks, and "
            "track_params when the tracks are fitted).",
        ),
    ] = "csv",
    mc_samples: Annotated[
        int,
        typer.Option(
            min=0,
            help="MC-dropout samples of the edge classifier (gnn): tracks from the mean score; "
            "writes event<id>-edge-scores.parquet (score, score_std) and "
            "event<id>-track-scores.csv. 0: off.",
        ),
    ] = 0,
    backend: Annotated[
        str | None,
        typer.Option(
            help="ML methods: torch (default) or onnxruntime (--model must then be a folder "
            "made by tracklearn export; torch is not imported; 'precision: int8' in --config "
            "runs its int8 networks)."
        ),
    ] = None,
) -> None:
    from tracklearn.io import find_events
    from tracklearn.parallel.reconstruct import reconstruct_events
    from tracklearn.pipeline import DEFAULT_METHOD, get_method
    from tracklearn.report import progress_bar

    spec = _parallel_args(workers, scheduler)
    name = method or DEFAULT_METHOD
    cfg = _load_yaml(config) or {}
    if model is not None:
        cfg = {**cfg, "model": str(model)}
    if backend is not None:
        if backend not in ("torch", "onnxruntime"):
            raise ConfigError(f"unknown backend {backend!r}; valid: onnxruntime, torch")
        cfg = {**cfg, "backend": backend}
    if mc_samples:
        cfg = {**cfg, "mc_samples": mc_samples}
    get_method(name, cfg or None)  # fail fast on an unknown name or a bad config
    prefixes = find_events(events)
    with progress_bar(f"reconstruct ({name})", len(prefixes)) as advance:
        result = reconstruct_events(
            prefixes,
            name,
            out,
            config=cfg or None,
            workers=workers,
            scheduler=spec,
            force=force,
            fit=fit,
            fmt=fmt,
            on_done=lambda r: advance(),
        )
    for r in result.failed:
        typer.echo(f"error: {r.error}", err=True)
    ok = [r for r in result.runs if not r.error]
    done = [r for r in ok if not r.resumed]
    if done:
        mean_t = sum(r.time_s for r in done) / len(done)
        peak = max(r.peak_rss_mb for r in done)
        typer.echo(
            f"{len(done)} events reconstructed with {name}: {mean_t:.2f} s/event, "
            f"peak RSS {peak:.0f} MB; tracks in {out}"
        )
    if result.resumed:
        typer.echo(f"{len(result.resumed)} events were already done (resumed; --force redoes them)")
    if result.retried:
        names = ", ".join(Path(r.prefix).name for r in result.retried)
        typer.echo(f"retried after a worker died: {names}")
    if result.failed:
        typer.echo(f"{len(result.failed)} of {len(result.runs)} events failed; no run.json written")
        raise typer.Exit(1)


@app.command()
def methods() -> None:
    """List the reconstruction methods: what each is, when to use it, how it measured.

    The measured columns come from the checkout's ``benchmarks/results/fullspectrum.json``
    (every method on the same held-out tt̄ + μ=200 events, 2 cores); "–" where a method
    was not in that run or the file is absent (an installed package without a checkout).
    """
    from rich.console import Console
    from rich.table import Table

    from tracklearn.bench.readme import measured_methods
    from tracklearn.methods import use_for
    from tracklearn.pipeline import DEFAULT_METHOD, available_methods

    measured, source = measured_methods()
    table = Table(title="tracklearn methods", caption=f"measured: {source}")
    for col in ("method", "what it is", "use it for", "TrackML score", "efficiency",
                "fake rate", "s/event"):  # fmt: skip
        table.add_column(col, overflow="fold")
    for name, desc in available_methods().items():
        star = " (default)" if name == DEFAULT_METHOD else ""
        m = measured.get(name, {})
        cells = [m.get(k, "–") for k in ("score", "efficiency", "fake rate", "s/event")]
        table.add_row(f"{name}{star}", desc, use_for(name), *cells)
    Console(width=max(Console().width, 160)).print(table)


@app.command()
def evaluate(
    truth: Annotated[list[Path], typer.Option(help="Events with truth (prefixes or folders).")],
    tracks: Annotated[
        Path,
        typer.Option(help="Folder with event<id>-tracks.csv (or .root) files of reconstruct."),
    ],
    out: Annotated[
        Path,
        typer.Option(help="Output folder: metrics.json, plots, summary.md, report.html."),
    ],
    pt_min: Annotated[
        float, typer.Option(min=0.0, help="Target particles: minimum pT [GeV].")
    ] = 1.0,
    eta_max: Annotated[float, typer.Option(min=0.0, help="Target particles: maximum |eta|.")] = 4.0,
    min_layers: Annotated[
        int, typer.Option(min=0, help="Target particles: minimum distinct layers.")
    ] = 5,
    workers: WorkersOpt = 1,
    scheduler: SchedulerOpt = None,
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

    Also writes report.html: one self-contained page (opens without a network) with
    the summary table, the plots embedded and the provenance (version, git revision).

    When the tracks folder also holds event<id>-track-params.parquet (ckf, or
    reconstruct --fit; with reconstruct --format root, the track_params tree of
    event<id>-tracks.root), adds resolution.json (sigma(pT)/pT per pT bin for the barrel
    |eta|<1 and all, pull widths of d0, z0, phi, theta, q/p), resolution_pt.png and
    pulls.png.  Edge-score files (reconstruct --mc-samples N, or gnn save_edge_scores)
    add calibration.json and reliability.png (reliability diagram, ECE, MC-dropout
    spread against errors); --val-truth with --val-tracks fits a temperature on
    those validation events and reports the test scores before and after it.
    """
    from tracklearn.metrics import TargetSelection
    from tracklearn.parallel.evaluate import evaluate_events
    from tracklearn.report import print_table

    spec = _parallel_args(workers, scheduler)
    targets = TargetSelection(pt_min=pt_min, eta_max=eta_max, min_layers=min_layers)
    if (val_truth is None) != (val_tracks is None):
        typer.echo("error: --val-truth and --val-tracks go together", err=True)
        raise typer.Exit(2)
    validation = (val_truth, val_tracks) if val_truth and val_tracks else None
    result = evaluate_events(
        truth, tracks, out, targets, workers=workers, scheduler=spec, validation=validation
    )
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
    typer.echo(f"report:  {result.report_path}")


@app.command()
def display(
    event: Annotated[Path, typer.Argument(help="Event prefix or file.")],
    out: Annotated[
        Path,
        typer.Option(
            help="Output: an image (.png, .pdf or .svg) or one self-contained interactive "
            "page (.html: 3D, x-y and r-z views, no network needed to open it)."
        ),
    ],
    tracks: Annotated[
        Path | None, typer.Option(help="Tracks folder; default: colour by truth.")
    ] = None,
) -> None:
    """Draw an event: x-y and r-z views, hits coloured by track (or by true particle).

    With --out FILE.html, tracks and truth, hits and tracks are coloured by match
    status (double majority, as evaluate counts them): matched, duplicate, fake and
    short tracks, hits of missed target particles, and the other hits in grey; a
    legend entry shows or hides its hits.
    """
    from tracklearn.report import display_event

    display_event(event, out, tracks)
    typer.echo(f"wrote {out}")


@app.command()
def bench(
    out: Annotated[
        Path | None,
        typer.Option(
            help="Folder for the result tables (default benchmarks/results; with --quick "
            "build/bench-quick, never the committed tables)."
        ),
    ] = None,
    quick: Annotated[bool, typer.Option(help="Small version (seconds, for tests).")] = False,
    allow_dirty: Annotated[
        bool,
        typer.Option(
            help="Write into benchmarks/results from a tree with uncommitted changes (the "
            "files then carry the revision marked -dirty)."
        ),
    ] = False,
    data: Annotated[
        Path | None,
        typer.Option(help="Shared real data (default $TRACKLEARN_DATA or ../shared/data)."),
    ] = None,
    suite: Annotated[
        list[str] | None,
        typer.Option(
            help="Suites to run (repeatable): simulation, simulation-validation, baselines, "
            "graphs, gnn, classical, toys, hashing, scale-out, muon-trigger, export, "
            "uncertainty, fullspectrum. "
            "Default: simulation and baselines."
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            help="Keep the suites that OUT/manifest.json records as written from this source "
            "tree (a committed tree equal to this one outside benchmarks/results, README.md "
            "and tests/); run the others. `make bench` resumes."
        ),
    ] = False,
) -> None:
    """Benchmark the methods on generated and real events; write benchmarks/results/*.md.

    Results files are written whole, stamped with the git revision; into
    benchmarks/results only from a committed tree (or with --allow-dirty).  Each finished
    suite is recorded in OUT/manifest.json (revision, source tree, wall time).
    """
    from tracklearn.bench.suites import run_suites
    from tracklearn.provenance import git_revision

    if out is None:
        out = Path("build/bench-quick" if quick else "benchmarks/results")
    committed = out.resolve().parts[-2:] == ("benchmarks", "results")
    if committed and git_revision().endswith("-dirty") and not allow_dirty:
        raise ConfigError(
            f"{out}: the tree has uncommitted changes; results files are written from a "
            "committed tree (commit first, or --allow-dirty to stamp them -dirty)"
        )
    logging.getLogger("tracklearn").setLevel(logging.INFO)  # one line per step
    names = suite or ["simulation", "baselines"]
    for path in run_suites(out, names, quick=quick, data=data, resume=resume):
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


class _StageListHelp(typer.core.TyperCommand):
    """``train --help``: the stages come from the registry, read only when help is shown
    (listing them imports torch, which ``tracklearn --help`` must not wait for)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        from tracklearn.training.stages import describe_stages

        lines = [f"  {name}: {summary}" for name, summary in describe_stages().items()]
        self.epilog = "Stages ([--nproc]: may train on several processes):\n" + "\n".join(lines)
        super().format_help(ctx, formatter)


@app.command(
    cls=_StageListHelp,
    help="Train a stage (filter, edge_classifier, ...; listed below) on a folder of events.",
)
def train(
    stage: Annotated[str, typer.Argument(help="Stage name (listed below).")],
    config: Annotated[Path, typer.Option(help="YAML config (see configs/gnn/).")],
    data: Annotated[Path, typer.Option(help="Folder of events with truth.")],
    out: Annotated[Path, typer.Option(help="Output folder: checkpoints, curves, model.")],
    resume: Annotated[
        bool,
        typer.Option(help="Continue from out/checkpoint.pt (same config; train.epochs may grow)."),
    ] = False,
    nproc: Annotated[
        int,
        typer.Option(
            min=1,
            help="Processes for data-parallel training (DistributedDataParallel, gloo, CPU); "
            "train.batches_per_step must be a multiple of it (the global batch).",
        ),
    ] = 1,
) -> None:
    """Train one stage; the output folder holds the model, its config and curves."""
    from tracklearn.config import load_yaml
    from tracklearn.io.outdir import prepare_out_dir
    from tracklearn.training.stages import get_stage, run_stage

    get_stage(stage)  # an unknown stage fails first, listing the valid ones
    cfg = load_yaml(config)
    prepare_out_dir(out, create=False)  # a bad --out fails now, not after loading the data
    metrics = run_stage(stage, cfg, data, out, resume, nproc)
    typer.echo(" ".join(f"{k}={v:.4g}" for k, v in metrics.items()) + f"; model in {out}")


@app.command(
    help="Export a trained model folder (gnn model, edge model, muon_cnn, toy-model run) to "
    "ONNX with parity checks against torch; --int8 adds a statically quantised model "
    "calibrated on training data; a config can add magnitude pruning (prune_fraction). "
    "The output folder runs with --backend onnxruntime."
)
def export(
    model_dir: Annotated[Path, typer.Argument(help="Trained model folder.")],
    out: Annotated[Path, typer.Option(help="Output folder for the exported model.")],
    fmt: Annotated[str, typer.Option("--format", help="Export format: onnx.")] = "onnx",
    int8: Annotated[bool, typer.Option(help="Also write an int8 model.")] = False,
    config: Annotated[
        Path | None, typer.Option(help="YAML export config (see configs/export/).")
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="Data to calibrate int8 and measure accuracy: events (gnn, edge models), "
            "graph .npz files, toy.npz / g2.npz (toy models; required), muon-chamber.npz."
        ),
    ] = None,
    calibration_data: Annotated[
        Path | None,
        typer.Option(help="Training data to calibrate int8 on when --data is held out."),
    ] = None,
) -> None:
    from tracklearn.config import validate
    from tracklearn.export.run import ExportConfig, export_model, report_rows
    from tracklearn.report import print_table

    raw = _load_yaml(config) or {}
    if int8:
        raw["int8"] = True
    cfg = validate(ExportConfig, raw, f"{config or 'export'} config")
    reports = export_model(
        model_dir, out, fmt=fmt, config=cfg, data=data, calibration_data=calibration_data
    )
    print_table("export", report_rows(reports))
    typer.echo(f"exported {len(reports)} network(s) to {out}")


@app.command()
def trigger(
    data: Annotated[Path, typer.Argument(help="muon-chamber.npz or its folder.")],
    out: Annotated[Path, typer.Option(help="Output folder: trigger.npz, trigger-metrics.json.")],
    method: Annotated[str, typer.Option(help="cnn (default) or roads (pattern look-up).")] = "cnn",
    model: Annotated[
        Path | None, typer.Option(help="cnn: model folder, or an export with onnxruntime.")
    ] = None,
    backend: Annotated[str, typer.Option(help="cnn: torch or onnxruntime.")] = "torch",
    int8: Annotated[bool, typer.Option(help="onnxruntime: run the int8 network.")] = False,
    config: Annotated[Path | None, typer.Option(help="YAML config of the method.")] = None,
) -> None:
    """Run the muon trigger on chamber images: efficiency and fake rate per pT bin."""
    from tracklearn.pipeline.trigger import run_trigger

    cfg = _load_yaml(config) or {}
    if method == "cnn":
        cfg = {**cfg, "backend": backend, "precision": "int8" if int8 else "fp32"}
        if model is not None:
            cfg["model"] = str(model)
    elif model is not None or backend != "torch" or int8:
        raise ConfigError(f"--model, --backend and --int8 apply to --method cnn, not {method}")
    res = run_trigger(data, out, method, cfg)
    typer.echo(
        f"{res['n_images']} images, {method}: efficiency (pT >= 10 GeV) "
        f"{res['efficiency_pt10']:.4f}, fake rate {res['fake_rate']:.4f}, "
        f"{1e6 * res['seconds_per_image']:.0f} us/image; outputs in {out}"
    )


@app.command("evaluate-edges")
def evaluate_edges(
    graph_dir: Annotated[
        Path, typer.Argument(help="Folder of graph files (searched recursively).")
    ],
    out: Annotated[Path, typer.Option(help="Output folder for edge_metrics.json.")],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="Graph file format: in-npz (IN-paper graphs, global coordinates, Ra edge "
            "features) or heptrkx-sectors (HEP.TrkX phi-sector graphs, _gNNN.npz: the sector "
            "transform is undone and the edge features computed from the nodes).",
        ),
    ] = "in-npz",
    model: Annotated[Path | None, typer.Option(help="Trained model (default: shipped).")] = None,
    threshold: Annotated[float | None, typer.Option(help="Edge-score cut.")] = None,
) -> None:
    """Edge efficiency, purity and ROC AUC of the edge classifier on pre-built graphs."""
    from tracklearn.pipeline.evaluate_edges import evaluate_edge_files

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
    except RunInterrupted as exc:
        typer.echo(str(exc), err=True)
        sys.exit(130)
    except TracklearnError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
