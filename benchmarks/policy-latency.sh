#!/usr/bin/env bash
# Latency and throughput of `causa recommend` against a running coordinator + 2 workers (run by hand).
#
#   swift build -c release --product causa          # once
#   benchmarks/policy-latency.sh [USERS=4000] [ITEMS=200]
#
# Makes a throwaway venv (pyzmq, protobuf, hdrhistogram from PyPI) and the Python protobuf module of
# Sources/Cluster/causa.proto (protoc --python_out), simulates USERS x ITEMS (seed 1), starts
# `causa coordinator --bind tcp://127.0.0.1:*` (its first stdout line names the endpoint) and 2 `causa worker`s,
# submits a policy job (hashing encoder, 5-fold CV logit, learners = ["greedy"], top_k 3, epsilon 0.05), and then
# measures recommend requests with benchmarks/policy_load.py:
#   zmq-seq         1 client, sequential (closed loop), REQUESTS requests, every answer checked against
#                   recommendations.csv
#   zmq-cN          N concurrent client processes (CLIENTS), REQUESTS requests each
#   zmq-unknown     1 client, users the policy does not know (the fallback answer)
#   spawn           `causa --version` alone: process start-up, no network
#   cli-seq         `causa recommend --json` spawned per request, CLI_REQUESTS requests
#   during-job      1 client, sequential, for as long as a second policy job (learners greedy + gradient,
#                   select_learner = "gradient") runs on the same coordinator and workers
#   grad-seq/-c4    after that job: the gradient (softmax) policy deployed, checked against its recommendations.csv
# Latency is exact percentiles from sorted samples (nearest rank), also recorded into an HdrHistogram when the
# hdrhistogram package installed; throughput = answered requests / the slowest client's loop time.
# Without pyzmq (no PyPI), only the cli phases run.
#
# Environment: CAUSA, REQUESTS (per client, 2000), CLIENTS ("2 4 8"), CLI_REQUESTS (100), KEEP_TMP=1, WORK=DIR.
# Every process this script starts is stopped by pid at exit. Traffic goes to 127.0.0.1 only; loops are bounded in
# count (REQUESTS) and time (60 s per client; 300 s for during-job).
set -euo pipefail
USERS=${1:-4000}
ITEMS=${2:-200}
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)
CAUSA=${CAUSA:-$root/.build/release/causa}
REQUESTS=${REQUESTS:-2000}
CLIENTS=${CLIENTS:-"2 4 8"}
CLI_REQUESTS=${CLI_REQUESTS:-100}
load=$root/benchmarks/policy_load.py
if [ ! -x "$CAUSA" ]; then
  echo "error: $CAUSA not found: run 'swift build -c release --product causa' first" >&2
  exit 2
fi

if [ -n "${WORK:-}" ]; then
  work=$WORK; mkdir -p "$work"
else
  work=$(mktemp -d "${TMPDIR:-/tmp}/policy-latency.XXXXXX")
fi
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -z "${WORK:-}" ] && [ "${KEEP_TMP:-0}" != 1 ]; then rm -rf "$work"; else echo "kept $work" >&2; fi
}
trap cleanup EXIT

echo "policy-latency: users $USERS, items $ITEMS; $(date -u '+%Y-%m-%d %H:%M:%S UTC'); load:$(uptime | sed 's/.*load average//')"

# Python side: pyzmq + protobuf (+ hdrhistogram) in a throwaway venv.
py=python3
mode=cli
hdr=""
if python3 -m venv "$work/venv" > /dev/null 2>&1 \
  && "$work/venv/bin/pip" install --quiet --disable-pip-version-check pyzmq protobuf > "$work/pip.log" 2>&1; then
  py=$work/venv/bin/python
  mkdir -p "$work/proto"
  if command -v protoc > /dev/null && protoc -I"$root/Sources/Cluster" --python_out="$work/proto" "$root/Sources/Cluster/causa.proto" \
    && "$py" -c "import sys; sys.path.insert(0, '$work/proto'); import zmq, causa_pb2" 2> "$work/proto.log"; then
    mode=zmq
  else
    echo "note: protoc or the generated module failed ($(cat "$work/proto.log" 2>/dev/null | tail -1)); cli mode only" >&2
  fi
  if "$work/venv/bin/pip" install --quiet --disable-pip-version-check hdrhistogram >> "$work/pip.log" 2>&1; then hdr=--hdr; fi
  echo "python: $("$py" -c 'import zmq, google.protobuf as g; print("pyzmq", zmq.__version__, "libzmq", zmq.zmq_version(), "protobuf", g.__version__)' 2>/dev/null || echo 'no pyzmq'); protoc: $(protoc --version 2>/dev/null || echo none); hdrhistogram: $([ -n "$hdr" ] && echo yes || echo no)"
