#!/usr/bin/env python3
"""Generate Causa's test fixtures and statsmodels/patsy reference values.

Run from anywhere; all paths are relative to the repository root (two levels up from this file's folder).
Needs a throwaway environment with statsmodels, pandas and patsy (never needed by the product):

    python3 -m venv /tmp/refvenv && /tmp/refvenv/bin/pip install statsmodels pandas patsy
    scripts/fetch-data.sh                      # provides data/obd/random/all/all.csv
    /tmp/refvenv/bin/python Tests/Fixtures/scripts/make_reference.py [--source PATH] [--check-shared PATH]

Writes:
    Tests/Fixtures/obd/random_10k.csv, random_300.csv, README.md
    Tests/Fixtures/reference/obd_models.json
    Tests/Fixtures/toy/toy.csv
    Tests/Fixtures/reference/patsy_names.json
"""
import argparse
import csv
import hashlib
import io
import json
import os
import platform
import sys
import warnings

import numpy as np
import pandas as pd
import patsy
import scipy
import statsmodels
import statsmodels.api as sm
import statsmodels.formula.api as smf

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
os.chdir(ROOT)

FIX = "Tests/Fixtures"
OBD_DIR = f"{FIX}/obd"
REF_DIR = f"{FIX}/reference"
TOY_DIR = f"{FIX}/toy"

SOURCE_SHA256 = "7168295b6e0a9eabcf3392320a5dd434e542b68e705d5cd9491499af589812f1"
KEEP = ["", "item_id", "position", "click", "propensity_score",
        "user_feature_0", "user_feature_1", "user_feature_2", "user_feature_3",
        "user-item_affinity_5", "user-item_affinity_29", "user-item_affinity_52", "user-item_affinity_69"]

ITEMS = [6, 18, 36, 44, 49, 53, 57, 58]
ITEM_TERMS = " + ".join(f"I(item_id == {j})" for j in ITEMS)
UF0 = "cef3390ed299c09874189c387777674a"
MODELS = [
    ("ols_B", "ols", f'click ~ C(position) + I(user_feature_0 == "{UF0}") + {ITEM_TERMS}'),
    ("logit_B", "logit", f'click ~ C(position) + I(user_feature_0 == "{UF0}") + {ITEM_TERMS}'),
    ("ols_A", "ols", f"click ~ C(position) + C(user_feature_0) + {ITEM_TERMS}"),
    ("ols_numeric", "ols", 'click ~ position + item_id + Q("user-item_affinity_69")'),
    ("logit_numeric", "logit", 'click ~ position + item_id + Q("user-item_affinity_69")'),
    ("ols_interact", "ols", 'click ~ C(position) * item_id + position:Q("user-item_affinity_5")'),
    ("logit_interact", "logit", 'click ~ C(position) * item_id + position:Q("user-item_affinity_5")'),
    ("ols_noint", "ols", "click ~ C(position) + item_id - 1"),
    ("logit_noint", "logit", "click ~ C(position) + item_id - 1"),
    ("ols_catnum", "ols", "click ~ C(position):item_id"),
    ("ols_items", "ols", "click ~ C(item_id) + C(user_feature_1)"),
]
DROP_NOTES = {
    "logit_numeric": "no finite MLE: user-item_affinity_69 is > 0 in 48 rows and none of them is clicked "
                     "(quasi-complete separation), so its coefficient diverges to -inf; statsmodels newton "
                     "does not converge in 100 iterations",
}
LOGIT_FIT = dict(method="newton", maxiter=100, tol=1e-12, disp=0)

MASK64 = (1 << 64) - 1


def sha256(path):
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def fl(v):
    return [float(x) for x in np.asarray(v, dtype=float).ravel()]


# ---------------------------------------------------------------- user-key hash and folds
def fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001B3) & MASK64
    return h


def splitmix64(z: int) -> int:
    z = (z + 0x9E3779B97F4A7C15) & MASK64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
    return z ^ (z >> 31)


def user_hash(vals):
    return fnv1a64(b"\x1f".join(v.encode("utf-8") for v in vals))


