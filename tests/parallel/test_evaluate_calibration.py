"""evaluate with workers and validation events: edge samples come back from each event's
job, and the temperature is fitted once, on all validation events, in the parent."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tracklearn.edm import ScoredEdges, TrackCandidates
from tracklearn.io import read_event, write_tracks
from tracklearn.metrics.calibration import fit_temperature
from tracklearn.parallel.evaluate import evaluate_events
from tracklearn.training.graph_data import graph_labels


def _write_scored_tracks(prefix: Path, out: Path, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Truth tracks with over-confident scores on every pair of hits 1 apart in hit order
    (true when both hits are on one particle); returns (scores, labels)."""
    event = read_event(prefix, parts=("hits", "truth", "particles"))
    assert event.truth is not None
    pid = event.truth.particle_id
    tracks = TrackCandidates.from_labels(np.where(pid > 0, pid, 0))
    inner = np.arange(event.n_hits - 1)
    outer = inner + 1
    labels = graph_labels(event, np.stack([inner, outer]), None).astype(np.float64)
    rng = np.random.default_rng(seed)
    # calibrated logit: 2 a l / sigma^2 = l / 2, so these are 2x too sharp (T about 2)
    logit = (2 * labels - 1) + rng.normal(0.0, 2.0, len(labels))
    score = (1 / (1 + np.exp(-logit))).astype(np.float32)
    std = rng.uniform(0.0, 0.1, len(labels)).astype(np.float32)
    write_tracks(out, event, tracks.with_edges(ScoredEdges(inner, outer, score, std)))
    return score.astype(np.float64), labels


@pytest.fixture(scope="module")
def scored(tiny_events: list[Path], tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("scored")
    test, val = tiny_events[:3], tiny_events[3:]
    val_parts = [_write_scored_tracks(p, root / "val", 100 + i) for i, p in enumerate(val)]
    for i, p in enumerate(test):
        _write_scored_tracks(p, root / "test", i)
    return {"root": root, "test": test, "val": val, "val_parts": val_parts}


def test_validation_temperature_is_fitted_once_on_every_event_with_workers(
    scored: dict[str, object],
) -> None:
    root = scored["root"]
    assert isinstance(root, Path)
    test, val = scored["test"], scored["val"]
    validation = (val, root / "val")
    serial = evaluate_events(test, root / "test", root / "r1", validation=validation)  # type: ignore[arg-type]
    pooled = evaluate_events(
        test,  # type: ignore[arg-type]
        root / "test",
        root / "r2",
        workers=2,
        validation=validation,  # type: ignore[arg-type]
    )
    assert serial.calibration is not None and pooled.calibration is not None
    parts = scored["val_parts"]
    want = fit_temperature(
        np.concatenate([s for s, _ in parts]),  # type: ignore[attr-defined]
        np.concatenate([y for _, y in parts]),  # type: ignore[attr-defined]
    )
    assert want > 1.5  # the scores are over-confident: the fit softens them
    for result in (serial, pooled):
        cal = result.calibration
        assert cal is not None
        assert cal["temperature"] == pytest.approx(want, rel=1e-9)
        assert cal["n_edges_validation"] == sum(len(s) for s, _ in parts)  # type: ignore[attr-defined]
        assert cal["nll_after"] < cal["nll"]  # the test events are alike: T helps there too
        assert "mc_dropout" in cal
    for key in ("n_edges", "ece", "nll", "temperature", "ece_after", "nll_after"):
        assert pooled.calibration[key] == pytest.approx(serial.calibration[key], rel=1e-12)
    doc = json.loads((root / "r2" / "calibration.json").read_text())
    assert doc["temperature"] == pytest.approx(want, rel=1e-9)
    assert (root / "r2" / "reliability.png").exists()


def test_validation_events_without_edge_scores_are_an_error(scored: dict[str, object]) -> None:
    from tracklearn.errors import DataError

    root = scored["root"]
    assert isinstance(root, Path)
    evaluate_events(scored["test"], root / "test", root / "r3")  # type: ignore[arg-type]
    assert (root / "r3" / "calibration.json").exists()
    with pytest.raises(DataError, match="no edge scores for the validation events"):
        evaluate_events(
            scored["test"],  # type: ignore[arg-type]
            root / "test",
            root / "r3",
            workers=2,
            validation=(scored["val"], root / "test"),  # type: ignore[arg-type]
        )
    # the calibration of the earlier report in that folder is not left behind
    assert not (root / "r3" / "calibration.json").exists()
