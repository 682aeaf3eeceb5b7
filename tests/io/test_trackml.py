from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from tracklearn.edm import Event, TrackCandidates
from tracklearn.errors import DataError
from tracklearn.io import (
    find_events,
    read_detector,
    read_event,
    read_store_event,
    read_tracks,
    store_event_ids,
    write_event,
    write_store,
    write_tracks,
)


@pytest.mark.parametrize("compress", [False, True])
def test_round_trip_is_exact(small_event: Event, tmp_path: Path, compress: bool) -> None:
    prefix = write_event(small_event, tmp_path, compress=compress)
    back = read_event(prefix)
    assert back.event_id == small_event.event_id
    for part in ("hits", "truth", "particles"):
        a, b = getattr(small_event, part), getattr(back, part)
        for name, col in a.to_columns().items():
            np.testing.assert_array_equal(col, getattr(b, name), err_msg=f"{part}.{name}")
    # 64-bit particle ids above 2**53 survive (they would not through float64)
    assert back.particles is not None and back.particles.particle_id.min() > 2**53


def test_real_event_reads(real_prefix: Path) -> None:
    ev = read_event(real_prefix)
    assert ev.n_hits == 5527
    assert ev.particles is not None and ev.particles.particle_type is not None
    assert len(ev.particles) == 548
    assert ev.cells is not None and len(ev.cells) == 18564
    assert ev.truth is not None
    assert ev.truth.weight.sum() == pytest.approx(0.0513, abs=5e-4)
    assert np.all(ev.truth.weight[ev.truth.particle_id == 0] == 0)


def test_real_detector_reads(shared_data: Path) -> None:
    det = read_detector(shared_data / "trackml" / "detectors.csv.gz")
    assert len(det) == 18728
    rot = det.rotations
    # rotations are orthonormal
    np.testing.assert_allclose(
        np.einsum("mij,mik->mjk", rot, rot), np.broadcast_to(np.eye(3), rot.shape), atol=1e-5
    )
    ev = read_event(shared_data / "trackml" / "event000000001", parts=("hits",), detector=det)
    assert ev.n_hits == 5527


def test_truth_rows_are_aligned_to_hits(small_event: Event, tmp_path: Path) -> None:
    prefix = write_event(small_event, tmp_path, compress=False)
    truth_file = Path(f"{prefix}-truth.csv")
    lines = truth_file.read_text().splitlines()
    truth_file.write_text("\n".join([lines[0], *reversed(lines[1:])]) + "\n")
    back = read_event(prefix)
    assert back.truth is not None and small_event.truth is not None
    np.testing.assert_array_equal(back.truth.particle_id, small_event.truth.particle_id)


