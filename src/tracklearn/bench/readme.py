"""The README's generated blocks, copied from the results files (``make readme-numbers``).

A block in ``README.md`` is delimited by ``<!-- generated: NAME -->`` and
``<!-- /generated -->``; :data:`BLOCKS` maps each ``NAME`` to the function that
writes its Markdown from ``benchmarks/results/*.json`` (the JSON copies that
``tracklearn bench`` writes beside every table). ``make bench`` ends with
``make readme-numbers``; ``tests/test_readme_numbers.py`` fails when a block
differs from what its results file gives, so the README cannot drift from them.

Usage: ``python -m tracklearn.bench.readme [--check] [README] [RESULTS_DIR]``.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from tracklearn.errors import DataError
from tracklearn.io.atomic import write_text_atomic
from tracklearn.report import format_cell

__all__ = ["BLOCKS", "measured_methods", "render_readme", "update_readme"]

BLOCK = re.compile(r"(<!-- generated: ([\w-]+) -->\n)(.*?)(<!-- /generated -->)", re.S)

#: README labels of the event sets of ``fullspectrum.json``'s side-by-side rows
_EVENT_LABELS = {
    "mu200": "simulated μ=200",
    "mu200 σz=55mm": "simulated μ=200, σz = 55 mm",
    "real 5 % event": "real 5 % event",
}


def _load(results: Path, name: str) -> dict[str, Any]:
    path = results / f"{name}.json"
    if not path.is_file():
        raise DataError(path, "results file missing (run `tracklearn bench --suite ...`)")
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise DataError(path, f"not valid JSON ({exc.msg}, line {exc.lineno})") from None
    return data


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [_row(header), _row(["---"] * len(header)), *(_row(r) for r in rows)]


def _bold(text: str, on: bool) -> str:
    return f"**{text}**" if on else text


def _range(values: Sequence[float], scale: float = 1.0, digits: int = 3) -> str:
    """``lo–hi`` of ``values`` (× ``scale``), each to ``digits`` significant digits."""
    lo, hi = min(values) * scale, max(values) * scale
    return f"{lo:.{digits}g}–{hi:.{digits}g}"


def _pct(value: float, digits: int = 1) -> str:
    """``value`` (a fraction) as a percentage: ``0.969 → "96.9 %"``."""
    return f"{100 * value:.{digits}f} %"


def _signed(value: float, digits: int) -> str:
    """``value`` with its sign, and a typographic minus: ``−0.18``, ``+0.37``; a value that
    rounds to zero is ``+0.00`` (never ``−0.00``)."""
    if round(value, digits) == 0:
        value = 0.0
    return f"{value:+.{digits}f}".replace("-", "−")


def _within(ratios: Sequence[float]) -> tuple[int, int]:
    """The whole percentages ``(lo, hi)`` that bound ``ratios − 1`` (rounded outwards, so
    that "within lo … hi %" holds for every ratio)."""
    devs = [100 * (r - 1) for r in ratios]
    return math.floor(min(devs) + 1e-9), math.ceil(max(devs) - 1e-9)


def _md_table(results: Path, name: str, first: Sequence[str]) -> list[dict[str, str]]:
    """The rows (column → cell text) of the first table in ``results/name.md`` whose header
    starts with the columns ``first``: for the results files that have no JSON copy
    (``simulation.md``, ``classical.md``, ``toy-models.md``, ``scale-out.md``)."""
    path = results / f"{name}.md"
    if not path.is_file():
        raise DataError(path, "results file missing (run `tracklearn bench --suite ...`)")
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        header = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("|") and header[: len(first)] == list(first):
            rows = []
            for row in lines[i + 2 :]:
                if not row.startswith("|"):
                    break
                cells = [c.strip() for c in row.strip().strip("|").split("|")]
                rows.append(dict(zip(header, cells, strict=False)))
            return rows
    raise DataError(path, f"no table with the columns {' | '.join(first)}")


def _md_prose(results: Path, name: str, pattern: str) -> re.Match[str]:
    """The first match of ``pattern`` in ``results/name.md`` (a number a suite writes in a
    sentence rather than a table)."""
    path = results / f"{name}.md"
    m = re.search(pattern, path.read_text() if path.is_file() else "")
    if m is None:
        raise DataError(path, f"no text matching {pattern!r}")
    return m


def _f(cell: str) -> float:
    """A Markdown table cell as a number (thousands commas, typographic minus, %)."""
    return float(cell.replace(",", "").replace("−", "-").rstrip("% "))


def fullspectrum_results(results: Path) -> list[str]:
    """The README's first table: every method on the same events (``fullspectrum.json``)."""
    rows = _load(results, "fullspectrum")["side_by_side"]
    out: list[list[str]] = []
    seen: set[str] = set()
    for r in rows:
        label = _EVENT_LABELS.get(r["events"], r["events"])
        if r["events"] not in seen:  # the first row of an event set says how many events
            seen.add(r["events"])
            label += f" ({r['n']} event{'s' if r['n'] != 1 else ''})"
        ours = r["method"] == "fullspectrum"
        out.append(
            [
                label,
                _bold(f"`{r['method']}`", ours),
                _bold(format_cell(r["TrackML score"]), ours),
                format_cell(r["efficiency"]),
                format_cell(r["fake rate"]),
                format_cell(r["s/event (median)"]),
                format_cell(r["peak RSS MB (median)"]),
            ]
        )
    header = ["events", "method", "TrackML score", "efficiency", "fake rate", "s/event",
              "peak RSS MB"]  # fmt: skip
    return _table(header, out)


def fullspectrum_truth_free(results: Path) -> list[str]:
    """One paragraph on the real full events without truth (``fullspectrum.json``)."""
    rows = _load(results, "fullspectrum")["truth_free"]
    by: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by.setdefault(r["method"], []).append(r)
    ours = by.get("fullspectrum", [])
    if not ours:
        return ["(no truth-free rows in fullspectrum.json)"]
    hits = [float(r["hits"]) for r in ours]
    others = "; ".join(
        f"`{m}` {_range([r['efficiency'] for r in rs], 100, 2)} %"
        for m, rs in by.items()
        if m != "fullspectrum"
    )
    return [
        f"`fullspectrum` is the default. On the {len(ours)} real full events without truth "
        f"(`hits_only/`, {min(hits) / 1000:.0f}–{max(hits) / 1000:.0f} k hits) it finds "
        f"{_range([r['efficiency'] for r in ours], 100)} % of the central primaries with "
        "pT ≥ 1 GeV that the events' particle lists hold (matched by a helix fit of the "
        f"track: charge, φ0, η, pT, z0{'; ' + others if others else ''}), in "
        f"{_range([r['s/event'] for r in ours])} s per event."
    ]


