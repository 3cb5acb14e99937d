#!/usr/bin/env python3
"""Write the Open Bandit Dataset's Bernoulli Thompson Sampling policy (and a simple non-uniform policy) as
Causa policy files, computed with obp 0.4.1 exactly as the Open Bandit paper and obp's README do.

    python benchmarks/ope-obp/make_bts_policy.py [--out-dir config/policies] [--n-sim 100000]

Run it in the venv of setup-venv.sh (obp==0.4.1). It writes two files:

config/policies/obd-bts.csv   header `item_id,position,probability`
    obp.policy.BernoulliTS(n_actions=80, len_list=3, is_zozotown_prior=True, campaign="all", random_state=12345)
    .compute_batch_action_dist(n_rounds=1, n_sim=100000).

    obp 0.4.1's signature is `compute_batch_action_dist(self, n_rounds: int = 1, n_sim: int = 100000)`; obp's
    README quick start and examples/obd call it with `n_sim=100000, n_rounds=bandit_feedback["n_rounds"]`. The
    policy is context-free: obp runs ONE Monte Carlo simulation of n_sim draws (each draw samples the 80 Beta
    posteriors under the ZOZOTOWN production prior of campaign "all", with no parameter updates, and ranks the top
    3) and then `np.tile`s the same [80, 3] matrix over n_rounds. n_rounds does not touch the random stream, so
    n_rounds=1 gives bit-for-bit the same numbers as n_rounds=10000, without a 10000×80×3 array. We take
    action_dist[0, a, k] = (number of draws that put item a at 0-based position k) / n_sim, and write it with
    position = k + 1 (1-based, as in the data's `position` column) and probability = repr(float) (round-trips).
    Rows are ordered by position, then item_id; items never drawn at a position would be written with 0.0 (with
    this seed every item is drawn at every position at least twice: the smallest probability is 2e-05).

    Normalisation: every entry is count / n_sim with integer counts that add up to n_sim per position, so each
    position's exact (rational) total is 1; the float64 entries are the correctly rounded quotients. The script
    prints, per position, how far the float64 total is from 1 BEFORE any renormalisation: the correctly rounded
    total (math.fsum), numpy's pairwise sum, and a naive left-to-right sum in file order. If the fsum or the numpy
    total is not exactly 1.0, it divides that position's column by its math.fsum total (renormalisation per
    position) and says so on stdout, with the deviations after. With obp 0.4.1, numpy 1.23.5, random_state=12345
    and n_sim=100000 the fsum and numpy totals are exactly 1.0 for all three positions, so NO renormalisation
    happens and the file holds obp's count / n_sim values unchanged. A naive left-to-right sum of the written
    values is 1 - 2.2e-16 (positions 1 and 3) and 1 - 1.1e-16 (position 2): rounding of the summation itself,
    which no rescaling can remove for every summation order; it is far inside the 1e-9 that Causa's policy reader
    allows.

config/policies/obd-top-items.csv   header `item_id,probability` (no position column: the same for every position)
    probability(item) = ((item_id % 7) + 1) / 314 for item_id 0..79 (314 = sum over the 80 items of (id % 7) + 1),
    computed as w / sum(w) in float64 and written with repr(float). A non-uniform, context-free policy for the
    OPE cross-check.

Time: the 100,000 Monte Carlo draws take about 5 s on one core of the 2-core dev machine (obp draws one vector of
80 Beta samples and one argsort per draw in a Python loop); the whole script about 5.5 s.
"""
import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
N_ACTIONS = 80
LEN_LIST = 3


def bts_action_dist(n_sim: int, random_state: int) -> np.ndarray:
    from obp.policy import BernoulliTS

    policy = BernoulliTS(
        n_actions=N_ACTIONS,
        len_list=LEN_LIST,
        is_zozotown_prior=True,
        campaign="all",
        random_state=random_state,
    )
    dist = policy.compute_batch_action_dist(n_rounds=1, n_sim=n_sim)
    assert dist.shape == (1, N_ACTIONS, LEN_LIST), dist.shape
    return np.array(dist[0], dtype=np.float64)  # [item, 0-based position]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", type=Path, default=REPO / "config" / "policies")
    ap.add_argument("--n-sim", type=int, default=100000)
    ap.add_argument("--random-state", type=int, default=12345)
    args = ap.parse_args()

    import obp

    print(f"obp {obp.__version__}, numpy {np.__version__}")
    t0 = time.perf_counter()
    dist = bts_action_dist(args.n_sim, args.random_state)
    elapsed = time.perf_counter() - t0
    print(f"BernoulliTS Monte Carlo: n_sim={args.n_sim}, random_state={args.random_state}: {elapsed:.2f} s")

    renormalised = []
    for k in range(LEN_LIST):
        col = dist[:, k]
        dev_fsum = math.fsum(col) - 1.0
        dev_np = float(np.sum(col)) - 1.0
        naive = 0.0
        for x in col.tolist():
            naive += x
        print(f"position {k + 1}: before renormalisation, fsum - 1 = {dev_fsum!r}, numpy sum - 1 = {dev_np!r}, "
              f"left-to-right sum - 1 = {naive - 1.0!r}, items with p > 0: {int(np.count_nonzero(col))}")
        if dev_fsum != 0.0 or dev_np != 0.0:
            dist[:, k] = col / math.fsum(col)
            renormalised.append(k + 1)
            print(f"position {k + 1}: RENORMALISED; after: fsum - 1 = {math.fsum(dist[:, k]) - 1.0!r}, "
                  f"numpy sum - 1 = {float(np.sum(dist[:, k])) - 1.0!r}")
    print("renormalised positions:", renormalised or "none (every position sums to exactly 1.0 in float64)")
    worst = max(abs(math.fsum(dist[:, k]) - 1.0) for k in range(LEN_LIST))
    if worst > 1e-9:
        print(f"error: a position's total is {worst} away from 1", file=sys.stderr)
        return 1

    args.out_dir.mkdir(parents=True, exist_ok=True)
    bts_path = args.out_dir / "obd-bts.csv"
    with open(bts_path, "w", newline="") as f:
        f.write("item_id,position,probability\n")
        for k in range(LEN_LIST):
            for a in range(N_ACTIONS):
                f.write(f"{a},{k + 1},{float(dist[a, k])!r}\n")
    print(f"wrote {bts_path} ({N_ACTIONS * LEN_LIST} rows)")

    w = np.array([(a % 7) + 1 for a in range(N_ACTIONS)], dtype=np.float64)
    p = w / w.sum()
    top_path = args.out_dir / "obd-top-items.csv"
    with open(top_path, "w", newline="") as f:
        f.write("item_id,probability\n")
        for a in range(N_ACTIONS):
            f.write(f"{a},{float(p[a])!r}\n")
    print(f"wrote {top_path} ({N_ACTIONS} rows; weights sum {w.sum():g}; fsum(p) - 1 = {math.fsum(p) - 1.0!r})")

    # the policy's most likely items per position, for the log
    for k in range(LEN_LIST):
        top = np.argsort(-dist[:, k], kind="stable")[:5]
        print(f"position {k + 1} top items: " + ", ".join(f"{a}:{dist[a, k]:.5f}" for a in top))
    return 0


if __name__ == "__main__":
    sys.exit(main())