def test_find_events(small_event: Event, tmp_path: Path) -> None:
    prefix = write_event(small_event, tmp_path)
    assert find_events([tmp_path]) == [prefix]
    assert find_events([Path(f"{prefix}-hits.csv.gz")]) == [prefix]
    with pytest.raises(DataError, match="no such event"):
        find_events([tmp_path / "nothing"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no event"):
        find_events([empty])


def test_parquet_store_round_trip(small_event: Event, tmp_path: Path) -> None:
    write_store([small_event], tmp_path / "store")
    assert store_event_ids(tmp_path / "store") == [small_event.event_id]
    back = read_store_event(tmp_path / "store", small_event.event_id)
    assert back.truth is not None and small_event.truth is not None
    np.testing.assert_array_equal(back.truth.particle_id, small_event.truth.particle_id)
    with pytest.raises(DataError, match="no hits for event 5"):
        read_store_event(tmp_path / "store", 5)


def test_tracks_round_trip(small_event: Event, tmp_path: Path) -> None:
    assert small_event.truth is not None
    _, labels = np.unique(small_event.truth.particle_id, return_inverse=True)
    tracks = TrackCandidates.from_labels(labels)
    path = write_tracks(tmp_path, small_event, tracks)
    back = read_tracks(path, small_event)
    np.testing.assert_array_equal(back.to_labels() > 0, tracks.to_labels() > 0)
    assert back.n_tracks == tracks.n_tracks
    # a submission naming an unknown hit is refused
    path.write_text("hit_id,track_id\n999999,1\n")
    with pytest.raises(DataError, match="tracks.csv: 1 hit_ids not in the event"):
        read_tracks(path, small_event)


# ---- bad inputs: one clear DataError naming the file ----------------------------------


def _corrupt(prefix: Path, part: str, edit: str) -> Path:
    path = Path(f"{prefix}-{part}.csv")
    text = path.read_text()
    lines = text.splitlines()
    if edit == "drop_column":
        lines = [",".join(line.split(",")[:-1]) for line in lines]
    elif edit == "nan":
        cells = lines[2].split(",")
        cells[1] = "nan"
        lines[2] = ",".join(cells)
    elif edit == "string":
        cells = lines[2].split(",")
        cells[1] = "abc"
        lines[2] = ",".join(cells)
    elif edit == "duplicate":
        lines.append(lines[1])
    elif edit == "empty":
        lines = []
    elif edit == "header_only":
        lines = lines[:1]
    elif edit == "truncate":
        path.write_text(text[: len(text) // 2])
        return path
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    return path


BAD_CASES = [
    ("hits", "drop_column", "missing column"),
    ("hits", "nan", "'x' has 1 NaN"),
    ("hits", "string", "'x' must be numeric"),
    ("hits", "duplicate", "duplicate hit_id"),
    ("hits", "empty", "file is empty"),
    ("hits", "header_only", "header but no rows"),
    ("hits", "truncate", "missing or NaN|malformed|NaN"),
    ("truth", "duplicate", "truth has"),
    ("truth", "drop_column", "missing column\\(s\\) weight"),
    ("particles", "nan", "'vx' has 1 NaN"),
]


@pytest.mark.parametrize(("part", "edit", "message"), BAD_CASES)
def test_bad_csv_gives_data_error(
    small_event: Event, tmp_path: Path, part: str, edit: str, message: str
) -> None:
    prefix = write_event(small_event, tmp_path, compress=False)
    _corrupt(prefix, part, edit)
    with pytest.raises(DataError, match=message) as info:
        read_event(prefix)
    assert str(tmp_path) in str(info.value)
    assert "\n" not in str(info.value)


def test_truncated_gzip(small_event: Event, tmp_path: Path) -> None:
    prefix = write_event(small_event, tmp_path, compress=True)
    path = Path(f"{prefix}-hits.csv.gz")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError, match="truncated or corrupt gzip") as info:
        read_event(prefix)
    assert "hits.csv.gz" in str(info.value)


def test_not_gzip(small_event: Event, tmp_path: Path) -> None:
    prefix = write_event(small_event, tmp_path, compress=True)
    path = Path(f"{prefix}-hits.csv.gz")
    path.write_bytes(b"\x00\x01garbage" * 10)
    with pytest.raises(DataError, match="hits.csv.gz"):
        read_event(prefix)


def test_truth_of_other_hits(small_event: Event, tmp_path: Path) -> None:
    prefix = write_event(small_event, tmp_path, compress=False)
    path = Path(f"{prefix}-truth.csv")
    lines = path.read_text().splitlines()
    cells = lines[1].split(",")
    cells[0] = "999999"
    lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="do not match the hits"):
        read_event(prefix)


def test_unknown_detector_ids(shared_data: Path, tmp_path: Path) -> None:
    det = read_detector(shared_data / "trackml" / "detectors.csv.gz")
    src = shared_data / "trackml" / "event000000001-hits.csv.gz"
    with gzip.open(src, "rt") as f:
        lines = f.read().splitlines()
    cells = lines[1].split(",")
    cells[4] = "99"  # volume 99 does not exist
    lines[1] = ",".join(cells)
    (tmp_path / "event000000001-hits.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError, match="unknown detector modules.*volume 99"):
        read_event(tmp_path / "event000000001", detector=det)


def test_missing_required_part(small_event: Event, tmp_path: Path) -> None:
    prefix = write_event(small_event, tmp_path, compress=False)
    Path(f"{prefix}-truth.csv").unlink()
    with pytest.raises(DataError, match="truth.csv\\(.gz\\): file does not exist"):
        read_event(prefix, require=("hits", "truth"))
    assert read_event(prefix).truth is None


def test_copy_of_real_event_is_usable(real_prefix: Path, tmp_path: Path) -> None:
    for part in ("hits", "truth", "particles", "cells"):
        shutil.copy(f"{real_prefix}-{part}.csv.gz", tmp_path)
    assert read_event(tmp_path / "event000000001").n_hits == 5527


def test_npz_loader_names_the_file_and_the_missing_array(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import numpy as np
    import pytest

    from tracklearn.errors import DataError
    from tracklearn.io.npz import load_npz_arrays

    path = tmp_path / "x.npz"
    with pytest.raises(DataError, match="no such toy sample"):
        load_npz_arrays(path, ["a"], "toy sample")
    np.savez(path, a=np.arange(3))
    assert load_npz_arrays(path, ["a"], "toy sample")["a"].tolist() == [0, 1, 2]
    with pytest.raises(DataError, match="missing array 'b'"):
        load_npz_arrays(path, ["a", "b"], "toy sample")