else
  echo "note: could not make a venv with pyzmq and protobuf (see $work/pip.log); cli mode only" >&2
fi

"$CAUSA" simulate --out "$work/sim" --users "$USERS" --items "$ITEMS" --seed 1 > /dev/null

write_job() {  # FILE LEARNERS SELECT
  cat > "$1" <<TOML
[data]
path = "$work/sim/impressions.csv"
user_key = ["user_id"]
[model]
kind = "logit"
formula = "click ~ C(position) + np.log(price) + affinity + (user_pc1 + user_pc2 + user_pc3):(item_pc1 + item_pc2 + item_pc3)"
[cv]
folds = 5
fold_by = "user"
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
learners = $2
select_learner = "$3"
at = { position = 1 }
top_k = 3
epsilon = 0.05
TOML
}
write_job "$work/greedy.toml" '["greedy"]' greedy
write_job "$work/gradient.toml" '["greedy", "gradient"]' gradient

"$CAUSA" coordinator --bind 'tcp://127.0.0.1:*' > "$work/coordinator.log" 2>&1 &
pids+=($!)
endpoint=""
for _ in $(seq 1 100); do
  endpoint=$(sed -n '1s/^coordinator listening on //p' "$work/coordinator.log")
  [ -n "$endpoint" ] && break
  sleep 0.1
done
[ -n "$endpoint" ] || { echo "error: the coordinator did not print its endpoint:" >&2; cat "$work/coordinator.log" >&2; exit 1; }
echo "coordinator: $endpoint (pid ${pids[0]})"
for i in 1 2; do
  "$CAUSA" worker --connect "$endpoint" --name "bench-w$i" --exit-on-coordinator-loss > "$work/worker$i.log" 2>&1 &
  pids+=($!)
done
echo "workers: pids ${pids[1]} ${pids[2]}"

# Before any policy job: what recommend says.
set +e
msg=$("$CAUSA" recommend --coordinator "$endpoint" --user 0 2>&1); rc=$?
set -e
echo "recommend before any policy job: exit $rc: $msg"