def fullspectrum_speed(results: Path) -> list[str]:
    """One paragraph: time per stage, time vs μ, the long luminous region."""
    data = _load(results, "fullspectrum")
    st = data["stages"]

    def two(stage: str) -> str:
        return f"{st.get('primary:' + stage, 0):.3g} + {st.get('displaced:' + stage, 0):.3g} s"

    nets = sum(v for k, v in st.items() if k.endswith(("seed_net", "track_net")))
    mu = ", ".join(
        f"{r['s/event']:.3g} s at μ={r['μ']:g} ({r['hits']:,} hits)" for r in data["time_vs_mu"]
    )
    long = [r for r in data["side_by_side"] if r["events"] == "mu200 σz=55mm"]
    text = (
        f"Per event (μ=200, 2 threads, in one process): seeds {two('seeds')}, following "
        f"{two('follow')}, networks {nets:.3g} s, {st['total']:.3g} s in all; one event each: "
        f"{mu}."
    )
    if long:
        text += (
            " With the long luminous region (σz = 55 mm) the z0 window is 250 mm wide and an "
            f"event takes {long[0]['s/event (median)']:.3g} s and "
            f"{long[0]['peak RSS MB (median)']:.0f} MB: the one place where it is slower than "
            "our 3 s aim."
        )
    return [text]


def fullspectrum_ablation(results: Path) -> list[str]:
    """The ablation table (``fullspectrum.json``), with each row against the shipped model."""
    rows = _load(results, "fullspectrum")["ablation"]
    time_key = next(k for k in rows[0] if k.startswith("s/event"))
    ref = rows[0]
    header = ["variant", "TrackML score", "efficiency", "fake rate", "s/event (in process)",
              "score lost", "fakes ×", "time ×"]  # fmt: skip
    out = []
    for r in rows:
        cells = [format_cell(r[k]) for k in ("TrackML score", "efficiency", "fake rate", time_key)]
        if r is ref:
            cells += ["–", "–", "–"]
        else:
            cells += [
                f"{ref['TrackML score'] - r['TrackML score']:.3f}",
                f"{r['fake rate'] / ref['fake rate']:.2f}" if ref["fake rate"] else "–",
                f"{r[time_key] / ref[time_key]:.2f}",
            ]
        out.append([r["variant"], *cells])
    return _table(header, out)


def fullspectrum_efficiency(results: Path) -> list[str]:
    """One paragraph: efficiency vs pT, |η| and production radius, and where the TrackML
    weight is lost (``fullspectrum.json``)."""
    data = _load(results, "fullspectrum")
    eff = {
        axis: {r["bin"]: float(r["efficiency"]) for r in rows}
        for axis, rows in data["efficiency"].items()
    }
    pt = eff["pT [GeV]"]
    eta = list(eff["|η| (pT ≥ 1 GeV)"].values())
    vr = eff["production radius [mm]"]
    lost = data["weight_loss"]
    total = sum(lost["vr"].values())
    soft = sum(v for k, v in lost["pt"].items() if float(k.split("–")[1]) <= 0.5)
    far = ["10–50", "50–200", "200–1000"]
    return [
        "**Measured** (`benchmarks/results/fullspectrum.md`, held-out events): efficiency "
        f"(double majority, ≥ 5 layers) rises from {pt['0.1–0.2']:#.2g} at pT 0.1–0.2 GeV to "
        f"{pt['0.3–0.5']:#.2g} at 0.3–0.5 GeV and {pt['1–2']:#.2g} at 1–2 GeV; for pT ≥ 1 GeV "
        f"it is {min(eta):#.2g}–{max(eta):#.2g} in every |η| bin up to 4; {vr['0–1']:#.3g} for "
        f"particles made within 1 mm of the beam line, {vr['1–10']:#.2g} at 1–10 mm, but only "
        f"{' / '.join(f'{vr[b]:#.1g}' if vr[b] < 0.1 else f'{vr[b]:#.2g}' for b in far)} for "
        f"those made at {' / '.join(far)} mm. The score weight left is mostly in primaries "
        f"({lost['vr']['0–1']:.3f} of the {total:.3f} lost), in the pixel barrel (volume 8: "
        f"{lost['volume']['8']:.3f}) and below 0.5 GeV (about {soft:.2f})."
    ]


def _simulation_speed(results: Path) -> tuple[float, float, float]:
    """s/event and peak RSS MB of one μ=200 process, and the events/s gain of 2 workers
    (``simulation.md``)."""
    rows = _md_table(results, "simulation", ["μ (pile-up)", "workers"])
    one = next(r for r in rows if r["μ (pile-up)"] == "200" and r["workers"] == "1")
    two = next(r for r in rows if r["μ (pile-up)"] == "200" and r["workers"] == "2")
    rate = "events/s (wall, incl. init)"
    return (
        _f(one["s/event, one core (median)"]),
        _f(one["peak RSS MB (largest process)"]),
        _f(two[rate]) / _f(one[rate]),
    )


def simulation_speed(results: Path) -> list[str]:
    """One sentence: the realistic simulator's time and memory per event (``simulation.md``)."""
    s_event, rss, gain = _simulation_speed(results)
    return [
        "**Speed** (`benchmarks/results/simulation.md`, from `make bench`): a tt̄ + μ=200 "
        f"event takes {s_event:.2g} s on one core after Pythia's initialisation (once per "
        f"process), peak RSS {rss:.0f} MB; `--workers 2` gives {gain:.2g}× the events per second."
    ]


def _validation(results: Path) -> dict[str, Any]:
    return _load(results / "simulation-validation", "validation")