# ---------------------------------------------------------------- 1. data cuts
def write_cuts(source):
    got = sha256(source)
    if got != SOURCE_SHA256:
        sys.exit(f"source {source} sha256 {got} != expected {SOURCE_SHA256}")
    with open(source, newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    idx = [header.index(c) for c in KEEP]
    assert len(body) == 10000
    os.makedirs(OBD_DIR, exist_ok=True)

    def dump(path, data):
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(KEEP)
        for r in data:
            w.writerow([r[i] for i in idx])
        with open(path, "w", newline="", encoding="utf-8") as fh:
            fh.write(buf.getvalue())

    dump(f"{OBD_DIR}/random_10k.csv", body)
    dump(f"{OBD_DIR}/random_300.csv", body[:300])

    # Byte-faithfulness check: every kept field appears verbatim in the source line.
    src_lines = open(source, encoding="utf-8", newline="").read().split("\n")
    cut_lines = open(f"{OBD_DIR}/random_10k.csv", encoding="utf-8", newline="").read().split("\n")
    for s, c in zip(src_lines[1:10001], cut_lines[1:10001]):
        sf, cf = s.split(","), c.split(",")
        assert cf == [sf[i] for i in idx], (s, c)

    h10k, h300 = sha256(f"{OBD_DIR}/random_10k.csv"), sha256(f"{OBD_DIR}/random_300.csv")
    readme = f"""# Open Bandit Dataset cuts

Small, column-reduced cuts of the Open Bandit Dataset (OBD) sample log `random/all/all.csv`.

* **Source:** Open Bandit Dataset, ZOZOTOWN (Japanese fashion e-commerce). Yuta Saito, Shunsuke Aihara,
  Megumi Matsutani & Yusuke Narita, "Open Bandit Dataset and Pipeline: Towards Realistic and Reproducible
  Off-Policy Evaluation", NeurIPS 2021 Datasets and Benchmarks Track. The small sample shipped inside the
  PyPI package `obp==0.4.1`, file `obp/dataset/obd/random/all/all.csv`
  (sha256 `{SOURCE_SHA256}`; `scripts/fetch-data.sh` downloads it to `data/obd/`).
* **Licence:** CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/), as stated by the dataset's authors.
  These files are adaptations (columns removed, rows truncated); no field was changed.
* **Log:** each row is one impression logged by a uniform random policy: the item shown (`item_id`, 0-79),
  its position (1-3), whether it was clicked (`click`), the logging propensity, four hashed categorical user
  features (there is no user id; the four features together act as a user key) and some user-item affinities.

## What was cut

Columns kept, in this order: the unnamed first column (row index; header cell empty, as in the source),
`item_id`, `position`, `click`, `propensity_score`, `user_feature_0`, `user_feature_1`, `user_feature_2`,
`user_feature_3`, `user-item_affinity_5`, `user-item_affinity_29`, `user-item_affinity_52`,
`user-item_affinity_69`. Dropped: `timestamp` and the other 76 `user-item_affinity_*` columns.
Field text is copied byte for byte (no number reformatting); LF line endings; no quoting (none needed).

| file | rows | sha256 |
|---|---|---|
| `random_10k.csv` | all 10,000 data rows | `{h10k}` |
| `random_300.csv` | first 300 data rows | `{h300}` |

Generated by `Tests/Fixtures/scripts/make_reference.py`.
"""
    with open(f"{OBD_DIR}/README.md", "w", encoding="utf-8") as fh:
        fh.write(readme)
    return h10k


# ---------------------------------------------------------------- 2. model references
def load_obd():
    return pd.read_csv(f"{OBD_DIR}/random_10k.csv",
                       dtype={f"user_feature_{i}": str for i in range(4)})


def fit_logit_matrix(y, X):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        r = sm.Logit(y, X).fit(**LOGIT_FIT)
    return r, [str(x.message) for x in w]


def cv_block(kind, y, X, fold, fold_by):
    n = len(y)
    sizes, sses, conv, iters = [], [], [], []
    for f in range(5):
        te = fold == f
        tr = ~te
        if kind == "ols":
            b = sm.OLS(y[tr], X[tr]).fit().params
            pred = X[te] @ b
        else:
            r, wmsg = fit_logit_matrix(y[tr], X[tr])
            conv.append(bool(r.mle_retvals["converged"]) and not wmsg)
            iters.append(int(r.mle_retvals["iterations"]))
            pred = 1.0 / (1.0 + np.exp(-(X[te] @ r.params)))
        e = y[te] - pred
        sizes.append(int(te.sum()))
        sses.append(float(e @ e))
    out = {"fold_by": fold_by, "folds": 5, "fold_sizes": sizes, "fold_sse": sses,
           "fold_mse": [s / m for s, m in zip(sses, sizes)], "mse": sum(sses) / n}
    if kind == "logit":
        out["fold_converged"] = conv
        out["fold_iterations"] = iters
    return out


def fit_model(mid, kind, formula, d, folds):
    n = len(d)
    if kind == "ols":
        m = smf.ols(formula, data=d)
        r = m.fit()
        r0 = m.fit(cov_type="HC0")
        r1 = m.fit(cov_type="HC1")
        wmsg = []
    else:
        m = smf.logit(formula, data=d)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            r = m.fit(**LOGIT_FIT)
            r0 = m.fit(cov_type="HC0", **LOGIT_FIT)
        wmsg = [str(x.message) for x in w]
        r1 = None
    k = int(m.exog.shape[1])
    X = np.asarray(m.exog, dtype=float)
    y = np.asarray(m.endog, dtype=float)
    hc0_cov = np.asarray(r0.cov_params(), dtype=float)
    se_hc1 = np.sqrt(np.diag(n / (n - k) * hc0_cov))
    if r1 is not None:
        assert np.allclose(se_hc1, r1.bse, rtol=1e-12, atol=0)
    ci = np.asarray(r.conf_int(alpha=0.05), dtype=float)
    obj = {"id": mid, "kind": kind, "formula": formula, "n": n, "k": k,
           "names": list(m.exog_names),
           "coef": fl(r.params), "se": fl(r.bse), "se_hc0": fl(r0.bse), "se_hc1": fl(se_hc1),
           "statistic": fl(r.tvalues), "p_value": fl(r.pvalues),
           "ci_low": fl(ci[:, 0]), "ci_high": fl(ci[:, 1]), "loglik": float(r.llf)}
    if kind == "ols":
        rss = float(r.ssr)
        obj.update({"rss": rss, "sigma2_mle": rss / n, "sigma2": rss / (n - k)})
    else:
        conv = bool(r.mle_retvals["converged"])
        obj.update({"iterations": int(r.mle_retvals["iterations"]), "converged": conv})
        if not conv or wmsg:
            return None, {"id": mid, "kind": kind, "formula": formula, "converged": conv,
                          "iterations": int(r.mle_retvals["iterations"]), "warnings": sorted(set(wmsg)),
                          "names": list(m.exog_names), "coef_at_stop": fl(r.params),
                          "loglik_at_stop": float(r.llf), "note": DROP_NOTES.get(mid, "")}
    # Same column set across folds: subset the full design matrix.
    obj["cv"] = [cv_block(kind, y, X, folds[fb], fb) for fb in ("row", "user")]
    return obj, None


def compare_shared(models, shared_path):
    ref = json.load(open(shared_path))
    report = {}
    pairs = [("ols_B", ref["ols"]["B"]), ("ols_A", ref["ols"]["A"]), ("logit_B", ref["logit"]["B"])]
    for mid, rb in pairs:
        mo = models.get(mid)
        if mo is None:
            report[mid] = "missing"
            continue
        res = {}
        for mine, theirs in (("coef", "coef"), ("se", "se_classical"), ("se_hc0", "se_HC0"), ("se_hc1", "se_HC1")):
            a, b = np.array(mo[mine]), np.array(rb[theirs])
            res[mine] = float(np.max(np.abs(a - b) / np.abs(b)))
        if mo["kind"] == "ols":
            res["rss"] = abs(mo["rss"] - rb["rss"]) / rb["rss"]
            res["cv_row_mse"] = abs(mo["cv"][0]["mse"] - rb["cv5"]["cv_mse_pooled"]) / rb["cv5"]["cv_mse_pooled"]
            res["cv_row_fold_sse"] = float(np.max(np.abs(np.array(mo["cv"][0]["fold_sse"]) - rb["cv5"]["fold_sse"])
                                                  / np.array(rb["cv5"]["fold_sse"])))
            res["loglik"] = abs(mo["loglik"] - rb["loglik_gaussian_at_sigma2_mle"]) / abs(rb["loglik_gaussian_at_sigma2_mle"])
        else:
            res["loglik"] = abs(mo["loglik"] - rb["loglik"]) / abs(rb["loglik"])
        res["match_1e-8"] = all(v <= 1e-8 for v in res.values())
        report[mid] = res
    return report


def make_models(data_sha):
    d = load_obd()
    n = len(d)
    ukeys = d[[f"user_feature_{i}" for i in range(4)]].astype(str).to_numpy()
    hashes = [user_hash(list(r)) for r in ukeys]
    folds = {"row": np.arange(n) % 5,
             "user": np.array([splitmix64(h) % 5 for h in hashes])}
    models, dropped = {}, []
    for mid, kind, formula in MODELS:
        obj, drop = fit_model(mid, kind, formula, d, folds)
        if obj is None:
            dropped.append(drop)
            print(f"DROPPED {mid}: {drop}", file=sys.stderr)
        else:
            models[mid] = obj
    out = {
        "description": "statsmodels (formula API, patsy) reference fits on the OBD random/all cut; outcome click",
        "data": "obd/random_10k.csv",
        "data_sha256": data_sha,
        "generated_with": {"python": platform.python_version(), "statsmodels": statsmodels.__version__,
                           "patsy": patsy.__version__, "pandas": pd.__version__, "numpy": np.__version__,
                           "scipy": scipy.__version__},
        "conventions": {
            "read": "pandas.read_csv with user_feature_0..3 as str; other columns inferred (item_id, position, click int64)",
            "se": "classical: OLS sqrt(diag(sigma2 (X'X)^-1)); logit sqrt(diag((X'WX)^-1))",
            "se_hc0": "statsmodels cov_type='HC0'",
            "se_hc1": "sqrt(diag(n/(n-k) * HC0 cov)), computed explicitly (statsmodels Logit cov_type='HC1' returns HC0)",
            "statistic": "t for OLS, z for logit; p_value two-sided from t(n-k) for OLS, normal for logit",
            "ci": "95% statsmodels conf_int: t(n-k) for OLS, normal for logit",
            "loglik": "OLS: Gaussian log-likelihood at sigma2_mle; logit: Bernoulli log-likelihood",
            "logit_fit": "statsmodels Logit.fit(method='newton', maxiter=100, tol=1e-12), start at zeros; "
                         "iterations as reported in mle_retvals",
            "cv": "row i (0-based data-row position) is in test fold f(i); the full patsy design matrix is built once "
                  "on all rows and the same kind of model is refitted (sm.OLS / sm.Logit, same fit options) on the rows "
                  "of the other folds; prediction OLS x'b, logit probability; sse = sum (y - pred)^2; mse = sum(sse)/n",
            "fold_by_row": "f(i) = i mod 5",
            "fold_by_user": "h = FNV-1a 64 (offset 0xcbf29ce484222325, prime 0x100000001b3) over UTF-8 bytes of "
                            "user_feature_0..3 joined by byte 0x1F; f = splitmix64(h) mod 5",
            "fold_converged": "logit only: whether each training-fold fit converged without statsmodels warnings. "
                              "A false entry means the training rows are (quasi-)separated (e.g. an item dummy or "
                              "position:affinity column whose only clicks fall in the test fold), so no finite MLE "
                              "exists; its fold_sse is statsmodels' value after 100 newton iterations (the diverging "
                              "predictions are already ~0) and should be compared loosely or not at all",
        },
        "user_hash_examples": [
            {"row": i, "user_features": list(ukeys[i]), "h": str(hashes[i]), "h_hex": f"{hashes[i]:016x}",
             "splitmix64": str(splitmix64(hashes[i])), "fold": int(folds["user"][i])}
            for i in range(5)],
        "user_fold_sizes": [int((folds["user"] == f).sum()) for f in range(5)],
        "dropped_models": dropped,
        "models": list(models.values()),
    }
    os.makedirs(REF_DIR, exist_ok=True)
    with open(f"{REF_DIR}/obd_models.json", "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    return models


# ---------------------------------------------------------------- 3. patsy names on a toy table
TOY_FORMULAS = [
    "y ~ a", "y ~ C(b)", "y ~ b", "y ~ a + b", "y ~ a:b", "y ~ a*g", "y ~ a:g", "y ~ a + a:g", "y ~ x:a",
    "y ~ a:x", "y ~ x + a:x", "y ~ x*a", "y ~ C(b):x + x", "y ~ a - 1", "y ~ a + g - 1", "y ~ 0 + a:g",
    "y ~ x:z + x + z", "y ~ (a + x):g", "y ~ a*g*x", "y ~ I(x ** 2) + I(b == 2)", "y ~ I(x*z) + I(b+1)",
    "y ~ x + a:g + a", "y ~ g:a + a", "y ~ C(b, Treatment(reference=2))", "y ~ np.log(z) + x",
    "y ~ a + x - 1 + g",
    # extra tricky ones
    "y ~ 1", "y ~ x - 1", "y ~ g + a:g", "y ~ a:g:x", "y ~ a + g + a:g:x", "y ~ (a + g)**2", "y ~ (a + g + x)**2",
    "y ~ C(a, Treatment('mid'))", "y ~ C(a, Treatment(reference='mid')) + x", "y ~ C(b) + C(b):x",
    "y ~ C(g):C(b)", "y ~ a:b:g", "y ~ x + z + x:z - 1", "y ~ I(x - z) + I(b > 1)", "y ~ a/x", "y ~ g/a",
    "y ~ C(b):a", "y ~ b:a", "y ~ a + C(b)", "y ~ z:x", "y ~ x*z", "y ~ a:g + g", "y ~ -1 + a",
    "y ~ g*x + a", "y ~ a*b", "y ~ C(g) + C(a)", "y ~ I(g == 'x') + x",
]
TOY_ROWS_FOR = ["y ~ a*g*x", "y ~ C(b, Treatment(reference=2))", "y ~ x + a:g + a", "y ~ np.log(z) + x",
                "y ~ C(b):x + x"]


def make_toy():
    rng = np.random.default_rng(20240607)
    n = 40
    a_levels, g_levels = ["lo", "mid", "hi"], ["x", "y"]
    a = [a_levels[int(i)] for i in rng.integers(0, 3, n)]
    b = [int(v) for v in rng.integers(1, 4, n)]
    g = [g_levels[int(i)] for i in rng.integers(0, 2, n)]
    # every a x g x b cell combination of pairs must occur, so no design below is degenerate by accident
    assert len(set(zip(a, g))) == 6 and len(set(zip(a, b))) == 9 and len(set(zip(g, b))) == 6
    x = np.round(rng.normal(0.0, 1.0, n), 4)
    z = np.round(rng.uniform(0.5, 3.0, n), 4)
    amap = {"lo": -0.5, "mid": 0.0, "hi": 0.7}
    y = np.round(1.0 + 0.5 * x - 0.3 * z + np.array([amap[v] for v in a]) + 0.2 * np.array(b)
                 + np.where(np.array(g) == "y", 0.4, 0.0) + rng.normal(0.0, 0.5, n), 4)
    os.makedirs(TOY_DIR, exist_ok=True)
    with open(f"{TOY_DIR}/toy.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["y", "a", "b", "g", "x", "z"])
        for i in range(n):
            w.writerow([f"{y[i]:.4f}", a[i], b[i], g[i], f"{x[i]:.4f}", f"{z[i]:.4f}"])

    t = pd.read_csv(f"{TOY_DIR}/toy.csv", dtype={"a": str, "g": str})
    assert str(t["b"].dtype) == "int64"
    cases = []
    for f in TOY_FORMULAS:
        try:
            _, X = patsy.dmatrices(f, t, eval_env=0, return_type="matrix")
        except Exception as e:  # record failures too
            cases.append({"formula": f, "error": f"{type(e).__name__}: {e}"})
            continue
        case = {"formula": f, "names": list(X.design_info.column_names)}
        if f in TOY_ROWS_FOR:
            case["rows"] = [[float(v) for v in row] for row in np.asarray(X)[:5]]
        cases.append(case)
    out = {"description": "patsy.dmatrices design_info.column_names on a toy table (pandas-read: a, g str; b int64; "
                          "x, y, z float64); 'rows' = first 5 design-matrix rows where given",
           "data": "toy/toy.csv", "data_sha256": sha256(f"{TOY_DIR}/toy.csv"),
           "generated_with": {"python": platform.python_version(), "patsy": patsy.__version__,
                              "pandas": pd.__version__, "numpy": np.__version__},
           "cases": cases}
    with open(f"{REF_DIR}/patsy_names.json", "w", encoding="utf-8") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")
    return cases


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--source", default="data/obd/random/all/all.csv",
                    help="OBD random/all/all.csv (default: data/obd/random/all/all.csv from scripts/fetch-data.sh)")
    ap.add_argument("--check-shared", default=None,
                    help="optional path to an independent obd_random_ols_logit.json to compare ols_A/ols_B/logit_B with")
    args = ap.parse_args()
    h = write_cuts(args.source)
    models = make_models(h)
    if args.check_shared:
        print(json.dumps(compare_shared(models, args.check_shared), indent=1))
    cases = make_toy()
    for c in cases:
        print(c["formula"], "->", c.get("names", c.get("error")))


if __name__ == "__main__":
    main()
