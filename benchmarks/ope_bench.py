#!/usr/bin/env python3
"""Helpers for benchmarks/ope-coverage.sh and benchmarks/ope-scale.sh (standard library only).

  ope_bench.py oracle TRUTH.json OUT.csv            per-user oracle policy (user_id,item_id,probability) from
                                                    truth.json's oracle_items
  ope_bench.py record REPORT.json TRUTH.json SEED SECONDS >> results.jsonl
                                                    one JSON line per (policy, estimator) of the report's "ope" list,
                                                    with the true value and whether [ci_low, ci_high] covers it
  ope_bench.py summary results.jsonl [LEVEL]        the coverage table with Clopper-Pearson intervals
  ope_bench.py scale-row REPORT.json LABEL RUN LOAD ROWS_TOTAL
                                                    one line of ope-scale.sh's table (timings, rows/s, bytes)
  ope_bench.py scale-summary DIR                    ope-scale.sh's summary from DIR/out-JOB-WORKERS-RUN/report.json
  ope_bench.py selftest                             checks the Clopper-Pearson code on known values

Clopper-Pearson (exact binomial) interval for x successes in n trials at level 1 - a: the lower end is the p with
P(X >= x | p) = a/2 and the upper end the p with P(X <= x | p) = a/2 (0 and 1 at x = 0 and x = n). Computed by
bisection on the exact binomial tail sums (math.comb and math.fsum in floating point), which gives the same numbers
as the Beta quantiles Beta(a/2; x, n-x+1) and Beta(1-a/2; x+1, n-x) that scipy.stats.beta.ppf gives.
"""
import json
import math
import sys

TRUTH_KEY = {"logging": "logging", "uniform": "uniform", "oracle.csv": "oracle"}
POLICY_ORDER = ["logging", "uniform", "oracle.csv"]
ESTIMATOR_ORDER = ["ipw", "snips", "dm", "dr", "switch_dr", "mips"]


def binom_cdf(x, n, p):
    """P(X <= x) for X ~ Binomial(n, p)."""
    if x < 0:
        return 0.0
    if x >= n:
        return 1.0
    return math.fsum(math.comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(x + 1))


def clopper_pearson(x, n, level=0.95):
    a = 1 - level

    def solve(f, target):  # f increasing in p on [0, 1]; the p with f(p) = target
        lo, hi = 0.0, 1.0
        for _ in range(200):
            mid = (lo + hi) / 2
            if f(mid) < target:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    lower = 0.0 if x == 0 else solve(lambda p: 1 - binom_cdf(x - 1, n, p), a / 2)  # P(X >= x) rises with p
    upper = 1.0 if x == n else solve(lambda p: 1 - binom_cdf(x, n, p), 1 - a / 2)  # P(X <= x) falls with p
    return lower, upper


def truth_head(path, keys=("policy_values", "oracle_items")):
    """The given top-level keys of truth.json. causa simulate writes one key per line with the large matrices last,
    so this reads only the lines it needs (a 300 MB truth.json in well under a second); any other layout falls back
    to parsing the whole file."""
    found = {}
    with open(path) as f:
        for line in f:
            t = line.strip().rstrip(",")
            for k in keys:
                if t.startswith(f'"{k}":') and k not in found:
                    try:
                        found.update(json.loads("{" + t + "}"))
                    except ValueError:
                        pass
            if len(found) == len(keys):
                return found
    whole = json.load(open(path))
    return {k: whole[k] for k in keys}


def oracle(truth_path, out_path):
    truth = truth_head(truth_path)
    with open(out_path, "w") as f:
        f.write("user_id,item_id,probability\n")
        for u, i in enumerate(truth["oracle_items"]):
            f.write(f"{u},{i},1\n")


def record(report_path, truth_path, seed, seconds):
    report = json.load(open(report_path))
    truth = truth_head(truth_path)["policy_values"]
    info = report.get("ope_info", {})
    for e in report["ope"]:
        t = truth[TRUTH_KEY[e["policy"]]]
        print(json.dumps({
            "seed": int(seed), "policy": e["policy"], "estimator": e["estimator"], "truth": t,
            "estimate": e["estimate"], "se": e["se"], "ci_low": e["ci_low"], "ci_high": e["ci_high"],
            "covered": e["ci_low"] <= t <= e["ci_high"], "n": e["n"], "ess": e.get("ess"),
            "max_weight": e.get("max_weight"), "clipped_rows": e.get("clipped_rows"),
            "switched_rows": e.get("switched_rows"), "rows_valued": info.get("rows_valued"),
            "rows_skipped": info.get("rows_skipped"), "catalogue_size": info.get("catalogue_size"),
            "job_seconds": float(seconds), "off_policy_s": report.get("timings_s", {}).get("off_policy"),
        }))