def simulation_validation(results: Path) -> list[str]:
    """One paragraph: the simulation against the real data (``simulation-validation/
    validation.json``)."""
    data = _validation(results)
    rows = data["rows"]
    n = data["n_events"]

    def row(prefix: str) -> Mapping[str, Any]:
        return next(r for r in rows if r["quantity"].startswith(prefix))

    volumes = [r["ratio"] for r in rows if "selection-corrected" in r["quantity"]]
    lo, hi = _within(volumes)
    parts = row("particles per event (")
    nhits = row("mean nhits per particle")
    spectrum = row("pT spectrum")
    worst = row("hits per event, worst")
    layer = re.search(r"\(volume:layer\) (\S+)", worst["quantity"])
    n_failed = int(data["n_failed"])
    floors = (
        f"all {data['n_judged']} floors pass"
        if n_failed == 0
        else f"{data['n_judged'] - n_failed} of {data['n_judged']} floors pass"
    )
    return [
        f"**Proven against real data** (`make validate-simulation`: {n['sim_hits']} simulated "
        f"tt̄ + μ=200 events vs the {n['real_hits']} full real events and "
        f"{n['real_particles']} real particle lists, and for cluster shapes vs the real 5 % "
        "event's cells; `benchmarks/results/simulation-validation.md` and its plots): "
        f"{floors} — hits per event in each of the {len(volumes)} volumes within "
        f"{_signed(lo, 0)} % … {_signed(hi, 0)} % of the real means (after correcting the real "
        f"hit-level sample for its selection, see the table), particles per event "
        f"{parts['sim_mean']:,.0f} vs {parts['real_mean']:,.0f}, mean hits per particle "
        f"{nhits['sim_mean']:.2f} vs {nhits['real_mean']:.2f}, every pT bin between 0.1 and "
        f"10 GeV within {math.ceil(100 * abs(spectrum['ratio'] - 1))} %. Known "
        "differences are listed in the table: the worst layer "
        f"({layer.group(1) if layer else '?'}) gets {100 * (worst['ratio'] - 1):.0f} % more "
        "hits than the real one, and secondaries are produced further out than in the real "
        "data (no beam pipe, no photon conversions)."
    ]


def simulation_clusters(results: Path) -> list[str]:
    """One paragraph: the judged cluster-shape rows (``simulation-validation/
    validation.json``)."""
    rows = [
        r
        for r in _validation(results)["rows"]
        if r["floor"] is not None and r["quantity"].startswith(("cluster", "hit - cell"))
    ]
    ratios = [r["ratio"] for r in rows]
    lo, hi = _within(ratios)
    close = sum(abs(r - 1) <= 0.02 for r in ratios)
    passed = sum(bool(r["passed"]) for r in rows)
    strips = [
        100 * r["floor"]
        for r in rows
        if re.search(r"volume (12|14|16|18)\b", r["quantity"]) and r["floor"] > 0.1
    ]
    verdict = (
        f"all {len(rows)} cluster rows pass"
        if passed == len(rows)
        else (f"{passed} of {len(rows)} cluster rows pass")
    )
    return [
        "**Cluster shapes** (same report; hits of primaries with pT > 0.5 GeV; simulated hits "
        "weighted to the real event's |η| distribution per volume, because that event has a "
        f"~9× longer luminous region): {verdict}, within {_signed(lo, 0)} … {_signed(hi, 0)} % "
        f"of the real event and {close} of them within 2 % (the strip end-caps, with few real "
        f"hits, have floors of ±{min(strips):.0f}–{max(strips):.0f} %):"
    ]


def gnn_summary(results: Path) -> list[str]:
    """One paragraph: the shipped `gnn` model on simulated, real and IN-paper events
    (``gnn.json``)."""
    data = _load(results, "gnn")
    sim, real, graphs = data["simulated"], data["real"], data["in_graphs"]
    gnn, dbscan = sim["gnn"], sim["dbscan"]
    mu20 = next(r for r in data["scaling"] if r["pileup"] == 20)
    every = min(min(g["edge_efficiency"], g["edge_purity"]) for g in graphs.values())
    return [
        "On simulated tt̄ + μ=200 events the shipped `gnn` model (module map → filter → "
        "Interaction Network → `hybrid` track building; `gnn.md`) finds "
        f"{_pct(gnn['efficiency'])} of the target particles (double majority, pT > 1 GeV) with "
        f"{_pct(gnn['fake_rate'])} fakes, DBSCAN {_pct(dbscan['efficiency'])} with "
        f"{_pct(dbscan['fake_rate'])} fakes in the same run, in {gnn['time_s']:.2g} s/event and "
        f"{gnn['peak_rss_mb'] / 1000:.2g} GB ({mu20['time_s']:.2g} s at μ=20; every method on "
        "the same events: the first table). Its IN-paper-style classifier, trained only on our "
        f"simulated events, scores {graphs['all']['edge_efficiency']:.4f} efficiency / "
        f"{graphs['all']['edge_purity']:.4f} purity on the real Interaction-Network-paper "
        f"graphs (every set ≥ {math.floor(100 * every)} %; the paper: 0.994 / 0.992 on 1 GeV "
        "graphs). Its known weakness is the length of the luminous region: our training events "
        "follow the real Kaggle particle lists (vertices spread by σz ≈ 5.5 mm), and on the "
        f"real 5 % event, whose vertices spread by 49 mm, `gnn` finds only "
        f"{_pct(real['gnn']['efficiency'], 0)} (DBSCAN {_pct(real['dbscan']['efficiency'], 0)})."
    ]


def classical_summary(results: Path) -> list[str]:
    """One paragraph: `ckf` efficiency, fakes and time, and its seed pruning
    (``classical.md``)."""
    rows = _md_table(results, "classical", ["dataset", "method", "events"])
    ckf = {r["dataset"]: r for r in rows if r["method"] == "ckf"}
    mu200, mu20 = ckf["sim tt̄ μ=200"], ckf["sim tt̄ μ=20"]
    real = next(r for d, r in ckf.items() if d.startswith("real"))
    prune = {r["setting"]: r for r in _md_table(results, "classical", ["dataset", "setting"])}
    off = prune["no pruning"]
    on = next(r for s, r in prune.items() if s.endswith("(default)"))
    ratio = _f(on["seeds/event"]) / _f(off["seeds/event"])
    cut = "more than halves" if ratio < 0.5 else f"cuts by {_pct(1 - ratio, 0)}"
    same = (
        "at equal efficiency"
        if on["efficiency"] == off["efficiency"]
        else (f"(efficiency {off['efficiency']} → {on['efficiency']})")
    )
    speed = _f(on["speed-up"])
    faster = (
        f"but in that run (cores shared with another benchmark) it did not make the chain "
        f"faster ({speed:.2f}×)"
        if speed < 1
        else f"and makes the chain {speed:.2f}× faster"
    )
    return [
        f"`ckf` finds {_pct(_f(mu200['efficiency']))} with {_pct(_f(mu200['fake_rate']))} fakes "
        f"at μ=200 (`classical.md`), {_pct(_f(mu20['efficiency']))} / "
        f"{_pct(_f(mu20['fake_rate']))} at μ=20 and {_pct(_f(real['efficiency']))} / "
        f"{_pct(_f(real['fake_rate']))} on the real 5 % event, in {_f(mu200['s/event']):.3g} "
        "s/event at μ=200 (one thread); its MLP seed pruning (on by default) "
        f"{cut} the main pass's seeds ({_f(off['seeds/event']):,.0f} → "
        f"{_f(on['seeds/event']):,.0f} per event) {same}, {faster}."
    ]


