"""Score of the TrackML throughput phase (accuracy traded against speed)."""

from __future__ import annotations

import math

__all__ = ["throughput_score"]

#: Reference time of the throughput-phase formula [s per event].
REFERENCE_SECONDS: float = 600.0


def throughput_score(seconds_per_event: float, accuracy: float) -> float:
    """``sqrt(log(1 + 600 / t)) * (A - 0.5)``, the TrackML throughput-phase formula.

    Only the formula is implemented.  The Codalab throughput phase (Amrouche et al.,
    Comput. Softw. Big Sci. 7 (2023) 1) also clipped its inputs (an accuracy below
    0.5 gave no score and times were bounded); no clipping is applied here, so
    ``A < 0.5`` gives a negative value.

    Parameters
    ----------
    seconds_per_event
        Mean wall time ``t`` per event [s] (not internal ns units: the formula's
        600 is in seconds).
    accuracy
        ``A``, the TrackML score (:func:`tracklearn.metrics.score.trackml_score`).

    Returns
    -------
    float

    Raises
    ------
    ValueError
        If ``seconds_per_event <= 0`` or either input is not finite.

    Examples
    --------
    >>> round(throughput_score(600.0, 1.0), 6)  # sqrt(ln 2) / 2
    0.416277
    """
    t = float(seconds_per_event)
    a = float(accuracy)
    if not (math.isfinite(t) and math.isfinite(a)):
        raise ValueError(f"seconds_per_event and accuracy must be finite, got {t}, {a}")
    if t <= 0.0:
        raise ValueError(f"seconds_per_event must be > 0, got {t}")
    return math.sqrt(math.log1p(REFERENCE_SECONDS / t)) * (a - 0.5)
