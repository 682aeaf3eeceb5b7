"""Benchmark of hashing / ANN buckets (``tracklearn bench --suite hashing`` → ``hashing.md``).

On held-out simulated tt̄ + μ=200 events (seed 2; never used for training or
tuning) every bucket builder (space × index × bucket size ``k``) is measured with
:mod:`tracklearn.metrics.buckets`: bucket efficiency and its pure variant, fake
rate, bucket size, the time to bucket all hits of an event (space + index build +
queries + bucket table) and queries per second.  Also: efficiency vs pT from
0.1 GeV and vs η, the buckets as a graph (edge efficiency and purity next to the
shipped module map) and as seeds of the ``fullspectrum`` default (its triplets
kept only within one bucket), the in-bucket pair classifier (trained on the training
events, seed 1) and the published numbers of Amrouche et al.  The learned space
is the shipped embedding (``scripts/train_hashing_embedding.py``).
"""

from __future__ import annotations

import json
import logging
import os
import resource
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tracklearn.io.atomic import save_figure, write_text_atomic
from tracklearn.provenance import provenance

__all__ = ["HashingRow", "run_hashing_bench"]

log = logging.getLogger(__name__)

#: Amrouche, Kiehn, Golling, Salzburger, NeurIPS ML4PS 2019 (arXiv:2101.06428), abstract
PAPER_SIZE, PAPER_EFFICIENCY, PAPER_FAKE_RATE = "20–50", 0.96, 0.08
PT_BINS = (0.1, 0.3, 0.5, 0.7, 1.0, 2.0, 5.0, 100.0)  # GeV
ETA_BINS = (-4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0, 4.0)
SIZES = (5, 10, 20, 30, 50)
#: targets made within this transverse distance of the beam line are "beam-line" [mm]
BEAMLINE_R = 1.0


@dataclass(frozen=True)
class HashingRow:
    """One bucket builder on the test events (counts summed before dividing)."""

    space: str
    index: str
    k: int
    efficiency: float
    pure_efficiency: float
    fake_rate: float
    pure_fake_rate: float
    size_mean: float
    time_per_event_s: float
    queries_per_s: float
    table_mb: float
    n_events: int
    efficiency_beamline: float = float("nan")
    efficiency_displaced: float = float("nan")
    displaced_fraction: float = float("nan")


def _builder(space: str, index: str, k: int, embedding: Path, threads: int) -> Any:
    from tracklearn.graph.hashing import make_bucket_builder

    ss: dict[str, Any] = {"path": str(embedding), "threads": threads} if space == "learned" else {}
    return make_bucket_builder(space=space, space_settings=ss, index=index, k=k, threads=threads)


def _measure(
    space: str, index: str, k: int, events: Sequence[Any], embedding: Path, threads: int
) -> tuple[HashingRow, list[Any]]:
    from tracklearn.metrics.buckets import (
        bucket_metrics,
        particle_bucket_found,
        sum_bucket_metrics,
    )
    from tracklearn.metrics.targets import target_mask

    b = _builder(space, index, k, embedding, threads)
    parts, buckets, secs, q_secs, hits, mb = [], [], 0.0, 0.0, 0, 0.0
    beam, disp = [0, 0], [0, 0]  # (found, targets) made at the beam line / displaced
    for ev in events:
        t0 = time.perf_counter()
        bk = b(ev)
        secs += time.perf_counter() - t0
        q_secs += b.timings["index"]
        hits += ev.n_hits
        mb += (bk.hit_index.nbytes + bk.offsets.nbytes) / 1e6
        parts.append(bucket_metrics(ev, bk))
        buckets.append(bk)
        f, _ = particle_bucket_found(ev, bk)
        t = target_mask(ev)
        p = ev.particles
        near = t & (np.hypot(p.vx, p.vy) < BEAMLINE_R)
        far = t & ~near
        beam[0] += int(f[near].sum())
        beam[1] += int(near.sum())
        disp[0] += int(f[far].sum())
        disp[1] += int(far.sum())
    m = sum_bucket_metrics(parts)
    n = len(events)
    row = HashingRow(
        space=space, index=index, k=k, efficiency=m.efficiency,
        pure_efficiency=m.pure_efficiency, fake_rate=m.fake_rate,
        pure_fake_rate=m.pure_fake_rate, size_mean=m.size_mean, time_per_event_s=secs / n,
        queries_per_s=hits / q_secs if q_secs else float("nan"), table_mb=mb / n, n_events=n,
        efficiency_beamline=beam[0] / beam[1] if beam[1] else float("nan"),
        efficiency_displaced=disp[0] / disp[1] if disp[1] else float("nan"),
        displaced_fraction=disp[1] / (beam[1] + disp[1]) if beam[1] + disp[1] else float("nan"),
    )  # fmt: skip
    log.info("hashing bench: %s", row)
    return row, buckets


