"""Benchmark of the default method ``fullspectrum`` (``benchmarks/results/fullspectrum.md``).

On held-out simulated tt̄ + μ=200 events (never used to train or tune) every
listed method runs on the same events in one run, each event in a fresh process
(peak RSS per event, median time per event); the tracks are scored with the
TrackML score and the double-majority rates.  For ``fullspectrum`` the suite adds:

* events with a long luminous region (σz = 55 mm, like the CodaLab release);
* the real 5 % event (with truth) and the real full events without truth, where
  the truth-free efficiency of central primaries is measured
  (:mod:`tracklearn.metrics.truthfree`);
* efficiency vs pT (from 0.1 GeV), η and production radius;
* where the TrackML weight is lost: the share of the total weight in hits no
  matched track scores, by detector volume, pT, |η| and production radius;
* time per event vs μ and per stage;
* an ablation: each learned part against its hand-made alternative.
"""

from __future__ import annotations

import datetime as _dt
import itertools
import json
import logging
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tracklearn.edm import Event, TrackCandidates
from tracklearn.evaluation import evaluate_folder
from tracklearn.io import find_events, read_event, read_tracks
from tracklearn.io.atomic import save_figure, write_text_atomic
from tracklearn.metrics import TargetSelection, evaluate_event, match_tracks, trackml_score
from tracklearn.metrics.curves import clopper_pearson
from tracklearn.metrics.truthfree import truth_free_efficiency
from tracklearn.parallel.reconstruct import reconstruct_events
from tracklearn.provenance import provenance
from tracklearn.report import markdown_table
from tracklearn.typing import FloatArray

log = logging.getLogger(__name__)


#: bins of the particle-level tables
PT_BINS = (0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 2.0, 5.0, 100.0)
ETA_BINS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0)
VR_BINS = (0.0, 1.0, 10.0, 50.0, 200.0, 1000.0)


def scored_hits(event: Event, tracks: TrackCandidates) -> npt.NDArray[np.bool_]:
    """Hits whose weight the TrackML score counts: majority hits of matched tracks, (N,)."""
    assert event.truth is not None
    match = match_tracks(event, tracks)
    owner = np.full(event.n_hits, -1, np.int64)
    owner[tracks.hit_index] = tracks.track_of_entry()
    ok = owner >= 0
    t = np.where(ok, owner, 0)
    return ok & match.matched[t] & (match.majority_particle[t] == event.truth.particle_id)


def _particle_columns(event: Event) -> dict[str, FloatArray]:
    """pT, |η| and production radius of each hit's particle (NaN for noise), shape (N,)."""
    assert event.truth is not None and event.particles is not None
    p = event.particles
    order = np.argsort(p.particle_id)
    pid = event.truth.particle_id
    k = order[np.clip(np.searchsorted(p.particle_id[order], pid), 0, len(order) - 1)]
    noise = pid == 0
    pt = np.where(noise, np.nan, p.pt[k])
    eta = np.where(noise, np.nan, np.abs(np.arcsinh(p.pz[k] / np.maximum(p.pt[k], 1e-12))))
    vr = np.where(noise, np.nan, np.hypot(p.vx[k], p.vy[k]))
    return {"pt": pt, "eta": eta, "vr": vr}


def weight_loss(events: Sequence[Event], tracks: Sequence[TrackCandidates]) -> dict[str, Any]:
    """Share of the total TrackML weight lost, by volume, pT, |η| and production radius."""
    lost: dict[str, dict[str, float]] = {"volume": {}, "pt": {}, "eta": {}, "vr": {}}
    total = 0.0
    for ev, tr in zip(events, tracks, strict=True):
        assert ev.truth is not None
        w = ev.truth.weight
        total += float(w.sum())
        miss = ~scored_hits(ev, tr)
        cols = _particle_columns(ev)
        for v in np.unique(ev.hits.volume_id):
            key = str(int(v))
            m = miss & (ev.hits.volume_id == v)
            lost["volume"][key] = lost["volume"].get(key, 0.0) + float(w[m].sum())
        for name, bins in (("pt", PT_BINS), ("eta", ETA_BINS), ("vr", VR_BINS)):
            x = cols[name]
            for lo, hi in itertools.pairwise(bins):
                key = f"{lo:g}–{hi:g}"
                m = miss & (x >= lo) & (x < hi)
                lost[name][key] = lost[name].get(key, 0.0) + float(w[m].sum())
    return {k: {b: v / total for b, v in d.items()} for k, d in lost.items()}