def summary(path, level=0.95):
    rows = [json.loads(line) for line in open(path) if line.strip()]
    cells = {}
    for r in rows:
        cells.setdefault((r["policy"], r["estimator"]), []).append(r)
    seeds = sorted({r["seed"] for r in rows})
    print(f"seeds: {len(seeds)} ({seeds[0]}..{seeds[-1]}); nominal level {level:.0%}; "
          f"Clopper-Pearson {level:.0%} interval of the coverage (exact binomial, standard library)")
    print(f"rows valued per seed: {sorted({r['rows_valued'] for r in rows})}; catalogue sizes: "
          f"{sorted({r['catalogue_size'] for r in rows})}")
    head = (f"{'policy':<11} {'estimator':<10} {'covered':>8} {'cover%':>7} {'CP95 of coverage':>17} "
            f"{'mean truth':>10} {'mean bias':>10} {'mean se':>9} {'sd(err)':>9} {'bias/se':>8} {'mean ESS':>9} "
            f"{'truth<lo/>hi':>12}")
    print(head)
    print("-" * len(head))
    def key(k):
        p, e = k
        return (POLICY_ORDER.index(p) if p in POLICY_ORDER else 99,
                ESTIMATOR_ORDER.index(e) if e in ESTIMATOR_ORDER else 99)
    for k in sorted(cells, key=key):
        rs = cells[k]
        n = len(rs)
        x = sum(r["covered"] for r in rs)
        lo, hi = clopper_pearson(x, n, level)
        bias = [r["estimate"] - r["truth"] for r in rs]
        mb = sum(bias) / n
        ms = sum(r["se"] for r in rs) / n
        sd = math.sqrt(sum((b - mb) ** 2 for b in bias) / (n - 1)) if n > 1 else float("nan")
        mt = sum(r["truth"] for r in rs) / n
        ess = [r["ess"] for r in rs if r.get("ess") is not None]
        mess = f"{sum(ess) / len(ess):9.1f}" if ess else f"{'-':>9}"
        below = sum(r["truth"] < r["ci_low"] for r in rs)   # interval entirely above the truth
        above = sum(r["truth"] > r["ci_high"] for r in rs)  # interval entirely below the truth
        print(f"{k[0]:<11} {k[1]:<10} {x:>4}/{n:<3} {100 * x / n:>6.1f}% [{100 * lo:5.1f}%, {100 * hi:5.1f}%] "
              f" {mt:10.5f} {mb:+10.5f} {ms:9.5f} {sd:9.5f} {mb / ms:+8.2f} {mess} {below:>6}/{above:<5}")
    print("bias = estimate - truth (truth.json policy_values, which differ by seed); sd(err) = standard deviation of "
          "estimate - truth over seeds (compare with mean se); bias/se = mean bias / mean se; "
          "truth<lo/>hi = seeds whose interval lies entirely above / entirely below the truth")
    secs = [r["job_seconds"] for r in rows if r["policy"] == "logging" and r["estimator"] == "ipw"]
    if secs:
        print(f"causa local per seed: mean {sum(secs) / len(secs):.2f} s, min {min(secs):.2f} s, max {max(secs):.2f} s")


def scale_row(report_path, label, run, load, rows_total):
    r = json.load(open(report_path))
    t = r["timings_s"]
    net = r["network"]
    info = r.get("ope_info")
    ope = t.get("off_policy")
    rows_total = int(rows_total)
    if ope:
        valued = info["rows_valued"]
        rates = f"{ope:8.2f} {valued:>8d} {valued / ope:>10.0f} {rows_total / ope:>10.0f}"
    else:
        rates = f"{'-':>8} {'-':>8} {'-':>10} {'-':>10}"
    print(f"{label:<22} {run:>3} {r['cluster']['workers']:>2} {rates} {t['total']:8.2f} "
          f"{net['bytes_sent']:>12d} {net['bytes_received']:>12d} {net.get('row_stream_bytes', 0):>10d}   {load}")
    print("      timings_s: " + ", ".join(f"{k}={v:.2f}" for k, v in sorted(t.items()) if isinstance(v, (int, float))))


