"""Every number in the README's tables and prose comes from a results file (issue 17: no
hand edits).

A table cell that is a number (optionally bold, with a ``%`` sign, thousands commas or
a Unicode minus) must equal, to the digits the README prints, a number written in the
results file the README names last before the table in the same section (e.g.
``benchmarks/results/fullspectrum.md``; with its ``.json`` and plots folder), or in any
file of ``benchmarks/results`` when the section names none (or that number × 100 for
a percentage). A measured number in the prose (a decimal, a percentage, a time, a size, a
factor or a count with thousands commas) is either inside a generated block or written in
the results file its paragraph names (any results file when it names none), unless the
short allow-list below says why it is not a measurement.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pytest

from tracklearn.bench.readme import BLOCK, BLOCKS, update_readme
from tracklearn.errors import DataError

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


# --- prose ------------------------------------------------------------------------------

#: a number in running text, with its unit when it has one
PROSE_NUMBER = re.compile(
    r"(?<![\w.\-/:=])[±+−-]?(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?(?:e-\d+)?)(?![\w.]*\d)"
    r"(\s?(?:%|×(?!\s?\d)|ms\b|µs\b|min\b|s\b|MB\b|GB\b|kB\b|KB\b))?"
)

#: the unit after the upper end of a range (``10–30 %``, ``0.85–0.99``)
RANGE_UNIT = re.compile(r"\s?(?:–|…|-|/| / )\s?[+−-]?[\d.,]+(\s?(?:%|ms\b|s\b|MB\b))")

#: shipped models whose ``provenance.json`` a paragraph may cite as its results file
PROVENANCE = [
    ROOT / "src" / "tracklearn" / "fullspectrum" / "default" / "provenance.json",
    ROOT / "src" / "tracklearn" / "models" / "muon_trigger" / "provenance.json",
]

#: numbers in the prose that are not measurements of a results file: (a phrase of the
#: README holding them, why). A number is allowed when it lies inside such a phrase.
ALLOWED = [
    ("Python 3.11", "a version"),
    ("2 min 38 s from a fresh clone", "`make demo` timed by hand, dated in the sentence"),
    (
        "14 min on 2\ncores shared with other jobs, 2026-12-03",
        "`make train-default` timed by hand, dated",
    ),
    ("31 min on 2 shared cores, 2026-11-25", "`make train-gnn` timed by hand, dated"),
    ("the real 5 % TrackML event", "the name of the real event (a 5 % subsample)"),
    ("pT down to\n0.1 GeV", "the design target of the method"),
    ("σz ≈ 5.5 mm", "the Kaggle luminous region (simulation config and validation notes)"),
    (
        "99.8 % of the training\n   events' weight",
        "config: seed_coverage 0.998 (`configs/fullspectrum/train.yaml`)",
    ),
    ("376 kB", "size of the shipped model's files: test_readme_size_of_the_shipped_models_..."),
    ("10 kB", "size of the shipped embedding: test_readme_size_of_the_shipped_models_..."),
    (
        "0.05625 mm pitch over 0.15 mm thickness",
        "TrackML pixel-barrel geometry (test_trackml_geometry_measures_the_dip_...)",
    ),
    ("more than 10 mm from", "config: SimilarityConfig.displaced_distance"),
    ("at most 0.2 % of the training weight", "config: seed_loss 0.002"),
    ("**learned error model** (68 %", "the definition of the window (a 68 % width)"),
    ("(pT ≥ 0.1 GeV, d0 ≤ 2 mm)", "config: primary-pass cuts"),
    ("(pT ≥ 0.2 GeV, d0 ≤ 50 mm, |z0| ≤ 300 mm)", "config: displaced-pass cuts"),
    ("σz = 5.5 mm", "config: training-event luminous region"),
    (
        "14 min\n(9.4 of them training)",
        "`make train-default` timed by hand; `train_seconds` of provenance.json is 563 s",
    ),
    ("pT > 0.1 GeV and\n  |η| < 4", "the generator cuts of the real particle lists"),
    ("18,728 planar", "the number of modules in the TrackML geometry file"),
    (
        "2.0 T at the\n  centre",
        "the field map's parameters (`tracklearn.geometry.field`, fitted "
        "by `scripts/derive_field_map.py`), not a benchmark",
    ),
    ("1.60 T on the axis at z = −2 m, 1.42 T at +2 m", "the field map's parameters"),
    (
        "within 0.03 T of the data",
        "the field map's fit quality (`scripts/derive_field_map.py`; also in `uncertainty.md`)",
    ),
    ("smeared by 10 %", "simulation config"),
    (
        "tan θ_L = 0.12 in the pixels and short strips, 0.08 in the",
        "simulation config (Lorentz angles)",
    ),
    (
        "(+0.018, −0.030, −0.028 mm",
        "simulation config (Lorentz shifts, fitted by `scripts/fit_cluster_shapes.py`)",
    ),
    ("68 % / 95 % intervals", "definitions"),
    ("1 T m", "muon-chamber config"),
    ("95 % layer efficiency", "muon-chamber config"),
    ("probability ≥\n  0.5", "the CNN's threshold (config)"),
    ("10,000 fresh images per epoch", "training config"),
    ("random factor\n  0.5–3", "training config"),
    ("55 KB", "size of the shipped muon CNN's weights file (not a benchmark)"),
    (
        "more than 60 % of the muon's voxels (TP/P > 0.6), *fake* when at most 60 %",
        "the metric's definition",
    ),
    ("1e-5 · max(1, |torch|)", "the export's tolerance (config)"),
    ("(1e-4, scaled alike", "the export's tolerance (config)"),
    ("within 1e-5 on fixed inputs", "the export's tolerance (config)"),
    (
        "24 points of edge efficiency in a development run",
        "a one-off development measurement that no suite repeats",
    ),
    ("about 5 MB before the hits", "the size of the embedded plotly.js"),
    (
        "±10 %, mean hits per\n  particle ±10 %, every pT bin in 0.1–10 GeV ±20 %",
        "the validation floors (config)",
    ),
    ("> 50 % of\n  the track's hits and the track holds > 50 %", "the TrackML score's definition"),
    ("exactly 1.0", "the TrackML score's definition"),
    ("tolerance 1e-5", "the DDP test's stated tolerance"),
]


def _prose_paragraphs(text: str) -> list[tuple[str, str]]:
    """(section heading, paragraph text) of the README's prose: no fenced code, no
    generated block, no table row, no heading; inline code, link targets and HTML comments
    removed after the paragraph's cited results files are read."""
    text = BLOCK.sub("", text)
    out: list[tuple[str, str]] = []
    section, para, fenced = "", [], False

    def flush() -> None:
        if para:
            out.append((section, "\n".join(para)))
            para.clear()

    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
            flush()
            continue
        if fenced:
            continue
        if line.startswith("#"):
            flush()
            section = line.strip()
            continue
        if not line.strip() or line.startswith("|") or line.startswith("<!--"):
            flush()
            continue
        para.append(line)
    flush()
    return out