def _curves(events: Sequence[Any], buckets: Sequence[Any]) -> dict[str, list[float]]:
    """Bucket efficiency in pT bins (all particles with ≥ 5 layers, pT ≥ 0.1 GeV) and
    in η bins (targets pT ≥ 1 GeV)."""
    from tracklearn.metrics.buckets import particle_bucket_found
    from tracklearn.metrics.targets import TargetSelection, target_mask

    pt, eta, found, tgt1 = [], [], [], []
    for ev, bk in zip(events, buckets, strict=True):
        f, _ = particle_bucket_found(ev, bk)
        t = target_mask(ev, TargetSelection(pt_min=0.1))
        pt.append(ev.particles.pt[t])
        eta.append(ev.particles.eta[t])
        found.append(f[t])
        tgt1.append(ev.particles.pt[t] >= 1.0)
    p, e, f_, t1 = (np.concatenate(a) for a in (pt, eta, found, tgt1))

    def binned(x: np.ndarray, ok: np.ndarray, edges: Sequence[float]) -> list[float]:
        idx = np.digitize(x, edges) - 1
        out = []
        for i in range(len(edges) - 1):
            sel = idx == i
            out.append(float(ok[sel].mean()) if sel.any() else float("nan"))
        return out

    return {
        "pt": binned(p, f_, PT_BINS),
        "pt_n": [
            int(np.count_nonzero((np.digitize(p, PT_BINS) - 1) == i))
            for i in range(len(PT_BINS) - 1)
        ],
        "eta": binned(e[t1], f_[t1], ETA_BINS),
    }


def _graph_rows(
    events: Sequence[Any], embedding: Path, module_map: Path | None, threads: int
) -> list[dict[str, Any]]:
    from tracklearn.graph.hashing import HashingGraphBuilder
    from tracklearn.metrics.edges import edge_metrics

    builders: list[tuple[str, Any]] = []
    for space in ("helix", "learned"):
        for k in (5, 10):
            builders.append(
                (f"hashing {space}, k={k}",
                 HashingGraphBuilder(_builder(space, "kdtree", k, embedding, threads)))
            )  # fmt: skip
    if module_map is not None and module_map.exists():
        from tracklearn.graph.module_map import ModuleMapGraphBuilder

        builders.append(
            ("module map (shipped gnn model's)", ModuleMapGraphBuilder.from_file(module_map))
        )
    rows = []
    for label, b in builders:
        kept = segs = edges = true = 0
        secs = 0.0
        for ev in events:
            t0 = time.perf_counter()
            e = b.candidate_edges(ev)
            secs += time.perf_counter() - t0
            m = edge_metrics(ev, e)
            kept += m.n_target_segments_kept
            segs += m.n_target_segments
            edges += m.n_edges
            true += m.n_true_edges
        rows.append({
            "graph": label,
            "edge efficiency": kept / segs if segs else float("nan"),
            "edge purity": true / edges if edges else float("nan"),
            "edges / event": f"{edges / len(events):,.0f}",
            "s / event": secs / len(events),
        })  # fmt: skip
    return rows


def _resolution_rows(
    train: Sequence[Any], test: Sequence[Any], embedding: Path, k: int, threads: int
) -> list[dict[str, Any]]:
    from tracklearn.graph.similarity import resolve_buckets, train_pair_classifier
    from tracklearn.metrics.buckets import bucket_metrics, sum_bucket_metrics

    b = _builder("learned", "kdtree", k, embedding, threads)
    samples = [(ev, b.points(ev), b(ev)) for ev in train]
    t0 = time.perf_counter()
    clf, _ = train_pair_classifier(samples, epochs=4)
    train_s = time.perf_counter() - t0
    rows = []
    for thr in (0.1, 0.3, 0.5, 0.8):
        raw, res, secs = [], [], 0.0
        for ev in test:
            pts = b.points(ev)
            bk = b(ev)
            t1 = time.perf_counter()
            rb = resolve_buckets(clf, ev, pts, bk, thr)
            secs += time.perf_counter() - t1
            raw.append(bucket_metrics(ev, bk))
            res.append(bucket_metrics(ev, rb))
        m0, m = sum_bucket_metrics(raw), sum_bucket_metrics(res)
        rows.append({
            "buckets": f"learned k={k}, pair classifier ≥ {thr}",
            "efficiency": m.efficiency, "pure efficiency": m.pure_efficiency,
            "fake rate": m.fake_rate, "pure fake rate": m.pure_fake_rate,
            "mean size": m.size_mean, "s / event (classifier)": secs / len(test),
            "before: pure efficiency": m0.pure_efficiency,
            "classifier training [s]": train_s,
        })  # fmt: skip
    return rows