def toys_summary(results: Path) -> list[str]:
    """One paragraph: the HEP.TrkX toys, the track-parameter regression and the g-2 finder
    (``toy-models.md``, ``uncertainty.json``)."""
    ref = _md_table(results, "toy-models", ["model", "setting", "accuracy after seeds"])
    compact = _md_table(results, "toy-models", ["model", "setting", "accuracy"])
    regression = _md_table(results, "toy-models", ["tracks per image", "RMS resid. slope"])
    g2 = {r["training"]: r for r in _md_table(results, "toy-models", ["training"])}
    unc = _load(results, "uncertainty")
    noise, bg = "1 track + 20 % noise", "1 + 5 background tracks"

    def pick(rows: list[dict[str, str]], model: str, setting: str) -> dict[str, str]:
        return next(r for r in rows if r["model"].startswith(model) and r["setting"] == setting)

    all_ = "accuracy all layers"
    lstm_n, lstm_b = pick(ref, "lstm", noise), pick(ref, "lstm", bg)
    conv = pick(ref, "conv_autoencoder", bg)
    oracle = [pick(ref, "straight-line", s)[all_] for s in (noise, bg)]
    follower = [pick(compact, "track_follower", s)["accuracy"] for s in (noise, bg)]
    compact_oracle = [pick(compact, "straight-line", s)["accuracy"] for s in (noise, bg)]
    best = [
        max((r for r in compact if r["setting"] == s and "oracle" not in r["model"]),
            key=lambda r: _f(r["accuracy"]))["model"]
        for s in (noise, bg)
    ]  # fmt: skip
    leads = "leads" if best == ["track_follower"] * 2 else "reaches"
    calibrated = [_f(r[k]) for r in regression for k in ("pull std slope", "pull std intercept")]
    raw = [_f(r[k]) for r in regression for k in ("raw pull std slope", "raw pull std intercept")]
    head = [p["std"] for r in unc["regression"].values() for p in r["raw"]["pulls"].values()]
    finder = unc["g2"]["curves"]["finder"]["30"]
    return [
        "On the HEP.TrkX reference toy (`--detector toy2d`, their 50 layers × 50 pixels with 5 "
        "clean seed layers; `toy-models.md`, `make bench-toys`) the LSTM reaches "
        f"{lstm_n[all_]} on 1 track + 20 % noise (published {lstm_n['HEP.TrkX (all layers)']}) "
        f"and {lstm_b[all_]} on 5 background tracks (published "
        f"{lstm_b['HEP.TrkX (all layers)']}), counted over all layers as HEP.TrkX did "
        f"({lstm_n['accuracy after seeds']} / {lstm_b['accuracy after seeds']} after the seed "
        f"layers); our conv autoencoder, with U-Net skip connections, reaches {conv[all_]} "
        f"on 5 background tracks (HEP.TrkX's, published: {conv['HEP.TrkX (all layers)']}), "
        f"against a straight-line oracle ceiling of {' / '.join(oracle)}; on "
        f"our compact 10-layer toy our track follower {leads} ({' / '.join(follower)}, oracle "
        f"{' / '.join(compact_oracle)}). The track-parameter regression's pulls have widths "
        f"{min(calibrated):.2f}–{max(calibrated):.2f} after a validation calibration (raw "
        f"{min(raw):.2f}–{max(raw):.2f}) up to {regression[-1]['tracks per image']} tracks per "
        "image, where the slope is barely measured any more (`toy-models.md`; the "
        f"full-covariance head of `uncertainty.md` has pull std {min(head):.2f}–{max(head):.2f} "
        "raw); the g-2 network alone gains from overlay augmentation (efficiency "
        f"{_f(g2['without overlay']['all: efficiency']):.2f} → "
        f"{_f(g2['with overlay']['all: efficiency']):.2f} in `toy-models.md`), and guiding a "
        f"parabola RANSAC with it gives {finder[0]:.3f} efficiency / {finder[1]:.3f} purity "
        "(`uncertainty.md`)."
    ]


def uncertainty_lstm(results: Path) -> list[str]:
    """One paragraph: the one-way LSTM's ceiling and the Kalman tails (``uncertainty.json``)."""
    data = _load(results, "uncertainty")
    causal = next(r for r in data["lstm"] if r["label"].startswith("causal"))["all"]
    n_real = next(v for k, v in data["kalman"].items() if k.startswith("real"))["ckf"]["n"]
    return [
        "A one-way LSTM's ceiling is barely above the floor: a reader that knows the true cells "
        f"of every earlier layer (the causal line oracle) gets {causal:.4f}, so 0.98 would need "
        "oracle-like extrapolation; the bidirectional LSTM reads the whole event. The real "
        "event's q/p tails left are single hard energy losses that a Gaussian fit does not "
        f"model, on only {n_real} tracks."
    ]