def _sources(paragraph: str, names: set[str]) -> list[str]:
    """The results files a text names (``gnn.md``, ``provenance.json``)."""
    found = [n for n in re.findall(r"([\w.-]+)\.md\b", paragraph) if n in names]
    if "provenance.json" in paragraph:
        found.append("provenance")
    return found


def readme_prose_numbers(text: str, names: set[str]) -> list[tuple[str, str, bool, list[str]]]:
    """(number as printed, its paragraph, is a percentage, results files the paragraph
    names) for every measured-looking number of the prose outside the allow-list."""
    out = []
    paragraphs = _prose_paragraphs(text)
    for section, para in paragraphs:
        # the files the paragraph names, else those its section names
        sources = _sources(para, names) or _sources(
            "\n".join(p for s, p in paragraphs if s == section), names
        )
        plain = re.sub(r"`[^`]*`|\]\([^)]*\)", lambda m: " " * len(m.group(0)), para)
        allowed = [
            (m.start(), m.end())
            for phrase, _ in ALLOWED
            for m in re.finditer(re.escape(phrase), plain)
        ]
        for m in PROSE_NUMBER.finditer(plain):
            number, unit = m.group(1), (m.group(2) or "").strip()
            if not unit and (then := RANGE_UNIT.match(plain, m.end())):
                unit = then.group(1)  # "10–30 %": both ends are percentages
            if not ("." in number or "," in number or unit):
                continue  # a plain integer: a count, a layer, a seed
            if any(a <= m.start(1) < b for a, b in allowed):
                continue
            out.append((number, para, unit == "%", sources))
    return out


