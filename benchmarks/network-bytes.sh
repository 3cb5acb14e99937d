#!/usr/bin/env bash
# Coordinator network bytes per fit at two data sizes (run by hand; figures go to docs/PERFORMANCE.md).
# Makes data/bench/obd_x4.csv (the OBD random sample repeated 4 times, row index renumbered), fits the same
# OLS and logit jobs on 10,000 and 40,000 rows with 2 workers, and prints the row stream and the rest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
scripts/fetch-data.sh
swift build -c release --product causa
source benchmarks/lib.sh
make_repeated_obd 4 data/bench/obd_x4.csv
tmp=$(mktemp -d)
for kind in ols logit; do
  for data in data/obd/random/all/all.csv data/bench/obd_x4.csv; do
    write_job "$kind" "$data" "$tmp/job.toml"
    .build/release/causa local --job "$tmp/job.toml" --workers 2 --out "$tmp/out" > /dev/null
    python3 - "$tmp/out/report.json" "$kind" "$data" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); n = r["network"]
print(f'{sys.argv[2]:5s} rows={r["data"]["rows"]:6d} sent={n["bytes_sent"]:9d} (row stream {n["row_stream_bytes"]:9d}, other {n["bytes_sent"]-n["row_stream_bytes"]:7d}) '
      f'received={n["bytes_received"]:8d} rounds_s={r["timings_s"]["total"]:.2f}')
PY
  done
done
