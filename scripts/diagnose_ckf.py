"""Where does ``ckf`` lose target particles?  One row per lost target, then a table.

Runs the chain step by step on events with truth and puts every target particle
(DESIGN.md definition) in the first category that applies:

* ``no_pixel3``  -- fewer than 3 distinct layers hit inside the seeding region;
* ``not_seeded`` -- no seed has all three hits from the particle;
* ``following``  -- seeded, but no followed candidate is double-majority matched
  (the best candidate's own / foreign / missed hit counts are printed);
* ``short``      -- a matched candidate exists but every one is below ``min_hits_short``;
* ``ambiguity``  -- a long enough matched candidate was made but the selection
  (short-track rule, shared hits) did not keep one;
* ``found``      -- matched by an output track.

Usage::

    PYTHONPATH=src python scripts/diagnose_ckf.py /tmp/ckf/mu20 [--events 2] [--config cfg.yaml]
"""

from __future__ import annotations

import argparse
import collections
import time
from pathlib import Path

import numpy as np
import yaml

from tracklearn.classical.ckf import CKFConfig, CKFReconstructor
from tracklearn.edm import TrackCandidates
from tracklearn.io import find_events
from tracklearn.io.trackml import read_event
from tracklearn.metrics import evaluate_event, match_tracks
from tracklearn.metrics.targets import n_layers_per_particle, particle_eta, target_mask

CATEGORIES = ("no_pixel3", "not_seeded", "following", "short", "ambiguity", "found")


def region(eta: float) -> str:
    a = abs(eta)
    if a < 1.0:
        return "barrel |η|<1"
    if a < 1.6:
        return "transition 1-1.6"
    if a < 2.6:
        return "endcap 1.6-2.6"
    return "forward 2.6-4"


