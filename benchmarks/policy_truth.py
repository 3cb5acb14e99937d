#!/usr/bin/env python3
"""True values of learned policies on `causa simulate` data (standard library only; used by policy-truth.sh).

  policy_truth.py value TRUTH.json RECOMMENDATIONS.csv     -> one JSON line: the policy's true values
  policy_truth.py table RESULTS.jsonl TRUTH.json           -> the summary tables
  policy_truth.py diag SIM_DIR PREDICTIONS.csv             -> how well the reward model ranks items (needs numpy)

`diag` reads `causa local --export-predictions` output (row,item_id,q_hat for every valued row x item; a job
with [policy] evaluate = ["uniform"] makes it) and SIM_DIR's truth.json, impressions.csv and items.csv, takes each
user's first valued row and prints the mean within-user correlation over items of the model's logit with the true
logit and with the true affinity x_u.y_i, the same for -log(price) alone, the model's mean q over items against the
truth's, and the true p of the model's top item.

`value` computes, from truth.json's click_probability_position1 p[u][i] (= p(u, i, 1)):
  rank1:   mean over users of p(u, rank-1 item)   (the deployed-style policy: show the first listed item)
  compact: mean over users of sum_a pi(a|u) p(u, a) for the compact policy as written (listed items with their
           `probability`, the `epsilon` mass spread evenly over the unlisted items of the catalogue)
  users:   users listed (a user missing from the file is an error)
"""
import csv
import json
import sys


def load_truth(path):
    t = json.load(open(path))
    return t


def value(truth_path, recs_path):
    t = load_truth(truth_path)
    p = t["click_probability_position1"]
    n_users, n_items = len(p), len(p[0])
    first = {}
    listed = {}
    eps = {}
    with open(recs_path, newline="") as f:
        for row in csv.DictReader(f):
            u, i = int(row["user_id"]), int(row["item_id"])
            if int(row["rank"]) == 1:
                first[u] = i
            listed.setdefault(u, []).append((i, float(row["probability"])))
            eps[u] = float(row["epsilon"])
    missing = [u for u in range(n_users) if u not in first]
    if missing:
        raise SystemExit(f"{recs_path}: {len(missing)} users have no rank-1 item (first: {missing[0]})")
    rank1 = sum(p[u][first[u]] for u in range(n_users)) / n_users
    compact = 0.0
    for u in range(n_users):
        items = listed[u]
        names = {i for i, _ in items}
        v = sum(pr * p[u][i] for i, pr in items)
        rest = n_items - len(names)
        if rest > 0 and eps[u] > 0:
            v += eps[u] / rest * (sum(p[u]) - sum(p[u][i] for i in names))
        compact += v
    compact /= n_users
    # agreement with the oracle's item and the share of the most common first item
    oracle = t["oracle_items"]
    agree = sum(1 for u in range(n_users) if first[u] == oracle[u]) / n_users
    counts = {}
    for u in range(n_users):
        counts[first[u]] = counts.get(first[u], 0) + 1
    pv = t["policy_values"]
    print(json.dumps({"rank1": rank1, "compact": compact, "oracle_agreement": agree,
                      "max_first_share": max(counts.values()) / n_users, "distinct_first": len(counts),
                      "logging": pv["logging"], "uniform": pv["uniform"], "oracle": pv["oracle"]}))


