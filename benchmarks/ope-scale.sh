#!/usr/bin/env bash
# Off-policy evaluation at 1,000,000 logged rows: time, rows/s and bytes on the wire (run by hand).
#
#   swift build -c release --product causa          # once, on a fresh clone (scripts/install-deps.sh first)
#   benchmarks/ope-scale.sh [USERS=50000] [ITEMS=200] [REPEATS=2]
#
# Simulates `causa simulate --users USERS --items ITEMS --seed 1` (20 impressions per user: 1,000,000 rows with the
# defaults; U·I = 10,000,000 is the simulator's limit; truth.json is ~300 MB), writes the per-user oracle policy
# (USERS rows) from truth.json's oracle_items, and runs `causa local` with 1 and 2 workers, REPEATS times each, on
# three jobs that differ only in [policy]:
#   base       no [policy]                                       (the fit alone)
#   ope-cf     [policy] evaluate = logging, uniform              (context-free policies only)
#   ope-user   [policy] evaluate = logging, uniform, oracle.csv  (plus a per-user policy file, USERS rows)
# Each job: logit click ~ C(position) + np.log(price) + C(category), shards = 16, hashing text of items.csv (the
# catalogue), no [cv] (so DM/DR use the in-sample fit; CV=1 adds [cv] folds = 5 by user), positions = [1],
# estimators ipw, snips, dm, dr, switch_dr.
# One line per run: off_policy phase seconds (timings_s.off_policy), rows valued (position 1), OPE rows/s as
# rows_valued / off_policy and as total rows / off_policy, total job seconds (timings_s.total), network bytes sent
# and received by the coordinator, the row stream, and `uptime`'s load averages just before the run with the
# number of runnable tasks at that moment (/proc/loadavg, read by a shell builtin: 1 is this script). The load
# averages decay slowly, so they include the previous run of this script; anything else running shows in both.
# Under each line, the run's full timings_s; at the end, per job the 1- and 2-worker off_policy seconds with their
# ratio (of the fastest runs and of the medians) and the bytes [policy] and the per-user file add. The bytes are
# exact and repeatable; the seconds are not on a shared machine (another process on one of 2 cores takes the
# 2-worker speed-up away), so compare the fastest runs and read the load column.
# Environment: CAUSA (default .build/release/causa), KEEP_TMP=1 keeps the data and reports, CV=1.
set -euo pipefail
USERS=${1:-50000}
ITEMS=${2:-200}
REPEATS=${3:-2}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
CAUSA=${CAUSA:-$root/.build/release/causa}
helper=$root/benchmarks/ope_bench.py
if [ ! -x "$CAUSA" ]; then
  echo "error: $CAUSA not found: run 'swift build -c release --product causa' first" >&2
  exit 2
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ope-scale.XXXXXX")
if [ "${KEEP_TMP:-0}" = 1 ]; then
  echo "keeping $tmp" >&2
else
  trap 'rm -rf "$tmp"' EXIT
fi

echo "ope-scale: users $USERS, items $ITEMS, repeats $REPEATS, cv ${CV:-0}; $(date -u '+%Y-%m-%d %H:%M:%S UTC'); $(nproc) cores"
t0=$(date +%s%N)
"$CAUSA" simulate --out "$tmp/sim" --users "$USERS" --items "$ITEMS" --seed 1 > /dev/null
t1=$(date +%s%N)
python3 "$helper" oracle "$tmp/sim/truth.json" "$tmp/oracle.csv"
rm -f "$tmp/sim/truth.json"   # not needed any more (hundreds of MB)
rows=$(($(wc -l < "$tmp/sim/impressions.csv") - 1))
echo "simulate: $(( (t1 - t0) / 1000000 )) ms; impressions.csv $rows rows, $(stat -c %s "$tmp/sim/impressions.csv") bytes; oracle.csv $(($(wc -l < "$tmp/oracle.csv") - 1)) rows, $(stat -c %s "$tmp/oracle.csv") bytes"

write_job() { # NAME EVALUATE (empty: no [policy])
  {
    cat <<'TOML'
[data]
path = "sim/impressions.csv"
user_key = ["user_id"]
[model]
kind = "logit"
formula = "click ~ C(position) + np.log(price) + C(category)"
[cluster]
shards = 16
[text]
encoder = "hashing"
items_path = "sim/items.csv"
item_key = "item_id"
item_text = ["description"]
TOML
    if [ "${CV:-0}" = 1 ]; then printf '[cv]\nfolds = 5\nfold_by = "user"\n'; fi
    if [ -n "$2" ]; then
      cat <<TOML
[policy]
action = "item_id"
propensity = "propensity"
position = "position"
positions = [1]
evaluate = $2
estimators = ["ipw", "snips", "dm", "dr", "switch_dr"]
TOML
    fi
  } > "$tmp/$1.toml"
}
write_job base ""
write_job ope-cf '["logging", "uniform"]'
write_job ope-user '["logging", "uniform", "oracle.csv"]'

printf '%-22s %3s %2s %8s %8s %10s %10s %8s %12s %12s %10s   %s\n' job run w ope_s valued valued/s total/s total_s \
  bytes_sent bytes_recv row_stream "load before (1, 5, 15 min); runnable"
for workers in 1 2; do
  for run in $(seq 1 "$REPEATS"); do
    for job in base ope-cf ope-user; do
      read -r _ _ _ runnable _ < /proc/loadavg   # a builtin: no process of ours is counted but this shell
      load="$(uptime | sed 's/.*load average: //'); runnable ${runnable%/*}"
      if ! "$CAUSA" local --job "$tmp/$job.toml" --workers "$workers" --out "$tmp/out-$job-$workers-$run" \
        > "$tmp/log-$job-$workers-$run.txt" 2>&1; then
        echo "$job, $workers workers, run $run: causa local failed:" >&2
        cat "$tmp/log-$job-$workers-$run.txt" >&2
        exit 1
      fi
      python3 "$helper" scale-row "$tmp/out-$job-$workers-$run/report.json" "$job" "$run" "$load" "$rows"
    done
  done
done
echo
python3 "$helper" scale-summary "$tmp"
end=$(date +%s%N)
echo "wall time: $(( (end - t0) / 1000000000 )) s"
