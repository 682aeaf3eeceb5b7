"""Every number in the README's tables comes from a results file (issue 17: no hand edits).

A table cell that is a number (optionally bold, with a ``%`` sign, thousands commas or
a Unicode minus) must equal, to the digits the README prints, a number written in the
results file the README names last before the table in the same section (e.g.
``benchmarks/results/fullspectrum.md``; with its ``.json`` and plots folder), or in any
file of ``benchmarks/results`` when the section names none (or that number × 100 for
a percentage).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

from tracklearn.bench.readme import BLOCK, BLOCKS, update_readme

ROOT = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
CELL = re.compile(r"^-?\d[\d,]*(?:\.(\d+))?(?:e[+-]?\d+)?$")


RESULTS = ROOT / "benchmarks" / "results"


def _numbers(paths: list[Path]) -> list[float]:
    values: set[float] = set()
    for path in paths:
        text = path.read_text(errors="ignore").replace("−", "-").replace(",", "")
        values.update(float(m) for m in NUMBER.findall(text))
    return sorted(values)


def _results_numbers() -> dict[str, list[float]]:
    """Numbers per results table name (``fullspectrum``), and under ``""`` all of them."""
    files = [p for p in RESULTS.rglob("*") if p.suffix in (".md", ".json")]
    by_name = {
        p.stem: _numbers([q for q in files if q.stem == p.stem or p.stem in q.parts])
        for p in RESULTS.glob("*.md")
    }
    by_name[""] = _numbers(files)
    return by_name


def readme_table_numbers(text: str, sources: set[str]) -> list[tuple[str, str, bool, str]]:
    """(cell as printed, its row, is a percentage, results file named before it) for
    every numeric table cell; the file is ``""`` when its section names none."""
    out = []
    source = ""
    for line in text.splitlines():
        if line.startswith("#"):
            source = ""
        if not line.startswith("|"):
            for name in re.findall(r"([\w.-]+)\.md", line):
                if name in sources:
                    source = name
            continue
        if set(line) <= set("|-: "):
            continue
        for cell in line.strip().strip("|").split("|"):
            c = cell.replace("**", "").strip().replace("−", "-")
            pct = c.endswith("%")
            c = c.rstrip("%").strip()
            if CELL.match(c):
                out.append((c, line, pct, source))
    return out


def _printed_equal(cell: str, value: float) -> bool:
    m = CELL.match(cell)
    assert m is not None
    decimals = len(m.group(1) or "")
    shown = float(cell.replace(",", ""))
    return math.isclose(round(value, decimals), shown, rel_tol=1e-9, abs_tol=1e-12)


def test_parser_finds_numbers_in_tables_only() -> None:
    text = "a 1.5 line\n| x | **0.944** | 98.8 % | 1,267 | −0.1 | `gnn` |\n|---|---|\n"
    cells = [(c, p, s) for c, _, p, s in readme_table_numbers(text, set())]
    assert cells == [("0.944", False, ""), ("98.8", True, ""), ("1,267", False, ""),
                     ("-0.1", False, "")]  # fmt: skip
    named = "## A\nfrom `benchmarks/results/gnn.md`:\n| 1 |\n## B\n| 2 |\n"
    assert [s for *_, s in readme_table_numbers(named, {"gnn"})] == ["gnn", ""]
    assert _printed_equal("0.944", 0.94387) and not _printed_equal("0.944", 0.9446)
    assert _printed_equal("1,267", 1266.55)


def test_every_readme_table_number_is_in_a_results_file() -> None:
    """Hand-kept tables; the generated blocks are checked whole by the next test."""
    numbers = _results_numbers()
    missing = []
    readme = BLOCK.sub("", (ROOT / "README.md").read_text())
    for cell, row, pct, source in readme_table_numbers(readme, set(numbers) - {""}):
        values = numbers[source]
        candidates = values + ([v * 100 for v in values] if pct else [])
        if not any(_printed_equal(cell, v) for v in candidates):
            missing.append(f"{cell} ({source or 'any'}.md) in {row.strip()[:90]}")
    assert not missing, "README numbers in no results file:\n" + "\n".join(missing)


def test_readme_generated_blocks_equal_their_results_files() -> None:
    """`make readme-numbers` has been run after the last bench: nothing would change."""
    readme = ROOT / "README.md"
    names = [m.group(2) for m in BLOCK.finditer(readme.read_text())]
    assert sorted(names) == sorted(BLOCKS), "every generator has its block in the README"
    assert update_readme(readme, RESULTS, check=True) == [], "run `make readme-numbers`"


def test_readme_generator_follows_the_results_file(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    row = {"events": "mu200", "method": "fullspectrum", "n": 3, "TrackML score": 0.94479,
           "efficiency": 0.98, "fake rate": 0.0075, "duplicate rate": 0.0,
           "s/event (median)": 2.0573, "peak RSS MB (median)": 548.3}  # fmt: skip
    doc = {"side_by_side": [row]}
    (results / "fullspectrum.json").write_text(json.dumps(doc))
    readme = tmp_path / "README.md"
    readme.write_text("a\n<!-- generated: fullspectrum-results -->\nold\n<!-- /generated -->\nb\n")
    assert update_readme(readme, results) == ["fullspectrum-results"]
    text = readme.read_text()
    expected = "simulated μ=200 (3 events) | **`fullspectrum`** | **0.945** | 0.98 | 0.0075 | 2.06"
    assert expected in text and "old" not in text
    assert text.startswith("a\n") and text.endswith("<!-- /generated -->\nb\n")
    assert update_readme(readme, results, check=True) == []
    doc["side_by_side"][0]["TrackML score"] = 0.5  # a new bench run: the README is stale
    (results / "fullspectrum.json").write_text(json.dumps(doc))
    assert update_readme(readme, results, check=True) == ["fullspectrum-results"]
    assert "0.945" in readme.read_text()  # --check writes nothing