s=$(date +%s.%N)
"$CAUSA" submit "$work/greedy.toml" --coordinator "$endpoint" --out "$work/out-greedy" > "$work/submit-greedy.log" 2>&1
e=$(date +%s.%N)
echo "submit greedy job: $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$s" "$e") s wall; $(python3 -c "
import json, sys; r = json.load(open(sys.argv[1])); t = r['timings_s']
print('learn', round(t['learn'], 2), 's, deploy', round(t['deploy'], 3), 's, deployed', r['policy']['deployed'], 'version', r['policy']['policy_version'])" "$work/out-greedy/report.json")"
echo "sample answer (user 0):"
"$CAUSA" recommend --coordinator "$endpoint" --user 0 | sed 's/^/  /'
"$CAUSA" recommend --coordinator "$endpoint" --user 0 --json | sed 's/^/  /'
grep '^0,' "$work/out-greedy/recommendations.csv" | sed 's/^/  recommendations.csv: /'

results=$work/results.jsonl
: > "$results"
run() { "$py" "$load" --coordinator "$endpoint" --users "$USERS" --proto-dir "$work/proto" --causa "$CAUSA" $hdr "$@" >> "$results"; }

if [ $mode = zmq ]; then
  run --mode zmq --label zmq-seq --clients 1 --requests "$REQUESTS" --check "$work/out-greedy/recommendations.csv"
  for c in $CLIENTS; do
    run --mode zmq --label "zmq-c$c" --clients "$c" --requests "$REQUESTS" --check "$work/out-greedy/recommendations.csv"
  done
  run --mode zmq --label zmq-unknown --clients 1 --requests 500 --unknown-fraction 1
fi
run --mode spawn --label spawn --clients 1 --requests "$CLI_REQUESTS"
run --mode cli --label cli-seq --clients 1 --requests "$CLI_REQUESTS" --check "$work/out-greedy/recommendations.csv"
run --mode cli --label cli-c4 --clients 4 --requests "$((CLI_REQUESTS / 2))"

# A second policy job; requests while it runs (the client stops when the submit returns), then against the gradient
# policy it deploys.
rm -f "$work/submit-done"
s=$(date +%s.%N)
( "$CAUSA" submit "$work/gradient.toml" --coordinator "$endpoint" --out "$work/out-gradient" > "$work/submit-gradient.log" 2>&1
  echo $? > "$work/submit-rc"; date +%s.%N > "$work/submit-done" ) &
submit_pid=$!
pids+=($submit_pid)
if [ $mode = zmq ]; then
  run --mode zmq --label during-job --clients 1 --requests 1000000 --max-seconds 300 --timeout 60 --stop-file "$work/submit-done"
else
  run --mode cli --label during-job --clients 1 --requests 10000 --max-seconds 300 --timeout 60 --stop-file "$work/submit-done"
fi
wait "$submit_pid"
[ "$(cat "$work/submit-rc")" = 0 ] || { echo "error: the gradient job failed:" >&2; cat "$work/submit-gradient.log" >&2; exit 1; }
e=$(cat "$work/submit-done")
echo "submit gradient job (recommend requests all along): $(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$s" "$e") s wall; $(python3 -c "
import json, sys; r = json.load(open(sys.argv[1])); t = r['timings_s']
print('learn', round(t['learn'], 2), 's, deployed', r['policy']['deployed'], 'version', r['policy']['policy_version'])" "$work/out-gradient/report.json")"
if [ $mode = zmq ]; then
  run --mode zmq --label grad-seq --clients 1 --requests "$REQUESTS" --check "$work/out-gradient/recommendations.csv"
  run --mode zmq --label grad-c4 --clients 4 --requests "$REQUESTS" --check "$work/out-gradient/recommendations.csv"
fi

echo
python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print(f"{'phase':<12} {'mode':<5} {'clients':>7} {'answered':>8} {'err':>4} {'mism.':>5} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'p99.9':>8} {'max ms':>8}  hdr p50/p99/max ms")
for r in rows:
    h = r.get("hdr")
    hs = f"{h['p50_ms']:.3f}/{h['p99_ms']:.3f}/{h['max_ms']:.3f}" if h else "-"
    mm = "-" if r["mismatches"] is None else str(r["mismatches"])
    print(f"{r['label']:<12} {r['mode']:<5} {r['clients']:>7} {r['answered']:>8} {r['errors']:>4} {mm:>5} {r['requests_per_s']:>8.0f} "
          f"{r['p50_ms']:>8.3f} {r['p90_ms']:>8.3f} {r['p99_ms']:>8.3f} {r['p999_ms']:>8.3f} {r['max_ms']:>8.3f}  {hs}")
    if r["first_errors"]:
        print("   errors:", "; ".join(r["first_errors"][:2]))
    if len(r.get("policy_versions", {})) > 1:
        print("   answers per policy version:", ", ".join(f"{v} {n}" for v, n in r["policy_versions"].items()))
by = {r["label"]: r for r in rows}
if "spawn" in by and "cli-seq" in by:
    s, c = by["spawn"]["p50_ms"], by["cli-seq"]["p50_ms"]
    z = by.get("zmq-seq", {}).get("p50_ms")
    print(f"\ncli p50 {c:.2f} ms = process start-up (causa --version p50 {s:.2f} ms) + the rest {c - s:.2f} ms"
          + (f"; in-process (zmq) p50 {z:.3f} ms, so the CLI costs {c / z:.0f}x" if z else ""))
print("percentiles: exact, nearest rank over all samples; 'hdr': the same samples in an HdrHistogram (1 us resolution, 3 digits)")
print("mism.: answers whose items differ from recommendations.csv's list for the user (known users)")
PY
