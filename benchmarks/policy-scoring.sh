#!/usr/bin/env bash
# Scoring throughput of the policy learner (users x items scores and top-k) with 1 and 2 workers, against numpy in
# the same run (run by hand).
#
#   swift build -c release --product causa          # once
#   benchmarks/policy-scoring.sh [USERS=50000] [ITEMS=200] [REPEATS=2]
#
# Simulates USERS x ITEMS (seed 1; the simulator caps USERS*ITEMS at 10,000,000) and runs
# `causa local --workers W` (W = 1, 2; REPEATS times each) on a logit job with the hashing encoder and
#   click ~ C(position) + np.log(price) + affinity + (user_pc1 + .. + user_pc4):(item_pc1 + .. + item_pc4)
# (21 design columns), [policy] learners = ["greedy"], top_k 3, epsilon 0, no capacity or budget, and no [cv]
# (FOLDS=k adds [cv] folds = k: then every user is scored by k + 1 fits). timings_s.learn is the learner's phase:
# each shard fills a design row per (user, candidate) pair and takes x·β through the logit link, keeps the
# users x candidates matrix, then picks each user's top-k; the lists go back to the coordinator. Causa's users/s =
# USERS / learn; scores/s = USERS x ITEMS x fits / learn.
#
# numpy reference, in the same run (benchmarks/policy_scoring_numpy.py): the same number of scores as a dense
# (USERS x P) @ (P x ITEMS) float64 product with P = the job's design width (read from report.json), the logistic
# link, and np.argpartition top-k + a sort of the k, in blocks of 4096 users; with 1 and 2 BLAS threads
# (OPENBLAS_NUM_THREADS / OMP_NUM_THREADS), best of 3.
#
# Environment: CAUSA, KEEP_TMP=1, WORK=DIR, FOLDS (0), PYTHON (python3 with numpy; default python3).
set -euo pipefail
USERS=${1:-50000}
ITEMS=${2:-200}
REPEATS=${3:-2}
FOLDS=${FOLDS:-0}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
CAUSA=${CAUSA:-$root/.build/release/causa}
PYTHON=${PYTHON:-python3}
numpy_bench=$root/benchmarks/policy_scoring_numpy.py
if [ ! -x "$CAUSA" ]; then
  echo "error: $CAUSA not found: run 'swift build -c release --product causa' first" >&2
  exit 2
fi
"$PYTHON" -c "import numpy" || { echo "error: $PYTHON has no numpy (set PYTHON=...)" >&2; exit 2; }

if [ -n "${WORK:-}" ]; then
  work=$WORK; mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/policy-scoring.XXXXXX")
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "keeping $work" >&2; else trap 'rm -rf "$work"' EXIT; fi
fi

echo "policy-scoring: users $USERS, items $ITEMS, repeats $REPEATS, folds $FOLDS; $(date -u '+%Y-%m-%d %H:%M:%S UTC'); load:$(uptime | sed 's/.*load average//')"
s=$(date +%s.%N)
"$CAUSA" simulate --out "$work/sim" --users "$USERS" --items "$ITEMS" --seed 1 --impressions-per-user "${IMPRESSIONS:-20}" | sed 's/^/  /'
rm -f "$work/sim/truth.json"   # 30 bytes per user x item, not needed here
echo "  simulate: $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$s" "$(date +%s.%N)") s"

cv=""
[ "$FOLDS" -gt 0 ] && cv=$'[cv]\nfolds = '"$FOLDS"$'\nfold_by = "user"'
cat > "$work/job.toml" <<TOML
[data]
path = "$work/sim/impressions.csv"
user_key = ["user_id"]
[model]
kind = "logit"
formula = "click ~ C(position) + np.log(price) + affinity + (user_pc1 + user_pc2 + user_pc3 + user_pc4):(item_pc1 + item_pc2 + item_pc3 + item_pc4)"
$cv
[cluster]
shards = 16
[text]
encoder = "hashing"
components = 16
users_path = "$work/sim/users.csv"
user_text = ["profile"]
items_path = "$work/sim/items.csv"
item_key = "item_id"
item_text = ["description"]
cache = false
[policy]
action = "item_id"
propensity = "propensity"
position = "position"
positions = [1]
learners = ["greedy"]
at = { position = 1 }
top_k = 3
epsilon = 0
TOML

results=$work/results.jsonl
: > "$results"
for rep in $(seq 1 "$REPEATS"); do
  for w in 1 2; do
    out=$work/out-w$w-r$rep
    s=$(date +%s.%N)
    /usr/bin/time -f '%e %M' -o "$work/time" "$CAUSA" local --job "$work/job.toml" --workers "$w" --out "$out" > "$work/local.log" 2>&1 \
      || { echo "causa local --workers $w failed:" >&2; tail -20 "$work/local.log" >&2; exit 1; }
    e=$(date +%s.%N)
    python3 - "$out/report.json" "$w" "$rep" "$s" "$e" "$(cat "$work/time")" "$USERS" "$ITEMS" >> "$results" <<'PY'