def table(results_path, truth_path):
    pv = load_truth(truth_path)["policy_values"] if truth_path else None
    rows = [json.loads(line) for line in open(results_path) if line.strip()]
    if not rows:
        print("no results")
        return
    pv = {k: rows[0][k] for k in ("logging", "uniform", "oracle")}
    bar = pv["logging"] + 0.5 * (pv["oracle"] - pv["logging"])
    print(f"truth: logging {pv['logging']:.4f}  uniform {pv['uniform']:.4f}  oracle {pv['oracle']:.4f}  "
          f"bar = logging + 50% (oracle - logging) = {bar:.4f}")
    print()
    hdr = (f"{'variant':<34} {'learner':<10} {'deployed':>8} {'TRUE rank-1':>11} {'TRUE pi':>8} {'>bar':>4} "
           f"{'gain %':>6} {'oracle=':>7} {'maxshare':>8} {'pred.':>7} {'held-out DR [95% CI]':>28} "
           f"{'DR covers':>9} {'DM':>7} {'wall s':>7} {'learn s':>7}")
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        gain = 100 * (r["rank1"] - pv["logging"]) / (pv["oracle"] - pv["logging"])
        dr = r.get("dr")
        drs = f"{dr[0]:.4f} [{dr[1]:.4f}, {dr[2]:.4f}]" if dr else "-"
        covers = ("yes" if dr[1] <= r["rank1"] <= dr[2] else "no") if dr else "-"
        dm = f"{r['dm']:.4f}" if r.get("dm") is not None else "-"
        print(f"{r['variant']:<34} {r['learner']:<10} {'yes' if r['deployed'] else 'no':>8} {r['rank1']:>11.4f} {r['compact']:>8.4f} "
              f"{'yes' if r['rank1'] >= bar else 'no':>4} {gain:>6.1f} {r['oracle_agreement']:>7.3f} "
              f"{r['max_first_share']:>8.3f} {r['predicted']:>7.4f} {drs:>28} {covers:>9} {dm:>7} "
              f"{r['wall_s']:>7.1f} {r['learn_s']:>7.1f}")
    print()
    print("TRUE rank-1: mean over users of p(u, rank-1 item of recommendations.csv, 1) from truth.json;")
    print("TRUE pi: the compact policy of recommendations.csv as written (listed probabilities + epsilon spread);")
    print("gain %: (TRUE rank-1 - logging) / (oracle - logging); oracle=: share of users whose rank-1 item is the")
    print("oracle's; maxshare: largest share of users given the same rank-1 item; pred.: report predicted_value;")
    print("held-out DR: report policy.learners[].held_out (fold policies' pooled DR, not the deployed policy's);")
    print("DR covers: whether that interval contains the deployed policy's TRUE rank-1 value (they are different")
    print("policies, so this is indicative only); wall s: the whole causa local run; learn s: timings_s.learn.")


def diag(sim, predictions):
    import numpy as np

    t = load_truth(f"{sim}/truth.json")
    P = np.array(t["click_probability_position1"])
    L = np.log(P / (1 - P))
    A = np.array(t["user_latents"]) @ np.array(t["item_latents"]).T
    users_of_row = [int(r["user_id"]) for r in csv.DictReader(open(f"{sim}/impressions.csv", newline=""))]
    price = np.array([float(r["price"]) for r in csv.DictReader(open(f"{sim}/items.csv", newline=""))])
    q = np.loadtxt(predictions, delimiter=",", skiprows=1)
    n_items = P.shape[1]
    if not (q[:n_items, 1] == np.arange(n_items)).all():
        raise SystemExit("expected every catalogue item per row, in item order")
    Q = q[:, 2].reshape(-1, n_items)
    users = np.array([users_of_row[int(i)] for i in q[::n_items, 0]])
    _, first = np.unique(users, return_index=True)
    Qu, U = Q[first], users[first]
    lq = np.log(Qu / (1 - Qu))

    def wc(X, Y):
        X = X - X.mean(1, keepdims=True)
        Y = Y - Y.mean(1, keepdims=True)
        return float(np.mean((X * Y).sum(1) / np.sqrt((X * X).sum(1) * (Y * Y).sum(1))))

    print(json.dumps({
        "users": int(len(U)),
        "corr_model_true_logit": wc(lq, L[U]), "corr_model_true_affinity": wc(lq, A[U]),
        "corr_neg_log_price_true_logit": wc(np.tile(-np.log(price), (len(U), 1)), L[U]),
        "mean_model_q": float(Qu.mean()), "mean_true_p": float(P[U].mean()),
        "true_p_of_model_top_item": float(P[U, Qu.argmax(1)].mean())}))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "value":
        value(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "diag":
        diag(sys.argv[2], sys.argv[3])
    elif len(sys.argv) in (3, 4) and sys.argv[1] == "table":
        table(sys.argv[2], sys.argv[3] if len(sys.argv) == 4 else None)
    else:
        raise SystemExit(__doc__)
