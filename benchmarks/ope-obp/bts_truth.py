#!/usr/bin/env python3
"""The Open Bandit paper's evaluation of off-policy estimators, on Causa's report: value the Bernoulli Thompson
Sampling policy from the uniform-random log, and compare with the BTS log's own (on-policy) mean click.

    python benchmarks/ope-obp/bts_truth.py OUT_DIR [--data RANDOM_CSV] [--bts-data BTS_CSV] [--verify-policy]

OUT_DIR holds the report.json (and predictions.csv) of a Causa job that valued config/policies/obd-bts.csv (made by
make_bts_policy.py) on the random log (data/obd/random/all/all.csv), e.g. config/jobs/obd-ope.toml with
`--export-predictions OUT_DIR/predictions.csv`. Run it in the venv of setup-venv.sh (obp==0.4.1).

- Ground truth: the on-policy mean click of the bts log (data/obd/bts/all/all.csv; falls back to the shared copy),
  which is what obp's OpenBanditDataset.calc_on_policy_policy_value_estimate(behavior_policy="bts",
  campaign="all") returns (it is also computed that way and the two are compared).
- obp: on the random log, the same estimators as Causa reports for the policy: IPW, SNIPS, DM, DR and switch-DR
  (tau from the report's job section, else --tau, default 1.0), DM / DR / switch-DR fed Causa's q-hat from
  predictions.csv (see crosscheck.py for how the arrays are built). The policy file is the one the report names,
  resolved as crosscheck.py does; --verify-policy recomputes it with obp's BernoulliTS (5 s) and checks it equals.
- Printed per estimator: Causa's estimate and 95% interval, obp's estimate, the relative error |est - truth| / truth
  of each, and whether Causa's interval covers the truth. Also written to OUT_DIR/bts-truth.json.

Caveat: the OBD sample shipped with obp has 10,000 rows per log and only 38 clicks (random) and 42 clicks (bts).
Estimates of a ~0.4% click rate from 38 clicks have large relative standard errors (about 16% for the uniform
policy's IPW, about 45% for the BTS policy's, whose weights reach 19.6: effective sample size ~1,640 of 10,000), so
this checks the machinery (the same numbers as obp, intervals that behave), not the paper's numbers, which use the
full dataset (about 26 million rows).

Exit 0 after printing (this is an evaluation, not a pass/fail check: crosscheck.py is that); 2 on an input problem.
"""
import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import crosscheck as cc  # noqa: E402  (same folder)