def muon_trigger_summary(results: Path) -> list[str]:
    """Two paragraphs: floors, the CNN against the road look-up, and outside the training
    conditions (``muon-trigger.json``; the stress table of ``muon-trigger.md``)."""
    from tracklearn.bench.muon_trigger import FLOOR_EFFICIENCY, FLOOR_FAKE, FLOOR_INT8_LOSS

    main = _load(results, "muon-trigger")["main"]
    roads, fp32, int8 = main["roads"], main["cnn fp32"], main["cnn int8"]
    loss = fp32["efficiency_pt10"] - int8["efficiency_pt10"]
    passed = [
        fp32["efficiency_pt10"] >= FLOOR_EFFICIENCY,
        fp32["fake_rate"] <= FLOOR_FAKE,
        loss <= FLOOR_INT8_LOSS,
    ]
    verdict = "All three floors pass" if all(passed) else f"{sum(passed)} of 3 floors pass"
    loses = "it loses none" if loss <= 0 else f"it loses {100 * loss:.2f}"
    gain_eff = 100 * (fp32["efficiency_pt10"] - roads["efficiency_pt10"])
    gain_fake = 100 * (fp32["fake_rate"] - roads["fake_rate"])
    sign = "**negative**" if gain_eff < 0 else "positive"
    low_cnn, low_roads = fp32["bins"][0], roads["bins"][0]
    stress = _md_table(results, "muon-trigger", ["setting", "method"])

    def cell(setting: str, method: str, key: str) -> str:
        row = next(r for r in stress if r["setting"].startswith(setting) and r["method"] == method)
        return _pct(_f(row[key]), 0 if key == "fake rate" or _f(row[key]) < 0.9 else 1)

    eff, fake = "efficiency (pT ≥ 10 GeV)", "fake rate"
    n = _md_prose(results, "muon-trigger", r"([\d,]+) images per setting").group(1)
    return [
        f"{verdict} (CNN efficiency ≥ {100 * FLOOR_EFFICIENCY:.0f} % for pT ≥ 10 GeV, fake rate "
        f"≤ {100 * FLOOR_FAKE:.0f} %, int8 loses ≤ {100 * FLOOR_INT8_LOSS:.0f} point: {loses}). "
        f"The CNN's gain over the road look-up is {sign} on this chamber: "
        f"{_signed(gain_eff, 2)} points of efficiency and {_signed(gain_fake, 2)} points of fake "
        "rate, because uniform noise almost never lines up over 4 of 6 layers, which is all a "
        f"road needs; the CNN trails most in the lowest bin ({_pct(low_cnn['efficiency'])} at "
        f"{low_cnn['pt_lo']:g}–{low_cnn['pt_hi']:g} GeV against {_pct(low_roads['efficiency'])}).",
        "",
        f"Outside the training conditions ({n} images each) the two fail differently: at three "
        f"times the noise the CNN keeps its efficiency ({cell('3 ×', 'cnn fp32', eff)}) but "
        f"marks noise voxels near the muon ({cell('3 ×', 'cnn fp32', fake)} fakes; roads "
        f"{cell('3 ×', 'roads', eff)} / {_pct(_f(stress[0][fake]))}); with extra muons "
        f"(Poisson mean 1) the road picks the wrong muon ({cell('extra', 'roads', eff)} "
        f"efficiency) while the CNN marks every muon ({cell('extra', 'cnn fp32', eff)} "
        f"efficiency, {cell('extra', 'cnn fp32', fake)} fakes by the precision definition).",
    ]


def muon_trigger_table(results: Path) -> list[str]:
    """The trigger's three methods: efficiency, fake rate and time (``muon-trigger.json``)."""
    main = _load(results, "muon-trigger")["main"]
    labels = {
        "roads": "road look-up (classical baseline)",
        "cnn fp32": "CNN fp32",
        "cnn int8": "CNN int8 (onnxruntime)",
    }
    return _table(
        ["method", "efficiency (pT ≥ 10 GeV)", "fake rate", "µs/image, 1 thread"],
        [
            [
                label,
                f"{main[k]['efficiency_pt10']:.4f}",
                f"{main[k]['fake_rate']:.4f}",
                f"{main[k]['us_per_image']:.0f}",
            ]
            for k, label in labels.items()
        ],
    )


def export_accuracy(results: Path) -> list[str]:
    """Accuracy of each exported network under torch, onnxruntime fp32, int8 and pruning;
    the toy networks in one row as the range of their changes (``export.json``)."""
    from tracklearn.bench.export import PRUNE_FRACTION

    nets = _load(results, "export")["networks"]
    named = {
        "muon_cnn": ("muon CNN", "efficiency_pt10", "efficiency pT ≥ 10 GeV"),
        "filter_mlp": ("`gnn` filter MLP", "edge_efficiency", "edge efficiency"),
    }
    rows: list[list[str]] = []
    toys: list[dict[str, Any]] = []
    for net in nets:
        m = net["metrics"]
        if net["model"] in named:
            label, key, metric = named[net["model"]]
        elif net["model"] == "interaction_network":
            key, metric = "edge_efficiency", "edge efficiency"
            label = (
                "IN-paper-style classifier (real IN graphs)"
                if "in_graphs" in net["network"]
                else "`gnn` Interaction Network"
            )
        else:
            toys.append(net)
            continue
        t = m["torch_fp32"][key]
        rows.append(
            [
                label,
                metric,
                f"{t:.4f}",
                f"{m['ort_fp32'][key]:.4f}",
                _signed(m["ort_int8"][key] - t, 4),
                _signed(m["torch_pruned"][key] - t, 4),
            ]
        )
    if toys:
        # every toy metric where higher is better (the regression's RMS residual is not)
        metrics = [n["metrics"] for n in toys]
        pairs = [(m, k) for m in metrics for k in m["torch_fp32"] if k != "rms_residual"]
        equal = all(
            abs(m["ort_fp32"][k] - m["torch_fp32"][k]) < 5e-5
            for m in metrics
            for k in m["torch_fp32"]
        )
        d8 = [m["ort_int8"][k] - m["torch_fp32"][k] for m, k in pairs]
        dp = [m["torch_pruned"][k] - m["torch_fp32"][k] for m, k in pairs]
        rows.append(
            [
                f"HEP.TrkX toys, g-2 finder ({len(toys)} networks, briefly trained)",
                "accuracy / efficiency",
                "—",
                "equal" if equal else "differs",
                f"{_signed(min(d8), 4)} … {_signed(max(d8), 4)}",
                f"{_signed(min(dp), 4)} … {_signed(max(dp), 4)}",
            ]
        )
    pruned = f"{100 * PRUNE_FRACTION:.0f} % pruned, no fine-tuning (Δ)"
    header = ["network", "metric", "torch fp32", "onnxruntime fp32", "int8 (Δ)", pruned]
    return _table(header, rows)


def export_throughput(results: Path) -> list[str]:
    """The muon CNN's images per second at batch 1, 64 and 1024 for the three backends,
    measured side by side (``export.json``)."""
    from tracklearn.bench.export import FLOOR_BATCH, FLOOR_SPEEDUP

    data = _load(results, "export")["throughput"]
    rate = {t["backend"]: t["images_per_s"] for t in data}
    loads = [v for t in data for v in t["load"]]
    backends = ["torch fp32", "onnxruntime fp32", "onnxruntime int8"]
    rows = []
    for batch in ("1", "64", str(FLOOR_BATCH)):
        r = [rate[b][batch] for b in backends]
        ratio = r[2] / r[0]
        if batch == "1":
            cells = [f"{x:,.0f} /s ({1000 / x:.2f} ms)" for x in r]
            first = "1 (latency)"
        else:
            cells = [f"{x:,.0f}" for x in r]
            first = batch
        ratio_cell = f"{ratio:.2f}"
        if batch == str(FLOOR_BATCH):
            verdict = "pass" if ratio >= FLOOR_SPEEDUP else "FAIL"
            ratio_cell = f"**{ratio:.2f}** (floor ≥ {FLOOR_SPEEDUP:g}: {verdict})"
        rows.append([first, *cells, ratio_cell])
    return [
        f"Throughput of the muon CNN on the 2 cores (side by side, fastest call, load average "
        f"{min(loads):.1f} → {max(loads):.1f}):",
        "",
        *_table(["batch", *backends, "int8 / torch"], rows),
    ]


