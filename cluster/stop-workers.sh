#!/usr/bin/env bash
# Stops the causa workers that launch-workers.sh started on every host of a host list.
#   cluster/stop-workers.sh HOSTS_FILE
set -euo pipefail
hosts="${1:?hosts file}"
grep -v '^\s*#' "$hosts" | while read -r host _; do
  [ -n "${host:-}" ] || continue
  ssh -n "$host" "pkill -f 'causa worker --connect' || true"
  echo "stopped workers on $host"
done
