#!/usr/bin/env bash
# Coordinator network bytes per fit at two data sizes (run by hand; figures go to docs/PERFORMANCE.md).
# Makes data/bench/obd_x4.csv (the OBD random sample repeated 4 times, row index renumbered), fits the same
# OLS and logit jobs on 10,000 and 40,000 rows with 2 workers, and prints the row stream and the rest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/install-deps.sh
scripts/fetch-data.sh
swift build -c release --product causa
mkdir -p data/bench
python3 - <<'PY'
import csv
rows = list(csv.reader(open("data/obd/random/all/all.csv")))
with open("data/bench/obd_x4.csv", "w", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(rows[0])
    i = 0
    for _ in range(4):
        for r in rows[1:]:
            w.writerow([str(i)] + r[1:]); i += 1
PY
tmp=$(mktemp -d)
for kind in ols logit; do
  for data in data/obd/random/all/all.csv data/bench/obd_x4.csv; do
    cat > "$tmp/job.toml" <<TOML
[data]
path = "$PWD/$data"
user_key = ["user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3"]
[model]
kind = "$kind"
formula = 'click ~ C(position) + I(user_feature_0 == "cef3390ed299c09874189c387777674a") + I(item_id == 6) + I(item_id == 18) + I(item_id == 36) + I(item_id == 44) + I(item_id == 49) + I(item_id == 53) + I(item_id == 57) + I(item_id == 58)'
[cv]
folds = 5
[cluster]
shards = 64
TOML
    .build/release/causa local --job "$tmp/job.toml" --workers 2 --out "$tmp/out" > /dev/null
    python3 - "$tmp/out/report.json" "$kind" "$data" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); n = r["network"]
print(f'{sys.argv[2]:5s} rows={r["data"]["rows"]:6d} sent={n["bytes_sent"]:9d} (row stream {n["row_stream_bytes"]:9d}, other {n["bytes_sent"]-n["row_stream_bytes"]:7d}) '
      f'received={n["bytes_received"]:8d} rounds_s={r["timings_s"]["total"]:.2f}')
PY
  done
done