def export_speed(results: Path) -> list[str]:
    """One paragraph: int8 against fp32 throughput and `reconstruct` with the exported `gnn`
    model (``export.json``)."""
    data = _load(results, "export")
    rate = {t["backend"]: t["images_per_s"] for t in data["throughput"]}
    torch, ort, int8 = rate["torch fp32"], rate["onnxruntime fp32"], rate["onnxruntime int8"]
    if int8["1024"] < ort["1024"]:
        versus = (
            "but is *slower* than onnxruntime fp32 there (this CNN has 6–16 channels: too "
            "narrow for the int8 kernels to pay)"
        )
    else:
        versus = f"and onnxruntime fp32 by {int8['1024'] / ort['1024']:.2f}×"
    rec = {r["backend"]: r for r in data["reconstruct"]}
    t, o, q = rec["torch fp32"], rec["onnxruntime fp32"], rec["onnxruntime int8"]
    same = "the same tracks" if o["same tracks as torch"] == 1 else "tracks"
    eff = (
        f"efficiency {q['efficiency']:.4f} unchanged"
        if q["efficiency"] == t["efficiency"]
        else f"efficiency {t['efficiency']:.4f} → {q['efficiency']:.4f}"
    )
    return [
        f"int8 beats torch fp32 by {int8['1024'] / torch['1024']:.2f}× at batch 1024 {versus}; "
        f"torch fp32 falls by {torch['128'] / torch['1024']:.0f}× above "
        f"batch 128. `reconstruct` with the exported `gnn` model on three held-out tt̄ μ=200 "
        f"events: torch {t['s/event']:.2f} s/event, onnxruntime fp32 {o['s/event']:.2f} s "
        f"({same}, {_pct(o['same tracks as torch'], 0)}), int8 {q['s/event']:.2f} s ({eff}, "
        f"fake rate {t['fake_rate']:.4f} → {q['fake_rate']:.4f}, "
        f"{_pct(q['same tracks as torch'])} of the tracks identical). {_ort_end_to_end(t, o)}"
    ]


def _ort_end_to_end(torch: Mapping[str, Any], ort: Mapping[str, Any]) -> str:
    """Why onnxruntime is (or is not) faster than torch end to end in `reconstruct`."""
    minority = "the networks are a minority of the time (graph building, track building)"
    if ort["s/event"] < torch["s/event"]:
        ratio = torch["s/event"] / ort["s/event"]
        return f"End to end onnxruntime fp32 is {ratio:.2f}× faster than torch, though {minority}."
    return (
        f"onnxruntime is *slower* end to end: {minority}, and the Interaction Network's message "
        "passing exports as `GatherND`/`ScatterElements(add)`, which onnxruntime runs slower on "
        "CPU than torch's index kernels."
    )


def scale_out_summary(results: Path) -> list[str]:
    """One paragraph: events per second against workers, the Dask overhead, faults and
    Ctrl-C (``scale-out.md``)."""
    rows = _md_table(results, "scale-out", ["executor", "workers"])
    serial = rows[0]
    two = [r for r in rows if r["workers"] == "2"]
    loads = [_f(r["load after (1 min)"]) for r in rows]
    method = "s/event in the method (median)"
    bitwise = all(r["tracks = serial"] == "yes" for r in rows)
    cluster = _md_table(results, "scale-out", ["cluster", "events"])
    overhead = _f(cluster[0]["overhead ms/event/worker"])
    sleeping = [r for r in cluster if "sleeping" in r["cluster"]]
    top = max(sleeping, key=lambda r: _f(r["events/s"]))
    top_workers = re.match(r"\d+", top["cluster"])
    killed = _md_table(results, "scale-out", ["executor", "events", "worker killed in"])
    faults = {r["executor"]: r for r in killed}

    def retried(prefix: str) -> int:
        row = next(r for e, r in faults.items() if e.startswith(prefix))
        return len(re.findall(r"\(\d+ tries\)", row["retried"]))

    lost = sum(int(r["failed"]) for r in faults.values())
    equal = all(r["every event's tracks = serial"] == "yes" for r in faults.values())
    stops = {r["command"]: r for r in _md_table(results, "scale-out", ["command", "s to stop"])}
    w, d = stops["reconstruct --workers 2"], stops["reconstruct --scheduler local:2"]
    clean = all(r["half-written files"] == "0" and r["processes left"] == "0"
                for r in (w, d))  # fmt: skip
    t_event = 5.0  # s, a typical μ=200 event
    head = _md_prose(
        results, "scale-out", r"method `(\w+)`, quick-generator events of (\d+) particles"
    )
    start = _md_prose(results, "scale-out", r"Load average when it started: ([\d.]+) \(1 min\)")
    pool = next(r for r in two if r["executor"].startswith("local pool"))
    dask2 = next(r for r in two if r["executor"].startswith("Dask"))
    dask1 = next(r for r in rows if r["executor"].startswith("Dask") and r["workers"] == "1")
    return [
        "Measured (`benchmarks/results/scale-out.md`, `make bench` or `tracklearn bench --suite "
        f"scale-out`; method `{head.group(1)}`, {serial['events']} quick events of "
        f"{head.group(2)} particles, 2 cores, 1-minute load {float(start.group(1)):.1f} at the "
        f"start and {min(loads):.1f}–{max(loads):.1f} after the rows): every executor (this "
        "process, `--workers 2`, `--scheduler local:1`, `local:2`) wrote "
        f"{'byte-identical' if bitwise else 'different'} tracks. Two workers of the local "
        f"pool ran {_f(pool['speed-up']):.2f}× the events/s of this process "
        f"({_f(serial['events/s']):.3g} → {_f(pool['events/s']):.3g}); on Dask, whose "
        "cluster start-up is in the wall time of these short runs, `local:1` ran "
        f"{_f(dask1['speed-up']):.2f}× and `local:2` {_f(dask2['speed-up']):.2f}× (the "
        f"method's own time per event: {_f(serial[method]):.3g} s in this process, "
        f"{min(_f(r[method]) for r in two):.3g}–{max(_f(r[method]) for r in two):.3g} s "
        f"with 2 workers). The Dask path costs about {overhead:.0f} ms per event "
        f"and worker (no-op events); with {t_event:.0f} s events a worker then runs at "
        f"{t_event / (t_event + overhead / 1000):.3f} of ideal, and 100 workers need the "
        f"scheduler to dispatch {100 / t_event:.0f} events/s, which it did with up to "
        f"{_f(top['events/s']):.0f} events/s on {top_workers.group(0) if top_workers else '?'} "
        f"simulated (sleeping) workers. A worker killed mid-event: {lost} events lost, tracks "
        f"{'equal to' if equal else 'unlike'} the serial run, {retried('Dask')} event retried "
        f"on Dask ({retried('local')} on the local pool). One Ctrl-C stopped `--workers 2` in "
        f"{_f(w['s to stop']):.2f} s and `--scheduler local:2` in {_f(d['s to stop']):.2f} s, "
        f"exit {w['exit code']}, "
        f"{'no half-written file, no process left' if clean else 'with files or processes left'}."
    ]