def particle_efficiency(
    events: Sequence[Event], tracks: Sequence[TrackCandidates]
) -> dict[str, list[dict[str, Any]]]:
    """Double-majority efficiency of particles with ≥ 5 layers vs pT, |η| (pT ≥ 1 GeV), vr."""
    rows: dict[str, list[tuple[float, float, float, bool]]] = {"all": []}
    from tracklearn.metrics import target_mask

    for ev, tr in zip(events, tracks, strict=True):
        assert ev.particles is not None
        is_t = target_mask(ev, TargetSelection(pt_min=0.1))
        match = match_tracks(ev, tr)
        p = ev.particles
        pt = p.pt[is_t]
        eta = np.abs(np.arcsinh(p.pz[is_t] / np.maximum(pt, 1e-12)))
        vr = np.hypot(p.vx[is_t], p.vy[is_t])
        found = match.n_matched_tracks[is_t] > 0
        rows["all"] += list(zip(pt, eta, vr, found, strict=True))
    arr = np.array(rows["all"], dtype=np.float64).reshape(-1, 4)
    out: dict[str, list[dict[str, Any]]] = {}
    for name, col, bins, sel in (
        ("pT [GeV]", 0, PT_BINS, np.ones(len(arr), bool)),
        ("|η| (pT ≥ 1 GeV)", 1, ETA_BINS, arr[:, 0] >= 1.0),
        ("production radius [mm]", 2, VR_BINS, np.ones(len(arr), bool)),
    ):
        table = []
        for lo, hi in itertools.pairwise(bins):
            m = sel & (arr[:, col] >= lo) & (arr[:, col] < hi)
            n, k = int(m.sum()), int(arr[m, 3].sum())
            if n == 0:
                continue
            lo_ci, hi_ci = clopper_pearson(np.array([k]), np.array([n]))
            table.append({"bin": f"{lo:g}–{hi:g}", "particles": n, "efficiency": k / n,
                          "lo": float(lo_ci[0]), "hi": float(hi_ci[0])})  # fmt: skip
        out[name] = table
    return out


def _reconstruct(
    prefixes: Sequence[Path], method: str, work: Path, config: dict[str, Any] | None = None
) -> tuple[list[float], list[float]]:
    runs = reconstruct_events(
        list(prefixes), method, work, config=config, fresh_process_per_event=True, force=True
    )
    bad = [r for r in runs if r.error]
    if bad:
        raise RuntimeError(
            f"fullspectrum bench: {method} failed on {bad[0].prefix}: {bad[0].error}"
        )
    return [r.time_s for r in runs], [r.peak_rss_mb for r in runs]


def _side_by_side(
    name: str, prefixes: Sequence[Path], methods: Sequence[str], work: Path
) -> list[dict[str, Any]]:
    rows = []
    for method in methods:
        out = work / f"{name}-{method}"
        times, rss = _reconstruct(prefixes, method, out)
        res = evaluate_folder([str(p) for p in prefixes], out, work / f"{name}-{method}-report")
        m = res.overall
        rows.append({
            "events": name, "method": method, "n": len(prefixes),
            "TrackML score": m["trackml_score"], "efficiency": m["efficiency"],
            "fake rate": m["fake_rate"], "duplicate rate": m["duplicate_rate"],
            "s/event (median)": float(np.median(times)),
            "peak RSS MB (median)": float(np.median(rss)),
        })  # fmt: skip
        log.info("fullspectrum bench: %s on %s: %s", method, name, rows[-1])
    return rows