def main() -> int:
    ap = argparse.ArgumentParser(description="Causa's and obp's OPE of the BTS policy against the BTS log's truth.")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--data", type=Path, default=None, help="the random log (default data/obd/random/all/all.csv)")
    ap.add_argument("--bts-data", type=Path, default=None, help="the bts log (default data/obd/bts/all/all.csv)")
    ap.add_argument("--predictions", type=Path, default=None, help="default OUT_DIR/predictions.csv")
    ap.add_argument("--policy", default="obd-bts.csv", help="the report's policy whose name ends with this")
    ap.add_argument("--job-dir", type=Path, default=None)
    ap.add_argument("--tau", type=float, default=None)
    ap.add_argument("--verify-policy", action="store_true",
                    help="recompute the BTS policy with obp (make_bts_policy.py's settings) and compare with the file")
    args = ap.parse_args()

    try:
        report = cc.load_report(args.out_dir)
        entries = [e for e in cc.find_ope(report) if str(e.get("policy", "")).endswith(args.policy)]
        if not entries:
            raise cc.InputProblem(f"the report values no policy ending in '{args.policy}'")
        pol = entries[0]["policy"]
        log = cc.load_log(args.data.resolve() if args.data else cc.default_data("random"))
        bts = cc.load_log(args.bts_data.resolve() if args.bts_data else cc.default_data("bts"))
        pred_path = args.predictions or args.out_dir / "predictions.csv"
        q, valued = cc.load_predictions(pred_path, log["n_rounds"], log["n_actions"])
        tau = args.tau if args.tau is not None else (cc.report_tau(report) or 1.0)
        dist, where = cc.policy_dist(pol, report, args.job_dir, log["n_actions"])
    except cc.InputProblem as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    truth = math.fsum(bts["reward"]) / bts["n_rounds"]
    print(f"truth: mean click of the bts log {bts['path']}: {int(bts['reward'].sum())} / {bts['n_rounds']} = {truth!r}")
    try:
        import warnings

        from obp.dataset import OpenBanditDataset

        root = Path(bts["path"]).parents[2]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            obp_truth = float(OpenBanditDataset.calc_on_policy_policy_value_estimate(
                behavior_policy="bts", campaign="all", data_path=root))
        print(f"       obp's calc_on_policy_policy_value_estimate: {obp_truth!r}"
              f" ({'same' if obp_truth == truth else 'DIFFERENT'})")
    except Exception as err:  # layout not obp's: the plain mean stands
        obp_truth = None
        print(f"       (obp's calc_on_policy_policy_value_estimate not run: {err})")
    print(f"random log: {log['path']}: {int(log['reward'].sum())} clicks in {log['n_rounds']} rows")
    print(f"policy: {pol} -> {where}")

    if args.verify_policy:
        from make_bts_policy import bts_action_dist

        fresh = bts_action_dist(100000, 12345)
        same = np.array_equal(fresh, dist)
        print(f"policy file vs obp BernoulliTS(random_state=12345, n_sim=100000): "
              f"{'identical' if same else f'max |diff| = {np.abs(fresh - dist).max():.3g}'}")

    rows = np.arange(log["n_rounds"]) if valued is None else np.flatnonzero(valued)
    wanted = [e["estimator"] for e in entries if e.get("estimator") in cc.ESTIMATORS]
    action_dist, est = cc.obp_arrays(log, dist, q, rows)
    o = cc.obp_estimates(log, rows, action_dist, est, tau, wanted)
    w = dist[log["action"][rows], log["position"][rows]] / log["pscore"][rows]
    print(f"weights on the random log: max {w.max():.6g}, ESS (sum w)^2 / sum w^2 = "
          f"{math.fsum(w) ** 2 / math.fsum(w * w):.1f} of {len(rows)}, rows with w > tau: {int((w > tau).sum())}")

    def rel(x):
        return None if x is None else abs(x - truth) / truth

    results = []
    for e in entries:
        name = e.get("estimator")
        c = None if e.get("estimate") is None else float(e["estimate"])
        lo = None if e.get("ci_low") is None else float(e["ci_low"])
        hi = None if e.get("ci_high") is None else float(e["ci_high"])
        ob = o.get(name)
        results.append(dict(
            estimator=name, causa=c, ci_low=lo, ci_high=hi, obp=ob, causa_rel_error=rel(c), obp_rel_error=rel(ob),
            covers=None if lo is None or hi is None else bool(lo <= truth <= hi),
            note="" if ob is not None else ("obp 0.4.1 has no such estimator" if name not in cc.ESTIMATORS
                                            else "no predictions.csv"),
        ))

    def f(x, spec):
        return "-" if x is None else format(x, spec)

    head = (f"{'estimator':<10} {'causa':>12} {'95% interval':>27} {'obp':>12} {'rel err causa':>14} "
            f"{'rel err obp':>12} {'covers':>7}")
    print()
    print(head)
    print("-" * len(head))
    for r in results:
        ci = "-" if r["ci_low"] is None else f"[{r['ci_low']:.6g}, {r['ci_high']:.6g}]"
        cov = "-" if r["covers"] is None else ("yes" if r["covers"] else "no")
        print(f"{r['estimator']:<10} {f(r['causa'], '12.6g')} {ci:>27} {f(r['obp'], '12.6g')} "
              f"{f(r['causa_rel_error'], '14.4f')} {f(r['obp_rel_error'], '12.4f')} {cov:>7} {r['note']}".rstrip())
    print(f"\ntruth {truth:.6g} (bts log); 38 / 42 clicks in 10,000 rows per log: this checks the machinery, "
          f"not the paper's numbers")

    out = dict(
        truth=truth, obp_truth=obp_truth, bts_data=str(bts["path"]), random_data=str(log["path"]), policy=pol,
        policy_file=where, n_rows=len(rows), tau=tau, clicks_random=int(log["reward"].sum()),
        clicks_bts=int(bts["reward"].sum()), obp_version=__import__("obp").__version__, rows=results,
    )
    with open(args.out_dir / "bts-truth.json", "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    print(f"wrote {args.out_dir / 'bts-truth.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