def _against(
    rows: Mapping[tuple[str, int], Mapping[str, Any]],
    sizes: Sequence[int],
    key: str,
    digits: int,
    words: tuple[str, str],
) -> str:
    """How the learned space's ``key`` compares with the helix space's at each k, as
    printed to ``digits`` decimals: ``"higher at every k"``, ``"lower at k = 5 and the
    same at k = 10, 20"`` (``words`` = the words for above and below)."""
    groups: dict[str, list[int]] = {words[0]: [], words[1]: [], "the same": []}
    for k in sizes:
        a, b = (round(float(rows[(s, k)][key]), digits) for s in ("learned", "helix"))
        groups[words[0] if a > b else words[1] if a < b else "the same"].append(k)
    parts = [
        f"{word} at " + ("every k" if len(ks) == len(sizes) else "k = " + ", ".join(map(str, ks)))
        for word, ks in groups.items()
        if ks
    ]
    return " and ".join(parts)


def scale_out_soak(results: Path) -> list[str]:
    """One sentence: memory, file descriptors and temporary files over a long run (the soak
    paragraph of ``scale-out.md``)."""
    m = _md_prose(
        results,
        "scale-out",
        r"(\d+) events \(\d+ particles each\) in one `reconstruct` run.*?after 10 events: "
        r"(\d+) MB, after \d+: (\d+) MB.*?descriptors before/after: (\d+)/(\d+); temporary "
        r"files left[^:]*: (\d+)\.",
    )
    n, rss10, rss_n, fd0, fd1, tmp = m.groups()
    left = "no temporary files left" if tmp == "0" else f"{tmp} temporary files left"
    return [
        f"Soak: {n} events in one run, RSS {rss10} MB after 10 events and {rss_n} MB after {n}, "
        f"{fd0} open file descriptors before and {fd1} after, {left}."
    ]


def hashing_summary(results: Path) -> list[str]:
    """The bucket table and one paragraph on the floor (``hashing.json``): helix against
    learned at equal bucket size, split by where the targets were made."""
    data = _load(results, "hashing")
    rows = {(r["space"], r["k"]): r for r in data["rows"] if r["index"] == "kdtree"}
    sizes = sorted({k for _, k in rows})
    res = data["resolution"][0]
    load = data.get("load_average")

    def cells(r: dict[str, Any]) -> list[str]:
        return [
            f"{r['efficiency']:.4f}",
            f"{r['efficiency_beamline']:.4f}",
            f"{r['efficiency_displaced']:.3f}",
            f"{r['pure_efficiency']:.3f}",
            f"{r['fake_rate']:.3f}",
            f"{r['time_per_event_s']:.2f}",
        ]

    table_rows = []
    for k in (10, 20, 50):
        for space in ("helix", "learned"):
            table_rows.append([f"{space}, k = {k}", *cells(rows[(space, k)])])
    table_rows.append([
        f"learned, k = 20, pair classifier ≥ 0.1 ({res['mean size']:.0f} hits left)",
        f"{res['efficiency']:.3f}", "–", "–", f"{res['pure efficiency']:.3f}",
        f"{res['fake rate']:.3f}", f"+ {res['s / event (classifier)']:.1f}",
    ])  # fmt: skip
    table_rows.append(["Amrouche et al. (paper, 20–50 hits)", "0.96", "–", "–", "–", "0.08", "–"])
    header = ["buckets (k hits)", "efficiency", "beam line", "displaced", "pure efficiency",
              "fake rate", "s / event"]  # fmt: skip
    l50, h50, l20 = rows[("learned", 50)], rows[("helix", 50)], rows[("learned", 20)]
    eff = _against(rows, sizes, "efficiency", 4, ("higher", "lower"))
    fakes = _against(rows, sizes, "fake_rate", 3, ("more", "fewer"))
    floor = (
        l50["efficiency"] >= 0.96 and l50["fake_rate"] <= 0.08 and l50["time_per_event_s"] <= 2.0
    )
    text = (
        f"Learned-metric buckets of 50 hits find {_pct(l50['efficiency'])} of the target "
        f"particles with {_pct(l50['fake_rate'])} fake buckets in "
        f"{l50['time_per_event_s']:.2f} s per event (the floor: ≥ 96 % with ≤ 8 % in ≤ 2 s: "
        f"{'met' if floor else 'not met'}; 20 hits: {_pct(l20['efficiency'])} with "
        f"{_pct(l20['fake_rate'])} fakes). Against the hand-made space at equal size "
        f"(k = {', '.join(map(str, sizes))}) their efficiency is {eff} and their fake "
        f"buckets are {fakes} (at k = 50: {l50['efficiency']:.4f} vs "
        f"{h50['efficiency']:.4f}, fakes {l50['fake_rate']:.3f} vs {h50['fake_rate']:.3f}). "
        "Where the difference lies: "
        f"targets made within 1 mm of the beam line are found at "
        f"{_pct(l50['efficiency_beamline'], 2)} (learned) and "
        f"{_pct(h50['efficiency_beamline'], 2)} (helix) with 50 hits; the displaced ones, "
        f"{_pct(l50['displaced_fraction'])} of the targets and mostly secondaries made in "
        f"material, at {_pct(l50['efficiency_displaced'])} and "
        f"{_pct(h50['efficiency_displaced'])}: the helix coordinates, which both spaces "
        "start from, assume the beam line."
    )
    if load is not None:
        text += (
            f" Times: scipy `kdtree`, 2 threads, 1-minute load average {load[0]:.1f} → "
            f"{load[1]:.1f} during the run."
        )
    graph = {g["graph"]: g for g in data["graph"]}
    gh, gl = graph["hashing helix, k=10"], graph["hashing learned, k=10"]
    mm = next(g for name, g in graph.items() if name.startswith("module map"))

    def medges(g: dict[str, Any]) -> str:
        return f"{float(str(g['edges / event']).replace(',', '')) / 1e6:.1f} M edges"

    low = data["curves"]["learned k=20"]["pt"][0]
    text += (
        f" Below 1 GeV the efficiency falls ({low:.2f} at 0.1–0.3 GeV, learned, k = 20). As a "
        f"graph (builder `hashing`) the buckets are small and pure: k = 10 gives edge "
        f"efficiency {gh['edge efficiency']:.2f} (helix) / {gl['edge efficiency']:.2f} "
        f"(learned) at purity {gh['edge purity']:.2f} / {gl['edge purity']:.2f}, "
        f"{medges(gh)}, next to the module map's {mm['edge efficiency']:.3f} at "
        f"{mm['edge purity']:.3f} ({medges(mm)})."
    )
    seeds = {r["seeds"].split(",")[0]: r for r in data["seeds"]}
    every = next(r for name, r in seeds.items() if name.startswith("all"))
    lb = seeds["seeds within one learned bucket"]
    text += (
        f" As seeds of the full-spectrum default, keeping only the triplets inside one "
        f"learned bucket (k = 50) leaves {lb['seeds / event']} of {every['seeds / event']} "
        f"seeds per event: TrackML score {lb['TrackML score']:.3f} (all seeds: "
        f"{every['TrackML score']:.3f}), efficiency {lb['efficiency']:.3f} "
        f"({every['efficiency']:.3f}), fake rate {lb['fake rate']:.4f} "
        f"({every['fake rate']:.4f}), {lb['s / event']:.2f} s per event with the buckets "
        f"({every['s / event']:.2f} s)."
    )
    return [*_table(header, table_rows), "", text]


