#!/usr/bin/env python3
"""Reference values for the conjugate Bayesian linear model and the incomplete gamma functions (issue 5).

Run from anywhere; paths are relative to the repository root. Needs a throwaway environment (never the product):

    python3 -m venv /tmp/bvenv && /tmp/bvenv/bin/pip install numpy scipy mpmath
    /tmp/bvenv/bin/python Tests/Fixtures/scripts/make_bayes_reference.py

Writes:
    Tests/Fixtures/reference/bayes/nig.json    data rows, priors and posteriors (informative and flat priors)
    Tests/Fixtures/reference/bayes/gamma.json  P(a, x), Q(a, x), their inverses and chi-square quantiles

The posteriors are computed from the rows of X (not from moments), with the textbook form of b_n
(b0 + (y'y + m0'L0 m0 - mn'Ln mn)/2), scipy.stats.t / invgamma for quantiles and moments, and the log marginal
likelihood checked against scipy.stats.multivariate_t (y ~ t_{2a0}(X m0, (b0/a0)(I + X L0^-1 X'))).
The gamma values are mpmath at 50 digits (its gammainc for a <= 1e4, the power series for larger a); the inverses are
mpmath bisection at 50 digits in a bracket around scipy's gammaincinv/gammainccinv.
"""
import json
import os
import platform

import mpmath as mp
import numpy as np
import scipy
from scipy import special, stats

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))
OUT = os.path.join(ROOT, "Tests/Fixtures/reference/bayes")
mp.mp.dps = 50

PROVENANCE = {
    "script": "Tests/Fixtures/scripts/make_bayes_reference.py",
    "python": platform.python_version(),
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "mpmath": mp.__version__,
}


def posterior(X, y, m0, L0, a0, b0, level):
    n, p = X.shape
    Ln = L0 + X.T @ X
    mn = np.linalg.solve(Ln, L0 @ m0 + X.T @ y)
    an = a0 + n / 2
    bn = b0 + 0.5 * (y @ y + m0 @ L0 @ m0 - mn @ Ln @ mn)
    Vn = np.linalg.inv(Ln)
    nu = 2 * an
    scales = np.sqrt(bn / an * np.diag(Vn))
    tq = stats.t.ppf(0.5 + level / 2, nu)
    coefs = []
    for j in range(p):
        marginal = stats.t(nu, loc=mn[j], scale=scales[j])
        coefs.append({
            "mean": float(mn[j]),
            "sd": float(marginal.std()) if nu > 2 else None,
            "scale": float(scales[j]),
            "lower": float(mn[j] - tq * scales[j]),
            "upper": float(mn[j] + tq * scales[j]),
        })
    ig = stats.invgamma(an, scale=bn)
    variance = {
        "mean": float(ig.mean()) if an > 1 else None,
        "sd": float(ig.std()) if an > 2 else None,
        "mode": float(bn / (an + 1)),
        "lower": float(ig.ppf((1 - level) / 2)),
        "upper": float(ig.ppf((1 + level) / 2)),
    }
    log_ml = None
    if a0 > 0 and b0 > 0 and np.all(np.linalg.eigvalsh(L0) > 0):
        _, ld0 = np.linalg.slogdet(L0)
        _, ldn = np.linalg.slogdet(Ln)
        log_ml = (-n / 2 * np.log(2 * np.pi) + 0.5 * (ld0 - ldn) + a0 * np.log(b0) - an * np.log(bn)
                  + special.gammaln(an) - special.gammaln(a0))
        shape = b0 / a0 * (np.eye(n) + X @ np.linalg.solve(L0, X.T))
        check = stats.multivariate_t(loc=X @ m0, shape=shape, df=2 * a0).logpdf(y)
        assert abs(check - log_ml) < 1e-9 * abs(log_ml), (check, log_ml)
        log_ml = float(log_ml)
    return {
        "posterior_mean": mn.tolist(),
        "posterior_precision": Ln.ravel().tolist(),
        "posterior_precision_inverse": Vn.ravel().tolist(),
        "shape": float(an),
        "scale": float(bn),
        "df": float(nu),
        "coefficients": coefs,
        "variance": variance,
        "log_marginal_likelihood": log_ml,
    }