def _seed_rows(test: Sequence[Any], embedding: Path, threads: int) -> list[dict[str, Any]]:
    """The ``fullspectrum`` default with all its triplet seeds and with only those whose
    three hits share a bucket (:func:`~tracklearn.graph.hashing.bucket_seed_filter`)."""
    from tracklearn.fullspectrum.reconstructor import (
        FullSpectrumReconstructor,
        make_fullspectrum,
    )
    from tracklearn.graph.hashing import bucket_seed_filter
    from tracklearn.metrics import evaluate_event, trackml_score

    base = make_fullspectrum({"threads": threads})
    variants: list[tuple[str, Any]] = [("all triplet seeds (the default)", None)]
    for space in ("helix", "learned"):
        b = _builder(space, "kdtree", 50, embedding, threads)
        variants.append((f"seeds within one {space} bucket, k=50", bucket_seed_filter(b)))
    rows = []
    for label, filt in variants:
        reco = FullSpectrumReconstructor(base.model, base.config, seed_filter=filt)
        score, eff, fake, seeds, secs, fsecs = [], [], [], [], [], []
        for ev in test:
            t0 = time.perf_counter()
            state = reco.run(ev)
            tracks = reco.tracks(ev, state)
            secs.append(time.perf_counter() - t0)
            fsecs.append(state.times.get("seed_filter", 0.0))
            m = evaluate_event(ev, tracks)
            score.append(trackml_score(ev, tracks))
            eff.append(m.efficiency)
            fake.append(m.fake_rate)
            seeds.append(sum(len(p.seeds) for p in state.passes))
        rows.append({
            "seeds": label, "TrackML score": float(np.mean(score)),
            "efficiency": float(np.mean(eff)), "fake rate": float(np.mean(fake)),
            "seeds / event": f"{np.mean(seeds):,.0f}", "s / event": float(np.median(secs)),
            "of which buckets": float(np.median(fsecs)),
        })  # fmt: skip
        log.info("hashing bench: fullspectrum %s", rows[-1])
    return rows


def run_hashing_bench(
    out: str | Path,
    train_dir: str | Path,
    test_dir: str | Path,
    *,
    embedding: str | Path | None = None,
    module_map: str | Path | None = None,
    threads: int = 2,
    quick: bool = False,
    notes: str = "",
) -> Path:
    """Measure every bucket builder on the test events; write ``out/hashing.md`` (+ PNG, JSON).

    Parameters
    ----------
    out
        Results folder.
    train_dir, test_dir
        Training events (seed 1: the pair classifier) and held-out test events (seed 2).
    embedding
        Learned space weights (default: the shipped one).
    module_map
        Module map ``.npz`` for the graph comparison (default: the shipped ``gnn`` model's).
    threads
        faiss / torch threads of the bucket builders.
    quick
        Fewer bucket sizes and indexes (a smoke run).
    """
    from tracklearn.graph.hashing import DEFAULT_EMBEDDING
    from tracklearn.io.trackml import find_events, read_event

    out = Path(out)
    emb = Path(embedding) if embedding is not None else DEFAULT_EMBEDDING
    if module_map is None:
        module_map = Path(__file__).resolve().parents[1] / "models" / "default" / "module_map.npz"
    train = [read_event(p) for p in sorted(find_events([Path(train_dir)]))[:3]]
    test = [read_event(p) for p in sorted(find_events([Path(test_dir)]))]
    sizes = (10, 20) if quick else SIZES
    rows: list[HashingRow] = []
    curves: dict[str, dict[str, list[float]]] = {}
    load_before = os.getloadavg()[0]
    for space in ("helix", "learned"):
        for k in sizes:
            row, bks = _measure(space, "kdtree", k, test, emb, threads)
            rows.append(row)
            if k in (10, 20):
                curves[f"{space} k={k}"] = _curves(test, bks)
        for index in ("exact", "ivf", "hnsw", "lsh") if not quick else ("hnsw",):
            # faiss's brute force is the slowest index by far (generic faiss build): one event
            evs = test[:1] if index == "exact" else test
            rows.append(_measure(space, index, 20, evs, emb, threads)[0])
        if not quick:
            for index in ("ivf", "hnsw"):
                rows.append(_measure(space, index, 50, test, emb, threads)[0])
    load = (load_before, os.getloadavg()[0])
    graph = _graph_rows(test, emb, Path(module_map), threads)
    seeds = [] if quick else _seed_rows(test, emb, threads)
    resolution = _resolution_rows(train, test, emb, 20, threads)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    png = out / "hashing.png"
    _plot(rows, png)
    meta = json.loads(emb.with_suffix(".json").read_text()) if emb.exists() else {}
    text = _markdown(rows, curves, graph, seeds, resolution, rss, load, meta, train_dir, test_dir,
                     len(train), len(test), threads, notes)  # fmt: skip
    path = out / "hashing.md"
    write_text_atomic(path, text)
    write_text_atomic(
        out / "hashing.json",
        json.dumps(
            {"rows": [asdict(r) for r in rows], "curves": curves, "graph": graph,
             "seeds": seeds, "resolution": resolution, "peak_rss_mb": rss,
             "load_average": load,
             "provenance": provenance()},
            indent=2, default=float,
        ) + "\n",
    )  # fmt: skip
    return path


