"""A report as one self-contained HTML page: a table, notes, embedded PNGs, provenance.

Nothing is fetched when the page is opened: the style is inline and every image is
embedded as a base64 ``data:`` URL.  Each number of the table shows 4 decimals (as
``summary.md``) and carries its exact value in a ``data-value`` attribute (the JSON
number), so the page can be checked against the JSON it was made from.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["report_html"]

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1400px; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #f0f0f0; }
figure { display: inline-block; margin: 0.5em; vertical-align: top; }
figure img { max-width: 100%; border: 1px solid #eee; }
figcaption { font-size: 0.9em; color: #555; }
.provenance td:first-child { font-weight: bold; }
"""


def _cell(v: Any) -> str:
    """One ``<td>``: floats to 4 decimals with the exact value in ``data-value``."""
    if isinstance(v, bool) or not isinstance(v, int | float):
        return f"<td>{html.escape(str(v))}</td>"
    if isinstance(v, float):
        text = f"{v:.4f}" if math.isfinite(v) else str(v)
        exact = json.dumps(v) if math.isfinite(v) else "null"
    else:
        text = exact = str(v)
    return f'<td class="num" data-value="{html.escape(exact)}">{text}</td>'


def _table(rows: Sequence[Mapping[str, Any]], css_class: str = "") -> list[str]:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    cls = f' class="{css_class}"' if css_class else ""
    lines = [
        f"<table{cls}>",
        "<tr>" + "".join(f"<th>{html.escape(k)}</th>" for k in keys) + "</tr>",
    ]
    for r in rows:
        lines.append("<tr>" + "".join(_cell(r.get(k, "")) for k in keys) + "</tr>")
    lines.append("</table>")
    return lines


def report_html(
    *,
    title: str,
    rows: Sequence[Mapping[str, Any]],
    images: Sequence[Path],
    provenance: Mapping[str, Any],
    sections: Sequence[tuple[str, Sequence[str]]] = (),
) -> str:
    """The page's text.

    Parameters
    ----------
    title
        Page title and heading.
    rows
        The summary table, one dict per row (the keys of all rows are the columns).
    images
        PNG files to embed, in order, each captioned with its file name.
    provenance
        What made the numbers (version, git revision, ...), shown as a two-column table.
    sections
        (heading, lines) shown as lists after the table.
    """
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{html.escape(title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
        *_table(rows, "summary"),
    ]
    for heading, lines in sections:
        parts.append(f"<h2>{html.escape(heading)}</h2>")
        parts.append("<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in lines) + "</ul>")
    if images:
        parts.append("<h2>Plots</h2>")
    for path in images:
        data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
        name = html.escape(Path(path).name)
        parts.append(
            f'<figure><img alt="{name}" src="data:image/png;base64,{data}">'
            f"<figcaption>{name}</figcaption></figure>"
        )
    parts.append("<h2>Provenance</h2>")
    parts += _table([{"item": k, "value": v} for k, v in provenance.items()], "provenance")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
