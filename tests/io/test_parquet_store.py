"""Reading the Parquet event store that ``simulate --format parquet`` writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from tests.cli._run import run

from tracklearn.edm import Event
from tracklearn.errors import DataError
from tracklearn.io import (
    event_id_from_prefix,
    find_events,
    read_event,
    read_store_event,
    write_event,
    write_store,
)
from tracklearn.io.trackml import PARTS
from tracklearn.simulation.run import simulate_generated


def _assert_same_event(a: Event, b: Event) -> None:
    assert a.event_id == b.event_id
    for part in PARTS:
        ta, tb = getattr(a, part), getattr(b, part)
        assert (ta is None) == (tb is None), part
        if ta is None:
            continue
        ca, cb = ta.to_columns(), tb.to_columns()
        assert list(ca) == list(cb), part
        for name in ca:
            assert ca[name].dtype == cb[name].dtype, (part, name)
            np.testing.assert_array_equal(ca[name], cb[name], err_msg=f"{part}.{name}")


@pytest.fixture(scope="module")
def stores(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same two quick events simulated as CSV and as a Parquet store."""
    root = tmp_path_factory.mktemp("stores")
    cfg = {"n_particles": 40}
    for fmt in ("csv", "parquet"):
        simulate_generated(
            detector="quick", n_events=2, seed=3, out=root / fmt, fmt=fmt, config=cfg
        )
    return root / "csv", root / "parquet"


def test_csv_and_parquet_give_identical_events(stores: tuple[Path, Path]) -> None:
    csv, store = stores
    csv_prefixes, store_prefixes = find_events([csv]), find_events([store])
    assert [p.name for p in csv_prefixes] == [p.name for p in store_prefixes]
    assert [p.name for p in store_prefixes] == ["event000001000", "event000001001"]
    for pc, ps in zip(csv_prefixes, store_prefixes, strict=True):
        _assert_same_event(read_event(pc), read_event(ps))
        _assert_same_event(read_event(pc), read_store_event(store, event_id_from_prefix(ps)))
    # parts are honoured as for CSV: only what was asked
    ev = read_event(store / "event000001000", parts=("hits",))
    assert ev.truth is None and ev.particles is None


def test_every_way_of_naming_store_events(stores: tuple[Path, Path], tmp_path: Path) -> None:
    _, store = stores
    assert find_events([store / "hits.parquet"]) == find_events([store])
    assert find_events([store / "truth.parquet"]) == find_events([store])
    assert find_events([store / "event000001001"]) == [store / "event000001001"]
    with pytest.raises(DataError, match="no such event in the Parquet store"):
        find_events([store / "event000001005"])
    with pytest.raises(DataError, match="no hits for event 1005"):
        read_event(store / "event000001005")
    # a folder holding both layouts is ambiguous
    both = tmp_path / "both"
    write_store([read_event(store / "event000001000")], both)
    write_event(read_event(store / "event000001001"), both)
    with pytest.raises(DataError, match="both TrackML CSV events and a Parquet store"):
        find_events([both])


@pytest.mark.parametrize(
    ("part", "edit"),
    [("hits", "truncate"), ("truth", "truncate"), ("hits", "garbage"), ("particles", "empty")],
)
def test_a_damaged_store_file_is_one_line_naming_it(
    stores: tuple[Path, Path], tmp_path: Path, part: str, edit: str
) -> None:
    _, good = stores
    store = tmp_path / "store"
    store.mkdir()
    for f in good.glob("*.parquet"):
        (store / f.name).write_bytes(f.read_bytes())
    path = store / f"{part}.parquet"
    data = path.read_bytes()
    path.write_bytes(
        {"truncate": data[: len(data) // 2], "garbage": b"not parquet at all", "empty": b""}[edit]
    )
    with pytest.raises(DataError) as info:
        for prefix in find_events([store]):
            read_event(prefix)
    text = str(info.value)
    assert "\n" not in text and text.startswith(str(path)), text


@pytest.mark.slow  # about 8-11 s on loaded cores: three CLI subprocesses
def test_cli_reconstructs_and_evaluates_a_store(stores: tuple[Path, Path], tmp_path: Path) -> None:
    _, store = stores
    tracks = tmp_path / "tracks"
    run("reconstruct", store / "event000001000", "--out", tracks)
    report = tmp_path / "report"
    run("evaluate", "--truth", store / "event000001000", "--tracks", tracks, "--out", report)
    metrics = json.loads((report / "metrics.json").read_text())
    assert "1000" in metrics and "1001" not in metrics
    assert metrics["all"]["trackml_score"] > 0.5
    # a truncated table: exit 1, one line naming the file
    (store_copy := tmp_path / "bad").mkdir()
    for f in store.glob("*.parquet"):
        (store_copy / f.name).write_bytes(f.read_bytes()[: 40 if f.stem == "hits" else None])
    bad = run("info", store_copy, check=False)
    assert bad.returncode == 1
    lines = bad.stderr.strip().splitlines()
    assert len(lines) == 1 and str(store_copy / "hits.parquet") in lines[0], bad.stderr