def _plot(rows: Sequence[HashingRow], png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10.0, 4.2))
    groups: dict[str, list[HashingRow]] = {}
    for r in rows:
        groups.setdefault(f"{r.space} / {r.index}", []).append(r)
    for ax, lo in zip(axes, (0.0, 0.85), strict=True):
        for label, rs in groups.items():
            rs = sorted(rs, key=lambda r: r.size_mean)
            style = "-o" if len(rs) > 2 else "o"
            x = [r.size_mean for r in rs]
            ax.plot(x, [r.efficiency for r in rs], style, label=label, ms=4)
        ax.axhline(PAPER_EFFICIENCY, color="grey", ls="--", lw=1, label="Amrouche et al. (0.96)")
        ax.axvspan(20, 50, color="grey", alpha=0.1)
        ax.set_xlabel("bucket size [hits]")
        ax.set_ylabel("bucket efficiency (pT ≥ 1 GeV)")
        ax.set_xscale("log")
        ax.set_ylim(lo, 1.0 if lo else 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_title("all builders")
    axes[1].set_title("zoom")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    save_figure(fig, png, dpi=120)
    plt.close(fig)


def _f(x: float, d: int = 3) -> str:
    return "–" if x != x else f"{x:.{d}f}"


def _markdown(
    rows: Sequence[HashingRow],
    curves: dict[str, dict[str, list[float]]],
    graph: list[dict[str, Any]],
    seeds: list[dict[str, Any]],
    resolution: list[dict[str, Any]],
    rss: float,
    load: tuple[float, float],
    meta: dict[str, Any],
    train_dir: str | Path,
    test_dir: str | Path,
    n_train: int,
    n_test: int,
    threads: int,
    notes: str,
) -> str:
    import datetime as _dt

    from tracklearn.report import markdown_table

    displaced = rows[0].displaced_fraction if rows else float("nan")
    prov = provenance()
    lines = [
        "# Hashing and similarity learning: buckets of hits",
        "",
        f"Written by `tracklearn bench --suite hashing` (`tracklearn.bench.hashing`) on "
        f"{_dt.date.today().isoformat()} (tracklearn {prov['tracklearn_version']}, git "
        f"{prov['git_revision']}). {n_test} held-out simulated tt̄ + μ=200 events "
        f"(`{Path(test_dir).name}`: `tracklearn simulate --detector trackml --pileup 200 "
        f"--seed 2`); the first {n_train} training events (`{Path(train_dir).name}`, seed 1) "
        "train the pair classifier; the bench's scratch folder holds both. Every hit queries "
        "its k nearest neighbours; its bucket is itself and those neighbours.",
        "",
        "Definitions (`tracklearn.metrics.buckets`): **efficiency** = target particles "
        "(pT ≥ 1 GeV, |η| ≤ 4, ≥ 5 layers) with ≥ 4 of their hits in one bucket; **pure** "
        "= and those hits are > 50 % of that bucket; **fake rate** = buckets (≥ 4 hits) in "
        "which no particle has ≥ 4 hits; **pure fake rate** = buckets in which no particle "
        "has ≥ 4 hits that are the majority; **beam line** / **displaced** = efficiency of "
        f"the targets made within / beyond {BEAMLINE_R:g} mm of the beam line (transverse "
        "distance of the production vertex; displaced targets are "
        f"{_f(100 * displaced, 1)} % of all, mostly secondaries made in "
        "material). Time: one event's buckets (space, index build and queries, bucket "
        f"table), {threads} threads; 1-minute load average {load[0]:.1f} before and "
        f"{load[1]:.1f} after the bucket builders ({os.cpu_count()} cores); queries/s: "
        "hits / (index build + query time).",
        "",
        "## Bucket builders",
        "",
        "| space | index | k | mean size | efficiency | beam line | displaced | pure eff. "
        "| fake rate | pure fake | s / event | queries / s | table MB | events |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
        "| ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.space} | {r.index} | {r.k} | {r.size_mean:.1f} | {_f(r.efficiency, 4)} "
            f"| {_f(r.efficiency_beamline, 4)} | {_f(r.efficiency_displaced)} "
            f"| {_f(r.pure_efficiency)} | {_f(r.fake_rate)} | {_f(r.pure_fake_rate)} "
            f"| {_f(r.time_per_event_s, 2)} | {r.queries_per_s:,.0f} | {r.table_mb:.0f} "
            f"| {r.n_events} |"
        )
    lines.append(
        f"| **Amrouche et al. (paper)** | annoy (random projections) | – | "
        f"{PAPER_SIZE} | {PAPER_EFFICIENCY} | – | – | – | {PAPER_FAKE_RATE} | – | – "
        "| – | – | – |"
    )
    lines += [
        "",
        "Their numbers are from the paper's abstract (TrackML events, their detector and "
        "pile-up, their fake-rate definition, which we could not read in full); ours are "
        "on our simulation. `exact` is faiss's brute force (`IndexFlatL2`, the slowest, "
        "so measured on one event only; the generic faiss build is what loads here), `kdtree` "
        "scipy's exact tree; `lsh` is faiss `IndexLSH` (64 random projections, Hamming "
        "neighbours: in 4–8 dimensions many hits share a code and ties are cut arbitrarily).",
        "",
        f"Peak RSS of the benchmark process: {rss:,.0f} MB.",
        "",
        "![efficiency vs bucket size](hashing.png)",
        "",
        "## Efficiency vs pT and η",
        "",
        "Particles with ≥ 5 layers and |η| ≤ 4 from pT = 0.1 GeV (bucket efficiency as above); "
        "η bins for pT ≥ 1 GeV.",
        "",
    ]
    first = next(iter(curves.values()), None)
    if first is not None:
        pt_rows = []
        for i in range(len(PT_BINS) - 1):
            row: dict[str, Any] = {"pT [GeV]": f"{PT_BINS[i]}–{PT_BINS[i + 1]}",
                                   "particles": first["pt_n"][i]}  # fmt: skip
            for name, c in curves.items():
                row[name] = c["pt"][i]
            pt_rows.append(row)
        lines += markdown_table(pt_rows)
        lines.append("")
        eta_rows = []
        for i in range(len(ETA_BINS) - 1):
            erow: dict[str, Any] = {"η": f"{ETA_BINS[i]}–{ETA_BINS[i + 1]}"}
            for name, c in curves.items():
                erow[name] = c["eta"][i]
            eta_rows.append(erow)
        lines += markdown_table(eta_rows)
    lines += [
        "",
        "## Buckets as a graph",
        "",
        "Edges between every hit and its bucket members (graph builder `hashing`), "
        "oriented inner → outer; edge efficiency and purity as `tracklearn.metrics.edges` "
        "(target segments kept; true edges / edges), next to the module map of the shipped "
        "`gnn` model on the same events.",
        "",
        *markdown_table(graph),
        "",
    ]
    if seeds:
        lines += [
            "## Buckets as seeds of the full-spectrum default",
            "",
            "`fullspectrum` (the shipped model, 2 threads) on the same events with all its "
            "triplet seeds, and keeping only the triplets whose inner and outer hits are in "
            "the middle hit's bucket (`tracklearn.graph.hashing.bucket_seed_filter`); "
            "TrackML score and efficiency / fake rate as `tracklearn.metrics` (double "
            "majority, pT ≥ 1 GeV targets); seeds summed over the passes; times are medians "
            "and include building the buckets.",
            "",
            *markdown_table(seeds),
            "",
        ]
    lines += [
        "## In-bucket resolution",
        "",
        "A pair classifier (MLP on the two embeddings and their geometric differences, "
        "`tracklearn.graph.similarity.PairClassifier`, trained on 3 training events) keeps "
        "the members it scores at or above the threshold; the query hit stays.",
        "",
        *markdown_table(resolution),
        "",
        "## The learned space",
        "",
        f"`{meta.get('provenance', {}).get('command', 'scripts/train_hashing_embedding.py')}`; "
        f"config `{json.dumps(meta.get('config', {}), sort_keys=True)}`.",
    ]
    if notes:
        lines += ["", notes.strip()]
    return "\n".join(lines) + "\n"
