#!/usr/bin/env bash
# A three-host cluster on one machine: network namespaces causa-c (coordinator, 10.77.0.1), causa-w1 and causa-w2
# (one worker each, 10.77.0.2 and .3), joined by a bridge. Submits JOB (default: the shipped OBD logit job) from the
# root namespace through the bridge and writes OUT/report.json. Needs root and iproute2. Cleans up after itself.
#
#   cluster/netns-cluster.sh [JOB.toml] [OUT]
#
# It is the multi-node test on a single machine: every byte between coordinator and workers crosses a veth pair.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
JOB="${1:-config/jobs/obd-logit.toml}"
OUT="${2:-out/netns}"
BIN="${CAUSA_BIN:-.build/release/causa}"
[ -x "$BIN" ] || BIN=.build/debug/causa
[ -x "$BIN" ] || { echo "build causa first (swift build)" >&2; exit 1; }
BIN="$(cd "$(dirname "$BIN")" && pwd)/$(basename "$BIN")"
PORT=5555
NS=(causa-c causa-w1 causa-w2)
ADDR=(10.77.0.1 10.77.0.2 10.77.0.3)
pids=()

cleanup() {
  for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for i in 0 1 2; do ip netns del "${NS[$i]}" 2>/dev/null || true; ip link del "cz-veth$i" 2>/dev/null || true; done
  ip link del causa-br0 2>/dev/null || true
}
trap cleanup EXIT
cleanup

ip link add causa-br0 type bridge
ip addr add 10.77.0.254/24 dev causa-br0
ip link set causa-br0 up
for i in 0 1 2; do
  ip netns add "${NS[$i]}"
  ip link add "cz-veth$i" type veth peer name eth0 netns "${NS[$i]}"
  ip link set "cz-veth$i" master causa-br0 up
  ip -n "${NS[$i]}" addr add "${ADDR[$i]}/24" dev eth0
  ip -n "${NS[$i]}" link set eth0 up
  ip -n "${NS[$i]}" link set lo up
done

ip netns exec causa-c "$BIN" coordinator --bind "tcp://${ADDR[0]}:$PORT" > /tmp/causa-netns-coordinator.log 2>&1 &
pids+=($!)
for i in 1 2; do
  ip netns exec "${NS[$i]}" "$BIN" worker --connect "tcp://${ADDR[0]}:$PORT" --name "host$i" --exit-on-coordinator-loss \
    > "/tmp/causa-netns-worker$i.log" 2>&1 &
  pids+=($!)
done
sleep 1
"$BIN" submit "$JOB" --coordinator "tcp://${ADDR[0]}:$PORT" --out "$OUT" --timeout 300