def diagnose(prefix: Path, reco: CKFReconstructor, verbose: bool) -> collections.Counter[str]:

    event = read_event(prefix)
    assert event.truth is not None and event.particles is not None
    cfg = reco.config
    hits = event.hits
    pid_hit = event.truth.particle_id
    counts: collections.Counter[str] = collections.Counter()
    parts = event.particles
    tmask = target_mask(event)
    t0 = time.perf_counter()
    seeds = reco.seeds(event)
    if cfg.second_pass is not None:  # "seeded" by either pass (the second on all hits)
        more = reco.seeds(event, cfg.second_pass)
        seeds = seeds.select(np.arange(len(seeds)))
        seeds = type(seeds)(
            **{k: np.r_[getattr(seeds, k), getattr(more, k)] for k in seeds.__dataclass_fields__}
        )
    t_seed = time.perf_counter() - t0
    cands, accepted = reco.passes(event)
    offsets, flat = cands.offsets, cands.hit_index
    t_follow = time.perf_counter() - t0 - t_seed
    cand = TrackCandidates(offsets=offsets, hit_index=flat, n_hits=len(hits))
    parts_out = [flat[offsets[t] : offsets[t + 1]] for t in accepted]
    out = TrackCandidates(
        offsets=np.r_[0, np.cumsum([len(p) for p in parts_out])].astype(np.int64),
        hit_index=np.concatenate(parts_out) if parts_out else np.zeros(0, np.int64),
        n_hits=len(hits),
    )
    m_all = evaluate_event(event, out)
    # seeded particles
    sp = pid_hit[seeds.hits] if len(seeds) else np.zeros((0, 3), np.int64)
    pure = (sp[:, 0] != 0) & (sp == sp[:, :1]).all(axis=1)
    seeded = set(np.unique(sp[pure, 0]).tolist())
    # candidates matched (all lengths), and with ≥ min_hits
    mc = match_tracks(event, cand)
    lengths = np.diff(offsets)
    cand_dm = set(mc.majority_particle[mc.matched].tolist())
    long = lengths >= min(cfg.min_hits_short, cfg.min_hits)
    cand_dm_long = set(mc.majority_particle[mc.matched & long].tolist())
    mo = match_tracks(event, out)
    found = set(mo.majority_particle[mo.matched].tolist())
    # accepted tracks by (length, holes between hits): how many are fakes
    acc_len = np.minimum(lengths[accepted], 8)
    acc_holes = np.minimum(cands.holes[accepted], 1)
    for ln, ho, fake, q in zip(
        acc_len, acc_holes, ~mo.matched, cands.quality[accepted], strict=True
    ):
        counts[f"tracks len {ln if ln < 8 else '8+'} holes {ho if ho < 1 else '1+'}"] += 1
        counts[f"fakes len {ln if ln < 8 else '8+'} holes {ho if ho < 1 else '1+'}"] += int(fake)
        if ln < 7:
            qb = "q<1" if q < 1 else ("q<2" if q < 2 else "q>=2")
            counts[f"short {'fake' if fake else 'true'} {qb}"] += 1
    # pixel (seeding-region) layers per particle
    in_region = (
        (hits.r >= cfg.seeding.r_min)
        & (hits.r <= cfg.seeding.r_max)
        & (np.abs(hits.z) <= cfg.seeding.z_max)
    )
    lay = hits.volume_id.astype(np.int64) * 1000 + hits.layer_id
    sel = in_region & (pid_hit != 0)
    pl = collections.Counter(
        p for p, _ in set(zip(pid_hit[sel].tolist(), lay[sel].tolist(), strict=True))
    )
    eta = particle_eta(event)
    nlay = n_layers_per_particle(event)
    nh = collections.Counter(pid_hit[pid_hit != 0].tolist())
    # best candidate per particle (most own hits) for the "following" rows
    entry_pid = pid_hit[flat]
    track_of = np.repeat(np.arange(len(lengths)), lengths)
    for i in np.flatnonzero(tmask):
        p = int(parts.particle_id[i])
        if p in found:
            cat = "found"
        elif pl.get(p, 0) < 3:
            cat = "no_pixel3"
        elif p not in seeded:
            cat = "not_seeded"
        elif p not in cand_dm:
            cat = "following"
        elif p not in cand_dm_long:
            cat = "short"
        else:
            cat = "ambiguity"
        counts[cat] += 1
        counts[f"{cat} | {region(float(eta[i]))}"] += 1
        vr = float(np.hypot(parts.vx[i], parts.vy[i]))
        if verbose and cat != "found":
            extra = ""
            if cat in ("following", "short", "ambiguity"):
                own = np.bincount(track_of[entry_pid == p], minlength=len(lengths))
                t = int(np.argmax(own))
                extra = f" best cand: own {own[t]} / len {lengths[t]} (particle {nh[p]} hits)"
            print(
                f"{event.event_id} pid {p} {cat:10s} pT {parts.pt[i]:6.2f} η {eta[i]:+.2f} "
                f"hits {nh[p]:2d} layers {nlay[i]:2d} pix-layers {pl.get(p, 0)} "
                f"vtx r {vr:.1f} z {parts.vz[i]:.0f}{extra}"
            )
    print(
        f"# {event.event_id}: {len(hits)} hits, {len(seeds)} seeds ({t_seed:.1f} s), "
        f"{len(lengths)} candidates (passes {t_follow:.1f} s), {len(accepted)} tracks; "
        f"eff {m_all.efficiency:.3f} fake {m_all.fake_rate:.3f} dup {m_all.duplicate_rate:.3f}"
    )
    return counts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data", type=Path)
    ap.add_argument("--events", type=int, default=None)
    ap.add_argument("--config", type=Path, default=None, help="CKFConfig YAML")
    ap.add_argument("--quiet", action="store_true", help="only the table")
    args = ap.parse_args()
    conf = yaml.safe_load(args.config.read_text()) if args.config else {}
    reco = CKFReconstructor(CKFConfig.model_validate(conf or {}))
    prefixes = find_events([args.data])[: args.events]
    total: collections.Counter[str] = collections.Counter()
    for prefix in prefixes:
        total += diagnose(prefix, reco, not args.quiet)
    n = sum(total[c] for c in CATEGORIES)
    print("\n| category | targets | fraction |\n|---|---|---|")
    for c in CATEGORIES:
        print(f"| {c} | {total[c]} | {total[c] / max(n, 1):.3f} |")
    print(f"| all | {n} | 1 |\n")
    print("| category | region | targets |\n|---|---|---|")
    for k in sorted(k for k in total if "|" in k):
        c, r = k.split(" | ")
        print(f"| {c} | {r} | {total[k]} |")
    print("\n| accepted tracks | n |\n|---|---|")
    for k in sorted(k for k in total if k.startswith(("tracks", "fakes", "short "))):
        print(f"| {k} | {total[k]} |")


if __name__ == "__main__":
    main()
