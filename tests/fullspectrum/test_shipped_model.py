"""The shipped fullspectrum model: complete provenance, and its validation metric reproduces.

``provenance.json`` is written only by ``scripts/train_fullspectrum.sh`` (``make
train-default``) from a clean tree: it names the commit, the config hash, every data
set (event ids, seed, resolved simulation config) and the validation metrics in all and
per event. Every simulated event depends only on (seed, event id), so one validation
event is made again here and reconstructed with the shipped model; its TrackML score,
efficiency and fake rate must equal the recorded ones (issue 17).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tracklearn.fullspectrum.model import DEFAULT_MODEL, FullSpectrumModel
from tracklearn.training.fullspectrum import FullSpectrumTrainConfig

FOLDER = FullSpectrumModel.load(DEFAULT_MODEL).folder


def _provenance() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FOLDER / "provenance.json").read_text())
    return data


def test_provenance_names_commit_config_data_and_metrics() -> None:
    prov = _provenance()
    assert prov["command"] == "make train-default"
    assert prov["git_revision"] and not prov["git_revision"].endswith("-dirty")
    config = FullSpectrumTrainConfig.model_validate(prov["config"])
    digest = hashlib.sha256(config.model_dump_json().encode()).hexdigest()
    assert digest == prov["config_sha256"], "the recorded config is the one hashed"
    sets = prov["data"]["sets"]
    n_train = sum(len(s["event_ids"]) for s in sets["train"])
    n_val = sum(len(s["event_ids"]) for s in sets["val"])
    assert (n_train, n_val) == (prov["n_train_events"], prov["n_val_events"])
    for s in sets["train"] + sets["val"]:
        assert s["detector"] == "trackml" and isinstance(s["seed"], int) and s["config"]
    val_ids = {str(i) for s in sets["val"] for i in s["event_ids"]}
    assert set(prov["metrics"]["validation_events"]) == val_ids
    train_ids = {i for s in sets["train"] for i in s["event_ids"]}
    assert not train_ids & {int(i) for i in val_ids}, "validation events are not trained on"


def test_model_folder_names_no_outside_path() -> None:
    spec = (FOLDER / "model.json").read_text()
    for text in (spec, json.dumps(_provenance()["config"])):
        assert "/work" not in text and "/tmp" not in text and "/home" not in text
    FullSpectrumModel.load(DEFAULT_MODEL)  # loads from its own folder only


@pytest.mark.slow  # simulates one μ=200 event (about a minute)
def test_shipped_model_reproduces_its_validation_metric(shared_data: Path, tmp_path: Path) -> None:
    from tracklearn.io import find_events, read_event
    from tracklearn.metrics import evaluate_event, trackml_score
    from tracklearn.parallel.simulate import simulate_to_disk
    from tracklearn.pipeline import get_method

    prov = _provenance()
    first = prov["data"]["sets"]["val"][0]
    event_id = first["event_ids"][0]
    simulate_to_disk(detector="trackml", n_events=1, seed=first["seed"], out=tmp_path,
                     config=first["config"], first_event_id=event_id,
                     geometry=shared_data / "trackml" / "detectors.csv.gz")  # fmt: skip
    (prefix,) = find_events([tmp_path])
    event = read_event(prefix)
    tracks = get_method("fullspectrum", {"threads": 2})(event)
    recorded = prov["metrics"]["validation_events"][str(event_id)]
    measured = {
        "trackml_score": trackml_score(event, tracks),
        "efficiency": evaluate_event(event, tracks).efficiency,
        "fake_rate": evaluate_event(event, tracks).fake_rate,
    }
    for key, value in recorded.items():
        assert measured[key] == pytest.approx(value, abs=2e-3), (key, measured, recorded)
