"""Property-based tests of the readers, and a fuzz run over malformed CSVs: a reader either
returns a valid table or raises DataError (one line naming the file); never anything else."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.cli._run import run

from tracklearn.edm import Event, Hits, TrackCandidates
from tracklearn.errors import DataError
from tracklearn.io import read_event, read_table, read_tracks, write_table, write_tracks

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
coord = st.floats(-3000.0, 3000.0, allow_nan=False, allow_infinity=False)


@st.composite
def hits_tables(draw: st.DrawFn) -> Hits:
    n = draw(st.integers(1, 25))
    ids = draw(st.lists(st.integers(1, 10**12), min_size=n, max_size=n, unique=True))
    ints = st.lists(st.integers(0, 2**31 - 1), min_size=n, max_size=n)
    floats = st.lists(coord, min_size=n, max_size=n)
    return Hits(
        hit_id=np.array(ids, np.int64),
        x=np.array(draw(floats)),
        y=np.array(draw(floats)),
        z=np.array(draw(floats)),
        volume_id=np.array(draw(ints)),
        layer_id=np.array(draw(ints)),
        module_id=np.array(draw(ints)),
    )


@FUZZ
@given(hits=hits_tables(), gz=st.booleans())
def test_hits_round_trip_exactly(tmp_path: Path, hits: Hits, gz: bool) -> None:
    path = tmp_path / ("event000000001-hits.csv" + (".gz" if gz else ""))
    write_table(path, hits)
    back = read_table(path, Hits)
    for name, col in hits.to_columns().items():
        np.testing.assert_array_equal(getattr(back, name), col, err_msg=name)


@FUZZ
@given(labels=st.lists(st.integers(0, 6), min_size=1, max_size=60))
def test_tracks_round_trip_as_the_same_partition(
    tmp_path: Path, small_event: Event, labels: list[int]
) -> None:
    n = small_event.n_hits
    full = np.resize(np.array(labels, np.int64), n)
    tracks = TrackCandidates.from_labels(full)
    write_tracks(tmp_path, small_event, tracks)
    back = read_tracks(tmp_path / "event000000007-tracks.csv", small_event)
    np.testing.assert_array_equal(back.to_labels() > 0, tracks.to_labels() > 0)
    # the same hits are grouped together (ids may be renumbered)
    a, b = tracks.to_labels(), back.to_labels()
    pairs = {(int(i), int(j)) for i, j in zip(a, b, strict=True)}
    assert len({i for i, _ in pairs}) == len(pairs) == len({j for _, j in pairs})


def _mutate(text: str, rng: random.Random) -> str:
    """One random corruption of a CSV text, of the kinds users and disks produce."""
    lines = text.splitlines()
    kind = rng.randrange(9)
    if kind == 0:  # truncated anywhere
        return text[: rng.randrange(len(text))]
    if kind == 1:  # a cell replaced by junk
        i = rng.randrange(1, len(lines))
        cells = lines[i].split(",")
        cells[rng.randrange(len(cells))] = rng.choice(["", "nan", "x", "1e999", "-1", "1.5", "😀"])
        lines[i] = ",".join(cells)
    elif kind == 2:  # a header renamed
        cells = lines[0].split(",")
        cells[rng.randrange(len(cells))] = "renamed"
        lines[0] = ",".join(cells)
    elif kind == 3:  # a cell too many or too few
        i = rng.randrange(1, len(lines))
        lines[i] = lines[i] + ",7" if rng.random() < 0.5 else lines[i].rsplit(",", 1)[0]
    elif kind == 4:  # a duplicated row
        lines.append(lines[rng.randrange(1, len(lines))])
    elif kind == 5:  # random bytes inserted
        pos = rng.randrange(len(text))
        return text[:pos] + "".join(chr(rng.randrange(32, 0x2FF)) for _ in range(5)) + text[pos:]
    elif kind == 6:  # header only
        lines = lines[:1]
    elif kind == 7:  # another separator
        return text.replace(",", ";")
    else:  # a row of the wrong sign
        i = rng.randrange(1, len(lines))
        lines[i] = re.sub(r"^(\d+)", r"-\1", lines[i])
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def clean_parts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    from tracklearn.io import write_event
    from tracklearn.simulation.quick import QuickConfig, generate_event

    event = generate_event(9, np.random.default_rng(9), QuickConfig(n_particles=3))
    prefix = write_event(event, tmp_path_factory.mktemp("clean"), compress=False)
    return {p: Path(f"{prefix}-{p}.csv").read_text() for p in ("hits", "truth", "particles")}


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), part=st.sampled_from(["hits", "truth", "particles"]))
def test_malformed_csvs_give_data_errors_only(
    tmp_path: Path, clean_parts: dict[str, str], seed: int, part: str
) -> None:
    folder = tmp_path / f"{seed}-{part}"
    folder.mkdir(exist_ok=True)
    for name, text in clean_parts.items():
        (folder / f"event000000009-{name}.csv").write_text(text)
    bad = folder / f"event000000009-{part}.csv"
    bad.write_text(_mutate(clean_parts[part], random.Random(seed)), encoding="utf-8")
    try:
        event = read_event(folder / "event000000009")
    except DataError as exc:
        assert "\n" not in str(exc) and "event000000009" in str(exc)
    else:  # accepted: then it is a valid event (some corruptions are harmless, e.g. "1.5" in x)
        assert event.n_hits > 0 and np.all(np.isfinite(event.hits.positions))


def test_fuzz_run_through_reconstruct(tmp_path: Path, clean_parts: dict[str, str]) -> None:
    """Twelve corrupted events in one run: each failure is one line, the run exits 1, and the
    failed events leave no output while the good ones are written."""
    data = tmp_path / "data"
    data.mkdir()
    rng = random.Random(2026)
    for k in range(12):
        hits = clean_parts["hits"] if k % 4 == 0 else _mutate(clean_parts["hits"], rng)
        (data / f"event{k:09d}-hits.csv").write_text(hits)
    out = tmp_path / "t"
    proc = run("reconstruct", data, "--method", "hough", "--out", out, check=False)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    failed = {re.search(r"event(\d{9})", e).group(1) for e in errors}  # type: ignore[union-attr]
    assert len(errors) == len(failed) and len(failed) >= 4
    assert proc.returncode == 1 and not (out / "run.json").exists()
    for k in range(12):
        written = (out / f"event{k:09d}-tracks.csv").exists()
        assert written == (f"{k:09d}" not in failed), k
        if k % 4 == 0:
            assert written  # the clean ones
    assert not list(out.glob(".event*"))
    pd.read_csv(out / "event000000000-tracks.csv")  # a complete file