def nig_cases():
    rng = np.random.default_rng(20250505)
    n = 40
    x1 = np.round(rng.normal(2.0, 1.5, n), 6)
    x2 = np.round(rng.uniform(-1, 3, n), 6)
    y = np.round(1.5 + 0.8 * x1 - 0.4 * x2 + rng.normal(0, 0.7, n), 6)
    X = np.column_stack([np.ones(n), x1, x2])
    names = ["Intercept", "x1", "x2"]
    cases = []
    # An informative, correlated prior.
    m0 = np.array([1.0, 0.5, -0.3])
    L0 = np.array([[2.0, 0.3, 0.0], [0.3, 1.0, 0.2], [0.0, 0.2, 0.5]])
    cases.append({"name": "informative", "level": 0.95, "prior": {"mean": m0.tolist(), "precision": L0.ravel().tolist(),
                  "shape": 3.0, "scale": 2.0}, "posterior": posterior(X, y, m0, L0, 3.0, 2.0, 0.95)})
    # A strong isotropic prior centred away from the data, 90% intervals.
    m0 = np.array([0.0, 2.0, 1.0])
    L0 = 25.0 * np.eye(3)
    cases.append({"name": "strong_isotropic_90", "level": 0.90, "prior": {"mean": m0.tolist(),
                  "precision": L0.ravel().tolist(), "shape": 0.5, "scale": 0.25},
                  "posterior": posterior(X, y, m0, L0, 0.5, 0.25, 0.90)})
    # The flat prior: Lambda0 = 0, a0 = -p/2, b0 = 0 (BDA3 14.2); checked against OLS below.
    p = 3
    flat = posterior(X, y, np.zeros(p), np.zeros((p, p)), -p / 2, 0.0, 0.95)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ beta
    s2 = resid @ resid / (n - p)
    se = np.sqrt(s2 * np.diag(np.linalg.inv(X.T @ X)))
    assert np.allclose(flat["posterior_mean"], beta, rtol=1e-12)
    assert np.allclose([c["scale"] for c in flat["coefficients"]], se, rtol=1e-12)
    cases.append({"name": "flat", "level": 0.95, "prior": {"mean": [0.0] * p, "precision": [0.0] * (p * p),
                  "shape": -p / 2, "scale": 0.0}, "posterior": flat,
                  "ols": {"estimates": beta.tolist(), "se": se.tolist(), "ssr": float(resid @ resid)}})
    return {"provenance": PROVENANCE, "names": names, "columns": ["x1", "x2", "y"],
            "rows": np.column_stack([x1, x2, y]).tolist(), "cases": cases}


def mp_lower(a, x):
    a, x = mp.mpf(a), mp.mpf(x)
    if a <= 10**4:
        return mp.gammainc(a, 0, x, regularized=True)
    term, s, ap = mp.mpf(1), mp.mpf(1), a
    while True:
        ap += 1
        term *= x / ap
        s += term
        if term < s * mp.mpf(10) ** -45:
            break
    return mp.exp(a * mp.log(x) - x - mp.loggamma(a + 1)) * s


def mp_upper(a, x):
    if a <= 10**4:
        return mp.gammainc(mp.mpf(a), mp.mpf(x), mp.inf, regularized=True)
    return 1 - mp_lower(a, x)


def root(f, start):
    """The root of an increasing f near scipy's value `start`, by bisection in mpmath (50 digits)."""
    if not start > 1e-300:
        return None
    lo, hi = mp.mpf(start) * (1 - mp.mpf("1e-6")), mp.mpf(start) * (1 + mp.mpf("1e-6"))
    while f(lo) > 0:
        lo /= 2
    while f(hi) < 0:
        hi *= 2
    for _ in range(100):  # bisection: the bracket shrinks to ~1e-36 relative
        mid = (lo + hi) / 2
        if f(mid) < 0:
            lo = mid
        else:
            hi = mid
    return float((lo + hi) / 2)


def gamma_cases():
    values = []
    for a, xs in [(0.001, [1e-5, 0.5, 3.0]), (0.1, [0.01, 1.0, 5.0]), (0.5, [0.1, 2.0, 20.0]), (1.0, [1.0, 40.0]),
                  (2.5, [0.2, 2.0, 9.0]), (10.0, [3.0, 9.0, 30.0]), (100.0, [70.0, 99.0, 120.0, 160.0]),
                  (1e4, [9700.0, 9900.0, 10100.0, 10400.0]), (1e6, [997000.0, 999000.0, 1002000.0, 1004000.0])]:
        for x in xs:
            values.append({"a": a, "x": x, "P": float(mp_lower(a, x)), "Q": float(mp_upper(a, x))})
    inverses = []
    for a in [0.01, 0.1, 0.5, 1.0, 2.5, 10.0, 100.0, 1e4, 1e6]:
        for prob in [1e-10, 0.025, 0.5, 0.975]:
            xl = root(lambda x: mp_lower(a, x) - prob, special.gammaincinv(a, prob))
            xu = root(lambda x: prob - mp_upper(a, x), special.gammainccinv(a, prob))
            if xl is None or xu is None:
                continue  # below the smallest normal double (a = 0.01, p = 1e-10 gives x ~ 1e-1000)
            inverses.append({"a": a, "prob": prob, "inverse_lower": xl, "inverse_upper": xu})
    chi2 = []
    for k in [1.0, 2.0, 5.0, 10.0, 100.0, 1e4]:
        for prob in [0.05, 0.95, 0.999]:
            q = 2 * root(lambda x: mp_lower(k / 2, x) - prob, stats.chi2.ppf(prob, k) / 2)
            assert abs(q - stats.chi2.ppf(prob, k)) < 1e-12 * q, (k, prob)
            chi2.append({"df": k, "p": prob, "quantile": q, "cdf_at_quantile": prob,
                         "sf_at_3": float(mp_upper(k / 2, 1.5)), "cdf_at_3": float(mp_lower(k / 2, 1.5))})
    return {"provenance": PROVENANCE, "incomplete_gamma": values, "inverses": inverses, "chi_squared": chi2}


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "nig.json"), "w") as f:
        json.dump(nig_cases(), f, indent=1)
        f.write("\n")
    with open(os.path.join(OUT, "gamma.json"), "w") as f:
        json.dump(gamma_cases(), f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
