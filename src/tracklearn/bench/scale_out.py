"""``tracklearn bench --suite scale-out``: events in parallel, faults, DDP, soak.

Writes ``benchmarks/results/scale-out.md`` (+ ``scale-out-ddp.png``,
``scale-out-soak.png``):

* **throughput**: events/s of ``reconstruct`` with 1 and 2 local processes
  (``--workers``) and 1 and 2 Dask workers (``--scheduler local:N``), on the
  same small simulated events and method (default: the default method);
* **per-task overhead** of the Dask path (no-op events: one scheduler round
  trip each) and a **simulated larger cluster**: 4–32 thread workers whose
  events sleep a fixed time, so the scheduler's cost, not the 2 cores, limits
  them; from these a user can predict the efficiency of 100 workers;
* **faults**: a worker killed mid-event (local pool and Dask): every event's
  tracks equal a serial run's, which events were retried; one Ctrl-C on
  ``--workers 2`` and ``--scheduler local:2``: seconds to stop;
* **DDP**: loss curves of the same model on 1 and 2 processes at equal global
  batch, and a 2-process run killed and resumed;
* **soak**: 100 events in one run: RSS after every event (after 10 and after
  100), open file descriptors and temporary files before and after.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tracklearn.io import find_events, write_event
from tracklearn.io.atomic import save_figure, write_text_atomic
from tracklearn.parallel import SchedulerSpec, run_tasks
from tracklearn.parallel.outputs import STATE_FILE
from tracklearn.parallel.reconstruct import reconstruct_events
from tracklearn.pipeline.registry import DEFAULT_METHOD
from tracklearn.pipeline.run import ReconstructJob
from tracklearn.provenance import provenance
from tracklearn.report import markdown_table
from tracklearn.simulation.quick import QuickConfig, generate_events

log = logging.getLogger(__name__)


# ------------------------------------------------------------------ jobs for the workers


@dataclass(frozen=True)
class SleepJob:
    """An "event" that takes ``seconds`` of wall time and no CPU (a bigger cluster's worker)."""

    seconds: float

    @property
    def cache_key(self) -> str:
        return "sleep"

    def setup(self) -> None:
        return None

    def run(self, state: None, item: str) -> float:
        time.sleep(self.seconds)
        return self.seconds


@dataclass(frozen=True)
class KillOnceJob:
    """``inner``, but the worker running ``victim`` kills itself the first time (mid-event)."""

    inner: ReconstructJob
    victim: str
    marker: str

    @property
    def cache_key(self) -> str:
        return self.inner.cache_key

    def setup(self) -> Any:
        return self.inner.setup()

    def run(self, state: Any, item: str) -> Any:
        if item == self.victim and not Path(self.marker).exists():
            Path(self.marker).write_text(str(os.getpid()))
            os.kill(os.getpid(), signal.SIGKILL)
        return self.inner.run(state, item)


# ------------------------------------------------------------------ helpers


def _events(folder: Path, n: int, particles: int, seed: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    for ev in generate_events(n, seed, QuickConfig(n_particles=particles)):
        write_event(ev, folder)
    return find_events([folder])


def _tracks(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.glob("*-tracks.csv"))}


def _rss_mb() -> float:
    """Current resident memory of this process [MB] (``/proc/self/statm``)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


# ------------------------------------------------------------------ measurements


def throughput(events: list[Path], method: str, work: Path) -> list[dict[str, Any]]:
    """Events/s of one ``reconstruct`` run per executor (outputs compared with the first)."""
    rows: list[dict[str, Any]] = []
    ref: dict[str, bytes] | None = None
    cases: list[tuple[str, int, SchedulerSpec | None]] = [
        ("this process (--workers 1)", 1, None),
        ("local pool (--workers 2)", 2, None),
        ("Dask (--scheduler local:1)", 1, SchedulerSpec(n_workers=1)),
        ("Dask (--scheduler local:2)", 2, SchedulerSpec(n_workers=2)),
    ]
    for name, n, spec in cases:
        out = work / f"tp-{len(rows)}"
        t0 = time.perf_counter()
        result = reconstruct_events(events, method, out, workers=n, scheduler=spec)
        wall = time.perf_counter() - t0
        if result.failed:
            raise RuntimeError(f"scale-out bench: {result.failed[0].error}")
        tracks = _tracks(out)
        ref = ref or tracks
        rows.append(
            {
                "executor": name,
                "workers": n,
                "events": len(events),
                "wall s (incl. start-up)": wall,
                "events/s": len(events) / wall,
                "s/event in the method (median)": float(np.median([r.time_s for r in result.runs])),
                "tracks = serial": "yes" if tracks == ref else "NO",
                "load after (1 min)": os.getloadavg()[0],
            }
        )
        log.info("bench scale-out: %s: %.1f s", name, wall)
    base = float(rows[0]["events/s"])
    for r in rows:
        r["speed-up"] = float(r["events/s"]) / base
    return rows


def dask_overhead(n_tasks: int) -> list[dict[str, Any]]:
    """Per-event overhead of the Dask path: no-op events, and sleeping events on many workers."""
    rows: list[dict[str, Any]] = []
    for workers in (1, 2):
        t0 = time.perf_counter()
        report = run_tasks(SleepJob(0.0), [str(i) for i in range(n_tasks)],
                           scheduler=SchedulerSpec(n_workers=workers))  # fmt: skip
        wall = time.perf_counter() - t0
        assert not report.failed
        rows.append(
            {
                "cluster": f"local:{workers} (processes), no-op events",
                "events": n_tasks,
                "event time s": 0.0,
                "wall s": wall,
                "events/s": n_tasks / wall,
                "overhead ms/event/worker": 1000 * wall * workers / n_tasks,
            }
        )
    sleep_s = 0.25
    for workers in (4, 16, 32):
        n = workers * 8
        spec = SchedulerSpec(n_workers=workers, processes=False)
        t0 = time.perf_counter()
        report = run_tasks(SleepJob(sleep_s), [str(i) for i in range(n)], scheduler=spec)
        wall = time.perf_counter() - t0
        assert not report.failed
        ideal = n * sleep_s / workers
        rows.append(
            {
                "cluster": f"{workers} thread workers, sleeping events",
                "events": n,
                "event time s": sleep_s,
                "wall s": wall,
                "events/s": n / wall,
                "ideal events/s": workers / sleep_s,
                "efficiency": ideal / wall,
                "overhead ms/event/worker": 1000 * (wall - ideal) * workers / n,
            }
        )
    return rows


def faults(events: list[Path], method: str, work: Path) -> list[dict[str, Any]]:
    """A worker killed mid-event on the local pool and on Dask: retried, nothing lost."""
    serial = work / "serial"
    reconstruct_events(events, method, serial)
    ref = _tracks(serial)
    victim = str(events[len(events) // 2])
    rows: list[dict[str, Any]] = []
    for name, n, spec in (
        ("local pool (--workers 2)", 2, None),
        ("Dask (--scheduler local:2)", 2, SchedulerSpec(n_workers=2)),
    ):
        out = work / f"kill-{len(rows)}"
        marker = work / f"marker-{len(rows)}"
        job = KillOnceJob(ReconstructJob(method, None, str(out)), victim, str(marker))
        t0 = time.perf_counter()
        result = reconstruct_events(events, method, out, workers=n, scheduler=spec, job=job)
        wall = time.perf_counter() - t0
        rows.append(
            {
                "executor": name,
                "events": len(events),
                "worker killed in": Path(victim).name,
                "killed": "yes" if marker.exists() else "no",
                "failed": len(result.failed),
                "retried": ", ".join(
                    f"{Path(r.prefix).name} ({r.attempts} tries)" for r in result.retried
                ),
                "every event's tracks = serial": "yes" if _tracks(out) == ref else "NO",
                "run.json": "yes" if (out / "run.json").exists() else "no",
                "wall s": wall,
            }
        )
    return rows


def ctrl_c(events_dir: Path, method: str, work: Path) -> list[dict[str, Any]]:
    """Seconds from one Ctrl-C (SIGINT to the process group) to the exit of ``reconstruct``."""
    rows = []
    n_events = len(find_events([events_dir]))
    for opt in (["--workers", "2"], ["--scheduler", "local:2"]):
        out = work / f"ctrlc-{opt[0][2:]}"
        cmd = [sys.executable, "-m", "tracklearn.cli", "reconstruct", str(events_dir),
               "--method", method, "--out", str(out), *opt]  # fmt: skip
        # its own process group, as a terminal runs a command, with Ctrl-C's default action:
        # a bench started in the background (`nohup make bench &`) has SIGINT ignored, the
        # child would inherit that and run to the end, and the row would measure nothing
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, preexec_fn=_default_sigint)  # fmt: skip
        deadline = time.monotonic() + 600
        while not list(out.glob("*-timing.json")) and time.monotonic() < deadline:
            time.sleep(0.05)
        kids = _children(proc.pid)
        t0 = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        took = time.monotonic() - t0
        time.sleep(1.0)
        kept = len(list(out.glob("*-timing.json")))
        if proc.returncode != 128 + signal.SIGINT:  # how tracklearn exits on Ctrl-C
            raise RuntimeError(
                f"scale-out bench: one Ctrl-C did not interrupt reconstruct {' '.join(opt)} "
                f"(exit code {proc.returncode}, {kept} of {n_events} events done); "
                "the Ctrl-C row would measure nothing"
            )
        rows.append(
            {
                "command": "reconstruct " + " ".join(opt),
                "s to stop": took,
                "exit code": proc.returncode,
                "events kept": kept,
                "half-written files": len(list(out.glob(".event*"))),
                "processes left": sum(_alive(p) for p in kids),
                "message": err.strip().splitlines()[-1] if err.strip() else "",
            }
        )
    return rows


def _default_sigint() -> None:
    """Run in the child between fork and exec: SIGINT back to its default action."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _children(pid: int) -> list[int]:
    import psutil

    return [c.pid for c in psutil.Process(pid).children(recursive=True)]


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def ddp_curves(work: Path, epochs: int) -> tuple[list[dict[str, Any]], dict[str, list[float]]]:
    """The same seeded model on 1 and 2 processes at equal global batch (2 batches per step),
    and a 2-process run killed in its second epoch and resumed."""
    from tracklearn.errors import TracklearnError
    from tracklearn.training.distributed import launch

    curves: dict[str, list[float]] = {}
    rows: list[dict[str, Any]] = []
    for name, nproc, die_at in (("1 process", 1, -1), ("2 processes", 2, -1),
                                ("2 processes, killed in epoch 2 and resumed", 2, 2)):  # fmt: skip
        out = work / f"ddp-{len(rows)}"
        t0 = time.perf_counter()
        if die_at >= 0:
            try:
                launch(ddp_problem, (str(out), epochs, die_at, False), nproc)
            except TracklearnError as exc:
                log.info("bench scale-out: killed as planned (%s)", exc)
        hist = launch(ddp_problem, (str(out), epochs, -1, die_at >= 0), nproc)
        wall = time.perf_counter() - t0
        curves[name] = [r["train_loss"] for r in hist]
        rows.append(
            {
                "run": name,
                "epochs": len(hist),
                "first train loss": curves[name][0],
                "last train loss": curves[name][-1],
                "last val accuracy": hist[-1]["accuracy"],
                "wall s (incl. start-up)": wall,
                "s/epoch (median)": float(np.median([r["time_s"] for r in hist])),
            }
        )
    ref = np.array(curves["1 process"])
    for r in rows:
        c = np.array(curves[r["run"]])
        r["max rel. diff vs 1 process"] = float(np.max(np.abs(c - ref) / np.abs(ref)))
    return rows, curves


def ddp_problem(out: str, epochs: int, die_at: int, resume: bool) -> list[dict[str, float]]:
    """A seeded MLP on a synthetic 8-feature classification (picklable for spawn)."""
    import torch

    from tracklearn.training import TrainConfig, train

    g = torch.Generator().manual_seed(0)
    x = torch.randn(8192, 8, generator=g)
    w = torch.randn(8, generator=g)
    y = ((x @ w) + 0.5 * torch.sin(3 * x[:, 0]) > 0).float()
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(8, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64), torch.nn.ReLU(),
        torch.nn.Linear(64, 1),
    )  # fmt: skip

    def loss(m: torch.nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.binary_cross_entropy_with_logits(m(xb).squeeze(1), yb)

    def batches(epoch: int, gen: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if epoch == die_at and not (Path(out) / "killed").exists():
            (Path(out) / "killed").write_text("x")
            os.kill(os.getpid(), signal.SIGKILL)
        perm = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), 128):
            yield x[perm[i : i + 128]], y[perm[i : i + 128]]

    def evaluate(m: torch.nn.Module) -> dict[str, float]:
        logits = m(x).squeeze(1)
        return {
            "val_loss": float(loss(m, x, y)),
            "accuracy": float(((logits > 0).float() == y).float().mean()),
        }

    cfg = TrainConfig(epochs=epochs, lr=3e-3, batches_per_step=2, threads=1, patience=epochs)
    return train(model, lambda m, b: loss(m, *b), batches, evaluate, cfg, out, resume=resume).rows


