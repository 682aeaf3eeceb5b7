"""``tracklearn evaluate`` writes ``report.html``: the numbers of ``metrics.json``, the plots."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from tests.cli._run import run
from tests.plotting._tracks import messy_tracks

from tracklearn.edm import Event
from tracklearn.io import write_event, write_tracks


class _Tables(HTMLParser):
    """Rows of the ``<table class="summary">``: cells as (text, data-value or None)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[tuple[str, str | None]]] = []
        self._in_summary = False
        self._cell: list[str] | None = None
        self._value: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "table":
            self._in_summary = a.get("class") == "summary"
        elif self._in_summary and tag == "tr":
            self.rows.append([])
        elif self._in_summary and tag in ("td", "th"):
            self._cell, self._value = [], a.get("data-value")

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_summary = False
        elif self._cell is not None and tag in ("td", "th"):
            self.rows[-1].append(("".join(self._cell), self._value))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture
def event_and_tracks(tmp_path: Path, small_event: Event) -> tuple[Path, Path]:
    prefix = write_event(small_event, tmp_path / "ev")
    write_tracks(tmp_path / "tracks", small_event, messy_tracks(small_event, 0))
    return prefix, tmp_path / "tracks"


def test_report_html_table_is_metrics_json(
    tmp_path: Path, event_and_tracks: tuple[Path, Path]
) -> None:
    prefix, tracks = event_and_tracks
    rep = tmp_path / "rep"
    out = run("evaluate", "--truth", prefix, "--tracks", tracks, "--out", rep).stdout
    assert f"report:  {rep / 'report.html'}" in out
    metrics = json.loads((rep / "metrics.json").read_text())
    text = (rep / "report.html").read_text()
    assert not re.search(r"<(script|link|img)[^>]*\s(src|href)=\"?http", text)
    assert text.count('src="data:image/png;base64,') == 3  # efficiency x2, track length
    assert metrics["provenance"]["git_revision"] in text
    assert metrics["provenance"]["tracklearn_version"] in text

    parser = _Tables()
    parser.feed(text)
    header, *rows = parser.rows
    keys = [h for h, _ in header]
    assert keys[0] == "event" and "trackml_score" in keys and "n_tracks" in keys
    assert [r[0][0] for r in rows] == ["7", "all"]
    for row in rows:
        expect = metrics[row[0][0]]
        for key, (shown, exact) in zip(keys[1:], row[1:], strict=True):
            assert exact is not None and json.loads(exact) == expect[key], key
            assert float(shown) == pytest.approx(expect[key], abs=5e-5), key