def _in_process(prefixes: Sequence[Path], config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run fullspectrum in this process: tracks, per-stage times and TrackML metrics."""
    from tracklearn.fullspectrum.reconstructor import make_fullspectrum

    reco = make_fullspectrum(config)
    events, tracks, stages, scores = [], [], [], []
    for p in prefixes:
        ev = read_event(p)
        t0 = time.perf_counter()
        state = reco.run(ev)
        tr = reco.tracks(ev, state)
        state.times["total"] = time.perf_counter() - t0
        events.append(ev)
        tracks.append(tr)
        stages.append(state.times)
        scores.append((trackml_score(ev, tr), evaluate_event(ev, tr)))
    return {"events": events, "tracks": tracks, "stages": stages, "scores": scores}


def _score_row(label: str, run: dict[str, Any]) -> dict[str, Any]:
    s = [x[0] for x in run["scores"]]
    m = [x[1] for x in run["scores"]]
    return {
        "variant": label,
        "TrackML score": float(np.mean(s)),
        "efficiency": float(np.mean([x.efficiency for x in m])),
        "fake rate": float(np.mean([x.fake_rate for x in m])),
        "s/event (median, in process)": float(np.median([t["total"] for t in run["stages"]])),
    }


def run_fullspectrum_bench(
    out: Path,
    test: Path,
    *,
    test_long: Path | None = None,
    real_prefix: Path | None = None,
    hits_only: Sequence[Path] = (),
    scaling: dict[float, Path] | None = None,
    methods: Sequence[str] = ("fullspectrum", "gnn", "ckf", "dbscan"),
    quick: bool = False,
) -> Path:
    """Run the suite (see the module docstring); write ``out/fullspectrum.md`` and its plots."""
    t_start = time.perf_counter()
    test_prefixes = find_events([test])
    data: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="tracklearn-fullspectrum-") as tmp:
        work = Path(tmp)
        # 1. side by side on the held-out μ=200 events
        rows = _side_by_side("mu200", test_prefixes, methods, work)
        if test_long is not None:
            rows += _side_by_side("mu200 σz=55mm", find_events([test_long]), ["fullspectrum"], work)
        if real_prefix is not None and real_prefix.parent.exists():
            real_methods = [m for m in methods if m != "dbscan"] + (
                ["dbscan"] if "dbscan" in methods else []
            )
            rows += _side_by_side("real 5 % event", [real_prefix], real_methods, work)
        data["side_by_side"] = rows
        # 2. the real full events without truth
        tf_rows = []
        for method in ("fullspectrum",) if quick else ("fullspectrum", "gnn"):
            if not hits_only:
                break
            o = work / f"hits_only-{method}"
            times, rss = _reconstruct(hits_only, method, o)
            for k, prefix in enumerate(hits_only):
                ev = read_event(prefix, parts=("hits", "particles"))
                tr = read_tracks(o / f"{prefix.name}-tracks.csv", ev)
                assert ev.particles is not None
                tfr = truth_free_efficiency(ev.hits, tr, ev.particles)
                tf_rows.append({"event": prefix.name, "method": method, "hits": ev.n_hits,
                                "targets": tfr.n_targets, "found": tfr.n_found,
                                "efficiency": tfr.efficiency, "s/event": times[k],
                                "peak RSS MB": rss[k]})  # fmt: skip
        data["truth_free"] = tf_rows
        # 3. details of fullspectrum on the held-out events (in process)
        run = _in_process(test_prefixes)
        data["efficiency"] = particle_efficiency(run["events"], run["tracks"])
        data["weight_loss"] = weight_loss(run["events"], run["tracks"])
        stage_keys = sorted({k for t in run["stages"] for k in t}, key=lambda k: (k != "grid", k))
        data["stages"] = {k: float(np.median([t.get(k, 0.0) for t in run["stages"]]))
                          for k in stage_keys}  # fmt: skip
        # 4. ablation: each learned part against its hand-made alternative
        ablation = [_score_row("shipped model", run)]
        if not quick:
            for label, cfg in (
                ("no seed classifier (every seed followed)", {"ablation": ["seed_net"]}),
                ("hand-made candidate ranking (hits, holes, χ²)", {"ablation": ["track_net"]}),
                ("fixed windows instead of the learned error model", {"ablation": ["windows"]}),
                ("fixed z0 window (250 mm) instead of the measured one", {"z0_max": 250.0}),
            ):
                ablation.append(_score_row(label, _in_process(test_prefixes, cfg)))
        data["ablation"] = ablation
        # 5. time vs μ
        mu_rows = []
        for mu, folder in sorted((scaling or {}).items()):
            r = _in_process(find_events([folder])[:1])
            ev = r["events"][0]
            mu_rows.append({"μ": mu, "hits": ev.n_hits, "s/event": r["stages"][0]["total"],
                            "TrackML score": r["scores"][0][0],
                            "efficiency": r["scores"][0][1].efficiency})  # fmt: skip
        data["time_vs_mu"] = mu_rows
    data["seconds"] = time.perf_counter() - t_start
    out.mkdir(parents=True, exist_ok=True)
    plots = _plots(out, data)
    text = _markdown(data, plots, test, quick)
    path = out / "fullspectrum.md"
    write_text_atomic(path, text)
    write_text_atomic(out / "fullspectrum.json", json.dumps(data, indent=1, default=float))
    return path


def _plots(out: Path, data: dict[str, Any]) -> list[str]:
    from matplotlib.figure import Figure

    names = []
    fig = Figure(figsize=(13, 3.8), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, (title, table) in zip(axes, data["efficiency"].items(), strict=False):
        x = np.arange(len(table))
        eff = np.array([r["efficiency"] for r in table])
        lo = np.array([r["lo"] for r in table])
        hi = np.array([r["hi"] for r in table])
        ax.errorbar(x, eff, yerr=[eff - lo, hi - eff], fmt="o-")
        ax.set_xticks(x, [r["bin"] for r in table], rotation=45, fontsize=8)
        ax.set_xlabel(title)
        ax.set_ylabel("double-majority efficiency")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    path = out / "fullspectrum" / "efficiency.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    save_figure(fig, path, dpi=110)
    names.append("fullspectrum/efficiency.png")
    fig = Figure(figsize=(13, 3.8), layout="constrained")
    axes = fig.subplots(1, 4)
    for ax, (title, d) in zip(axes, data["weight_loss"].items(), strict=True):
        keys = list(d)
        ax.bar(range(len(keys)), [100 * d[k] for k in keys])
        ax.set_xticks(range(len(keys)), keys, rotation=45, fontsize=8)
        ax.set_xlabel({"volume": "volume", "pt": "pT [GeV]", "eta": "|η|",
                       "vr": "production radius [mm]"}[title])  # fmt: skip
        ax.set_ylabel("% of total weight lost")
    path = out / "fullspectrum" / "weight_lost.png"
    save_figure(fig, path, dpi=110)
    names.append("fullspectrum/weight_lost.png")
    if data["time_vs_mu"]:
        fig = Figure(figsize=(5, 3.8), layout="constrained")
        ax = fig.subplots()
        rows = data["time_vs_mu"]
        ax.plot([r["hits"] for r in rows], [r["s/event"] for r in rows], "o-")
        for r in rows:
            ax.annotate(f"μ={r['μ']:g}", (r["hits"], r["s/event"]), fontsize=8)
        ax.set_xlabel("hits per event")
        ax.set_ylabel("s per event (2 threads)")
        ax.grid(alpha=0.3)
        path = out / "fullspectrum" / "time_vs_mu.png"
        save_figure(fig, path, dpi=110)
        names.append("fullspectrum/time_vs_mu.png")
    return names


def _markdown(data: dict[str, Any], plots: list[str], test: Path, quick: bool) -> str:
    prov = provenance()
    lines = [
        "# `fullspectrum`: every particle the TrackML score weighs",
        "",
        f"Written by `tracklearn bench --suite fullspectrum` on {_dt.date.today()} "
        f"(tracklearn {prov.get('tracklearn_version')}, git {prov.get('git_revision')}); "
        f"{'quick settings; ' if quick else ''}total {data['seconds']:.0f} s on 2 cores. "
        "Held-out events: `tracklearn simulate --detector trackml` (tt̄ + μ=200, noise as in "
        f"the real data) with seeds never used in training or tuning (`{test.name}`). "
        "Every method runs each event in a fresh process; times are the median wall time of "
        "the reconstruction per event (event reading excluded), memory the median peak RSS. "
        "Targets for efficiency and fake rate: pT ≥ 1 GeV, |η| ≤ 4, ≥ 5 layers "
        "(DESIGN.md); the TrackML score weighs every particle.",
        "",
        "## Side by side (same events, one run)",
        "",
        *markdown_table(data["side_by_side"]),
        "",
    ]
    if data["truth_free"]:
        lines += [
            "## Real full events without truth (`hits_only/`)",
            "",
            "Truth-free efficiency (`tracklearn.metrics.truthfree`): primaries (vertex within "
            "1 mm of the beam line) with pT ≥ 1 GeV, |η| ≤ 1.5 and ≥ 5 hits from the event's "
            "particle list, found when a helix-fitted track of ≥ 5 hits has φ0, η, q/pT, z0 "
            "within 0.03 rad, 0.03, 0.25/pT + 0.005 GeV⁻¹, 5 mm of the particle's.",
            "",
            *markdown_table(data["truth_free"]),
            "",
        ]
    lines += [
        "## Efficiency of `fullspectrum` (held-out μ=200 events)",
        "",
        "Double-majority efficiency of particles with ≥ 5 layers, |η| ≤ 4, from pT = 0.1 GeV "
        "(Clopper-Pearson 68 % intervals).",
        "",
    ]
    for title, table in data["efficiency"].items():
        lines += [f"**{title}**", "", *markdown_table(table), ""]
    lines += [f"![efficiency]({plots[0]})", "", "## Where the TrackML weight is lost", "",
              "Share of the events' total weight in hits that no matched track scores "
              "(the TrackML score is 1 minus the sum over any one grouping).", ""]  # fmt: skip
    for title, d in data["weight_loss"].items():
        lines += [f"**by {title}**", "", *markdown_table([{k: v for k, v in d.items()}]), ""]
    lines += [f"![weight lost]({plots[1]})", "", "## Time per stage (median per event, 2 threads)",
              "", *markdown_table([data["stages"]]), ""]  # fmt: skip
    if data["time_vs_mu"]:
        lines += ["## Time vs pile-up", "", *markdown_table(data["time_vs_mu"]), "",
                  f"![time vs mu]({plots[2]})", ""]  # fmt: skip
    lines += [
        "## Ablation: what each learned part buys",
        "",
        "Same held-out events, in this process; each row replaces one learned part by its "
        "hand-made alternative: all seeds followed (no seed classifier), candidates ranked "
        "by hits − 2·holes − χ²/hit with no fake cut (no candidate classifier), one fixed "
        "error per layer kind (no learned extrapolation errors), a fixed z0 window.",
        "",
        *markdown_table(data["ablation"]),
        "",
    ]
    return "\n".join(lines) + "\n"
