#!/usr/bin/env bash
# Coverage of Causa's off-policy intervals on `causa simulate` data with known truth (run by hand).
#
#   swift build -c release --product causa          # once, on a fresh clone (scripts/install-deps.sh first)
#   benchmarks/ope-coverage.sh [SEEDS=100] [USERS=1000] [ITEMS=50]
#
# For seed s = 1..SEEDS: `causa simulate --users USERS --items ITEMS --seed s` (defaults: 20 impressions per user,
# 3 positions, so 7 position-1 rows per user), an oracle policy file (user_id,item_id,probability: probability 1 for
# truth.json's oracle_items[u]), and `causa local --workers 1` on a logit job with a [policy] table valuing logging,
# uniform and oracle.csv at position 1 with IPW, SNIPS, DM, DR and switch-DR (reward model: the job's logit
# click ~ C(position) + np.log(price) + C(category), cross-fitted over 5 user folds; the items file is the catalogue,
# so the uniform policy spreads over all ITEMS items as truth.json's uniform value does). Each (policy, estimator)
# interval [ci_low, ci_high] is checked against truth.json's policy_values. At the end it prints, per cell: covered
# seeds, coverage, the Clopper-Pearson 95% interval of the coverage (exact binomial, computed with the standard
# library in benchmarks/ope_bench.py: no scipy needed), mean bias (estimate - truth), mean se and the standard
# deviation of estimate - truth over seeds. The logging policy is valued by IPW and SNIPS only (both are the mean
# click of the rows).
#
# Environment: CAUSA (default .build/release/causa), KEEP_TMP=1 keeps the temporary folder (simulated data,
# reports, results.jsonl), RESULTS=FILE copies results.jsonl (one line per seed × policy × estimator) there.
# Needs python3 (standard library only). On a 2-core machine: ~0.9 s per seed with the defaults (100 seeds in
# 1.5 min); USERS=5000 ITEMS=200 takes ~5 s per seed (8 min).
set -euo pipefail
SEEDS=${1:-100}
USERS=${2:-1000}
ITEMS=${3:-50}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
CAUSA=${CAUSA:-$root/.build/release/causa}
helper=$root/benchmarks/ope_bench.py
if [ ! -x "$CAUSA" ]; then
  echo "error: $CAUSA not found: run 'swift build -c release --product causa' first" >&2
  exit 2
fi
python3 "$helper" selftest > /dev/null

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ope-coverage.XXXXXX")
if [ "${KEEP_TMP:-0}" = 1 ]; then
  echo "keeping $tmp" >&2
else
  trap 'rm -rf "$tmp"' EXIT
fi

cat > "$tmp/job.toml" <<'TOML'
[data]
path = "sim/impressions.csv"
user_key = ["user_id"]
[model]
kind = "logit"
formula = "click ~ C(position) + np.log(price) + C(category)"
[cv]
folds = 5
fold_by = "user"
[cluster]
shards = 16
[text]
encoder = "hashing"
items_path = "sim/items.csv"
item_key = "item_id"
item_text = ["description"]
[policy]
action = "item_id"
propensity = "propensity"
position = "position"
positions = [1]
evaluate = ["logging", "uniform", "oracle.csv"]
estimators = ["ipw", "snips", "dm", "dr", "switch_dr"]
TOML

results=$tmp/results.jsonl
: > "$results"
echo "ope-coverage: seeds 1..$SEEDS, users $USERS, items $ITEMS; $(date -u '+%Y-%m-%d %H:%M:%S UTC'); load:$(uptime | sed 's/.*load average//')"
start=$(date +%s%N)
for seed in $(seq 1 "$SEEDS"); do
  rm -rf "$tmp/sim" "$tmp/out"
  "$CAUSA" simulate --out "$tmp/sim" --users "$USERS" --items "$ITEMS" --seed "$seed" > /dev/null
  python3 "$helper" oracle "$tmp/sim/truth.json" "$tmp/oracle.csv"
  t0=$(date +%s%N)
  if ! "$CAUSA" local --job "$tmp/job.toml" --workers 1 --out "$tmp/out" > "$tmp/local.log" 2>&1; then
    echo "seed $seed: causa local failed:" >&2
    cat "$tmp/local.log" >&2
    exit 1
  fi
  t1=$(date +%s%N)
  python3 "$helper" record "$tmp/out/report.json" "$tmp/sim/truth.json" "$seed" "$(( (t1 - t0) / 1000000 ))e-3" >> "$results"
  if [ "${KEEP_TMP:-0}" = 1 ]; then
    mkdir -p "$tmp/reports"
    cp "$tmp/out/report.json" "$tmp/reports/report-$seed.json"
  fi
  if [ $((seed % 10)) = 0 ]; then echo "  seed $seed done ($(( ($(date +%s%N) - start) / 1000000000 )) s)" >&2; fi
done
end=$(date +%s%N)
echo
python3 "$helper" summary "$results"
echo "wall time: $(( (end - start) / 1000000000 )) s for $SEEDS seeds (simulate + oracle file + causa local + checks)"
if [ -n "${RESULTS:-}" ]; then cp "$results" "$RESULTS"; fi
