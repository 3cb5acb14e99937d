#!/usr/bin/env bash
# True value of the learned policies (greedy, gradient, annealing) on `causa simulate` data (run by hand).
#
#   swift build -c release --product causa          # once (scripts/install-deps.sh, scripts/fetch-model.sh first)
#   benchmarks/policy-truth.sh [USERS=4000] [ITEMS=200] [SEED=1]
#
# Simulates USERS x ITEMS (seed SEED), then for each variant (reward-model formula x text encoder) runs
# `causa local --workers $WORKERS` on a logit job with
#   [policy] learners = ["greedy", "gradient", "annealing"], positions = [1], at = { position = 1 }, epsilon = 0,
#   no capacity or budget, [cv] folds = 5, fold_by = "user", select_learner = each learner in turn
# (three runs per variant, so that each learner's recommendations.csv exists). For every run it computes from
# truth.json the TRUE value of the deployed learner's policy (mean over users of p(u, rank-1 item, 1); also the
# compact policy as written) with benchmarks/policy_truth.py, and prints it next to logging, uniform, oracle, the
# bar logging + 50% (oracle - logging), the report's predicted value and the held-out DR estimate with its interval
# (report.json policy.learners[].held_out), and the wall time of the run.
#
# Variants (VARIANTS, space-separated; default all):
#   minilm-full    MiniLM, click ~ C(position) + np.log(price) + affinity + (user_pc1..3):(item_pc1..3)  (sim-text.toml)
#   minilm-small   MiniLM, click ~ C(position) + np.log(price) + affinity
#   hashing-full   hashing encoder, the full formula
#   hashing-small  hashing encoder, the small formula
#   notext         click ~ C(position) + np.log(price)   (the items file only gives the candidates' price)
#   BASE+KNOB=V[,KNOB=V]  one of the above with gradient-learner knobs (step, max_rounds, l2, tolerance) added to
#                  [policy], e.g. minilm-full+l2=0.01: such a variant runs learners = ["gradient"] only (the knobs
#                  do not change greedy or annealing), once.
# Default: the five bases, minilm-full+l2=0.01, minilm-full+l2=0.001 and minilm-full+max_rounds=2000.
#
# For each base variant (DIAG=1, the default; needs numpy) it also prints how well the reward model ranks the items
# of each user against the truth (benchmarks/policy_truth.py diag on a --export-predictions run of the same model).
#
# Environment: CAUSA (default .build/release/causa), WORKERS (2), VARIANTS, DIAG, KEEP_TMP=1 keeps the work folder,
# WORK=DIR uses DIR instead of a temporary folder (kept), CACHE_DIR (default WORK/cache: the first MiniLM run embeds
# cold, later ones read the cache). Results: WORK/results.jsonl, one line per run. Needs python3 (standard library).
# Cost on this 2-core machine: 20-80 s per run (the learn phase dominates: 6 fits x 500 Adam rounds of the gradient
# learner), ~4 min for max_rounds = 2000; ~18 min for the default variants.
set -euo pipefail
USERS=${1:-4000}
ITEMS=${2:-200}
SEED=${3:-1}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
CAUSA=${CAUSA:-$root/.build/release/causa}
WORKERS=${WORKERS:-2}
VARIANTS=${VARIANTS:-"minilm-full minilm-small hashing-full hashing-small notext minilm-full+l2=0.01 minilm-full+l2=0.001 minilm-full+max_rounds=2000"}
helper=$root/benchmarks/policy_truth.py
MODEL_DIR=${MODEL_DIR:-$root/models/all-MiniLM-L6-v2}
if [ ! -x "$CAUSA" ]; then
  echo "error: $CAUSA not found: run 'swift build -c release --product causa' first" >&2
  exit 2
fi
if [[ " $VARIANTS " == *" minilm"* ]] && [ ! -f "$MODEL_DIR/model.safetensors" ]; then
  echo "error: $MODEL_DIR/model.safetensors not found: run scripts/fetch-model.sh first" >&2
  exit 2
fi

if [ -n "${WORK:-}" ]; then
  work=$WORK; mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/policy-truth.XXXXXX")
  if [ "${KEEP_TMP:-0}" = 1 ]; then echo "keeping $work" >&2; else trap 'rm -rf "$work"' EXIT; fi
fi
CACHE_DIR=${CACHE_DIR:-$work/cache}
results=$work/results.jsonl
: > "$results"

FULL='click ~ C(position) + np.log(price) + affinity + (user_pc1 + user_pc2 + user_pc3):(item_pc1 + item_pc2 + item_pc3)'
SMALL='click ~ C(position) + np.log(price) + affinity'
NOTEXT='click ~ C(position) + np.log(price)'

echo "policy-truth: users $USERS, items $ITEMS, seed $SEED, workers $WORKERS; $(date -u '+%Y-%m-%d %H:%M:%S UTC'); load:$(uptime | sed 's/.*load average//')"
echo "causa: $CAUSA ($("$CAUSA" --version 2>/dev/null || echo '?')); work: $work"
t0=$(date +%s.%N)
"$CAUSA" simulate --out "$work/sim" --users "$USERS" --items "$ITEMS" --seed "$SEED" | sed 's/^/  /'
echo "  simulate: $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$t0" "$(date +%s.%N)") s wall"

# write_job FILE ENCODER FORMULA SELECT EXTRA LEARNERS
write_job() {
  cat > "$1" <<TOML
[data]
path = "$work/sim/impressions.csv"
user_key = ["user_id"]
[model]
kind = "logit"
formula = "$3"
[cv]
folds = 5
fold_by = "user"
[cluster]
shards = 16
[text]
encoder = "$2"
components = 16
users_path = "$work/sim/users.csv"
user_text = ["profile"]
items_path = "$work/sim/items.csv"
item_key = "item_id"
item_text = ["description"]
model_dir = "$MODEL_DIR"
cache_dir = "$CACHE_DIR"
[policy]
action = "item_id"
propensity = "propensity"
position = "position"
positions = [1]
learners = $6
at = { position = 1 }
epsilon = 0
select_learner = "$4"
$5
TOML
}

