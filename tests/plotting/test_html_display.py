"""The HTML event display: layers on hand-placed hits, the page, and Chromium's picture."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
from tests.metrics._events import abc_event, make_tracks
from tests.plotting._tracks import messy_tracks

from tracklearn.edm import Event
from tracklearn.plotting import html as html_display
from tracklearn.plotting.html import (
    STATUS_LABELS,
    Layer,
    event_layers,
    group_layer,
    loose_layer,
    write_html_display,
)
from tracklearn.plotting.match_status import match_status


def test_lines_break_after_each_group() -> None:
    layer = Layer(
        name="t",
        offsets=np.array([0, 2, 3]),
        rows=np.array([2, 0, 1]),
        colour=np.zeros(2, np.int64),
        palette=("red",),
        ids=np.array([7, 9]),
    )
    values = np.array([10.0, 11.0, 12.0])
    np.testing.assert_array_equal(layer.points(values), [12.0, 10.0, np.nan, 11.0, np.nan])
    assert layer.points(values).dtype == np.float32
    np.testing.assert_array_equal(layer.hover_ids(), [7, 7, 0, 9, 0])


def test_groups_run_outwards_and_split_by_colour() -> None:
    distance = np.array([3.0, 1.0, 2.0, 5.0, 4.0])
    layer = group_layer(
        "p",
        np.array([8, 8, 8, 5, 5]),
        np.arange(5),
        distance,
        palette=("a", "b"),
        colour=np.array([1, 0]),
    )
    assert layer.ids is not None and layer.ids.tolist() == [5, 8]
    assert layer.rows.tolist() == [4, 3, 1, 2, 0]  # particle 5 then 8, each outwards
    parts = dict(layer.by_colour())
    assert parts["a"].rows.tolist() == [1, 2, 0] and parts["b"].rows.tolist() == [4, 3]


def test_64_bit_ids_hover_exactly() -> None:
    big = 4503599644147712  # a TrackML particle_id: a double would round it
    layer = group_layer("p", np.array([big, big]), np.arange(2), np.zeros(2), palette=("a",))
    assert layer.hover_ids() == [str(big), str(big), "0"]


def test_loose_hits_are_subsampled(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(html_display, "MAX_LOOSE_HITS", 10)
    layer = loose_layer("noise", np.arange(100, 125), "grey")
    assert len(layer.rows) == 10 and layer.name == "noise (10 drawn of 25)"
    assert np.all(np.diff(layer.rows) > 0) and layer.rows.min() >= 100
    assert len(layer.points(np.zeros(200))) == 10  # no line gaps
    assert loose_layer("noise", np.arange(3), "grey").name == "noise (3)"


def test_status_layers_draw_what_the_counts_say(small_event: Event) -> None:
    tracks = messy_tracks(small_event, 0)
    layers, what = event_layers(small_event, tracks)
    counts = match_status(small_event, tracks).counts()
    assert what.startswith("match status (double majority)")
    by_label = {}
    for layer in layers:
        label = next(s for s, (lab, _) in STATUS_LABELS.items() if layer.name.startswith(lab))
        by_label[label] = layer
    assert set(by_label) == set(STATUS_LABELS)
    for status, layer in by_label.items():
        assert len(layer.rows) == counts[status].n_hits, status
        if status != "other":
            assert layer.n_groups == counts[status].n, status


def test_a_two_particle_track_is_drawn_as_fake() -> None:
    event = abc_event()
    tracks = make_tracks([[0, 1, 2, 6, 7, 8], list(range(11, 16))], event.n_hits)
    layers, what = event_layers(event, tracks, np.array([40, 41]))
    names = [layer.name for layer in layers]
    assert "fake track (1 tracks, 6 hits)" in names
    assert "matched track (1 tracks, 5 hits)" in names
    assert "missed target particle (2 particles, 11 hits)" in names
    fake = next(layer for layer in layers if layer.name.startswith("fake"))
    assert fake.ids is not None and fake.ids.tolist() == [40]  # the tracks file's track_id
    assert "1 matched, 0 duplicate, 1 fake, 0 short tracks; 2 missed" in what


def test_colouring_without_truth_or_tracks(small_event: Event) -> None:
    tracks = messy_tracks(small_event, 1)
    no_truth = Event(small_event.event_id, small_event.hits)
    layers, what = event_layers(no_truth, tracks)
    assert what == "reconstructed tracks"
    assert layers[1].n_groups == tracks.n_tracks and len(layers[1].palette) > 1
    layers, what = event_layers(small_event)
    assert what == "true particles" and layers[0].name.startswith("noise hits")
    layers, what = event_layers(no_truth)
    assert what == "hits" and len(layers[0].rows) == small_event.n_hits


def _page(small_event: Event, path: Path) -> str:
    layers, what = event_layers(small_event, messy_tracks(small_event, 0))
    write_html_display(path, small_event.hits, layers, title=what)
    return path.read_text()


def test_page_is_self_contained_with_status_legend(small_event: Event, tmp_path: Path) -> None:
    text = _page(small_event, tmp_path / "d.html")
    assert not re.search(r"<script[^>]*\ssrc=", text)  # plotly.js inline, nothing fetched
    assert not re.search(r"<link[^>]*\shref=", text)
    assert "Plotly.newPlot" in text and len(text) > 3_000_000
    for label, _ in STATUS_LABELS.values():
        assert f'"name":"{label} (' in text, label
    assert [p.name for p in tmp_path.iterdir()] == ["d.html"]  # no temporary left


def test_chromium_draws_the_page(small_event: Event, tmp_path: Path, chromium: Path) -> None:
    from matplotlib.image import imread

    page, png = tmp_path / "d.html", tmp_path / "d.png"
    _page(small_event, page)
    # every flag matters on a closed network: no sandbox as root, no GPU, no calls home
    cmd = [
        str(chromium),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1200,800",
        "--virtual-time-budget=10000",
        f"--screenshot={png}",
        page.resolve().as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert png.exists(), proc.stderr[-2000:]
    rgb = (imread(png)[..., :3] * 255).round().astype(np.int64)
    assert rgb.shape[:2] == (800, 1200)
    ink = np.any(rgb < 235, axis=-1)
    assert ink.mean() > 0.02, f"only {ink.mean():.2%} of the page is drawn"
    colours = np.unique(rgb.reshape(-1, 3) @ np.array([65536, 256, 1]))
    assert len(colours) > 200
    # the matched tracks' green (#2ca02c) is drawn, not only the axes and the legend
    green = np.all(np.abs(rgb - np.array([0x2C, 0xA0, 0x2C])) < 40, axis=-1)
    assert green.sum() > 500, green.sum()
