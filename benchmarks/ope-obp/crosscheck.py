#!/usr/bin/env python3
"""Recompute Causa's off-policy estimates with obp 0.4.1 and compare them, estimator by estimator.

    python benchmarks/ope-obp/crosscheck.py OUT_DIR [--data CSV] [--tau 1.0] [--tol 1e-9]

Run it in the venv of setup-venv.sh (obp==0.4.1), after

    .build/release/causa local --job config/jobs/obd-ope.toml --workers 2 --out out/obd-ope \\
        --export-predictions out/obd-ope/predictions.csv

Inputs (Causa's formats):
- OUT_DIR/report.json: key "ope", a list of {"policy", "estimator", "estimate", "se", "ci_low", "ci_high", "ess",
  "max_weight", "clipped_rows", "n"}. "policy" is "logging", "uniform" or a policy file's path as the job file
  writes it (relative to the job file's folder, e.g. "../policies/obd-bts.csv"); "estimator" is one of ipw, snips,
  dm, dr, switch_dr, mips. The list is searched for at the top level first, then anywhere in the report.
- OUT_DIR/predictions.csv (`--export-predictions`): header `row,item_id,q_hat`, one line per (valued row, candidate
  item): q_hat is the reward model's prediction for that row with the action replaced by the candidate.
- the logged data (--data; default data/obd/random/all/all.csv below the repository root, which
  scripts/fetch-data.sh fills; falls back to the shared copy): columns item_id, position (1..3), click,
  propensity_score. Row r of the CSV is `row` r of predictions.csv (0-based, header excluded).

What obp is given:
- bandit feedback built from the CSV in file order: action = item_id, position = position - 1, reward = click,
  pscore = propensity_score. When the CSV sits in obp's layout (.../random/all/all.csv with item_context.csv), it is
  also read with obp.dataset.OpenBanditDataset and the arrays are compared (obp sorts by timestamp and ranks
  positions; on the OBD sample the order and values are identical).
- action_dist [n, n_actions, 3]: "uniform" = 1/n_actions everywhere; a policy file `item_id,probability` = the same
  distribution at every position; `item_id,position,probability` = one distribution per position (position 1-based
  in the file, index position - 1 in obp). n_actions = max(item_id) + 1 (as OpenBanditDataset; 80 on OBD).
- estimated_rewards_by_reg_model [n, n_actions, 3]: q_hat of (row, item) at [row, item, position of the row]; the
  other positions' slots are 0 (obp only reads the slot of the row's own position).
- estimators: InverseProbabilityWeighting (ipw), SelfNormalizedInverseProbabilityWeighting (snips), DirectMethod
  (dm), DoublyRobust (dr), SwitchDoublyRobust(tau) (switch_dr; tau from the report's job section if it has one,
  else --tau, default 1.0), each through `estimate_policy_value` with `position` given. obp 0.4.1 has no MIPS: mips
  entries are listed as skipped. obp 0.4.1's IPW/DR have no weight clipping: an entry whose clipped_rows > 0 (other
  than switch_dr, where Causa counts the rows with w > tau) is still compared, with a note.

Compared: every policy in the report except "logging", every estimator the report has for it. The relative
difference is |causa - obp| / |obp| (the absolute difference when obp's value is 0); it fails above --tol (1e-9),
or above 1e-15 absolute when obp's value is 0. The table also shows the same estimators computed directly with
numpy (math.fsum of the per-row terms) from the definitions IPW = mean(w r), SNIPS = sum(w r) / sum(w),
DM = mean(sum_a pi(a|x_i) q(x_i, a)), DR = DM + mean(w (r - q(x_i, a_i))), switch-DR = DM + mean(1[w <= tau] w
(r - q(x_i, a_i))), with w = pi(a_i | x_i, pos_i) / pscore_i; obp agrees with them to ~1e-15.

Output: the table on stdout, OUT_DIR/obp-crosscheck.json. Exit 0 when every comparison passes, 1 when one fails,
2 on an input problem (a missing file, a policy file that cannot be found, no "ope" list).
"""
import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
LEN_LIST = 3
ESTIMATORS = ("ipw", "snips", "dm", "dr", "switch_dr")
NEEDS_Q = ("dm", "dr", "switch_dr")


class InputProblem(Exception):
    pass


# ---------------------------------------------------------------------------------------------------------------
# inputs

def default_data(kind: str = "random") -> Path:
    """data/obd/KIND/all/all.csv below the repository root, else the shared copy (/work/shared or ../shared)."""
    rel = Path("data/obd") / kind / "all" / "all.csv"
    for base in (REPO, Path("/work/shared"), REPO.parent / "shared"):
        if (base / rel).is_file():
            return (base / rel).resolve()
    return REPO / rel


