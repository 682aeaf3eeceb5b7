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
