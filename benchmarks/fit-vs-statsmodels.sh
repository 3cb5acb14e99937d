#!/usr/bin/env bash
# One OLS and one logit job, end to end, Causa (`causa local`, 2 workers) against statsmodels (pandas.read_csv,
# patsy, OLS/Logit fit with HC1, and 5-fold CV by row refitting on the other folds), on the OBD random sample
# repeated REPEAT times (default 40: 400,000 rows, 200 MB). Prints wall seconds and the ratio. Run by hand.
#   PYTHON=/path/to/venv/python benchmarks/fit-vs-statsmodels.sh   (needs statsmodels and pandas in that venv)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPEAT=${REPEAT:-40}
PY=${PYTHON:-/tmp/refvenv/bin/python}
[ -x "$PY" ] || { echo "make a venv with statsmodels: python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install statsmodels pandas"; exit 1; }
scripts/fetch-data.sh
swift build -c release --product causa 2>&1 | tail -1
source benchmarks/lib.sh
data="data/bench/obd_x$REPEAT.csv"
make_repeated_obd "$REPEAT" "$data"
formula=$DESIGN_B
tmp=$(mktemp -d)
for kind in ols logit; do
  write_job "$kind" "$data" "$tmp/job.toml"
  t0=$(date +%s.%N)
  .build/release/causa local --job "$tmp/job.toml" --workers 2 --out "$tmp/out" > /dev/null
  t1=$(date +%s.%N)
  "$PY" - "$data" "$kind" "$formula" > "$tmp/sm.txt" <<'PYEOF'
import sys, numpy as np, pandas as pd, patsy, statsmodels.api as sm
path, kind, formula = sys.argv[1:4]
d = pd.read_csv(path)
y, X = patsy.dmatrices(formula, d, return_type="dataframe")
y = y.iloc[:, 0].to_numpy(); Xn = X.to_numpy()
fit = (lambda yy, xx: sm.OLS(yy, xx).fit(cov_type="HC1")) if kind == "ols" else (lambda yy, xx: sm.Logit(yy, xx).fit(disp=0, cov_type="HC1"))
full = fit(y, Xn)
fold = np.arange(len(y)) % 5; sse = 0.0
for k in range(5):
    tr, te = fold != k, fold == k
    r = fit(y[tr], Xn[tr]); sse += ((y[te] - r.predict(Xn[te])) ** 2).sum()
print(full.params[1], sse / len(y))
PYEOF
  t2=$(date +%s.%N)
  python3 - "$tmp/out/report.json" "$kind" "$t0" "$t1" "$t2" "$(cat "$tmp/sm.txt")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); kind = sys.argv[2]; t0, t1, t2 = map(float, sys.argv[3:6]); sm = sys.argv[6].split()
causa, stm = t1 - t0, t2 - t1
print(f"{kind:5s} rows={r['data']['rows']}  causa {causa:6.2f} s  statsmodels {stm:6.2f} s  ratio {stm/causa:4.2f}x  "
      f"(coef[1] {r['model']['coefficients'][1]['estimate']:.10g} vs {float(sm[0]):.10g}; cv mse {r['cv']['mse']:.10g} vs {float(sm[1]):.10g})")
PY
done
