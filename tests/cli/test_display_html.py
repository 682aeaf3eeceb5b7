"""``tracklearn display --out FILE.html`` through the command; a bad suffix writes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.cli._run import run
from tests.plotting._tracks import messy_tracks

from tracklearn.edm import Event
from tracklearn.io import write_event, write_tracks


@pytest.fixture
def event_and_tracks(tmp_path: Path, small_event: Event) -> tuple[Path, Path]:
    prefix = write_event(small_event, tmp_path / "ev")
    write_tracks(tmp_path / "tracks", small_event, messy_tracks(small_event, 0))
    return prefix, tmp_path / "tracks"


def test_display_html_through_the_command(
    tmp_path: Path, event_and_tracks: tuple[Path, Path]
) -> None:
    prefix, tracks = event_and_tracks
    out = tmp_path / "shows" / "d.html"
    run("display", prefix, "--tracks", tracks, "--out", out)
    text = out.read_text()
    assert "match status (double majority)" in text and "fake track (" in text
    assert not re.search(r"<script[^>]*\ssrc=", text)


@pytest.mark.parametrize("name", ["x.txt", "x"])
def test_display_unknown_suffix_is_one_line(
    tmp_path: Path, event_and_tracks: tuple[Path, Path], name: str
) -> None:
    prefix, tracks = event_and_tracks
    out_dir = tmp_path / "out"
    proc = run("display", prefix, "--tracks", tracks, "--out", out_dir / name, check=False)
    assert proc.returncode == 1
    err = [line for line in proc.stderr.splitlines() if line.strip()]
    assert err == [f"error: {out_dir / name}: display writes .png, .pdf, .svg or .html"]
    assert not out_dir.exists()
