"""ROOT files (uproot): events that ``simulate --format root`` writes, tracks and track
parameters that ``reconstruct --format root`` writes, and their one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import uproot
from tests.cli._run import run
from tests.io.test_track_params import random_params

from tracklearn.edm import Cells, Event, TrackCandidates
from tracklearn.errors import DataError
from tracklearn.io import (
    event_root_path,
    find_events,
    find_tracks_file,
    read_event,
    read_track_params,
    read_tracks_labelled,
    write_event,
    write_event_root,
    write_store,
    write_track_params,
    write_tracks,
)
from tracklearn.io import root as rootio
from tracklearn.io.track_params import COLUMNS as PARAM_COLUMNS
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


@pytest.fixture
def full_event(small_event: Event) -> Event:
    """``small_event`` with cells (two channels per hit) and particle types: every table."""
    hit_id = np.repeat(small_event.hits.hit_id, 2)
    n = len(hit_id)
    cells = Cells(
        hit_id=hit_id,
        ch0=np.arange(n, dtype=np.int32),
        ch1=np.arange(n, dtype=np.int32)[::-1].copy(),
        value=np.linspace(0.0, 1.0, n, dtype=np.float32),
    )
    assert small_event.particles is not None and small_event.particles.particle_type is not None
    return Event(
        small_event.event_id,
        small_event.hits,
        small_event.truth,
        small_event.particles,
        cells,
        source="full",
    )


def test_event_round_trip_keeps_every_column_and_dtype(full_event: Event, tmp_path: Path) -> None:
    path = write_event_root(full_event, tmp_path)
    assert path == event_root_path(tmp_path, 7) == tmp_path / "event000000007.root"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporaries left
    back = read_event(tmp_path / "event000000007")
    _assert_same_event(full_event, back)
    assert back.source == f"{path}:hits"
    # the file's own layout: flat TTrees, event_id first, the TrackML names and dtypes
    with uproot.open(path) as f:
        assert f.classnames(cycle=False) == {p: "TTree" for p in PARTS}
        for part in PARTS:
            tree = f[part]
            table = getattr(full_event, part)
            assert tree.keys() == ["event_id", *table.to_columns()]
            arrays = tree.arrays(library="np")
            assert arrays["event_id"].dtype == np.int64 and set(arrays["event_id"]) == {7}
            for name, values in table.to_columns().items():
                assert arrays[name].dtype == values.dtype, (part, name)
        assert "x [mm]" in f["hits"].title


def test_only_the_asked_parts_are_read(full_event: Event, tmp_path: Path) -> None:
    write_event_root(full_event, tmp_path)
    ev = read_event(tmp_path / "event000000007", parts=("hits",))
    assert ev.truth is None and ev.particles is None and ev.cells is None


def test_an_event_without_cells_or_truth_round_trips(small_event: Event, tmp_path: Path) -> None:
    bare = Event(small_event.event_id, small_event.hits)
    write_event_root(bare, tmp_path)
    _assert_same_event(bare, read_event(tmp_path / "event000000007"))
    with pytest.raises(DataError, match="no tree 'truth'") as info:
        read_event(tmp_path / "event000000007", require=("hits", "truth"))
    assert str(info.value).startswith(str(tmp_path / "event000000007.root"))


def test_simulated_root_and_csv_events_are_identical(tmp_path: Path) -> None:
    cfg = {"n_particles": 30}
    for fmt in ("csv", "root"):
        simulate_generated(
            detector="quick", n_events=2, seed=5, out=tmp_path / fmt, fmt=fmt, config=cfg
        )
    assert sorted(p.name for p in (tmp_path / "root").glob("event*")) == [
        "event000001000.root",
        "event000001001.root",
    ]
    csv, in_root = find_events([tmp_path / "csv"]), find_events([tmp_path / "root"])
    assert [p.name for p in csv] == [p.name for p in in_root]
    for pc, pr in zip(csv, in_root, strict=True):
        _assert_same_event(read_event(pc), read_event(pr))
    # every way of naming a ROOT event
    one = tmp_path / "root" / "event000001001"
    assert find_events([one]) == find_events([f"{one}.root"]) == [one]
    with pytest.raises(DataError, match="no such event"):
        find_events([tmp_path / "root" / "event000001005"])


def test_a_folder_may_mix_csv_and_root_events_but_not_for_one_event(
    small_event: Event, full_event: Event, tmp_path: Path
) -> None:
    other = Event(8, small_event.hits, small_event.truth, small_event.particles)
    write_event(small_event, tmp_path)  # event 7 as CSV
    write_event_root(other, tmp_path)  # event 8 as ROOT
    assert [p.name for p in find_events([tmp_path])] == ["event000000007", "event000000008"]
    write_event_root(full_event, tmp_path)  # event 7 now also in ROOT: which one?
    for call in (lambda: find_events([tmp_path]), lambda: read_event(tmp_path / "event000000007")):
        with pytest.raises(DataError, match="both event000000007.root and event000000007-hits"):
            call()
    # ROOT events beside a Parquet store: which are the folder's events?
    store = tmp_path / "store"
    write_store([small_event], store)
    write_event_root(other, store)
    with pytest.raises(DataError, match="holds both ROOT events and a Parquet store"):
        find_events([store])


# --- damaged files: one line naming the file --------------------------------------------


def _write_trees(path: Path, trees: dict[str, dict[str, Any]]) -> None:
    with uproot.recreate(path) as f:
        for name, cols in trees.items():
            f.mktree(name, {k: np.asarray(v).dtype for k, v in cols.items()}).extend(cols)


def _hits_columns(event: Event) -> dict[str, Any]:
    return {k: np.array(v) for k, v in event.hits.to_columns().items()}


def _damage(path: Path, how: str, event: Event) -> None:
    hits = _hits_columns(event)
    if how == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif how == "truncate_tail":  # only the last bytes (streamer infos) lost
        path.write_bytes(path.read_bytes()[:-100])
    elif how == "corrupt":  # a compressed block (ROOT's "ZL" header, 9 bytes) overwritten
        data = bytearray(path.read_bytes())
        start = data.find(b"ZL\x08") + 9
        data[start : start + 20] = bytes(20)
        path.write_bytes(bytes(data))
    elif how == "garbage":
        path.write_bytes(b"this is not a ROOT file at all" * 10)
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "missing_branch":
        del hits["y"]
        _write_trees(path, {"hits": hits})
    elif how == "nan":
        hits["x"][3] = np.nan
        _write_trees(path, {"hits": hits})
    elif how == "dtype":
        hits["hit_id"] = hits["hit_id"].astype(np.float64)
        _write_trees(path, {"hits": hits})
    elif how == "jagged":
        import awkward as ak

        with uproot.recreate(path) as f:
            types = {k: v.dtype for k, v in hits.items() if k != "x"}
            tree = f.mktree("hits", {**types, "x": "var * float64"})
            tree.extend({**hits, "x": ak.Array([[float(v)] for v in hits["x"]])})
    elif how == "event_id":
        _write_trees(path, {"hits": {"event_id": np.full(len(hits["x"]), 9), **hits}})
    elif how == "no_hits_tree":
        _write_trees(path, {"particles": {"particle_id": np.arange(3)}})
    elif how == "no_entries":
        _write_trees(path, {"hits": {k: v[:0] for k, v in hits.items()}})
    else:  # pragma: no cover
        raise AssertionError(how)


@pytest.mark.parametrize(
    ("how", "needle"),
    [
        ("truncate", "truncated"),
        ("truncate_tail", "truncated ROOT file"),
        ("corrupt", "unreadable ROOT file, truncated or corrupt?"),
        ("garbage", "not a ROOT file"),
        ("empty", "file is empty"),
        ("missing_branch", "missing branch(es) y"),
        ("nan", "column 'x' has 1 NaN"),
        ("dtype", "column 'hit_id' must hold integers, got floats"),
        ("jagged", "branch 'x' must hold one number per entry"),
        ("event_id", "event_id branch holds 9, but the file is event 7"),
        ("no_hits_tree", "no tree 'hits'"),
        ("no_entries", "tree has no entries"),
    ],
)
def test_a_damaged_event_file_is_one_line_naming_it(
    full_event: Event, tmp_path: Path, how: str, needle: str
) -> None:
    path = write_event_root(full_event, tmp_path)
    _damage(path, how, full_event)
    with pytest.raises(DataError) as info:
        read_event(tmp_path / "event000000007")
    text = str(info.value)
    assert "\n" not in text and text.startswith(str(path)), text
    assert needle in text, text


def test_a_failed_write_leaves_nothing(
    full_event: Event, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = write_event_root(full_event, tmp_path)
    before = good.read_bytes()
    calls = []

    def fail_on_second(f: Any, name: str, columns: Any, title: str) -> None:
        calls.append(name)
        if len(calls) == 2:
            raise OSError("disk full")
        f.mktree(name, {k: v.dtype for k, v in columns.items()}).extend(dict(columns))

    monkeypatch.setattr(rootio, "_write_tree", fail_on_second)
    with pytest.raises(OSError, match="disk full"):
        write_event_root(full_event, tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [good.name]  # no temporary
    assert good.read_bytes() == before  # the earlier file untouched


# --- tracks and track parameters ---------------------------------------------------------


def _some_tracks(event: Event) -> TrackCandidates:
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 12, event.n_hits)
    return TrackCandidates.from_labels(labels)


def test_tracks_round_trip_as_the_csv_does(small_event: Event, tmp_path: Path) -> None:
    tracks = _some_tracks(small_event)
    csv = write_tracks(tmp_path / "csv", small_event, tracks)
    path = write_tracks(tmp_path / "root", small_event, tracks, "root")
    assert path == tmp_path / "root" / "event000000007-tracks.root"
    assert find_tracks_file(tmp_path / "root", 7) == path
    from_csv, ids_csv = read_tracks_labelled(csv, small_event)
    from_root, ids_root = read_tracks_labelled(path, small_event)
    np.testing.assert_array_equal(from_root.to_labels(), from_csv.to_labels())
    np.testing.assert_array_equal(ids_root, ids_csv)
    with uproot.open(path) as f:
        assert f.classnames(cycle=False) == {"tracks": "TTree"}  # no parameters: no tree
        tree = f["tracks"]
        assert tree.keys() == ["event_id", "hit_id", "track_id"]
        assert set(tree.typenames().values()) == {"int64_t"}
    assert rootio.read_track_params_root(path) is None
    # writing the other format replaces the file: a folder never holds both
    write_tracks(tmp_path / "root", small_event, tracks)
    assert not path.exists() and find_tracks_file(tmp_path / "root", 7).suffix == ".csv"


def test_tracks_of_another_event_are_refused(small_event: Event, tmp_path: Path) -> None:
    tracks = _some_tracks(small_event)
    rootio.write_tracks_root(tmp_path, 7, small_event.hits.hit_id[:-1], tracks.to_labels()[:-1])
    with pytest.raises(DataError, match=f"covers {small_event.n_hits - 1} of") as info:
        read_tracks_labelled(tmp_path / "event000000007-tracks.root", small_event)
    assert str(info.value).startswith(f"{tmp_path / 'event000000007-tracks.root'}:tracks")
    path = rootio.write_tracks_root(tmp_path, 8, small_event.hits.hit_id, tracks.to_labels())
    with pytest.raises(DataError, match="event_id branch holds 8, but the file is event 7"):
        read_tracks_labelled(path, small_event)


def test_track_params_round_trip_bit_for_bit(small_event: Event, tmp_path: Path) -> None:
    params = random_params(40)
    labels = np.zeros(small_event.n_hits, dtype=np.int64)
    path = rootio.write_tracks_root(tmp_path, 1000, small_event.hits.hit_id, labels, params)
    found = rootio.read_track_params_root(path)
    assert found is not None
    tid, back = found
    # the Parquet file of the same parameters reads back the same
    ptid, pq_back = read_track_params(write_track_params(tmp_path, 1000, params))
    np.testing.assert_array_equal(tid, params.track + 1)
    np.testing.assert_array_equal(tid, ptid)
    for name in ("track", "d0", "z0", "phi", "theta", "qop", "chi2", "ndf"):
        np.testing.assert_array_equal(getattr(back, name), getattr(params, name), err_msg=name)
        np.testing.assert_array_equal(getattr(back, name), getattr(pq_back, name), err_msg=name)
    np.testing.assert_array_equal(back.cov, params.cov)
    # the tree has the Parquet file's columns, in order, with its dtypes
    import pyarrow.parquet as pq

    table = pq.read_table(tmp_path / "event000001000-track-params.parquet")
    with uproot.open(path) as f:
        tree = f["track_params"]
        assert tuple(tree.keys()) == PARAM_COLUMNS
        arrays = tree.arrays(library="np")
        assert "perigee w.r.t. the beam line" in tree.title
    for name in PARAM_COLUMNS:
        col = table.column(name).to_numpy()
        assert arrays[name].dtype == col.dtype, name
        np.testing.assert_array_equal(arrays[name], col, err_msg=name)


def test_bad_track_params_tree_names_the_file(small_event: Event, tmp_path: Path) -> None:
    params = random_params(5)
    cols = {k: np.array(v) for k, v in rootio.track_params_columns(1, params).items()}
    cols["cov_d0_d0"][2] = np.nan
    del cols["chi2"]
    path = tmp_path / "event000000001-tracks.root"
    _write_trees(path, {"track_params": cols})
    with pytest.raises(DataError, match="missing branch") as info:
        rootio.read_track_params_root(path)
    assert str(info.value).startswith(f"{path}:track_params")


# --- through the command -----------------------------------------------------------------


@pytest.mark.slow  # about 20 s on loaded cores: six CLI subprocesses
def test_cli_simulates_reconstructs_and_evaluates_root(tmp_path: Path) -> None:
    events, tracks, report = tmp_path / "events", tmp_path / "tracks", tmp_path / "report"
    args = ("--detector", "quick", "--events", "2", "--particles", "40", "--seed", "4")
    run("simulate", *args, "--format", "root", "--out", events)
    assert sorted(p.name for p in events.glob("*.root")) == [
        "event000001000.root",
        "event000001001.root",
    ]
    assert "1001" in run("info", events / "event000001001.root").stdout
    run("reconstruct", events, "--method", "dbscan", "--format", "root", "--out", tracks)
    for eid in (1000, 1001):
        assert (tracks / f"event00000{eid}-tracks.root").exists()
        assert not (tracks / f"event00000{eid}-tracks.csv").exists()
    assert json.loads((tracks / "run.json").read_text())["format"] == "root"
    run("evaluate", "--truth", events, "--tracks", tracks, "--out", report)
    metrics = json.loads((report / "metrics.json").read_text())
    assert set(metrics) >= {"1000", "1001", "all"}
    assert metrics["all"]["trackml_score"] > 0.5
    run("display", events / "event000001000", "--tracks", tracks, "--out", report / "d.png")
    assert (report / "d.png").stat().st_size > 1000
    # a truncated event: exit 1, one line naming the file, no tracks for it
    bad = tmp_path / "bad"
    bad.mkdir()
    data = (events / "event000001000.root").read_bytes()
    (bad / "event000001000.root").write_bytes(data[: len(data) // 2])
    proc = run("reconstruct", bad, "--out", tmp_path / "t2", check=False)
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and str(bad / "event000001000.root") in lines[0], proc.stderr
    assert not list((tmp_path / "t2").glob("*-tracks.*"))


def test_help_names_the_root_formats() -> None:
    assert "root" in run("simulate", "--help").stdout
    text = run("reconstruct", "--help").stdout
    assert "tracks.root" in text and "track_params" in text
