#!/usr/bin/env python3
"""Tests/Fixtures/reference/results/small_models.json: statsmodels OLS and Logit results (classical, HC0, HC1
covariances, statistics, p-values, 95% intervals, log-likelihood; OLS inference uses t with n − p df under every
covariance, `use_t=True`, as Causa does) on two small data sets written out below, for
Statistics' results types (LinearModelResults, LogitResults).

    python3 -m venv /tmp/venv-sm && /tmp/venv-sm/bin/pip install statsmodels
    /tmp/venv-sm/bin/python Tests/Fixtures/scripts/make_results_reference.py
"""
import json

import numpy as np
import statsmodels
import statsmodels.api as sm

x = np.array([1, 2, 3, 4, 5, 6], dtype=float)
y = np.array([2, 3, 5, 4, 6, 9], dtype=float)
X = sm.add_constant(x)

lx = np.array([0.5, 1.2, -0.3, 2.2, 1.7, -1.1, 0.4, 2.9, -0.6, 1.1, 0.0, 1.9], dtype=float)
lz = np.array([1, 0, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0], dtype=float)
ly = np.array([1, 0, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1], dtype=float)
LX = np.column_stack([np.ones_like(lx), lx, lz])


def block(r):
    ci = np.asarray(r.conf_int(0.05))
    return {"bse": list(map(float, r.bse)), "statistic": list(map(float, r.tvalues)), "pvalues": list(map(float, r.pvalues)),
            "ci_low": list(map(float, ci[:, 0])), "ci_high": list(map(float, ci[:, 1])),
            "cov": np.asarray(r.cov_params()).ravel().tolist()}


ols = sm.OLS(y, X).fit()
logit = sm.Logit(ly, LX).fit(disp=0, tol=1e-14, maxiter=200)
# statsmodels' Logit with cov_type="HC1" applies no n/(n-k) factor (it returns HC0); HC1 is computed here.
hc0 = sm.Logit(ly, LX).fit(disp=0, tol=1e-14, maxiter=200, cov_type="HC0")
n, k = LX.shape
hc1_cov = np.asarray(hc0.cov_params()) * n / (n - k)
hc1_bse = np.sqrt(np.diag(hc1_cov))
out = {
    "generated_with": {"statsmodels": statsmodels.__version__, "numpy": np.__version__,
                       "script": "Tests/Fixtures/scripts/make_results_reference.py"},
    "ols": {"x": x.tolist(), "y": y.tolist(), "params": ols.params.tolist(), "ssr": float(ols.ssr), "llf": float(ols.llf),
            "scale": float(ols.scale), "classical": block(ols), "hc0": block(sm.OLS(y, X).fit(cov_type="HC0", use_t=True)),
            "hc1": block(sm.OLS(y, X).fit(cov_type="HC1", use_t=True))},
    "logit": {"x": lx.tolist(), "z": lz.tolist(), "y": ly.tolist(), "params": logit.params.tolist(), "llf": float(logit.llf),
              "classical": block(logit), "hc0": block(hc0),
              "hc1_cov": hc1_cov.ravel().tolist(), "hc1_bse": hc1_bse.tolist()},
}
with open("Tests/Fixtures/reference/results/small_models.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("written")