def soak(events: list[Path], method: str, work: Path) -> dict[str, Any]:
    """One run over every event in this process: RSS after each, fds and temporaries."""
    out = work / "soak"
    # a private temp folder for this process: the system one is shared with other jobs
    tmp_root = work / "soak-tmp"
    tmp_root.mkdir()
    saved, tempfile.tempdir = tempfile.tempdir, str(tmp_root)
    fds_before = _open_fds()
    rss: list[float] = []
    t0 = time.perf_counter()
    try:
        result = reconstruct_events(events, method, out, on_done=lambda _r: rss.append(_rss_mb()))
    finally:
        tempfile.tempdir = saved
    wall = time.perf_counter() - t0
    new_tmp = sorted(p.name for p in tmp_root.iterdir())
    return {
        "events": len(events),
        "failed": len(result.failed),
        "wall_s": wall,
        "rss_mb": rss,
        "peak_rss_mb": max(r.peak_rss_mb for r in result.runs),
        "fds_before": fds_before,
        "fds_after": _open_fds(),
        "temp_files_left": len([p for p in out.glob(".*") if p.name != STATE_FILE]) + len(new_tmp),
        "new_in_tmp": new_tmp,
    }


# ------------------------------------------------------------------ the suite


def run_scale_out_bench(
    out: Path,
    *,
    quick: bool = False,
    method: str | None = None,
    particles: int = 300,
    n_events: int = 8,
    soak_events: int = 100,
    soak_particles: int = 100,
    cc_events: int = 400,
) -> Path:
    """Run every measurement; write ``out/scale-out.md`` and its plots; return its path.

    ``cc_events`` events (of ``particles`` particles) make the Ctrl-C runs' input."""
    method = method or DEFAULT_METHOD
    if quick:
        particles, n_events, soak_events, soak_particles, cc_events = 30, 4, 12, 20, 40
    load_before = _load()
    with tempfile.TemporaryDirectory(prefix="tracklearn-scale-") as tmp:
        work = Path(tmp)
        events = _events(work / "events", n_events, particles, seed=41)
        log.info("bench scale-out: throughput (%d events, %s)", n_events, method)
        tp = throughput(events, method, work)
        log.info("bench scale-out: Dask overhead")
        oh = dask_overhead(100 if quick else 400)
        log.info("bench scale-out: faults")
        fl = faults(events, method, work)
        # enough events that the run is still going when the Ctrl-C comes (fast methods
        # finish 8 small events within the moment between the first output and the signal)
        _events(work / "ctrlc-events", cc_events, particles, seed=42)
        cc = ctrl_c(work / "ctrlc-events", method, work)
        log.info("bench scale-out: DDP")
        ddp_rows, curves = ddp_curves(work, 3 if quick else 8)
        log.info("bench scale-out: soak (%d events)", soak_events)
        soak_ev = _events(work / "soak-events", soak_events, soak_particles, seed=43)
        sk = soak(soak_ev, method, work)
    out.mkdir(parents=True, exist_ok=True)
    _plot_ddp(out / "scale-out-ddp.png", curves)
    _plot_soak(out / "scale-out-soak.png", sk["rss_mb"])
    text = _markdown(
        method, particles, n_events, soak_particles, load_before, tp, oh, fl, cc, ddp_rows, sk,
        cc_events,
    )  # fmt: skip
    path = out / "scale-out.md"
    write_text_atomic(path, text)
    return path


