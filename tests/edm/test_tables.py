from __future__ import annotations

import numpy as np
import pytest

from tracklearn.edm import Detector, Event, Hits, Particles, TrackCandidates, Truth
from tracklearn.errors import DataError


def make_hits(n: int = 4, **over: object) -> Hits:
    cols: dict[str, object] = {
        "hit_id": np.arange(1, n + 1),
        "x": np.arange(n, dtype=float),
        "y": np.zeros(n),
        "z": np.ones(n),
        "volume_id": np.full(n, 8),
        "layer_id": np.full(n, 2),
        "module_id": np.arange(1, n + 1),
    }
    cols.update(over)
    return Hits.from_columns(cols)


def test_hits_are_frozen_and_read_only() -> None:
    hits = make_hits()
    assert hits.hit_id.dtype == np.int64 and hits.volume_id.dtype == np.int32
    with pytest.raises(ValueError):
        hits.x[0] = 5.0
    with pytest.raises(AttributeError):
        hits.x = np.zeros(4)  # type: ignore[misc]


def test_hits_do_not_alias_caller_arrays() -> None:
    x = np.arange(4, dtype=float)
    hits = make_hits(x=x)
    x[0] = 99.0
    assert hits.x[0] == 0.0


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"x": np.array([0.0, np.nan, 1.0, 2.0])}, "'x' has 1 NaN"),
        ({"hit_id": np.array([1.0, 2.0, 3.0, 4.0])}, "'hit_id' must hold integers, got floats"),
        ({"hit_id": np.array([1.0, np.nan, 3.0, 4.0])}, "'hit_id' has missing or NaN"),
        ({"y": np.array(["a", "b", "c", "d"], dtype=object)}, "'y' must be numeric"),
        ({"z": np.zeros(3)}, "different lengths"),
        ({"volume_id": np.full(4, 2**40)}, "outside int32"),
    ],
)
def test_hits_validation_errors(over: dict[str, object], message: str) -> None:
    with pytest.raises(DataError, match=message):
        make_hits(**over)


def test_missing_column_names_it() -> None:
    with pytest.raises(DataError, match="missing column 'z'"):
        Hits.from_columns(
            {
                "hit_id": [1],
                "x": [0.0],
                "y": [0.0],
                "volume_id": [1],
                "layer_id": [1],
                "module_id": [1],
            },
            source="f.csv",
        )


def test_take_returns_new_table() -> None:
    hits = make_hits()
    sub = hits.take(np.array([3, 1]))
    assert sub.hit_id.tolist() == [4, 2]
    assert len(hits) == 4


def _truth(hit_id: np.ndarray, pid: np.ndarray) -> Truth:
    n = len(hit_id)
    z = np.zeros(n)
    return Truth(
        hit_id=hit_id,
        particle_id=pid,
        tx=z,
        ty=z,
        tz=z,
        tpx=z,
        tpy=z,
        tpz=z,
        weight=np.full(n, 1.0 / n),
    )


def _particles(pid: np.ndarray) -> Particles:
    n = len(pid)
    z = np.zeros(n)
    return Particles(
        particle_id=pid,
        vx=z,
        vy=z,
        vz=z,
        px=np.ones(n),
        py=z,
        pz=z,
        q=np.ones(n, int),
        nhits=np.ones(n, int),
    )


def test_event_checks_consistency() -> None:
    hits = make_hits()
    big = np.int64(2**60 + 1)
    truth = _truth(hits.hit_id, np.array([big, big, 0, 0]))
    ev = Event(1, hits, truth, _particles(np.array([big])))
    assert ev.truth is not None and ev.truth.particle_id[0] == 2**60 + 1
    with pytest.raises(DataError, match="duplicate hit_id"):
        Event(1, make_hits(hit_id=np.array([1, 1, 2, 3])))
    with pytest.raises(DataError, match="do not match"):
        Event(1, hits, _truth(np.array([1, 2, 4, 3]), np.zeros(4, np.int64)))
    with pytest.raises(DataError, match="not in particles"):
        Event(1, hits, truth, _particles(np.array([5])))


