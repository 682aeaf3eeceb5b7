"""Derive the TrackML field map from a real event with truth, and check it.

Usage::

    PYTHONPATH=src python scripts/derive_field_map.py [EVENT_PREFIX]

``EVENT_PREFIX`` defaults to ``$TRACKLEARN_DATA/trackml/event000000001`` (or
``../shared/data/...`` beside the checkout).  Prints the fitted
:class:`~tracklearn.geometry.field.SolenoidField`, ready to paste into
``TRACKML_FIELD``, and tables of the median measured bending field against the
map's prediction per ``|z|`` band and per ``r`` band.  Exit 1 on a data error.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

from tracklearn.datapaths import shared_data_dir
from tracklearn.errors import TracklearnError
from tracklearn.geometry.field import (
    TRACKML_FIELD,
    FieldSamples,
    SolenoidField,
    UniformField,
    bending_field,
    fit_solenoid_field,
    measure_field,
)
from tracklearn.io.trackml import read_event

Z_EDGES_MM = (0.0, 500.0, 1000.0, 1500.0, 2000.0, 2500.0, 3000.0)
R_EDGES_MM = (0.0, 200.0, 400.0, 600.0, 800.0, 1100.0)


def band_table(
    samples: FieldSamples, fitted: SolenoidField, values: np.ndarray, edges: tuple[float, ...]
) -> list[str]:
    """Rows of median measured ``b`` vs the fitted map, for bands of ``values``."""
    pred = bending_field(fitted, samples)
    shipped = bending_field(TRACKML_FIELD, samples)
    head = (
        f"{'band [mm]':>11} {'n':>5} {'measured':>9} {'±stat':>6} {'map':>6} "
        f"{'med(res)':>9} {'shipped':>8} {'map Bz':>7}"
    )
    lines = [head]
    for lo, hi in itertools.pairwise(edges):
        m = (values >= lo) & (values < hi)
        n = int(m.sum())
        if n == 0:
            lines.append(f"{lo:5.0f}-{hi:<5.0f} {n:5d}")
            continue
        b = samples.b[m]
        q25, q50, q75 = np.percentile(b, [25, 50, 75])
        # standard error of a median: 1.25 σ / sqrt(n), with σ from the IQR
        err = 1.25 * (q75 - q25) / 1.349 / np.sqrt(n)
        bz = np.median(fitted.bz(samples.r[m], samples.z[m]))
        lines.append(
            f"{lo:5.0f}-{hi:<5.0f} {n:5d} {q50:9.3f} {err:6.3f} {np.median(pred[m]):6.3f} "
            f"{np.median(b - pred[m]):+9.3f} {np.median(shipped[m]):8.3f} {bz:7.3f}"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "prefix",
        nargs="?",
        type=Path,
        default=shared_data_dir() / "trackml" / "event000000001",
        help="event prefix with truth and particles (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        event = read_event(
            args.prefix, parts=("truth", "particles"), require=("truth", "particles")
        )
    except TracklearnError as exc:
        print(f"derive_field_map: {exc}", file=sys.stderr)
        return 1
    assert event.truth is not None and event.particles is not None
    samples = measure_field(event.truth, event.particles)
    fitted = fit_solenoid_field(samples)
    print(f"event: {args.prefix}  triplets: {len(samples)}")
    print(
        "fitted: SolenoidField("
        f"b0_tesla={fitted.b0_tesla:.4f}, "
        f"half_length_mm={fitted.half_length_mm:.1f}, "
        f"radius_mm={fitted.radius_mm:.1f})"
    )
    print(f"shipped: {TRACKML_FIELD}")
    uniform = np.median(bending_field(UniformField(), samples))
    print(f"(a uniform 2 T field would predict {uniform:.3f} T in every band)")
    print()
    print("bending field b = Bz - w Br [T]: median measured vs map, per |z| band of the middle hit")
    print("\n".join(band_table(samples, fitted, np.abs(samples.z), Z_EDGES_MM)))
    print()
    print("per r band")
    print("\n".join(band_table(samples, fitted, samples.r, R_EDGES_MM)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