def test_prose_parser_finds_measured_numbers_outside_code_and_blocks() -> None:
    text = (
        "## A\nIt takes 2.7 s and 476 MB, `--workers 2` gives 1.9× (`simulation.md`), 8 events,\n"
        "11,010 particles, 16 % of them, Python 3.11.\n\n```bash\nrun 1.5\n```\n"
        "<!-- generated: x -->\n0.944\n<!-- /generated -->\n| 0.5 |\n"
    )
    found = [(n, p, s) for n, _, p, s in readme_prose_numbers(text, {"simulation"})]
    assert found == [
        ("2.7", False, ["simulation"]),
        ("476", False, ["simulation"]),
        ("1.9", False, ["simulation"]),
        ("11,010", False, ["simulation"]),
        ("16", True, ["simulation"]),
    ]


def _provenance_numbers() -> list[float]:
    return _numbers([p for p in PROVENANCE if p.is_file()])


def prose_numbers_missing(text: str, numbers: dict[str, list[float]]) -> list[str]:
    """The prose numbers of ``text`` found in none of the results files their paragraph
    cites (``numbers``: values per results name, all of them under ``""``)."""
    missing = []
    for number, para, pct, sources in readme_prose_numbers(text, set(numbers) - {""}):
        values = [v for s in (sources or [""]) for v in numbers[s]]
        values = [abs(v) for v in values] + ([abs(v) * 100 for v in values] if pct else [])
        if not any(_printed_equal(number, v) for v in values):
            where = ", ".join(s + (".json" if s == "provenance" else ".md") for s in sources)
            where = where or "any results file"
            line = next(ln for ln in para.splitlines() if number in ln)
            missing.append(f"{number} (not in {where}) in: {line.strip()[:100]}")
    return missing


def test_prose_check_names_a_number_its_results_file_lacks() -> None:
    numbers = {"gnn": [0.969, 4.3232], "classical": [0.971], "": [0.969, 4.3232, 0.971]}
    text = "## A\n`gnn` finds 96.9 % in 4.3 s (`gnn.md`).\n## B\n`ckf` finds 97.1 % in 70.8 s.\n"
    assert prose_numbers_missing(text, numbers) == [
        "70.8 (not in any results file) in: `ckf` finds 97.1 % in 70.8 s."
    ]
    cited = "`ckf` finds 97.1 % (`gnn.md`).\n"  # in classical.md, but the sentence cites gnn.md
    assert prose_numbers_missing(cited, numbers) == [
        "97.1 (not in gnn.md) in: `ckf` finds 97.1 % (`gnn.md`)."
    ]


def test_every_readme_prose_number_is_in_a_results_file() -> None:
    """Numbers in the README's sentences: generated, in the results file cited, or allowed."""
    numbers = _results_numbers()
    numbers["provenance"] = _provenance_numbers()
    missing = prose_numbers_missing((ROOT / "README.md").read_text(), numbers)
    assert not missing, "README prose numbers in no results file:\n" + "\n".join(missing)


def test_every_allowed_phrase_is_in_the_readme() -> None:
    """The allow-list names phrases of the README, so a stale entry fails here."""
    text = "\n\n".join(p for _, p in _prose_paragraphs((ROOT / "README.md").read_text()))
    plain = re.sub(r"`[^`]*`", lambda m: " " * len(m.group(0)), text)
    stale = [phrase for phrase, _ in ALLOWED if phrase not in plain]
    assert not stale, f"allow-list phrases no longer in the README: {stale}"


def test_readme_blocks_read_the_markdown_of_suites_without_json(tmp_path: Path) -> None:
    """``simulation.md`` has no JSON copy: its table is read by its header."""
    (tmp_path / "simulation.md").write_text(
        "# Realistic simulator\n\nText 9.9.\n\n"
        "| μ (pile-up) | workers | events | s/event, one core (median) | events/s (wall, incl. "
        "init) | wall s (incl. Pythia init) | peak RSS MB (largest process) |\n"
        "|---|---|---|---|---|---|---|\n"
        "| 20 | 1 | 2 | 0.651 | 0.196 | 10.2 | 291 |\n"
        "| 200 | 1 | 2 | 2.73 | 0.1 | 21.7 | 476 |\n"
        "| 200 | 2 | 4 | 2.66 | 0.15 | 23.1 | 425 |\n"
    )
    (text,) = BLOCKS["simulation-speed"](tmp_path)
    assert "takes 2.7 s on one core" in text and "peak RSS 476 MB" in text
    assert "gives 1.5× the events per second" in text
    (tmp_path / "simulation.md").write_text("# Realistic simulator\n\nno table\n")
    with pytest.raises(DataError, match="no table with the columns μ"):
        BLOCKS["simulation-speed"](tmp_path)