def _plot_ddp(path: Path, curves: dict[str, list[float]]) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    for (name, c), style in zip(curves.items(), ("o-", "s--", "x:"), strict=False):
        ax.plot(range(len(c)), c, style, label=name, mfc="none")
    ax.set_xlabel("epoch")
    ax.set_ylabel("train loss (mean over the epoch)")
    ax.set_title("Same model and global batch on 1 and 2 processes")
    ax.legend()
    save_figure(fig, path, dpi=110)


def _plot_soak(path: Path, rss: list[float]) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 4), layout="constrained")
    ax = fig.subplots()
    ax.plot(np.arange(1, len(rss) + 1), rss, ".-")
    ax.set_xlabel("events done")
    ax.set_ylabel("RSS of the process [MB]")
    ax.set_ylim(0, max(rss) * 1.15 if rss else 1)
    ax.set_title(f"Soak: {len(rss)} events in one run")
    save_figure(fig, path, dpi=110)


TP_KEYS = (
    "executor",
    "workers",
    "events",
    "wall s (incl. start-up)",
    "events/s",
    "speed-up",
    "s/event in the method (median)",
    "tracks = serial",
    "load after (1 min)",
)
OH_KEYS = (
    "cluster",
    "events",
    "event time s",
    "wall s",
    "events/s",
    "ideal events/s",
    "efficiency",
    "overhead ms/event/worker",
)