def measured_methods(
    results: Path | None = None,
) -> tuple[dict[str, dict[str, str]], str]:
    """Score, efficiency, fake rate and s/event per method on simulated μ=200, as printed
    cells, from ``fullspectrum.json``'s side-by-side rows, and a line saying where from.

    ``results`` defaults to the checkout's ``benchmarks/results``; an absent or unreadable
    file gives no rows (the caller prints "–").
    """
    from tracklearn.datapaths import CHECKOUT

    folder = results if results is not None else CHECKOUT / "benchmarks" / "results"
    try:
        rows = _load(folder, "fullspectrum")["side_by_side"]
    except (DataError, KeyError):
        return (
            {},
            f"no {folder / 'fullspectrum.json'} (run `tracklearn bench --suite fullspectrum`)",
        )
    out = {
        r["method"]: {
            "score": format_cell(r["TrackML score"]),
            "efficiency": format_cell(r["efficiency"]),
            "fake rate": format_cell(r["fake rate"]),
            "s/event": format_cell(r["s/event (median)"]),
        }
        for r in rows
        if r["events"] == "mu200"
    }
    n = next((r["n"] for r in rows if r["events"] == "mu200"), 0)
    return out, (
        f"{folder / 'fullspectrum.md'}: {n} held-out simulated tt̄ + μ=200 events, same events "
        "for every method, median s/event on 2 cores; efficiency and fakes for pT ≥ 1 GeV"
    )


#: generated blocks: name → writer of its lines from the results folder
BLOCKS: dict[str, Callable[[Path], list[str]]] = {
    "fullspectrum-results": fullspectrum_results,
    "fullspectrum-truth-free": fullspectrum_truth_free,
    "fullspectrum-speed": fullspectrum_speed,
    "fullspectrum-ablation": fullspectrum_ablation,
    "fullspectrum-efficiency": fullspectrum_efficiency,
    "simulation-speed": simulation_speed,
    "simulation-validation": simulation_validation,
    "simulation-clusters": simulation_clusters,
    "gnn-summary": gnn_summary,
    "classical-summary": classical_summary,
    "toys-summary": toys_summary,
    "uncertainty-lstm": uncertainty_lstm,
    "muon-trigger-table": muon_trigger_table,
    "muon-trigger-summary": muon_trigger_summary,
    "export-accuracy": export_accuracy,
    "export-throughput": export_throughput,
    "export-speed": export_speed,
    "scale-out-summary": scale_out_summary,
    "scale-out-soak": scale_out_soak,
    "hashing-summary": hashing_summary,
}


def render_readme(text: str, results: Path) -> str:
    """``text`` with every generated block rewritten from ``results``."""

    def block(m: re.Match[str]) -> str:
        name = m.group(2)
        if name not in BLOCKS:
            raise DataError("README.md", f"unknown generated block {name!r}")
        return m.group(1) + "\n".join(BLOCKS[name](results)) + "\n" + m.group(4)

    return BLOCK.sub(block, text)


def update_readme(readme: Path, results: Path, *, check: bool = False) -> list[str]:
    """Rewrite ``readme``'s generated blocks; return the names of the blocks that changed.

    With ``check`` nothing is written (the caller fails when the list is not empty).
    """
    text = readme.read_text()
    new = render_readme(text, results)
    old_blocks = {m.group(2): m.group(3) for m in BLOCK.finditer(text)}
    changed = [m.group(2) for m in BLOCK.finditer(new) if old_blocks.get(m.group(2)) != m.group(3)]
    if changed and not check:
        write_text_atomic(readme, new)
    return changed


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tracklearn.bench.readme [--check] [README] [RESULTS_DIR]``."""
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    args = [a for a in args if a != "--check"]
    readme = Path(args[0]) if args else Path("README.md")
    results = Path(args[1]) if len(args) > 1 else Path("benchmarks/results")
    try:
        changed = update_readme(readme, results, check=check)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    verb = "differ from" if check else "rewritten from"
    print(f"{readme}: {len(changed)} block(s) {verb} {results}: {', '.join(changed) or '-'}")
    return 1 if check and changed else 0


if __name__ == "__main__":
    raise SystemExit(main())