def load_log(path: Path) -> dict:
    """The logged bandit feedback of an OBD-format CSV, in file order."""
    if not path.is_file():
        raise InputProblem(f"no data file {path} (run scripts/fetch-data.sh, or pass --data)")
    # float_precision="round_trip": pandas 1.5's default C parser is not correctly rounded (on the OBD bts log
    # 2,450 of 10,000 propensities come out one ulp off; Causa parses correctly rounded)
    df = pd.read_csv(path, index_col=0, float_precision="round_trip")
    for col in ("item_id", "position", "click", "propensity_score"):
        if col not in df.columns:
            raise InputProblem(f"{path}: no column '{col}'")
    action = df["item_id"].to_numpy()
    position = df["position"].to_numpy()
    if not (np.issubdtype(action.dtype, np.integer) and np.issubdtype(position.dtype, np.integer)):
        raise InputProblem(f"{path}: item_id and position must be integers")
    if position.min() < 1 or position.max() > LEN_LIST:
        raise InputProblem(f"{path}: positions must be in 1..{LEN_LIST}")
    return dict(
        path=path,
        n_rounds=len(df),
        n_actions=int(action.max()) + 1,
        action=action.astype(int),
        position=(position - 1).astype(int),
        reward=df["click"].to_numpy().astype(float),
        pscore=df["propensity_score"].to_numpy().astype(float),
        timestamp=df["timestamp"].to_numpy() if "timestamp" in df.columns else None,
    )


def compare_with_obd_loader(log: dict) -> str:
    """Reads the same CSV with obp.dataset.OpenBanditDataset (when the path has obp's layout) and checks the arrays."""
    path = Path(log["path"])
    try:
        campaign, policy, root = path.parent.name, path.parent.parent.name, path.parents[2]
    except IndexError:
        return "OpenBanditDataset: not tried (path is not DATA/{random,bts}/{all,men,women}/CAMPAIGN.csv)"
    if (path.name != f"{campaign}.csv" or policy not in ("random", "bts") or campaign not in ("all", "men", "women")
            or not (path.parent / "item_context.csv").is_file()):
        return "OpenBanditDataset: not tried (path is not DATA/{random,bts}/{all,men,women}/CAMPAIGN.csv)"
    import warnings

    from obp.dataset import OpenBanditDataset

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        obd = OpenBanditDataset(behavior_policy=policy, campaign=campaign, data_path=root)
        bf = obd.obtain_batch_bandit_feedback()
    name = f"OpenBanditDataset(behavior_policy={policy!r}, campaign={campaign!r})"
    if bf["n_rounds"] != log["n_rounds"]:
        return f"{name} has {bf['n_rounds']} rounds, the CSV {log['n_rounds']}: the comparison uses the CSV"
    same = [k for k in ("action", "position", "reward") if np.array_equal(bf[k], log[k])]
    if len(same) < 3:
        return (f"{name} gives DIFFERENT action/position/reward arrays (it sorts rows by timestamp and ranks "
                f"positions); the comparison uses the CSV in file order, as Causa reads it")
    off = int(np.count_nonzero(bf["pscore"] != log["pscore"]))
    worst = float(np.max(np.abs(bf["pscore"] - log["pscore"]) / log["pscore"]))
    tail = ("and pscore arrays" if off == 0 else
            f"arrays; pscore differs in {off} rows by at most {worst:.1e} relative (obp reads with pandas' default "
            f"float parser, which is not correctly rounded; this script reads with float_precision='round_trip')")
    return (f"{name} gives the same action, position, reward {tail} (n_rounds={bf['n_rounds']}, "
            f"n_actions={obd.n_actions}, len_list={obd.len_list})")


def find_ope(report) -> list:
    if isinstance(report, dict) and isinstance(report.get("ope"), list):
        return report["ope"]
    stack = [report]
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "ope" and isinstance(v, list):
                    return v
                stack.append(v)
        elif isinstance(x, list):
            stack.extend(x)
    raise InputProblem('the report has no "ope" list')


def load_report(out_dir: Path) -> dict:
    p = out_dir / "report.json"
    if not p.is_file():
        raise InputProblem(f"no {p}")
    with open(p) as f:
        return json.load(f)