def test_readme_size_of_the_shipped_models_is_their_files() -> None:
    readme = (ROOT / "README.md").read_text()
    folder = ROOT / "src" / "tracklearn" / "fullspectrum" / "default"
    size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    assert f"`src/tracklearn/fullspectrum/default`, {round(size / 1000)} kB" in readme
    emb = ROOT / "src" / "tracklearn" / "data" / "hashing_embedding.pt"
    assert (
        f"`src/tracklearn/data/hashing_embedding.pt`, {round(emb.stat().st_size / 1000)} kB"
        in readme
    )


def test_hashing_comparison_words_follow_the_printed_digits() -> None:
    from tracklearn.bench.readme import _against

    rows = {
        ("learned", 5): {"x": 0.5}, ("helix", 5): {"x": 0.4},
        ("learned", 10): {"x": 0.3001}, ("helix", 10): {"x": 0.3004},
        ("learned", 20): {"x": 0.1}, ("helix", 20): {"x": 0.2},
    }  # fmt: skip
    got = _against(rows, [5, 10, 20], "x", 3, ("higher", "lower"))
    assert got == "higher at k = 5 and lower at k = 20 and the same at k = 10"
    assert _against(rows, [5], "x", 3, ("higher", "lower")) == "higher at every k"


def _export_json(path: Path, int8_1024: float, ort_s: float) -> None:
    rates = {b: {"1": 1000.0, "64": 2000.0, "128": 2400.0, "1024": 800.0} for b in ("t", "o", "q")}
    rates["o"]["1024"], rates["q"]["1024"] = 2900.0, int8_1024
    names = {"t": "torch fp32", "o": "onnxruntime fp32", "q": "onnxruntime int8"}
    rec = {"efficiency": 0.97, "fake_rate": 0.013, "same tracks as torch": 1.0}
    data = {
        "throughput": [
            {"backend": names[b], "images_per_s": rates[b], "load": [0.5, 1.5]} for b in rates
        ],
        "reconstruct": [
            {"backend": "torch fp32", "s/event": 4.0, **rec},
            {"backend": "onnxruntime fp32", "s/event": ort_s, **rec},
            {"backend": "onnxruntime int8", "s/event": 4.2, **rec},
        ],
    }
    (path / "export.json").write_text(json.dumps(data))


def test_readme_export_wording_follows_the_measured_order(tmp_path: Path) -> None:
    """The export paragraph says *slower* only when the numbers are slower."""
    _export_json(tmp_path, int8_1024=3800.0, ort_s=3.2)
    (text,) = BLOCKS["export-speed"](tmp_path)
    assert "slower" not in text
    assert "onnxruntime fp32 by 1.31×" in text and "1.25× faster than torch" in text
    _export_json(tmp_path, int8_1024=2000.0, ort_s=5.0)
    (text,) = BLOCKS["export-speed"](tmp_path)
    assert "but is *slower* than onnxruntime fp32 there" in text
    assert "onnxruntime is *slower* end to end" in text
    table = BLOCKS["export-throughput"](tmp_path)
    assert "load average 0.5 → 1.5" in table[0]
    assert table[-1] == "| 1024 | 800 | 2,900 | 2,000 | **2.50** (floor ≥ 2: pass) |"


def test_signed_numbers_never_print_a_negative_zero() -> None:
    from tracklearn.bench.readme import _signed

    assert _signed(-0.18, 2) == "−0.18" and _signed(0.37, 2) == "+0.37"
    assert _signed(-0.00004, 4) == "+0.0000"  # a change that rounds away is no loss
    assert _signed(-0.4, 0) == "+0" and _signed(-0.6, 0) == "−1"