def scale_summary(folder):
    import glob
    import os
    import statistics
    runs = {}
    for path in sorted(glob.glob(os.path.join(folder, "out-*-*-*", "report.json"))):
        job, workers, run = os.path.basename(os.path.dirname(path))[4:].rsplit("-", 2)
        runs.setdefault((job, int(workers)), []).append(json.load(open(path)))
    jobs = sorted({j for j, _ in runs}, key=lambda j: ["base", "ope-cf", "ope-user"].index(j)
                  if j in ["base", "ope-cf", "ope-user"] else 9)
    print("off_policy seconds (each run) and the 1 -> 2 worker ratio:")
    for job in jobs:
        w1 = [r["timings_s"].get("off_policy") for r in runs.get((job, 1), [])]
        w2 = [r["timings_s"].get("off_policy") for r in runs.get((job, 2), [])]
        if not w1 or not w2 or None in w1 + w2:
            continue
        valued = runs[(job, 1)][0]["ope_info"]["rows_valued"]
        total = runs[(job, 1)][0]["data"]["rows"]
        def show(xs):
            return ", ".join(f"{x:.2f}" for x in xs)
        best1, best2 = min(w1), min(w2)
        med1, med2 = statistics.median(w1), statistics.median(w2)
        print(f"  {job:<9} 1 worker [{show(w1)}]  2 workers [{show(w2)}]  ratio fastest {best1 / best2:.2f} "
              f"(valued rows/s {valued / best1:,.0f} -> {valued / best2:,.0f}; all rows/s {total / best1:,.0f} -> "
              f"{total / best2:,.0f}), ratio of medians {med1 / med2:.2f}")
    print("bytes on the wire (coordinator sent / received; identical across runs with the same worker count: "
          + ("yes" if all(len({(r['network']['bytes_sent'], r['network']['bytes_received']) for r in rs}) == 1
                          for rs in runs.values()) else "NO") + "):")
    for w in (1, 2):
        net = {j: runs[(j, w)][0]["network"] for j in jobs if (j, w) in runs}
        line = "  ".join(f"{j} {n['bytes_sent']:,} / {n['bytes_received']:,}" for j, n in net.items())
        print(f"  {w} worker{'s' if w > 1 else ' '}: {line}")
        for a, b, what in (("base", "ope-cf", "[policy] (context-free)"), ("ope-cf", "ope-user", "the per-user file (a third policy)")):
            if a in net and b in net:
                ds = net[b]["bytes_sent"] - net[a]["bytes_sent"]
                dr = net[b]["bytes_received"] - net[a]["bytes_received"]
                dstream = net[b].get("row_stream_bytes", 0) - net[a].get("row_stream_bytes", 0)
                print(f"    {what} adds {ds:+,} sent ({dstream:+,} of it in the row stream) and {dr:+,} received")
    same = []
    for job in jobs:
        rs = runs.get((job, 1), []) + runs.get((job, 2), [])
        def strip(r):
            r = {k: v for k, v in r.items() if k not in ("timings_s", "network")}
            r["cluster"] = {k: v for k, v in r["cluster"].items() if k != "workers"}
            return json.dumps(r, sort_keys=True)
        same.append(f"{job} {'yes' if len({strip(r) for r in rs}) == 1 else 'NO'}")
    print("reports identical for 1 and 2 workers apart from timings_s, network and cluster.workers: " + ", ".join(same))


def selftest():
    # Reference values from scipy 1.17.1, scipy.stats.beta.ppf (the Beta form of the same interval), to 6 decimals.
    cases = {(95, 100): (0.887165, 0.983568), (0, 100): (0.0, 0.036217), (100, 100): (0.963783, 1.0),
             (50, 100): (0.398321, 0.601679), (80, 100): (0.708157, 0.873344)}
    for (x, n), (lo, hi) in cases.items():
        got = clopper_pearson(x, n)
        assert abs(got[0] - lo) < 1e-6 and abs(got[1] - hi) < 1e-6, ((x, n), got, (lo, hi))
    print("clopper_pearson ok")


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "oracle":
        oracle(*args)
    elif cmd == "record":
        record(*args)
    elif cmd == "summary":
        summary(args[0], float(args[1]) if len(args) > 1 else 0.95)
    elif cmd == "scale-row":
        scale_row(*args)
    elif cmd == "scale-summary":
        scale_summary(args[0])
    elif cmd == "selftest":
        selftest()
    else:
        sys.exit(f"unknown command {cmd}")