def report_tau(report: dict):
    """switch-DR's tau from the report's job section, when it records one."""
    job = report.get("job") if isinstance(report, dict) else None
    pol = job.get("policy") if isinstance(job, dict) else None
    if isinstance(pol, dict):
        for k in ("switch_tau", "tau"):
            if isinstance(pol.get(k), (int, float)):
                return float(pol[k])
    return None


def policy_candidates(written: str, report: dict, job_dir) -> list:
    """Where a policy path written in the job file may be: relative to the job file's folder first."""
    w = Path(written)
    if w.is_absolute():
        return [w]
    dirs = []
    if job_dir is not None:
        dirs.append(Path(job_dir))
    job = report.get("job") if isinstance(report, dict) else None
    jf = job.get("file") if isinstance(job, dict) else None
    if isinstance(jf, str):
        for base in (Path.cwd(), REPO):
            dirs.append((base / jf).parent)
    dirs += [REPO / "config" / "jobs", Path.cwd(), REPO]
    out = [d / w for d in dirs]
    out.append(REPO / "config" / "policies" / w.name)
    return out


def resolve_policy(written: str, report: dict, job_dir) -> Path:
    for c in policy_candidates(written, report, job_dir):
        if c.is_file():
            return c.resolve()
    raise InputProblem(f"policy file '{written}' not found (looked relative to the job file's folder, the current "
                       f"folder, the repository and config/policies/; pass --job-dir)")


def read_policy_file(path: Path, n_actions: int) -> np.ndarray:
    """[n_actions, 3] probabilities of a context-free Causa policy file (with or without a position column)."""
    df = pd.read_csv(path, dtype=str)
    cols = list(df.columns)
    if "item_id" not in cols or "probability" not in cols:
        raise InputProblem(f"{path}: needs columns item_id and probability (has {cols})")
    if any(c.startswith("user_feature") for c in cols) or "epsilon" in cols:
        raise InputProblem(f"{path}: per-user or epsilon policy files are not supported by this cross-check")
    item = df["item_id"].astype(int).to_numpy()
    prob = df["probability"].astype(float).to_numpy()
    if item.min() < 0 or item.max() >= n_actions:
        raise InputProblem(f"{path}: item ids outside 0..{n_actions - 1}")
    dist = np.zeros((n_actions, LEN_LIST))
    if "position" in cols:
        pos = df["position"].astype(int).to_numpy() - 1
        if pos.min() < 0 or pos.max() >= LEN_LIST:
            raise InputProblem(f"{path}: positions outside 1..{LEN_LIST}")
        if len(set(zip(item.tolist(), pos.tolist()))) != len(item):
            raise InputProblem(f"{path}: an item is listed twice for a position")
        dist[item, pos] = prob
    else:
        if len(set(item.tolist())) != len(item):
            raise InputProblem(f"{path}: an item is listed twice")
        dist[item, :] = prob[:, None]
    for k in range(LEN_LIST):
        s = math.fsum(dist[:, k])
        if abs(s - 1.0) > 1e-9:
            raise InputProblem(f"{path}: position {k + 1}'s probabilities sum to {s!r}, not 1")
    return dist


def policy_dist(name: str, report: dict, job_dir, n_actions: int):
    """([n_actions, 3] distribution, description)."""
    if name == "uniform":
        return np.full((n_actions, LEN_LIST), 1.0 / n_actions), "1/n_actions everywhere"
    path = resolve_policy(name, report, job_dir)
    return read_policy_file(path, n_actions), str(path)


def load_predictions(path: Path, n_rounds: int, n_actions: int):
    """(q [n_rounds, n_actions] with NaN where absent, boolean mask of rows that have any prediction)."""
    if not path.is_file():
        return None, None
    df = pd.read_csv(path, dtype={"row": np.int64, "item_id": str, "q_hat": np.float64}, float_precision="round_trip")
    for col in ("row", "item_id", "q_hat"):
        if col not in df.columns:
            raise InputProblem(f"{path}: no column '{col}' (expected header row,item_id,q_hat)")
    rows = df["row"].to_numpy()
    items = df["item_id"].astype(int).to_numpy()
    if rows.min() < 0 or rows.max() >= n_rounds:
        raise InputProblem(f"{path}: row indices outside 0..{n_rounds - 1}")
    if items.min() < 0 or items.max() >= n_actions:
        raise InputProblem(f"{path}: item ids outside 0..{n_actions - 1}")
    q = np.full((n_rounds, n_actions), np.nan)
    q[rows, items] = df["q_hat"].to_numpy()
    if len(df) != len(set(zip(rows.tolist(), items.tolist()))):
        raise InputProblem(f"{path}: a (row, item_id) pair appears twice")
    valued = np.zeros(n_rounds, dtype=bool)
    valued[rows] = True
    return q, valued