def _markdown(
    method: str,
    particles: int,
    n_events: int,
    soak_particles: int,
    load: str,
    tp: list[dict[str, Any]],
    oh: list[dict[str, Any]],
    fl: list[dict[str, Any]],
    cc: list[dict[str, Any]],
    ddp_rows: list[dict[str, Any]],
    sk: dict[str, Any],
    cc_events: int = 8,
) -> str:
    prov = provenance()
    rss = sk["rss_mb"]
    at10 = rss[9] if len(rss) >= 10 else float("nan")
    noop = [r for r in oh if r["event time s"] == 0.0]
    per_event_ms = noop[0]["overhead ms/event/worker"] if noop else float("nan")
    sleepers = [r for r in oh if r["event time s"] > 0]
    lines = [
        "# Scale-out: events in parallel, faults, multi-process training, soak",
        "",
        f"Written by `tracklearn bench --suite scale-out` at {prov['git_revision']} "
        f"({prov['created_utc']}); method `{method}`, quick-generator events of {particles} "
        f"particles. Load average when it started: {load}. Absolute times depend on what "
        "else the cores ran (the load columns); the ratios within one table were measured "
        "side by side.",
        "",
        "## Events per second vs workers",
        "",
        "When the cores are busy (see the load column), two workers cannot get two cores: "
        "compare the method's own time per event, which grows when a worker gets less than a "
        "core. `simulation.md` has the speed-up of `--workers 2` for the simulation. Worker "
        "processes (local pool and Dask) run one OpenMP/BLAS thread each; the first row runs "
        "in the benchmark's own process.",
        "",
        f"One `reconstruct` run over the same {n_events} events per row (wall time includes "
        "starting the pool or the Dask cluster, ~2–5 s); every row's tracks are compared "
        "byte by byte with the first row's.",
        "",
        *markdown_table(tp, TP_KEYS),
        "",
        "## Dask per-event overhead and a simulated larger cluster",
        "",
        "No-op events measure the cost of one event on the Dask path (submit, one scheduler "
        "round trip, result; tracklearn keeps one event in flight per worker thread so that a "
        "dying worker takes only its own event with it). Sleeping events on many thread "
        "workers measure how the scheduler keeps up when the cores are not the limit.",
        "",
        *markdown_table(oh, OH_KEYS),
        "",
        f"Prediction: with an overhead of about {per_event_ms:.0f} ms per event and worker, "
        "a worker spends `t / (t + overhead)` of its time on events that take `t` seconds: "
        f"for 5 s events that is {5 / (5 + per_event_ms / 1000):.3f} of ideal, on 100 workers "
        f"as on 2 as long as the scheduler keeps up with 100 / 5 = 20 events/s"
        + (
            f" (it handled {best['events/s']:.0f} events/s with "
            f"{best['cluster'].split()[0]} workers above, at {best['efficiency']:.2f} of ideal)."
            if (best := max(sleepers, key=lambda r: r["events/s"], default=None))
            else "."
        ),
        "",
        "## Faults",
        "",
        "A worker process killed (SIGKILL) in the middle of one event. The local pool loses "
        "its other worker too (a broken `ProcessPoolExecutor` stops all of them), so the "
        "event in flight there is retried as well; Dask loses only the dead worker's event.",
        "",
        *markdown_table(fl),
        "",
        f"One Ctrl-C (SIGINT to the process group, as a terminal sends it) once the first "
        f"event is done, in a run over {cc_events} events:",
        "",
        *markdown_table(cc),
        "",
        "## Multi-process training (DistributedDataParallel, gloo, CPU)",
        "",
        "The same seeded MLP (8 → 64 → 64 → 1) on 8,192 synthetic samples, 2 batches of 128 "
        "per optimiser step (`train.batches_per_step: 2`): one process takes both, or each of "
        "two processes takes one and the gradients are averaged. Curves: "
        "`scale-out-ddp.png`. Stated tolerance: relative difference < 1e-5 per epoch.",
        "",
        *markdown_table(ddp_rows),
        "",
        "![DDP loss curves](scale-out-ddp.png)",
        "",
        "## Soak",
        "",
        f"{sk['events']} events ({soak_particles} particles each) in one `reconstruct` run in "
        f"this process ({sk['wall_s']:.0f} s, {sk['failed']} failed). RSS of the process after "
        f"10 events: {at10:.0f} MB, after {len(rss)}: {rss[-1] if rss else float('nan'):.0f} MB "
        f"(peak {sk['peak_rss_mb']:.0f} MB); open file descriptors before/after: "
        f"{sk['fds_before']}/{sk['fds_after']}; temporary files left in the output folder or "
        f"the process's temp folder: {sk['temp_files_left']}.",
        "",
        "![Soak RSS](scale-out-soak.png)",
        "",
    ]
    return "\n".join(lines)
