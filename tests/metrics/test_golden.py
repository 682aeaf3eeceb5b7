"""Hand-computed golden cases for the TrackML score and the tracking rates.

Standard event ``ABC`` (one hit per layer, every particle a target: pT 10 GeV,
η 0, ≥ 5 layers), total weight 0.3 + 0.3 + 0.4 = 1.0:

=========  ===========  ========  ===================
particle   hit rows     weight    particle weight
=========  ===========  ========  ===================
A (11)     0-5  (6)     0.05      0.30
B (22)     6-10 (5)     0.06      0.30
C (33)     11-15 (5)    0.08      0.40
noise (0)  16-19 (4)    0         0
=========  ===========  ========  ===================

A track counts (and is matched) when 2·majority > track hits and
2·majority > particle hits.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from _events import abc_event, make_event, make_tracks

from tracklearn.edm import Event
from tracklearn.metrics import evaluate_event, trackml_score


def d7_event() -> Event:
    """D (44): rows 0-6, weight 0.1 each (0.7); E (55): rows 7-11, 0.06 each (0.3)."""
    return make_event([44] * 7 + [55] * 5, [0.1] * 7 + [0.06] * 5)


def empty_event() -> Event:
    return make_event([], [])


def noise_event() -> Event:
    return make_event([0] * 6, [0.0] * 6)


@dataclass(frozen=True)
class Case:
    name: str
    event: str
    tracks: list[list[int]]
    #: (score, efficiency, fake_rate, duplicate_rate, n_tracks_matched)
    expect: tuple[float, float, float, float, int]


EVENTS = {"abc": abc_event, "d7": d7_event, "empty": empty_event, "noise": noise_event}
R = range

CASES = [
    # No hits at all: every ratio has a zero denominator -> 0.0.
    Case("empty event", "empty", [], (0.0, 0.0, 0.0, 0.0, 0)),
    # 6 noise hits in one track: total weight 0 -> score 0; no targets -> eff 0;
    # the 6-hit track's majority is noise, so it is unmatched: fake 1/1.
    Case("all noise", "noise", [list(R(6))], (0.0, 0.0, 1.0, 0.0, 0)),
    # No tracks: nothing scores, nothing is fake.
    Case("no tracks", "abc", [], (0.0, 0.0, 0.0, 0.0, 0)),
    # One track per particle: 0.3 + 0.3 + 0.4 = 1.0; 3/3 targets; 0/3 fakes.
    Case("perfect", "abc", [list(R(6)), list(R(6, 11)), list(R(11, 16))], (1.0, 1.0, 0.0, 0.0, 3)),
    # A split 3+3: 2·3 > 6 fails for both halves -> A's 0.3 lost: score 0.7, eff 2/3.
    # Tracks with >= 5 hits: B and C, both matched -> fake 0/2.
    Case(
        "split 3+3",
        "abc",
        [[0, 1, 2], [3, 4, 5], list(R(6, 11)), list(R(11, 16))],
        (0.7, 2 / 3, 0.0, 0.0, 2),
    ),
    # D (7 hits) split 4+3: 2·4 > 7 keeps the 4-hit part (0.4) + E (0.3) = 0.7;
    # both particles matched -> eff 1; only E's track has >= 5 hits and it matches.
    Case("split 4+3", "d7", [[0, 1, 2, 3], [4, 5, 6], list(R(7, 12))], (0.7, 1.0, 0.0, 0.0, 2)),
    # A+B merged (11 hits): A has 6/11 > 50 % and 6/6 -> counts 0.3; with C 0.4 -> 0.7.
    # B unmatched -> eff 2/3; both tracks (11, 5 hits) matched -> fake 0.
    Case("merged, A dominates", "abc", [list(R(11)), list(R(11, 16))], (0.7, 2 / 3, 0.0, 0.0, 2)),
    # B+C merged 5+5: 2·5 > 10 fails -> unmatched 10-hit fake; A alone 0.3.
    # eff 1/3; tracks >= 5 hits: A's (6) and BC (10) -> fake 1/2.
    Case("merged evenly", "abc", [list(R(6, 16)), list(R(6))], (0.3, 1 / 3, 0.5, 0.0, 1)),
    # 20 one-hit tracks: 2·1 > 5 fails for every particle -> 0; none has 5 hits.
    Case("one hit per track", "abc", [[i] for i in R(20)], (0.0, 0.0, 0.0, 0.0, 0)),
    # One 20-hit track: majority A has 6, 2·6 > 20 fails -> score 0, one fake of one.
    Case("everything in one track", "abc", [list(R(20))], (0.0, 0.0, 1.0, 0.0, 0)),
    # Noise added to each track: A 6/8, B 5/6, C 5/6 still > 50 % -> all match, score 1.
    Case(
        "noise added",
        "abc",
        [[*R(6), 16, 17], [*R(6, 11), 18], [*R(11, 16), 19]],
        (1.0, 1.0, 0.0, 0.0, 3),
    ),
    # 4 A hits + 4 noise: 2·4 > 8 fails -> this 8-hit track is a fake; B, C score 0.7.
    # eff 2/3; tracks >= 5 hits: all three -> fake 1/3.
    Case(
        "noise dilutes below majority",
        "abc",
        [[0, 1, 2, 3, 16, 17, 18, 19], list(R(6, 11)), list(R(11, 16))],
        (0.7, 2 / 3, 1 / 3, 0.0, 2),
    ),
    # A in two overlapping tracks (rows 0-3 and 2-5): each has 4/4 and 2·4 > 6 -> both
    # match A: 4 matched tracks, 1 duplicate -> duplicate rate 1/4.  Score: shared rows
    # 2, 3 go to the first track, leaving [4, 5] (2·2 > 6 fails): 0.2 + 0.3 + 0.4 = 0.9.
    # Tracks with >= 5 hits: B and C only -> fake 0.
    Case(
        "shared hits give a duplicate",
        "abc",
        [[0, 1, 2, 3], [2, 3, 4, 5], list(R(6, 11)), list(R(11, 16))],
        (0.9, 1.0, 0.0, 0.25, 4),
    ),
    # 3 A + 3 B (tie -> majority A, 2·3 > 6 fails): a 6-hit fake.  C scores 0.4.
    # [3, 4, 5] (3 of A's 6) and [9, 10] do not match either, but are short.
    # eff 1/3; tracks >= 5 hits: the fake (6) and C (5) -> fake 1/2.
    Case(
        "fake long track",
        "abc",
        [[0, 1, 2, 6, 7, 8], list(R(11, 16)), [3, 4, 5], [9, 10]],
        (0.4, 1 / 3, 0.5, 0.0, 1),
    ),
    # [0, 1, 6, 7] is unmatched but has 4 < 5 hits: not a fake. C scores 0.4.
    Case(
        "short fake not counted", "abc", [[0, 1, 6, 7], list(R(11, 16))], (0.4, 1 / 3, 0.0, 0.0, 1)
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: Case) -> None:
    event = EVENTS[case.event]()
    tracks = make_tracks(case.tracks, event.n_hits)
    m = evaluate_event(event, tracks)
    score, efficiency, fake_rate, duplicate_rate, n_tracks_matched = case.expect
    assert m.trackml_score == pytest.approx(score, abs=1e-12)
    assert trackml_score(event, tracks) == pytest.approx(score, abs=1e-12)
    assert m.efficiency == pytest.approx(efficiency, abs=1e-12)
    assert m.fake_rate == pytest.approx(fake_rate, abs=1e-12)
    assert m.duplicate_rate == pytest.approx(duplicate_rate, abs=1e-12)
    assert m.n_tracks_matched == n_tracks_matched
    assert m.n_tracks == len(case.tracks)


def test_golden_counts_of_fake_case() -> None:
    """The counts behind the rates of 'fake long track' (see the table above)."""
    event = abc_event()
    tracks = make_tracks([[0, 1, 2, 6, 7, 8], list(R(11, 16)), [3, 4, 5], [9, 10]], event.n_hits)
    m = evaluate_event(event, tracks)
    assert (m.n_particles_target, m.n_particles_matched) == (3, 1)
    assert (m.n_tracks_min_hits, m.n_fake, m.n_duplicate) == (2, 1, 0)


def test_noise_weight_is_never_scored() -> None:
    """A noise-majority track matching all noise hits does not score or match."""
    event = make_event([11] * 5 + [0] * 5, [0.1] * 5 + [0.1] * 5)
    tracks = make_tracks([list(range(5)), list(range(5, 10))], event.n_hits)
    m = evaluate_event(event, tracks)
    # Only the real particle's 0.5 of the total 1.0 scores.
    assert m.trackml_score == pytest.approx(0.5)
    assert m.n_tracks_matched == 1
    assert m.n_fake == 1