# ---------------------------------------------------------------------------------------------------------------
# estimators

def obp_arrays(log: dict, dist: np.ndarray, q, rows: np.ndarray):
    """obp's action_dist and estimated_rewards_by_reg_model [n, n_actions, 3] for the rows `rows`."""
    n = len(rows)
    action_dist = np.ascontiguousarray(np.broadcast_to(dist[None, :, :], (n,) + dist.shape))
    est = None
    if q is not None:
        est = np.zeros((n, dist.shape[0], LEN_LIST))
        est[np.arange(n), :, log["position"][rows]] = np.nan_to_num(q[rows], nan=0.0)
    return action_dist, est


def obp_estimates(log: dict, rows: np.ndarray, action_dist, est, tau: float, wanted) -> dict:
    from obp.ope import (DirectMethod, DoublyRobust, InverseProbabilityWeighting,
                         SelfNormalizedInverseProbabilityWeighting, SwitchDoublyRobust)

    kw = dict(reward=log["reward"][rows], action=log["action"][rows], pscore=log["pscore"][rows],
              position=log["position"][rows], action_dist=action_dist)
    out = {}
    for name in wanted:
        if name == "ipw":
            out[name] = InverseProbabilityWeighting().estimate_policy_value(**kw)
        elif name == "snips":
            out[name] = SelfNormalizedInverseProbabilityWeighting().estimate_policy_value(**kw)
        elif name in NEEDS_Q and est is None:
            continue
        elif name == "dm":
            out[name] = DirectMethod().estimate_policy_value(
                action_dist=action_dist, estimated_rewards_by_reg_model=est, position=kw["position"])
        elif name == "dr":
            out[name] = DoublyRobust().estimate_policy_value(estimated_rewards_by_reg_model=est, **kw)
        elif name == "switch_dr":
            out[name] = SwitchDoublyRobust(tau=tau).estimate_policy_value(estimated_rewards_by_reg_model=est, **kw)
    return {k: float(v) for k, v in out.items()}


def numpy_terms(log: dict, dist: np.ndarray, q, rows: np.ndarray, tau: float) -> dict:
    """Per-row weights and terms of the textbook definitions (no obp)."""
    a = log["action"][rows]
    pos = log["position"][rows]
    r = log["reward"][rows]
    pi_logged = dist[a, pos]
    w = pi_logged / log["pscore"][rows]
    t = dict(w=w, wr=w * r)
    if q is not None:
        qq = np.nan_to_num(q[rows], nan=0.0)
        pi_rows = dist[:, pos].T  # [n, n_actions]: pi(. | position of row)
        dm = np.array([math.fsum(x) for x in pi_rows * qq])
        corr = w * (r - qq[np.arange(len(rows)), a])
        t.update(dm=dm, dr=dm + corr, switch_dr=dm + np.where(w <= tau, corr, 0.0))
    return t


def numpy_estimates(terms: dict) -> dict:
    n = len(terms["w"])
    out = dict(ipw=math.fsum(terms["wr"]) / n, snips=math.fsum(terms["wr"]) / math.fsum(terms["w"]))
    for k in NEEDS_Q:
        if k in terms:
            out[k] = math.fsum(terms[k]) / n
    return out


def rel_diff(causa: float, ref: float) -> float:
    return abs(causa - ref) / abs(ref) if ref != 0 else abs(causa - ref)


def passes(causa: float, ref: float, tol: float) -> bool:
    if not (math.isfinite(causa) and math.isfinite(ref)):
        return causa == ref
    return rel_diff(causa, ref) <= (tol if ref != 0 else 1e-15)


def fmt(x) -> str:
    return "-" if x is None else f"{x:.17g}"


