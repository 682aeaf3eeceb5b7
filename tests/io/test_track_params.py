"""event<id>-track-params.parquet: exact round trip, atomic writes, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tracklearn.edm import TrackParameters
from tracklearn.errors import DataError
from tracklearn.io import read_track_params, track_params_path, write_track_params
from tracklearn.io.track_params import COLUMNS, COV_COLUMNS


def random_params(m: int, seed: int = 1) -> TrackParameters:
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(m, 5, 5))
    cov = a @ np.transpose(a, (0, 2, 1)) * rng.uniform(1e-8, 1e-2)
    par = np.stack(
        [
            rng.normal(0, 0.1, m),
            rng.normal(0, 50, m),
            rng.uniform(-np.pi, np.pi, m),
            rng.uniform(0.05, 3.1, m),
            rng.choice([-1, 1], m) / rng.uniform(0.5, 100, m),
        ],
        axis=1,
    )
    track = np.sort(rng.choice(3 * m, m, replace=False))
    return TrackParameters.from_arrays(
        track, par, cov, rng.uniform(0, 30, m), rng.integers(1, 30, m)
    )


def test_round_trip_is_exact(tmp_path: Path) -> None:
    p = random_params(200)
    path = write_track_params(tmp_path, 1000, p)
    assert path == track_params_path(tmp_path, 1000)
    assert path.name == "event000001000-track-params.parquet"
    tid, q = read_track_params(path)
    np.testing.assert_array_equal(tid, p.track + 1)
    for name in ("track", "d0", "z0", "phi", "theta", "qop", "chi2", "ndf"):
        np.testing.assert_array_equal(getattr(q, name), getattr(p, name), err_msg=name)
    np.testing.assert_array_equal(q.cov, p.cov)
    # the file's columns, in order, with the derived ones filled
    table = pq.read_table(path)
    assert tuple(table.column_names) == COLUMNS
    assert len(COV_COLUMNS) == 15 and COV_COLUMNS[1] == "cov_d0_z0"
    np.testing.assert_array_equal(table.column("pt").to_numpy(), p.pt)
    np.testing.assert_array_equal(table.column("charge").to_numpy(), p.charge)
    assert table.column("event_id").to_numpy().tolist() == [1000] * 200
    assert b"tracklearn.convention" in table.schema.metadata


def test_empty_table_round_trips(tmp_path: Path) -> None:
    tid, q = read_track_params(write_track_params(tmp_path, 5, TrackParameters.empty()))
    assert len(tid) == 0 and len(q) == 0


def test_nan_covariance_in_file_names_the_file(tmp_path: Path) -> None:
    path = write_track_params(tmp_path, 3, random_params(4))
    table = pq.read_table(path)
    col = table.column("cov_qop_qop").to_numpy().copy()
    col[2] = np.nan
    bad_id = int(table.column("track_id").to_numpy()[2])
    pq.write_table(
        table.set_column(table.column_names.index("cov_qop_qop"), "cov_qop_qop", pa.array(col)),
        path,
    )
    with pytest.raises(
        DataError, match=rf"track-params\.parquet: covariance of track_id {bad_id} has NaN"
    ):
        read_track_params(path)


def test_missing_column_and_garbage_are_clear(tmp_path: Path) -> None:
    path = write_track_params(tmp_path, 3, random_params(4))
    pq.write_table(pq.read_table(path).drop(["cov_z0_phi"]), path)
    with pytest.raises(DataError, match="missing column 'cov_z0_phi'"):
        read_track_params(path)
    path.write_bytes(b"not parquet")
    with pytest.raises(DataError, match="unreadable Parquet"):
        read_track_params(path)
    with pytest.raises(DataError, match="does not exist"):
        read_track_params(tmp_path / "nope.parquet")


def test_track_id_mismatch_is_an_error_and_writes_nothing(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        write_track_params(tmp_path, 3, random_params(4), track_id=np.arange(3))
    assert list(tmp_path.iterdir()) == []