import json, sys
path, w, rep, s, e, tm, users, items = sys.argv[1:]
r = json.load(open(path))
t = r["timings_s"]
fits = 1 + (r["cv"]["folds"] if r.get("cv") else 0)
p = len(r["model"]["coefficients"])
learn = t["learn"]
print(json.dumps({"workers": int(w), "repeat": int(rep), "wall_s": float(e) - float(s), "peak_rss_kb_main": int(tm.split()[1]),
                  "learn_s": learn, "deploy_s": t.get("deploy"), "off_policy_s": t.get("off_policy"), "total_s": t["total"],
                  "users": r["policy"]["users"], "candidates": r["policy"]["candidates"], "fits": fits, "design_width": p,
                  "users_per_s": r["policy"]["users"] / learn,
                  "scores_per_s": r["policy"]["users"] * r["policy"]["candidates"] * fits / learn}))
PY
    tail -1 "$results" | python3 -c "
import json, sys; r = json.loads(sys.stdin.read())
print(f\"  causa --workers {r['workers']} (run {r['repeat']}): learn {r['learn_s']:.2f} s -> {r['users_per_s']:,.0f} users/s, {r['scores_per_s']:,.0f} scores/s; deploy {r['deploy_s']:.2f} s, off_policy {r['off_policy_s']:.2f} s, total {r['total_s']:.1f} s, wall {r['wall_s']:.1f} s\")"
  done
done
# the outputs must not depend on the worker count
cmp -s "$work/out-w1-r1/recommendations.csv" "$work/out-w2-r1/recommendations.csv" \
  && echo "  recommendations.csv identical for 1 and 2 workers" || echo "  WARNING: recommendations.csv differs between 1 and 2 workers"

width=$(head -1 "$results" | python3 -c "import json, sys; print(json.loads(sys.stdin.read())['design_width'])")
fits=$(head -1 "$results" | python3 -c "import json, sys; print(json.loads(sys.stdin.read())['fits'])")
for threads in 1 2; do
  OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads \
    "$PYTHON" "$numpy_bench" --users "$USERS" --items "$ITEMS" --width "$width" --fits "$fits" --top 3 --threads "$threads" >> "$results"
  tail -1 "$results" | python3 -c "
import json, sys; r = json.loads(sys.stdin.read())
print(f\"  numpy ({r['threads']} BLAS thread(s), {r['blas']}): {r['seconds']:.3f} s (best of {r['repeats']}) -> {r['users_per_s']:,.0f} users/s, {r['scores_per_s']:,.0f} scores/s\")"
done

echo
python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
causa = [r for r in rows if "workers" in r]
npy = {r["threads"]: r for r in rows if "threads" in r}
best = {}
for r in causa:
    if r["workers"] not in best or r["learn_s"] < best[r["workers"]]["learn_s"]:
        best[r["workers"]] = r
r1 = best[1]
print(f"{r1['users']} users x {r1['candidates']} candidates x {r1['fits']} fit(s) = {r1['users'] * r1['candidates'] * r1['fits']:,} scores; design width {r1['design_width']}")
print(f"{'engine':<28} {'seconds':>8} {'users/s':>12} {'scores/s':>14} {'vs numpy 1 thr':>15}")
n1 = npy[1]["users_per_s"]
for w in sorted(best):
    r = best[w]
    print(f"{'causa learn, ' + str(w) + ' worker(s)':<28} {r['learn_s']:>8.2f} {r['users_per_s']:>12,.0f} {r['scores_per_s']:>14,.0f} {r['users_per_s'] / n1:>15.4f}")
for t in sorted(npy):
    r = npy[t]
    print(f"{'numpy, ' + str(t) + ' BLAS thread(s)':<28} {r['seconds']:>8.3f} {r['users_per_s']:>12,.0f} {r['scores_per_s']:>14,.0f} {r['users_per_s'] / n1:>15.4f}")
if 2 in best:
    print(f"causa 2 workers / 1 worker: {best[2]['users_per_s'] / best[1]['users_per_s']:.2f}x")
print(f"causa / numpy (same threads): 1: {best[1]['users_per_s'] / npy[1]['users_per_s']:.4f}"
      + (f", 2: {best[2]['users_per_s'] / npy[2]['users_per_s']:.4f}" if 2 in best and 2 in npy else ""))
print("every run (learn s): " + ", ".join(f"w{r['workers']}#{r['repeat']} {r['learn_s']:.2f}" for r in causa))
print("causa's learn phase also includes the round trip of the lists (top-k per user) to the coordinator; numpy's")
print("time is in-process only (matrices already in memory, no design rows); best of the runs on each side")
PY