# ---------------------------------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description="Compare Causa's OPE estimates with obp 0.4.1's.")
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("--data", type=Path, default=None, help="the logged CSV (default data/obd/random/all/all.csv)")
    ap.add_argument("--predictions", type=Path, default=None, help="default OUT_DIR/predictions.csv")
    ap.add_argument("--job-dir", type=Path, default=None,
                    help="folder the job file's policy paths are relative to (default: from report.job.file, "
                         "else config/jobs)")
    ap.add_argument("--tau", type=float, default=None, help="switch-DR's tau (default: the report's, else 1.0)")
    ap.add_argument("--tol", type=float, default=1e-9)
    args = ap.parse_args()

    try:
        report = load_report(args.out_dir)
        entries = find_ope(report)
        log = load_log(args.data.resolve() if args.data else default_data("random"))
        pred_path = args.predictions or args.out_dir / "predictions.csv"
        q, valued = load_predictions(pred_path, log["n_rounds"], log["n_actions"])
        tau = args.tau if args.tau is not None else (report_tau(report) or 1.0)
        print(f"data: {log['path']} ({log['n_rounds']} rows, {log['n_actions']} actions)")
        print(compare_with_obd_loader(log))
        if q is None:
            print(f"predictions: none ({pred_path} absent): dm, dr and switch_dr are not compared")
            rows = np.arange(log["n_rounds"])
        else:
            rows = np.flatnonzero(valued)
            missing = int(np.isnan(q[rows]).sum())
            print(f"predictions: {pred_path}: {len(rows)} rows; missing (row, item) predictions: {missing}")
        print(f"switch-DR tau = {tau!r}")

        policies = []
        for e in entries:
            p = e.get("policy")
            if p != "logging" and p not in policies:
                policies.append(p)
        results, dists, ok = [], {}, True
        for p in policies:
            dist, where = policy_dist(p, report, args.job_dir, log["n_actions"])
            dists[p] = where
            mine = [e for e in entries if e.get("policy") == p]
            wanted = [e["estimator"] for e in mine if e.get("estimator") in ESTIMATORS]
            if q is not None:
                need = (dist[:, log["position"][rows]].T > 0) & np.isnan(q[rows])
                if need.any():
                    print(f"warning: {p}: {int(need.sum())} (row, item) pairs with pi > 0 have no q_hat (taken as 0)")
            action_dist, est = obp_arrays(log, dist, q, rows)
            o = obp_estimates(log, rows, action_dist, est, tau, wanted)
            terms = numpy_terms(log, dist, q, rows, tau)
            npv = numpy_estimates(terms)
            for e in mine:
                name = e.get("estimator")
                c = e.get("estimate")
                row = dict(policy=p, estimator=name, causa=c, obp=None, numpy=None, rel_diff=None, ok=None,
                           note="")
                if name not in ESTIMATORS:
                    row["note"] = "skipped: obp 0.4.1 has no such estimator"
                elif name not in o:
                    row["note"] = "skipped: no predictions.csv"
                else:
                    row["obp"], row["numpy"] = o[name], npv.get(name)
                    if c is None:
                        row.update(ok=False, note="Causa's estimate is null")
                    else:
                        c = float(c)
                        row["rel_diff"] = rel_diff(c, o[name])
                        row["ok"] = passes(c, o[name], args.tol)
                    if e.get("n") is not None and int(e["n"]) != len(rows):
                        row["note"] += f"n: Causa {e['n']} rows, obp {len(rows)}; "
                    if (e.get("clipped_rows") or 0) > 0 and name != "switch_dr":
                        row["note"] += f"Causa clipped {e['clipped_rows']} rows (obp 0.4.1 does not clip); "
                    ok = ok and bool(row["ok"])
                results.append(row)
    except InputProblem as err:
        print(f"error: {err}", file=sys.stderr)
        return 2

    pw = max([len("policy")] + [len(str(r["policy"])) for r in results])
    head = f"{'policy':<{pw}} {'estimator':<10} {'causa':>24} {'obp':>24} {'numpy':>24} {'rel diff':>9}  "
    print()
    print(head)
    print("-" * len(head))
    for r in results:
        rd = "-" if r["rel_diff"] is None else f"{r['rel_diff']:.1e}"
        flag = "" if r["ok"] is None else ("ok" if r["ok"] else "FAIL")
        causa = r["causa"] if r["causa"] is None else float(r["causa"])
        print(f"{str(r['policy']):<{pw}} {r['estimator']:<10} {fmt(causa):>24} {fmt(r['obp']):>24} "
              f"{fmt(r['numpy']):>24} {rd:>9}  {flag} {r['note']}".rstrip())
    checked = [r for r in results if r["ok"] is not None]
    failed = [r for r in checked if not r["ok"]]
    print(f"\n{len(checked)} compared, {len(failed)} over tolerance (relative {args.tol:g}; absolute 1e-15 at 0), "
          f"{len(results) - len(checked)} skipped")

    out = dict(
        data=str(log["path"]), n_rows=len(rows), n_actions=log["n_actions"], tau=tau, tolerance=args.tol,
        policies=dists, obp_version=__import__("obp").__version__, ok=ok and not failed, rows=results,
    )
    with open(args.out_dir / "obp-crosscheck.json", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(f"wrote {args.out_dir / 'obp-crosscheck.json'}")
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