for variant in $VARIANTS; do
  base=${variant%%+*}
  extra=""
  learners="greedy gradient annealing"
  toml_learners='["greedy", "gradient", "annealing"]'
  if [ "$base" != "$variant" ]; then
    extra=$(echo "${variant#*+}" | tr ',' '\n' | sed 's/=/ = /')
    learners=gradient
    toml_learners='["gradient"]'
  fi
  case $base in
    minilm-full) enc=minilm; formula=$FULL ;;
    minilm-small) enc=minilm; formula=$SMALL ;;
    hashing-full) enc=hashing; formula=$FULL ;;
    hashing-small) enc=hashing; formula=$SMALL ;;
    notext) enc=hashing; formula=$NOTEXT ;;
    *) echo "error: unknown variant $variant" >&2; exit 2 ;;
  esac
  for learner in $learners; do
    run=$work/runs/$variant-$learner
    mkdir -p "$run"
    write_job "$run/job.toml" "$enc" "$formula" "$learner" "$extra" "$toml_learners"
    s=$(date +%s.%N)
    if ! "$CAUSA" local --job "$run/job.toml" --workers "$WORKERS" --out "$run/out" > "$run/local.log" 2>&1; then
      echo "$variant/$learner: causa local failed (exit $?):" >&2
      tail -20 "$run/local.log" >&2
      exit 1
    fi
    e=$(date +%s.%N)
    truth=$(python3 "$helper" value "$work/sim/truth.json" "$run/out/recommendations.csv")
    python3 - "$run/out/report.json" "$variant" "$learner" "$s" "$e" "$truth" "$extra" >> "$results" <<'PY'
import json, sys
report, variant, learner, s, e, truth, extra = sys.argv[1:]
r = json.load(open(report))
p = r["policy"]
me = next(l for l in p["learners"] if l["learner"] == learner)
ho = {h["estimator"]: h for h in me["held_out"]}
dr = ho.get("dr")
row = dict(json.loads(truth))
row.update(variant=variant, learner=learner, deployed=p["deployed"] == learner,
           predicted=me["predicted_value"], dr=[dr["estimate"], dr["ci_low"], dr["ci_high"]] if dr else None,
           dm=ho["dm"]["estimate"] if "dm" in ho else None, converged=me.get("converged"),
           iterations=me.get("iterations"), wall_s=float(e) - float(s), learn_s=r["timings_s"]["learn"],
           summarize_s=r["timings_s"]["summarize"], formula=r["model"]["formula"], cv_mse=r["cv"].get("mse"),
           learners=[{k: v for k, v in l.items()} for l in p["learners"]])
print(json.dumps(row))
PY
    tail -1 "$results" | python3 -c "
import json, sys; r = json.loads(sys.stdin.read())
it = f\", gradient {r['iterations']} rounds, converged {r['converged']}\" if r['iterations'] is not None and r['learner'] == 'gradient' else ''
print(f\"{r['variant']:<34} {r['learner']:<10} TRUE {r['rank1']:.4f}  predicted {r['predicted']:.4f}  wall {r['wall_s']:.1f} s (summarize {r['summarize_s']:.1f}, learn {r['learn_s']:.1f}){it}\")"
  done
  # How well this reward model ranks items for each user against the truth (DIAG=1, needs numpy): the same model
  # in a job with evaluate = ["uniform"] and no learners, its --export-predictions read by policy_truth.py diag.
  if [ "${DIAG:-1}" = 1 ] && [ "$base" = "$variant" ] && python3 -c "import numpy" 2> /dev/null; then
    d=$work/runs/$variant-diag
    mkdir -p "$d"
    sed -e '/^learners = /d' -e '/^select_learner/d' -e '/^at = /d' -e 's/^epsilon = 0$/evaluate = ["uniform"]/' \
      "$work/runs/$variant-greedy/job.toml" > "$d/job.toml"
    "$CAUSA" local --job "$d/job.toml" --workers "$WORKERS" --out "$d/out" --export-predictions "$d/predictions.csv" > "$d/local.log" 2>&1 \
      || { echo "$variant/diag: causa local failed:" >&2; tail -5 "$d/local.log" >&2; exit 1; }
    python3 "$helper" diag "$work/sim" "$d/predictions.csv" | python3 -c "
import json, sys; d = json.loads(sys.stdin.read()); v = sys.argv[1]
print(json.dumps(dict(d, variant=v)), file=open(sys.argv[2], 'a'))
print(f\"{v:<34} diag: within-user corr(model logit, true logit) {d['corr_model_true_logit']:.3f}, with true affinity {d['corr_model_true_affinity']:.3f} (-log price alone: {d['corr_neg_log_price_true_logit']:.3f}); mean q over items {d['mean_model_q']:.3f} vs true {d['mean_true_p']:.3f}\")" "$variant" "$work/diag.jsonl"
    rm -f "$d/predictions.csv"
  fi
done

echo
python3 "$helper" table "$results"
# The three runs of a variant differ only in select_learner: their learners' values should be identical.
python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["variant"], []).append(r)
for v, rs in by.items():
    if len(rs) > 1:
        same = all(json.dumps(x["learners"], sort_keys=True) == json.dumps(rs[0]["learners"], sort_keys=True) for x in rs)
        print(f"{v}: policy.learners identical across the {len(rs)} select_learner runs: {same}")
PY
echo "total wall: $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.0f}')" "$t0" "$(date +%s.%N)") s"