def test_hit_rows_maps_ids() -> None:
    ev = Event(1, make_hits(hit_id=np.array([10, 30, 20, 40])))
    assert ev.hit_rows([20, 40, 10]).tolist() == [2, 3, 0]
    with pytest.raises(DataError, match="1 hit_ids not in the event"):
        ev.hit_rows([5])


def test_track_candidates_round_trip() -> None:
    labels = np.array([5, 0, 5, 2, 2, 2, -1, 9])
    tc = TrackCandidates.from_labels(labels)
    assert tc.n_tracks == 3
    assert [tc.track(t).tolist() for t in range(3)] == [[3, 4, 5], [0, 2], [7]]
    back = tc.to_labels()
    assert back.tolist() == [2, 0, 2, 1, 1, 1, 0, 3]
    tc2 = TrackCandidates.from_labels(labels, min_hits=2)
    assert tc2.n_tracks == 2 and tc2.to_labels()[7] == 0


def test_track_candidates_validation() -> None:
    with pytest.raises(DataError, match="offsets"):
        TrackCandidates(offsets=np.array([0, 3]), hit_index=np.array([0, 1]), n_hits=5)
    with pytest.raises(DataError, match="outside"):
        TrackCandidates(offsets=np.array([0, 2]), hit_index=np.array([0, 7]), n_hits=5)
    with pytest.raises(DataError, match="integers"):
        TrackCandidates.from_labels(np.array([1.0, 2.0]))
    assert TrackCandidates.empty(3).to_labels().tolist() == [0, 0, 0]


def test_shared_hit_goes_to_first_track() -> None:
    tc = TrackCandidates(offsets=np.array([0, 2, 4]), hit_index=np.array([0, 1, 1, 2]), n_hits=3)
    assert tc.to_labels().tolist() == [1, 1, 2]


def _detector() -> Detector:
    n = 3
    eye = {
        f"rot_{a}{b}": np.full(n, 1.0 if a + b in ("xu", "yv", "zw") else 0.0)
        for a in "xyz"
        for b in "uvw"
    }
    return Detector.from_columns(
        {
            "volume_id": [8, 8, 9],
            "layer_id": [2, 2, 4],
            "module_id": [1, 2, 1],
            "cx": [0.0, 1.0, 2.0],
            "cy": np.zeros(n),
            "cz": np.zeros(n),
            **eye,
            "module_t": np.full(n, 0.15),
            "module_minhu": np.full(n, 8.4),
            "module_maxhu": np.full(n, 8.4),
            "module_hv": np.full(n, 36.0),
            "pitch_u": np.full(n, 0.05),
            "pitch_v": np.full(n, 0.05625),
        }
    )


def test_detector_lookup_and_rotations() -> None:
    det = _detector()
    assert det.module_index([9, 8, 8, 7], [4, 2, 2, 2], [1, 2, 1, 1]).tolist() == [2, 1, 0, -1]
    assert np.allclose(det.rotations[0], np.eye(3))
    with pytest.raises(DataError, match="unknown detector modules.*volume 7"):
        det.check_hits([8, 7], [2, 2], [1, 1], "hits.csv")


def test_track_candidates_reject_floats_and_repeats() -> None:
    with pytest.raises(DataError, match="hit_index must hold integers"):
        TrackCandidates(offsets=np.array([0, 1]), hit_index=np.array([0.7]), n_hits=2)
    with pytest.raises(DataError, match="same hit twice"):
        TrackCandidates(offsets=np.array([0, 2]), hit_index=np.array([1, 1]), n_hits=2)
    with pytest.raises(DataError, match="n_hits"):
        TrackCandidates(offsets=np.array([0]), hit_index=np.array([], np.int64), n_hits=-1)
