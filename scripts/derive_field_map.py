"""Derive the TrackML field map from a real event with truth, and check it.

Usage::

    PYTHONPATH=src python scripts/derive_field_map.py [EVENT_PREFIX]

``EVENT_PREFIX`` defaults to ``$TRACKLEARN_DATA/trackml/event000000001`` (or
``../shared/data/...`` beside the checkout).  Prints the fitted
:class:`~tracklearn.geometry.field.AxialMapField`, ready to paste into
``TRACKML_FIELD``, the best symmetric
:class:`~tracklearn.geometry.field.SolenoidField` (``TRACKML_SOLENOID_FIELD``) for
comparison, and tables of the median measured bending field against both per
(signed) ``z`` band and per ``r`` band.  Exit 1 on a data error.
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
    AxialMapField,
    FieldSamples,
    MagneticField,
    UniformField,
    bending_field,
    fit_axial_field,
    fit_solenoid_field,
    measure_field,
)
from tracklearn.io.trackml import read_event

Z_EDGES_MM = tuple(float(z) for z in range(-3000, 3001, 500))
R_EDGES_MM = (0.0, 200.0, 400.0, 600.0, 800.0, 1100.0)


def band_table(
    samples: FieldSamples,
    fitted: AxialMapField,
    symmetric: MagneticField,
    values: np.ndarray,
    edges: tuple[float, ...],
) -> list[str]:
    """Rows of median measured ``b`` vs the fitted map, for bands of ``values``."""
    pred = bending_field(fitted, samples)
    shipped = bending_field(symmetric, samples)
    head = (
        f"{'band [mm]':>11} {'n':>5} {'measured':>9} {'±stat':>6} {'map':>6} "
        f"{'med(res)':>9} {'solenoid':>8} {'map Bz':>7}"
    )
    lines = [head]
    for lo, hi in itertools.pairwise(edges):
        m = (values >= lo) & (values < hi)
        n = int(m.sum())
        if n == 0:
            lines.append(f"{lo:5.0f} {hi:<5.0f} {n:5d}")
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
    fitted = fit_axial_field(samples)
    symmetric = fit_solenoid_field(samples)
    print(f"event: {args.prefix}  triplets: {len(samples)}")
    print("fitted: AxialMapField(")
    print(f"    knots_mm={fitted.knots_mm[0]:.0f} ... {fitted.knots_mm[-1]:.0f} mm")
    print("    coefficients=(" + ", ".join(f"{c:.5f}" for c in fitted.coefficients) + "))")
    same = np.allclose(fitted.coefficients, TRACKML_FIELD.coefficients, atol=2e-5)
    print(f"shipped TRACKML_FIELD: {'the same' if same else 'DIFFERENT'}")
    print(
        "symmetric solenoid: SolenoidField("
        f"b0_tesla={symmetric.b0_tesla:.4f}, "
        f"half_length_mm={symmetric.half_length_mm:.1f}, "
        f"radius_mm={symmetric.radius_mm:.1f})"
    )
    uniform = np.median(bending_field(UniformField(), samples))
    print(f"(a uniform 2 T field would predict {uniform:.3f} T in every band)")
    print()
    print("bending field b = Bz - w Br [T]: median measured vs map, per z band of the middle hit")
    print("\n".join(band_table(samples, fitted, symmetric, samples.z, Z_EDGES_MM)))
    print()
    print("per r band")
    print("\n".join(band_table(samples, fitted, symmetric, samples.r, R_EDGES_MM)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
