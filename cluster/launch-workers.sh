#!/usr/bin/env bash
# Starts causa workers over ssh on every host of a host list.
#   cluster/launch-workers.sh HOSTS_FILE tcp://COORDINATOR:5555 [REMOTE_CAUSA_PATH]
# Each line of HOSTS_FILE: HOST [PROCESSES]; '#' starts a comment. Workers log to /tmp/causa-worker-N.log on the host.
set -euo pipefail
hosts="${1:?hosts file}"; endpoint="${2:?coordinator endpoint, e.g. tcp://10.0.0.5:5555}"; causa="${3:-causa}"
grep -v '^\s*#' "$hosts" | while read -r host procs _; do
  [ -n "${host:-}" ] || continue
  ssh -n "$host" "n=\${1:-\$(nproc)}; for i in \$(seq 1 \$n); do nohup $causa worker --connect $endpoint --name \$(hostname):\$i > /tmp/causa-worker-\$i.log 2>&1 & done" -- "${procs:-}"
  echo "started workers on $host"
done
